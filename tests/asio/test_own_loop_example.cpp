// The own_loop example (client on the program's io_context) against the mock platform.
#include "examples/process.hpp"

#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;

TEST_CASE("client asio example: own_loop greets a call and exits cleanly on SIGTERM") {
    mock::ServerOptions so;
    so.default_play_duration = 100ms;
    mock::Server server(so);
    Process bot({IVRAPI_EXAMPLE_OWN_LOOP, server.url(), ":GS_PUB/hi.wav"}, {{"ERA_TOKEN", so.token}});
    REQUIRE(bot.line_with("client ready", 10s));
    auto call = server.start_call();
    REQUIRE(call.wait_ended(10s));
    CHECK(call.played_files() == std::vector<std::string>{":GS_PUB/hi.wav"});
    REQUIRE(bot.line_with("greeted, hanging up", 10s));
    bot.signal(SIGTERM);
    CHECK(bot.wait(10s) == 0);
    CHECK(bot.stdout_text().find("stopped") != std::string::npos);
}
