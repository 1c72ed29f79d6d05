// Simulated components: each one's timing, exit and results; DTMF events; terminate;
// busy and unknown components; apply-ack timing.
#include "mock/helpers.hpp"

#include <fstream>
#include <sstream>

using namespace mocktest;
using ivrapi::mock::ApplyAck;
using ivrapi::mock::CallState;
using ivrapi::mock::DtmfAt;

namespace {

struct Session {
    Server& server;
    Peer peer;
    Call call;
    Session(Server& s, CallOptions co = {}) : server(s), peer(s), call(s.start_call(std::move(co))) {
        REQUIRE(peer.accept(call) == "ok");
    }
    std::optional<Frame> run(Json data) {
        auto r = peer.apply(call, std::move(data));
        if (r != "ok") {
            FAIL("apply replied " << r);
        }
        return peer.stopped();
    }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("204 play takes its duration and is what the caller heard", "[mock][component]") {
    ServerOptions o = fast_options();
    o.play_durations["long.wav"] = 300ms;
    Server server(o);
    Session s(server);
    auto t0 = std::chrono::steady_clock::now();
    auto st = s.run(Json::object({{"oType", 204}, {"mode", 0}, {"file", "long.wav"}, {"oId", 11}}));
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(st);
    CHECK(took >= 290ms);
    CHECK(transfer_key(st) == "transfer");
    CHECK(st->body.find("oId")->as_int() == 11);
    CHECK(st->body.find("key")->as_string() == s.call.key());
    CHECK(st->body.find("ivrid")->as_string() == s.call.ivrid());
    // mode 7: a list, in order
    st = s.run(Json::object({{"oType", "204"}, {"mode", "7"}, {"files", Json::array({"b.wav", "c.wav"})}}));
    CHECK(transfer_key(st) == "transfer");
    CHECK(s.call.played_files() == std::vector<std::string>{"long.wav", "b.wav", "c.wav"});
    auto comps = s.call.components();
    REQUIRE(comps.size() == 2);
    CHECK(comps[0].o_type == 204);
    CHECK(comps[0].data.find("file")->as_string() == "long.wav");
    CHECK(comps[0].oid.as_int() == 11);
    CHECK(comps[1].oid.as_int() == 0);
    CHECK_FALSE(comps[1].running);
}

TEST_CASE("204 play stops early on an interrupt digit; ivrapi_dtmf in component mode", "[mock][component]") {
    ServerOptions o = fast_options();
    o.default_play_duration = 5000ms;
    Server server(o);
    CallOptions co;
    co.caller_dtmf = {DtmfAt{100ms, "5"}};
    Session s(server, co);
    auto t0 = std::chrono::steady_clock::now();
    auto st = s.run(
        Json::object({{"oType", 204}, {"mode", 0}, {"file", "menu.wav"}, {"interruptSymbols", "4, 5, 6"}, {"oId", 3}}));
    CHECK(std::chrono::steady_clock::now() - t0 < 3000ms);
    CHECK(transfer_key(st) == "transfer");
    CHECK(result_field(st, "interruptSymbol") == "5");
    auto dtmf = s.peer.ws.wait("ivrapi_dtmf", 0ms);
    REQUIRE(dtmf);
    CHECK(dtmf->body.find("mode")->as_string() == "component");
    CHECK(dtmf->body.find("oId")->as_int() == 3);
    CHECK(dtmf->body.find("dtmf")->as_string() == "5");
    CHECK(dtmf->body.find("key")->as_string() == s.call.key());
}

TEST_CASE("ivrapi_dtmf idle outside a component", "[mock][component]") {
    Server server;
    Session s(server);
    s.call.send_dtmf("7#");
    auto d1 = s.peer.ws.wait("ivrapi_dtmf");
    auto d2 = s.peer.ws.wait("ivrapi_dtmf");
    REQUIRE(d1);
    REQUIRE(d2);
    CHECK(d1->body.find("mode")->as_string() == "idle");
    CHECK_FALSE(d1->body.contains("oId"));
    CHECK(d1->body.find("dtmf")->as_string() == "7");
    CHECK(d2->body.find("dtmf")->as_string() == "#");
}

TEST_CASE("206 collect digits: count, terminator, timeout", "[mock][component]") {
    ServerOptions o = fast_options();
    Server server(o);
    CallOptions co;
    co.caller_dtmf = {DtmfAt{50ms, "123"}};
    Session s(server, co);
    auto st = s.run(Json::object({{"oType", 206}, {"timeoutSec", "5"}, {"maxSymbolCount", "3"}}));
    CHECK(transfer_key(st) == "transfer");
    CHECK(result_field(st, "dtmfBuffer") == "123");

    std::thread caller([call = s.call]() mutable { call.send_dtmf("78#9"); });
    caller.join();  // typed ahead; a collect that keeps the buffer reads it
    st = s.run(Json::object({{"oType", 206}, {"timeoutSec", 5}, {"terminateSymbols", "#"}, {"clearDtmfBuffer", 0}}));
    CHECK(transfer_key(st) == "transfer");
    CHECK(result_field(st, "dtmfBuffer") == "78");

    auto t0 = std::chrono::steady_clock::now();
    st = s.run(Json::object({{"oType", 206}, {"timeoutSec", 0.2}}));  // clears the buffer ("9")
    CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);
    CHECK(transfer_key(st) == "transferTimeout");
    CHECK(result_field(st, "dtmfBuffer") == "");

