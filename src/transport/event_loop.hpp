// The event loop the client core and the transport run on: tasks posted from any
// thread, timers on the loop thread. Production: AsioLoop (ws_transport.cpp); unit
// tests: ManualLoop with a controllable clock. Lives with the transport (the lower
// layer); the client only uses it.
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

}  // namespace ivrapi::detail
