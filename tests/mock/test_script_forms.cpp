// Components as a stored script keeps them (components-addendum §0, replayed through the
// SDK's RawComponent), the DTMF buffer and interrupting keys, caller actions relative to
// a component, per-call ASR text, callevents.dtmf, and the listen address.
#include "mock/helpers.hpp"

#include <ivrapi/components.hpp>

using namespace mocktest;
using ivrapi::mock::DtmfAt;

namespace {

struct Session {
    Server& server;
    Peer peer;
    Call call;
    Session(Server& s, CallOptions co = {}) : server(s), peer(s), call(s.start_call(std::move(co))) {
        REQUIRE(peer.accept(call) == "ok");
    }
    // Applies the component's data exactly as the SDK would send it.
    std::string apply(const ivrapi::Component& c) {
        REQUIRE(c.valid());
        return peer.apply(call, c.data());
    }
};

}  // namespace

TEST_CASE("the addendum's stored components run as pasted: argument objects, file objects, exits, layout",
          "[mock][component][stored]") {
    ServerOptions o = fast_options();
    o.default_play_duration = 3000ms;
    Server server(o);
    CallOptions co;
    // Press '*' 100 ms after the 204 (the 2nd component) starts: it interrupts the play.
    co.caller_dtmf = {DtmfAt{100ms, "*", 1, 204}};
    Session s(server, co);

    // 103 pause: "timeoutMs" stored as an argument object, its value a string.
    const char* pause =
        R"({"oId":3,"oType":103,"timeoutMs":{"argType":1,"varType":2,"value":"1500"},"transfer":4,"name":"Pause","info":"",)"
        R"("oLeft":120,"oTop":40,"oWidth":90,"oHeight":40,"oCreationDate":"2020-10-06 12:00:00","oLayer":0})";
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(s.apply(ivrapi::RawComponent{0, pause}) == "ok");
    auto st = s.peer.stopped();
    CHECK(std::chrono::steady_clock::now() - t0 >= 1450ms);  // the argument's value, not 0 or the default 1 s
    CHECK(transfer_key(st) == "transfer");
    CHECK(st->body.find("oId")->as_int() == 3);

    // 204 with the file as an object, interrupt "*", switches as integers, layout fields.
    const char* play =
        R"({"oId":4,"oType":204,"playerId":"default","mode":0,"randomize":1,)"
        R"("file":{"selectMode":0,"localFile":"oktell_1_ny.wav"},"loop":0,"clearDtmfBuffer":1,)"
        R"("interruptSymbols":"*","clearInterrupt":1,"name":"Playback","info":"","oLeft":1,"oTop":2,"oLayer":0})";
    REQUIRE(s.apply(ivrapi::RawComponent{0, play}) == "ok");
    st = s.peer.stopped();
    CHECK(result_field(st, "interruptSymbol") == "*");  // stopped by the key, not the 3 s play
    CHECK(s.call.played_files().back() == "oktell_1_ny.wav");

    // 202 as stored: only an exit, no sipCode -> answered with 200.
    REQUIRE(s.apply(ivrapi::RawComponent{0, R"({"oId":2,"oType":202,"transfer":3,"name":"Response","info":""})"}) ==
            "ok");
    CHECK(transfer_key(s.peer.stopped()) == "transfer");
    CHECK(s.call.sip_codes() == std::vector<int>{200});
    CHECK_FALSE(s.call.ended());

    // The plain forms still work: the seed's string file, numbers as numbers.
    REQUIRE(s.apply(ivrapi::RawComponent{0, R"({"oType":204,"mode":0,"file":"plain.wav"})"}) != "error");
    auto comps = s.call.components();
    REQUIRE(comps.size() == 4);
    CHECK(comps[1].data.find("file")->find("localFile")->as_string() == "oktell_1_ny.wav");  // recorded as sent
}

TEST_CASE("stored argument objects are read wherever a plain value is", "[mock][component][stored]") {
    Server server(fast_options());
    CallOptions co;
    co.caller_dtmf = {DtmfAt{50ms, "12", 1}};
    Session s(server, co);
    auto arg = [](const std::string& v) { return Json::object({{"argType", 1}, {"varType", 2}, {"value", v}}); };
    REQUIRE(s.peer.apply(s.call, Json::object({{"oType", 206},
                                               {"timeoutSec", arg("5")},
                                               {"maxSymbolCount", arg("2")},
                                               {"clearDtmfBuffer", 1}})) == "ok");
    auto st = s.peer.stopped();
    CHECK(result_field(st, "dtmfBuffer") == "12");
    REQUIRE(s.peer.apply(s.call, Json::object({{"oType", 207}, {"dtmf", arg("9,")}})) == "ok");
    REQUIRE(s.peer.stopped(3000ms));
    CHECK(s.call.sent_dtmf() == "9");
}