    // Inter-digit timeout after some digits: done with what was typed.
    st = [&] {
        REQUIRE(s.peer.apply(s.call, Json::object({{"oType", 206}, {"timeoutSec", 5}, {"symbolTimeoutSec", 0.1}})) ==
                "ok");
        s.call.send_dtmf("42");
        return s.peer.stopped();
    }();
    CHECK(transfer_key(st) == "transfer");
    CHECK(result_field(st, "dtmfBuffer") == "42");
}

TEST_CASE("208 record writes a valid WAV and returns its :TEMP path", "[mock][component]") {
    ServerOptions o = fast_options();
    o.record_duration = 200ms;
    Server server(o);
    Session s(server);
    auto st = s.run(Json::object({{"oType", 208},
                                  {"recTimeSec", "10"},
                                  {"maxSymbolCount", "3"},
                                  {"interruptSymbols", "4, 5, 6"},
                                  {"abortOnSilence", 0}}));
    CHECK(transfer_key(st) == "transfer");
    auto path = result_field(st, "nameVar");
    CHECK(path.rfind(":TEMP/ivr_records/", 0) == 0);
    CHECK(path.size() > 4);
    CHECK(path.substr(path.size() - 4) == ".wav");
    auto local = s.call.local_path(path);
    REQUIRE_FALSE(local.empty());
    auto wav = slurp(local);
    REQUIRE(wav.size() > 44);
    CHECK(wav.compare(0, 4, "RIFF") == 0);
    CHECK(wav.compare(8, 4, "WAVE") == 0);
    CHECK(wav.compare(36, 4, "data") == 0);
    // 200 ms of 8 kHz 16-bit mono = 3200 bytes of samples
    CHECK(wav.size() == 44 + 3200);

    // An interrupt digit stops it early.
    o.record_duration = 5000ms;
    CallOptions co;
    co.caller_dtmf = {DtmfAt{100ms, "5"}};
    Server server2(o);
    Session s2(server2, co);
    auto t0 = std::chrono::steady_clock::now();
    st = s2.run(Json::object({{"oType", 208}, {"recTimeSec", 10}, {"interruptSymbols", "4,5,6"}}));
    CHECK(std::chrono::steady_clock::now() - t0 < 3000ms);
    CHECK(result_field(st, "nameVar").rfind(":TEMP/", 0) == 0);
}

TEST_CASE("207 send DTMF, 103 pause", "[mock][component]") {
    Server server(fast_options());
    Session s(server);
    auto st = s.run(Json::object({{"oType", 207}, {"dtmf", "12#"}, {"proto", 1}}));
    CHECK(transfer_key(st) == "transfer");
    CHECK(s.call.sent_dtmf() == "12#");
    auto t0 = std::chrono::steady_clock::now();
    st = s.run(Json::object({{"oType", 103}, {"timeoutMs", 150}}));
    CHECK(std::chrono::steady_clock::now() - t0 >= 140ms);
    CHECK(transfer_key(st) == "transfer");
}

TEST_CASE("202 SIP answer changes the state; a failure code ends the call", "[mock][component]") {
    Server server(fast_options());
    CallOptions co;
    co.state = CallState::incoming;
    Session s(server, co);
    CHECK(s.call.state() == "incoming");
    s.run(Json::object({{"oType", 202}, {"sipCode", 180}}));
    CHECK(s.call.state() == "ringing");
    s.run(Json::object({{"oType", 202}, {"sipCode", "183"}}));
    CHECK(s.call.state() == "early");
    s.run(Json::object({{"oType", 202}, {"sipCode", 200}}));
    CHECK(s.call.state() == "dialog");
    CHECK(s.call.sip_codes() == std::vector<int>{180, 183, 200});

    Session s2(server, co);
    auto st = s2.run(Json::object({{"oType", 202}, {"sipCode", 486}, {"phrase", "Busy Here"}}));
    CHECK(transfer_key(st) == "transfer");
    auto stop = s2.peer.api_stop(s2.call);
    REQUIRE(stop);
    CHECK(stop->body.find("data")->find("reason")->as_string() == "script");
    CHECK(s2.call.end_reason() == "script");
}

TEST_CASE("201 hangup and 203 transfer end the call after the stopped event", "[mock][component]") {
    Server server(fast_options());
    for (int otype : {201, 203}) {
        Session s(server);
        auto data = Json::object({{"oType", otype}});
        if (otype == 203) data.set("number", "13");
        auto st = s.run(data);
        CHECK(transfer_key(st) == "transfer");
        auto stop = s.peer.api_stop(s.call);
        REQUIRE(stop);
        CHECK(stop->body.find("data")->find("reason")->as_string() == "script");
        auto frames = s.peer.ws.frames();
        auto st_at = std::find_if(frames.begin(), frames.end(),
                                  [](const Frame& f) { return f.name == "ivrapi_component_stopped"; });
        auto stop_at = std::find_if(frames.begin(), frames.end(), [](const Frame& f) {
            return f.name == "notify" && f.body.find("type")->as_string() == "api_stop";
        });
        CHECK(st_at < stop_at);
        if (otype == 203) CHECK(s.call.transferred_to() == "13");
    }
}

TEST_CASE("TTS and ASR stubs with configurable results; fax", "[mock][component]") {
    ServerOptions o = fast_options();
    o.asr_text = "two tickets to Tomsk";
    o.component_results[226] = Json::object({{"engine", "sber"}});
    Server server(o);
    Session s(server);
    auto st = s.run(Json::object({{"oType", 222}, {"text", "Hello"}, {"mode", 0}}));
    CHECK(transfer_key(st) == "transfer");
    CHECK(s.call.played_files().back() == "tts:Hello");
    st = s.run(Json::object({{"oType", 226}, {"text", "Hi"}, {"mode", 1}}));
    CHECK(result_field(st, "engine") == "sber");
    CHECK(result_field(st, "nameVar").rfind(":TEMP/tts/", 0) == 0);
    st = s.run(Json::object({{"oType", 223}}));
    CHECK(result_field(st, "text") == "two tickets to Tomsk");
    st = s.run(Json::object({{"oType", 227}}));
    CHECK(result_field(st, "text") == "two tickets to Tomsk");
    st = s.run(Json::object({{"oType", 214}}));
    const auto received = result_field(st, "nameVar");
    auto tif = slurp(s.call.local_path(received));
    CHECK(tif.compare(0, 4, std::string("II*\0", 4)) == 0);
    st = s.run(Json::object({{"oType", 213}, {"file", received}}));  // send on what came in
    CHECK(transfer_key(st) == "transfer");
    // A :TEMP file this script does not have is refused.
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 213}, {"file", ":TEMP/fax.tif"}})) == "error");
}

