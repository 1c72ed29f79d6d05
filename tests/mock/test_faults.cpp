// Fault injection: drop connections (now / after N messages), delay, fail or drop a
// reply, raw frames, duplicate notifications, stall; clean shutdown.
#include "mock/helpers.hpp"

using namespace mocktest;

TEST_CASE("drop_connections closes every link without a close frame", "[mock][fault]") {
    Server server;
    RawClient a, b;
    REQUIRE(a.connect(server.url_with_token()));
    REQUIRE(b.connect(server.url_with_token()));
    REQUIRE(server.wait_for([](const Server& s) { return s.connection_count() == 2; }, 2000ms));
    server.drop_connections();
    REQUIRE(a.wait_closed());
    REQUIRE(b.wait_closed());
    CHECK(a.close_code() != 1000);  // 1006 (abnormal): no close frame
    CHECK(a.close_code() != 1001);
    CHECK(server.wait_for([](const Server& s) { return s.connection_count() == 0; }, 2000ms));
}

TEST_CASE("drop_after_messages: the n-th message is processed, unanswered, then the link drops", "[mock][fault]") {
    Server server;
    Peer p(server);
    auto call = server.start_call();
    server.drop_after_messages(2);
    REQUIRE(result_of(p.ws.call("connection_info")) == "ok");  // 1st
    auto qid = p.ws.request("ivrapi_accept", ids(call));       // 2nd: processed, no reply
    REQUIRE(p.ws.wait_closed());
    CHECK_FALSE(p.ws.wait_reply("ivrapi_accept", qid, 0ms));
    CHECK(call.controlled());
    CHECK(server.wait_for([&](const Server&) { return call.controller() == -1; }, 2000ms));
}

TEST_CASE("delay_reply, fail_reply and drop_reply", "[mock][fault]") {
    Server server;
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));

    server.delay_reply("connection_info", 200ms);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(c.call("connection_info"));
    CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);

    server.clear_faults();
    server.fail_reply("subscribe", "service unavailable");
    auto r = subscribe(c);
    CHECK(result_of(r) == "error");
    CHECK(r->body.find("reason")->as_string() == "service unavailable");
    CHECK(server.subscription_count() == 0);  // a failed request is not processed

    server.clear_faults();
    server.drop_reply("subscribe");
    auto qid = c.request("subscribe", Json::object({{"id", "s"}, {"events", Json::array({"ivrevents.*"})}}));
    REQUIRE(server.wait_for_request("subscribe", 2000ms, 2));
    REQUIRE(c.call("connection_info"));                // later traffic is answered...
    CHECK_FALSE(c.wait_reply("subscribe", qid, 0ms));  // ...but never that one
    CHECK(server.subscription_count() == 1);           // a dropped reply's request is processed

    server.clear_faults();
    CHECK(result_of(subscribe(c, "again")) == "ok");
}

TEST_CASE("send_raw and duplicate_notifications", "[mock][fault]") {
    Server server;
    Peer p(server);
    server.send_raw("this is not json");
    server.send_raw(R"(["some_script_message",{"x":1}])");
    REQUIRE(p.ws.wait("some_script_message"));
    CHECK(p.ws.frames().at(1).raw == "this is not json");  // [0] is subscribe_result

    server.duplicate_notifications(true);
    server.start_call();
    CHECK(p.ws.wait_count("notify", 2));
    server.duplicate_notifications(false);
    server.start_call();
    CHECK(p.ws.wait_count("notify", 3));
    REQUIRE(p.ws.call("connection_info"));
    CHECK(p.ws.count("notify") == 3);
}

TEST_CASE("stall stops reading; resuming answers what was sent meanwhile", "[mock][fault]") {
    Server server;
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    REQUIRE(c.call("connection_info"));
    server.stall(true);
    auto qid = c.request("connection_info");
    CHECK_FALSE(c.wait_reply("connection_info", qid, 300ms));  // bounded wait for an absence
    CHECK(server.request_count("connection_info") == 1);
    server.stall(false);
    CHECK(c.wait_reply("connection_info", qid, 2000ms));
}

TEST_CASE("destroying the server with live connections and running calls is clean", "[mock][fault]") {
    auto server = std::make_unique<Server>(fast_options());
    Peer p(*server);
    auto call = server->start_call();
    REQUIRE(p.accept(call) == "ok");
    REQUIRE(p.apply(call, Json::object({{"oType", 204}, {"file", "a.wav"}})) == "ok");
    auto dir = server->temp_dir();
    auto t0 = std::chrono::steady_clock::now();
    server.reset();
    CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
    CHECK(p.ws.wait_closed());
    // Handles stay usable.
    CHECK_FALSE(call.ivrid().empty());
    call.send_dtmf("1");
    call.hangup();
}

TEST_CASE("stop() from another thread while clients talk", "[mock][fault]") {
    Server server(fast_options());
    Peer p(server);
    std::atomic<bool> go{true};
    std::thread chatter([&] {
        while (go) p.ws.request("connection_info");
    });
    REQUIRE(server.wait_for_request("connection_info", 2000ms, 10));
    std::thread stopper([&] { server.stop(); });
    stopper.join();
    go = false;
    chatter.join();
    CHECK(p.ws.wait_closed());
    server.stop();  // idempotent
}
