#include "client/link_supervisor.hpp"

#include <utility>

namespace ivrapi::detail {

LinkSupervisor::LinkSupervisor(const ReconnectOptions& policy, Loop& loop, Transport& transport, LinkEvents events,
                               std::uint64_t seed)
    : policy_(policy),
      loop_(loop),
      transport_(transport),
      events_(std::move(events)),
      backoff_(policy.initial_delay, policy.max_delay, policy.jitter, seed) {}

void LinkSupervisor::start() {
    if (started_ || stopped_) return;
    started_ = true;
    connect();
}

void LinkSupervisor::connect() {
    if (stopped_) return;
    reconnect_timer_ = 0;
    const std::uint64_t generation = ++generation_;
    if (events_.connecting) events_.connecting();
    TransportHandlers h;
    h.on_open = [this, generation] { on_open(generation); };
    h.on_message = [this, generation](std::string&& frame) {
        if (generation == generation_ && up_) events_.frame(std::move(frame));
    };
    h.on_close = [this, generation](const Error& why) { on_close(generation, why); };
    transport_.connect(std::move(h));
}

void LinkSupervisor::on_open(std::uint64_t generation) {
    if (generation != generation_ || stopped_) return;
    up_ = true;
    events_.up();
}

void LinkSupervisor::mark_ready() {
    if (!up_ || stable_timer_) return;
    stable_timer_ = loop_.schedule(policy_.reset_after, [this] {
        stable_timer_ = 0;
        if (up_) backoff_.reset();
    });
}

void LinkSupervisor::on_close(std::uint64_t generation, const Error& why) {
    if (generation != generation_ || stopped_) return;
    ++generation_;  // late frames of this link are ignored
    const bool was_up = std::exchange(up_, false);
    if (stable_timer_) loop_.cancel(std::exchange(stable_timer_, 0));
    const bool retry = policy_.enabled && (!events_.may_retry || events_.may_retry(why, was_up));
    if (retry) {
        reconnect_timer_ = loop_.schedule(backoff_.next(), [this] { connect(); });
    }
    events_.down(why, was_up, retry);
}

void LinkSupervisor::stop() {
    if (stopped_) return;
    stopped_ = true;
    ++generation_;
    up_ = false;
    if (reconnect_timer_) loop_.cancel(std::exchange(reconnect_timer_, 0));
    if (stable_timer_) loop_.cancel(std::exchange(stable_timer_, 0));
    transport_.shutdown();
}

}  // namespace ivrapi::detail
