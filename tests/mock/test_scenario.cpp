// Scenario files: every key read, unknown keys and wrong types rejected with their path.
#include "mock/helpers.hpp"

#include <ivrapi/mock/scenario.hpp>

using namespace mocktest;
using ivrapi::mock::parse_call;
using ivrapi::mock::parse_scenario;
using ivrapi::mock::ScenarioError;

namespace {
Json parse(const std::string& text) {
    auto j = Json::parse(text);
    REQUIRE(j);
    return *j;
}
std::string error_of(const std::string& text) {
    ServerOptions so;
    try {
        parse_scenario(parse(text), so);
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return "<no error>";
}
}  // namespace

TEST_CASE("scenario: every key is read", "[mock][scenario]") {
    ServerOptions so;
    auto calls = parse_scenario(parse(R"({
        "options": {"accept_timeout_ms": 1500, "detached_timeout_ms": 2500, "play_ms": 10,
                    "play_durations_ms": {":GS_PUB/a.wav": 20}, "record_ms": 30, "tts_ms": 40, "asr_ms": 50,
                    "asr_text": "yes", "fax_ms": 60, "dtmf_send_ms": 70, "apply_ack": "after_stopped",
                    "stopped_event_carries_ids": false, "terminate_reply_first": true,
                    "stopped_event_on_hangup": true, "strict_sip_rules": true, "any_path_plays": false,
                    "component_results": {"223": {"text": "no"}}, "component_transfer_keys": {"206": "transferError"}},
        "calls": [
          {"at_ms": 500, "ivrid": "b", "key": "k", "callid": "c@x", "cid": "cid", "componentname": "n",
           "componentid": 7, "sm_id": "sm", "state": "early", "params": {"lang": "en"},
           "dtmf": [{"at_ms": 100, "digits": "1#"}, {"at_ms": 200, "digits": "2", "after_component": 2, "o_type": 204}],
           "hangup_after_ms": 9000, "hangup_after_offer_ms": 8000, "asr_text": ["one", "two"]},
          {"at_ms": 0, "ivrid": "a", "repeat": 2, "every_ms": 100, "params": "raw text", "asr_text": "x"}
        ]})"),
                                so);
    CHECK(so.accept_timeout == 1500ms);
    CHECK(so.detached_timeout == 2500ms);
    CHECK(so.default_play_duration == 10ms);
    CHECK(so.play_durations.at(":GS_PUB/a.wav") == 20ms);
    CHECK(so.record_duration == 30ms);
    CHECK(so.tts_duration == 40ms);
    CHECK(so.asr_duration == 50ms);
    CHECK(so.asr_text == "yes");
    CHECK(so.fax_duration == 60ms);
    CHECK(so.dtmf_send_duration == 70ms);
    CHECK(so.apply_ack == ivrapi::mock::ApplyAck::after_stopped);
    CHECK_FALSE(so.stopped_event_carries_ids);
    CHECK(so.terminate_reply_first);
    CHECK(so.stopped_event_on_hangup);
    CHECK(so.strict_sip_rules);
    CHECK_FALSE(so.any_path_plays);
    CHECK(so.component_results.at(223).find("text")->as_string() == "no");
    CHECK(so.component_transfer_keys.at(206) == "transferError");

    REQUIRE(calls.size() == 3);
    CHECK(calls[0].options.ivrid == "a-1");
    CHECK(calls[1].options.ivrid == "a-2");
    CHECK(calls[1].at == 100ms);
    CHECK(calls[0].options.params == "raw text");
    const auto& b = calls[2].options;
    CHECK(calls[2].at == 500ms);
    CHECK(b.ivrid == "b");
    CHECK(b.key == "k");
    CHECK(b.callid == "c@x");
    CHECK(b.cid == "cid");
    CHECK(b.componentname == "n");
    CHECK(b.componentid == 7);
    CHECK(b.sm_id == "sm");
    CHECK(b.state == ivrapi::mock::CallState::early);
    CHECK(b.params == R"({"lang":"en"})");
    REQUIRE(b.caller_dtmf.size() == 2);
    CHECK(b.caller_dtmf[0].digits == "1#");
    CHECK_FALSE(b.caller_dtmf[0].component);
    CHECK(b.caller_dtmf[1].at == 200ms);
    CHECK(b.caller_dtmf[1].component == 2);
    CHECK(b.caller_dtmf[1].o_type == 204);
    CHECK(b.hangup_after == 9000ms);
    CHECK(b.hangup_after_offer == 8000ms);
    CHECK(b.asr_texts == std::vector<std::string>{"one", "two"});
    // --help lists every key (the binary's help test checks the text itself).
    CHECK(ivrapi::mock::scenario_keys().size() == 37);
}

TEST_CASE("scenario: unknown keys and wrong types are errors with their JSON path", "[mock][scenario]") {
    CHECK(error_of(R"({"calls":[{"at_ms":"soon"}]})") == "$.calls[0].at_ms: expected an integer >= 0, got a string");
    CHECK(error_of(R"({"calls":[{"ivrid":"a","hangup_afer_ms":5}]})") ==
          "$.calls[0].hangup_afer_ms: unknown key (see ivrapi-mock-server --help)");
    CHECK(error_of(R"({"calls":[{},{"dtmf":[{"at_ms":1}]}]})") ==
          "$.calls[1].dtmf[0].digits: required (the keys to press)");
    CHECK(error_of(R"({"calls":[{"dtmf":[{"digits":"1","after_component":0}]}]})") ==
          "$.calls[0].dtmf[0].after_component: expected 1 or more (1 = the first component)");
    CHECK(error_of(R"({"calls":[{"state":"talking"}]})") ==
          "$.calls[0].state: expected dialog, early, ringing or incoming, got \"talking\"");
    CHECK(error_of(R"({"calls":{}})") == "$.calls: expected an array, got an object");
    CHECK(error_of(R"({"calls":[5]})") == "$.calls[0]: expected an object, got an integer");
    CHECK(error_of(R"({"calls":[{"at_ms":-5}]})") == "$.calls[0].at_ms: expected an integer >= 0, got -5");
    CHECK(error_of(R"({"calls":[{"at_ms":1.5}]})") == "$.calls[0].at_ms: expected an integer >= 0, got a number");
    CHECK(error_of(R"({"calls":[{"repeat":0}]})") == "$.calls[0].repeat: expected 1..100000");
    CHECK(error_of(R"({"calls":[{"asr_text":[1]}]})") == "$.calls[0].asr_text[0]: expected a string, got an integer");
    CHECK(error_of(R"({"options":{"play_ms":true}})") == "$.options.play_ms: expected an integer >= 0, got a boolean");
    CHECK(error_of(R"({"options":{"apply_ack":"never"}})").find("$.options.apply_ack: expected immediate") == 0);
    CHECK(error_of(R"({"options":{"play_durations_ms":{"a.wav":"long"}}})") ==
          "$.options.play_durations_ms.a.wav: expected an integer >= 0, got a string");
    CHECK(error_of(R"({"options":{"component_results":{"abc":{}}}})") ==
          "$.options.component_results.abc: expected an oType number as the key");
    CHECK(error_of(R"({"options":{"strict_sip_rules":1}})") ==
          "$.options.strict_sip_rules: expected true or false, got an integer");
    CHECK(error_of(R"({"option":{}})") == "$.option: unknown key (see ivrapi-mock-server --help)");
    CHECK(error_of(R"([])") == "$: expected an object, got an array");
    CHECK_THROWS_AS(parse_call(parse(R"({"at_ms":1})")), ScenarioError);  // scenario-only keys
}