TEST_CASE("206 reads the documented interruptSymbols as terminators, removed unless kept", "[mock][component]") {
    Server server(fast_options());
    CallOptions co;
    co.caller_dtmf = {DtmfAt{50ms, "42#", 1}, DtmfAt{50ms, "7*0", 2}};
    Session s(server, co);
    ivrapi::CollectDigits c;
    c.timeout = std::chrono::seconds(5);
    c.terminators = "#";
    REQUIRE(s.apply(c) == "ok");
    CHECK(result_field(s.peer.stopped(), "dtmfBuffer") == "42");
    c.terminators = "#, *0";  // a sequence of two keys
    c.extra = {{"clearInterrupt", 0}};
    REQUIRE(s.apply(c) == "ok");
    CHECK(result_field(s.peer.stopped(), "dtmfBuffer") == "7*0");
}

TEST_CASE("DTMF buffer: every key is kept as type-ahead, an interrupting one too unless clearInterrupt",
          "[mock][component][typeahead]") {
    ServerOptions o = fast_options();
    o.default_play_duration = 3000ms;
    Server server(o);
    // The menu: a key interrupts the prompt, a following collect with clearDtmfBuffer 0 reads it.
    auto menu = [&](std::optional<bool> clear_interrupt, const std::string& keys) {
        CallOptions co;
        co.caller_dtmf = {DtmfAt{100ms, keys, 1}};
        Session s(server, co);
        ivrapi::Play p;
        p.file = ":GS_PUB/menu.wav";
        p.interrupt_digits = "123";
        p.clear_interrupt = clear_interrupt;
        REQUIRE(s.apply(p) == "ok");
        auto played = s.peer.stopped();
        CHECK(result_field(played, "interruptSymbol") == keys.substr(keys.size() - 1));
        ivrapi::CollectDigits c;
        c.timeout = std::chrono::seconds(1);
        c.max_digits = static_cast<int>(keys.size());
        c.clear_buffer = false;
        REQUIRE(s.apply(c) == "ok");
        auto st = s.peer.stopped();
        return std::make_pair(transfer_key(st), result_field(st, "dtmfBuffer"));
    };
    CHECK(menu(std::nullopt, "2") == std::make_pair(std::string("transfer"), std::string("2")));
    CHECK(menu(false, "*1") == std::make_pair(std::string("transfer"), std::string("*1")));
    // clearInterrupt 1: the interrupting key leaves the buffer, the others stay.
    CHECK(menu(true, "*1") == std::make_pair(std::string("transfer"), std::string("*")));
    CHECK(menu(true, "3") == std::make_pair(std::string("transferTimeout"), std::string("")));

    // 204 clearDtmfBuffer 1 drops what was typed before the play.
    CallOptions co;
    co.caller_dtmf = {DtmfAt{0ms, "9"}};
    Session s(server, co);
    REQUIRE(s.peer.ws.wait("ivrapi_dtmf", 3000ms));  // idle key, now in the buffer
    ivrapi::Play p;
    p.file = "short.wav";
    p.clear_buffer = true;
    p.extra = {{"mode", 1}, {"limitMs", 50}};
    REQUIRE(s.apply(p) == "ok");
    REQUIRE(s.peer.stopped());
    ivrapi::CollectDigits c;
    c.timeout = std::chrono::seconds(1);
    c.clear_buffer = false;
    REQUIRE(s.apply(c) == "ok");
    CHECK(transfer_key(s.peer.stopped()) == "transferTimeout");
}

TEST_CASE("caller keys relative to a component's start", "[mock][caller]") {
    ServerOptions o = fast_options();
    o.default_play_duration = 2000ms;
    Server server(o);
    CallOptions co;
    co.caller_dtmf = {DtmfAt{150ms, "5", 2, 204}};  // the SECOND 204, 150 ms after it starts
    Session s(server, co);
    ivrapi::Play p;
    p.file = "a.wav";
    p.interrupt_digits = "5";
    p.extra = {{"mode", 1}, {"limitMs", 400}};
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(s.apply(p) == "ok");
    auto first = s.peer.stopped();
    CHECK(result_field(first, "interruptSymbol") == "<absent>");  // played to its limit
    CHECK(std::chrono::steady_clock::now() - t0 >= 390ms);
    REQUIRE(s.apply(ivrapi::Pause{std::chrono::milliseconds(10)}) == "ok");  // not a 204: not counted
    REQUIRE(s.peer.stopped());
    t0 = std::chrono::steady_clock::now();
    REQUIRE(s.apply(p) == "ok");
    auto second = s.peer.stopped();
    CHECK(result_field(second, "interruptSymbol") == "5");
    CHECK(std::chrono::steady_clock::now() - t0 >= 140ms);
}

