// Link supervision: connects, reports the link's life cycle, and reconnects with
// backoff until stopped (or gives up at once when reconnects are off).
#pragma once

#include "client/backoff.hpp"
#include "transport/event_loop.hpp"
#include "transport/transport.hpp"

#include <ivrapi/options.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace ivrapi::detail {

struct LinkEvents {
    std::function<void()> connecting;          // an attempt starts
    std::function<void()> up;                  // the link is open
    std::function<void(std::string&&)> frame;  // a frame of the open link
    // The link is gone (or the attempt failed). `will_retry`: a reconnect is scheduled.
    std::function<void(const Error& why, bool was_up, bool will_retry)> down;
    // Asked before retrying after `why`; false gives up (e.g. a token refused N times).
    std::function<bool(const Error& why, bool was_up)> may_retry;
};

class LinkSupervisor {
public:
    LinkSupervisor(const ReconnectOptions& policy, Loop& loop, Transport& transport, LinkEvents events,
                   std::uint64_t seed);

    void start();
    void stop();  // closes for good; no event afterwards
    // The link is usable (subscribed): the backoff resets after it stays so for a while.
    void mark_ready();
    bool up() const { return up_; }
    bool stopped() const { return stopped_; }
    unsigned attempts() const { return backoff_.attempts(); }

private:
    void connect();
    void on_open(std::uint64_t generation);
    void on_close(std::uint64_t generation, const Error& why);

    const ReconnectOptions& policy_;
    Loop& loop_;
    Transport& transport_;
    LinkEvents events_;
    Backoff backoff_;
    bool started_ = false;
    bool stopped_ = false;
    bool up_ = false;
    std::uint64_t generation_ = 0;  // ignores callbacks of links given up on
    Loop::TimerId reconnect_timer_ = 0;
    Loop::TimerId stable_timer_ = 0;
};

}  // namespace ivrapi::detail
