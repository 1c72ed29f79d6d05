// How to test your own bot with ivrapi::mock: start the mock platform, script a caller,
// run the bot, assert on what the caller heard and on the results.
//
// In your CMakeLists.txt:
//   find_package(ivrapi CONFIG REQUIRED)
//   target_link_libraries(my_bot_tests PRIVATE ivrapi::ivrapi ivrapi::mock Catch2::Catch2WithMain)
#include "order_status_bot.hpp"

#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <optional>

using namespace std::chrono_literals;

namespace {

// Runs `bot` on the next claimed session of a client connected to `server`.
std::string run_bot_on_next_call(ivrapi::mock::Server& server, const shop::StatusLookup& lookup,
                                 const ivrapi::mock::CallOptions& caller, std::optional<ivrapi::mock::Call>& call_out) {
    ivrapi::ClientOptions options;
    options.url = server.url();
    options.token = server.options().token;
    ivrapi::Client client(options);
    std::promise<std::string> entered;
    client.serve([&](ivrapi::Session& s) { entered.set_value(shop::order_status_bot(s, lookup)); });
    REQUIRE(client.wait_ready(5s));

    call_out = server.start_call(caller);  // the caller reaches the bot
    auto result = entered.get_future();
    REQUIRE(result.wait_for(20s) == std::future_status::ready);
    return result.get();
}

}  // namespace

TEST_CASE("testing your bot: the caller types an order number and hears its status") {
    ivrapi::mock::ServerOptions platform;
    platform.default_play_duration = 50ms;  // keep tests fast
    ivrapi::mock::Server server(platform);

    ivrapi::mock::CallOptions caller;
    // Pressed 100 ms after the bot claims the call: during the prompt or after it,
    // depending on the machine's load; the bot keeps type-ahead, so both work.
    caller.caller_dtmf = {{100ms, "1234#"}};
    std::optional<ivrapi::mock::Call> call;
    std::string looked_up;
    const std::string order = run_bot_on_next_call(
        server,
        [&](const std::string& n) {
            looked_up = n;
            return "shipped";
        },
        caller, call);

    CHECK(order == "1234");
    CHECK(looked_up == "1234");
    REQUIRE(call);
    CHECK(call->wait_ended(5s));
    CHECK(call->played_files() ==
          std::vector<std::string>{":GS_PUB/shop/enter-order-number.wav", ":GS_PUB/shop/status-shipped.wav"});
    CHECK(call->end_reason() == "script");
    // Every component the bot ran, as the platform received it.
    auto components = call->components();
    REQUIRE(components.size() == 4);
    CHECK(components[1].o_type == 206);
    CHECK(components[1].data.find("maxSymbolCount")->as_int() == 6);
    CHECK(components[1].results.find("dtmfBuffer")->as_string() == "1234");
}

TEST_CASE("testing your bot: a caller who only presses # hears the 'unknown' status") {
    ivrapi::mock::ServerOptions platform;
    platform.default_play_duration = 50ms;
    ivrapi::mock::Server server(platform);
    std::optional<ivrapi::mock::Call> call;
    ivrapi::mock::CallOptions caller;
    caller.caller_dtmf = {{100ms, "#"}};
    const std::string order = run_bot_on_next_call(
        server, [](const std::string&) { return "never-called"; }, caller, call);
    CHECK(order.empty());
    REQUIRE(call);
    CHECK(call->wait_ended(5s));
    CHECK(call->played_files().back() == ":GS_PUB/shop/status-unknown.wav");
}
