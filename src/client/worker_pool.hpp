// Threads that run Client::serve() handlers, where blocking calls are fine.
#pragma once

#include "client/thread_name.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ivrapi::detail {

class WorkerPool : public std::enable_shared_from_this<WorkerPool> {
public:
    static std::shared_ptr<WorkerPool> create(std::size_t workers) {
        auto pool = std::shared_ptr<WorkerPool>(new WorkerPool());
        for (std::size_t i = 0; i < std::max<std::size_t>(workers, 1); ++i) {
            // Each thread keeps the pool alive, so stopping from a worker is safe.
            pool->threads_.emplace_back([pool] {
                name_this_thread("ivrapi-worker");
                pool->work();
            });
        }
        return pool;
    }

    // `dropped` runs instead of `job` when the pool stops before a worker takes it (a
    // claimed session must then be handed back, not forgotten).
    bool submit(std::function<void()> job, std::function<void()> dropped = {}) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return false;
            jobs_.push_back(Job{std::move(job), std::move(dropped)});
        }
        cv_.notify_one();
        return true;
    }

    // Finishes the running jobs, drops queued ones (running their `dropped`), joins
    // (detaches the calling worker).
    void stop() {
        std::vector<std::thread> threads;
        std::deque<Job> queued;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
            queued.swap(jobs_);
            threads.swap(threads_);
        }
        cv_.notify_all();
        for (auto& j : queued) {
            if (!j.dropped) continue;
            try {
                j.dropped();
            } catch (...) {}
        }
        for (auto& t : threads) {
            if (t.get_id() == std::this_thread::get_id()) t.detach();
            else t.join();
        }
    }

    std::atomic<std::size_t> active{0};

private:
    WorkerPool() = default;
    void work() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
                if (stopping_) return;
                job = std::move(jobs_.front().run);
                jobs_.pop_front();
            }
            try {
                job();
            } catch (...) {
                // serve() catches and logs a handler's exceptions; never lose the worker.
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    struct Job {
        std::function<void()> run;
        std::function<void()> dropped;
    };
    std::deque<Job> jobs_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

}  // namespace ivrapi::detail
