// The control channel through real HTTP (POST /control/<command>), with the bot side on
// a raw WebSocket: what a test in another language does with ivrapi-mock-server.
#include "mock/helpers.hpp"

using namespace mocktest;

namespace {

ServerOptions with_control() {
    ServerOptions o = fast_options();
    o.control_channel = true;
    return o;
}

Json ok_body(const HttpResult& r) {
    INFO(r.headers << "\n" << r.body);
    REQUIRE(r.status == 200);
    Json j = r.json();
    REQUIRE(j.find("ok"));
    CHECK(j.find("ok")->as_bool());
    return j;
}

std::string error_of(const HttpResult& r) {
    const Json j = r.json();
    const Json* e = j.find("error");
    return e ? e->as_string() : "<no error: " + r.body + ">";
}

}  // namespace

TEST_CASE("control: a whole call driven over HTTP", "[mock][control-channel]") {
    Server server(with_control());
    const auto port = server.port();
    Peer bot(server);
    // wait: bounded, answered when the condition holds.
    ok_body(control(port, "wait", Json::object({{"for", "subscriptions"}, {"count", 1}, {"timeout_ms", 2000}})));

    auto started = ok_body(control(port, "start_call",
                                   Json::object({{"ivrid", "rDlg-http-1"},
                                                 {"key", "k1"},
                                                 {"params", Json::object({{"lang", "en"}})},
                                                 {"asr_text", "hello"}})));
    CHECK(started.find("ivrid")->as_string() == "rDlg-http-1");
    auto call = server.find_call("rDlg-http-1");
    REQUIRE(call);
    REQUIRE(bot.offered(*call));
    REQUIRE(bot.accept(*call) == "ok");
    ok_body(control(port, "wait", Json::object({{"for", "controlled"}, {"ivrid", "rDlg-http-1"}})));

    // The bot collects digits; the test presses them now, over HTTP.
    REQUIRE(bot.apply(*call, Json::object({{"oType", 206}, {"timeoutSec", 5}, {"maxSymbolCount", 2}})) == "ok");
    ok_body(control(port, "wait", Json::object({{"for", "components"}, {"ivrid", "rDlg-http-1"}, {"count", 1}})));
    ok_body(control(port, "dtmf", Json::object({{"ivrid", "rDlg-http-1"}, {"digits", "42"}})));
    CHECK(result_field(bot.stopped(), "dtmfBuffer") == "42");
    REQUIRE(bot.apply(*call, Json::object({{"oType", 223}})) == "ok");
    CHECK(result_field(bot.stopped(), "text") == "hello");

    // The request log, filtered and paged.
    auto log = ok_body(control(port, "requests", Json::object({{"name", "ivrapi_component_apply"}})));
    const auto& reqs = log.find("requests")->as_array();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].find("body")->find("data")->find("oType")->as_int() == 206);
    const auto next = log.find("next")->as_int();
    auto later = ok_body(control(port, "requests", Json::object({{"since", next}})));
    CHECK(later.find("requests")->as_array().empty());

    ok_body(control(port, "hangup", Json::object({{"ivrid", "rDlg-http-1"}})));
    ok_body(control(port, "wait", Json::object({{"for", "ended"}, {"ivrid", "rDlg-http-1"}})));
    auto info = ok_body(control(port, "call", Json::object({{"ivrid", "rDlg-http-1"}})));
    const Json* c = info.find("call");
    CHECK(c->find("phase")->as_string() == "ended");
    CHECK(c->find("end_reason")->as_string() == "script");
    CHECK(c->find("components")->as_array().size() == 2);
    CHECK(c->find("components")->as_array()[0].find("results")->find("dtmfBuffer")->as_string() == "42");
    auto status = ok_body(control(port, "status", Json::object()));
    CHECK(status.find("subscriptions")->as_int() == 1);
    CHECK(status.find("connections")->as_array().size() == 1);
}

