// The example bots run as programs against the mock platform.
#include "examples/process.hpp"

#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;

namespace {

mock::ServerOptions quick() {
    mock::ServerOptions o;
    o.default_play_duration = 150ms;
    o.record_duration = 300ms;
    return o;
}

bool subscribed(const mock::Server& server) {
    return server.wait_for([](const mock::Server& s) { return s.subscription_count() >= 1; }, 10s);
}

}  // namespace

TEST_CASE("example hello: plays one file, hangs up, exits 0 on Ctrl-C") {
    mock::Server server(quick());
    Process bot({IVRAPI_EXAMPLE_HELLO, server.url_with_token(), ":GS_PUB/hi.wav"});
    REQUIRE(subscribed(server));
    auto call = server.start_call();
    auto line = bot.line_with("played", 10s);
    REQUIRE(line);
    CHECK(*line == call.ivrid() + " played: transfer");
    CHECK(call.wait_ended(10s));
    CHECK(call.played_files() == std::vector<std::string>{":GS_PUB/hi.wav"});
    CHECK(call.end_reason() == "script");
    bot.signal(SIGINT);
    CHECK(bot.wait(10s) == 0);
}

TEST_CASE("example voicemail --demo: the README's main job") {
    Process demo({IVRAPI_EXAMPLE_VOICEMAIL, "--demo"});
    REQUIRE(demo.wait(60s) == 0);
    const std::string& out = demo.stdout_text();
    for (const char* expected :
         {"claimed", "202 SIP answer 200", "204 play greeting", "caller pressed #", "\"nameVar\":\":TEMP/",
          "link       http://127.0.0.1:", "201 hang up", "reason script", "HTTP 200", "a RIFF/WAVE file"}) {
        INFO(expected);
        CHECK(out.find(expected) != std::string::npos);
    }
}

TEST_CASE("example voicemail against a platform: answers an incoming call, records until #") {
    mock::Server server(quick());
    Process bot({IVRAPI_EXAMPLE_VOICEMAIL, server.url()}, {{"ERA_TOKEN", server.options().token}});
    REQUIRE(subscribed(server));
    mock::CallOptions caller;
    caller.state = mock::CallState::ringing;
    caller.caller_dtmf = {{250ms, "#"}};
    auto call = server.start_call(caller);
    auto done = bot.line_with("done", 20s);
    REQUIRE(done);
    CHECK(done->find("recording http://127.0.0.1:") != std::string::npos);
    CHECK(call.wait_ended(10s));
    CHECK(call.sip_codes() == std::vector<int>{200});
    auto components = call.components();
    REQUIRE(components.size() == 4);
    CHECK(components[0].o_type == 202);
    CHECK(components[1].o_type == 204);
    CHECK(components[2].o_type == 208);
    CHECK(components[3].o_type == 201);
    bot.signal(SIGTERM);
    CHECK(bot.wait(10s) == 0);
}

TEST_CASE("example menu: 2 transfers, 1 plays information, silence repeats 3 times then hangs up") {
    mock::Server server(quick());
    Process bot({IVRAPI_EXAMPLE_MENU, server.url_with_token(), "+15550199"});
    REQUIRE(subscribed(server));

    mock::CallOptions pressed_two;
    pressed_two.caller_dtmf = {{250ms, "2"}};
    auto transfer = server.start_call(pressed_two);
    REQUIRE(bot.line_with("transferred to +15550199", 20s));
    CHECK(transfer.wait_ended(10s));
    CHECK(transfer.transferred_to() == "+15550199");

    mock::CallOptions pressed_one;
    pressed_one.caller_dtmf = {{250ms, "1"}};
    auto info = server.start_call(pressed_one);
    REQUIRE(info.wait_ended(20s));
    CHECK(info.played_files() ==
          std::vector<std::string>{":GS_PUB/prompts/menu.wav", ":GS_PUB/prompts/information.wav"});

    mock::CallOptions silent;
    auto repeat = server.start_call(silent);
    REQUIRE(repeat.wait_ended(40s));
    CHECK(repeat.played_files() == std::vector<std::string>(3, ":GS_PUB/prompts/menu.wav"));
    CHECK(repeat.end_reason() == "script");
    bot.signal(SIGINT);
    CHECK(bot.wait(10s) == 0);
}

TEST_CASE("examples print usage and exit 2 on bad arguments") {
    for (const char* exe : {IVRAPI_EXAMPLE_HELLO, IVRAPI_EXAMPLE_MENU, IVRAPI_EXAMPLE_VOICEMAIL}) {
        Process p({exe});
        CHECK(p.wait(10s) == 2);
        CHECK(p.stderr_text().find("usage:") != std::string::npos);
    }
    Process bad_url({IVRAPI_EXAMPLE_HELLO, "http://example.invalid/"});
    CHECK(bad_url.wait(10s) == 2);
    CHECK(bad_url.stderr_text().find("ws:// or wss://") != std::string::npos);
}
