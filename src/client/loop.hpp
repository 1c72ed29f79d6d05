// The event loop the client core runs on: tasks posted from any thread, timers on the
// loop thread. Production: AsioLoop (src/transport); unit tests: ManualLoop with a
// controllable clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace ivrapi::detail {

class Loop {
public:
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;

    virtual ~Loop() = default;
    // Any thread. False once the loop is closed: the task will never run.
    virtual bool post(std::function<void()> task) = 0;
    // Loop thread only. Runs `task` after `delay` unless cancelled first.
    virtual TimerId schedule(std::chrono::milliseconds delay, std::function<void()> task) = 0;
    virtual void cancel(TimerId id) = 0;  // loop thread only; unknown ids are ignored
    virtual Clock::time_point now() const = 0;
};

// Marks the calling thread as running `loop` (used by Future::get's deadlock check).
void set_current_loop(const void* loop) noexcept;

}  // namespace ivrapi::detail
