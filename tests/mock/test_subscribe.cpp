// Subscriptions: api_start/api_stop notify frames, once per matching subscription,
// delete with expires 0, renewal, expiry (with an injected clock).
#include "mock/helpers.hpp"

using namespace mocktest;
using ivrapi::mock::CallState;
using ivrapi::mock::TestClock;

namespace {
bool is_type(const Frame& f, const char* type) { return f.body.find("type")->as_string() == type; }
}  // namespace

TEST_CASE("api_start carries every documented field", "[mock][subscribe]") {
    Server server;
    Peer p(server);
    CallOptions co;
    co.ivrid = "rDlg-006-ZevQbP";
    co.key = "abc";
    co.callid = "rB2-002@192.168.0.149";
    co.params = R"({"asdf":"zxcv"})";
    co.state = CallState::early;
    auto call = server.start_call(co);
    auto n = p.ws.wait("notify");
    REQUIRE(n);
    CHECK(n->body.find("class")->as_string() == "ivrevents");
    CHECK(n->body.find("type")->as_string() == "api_start");
    CHECK(n->body.find("eventts")->as_int() > 1600000000000LL);
    CHECK_FALSE(n->body.contains("qid"));
    const auto& d = *n->body.find("data");
    CHECK(d.find("ivrid")->as_string() == "rDlg-006-ZevQbP");
    CHECK(d.find("key")->as_string() == "abc");
    CHECK(d.find("callid")->as_string() == "rB2-002@192.168.0.149");
    CHECK(d.find("params")->as_string() == R"({"asdf":"zxcv"})");
    CHECK(d.find("state")->as_string() == "early");
    CHECK(d.find("componentid")->is_integer());
    CHECK(d.find("componentname")->is_string());
    CHECK(d.find("ivrts")->as_int() > 1600000000000LL);
    CHECK(d.find("cid")->as_string().size() == 36);
    CHECK(d.find("sm_id")->is_string());
    CHECK(call.state() == "early");
}

TEST_CASE("one notify per matching subscription, on every subscribed connection", "[mock][subscribe]") {
    Server server;
    Peer a(server);
    REQUIRE(result_of(subscribe(a.ws, "second")) == "ok");
    Peer b(server);
    RawClient unsubscribed;
    REQUIRE(unsubscribed.connect(server.url_with_token()));
    CHECK(server.subscription_count() == 3);
    auto call = server.start_call();
    CHECK(a.ws.wait_count("notify", 2));
    CHECK(b.ws.wait_count("notify", 1));
    // api_stop goes to every subscription too
    call.hangup();
    CHECK(a.ws.wait_count("notify", 4));
    CHECK(b.ws.wait_count("notify", 2));
    CHECK(a.ws.count("notify") == 4);
    CHECK(b.ws.count("notify") == 2);
    REQUIRE(unsubscribed.call("connection_info"));  // a round trip: nothing else was queued before
    CHECK(unsubscribed.count("notify") == 0);
}

TEST_CASE("subscription filters: events class.* and exact types", "[mock][subscribe]") {
    Server server;
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    REQUIRE(result_of(c.call("subscribe", Json::object({{"id", "only-stop"},
                                                        {"events", Json::array({"ivrevents.api_stop"})},
                                                        {"expires", 60}}))) == "ok");
    REQUIRE(result_of(c.call(
                "subscribe",
                Json::object({{"id", "all"}, {"events", Json::array({"ivrevents.*"})}, {"expires", 60}}))) == "ok");
    auto call = server.start_call();
    call.hangup();
    REQUIRE(c.wait_count("notify", 3));
    REQUIRE(c.call("connection_info"));
    auto frames = c.frames();
    int starts = 0, stops = 0;
    for (auto& f : frames) {
        if (f.name != "notify") continue;
        starts += is_type(f, "api_start");
        stops += is_type(f, "api_stop");
    }
    CHECK(starts == 1);
    CHECK(stops == 2);
}

TEST_CASE("expires 0 deletes; a renewal with the same id keeps one subscription", "[mock][subscribe]") {
    Server server;
    Peer p(server);
    REQUIRE(result_of(p.ws.call("subscribe", Json::object({{"id", "s1"}, {"expires", 600}}))) == "ok");  // renew
    CHECK(server.subscription_count() == 1);
    server.start_call();
    REQUIRE(p.ws.wait_count("notify", 1));
    REQUIRE(result_of(p.ws.call("subscribe", Json::object({{"id", "s1"}, {"expires", 0}}))) == "ok");
    CHECK(server.subscription_count() == 0);
    server.start_call();
    REQUIRE(p.ws.call("connection_info"));
    CHECK(p.ws.count("notify") == 1);
    // A renewal of an unknown id without events is an error.
    CHECK(result_of(p.ws.call("subscribe", Json::object({{"id", "ghost"}, {"expires", 60}}))) == "error");
    CHECK(result_of(p.ws.call("subscribe", Json::object({{"events", Json::array({"ivrevents.*"})}}))) ==
          "error");  // no id
}

TEST_CASE("subscriptions expire; a renewal before expiry keeps them", "[mock][subscribe]") {
    TestClock clock;
    ServerOptions o;
    o.clock = clock.clock();
    Server server(o);
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    REQUIRE(result_of(subscribe(c, "short", 300)) == "ok");
    REQUIRE(result_of(subscribe(c, "renewed", 300)) == "ok");
    CHECK(server.subscription_count() == 2);
    clock.advance(std::chrono::seconds(240));
    REQUIRE(result_of(c.call("subscribe", Json::object({{"id", "renewed"}, {"expires", 300}}))) == "ok");
    clock.advance(std::chrono::seconds(61));  // "short" is 301 s old now, "renewed" 61 s
    CHECK(server.subscription_count() == 1);
    server.start_call();
    REQUIRE(c.wait_count("notify", 1));
    REQUIRE(c.call("connection_info"));
    CHECK(c.count("notify") == 1);
    clock.advance(std::chrono::seconds(300));
    CHECK(server.subscription_count() == 0);
    server.start_call();
    REQUIRE(c.call("connection_info"));
    CHECK(c.count("notify") == 1);
}

TEST_CASE("subscriptions belong to their connection", "[mock][subscribe]") {
    Server server;
    {
        Peer p(server);
        CHECK(server.subscription_count() == 1);
        p.ws.close();
        REQUIRE(p.ws.wait_closed());
    }
    CHECK(server.wait_for([](const Server& s) { return s.subscription_count() == 0; }, 2000ms));
}
