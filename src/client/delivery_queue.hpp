// Calls into user code (completions, handlers), queued while the core updates its
// state and run afterwards, each guarded: a throwing callback is logged and counted,
// never leaves the core half-updated and never ends the I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <string>
#include <tuple>
#include <utility>

namespace ivrapi::detail {

class DeliveryQueue {
public:
    // Reports a callback that threw (message, or "non-standard exception").
    using ThrowReport = std::function<void(const std::string&)>;

    explicit DeliveryQueue(std::atomic<std::uint64_t>& errors, ThrowReport report = {})
        : errors_(errors), report_(std::move(report)) {}

    void push(std::function<void()> call) { queue_.push_back(std::move(call)); }

    // For a call that is the LAST thing an entry does (its state change is complete):
    // when this is the only entry and nothing waits before it, `fn(args...)` runs now
    // (guarded), exactly where the drain would have run it, on the caller's arguments as
    // they are: no closure is built and nothing is copied (the DTMF/notify and reply hot
    // paths). Otherwise a closure that owns the arguments (moved in) is queued behind the
    // others. `fn` takes them by reference (it sees the caller's objects or the closure's
    // copies, and may move from them) and they must be copyable (the queue holds
    // std::function).
    template <typename Fn, typename... Args>
    void push_last(Fn&& fn, Args&&... args) {
        if (depth_ == 1 && queue_.empty() && !draining_) {
            auto call = [&] { fn(args...); };
            guarded(call);
            return;
        }
        queue_.push_back([fn = std::forward<Fn>(fn), held = std::make_tuple(std::forward<Args>(args)...)]() mutable {
            std::apply(fn, held);
        });
    }

    // Marks one entry into the core (a posted task, a timer, a transport event, a
    // direct call in tests). When the outermost entry ends, the queue is drained.
    class Entry {
    public:
        explicit Entry(DeliveryQueue& q) : q_(q) { ++q_.depth_; }
        ~Entry() {
            if (--q_.depth_ == 0) q_.drain();
        }
        Entry(const Entry&) = delete;
        Entry& operator=(const Entry&) = delete;

    private:
        DeliveryQueue& q_;
    };

    // Drops undelivered calls (the core is being destroyed without running callbacks).
    void discard() { queue_.clear(); }
    std::size_t size() const { return queue_.size(); }

private:
    void drain() noexcept {
        if (draining_) return;
        draining_ = true;
        ++depth_;  // user code that enters the core synchronously only queues more
        while (!queue_.empty()) {
            auto call = std::move(queue_.front());
            queue_.pop_front();
            run(call);
        }
        --depth_;
        draining_ = false;
    }

    void run(std::function<void()>& call) noexcept { guarded(call); }

    template <typename Fn>
    void guarded(Fn& call) noexcept {
        try {
            call();
        } catch (const std::exception& e) {
            failed(std::string("a callback threw: ") + e.what());
        } catch (...) {
            failed("a callback threw a non-standard exception");
        }
    }

    void failed(const std::string& what) noexcept {
        errors_.fetch_add(1, std::memory_order_relaxed);
        try {
            if (report_) report_(what);
        } catch (...) {}
    }

    std::atomic<std::uint64_t>& errors_;
    ThrowReport report_;
    std::deque<std::function<void()>> queue_;
    int depth_ = 0;
    bool draining_ = false;
};

}  // namespace ivrapi::detail