TEST_CASE("unknown oType, missing properties and a second apply get error replies", "[mock][component]") {
    ServerOptions o = fast_options();
    o.default_play_duration = 2000ms;
    Server server(o);
    Session s(server);
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 999}})) == "error");
    CHECK(s.peer.apply(s.call, Json::object({{"mode", 0}})) == "error");
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 204}, {"mode", 0}})) == "error");      // no file
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 202}, {"sipCode", 99}})) == "error");  // bad sipCode
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 204}, {"mode", 0}, {"file", "x.wav"}})) == "ok");
    auto busy = s.peer.ws.call("ivrapi_component_apply", with(ids(s.call), "data", Json::object({{"oType", 201}})));
    CHECK(result_of(busy) == "error");
    CHECK(busy->body.find("reason")->as_string().find("already running") != std::string::npos);
    CHECK(s.call.components().size() == 1);
}

TEST_CASE("terminate stops the running component, stopped event before the reply", "[mock][component]") {
    ServerOptions o = fast_options();
    o.default_play_duration = 5000ms;
    Server server(o);
    Session s(server);
    REQUIRE(s.peer.apply(s.call, Json::object({{"oType", 204}, {"mode", 0}, {"file", "x.wav"}, {"oId", "p1"}})) ==
            "ok");
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(result_of(s.peer.ws.call("ivrapi_component_terminate", ids(s.call))) == "ok");
    CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
    auto frames = s.peer.ws.frames();
    auto st_at =
        std::find_if(frames.begin(), frames.end(), [](const Frame& f) { return f.name == "ivrapi_component_stopped"; });
    auto reply_at = std::find_if(frames.begin(), frames.end(),
                                 [](const Frame& f) { return f.name == "ivrapi_component_terminate_result"; });
    REQUIRE(st_at != frames.end());
    CHECK(st_at < reply_at);
    CHECK(st_at->body.find("oId")->as_string() == "p1");  // oId echoed as sent
    CHECK(st_at->body.find("transferKey")->as_string() == "transfer");
    CHECK(s.call.components().at(0).terminated);
    // Nothing runs now: the next apply is accepted; terminate with nothing running is ok.
    CHECK(result_of(s.peer.ws.call("ivrapi_component_terminate", ids(s.call))) == "ok");
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 103}, {"timeoutMs", 1}})) == "ok");
}

