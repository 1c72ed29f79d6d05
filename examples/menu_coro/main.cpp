// menu_coro: the menu bot written with C++20 coroutines (see menu_coro.hpp).
//   ERA_TOKEN=... menu_coro wss://HOST/ws/token/v1 OPERATOR_NUMBER
#include "menu_coro/menu_coro.hpp"

#include "common/client_from_url.hpp"
#include "common/shutdown_signal.hpp"

#include <iostream>
#include <mutex>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: menu_coro URL OPERATOR_NUMBER   (token in ERA_TOKEN or in the URL; Ctrl-C stops)\n";
        return 2;
    }
    examples::ShutdownSignal ctrl_c;
    const std::string operator_number = argv[2];
    auto owned = examples::client_from_url(argv[1]);
    if (!owned) return 2;
    std::mutex out;
    ivrapi::co::serve(*owned, [&](ivrapi::Session call) {
        return examples::run_menu(call, operator_number, [&out, ivrid = call.ivrid()](const std::string& what) {
            std::lock_guard<std::mutex> lock(out);
            std::cout << ivrid << ": " << what << std::endl;
        });
    });
    ctrl_c.wait();
    owned->stop();
    return 0;
}
