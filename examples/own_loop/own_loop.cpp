// own_loop: the client on the application's own asio::io_context, next to the
// application's own timer and signal handling; one thread runs everything. Each call
// hears a greeting and is hung up (callbacks); a failed greeting is retried once after a
// second with Client::after. A plain Asio timer prints the client's counters.
//   ERA_TOKEN=... own_loop wss://HOST/ws/token/v1 [GREETING]
#include <ivrapi/asio.hpp>
#include <ivrapi/ivrapi.hpp>

#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <cstdlib>
#include <iostream>

namespace {

void greet(ivrapi::Client& client, ivrapi::Session call, const std::string& greeting, int attempt) {
    ivrapi::Play play;
    play.file = greeting;
    call.apply(play, [&client, call, greeting, attempt](ivrapi::Result<ivrapi::ComponentStopped> r) mutable {
        if (!r && r.error().code != ivrapi::Errc::session_ended && attempt == 1) {
            std::cout << call.ivrid() << ": greeting failed (" << r.error().message << "), retrying in 1 s"
                      << std::endl;
            client.after(std::chrono::seconds(1), [&client, call, greeting] { greet(client, call, greeting, 2); });
            return;
        }
        std::cout << call.ivrid() << ": greeted, hanging up" << std::endl;
        call.apply(ivrapi::Hangup{}, [](ivrapi::Result<ivrapi::ComponentStopped>) {});
    });
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: own_loop URL [GREETING]   (token in ERA_TOKEN or in the URL; Ctrl-C stops)\n";
        return 2;
    }
    const std::string greeting = argc == 3 ? argv[2] : ":GS_PUB/prompts/hello.wav";
    asio::io_context io(1);  // one thread runs it: the client's rule in this mode
    ivrapi::ClientOptions options;
    options.url = argv[1];
    if (const char* token = std::getenv("ERA_TOKEN")) options.token = token;
    std::unique_ptr<ivrapi::Client> client;
    try {
        client = ivrapi::make_client(io, options);
    } catch (const std::invalid_argument& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    client->on_state([](ivrapi::ConnectionState s, const ivrapi::Error& why) {
        std::cout << "client " << ivrapi::to_string(s) << (why.code ? " (" + why.message + ")" : std::string())
                  << std::endl;
    });
    client->on_offer([&](ivrapi::Offer offer) {
        offer.accept([&](ivrapi::Result<ivrapi::Session> s) {
            if (s) greet(*client, *s, greeting, 1);
        });
    });

    // The application's own work on the same loop: counters every 10 s.
    asio::steady_timer stats(io);
    std::function<void()> print_stats = [&] {
        stats.expires_after(std::chrono::seconds(10));
        stats.async_wait([&](const std::error_code& ec) {
            if (ec) return;
            const auto st = client->stats();
            std::cout << "stats: offers " << st.offers << ", active " << st.active_sessions << std::endl;
            print_stats();
        });
    };
    print_stats();

    // Ctrl-C: stop the client from a handler (returns at once; the shutdown completes as
    // the loop goes on), stop our timer; run() returns once nothing is left.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code&, int) {
        client->stop();
        stats.cancel();
    });
    client->start();
    io.run();
    client.reset();
    std::cout << "stopped" << std::endl;
    return 0;
}
