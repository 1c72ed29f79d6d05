// menu: plays a menu and collects one digit: 1 plays information, 2 transfers to the
// operator number given on the command line; anything else repeats the menu, at most
// 3 times, then hangs up.
//   ERA_TOKEN=... menu wss://HOST/ws/token/v1 OPERATOR_NUMBER
#include <ivrapi/ivrapi.hpp>

#include "common/client_from_url.hpp"
#include "common/graceful_shutdown.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>

namespace {

std::mutex out_mutex;
void say(const std::string& ivrid, const std::string& what) {
    std::lock_guard<std::mutex> lock(out_mutex);
    std::cout << ivrid << ": " << what << std::endl;
}

void run_menu(ivrapi::Session& call, const std::string& operator_number) {
    using namespace std::chrono_literals;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        // A key pressed during the menu interrupts it and stays in the buffer for the
        // digit collection below (clear_buffer = false).
        if (!call.play(":GS_PUB/prompts/menu.wav", "0123456789*#").get()) return;
        ivrapi::CollectDigits collect;
        collect.max_digits = 1;
        collect.timeout = 5s;
        collect.clear_buffer = false;
        auto digit = call.apply(collect).get();
        if (!digit) return say(call.ivrid(), "collect failed: " + digit.error().to_string());
        const std::string key = digit->result("dtmfBuffer");
        say(call.ivrid(), "attempt " + std::to_string(attempt) + ": caller chose '" + key + "'");
        if (key == "1") {
            (void)call.play(":GS_PUB/prompts/information.wav").get();
            break;
        }
        if (key == "2") {
            auto t = call.transfer(operator_number).get();
            say(call.ivrid(), "transferred to " + operator_number + ": " + (t ? t->transfer_key : t.error().to_string()));
            return;  // the call has left the script
        }
    }
    (void)call.hangup().get();
    say(call.ivrid(), "hung up");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: menu URL OPERATOR_NUMBER   (token in ERA_TOKEN or in the URL; Ctrl-C stops)\n";
        return 2;
    }
    examples::ShutdownSignal ctrl_c;
    const std::string operator_number = argv[2];
    auto owned = examples::client_from_url(argv[1]);
    if (!owned) return 2;
    ivrapi::Client& client = *owned;
    client.serve([&](ivrapi::Session& call) { run_menu(call, operator_number); });
    ctrl_c.wait();  // then drain; a second Ctrl-C hands every call back at once
    if (examples::drain_or_stop(client, ctrl_c, std::chrono::seconds(10), "menu").interrupted_twice) return 130;
    return 0;
}
