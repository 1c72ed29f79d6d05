// A Catch2 (v2) helper for replay tests: include after <catch2/catch.hpp>.
//
//   ivrapi::mock::Replay replay("tests/cassettes/voicemail.cassette");
//   ivrapi::Client client(replay.client_options());
//   client.serve(my_bot);
//   IVRAPI_REQUIRE_REPLAY(replay, std::chrono::seconds(20));
#pragma once

#include <ivrapi/mock/replay.hpp>

#ifndef REQUIRE
#error "include <catch2/catch.hpp> before <ivrapi/mock/replay_catch2.hpp>"
#endif

// Waits for the replay; on a divergence or timeout the test fails with the report
// (the step, the expected and the received frame).
#define IVRAPI_REQUIRE_REPLAY(replay, timeout)                     \
    do {                                                           \
        const auto ivrapi_replay_report_ = (replay).wait(timeout); \
        INFO(ivrapi_replay_report_.to_string());                   \
        REQUIRE(ivrapi_replay_report_.passed);                     \
    } while (false)