TEST_CASE("control: faults over HTTP", "[mock][control-channel]") {
    Server server(with_control());
    const auto port = server.port();
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));

    ok_body(control(port, "fail_reply", Json::object({{"name", "connection_info"}, {"reason", "busy"}})));
    auto r = c.call("connection_info");
    REQUIRE(result_of(r) == "error");
    CHECK(r->body.find("reason")->as_string() == "busy");
    ok_body(control(port, "clear_faults", Json::object()));
    CHECK(result_of(c.call("connection_info")) == "ok");

    ok_body(control(port, "drop_reply", Json::object({{"name", "connection_info"}})));
    CHECK_FALSE(c.call("connection_info", Json::object(), 300ms));
    ok_body(control(port, "clear_faults", Json::object()));

    ok_body(control(port, "delay_reply", Json::object({{"name", "connection_info"}, {"ms", 300}})));
    auto t0 = std::chrono::steady_clock::now();
    CHECK(result_of(c.call("connection_info")) == "ok");
    CHECK(std::chrono::steady_clock::now() - t0 >= 290ms);
    ok_body(control(port, "clear_faults", Json::object()));

    ok_body(control(port, "send_raw",
                    Json::object({{"frame", Json::array({"script_message", Json::object({{"a", 1}})})}})));
    auto raw = c.wait("script_message");
    REQUIRE(raw);
    CHECK(raw->body.find("a")->as_int() == 1);
    ok_body(control(port, "send_raw", Json::object({{"frame", "not json at all"}})));
    REQUIRE(c.wait_count("", 1));  // arrives as is (no name: not an array)

    ok_body(control(port, "stall", Json::object({{"on", true}})));
    auto q = c.request("connection_info");
    CHECK_FALSE(c.wait_reply("connection_info", q, 200ms));
    ok_body(control(port, "stall", Json::object({{"on", false}})));
    CHECK(c.wait_reply("connection_info", q));

    ok_body(control(port, "close_connections", Json::object({{"code", 4001}, {"reason", "maintenance"}})));
    REQUIRE(c.wait_closed());
    CHECK(c.close_code() == 4001);

    RawClient d;
    REQUIRE(d.connect(server.url_with_token()));
    ok_body(control(port, "wait", Json::object({{"for", "connections"}, {"count", 1}})));
    ok_body(control(port, "drop_connections", Json::object()));
    REQUIRE(d.wait_closed());
    CHECK(d.close_code() == 1006);
}

TEST_CASE("control: bad input gets a clear error, never a crash or a hang", "[mock][control-channel]") {
    Server server(with_control());
    const auto port = server.port();
    auto no_token = control(port, "status", Json::object(), "");
    CHECK(no_token.status == 401);
    CHECK(control(port, "status", Json::object(), "wrong").status == 401);
    auto unknown = control(port, "explode", Json::object());
    CHECK(unknown.status == 404);
    CHECK(error_of(unknown).find("unknown command 'explode'") != std::string::npos);
    auto get = raw_http(port, "GET /control/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\n\r\n");
    CHECK(get.rfind("HTTP/1.1 405", 0) == 0);
    auto not_json = raw_http(port,
                             "POST /control/dtmf HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\n"
                             "Content-Length: 5\r\n\r\n{nope");
    CHECK(not_json.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(control(port, "dtmf", Json::array({1})).status == 400);
    CHECK(error_of(control(port, "dtmf", Json::object({{"ivrid", "nobody"}, {"digits", "1"}}))) ==
          "dtmf: unknown ivrid 'nobody'");
    CHECK(error_of(control(port, "dtmf", Json::object({{"ivrid", 5}}))) == "dtmf: 'ivrid' must be a string");
    CHECK(error_of(control(port, "start_call",
                           Json::object({{"dtmf", Json::array({Json::object({{"at_ms", "soon"}})})}}))) ==
          "start_call: $.dtmf[0].at_ms: expected an integer >= 0, got a string");
    CHECK(error_of(control(port, "start_call", Json::object({{"ivird", "typo"}}))).find("$.ivird: unknown key") !=
          std::string::npos);
    CHECK(error_of(control(port, "delay_reply", Json::object({{"name", "x"}, {"ms", -1}}))).find("'ms'") !=
          std::string::npos);
    CHECK(error_of(control(port, "stall", Json::object({{"on", "yes"}}))) == "stall: 'on' must be true or false");
    CHECK(error_of(control(port, "wait", Json::object({{"for", "godot"}}))).find("'for' must be") != std::string::npos);
    CHECK(error_of(control(port, "wait", Json::object({{"for", "ended"}, {"ivrid", "x"}, {"timeout_ms", 999999999}})))
              .find("'timeout_ms'") != std::string::npos);
    // A wait that is not met answers 408 at its bound.
    auto t0 = std::chrono::steady_clock::now();
    auto timed_out = control(port, "wait", Json::object({{"for", "connections"}, {"count", 5}, {"timeout_ms", 200}}));
    CHECK(timed_out.status == 408);
    CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);
    // A duplicate ivrid of a running call.
    ok_body(control(port, "start_call", Json::object({{"ivrid", "dup"}})));
    CHECK(error_of(control(port, "start_call", Json::object({{"ivrid", "dup"}}))).find("is running") !=
          std::string::npos);
    // Still serving.
    ok_body(control(port, "status", Json::object()));
}

TEST_CASE("control: off unless enabled; a pending wait ends when the server stops", "[mock][control-channel]") {
    {
        Server server(fast_options());
        CHECK(control(server.port(), "status", Json::object()).status == 405);  // a POST to the file server
    }
    auto server = std::make_unique<Server>(with_control());
    const auto port = server->port();
    HttpResult pending;
    std::thread waiter([&] {
        pending = control(port, "wait", Json::object({{"for", "connections"}, {"count", 3}, {"timeout_ms", 60000}}));
    });
    // Stop while the wait is pending (or before it arrived): the HTTP client sees an
    // error answer or a close, promptly, never a hang.
    auto t0 = std::chrono::steady_clock::now();
    server.reset();
    waiter.join();
    CHECK(std::chrono::steady_clock::now() - t0 < 15s);
    CHECK(pending.status != 200);
}
