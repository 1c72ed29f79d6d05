// The client's view of the event loop, plus the I/O-thread marker that Future::get's
// deadlock check reads.
#pragma once

#include "transport/event_loop.hpp"

namespace ivrapi::detail {

// Marks the calling thread as running `loop` (used by Future::get's deadlock check and
// by the wait_* calls, which answer at once on the I/O thread).
void set_current_loop(const void* loop) noexcept;

}  // namespace ivrapi::detail
