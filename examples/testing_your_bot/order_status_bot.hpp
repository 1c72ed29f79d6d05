// A bot as a user would write it: asks for an order number and reads back its status.
// Written against ivrapi::Session only, so the same code runs on the real platform and
// in tests against ivrapi::mock (see test_order_status_bot.cpp).
#pragma once

#include <ivrapi/ivrapi.hpp>

#include <functional>
#include <string>

namespace shop {

// Your business logic, injected so tests can control it.
using StatusLookup = std::function<std::string(const std::string& order_number)>;

// Returns the order number the caller entered ("" if none).
inline std::string order_status_bot(ivrapi::Session& call, const StatusLookup& lookup) {
    using namespace std::chrono_literals;
    if (!call.play(":GS_PUB/shop/enter-order-number.wav").get()) return {};

    ivrapi::CollectDigits collect;
    collect.max_digits = 6;
    collect.terminators = "#";
    collect.timeout = 10s;
    collect.inter_digit_timeout = 3s;
    // Keep what the caller typed during the prompt (type-ahead): the platform clears the
    // buffer by default, and callers who know the menu do not wait for the prompt to end.
    collect.clear_buffer = false;
    auto entered = call.apply(collect).get();
    const std::string order = entered ? entered->result("dtmfBuffer") : std::string();

    const std::string status = order.empty() ? "unknown" : lookup(order);
    (void)call.play(":GS_PUB/shop/status-" + status + ".wav").get();
    (void)call.hangup().get();
    return order;
}

}  // namespace shop
