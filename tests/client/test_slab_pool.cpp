// The session pool (client/slab_pool.hpp): blocks of one size share slabs, freed blocks
// are reused, an empty slab goes back to the system, and it is safe from many threads.
#include "client/core_harness.hpp"
#include "client/slab_pool.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

using ivrapi::detail::SessionAllocator;
using ivrapi::detail::SlabPool;

TEST_CASE("slab pool: blocks of one size share a slab and are reused after a free") {
    SlabPool pool;
    std::vector<void*> blocks;
    for (int i = 0; i < 100; ++i) {
        void* p = pool.allocate(100);
        REQUIRE(p != nullptr);
        CHECK(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
        std::memset(p, i, 100);  // the whole block is usable
        blocks.push_back(p);
    }
    CHECK(std::set<void*>(blocks.begin(), blocks.end()).size() == 100);
    CHECK(pool.stats().blocks == 100);
    CHECK(pool.stats().bytes == 100 * 112);
    CHECK(pool.stats().slabs == 1);  // 100 x 112 B fit one 64 KiB slab
    void* freed = blocks[42];
    pool.deallocate(freed, 100);
    CHECK(pool.stats().blocks == 99);
    CHECK(pool.allocate(100) == freed);  // the free block first, not fresh memory
    // Sizes that round to the same class share it; another size has its own slab.
    void* other = pool.allocate(500);
    CHECK(pool.stats().slabs == 2);
    pool.deallocate(other, 500);
    for (void* p : blocks) pool.deallocate(p, 100);
}

TEST_CASE("slab pool: slabs emptied by frees go back to the system, one spare is kept") {
    SlabPool pool;
    const std::size_t per_slab = (SlabPool::kSlabBytes - 64) / 480;
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < per_slab * 10; ++i) blocks.push_back(pool.allocate(480));
    CHECK(pool.stats().slabs == 10);
    for (void* p : blocks) pool.deallocate(p, 480);
    CHECK(pool.stats().blocks == 0);
    CHECK(pool.stats().slabs == 1);
    // The spare serves the next allocation.
    void* again = pool.allocate(480);
    CHECK(pool.stats().slabs == 1);
    pool.deallocate(again, 480);
}

TEST_CASE("slab pool: large, empty or over-aligned requests go to operator new") {
    SlabPool pool;
    void* big = pool.allocate(SlabPool::kMaxBlock + 1);
    void* aligned = pool.allocate(64, 64);
    CHECK(pool.stats().slabs == 0);
    CHECK(pool.stats().blocks == 0);
    pool.deallocate(big, SlabPool::kMaxBlock + 1);
    pool.deallocate(aligned, 64, 64);
    pool.deallocate(nullptr, 10);  // a no-op
}

TEST_CASE("slab pool: allocations and frees from many threads, blocks freed on another thread") {
    SlabPool pool;
    constexpr int kThreads = 4, kPerThread = 5000;
    std::vector<std::vector<void*>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                auto* p = static_cast<std::uint32_t*>(pool.allocate(48));
                *p = static_cast<std::uint32_t>(t * kPerThread + i);
                made[static_cast<std::size_t>(t)].push_back(p);
                if (i % 3 == 0) {  // churn: free an older one of this thread
                    void* q = made[static_cast<std::size_t>(t)][static_cast<std::size_t>(i / 2)];
                    if (q != nullptr) {
                        pool.deallocate(q, 48);
                        made[static_cast<std::size_t>(t)][static_cast<std::size_t>(i / 2)] = nullptr;
                    }
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    threads.clear();
    std::set<void*> live;
    for (auto& v : made)
        for (void* p : v)
            if (p) CHECK(live.insert(p).second);  // no block handed out twice
    CHECK(pool.stats().blocks == live.size());
    // Freed by other threads than the ones that took them.
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (void*& p : made[static_cast<std::size_t>((t + 1) % kThreads)])
                if (p) pool.deallocate(std::exchange(p, nullptr), 48);
        });
    }
    for (auto& t : threads) t.join();
    CHECK(pool.stats().blocks == 0);
    CHECK(pool.stats().slabs == 1);
}

TEST_CASE("slab pool: the session allocator serves allocate_shared and node maps") {
    auto& pool = SlabPool::sessions();
#if defined(__SANITIZE_ADDRESS__)
    REQUIRE_FALSE(pool.pooling());  // ASan sees the SDK's sessions through its own allocator
    return;
#endif
    REQUIRE(pool.pooling());
    const auto before = pool.stats().blocks;
    {
        struct State {
            char bytes[300];
        };
        auto s = std::allocate_shared<State>(SessionAllocator<State>());
        std::unordered_map<int, int, std::hash<int>, std::equal_to<int>, SessionAllocator<std::pair<const int, int>>>
            map;
        for (int i = 0; i < 1000; ++i) map[i] = i;
        CHECK(map.at(999) == 999);
        CHECK(pool.stats().blocks >= before + 1001);  // the state and 1000 nodes
    }
    CHECK(pool.stats().blocks == before);
}

TEST_CASE("slab pool: a client's sessions live in the pool and leave nothing there when they end") {
    auto& pool = SlabPool::sessions();
    if (!pool.pooling()) return;  // ASan build: LeakSanitizer covers this instead
    const auto before = pool.stats().blocks;
    {
        ivrapi::test::CoreHarness h;
        h.connect_ready();
        std::vector<ivrapi::Session> sessions;
        for (int i = 0; i < 50; ++i) {
            sessions.push_back(h.claim("ivr-" + std::to_string(i)));
            ivrapi::Play p;
            p.file = "f.wav";
            sessions.back().apply(p, [](ivrapi::Result<ivrapi::ComponentStopped>) {});
            h.loop.run_ready();
            h.answer("ivrapi_component_apply");
        }
        // Each: its state, its offer's text, its map node, its running component's oId node.
        CHECK(pool.stats().blocks >= before + 4 * 50);
        for (int i = 0; i < 50; ++i) h.receive(ivrapi::test::api_stop("ivr-" + std::to_string(i)));
        for (const auto& s : sessions) CHECK(s.ended());
        sessions.clear();
        h.loop.advance(std::chrono::minutes(1));  // grace timers of the ended components
    }
    CHECK(pool.stats().blocks == before);
}