TEST_CASE("terminate of a collect reports the digits so far", "[mock][component]") {
    Server server(fast_options());
    Session s(server);
    REQUIRE(s.peer.apply(s.call, Json::object({{"oType", 206}, {"timeoutSec", 30}})) == "ok");
    s.call.send_dtmf("12");
    REQUIRE(s.peer.ws.wait_count("ivrapi_dtmf", 2));
    REQUIRE(result_of(s.peer.ws.call("ivrapi_component_terminate", ids(s.call))) == "ok");
    auto st = s.peer.stopped(0ms);
    CHECK(result_field(st, "dtmfBuffer") == "12");
}

TEST_CASE("apply ack timing is configurable", "[mock][component]") {
    for (auto mode : {ApplyAck::before_stopped, ApplyAck::after_stopped}) {
        ServerOptions o = fast_options();
        o.apply_ack = mode;
        o.default_play_duration = 200ms;
        Server server(o);
        Session s(server);
        auto t0 = std::chrono::steady_clock::now();
        auto qid = s.peer.ws.request("ivrapi_component_apply",
                                     with(ids(s.call), "data", Json::object({{"oType", 204}, {"file", "a.wav"}})));
        auto reply = s.peer.ws.wait_reply("ivrapi_component_apply", qid);
        REQUIRE(reply);
        CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);  // the reply waited for completion
        REQUIRE(s.peer.stopped(1000ms));
        auto frames = s.peer.ws.frames();
        auto st_at = std::find_if(frames.begin(), frames.end(),
                                  [](const Frame& f) { return f.name == "ivrapi_component_stopped"; });
        auto reply_at = std::find_if(frames.begin(), frames.end(),
                                     [](const Frame& f) { return f.name == "ivrapi_component_apply_result"; });
        CHECK((mode == ApplyAck::before_stopped) == (reply_at < st_at));
    }
}

TEST_CASE("stopped events without key/ivrid, as in the spec's example", "[mock][component]") {
    ServerOptions o = fast_options();
    o.stopped_event_carries_ids = false;
    Server server(o);
    Session s(server);
    auto st = s.run(Json::object({{"oType", 103}, {"timeoutMs", 1}}));
    REQUIRE(st);
    CHECK(st->body.contains("oId"));
    CHECK_FALSE(st->body.contains("key"));
    CHECK_FALSE(st->body.contains("ivrid"));
}

TEST_CASE("strict SIP rules refuse media before answer", "[mock][component]") {
    ServerOptions o = fast_options();
    o.strict_sip_rules = true;
    Server server(o);
    CallOptions co;
    co.state = CallState::ringing;
    Session s(server, co);
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 204}, {"file", "a.wav"}})) == "error");
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 201}})) == "error");
    s.run(Json::object({{"oType", 202}, {"sipCode", 183}}));
    CHECK(s.peer.apply(s.call, Json::object({{"oType", 204}, {"file", "a.wav"}})) == "ok");
}
