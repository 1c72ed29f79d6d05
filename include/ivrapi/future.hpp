// Future<T>: the blocking way to wait for an operation, usable from any thread except
// the client's I/O thread (where get() returns Errc::would_deadlock at once instead
// of hanging, unless the result is already there).
#pragma once

#include <ivrapi/result.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace ivrapi {

namespace detail {
// The event loop the calling thread is running (nullptr on other threads).
const void* current_loop() noexcept;

template <typename T>
struct FutureState {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<Result<T>> result;
    const void* loop = nullptr;

    void set(Result<T> r) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (result) return;
            result.emplace(std::move(r));
        }
        cv.notify_all();
    }
};
}  // namespace detail

template <typename T>
class [[nodiscard]] Future {
public:
    Future() = default;  // an empty future: get() returns invalid_argument
    // Made by the SDK; applications receive futures from its calls.
    explicit Future(std::shared_ptr<detail::FutureState<T>> state) : state_(std::move(state)) {}
    // An already-completed future.
    static Future ready_with(Result<T> r) {
        auto s = std::make_shared<detail::FutureState<T>>();
        s->result.emplace(std::move(r));
        return Future(std::move(s));
    }

    bool valid() const noexcept { return state_ != nullptr; }  // not default-constructed
    // True once the result is there (get() will not wait).
    bool ready() const {
        if (!state_) return true;
        std::lock_guard<std::mutex> lock(state_->mutex);
        return state_->result.has_value();
    }

    // Waits for the result. On the client's I/O thread: would_deadlock if not ready.
    Result<T> get() const {
        if (!state_) return Error(Errc::invalid_argument, "empty future");
        std::unique_lock<std::mutex> lock(state_->mutex);
        if (!state_->result && state_->loop != nullptr && detail::current_loop() == state_->loop) {
            return Error(Errc::would_deadlock,
                         "Future::get() called on the client's I/O thread before the result "
                         "arrived; use the callback form of the call there");
        }
        state_->cv.wait(lock, [&] { return state_->result.has_value(); });
        return *state_->result;
    }

    // Waits at most `timeout`; Errc::timeout if the result is not there yet (the
    // operation itself goes on).
    template <typename Rep, typename Period>
    Result<T> get_for(std::chrono::duration<Rep, Period> timeout) const {
        if (!wait_for(timeout)) {
            if (state_ && detail::current_loop() == state_->loop && state_->loop != nullptr) {
                return Error(Errc::would_deadlock, "Future::get_for() on the client's I/O thread");
            }
            return Error(Errc::timeout, "the result did not arrive within the wait");
        }
        return get();
    }

    template <typename Rep, typename Period>
    bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
        if (!state_) return true;
        std::unique_lock<std::mutex> lock(state_->mutex);
        if (!state_->result && state_->loop != nullptr && detail::current_loop() == state_->loop) {
            return false;
        }
        auto done = [&] { return state_->result.has_value(); };
        // duration::max() would overflow now() + timeout: wait without a deadline.
        if (timeout >= std::chrono::hours(24 * 365 * 100)) {
            state_->cv.wait(lock, done);
            return true;
        }
        return state_->cv.wait_for(lock, timeout, done);
    }

private:
    std::shared_ptr<detail::FutureState<T>> state_;
};

// Completion callback of the callback style; runs on the client's I/O thread.
template <typename T>
using Callback = std::function<void(Result<T>)>;

}  // namespace ivrapi
