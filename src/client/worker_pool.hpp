// Threads that run Client::serve() handlers, where blocking calls are fine.
#pragma once

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
            pool->threads_.emplace_back([pool] { pool->work(); });
        }
        return pool;
    }

    bool submit(std::function<void()> job) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return false;
            jobs_.push_back(std::move(job));
        }
        cv_.notify_one();
        return true;
    }

    // Finishes the running jobs, drops queued ones, joins (detaches the calling worker).
    void stop() {
        std::vector<std::thread> threads;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
            jobs_.clear();
            threads.swap(threads_);
        }
        cv_.notify_all();
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
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

}  // namespace ivrapi::detail
