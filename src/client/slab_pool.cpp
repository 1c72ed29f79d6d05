#include "client/slab_pool.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define IVRAPI_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IVRAPI_POOL_ASAN 1
#endif
#endif
#ifdef IVRAPI_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define IVRAPI_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define IVRAPI_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define IVRAPI_POISON(p, n) ((void)(p), (void)(n))
#define IVRAPI_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace ivrapi::detail {

// At the start of each slab (slabs are aligned to their size, so a block finds its slab
// by masking its address).
struct SlabPool::Slab {
    Slab* prev = nullptr;  // in its class's partial list
    Slab* next = nullptr;
    bool listed = false;
    void* free = nullptr;    // freed blocks, each holding the next
    std::size_t unused = 0;  // offset of the first never-used block
    std::size_t live = 0;    // blocks handed out
    std::size_t block = 0;   // block size
};

namespace {

constexpr std::size_t kHeader = 64;  // room for the Slab header; keeps blocks 16-aligned

void* map_aligned_slab() {
    const std::size_t size = SlabPool::kSlabBytes;
    void* raw = ::mmap(nullptr, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    // Keep the aligned slab inside the 2x mapping and unmap the rest on both sides.
    const auto misalignment = reinterpret_cast<std::uintptr_t>(raw) & (size - 1);
    const std::size_t head = misalignment == 0 ? 0 : size - misalignment;
    char* slab = static_cast<char*>(raw) + head;
    if (head > 0) ::munmap(raw, head);
    if (size - head > 0) ::munmap(slab + size, size - head);
    return slab;
}

}  // namespace

SlabPool& SlabPool::sessions() {
    // Never destroyed: blocks may be freed by static destructors after main().
#ifdef IVRAPI_POOL_ASAN
    static SlabPool* pool = new SlabPool(false);  // NOLINT(cppcoreguidelines-owning-memory)
#else
    static SlabPool* pool = new SlabPool(true);  // NOLINT(cppcoreguidelines-owning-memory)
#endif
    return *pool;
}

SlabPool::~SlabPool() {
    for (auto& c : classes_) {
        // Only slabs on the partial list are known here; a pool is destroyed with no
        // blocks in use (tests), when every slab is on it.
        for (Slab* s = c.partial; s != nullptr;) {
            Slab* next = s->next;
            ::munmap(s, kSlabBytes);
            s = next;
        }
    }
}

void* SlabPool::allocate(std::size_t bytes, std::size_t align) {
    static_assert(sizeof(Slab) <= kHeader && kHeader % kGranule == 0);
    if (!pooled(bytes, align)) return ::operator new(bytes);
    SizeClass& c = classes_[class_of(bytes)];
    const std::size_t block = (class_of(bytes) + 1) * kGranule;
    std::lock_guard<std::mutex> lock(c.mutex);
    Slab* s = c.partial;
    if (s == nullptr) {
        void* memory = map_aligned_slab();
        if (memory == nullptr) throw std::bad_alloc();
        s = new (memory) Slab();
        s->block = block;
        s->unused = kHeader;
        IVRAPI_POISON(static_cast<char*>(memory) + kHeader, kSlabBytes - kHeader);
        s->next = c.partial;
        if (c.partial) c.partial->prev = s;
        c.partial = s;
        s->listed = true;
        ++c.slabs;
    }
    void* p = nullptr;
    if (s->free != nullptr) {
        p = s->free;
        IVRAPI_UNPOISON(p, block);
        s->free = *static_cast<void**>(p);
    } else {
        p = reinterpret_cast<char*>(s) + s->unused;
        IVRAPI_UNPOISON(p, block);
        s->unused += block;
    }
    ++s->live;
    ++c.blocks;
    if (s->free == nullptr && s->unused + block > kSlabBytes) {  // full: off the list
        if (s->prev) s->prev->next = s->next;
        else c.partial = s->next;
        if (s->next) s->next->prev = s->prev;
        s->prev = s->next = nullptr;
        s->listed = false;
    }
    return p;
}

void SlabPool::deallocate(void* p, std::size_t bytes, std::size_t align) noexcept {
    if (p == nullptr) return;
    if (!pooled(bytes, align)) {
        ::operator delete(p);
        return;
    }
    SizeClass& c = classes_[class_of(bytes)];
    const auto offset = reinterpret_cast<std::uintptr_t>(p) & (kSlabBytes - 1);  // slabs are aligned
    auto* s = reinterpret_cast<Slab*>(static_cast<char*>(p) - offset);
    std::lock_guard<std::mutex> lock(c.mutex);
    *static_cast<void**>(p) = s->free;
    s->free = p;
    IVRAPI_POISON(p, s->block);
    --s->live;
    --c.blocks;
    if (!s->listed) {
        s->prev = nullptr;
        s->next = c.partial;
        if (c.partial) c.partial->prev = s;
        c.partial = s;
        s->listed = true;
    }
    // An empty slab goes back unless it is the class's only one with room.
    if (s->live == 0 && (s->prev != nullptr || s->next != nullptr)) {
        if (s->prev) s->prev->next = s->next;
        else c.partial = s->next;
        if (s->next) s->next->prev = s->prev;
        --c.slabs;
        IVRAPI_UNPOISON(s, kSlabBytes);
        ::munmap(s, kSlabBytes);
    }
}

SlabPool::Stats SlabPool::stats() const {
    Stats out;
    for (std::size_t i = 0; i < classes_.size(); ++i) {
        std::lock_guard<std::mutex> lock(classes_[i].mutex);
        out.slabs += classes_[i].slabs;
        out.blocks += classes_[i].blocks;
        out.bytes += classes_[i].blocks * (i + 1) * kGranule;
    }
    return out;
}

}  // namespace ivrapi::detail
