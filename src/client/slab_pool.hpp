// Where a session's long-lived blocks live: its state, its offer's text, its map nodes.
// Taken from glibc's heap, they sat between the transient blocks of a claim burst
// (frames, closures, timers) and pinned their pages: after 100,000 claims the client
// held ~0.9 KiB/session of free but unreturnable heap. Slabs of 64 KiB per block size
// keep them together instead; an empty slab goes back to the system (one spare is kept
// per size). Process-wide and thread-safe: a Session handle may outlive its Client and
// be dropped on any thread. Under AddressSanitizer the SDK's pool passes every request
// to operator new (ASan's quarantine and LeakSanitizer see sessions as before: LSan does
// not scan mmap'ed slabs); pools made by tests still pool, with free blocks poisoned.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <new>

namespace ivrapi::detail {

class SlabPool {
public:
    static constexpr std::size_t kSlabBytes = 64 * 1024;
    static constexpr std::size_t kGranule = 16;     // block sizes are rounded up to this
    static constexpr std::size_t kMaxBlock = 1024;  // larger blocks come from operator new

    SlabPool() = default;
    explicit SlabPool(bool pooling) : pooling_(pooling) {}
    SlabPool(const SlabPool&) = delete;
    SlabPool& operator=(const SlabPool&) = delete;
    ~SlabPool();  // returns every slab: only for pools that outlive none of their blocks

    static SlabPool& sessions();                        // the one the SDK uses (never destroyed)
    bool pooling() const noexcept { return pooling_; }  // false: operator new for all

    void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t));
    void deallocate(void* p, std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept;

    struct Stats {
        std::size_t slabs = 0;   // mapped now
        std::size_t blocks = 0;  // in use
        std::size_t bytes = 0;   // in use, as block sizes
    };
    Stats stats() const;

private:
    struct Slab;
    struct SizeClass {
        mutable std::mutex mutex;
        Slab* partial = nullptr;  // slabs with room, newest first
        std::size_t slabs = 0;
        std::size_t blocks = 0;
    };
    bool pooled(std::size_t bytes, std::size_t align) const noexcept {
        return pooling_ && bytes > 0 && bytes <= kMaxBlock && align <= kGranule;
    }
    static std::size_t class_of(std::size_t bytes) noexcept { return (bytes + kGranule - 1) / kGranule - 1; }

    const bool pooling_ = true;
    std::array<SizeClass, kMaxBlock / kGranule> classes_;
};

// A std allocator over SlabPool::sessions(): for allocate_shared and node containers
// (their bucket arrays are large and go to operator new).
template <typename T>
struct SessionAllocator {
    using value_type = T;
    SessionAllocator() noexcept = default;
    template <typename U>
    SessionAllocator(const SessionAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
    // T is a node pointer for a map's bucket array: sizeof(T) is then what is wanted.
    T* allocate(std::size_t n) {
        return static_cast<T*>(
            SlabPool::sessions().allocate(n * sizeof(T), alignof(T)));  // NOLINT(bugprone-sizeof-expression)
    }
    void deallocate(T* p, std::size_t n) noexcept {
        SlabPool::sessions().deallocate(p, n * sizeof(T), alignof(T));  // NOLINT(bugprone-sizeof-expression)
    }
    template <typename U>
    bool operator==(const SessionAllocator<U>&) const noexcept {
        return true;
    }
    template <typename U>
    bool operator!=(const SessionAllocator<U>&) const noexcept {
        return false;
    }
};

}  // namespace ivrapi::detail
