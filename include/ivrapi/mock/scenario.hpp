// Scenario files of ivrapi-mock-server, and the call fields of the control channel's
// start_call: JSON -> CallOptions / ServerOptions. Strict, so that a typo fails loudly:
// an unknown key or a wrong type is a ScenarioError naming its JSON path
// ("$.calls[0].at_ms: expected an integer >= 0, got a string").
//
// Public header: includes no websocketpp / Asio / RapidJSON header.
#pragma once

#include <ivrapi/json.hpp>
#include <ivrapi/mock/server.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace ivrapi::mock {

struct ScenarioError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One call of a scenario: offered `at` after the start.
struct ScheduledCall {
    std::chrono::milliseconds at{0};  // when, after the start
    CallOptions options;              // the call's fields and its caller
};

// A whole scenario file: {"options": {...}, "calls": [...]}. "options" is applied to
// `server`; the calls come back sorted by `at` ("repeat" already expanded).
std::vector<ScheduledCall> parse_scenario(const Json& doc, ServerOptions& server);

// The fields of one call (ivrid, key, ..., dtmf, hangup_after_ms, asr_text); `path`
// names the object in errors.
CallOptions parse_call(const Json& call, const std::string& path = "$");

// Every key the format knows, as JSON paths ("options.accept_timeout_ms",
// "calls[].dtmf[].at_ms", ...): the binary's --help lists them all.
const std::vector<std::string>& scenario_keys();

}  // namespace ivrapi::mock