TEST_CASE("a caller who hangs up before anyone accepts", "[mock][caller]") {
    Server server(fast_options());
    Peer p(server);
    CallOptions co;
    co.hangup_after_offer = 100ms;
    auto call = server.start_call(co);
    REQUIRE(p.offered(call));
    auto stop = p.api_stop(call);
    REQUIRE(stop);
    CHECK(stop->body.find("data")->find("reason")->as_string() == "script");
    CHECK(call.end_reason() == "script");
    CHECK(result_of(p.ws.call("ivrapi_accept", ids(call))) == "error");
}

TEST_CASE("per-call ASR text, one per ASR component, the last repeating", "[mock][caller]") {
    Server server(fast_options());
    CallOptions co;
    co.asr_texts = {"yes", "two"};
    Session s(server, co);
    std::vector<std::string> heard;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(s.peer.apply(s.call, Json::object({{"oType", i == 1 ? 227 : 223}})) == "ok");
        heard.push_back(result_field(s.peer.stopped(), "text"));
    }
    CHECK(heard == std::vector<std::string>{"yes", "two", "two"});
    Session other(server);  // another call: the server-wide text
    REQUIRE(other.peer.apply(other.call, Json::object({{"oType", 223}})) == "ok");
    CHECK(result_field(other.peer.stopped(), "text") == "mock recognition result");
}

TEST_CASE("callevents.dtmf goes to subscribers that ask for it, after ivrapi_dtmf", "[mock][subscribe][dtmf]") {
    Server server(fast_options());
    Peer controller(server);  // subscribed to ivrevents only
    REQUIRE(result_of(controller.ws.call(
                "subscribe",
                Json::object({{"id", "c"}, {"events", Json::array({"callevents.dtmf"})}, {"objects", "any"}}))) ==
            "ok");
    RawClient watcher;  // callevents.* only, no control
    REQUIRE(watcher.connect(server.url_with_token()));
    REQUIRE(result_of(watcher.call("subscribe", Json::object({{"id", "w"}, {"events", "callevents.*"}}))) == "ok");
    Peer bystander(server);  // ivrevents only: no callevents
    auto call = server.start_call();
    REQUIRE(controller.accept(call) == "ok");
    call.send_dtmf("7");
    auto ev = watcher.wait("notify", 3000ms);
    REQUIRE(ev);
    CHECK(ev->body.find("class")->as_string() == "callevents");
    CHECK(ev->body.find("type")->as_string() == "dtmf");
    const Json* d = ev->body.find("data");
    CHECK(d->find("dtmf")->as_string() == "7");
    CHECK(d->find("callid")->as_string() == call.callid());
    CHECK(d->find("ivrid")->as_string() == call.ivrid());
    // On the controller's connection ivrapi_dtmf comes first.
    REQUIRE(controller.ws.wait("notify", 3000ms,
                               [](const Frame& f) { return f.body.find("class")->as_string() == "callevents"; }));
    std::vector<std::string> order;
    for (const auto& f : controller.ws.frames()) {
        if (f.name == "ivrapi_dtmf") order.push_back("ivrapi_dtmf");
        if (f.name == "notify" && f.body.find("class")->as_string() == "callevents") order.push_back("callevents");
    }
    CHECK(order == std::vector<std::string>{"ivrapi_dtmf", "callevents"});
    // Subscribed to ivrevents only: none.
    CHECK(result_of(bystander.ws.call("connection_info")) == "ok");  // a round trip after the key
    for (const auto& f : bystander.ws.frames()) {
        CHECK_FALSE((f.name == "notify" && f.body.find("class")->as_string() == "callevents"));
    }
}

TEST_CASE("listens on 127.0.0.1 by default; listen_address picks another", "[mock][connection]") {
    Server loopback(fast_options());
    RawClient a;
    CHECK(a.connect(loopback.url_with_token()));
    // 127.0.0.2 is a loopback address too on Linux, but not the one bound.
    RawClient b;
    CHECK_FALSE(
        b.connect("ws://127.0.0.2:" + std::to_string(loopback.port()) + "/ws/token/v1/test-token", "", "", 2000ms));

    ServerOptions o = fast_options();
    o.listen_address = "127.0.0.2";
    Server other(o);
    CHECK(other.url() == "ws://127.0.0.2:" + std::to_string(other.port()) + "/ws/token/v1");
    RawClient c;
    CHECK(c.connect(other.url_with_token()));
    CHECK(raw_http(other.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n").empty());  // nothing on 127.0.0.1

    o.listen_address = "not-an-address";
    CHECK_THROWS_WITH(Server(o), Catch::Contains("not an IP address"));
}
