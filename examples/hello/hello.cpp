// hello: the shortest complete bot. Claims every offered call, plays one file, hangs up.
//   ERA_TOKEN=... hello wss://HOST/ws/token/v1 [:GS_PUB/prompts/hello.wav]
#include <ivrapi/ivrapi.hpp>

#include "common/shutdown_signal.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: hello URL [FILE]   (token in ERA_TOKEN or in the URL)\n";
        return 2;
    }
    examples::ShutdownSignal ctrl_c;  // first, before the client starts its threads
    ivrapi::ClientOptions options;
    options.url = argv[1];
    options.token = std::getenv("ERA_TOKEN") ? std::getenv("ERA_TOKEN") : "";
    const std::string file = argc > 2 ? argv[2] : ":GS_PUB/prompts/hello.wav";

    std::unique_ptr<ivrapi::Client> client;
    try {
        client = std::make_unique<ivrapi::Client>(options);  // checks the URL and options
    } catch (const std::invalid_argument& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    client->serve([&](ivrapi::Session& call) {  // one worker thread per call: blocking is fine
        auto played = call.play(file).get();
        std::cout << call.ivrid() << " played: "
                  << (played ? played->transfer_key : played.error().to_string()) << std::endl;
        (void)call.hangup().get();
    });
    ctrl_c.wait();
    client->stop();
    return 0;
}
