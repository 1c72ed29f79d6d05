// hello: the shortest complete bot. Claims every offered call, plays one file, hangs up.
//   ERA_TOKEN=... hello wss://HOST/ws/token/v1 [:GS_PUB/prompts/hello.wav]
#include <ivrapi/ivrapi.hpp>

#include "common/client_from_url.hpp"
#include "common/graceful_shutdown.hpp"

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: hello URL [FILE]   (token in ERA_TOKEN or in the URL)\n";
        return 2;
    }
    examples::ShutdownSignal ctrl_c;  // first, before the client starts its threads
    const std::string file = argc > 2 ? argv[2] : ":GS_PUB/prompts/hello.wav";
    auto client = examples::client_from_url(argv[1]);
    if (!client) return 2;
    client->serve([&](ivrapi::Session& call) {  // runs on a worker thread: blocking is fine
        auto played = call.play(file).get();
        std::cout << call.ivrid() << " played: "
                  << (played ? played->transfer_key : played.error().to_string()) << std::endl;
        (void)call.hangup().get();
    });
    ctrl_c.wait();  // then drain; a second Ctrl-C hands every call back at once
    return examples::drain_or_stop(*client, ctrl_c, std::chrono::seconds(10), "hello").interrupted_twice ? 130 : 0;
}
