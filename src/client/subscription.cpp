#include "client/subscription.hpp"

namespace ivrapi::detail {

using std::chrono::milliseconds;

namespace {
bool link_gone(const Result<protocol::Reply>& r) {
    return !r &&
           (r.error().is(Errc::connection_lost) || r.error().is(Errc::stopped) || r.error().is(Errc::not_connected));
}
std::string failure_text(const Result<protocol::Reply>& r) { return r ? r->error.message : r.error().message; }
}  // namespace

void SubscriptionKeeper::link_up() {
    ++link_;
    ready_on_this_link_ = false;
    if (settings_.events.empty()) {
        became_ready();
        return;
    }
    subscribe();
}

void SubscriptionKeeper::link_down() {
    ++link_;
    ready_on_this_link_ = false;
    if (timer_) loop_.cancel(std::exchange(timer_, 0));
}

void SubscriptionKeeper::schedule(milliseconds delay, void (SubscriptionKeeper::*what)()) {
    if (timer_) loop_.cancel(timer_);
    timer_ = loop_.schedule(delay, [this, what] {
        timer_ = 0;
        (this->*what)();
    });
}

void SubscriptionKeeper::became_ready() {
    if (std::exchange(ready_on_this_link_, true)) return;
    on_ready_();
}

void SubscriptionKeeper::subscribe() {
    const auto expires = static_cast<std::int64_t>(settings_.lifetime.count());
    const std::string id = settings_.id;
    const auto events = settings_.events;
    const std::uint64_t link = link_;
    const auto qid = requests_.send(
        protocol::kSubscribe,
        [id, events, expires](protocol::Qid q) { return protocol::encode_subscribe(q, id, events, expires); },
        settings_.request_timeout,
        [this, link](protocol::Qid, Result<protocol::Reply>&& r) {
            if (link != link_ || link_gone(r)) return;
            if (!r || !r->success) {
                log_(LogLevel::error, "subscribe failed: " + failure_text(r) + "; retrying in " +
                                          std::to_string(settings_.retry_delay.count()) + " ms");
                schedule(settings_.retry_delay, &SubscriptionKeeper::subscribe);
                return;
            }
            became_ready();
            schedule(std::chrono::duration_cast<milliseconds>(settings_.lifetime) * 8 / 10, &SubscriptionKeeper::renew);
        });
    if (qid == 0) log_(LogLevel::debug, "subscribe not sent: the link is closing");
}

void SubscriptionKeeper::renew() {
    const auto expires = static_cast<std::int64_t>(settings_.lifetime.count());
    const std::string id = settings_.id;
    const std::uint64_t link = link_;
    requests_.send(
        protocol::kSubscribe,
        [id, expires](protocol::Qid q) { return protocol::encode_subscribe_renew(q, id, expires); },
        settings_.request_timeout,
        [this, link](protocol::Qid, Result<protocol::Reply>&& r) {
            if (link != link_ || link_gone(r)) return;
            if (!r || !r->success) {
                // The subscription may be gone: create it again (same id).
                log_(LogLevel::warn, "subscription renewal failed: " + failure_text(r) + "; subscribing again");
                subscribe();
                return;
            }
            schedule(std::chrono::duration_cast<milliseconds>(settings_.lifetime) * 8 / 10, &SubscriptionKeeper::renew);
        });
}

}  // namespace ivrapi::detail
