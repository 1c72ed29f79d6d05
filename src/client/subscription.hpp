// Keeps the ivrevents subscription: subscribes on every new link, renews at 80 % of
// its lifetime, re-creates it when a renewal fails, retries a failed subscribe.
// Reports `ready` once per link (the first successful subscribe), never again on a
// renewal or re-creation.
#pragma once

#include "client/request_table.hpp"

#include <ivrapi/options.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace ivrapi::detail {

class SubscriptionKeeper {
public:
    struct Settings {
        std::string id;
        std::vector<std::string> events;
        std::chrono::seconds lifetime{3600};
        std::chrono::milliseconds request_timeout{10000};
        std::chrono::milliseconds retry_delay{5000};
    };
    using Log = std::function<void(LogLevel, const std::string&)>;

    SubscriptionKeeper(Settings settings, Loop& loop, RequestTable& requests, std::function<void()> on_ready, Log log)
        : settings_(std::move(settings)),
          loop_(loop),
          requests_(requests),
          on_ready_(std::move(on_ready)),
          log_(std::move(log)) {}

    void link_up();    // subscribe (or ready at once when there is nothing to subscribe to)
    void link_down();  // timers off; the next link subscribes again
    const std::string& id() const { return settings_.id; }

private:
    void subscribe();
    void renew();
    void schedule(std::chrono::milliseconds delay, void (SubscriptionKeeper::*what)());
    void became_ready();

    Settings settings_;
    Loop& loop_;
    RequestTable& requests_;
    std::function<void()> on_ready_;
    Log log_;
    bool ready_on_this_link_ = false;
    std::uint64_t link_ = 0;  // bumps per link: replies of an older link are ignored
    Loop::TimerId timer_ = 0;
};

}  // namespace ivrapi::detail
