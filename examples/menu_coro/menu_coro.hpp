// The menu bot (examples/menu) as a C++20 coroutine: plays a menu and collects one
// digit; 1 plays information, 2 transfers to the operator; anything else repeats the
// menu, at most 3 times, then hangs up. No worker blocks on a future: every step is a
// co_await, resumed on the client's I/O thread.
#pragma once

#include <ivrapi/coro.hpp>

#include <functional>
#include <string>

namespace examples {

inline ivrapi::co::Task<> run_menu(ivrapi::Session call, std::string operator_number,
                                   std::function<void(const std::string&)> say) {
    namespace co = ivrapi::co;
    using namespace std::chrono_literals;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        // A key pressed during the menu interrupts it and stays in the buffer for the
        // digit collection below (clear_buffer = false).
        if (!co_await co::play(call, ":GS_PUB/prompts/menu.wav", "0123456789*#")) co_return;
        ivrapi::CollectDigits collect;
        collect.max_digits = 1;
        collect.timeout = 5s;
        collect.clear_buffer = false;
        auto digit = co_await co::apply(call, collect);
        if (!digit) {
            say("collect failed: " + digit.error().to_string());
            co_return;
        }
        const std::string key = digit->result("dtmfBuffer");
        say("attempt " + std::to_string(attempt) + ": caller chose '" + key + "'");
        if (key == "1") {
            (void)co_await co::play(call, ":GS_PUB/prompts/information.wav");
            break;
        }
        if (key == "2") {
            auto t = co_await co::transfer(call, operator_number);
            say("transferred to " + operator_number + ": " + (t ? t->transfer_key : t.error().to_string()));
            co_return;  // the call has left the script
        }
    }
    (void)co_await co::hangup(call);
    say("hung up");
}

}  // namespace examples
