// Control life cycle: accept race, accept timeout, abort, reaccept, key/ivrid checks,
// detached controller, scripted caller hang-up.
#include "mock/helpers.hpp"

using namespace mocktest;

TEST_CASE("first accept wins, every later one gets an error reply", "[mock][control]") {
    Server server;
    Peer a(server), b(server), c(server);
    auto call = server.start_call();
    REQUIRE(a.offered(call));
    REQUIRE(b.offered(call));
    REQUIRE(c.offered(call));
    // Race: all three send at once; exactly one wins.
    auto qa = a.ws.request("ivrapi_accept", ids(call));
    auto qb = b.ws.request("ivrapi_accept", ids(call));
    auto qc = c.ws.request("ivrapi_accept", ids(call));
    std::vector<std::string> results = {result_of(a.ws.wait_reply("ivrapi_accept", qa)),
                                        result_of(b.ws.wait_reply("ivrapi_accept", qb)),
                                        result_of(c.ws.wait_reply("ivrapi_accept", qc))};
    CHECK(std::count(results.begin(), results.end(), "ok") == 1);
    CHECK(std::count(results.begin(), results.end(), "error") == 2);
    CHECK(call.controlled());
    int winner = static_cast<int>(std::find(results.begin(), results.end(), "ok") - results.begin());
    Peer* peers[] = {&a, &b, &c};
    Peer* loser = peers[(winner + 1) % 3];
    // Only the controller may apply.
    CHECK(loser->apply(call, Json::object({{"oType", 103}, {"timeoutMs", 10}})) == "error");
    CHECK(peers[winner]->apply(call, Json::object({{"oType", 103}, {"timeoutMs", 10}})) == "ok");
    CHECK(transfer_key(peers[winner]->stopped()) == "transfer");
    // The accept of a controlled call stays refused, even from the winner.
    CHECK(peers[winner]->accept(call) == "error");
}

TEST_CASE("no accept within accept_timeout: api_stop reason timeout", "[mock][control]") {
    ServerOptions o;
    o.accept_timeout = 150ms;
    Server server(o);
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.offered(call));
    auto stop = p.api_stop(call);
    REQUIRE(stop);
    CHECK(stop->body.find("data")->find("reason")->as_string() == "timeout");
    CHECK(call.ended());
    CHECK(call.end_reason() == "timeout");
    CHECK(p.accept(call) == "error");  // too late
}

TEST_CASE("an accepted call does not time out", "[mock][control]") {
    ServerOptions o;
    o.accept_timeout = 100ms;
    Server server(o);
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    // A 300 ms pause outlives the accept timeout; the call must still be controlled.
    REQUIRE(p.apply(call, Json::object({{"oType", 103}, {"timeoutMs", 300}})) == "ok");
    REQUIRE(p.stopped());
    CHECK(call.controlled());
    CHECK_FALSE(call.ended());
}

TEST_CASE("abort gives control back: api_stop reason abort", "[mock][control]") {
    Server server;
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    REQUIRE(result_of(p.ws.call("ivrapi_abort", ids(call))) == "ok");
    auto stop = p.api_stop(call);
    REQUIRE(stop);
    CHECK(stop->body.find("data")->find("reason")->as_string() == "abort");
    CHECK(call.end_reason() == "abort");
    // Requests for an ended session are refused.
    CHECK(p.apply(call, Json::object({{"oType", 201}})) == "error");
}

TEST_CASE("requests need the right key and ivrid", "[mock][control]") {
    Server server;
    Peer p(server);
    auto call = server.start_call();
    CHECK(result_of(p.ws.call("ivrapi_accept", Json::object({{"key", "wrong"}, {"ivrid", call.ivrid()}}))) == "error");
    CHECK(result_of(p.ws.call("ivrapi_accept", Json::object({{"key", call.key()}, {"ivrid", "rDlg-none"}}))) ==
          "error");
    CHECK(result_of(p.ws.call("ivrapi_accept", Json::object({{"ivrid", call.ivrid()}}))) == "error");
    CHECK_FALSE(call.controlled());
    CHECK(p.accept(call) == "ok");
    auto r =
        p.ws.call("ivrapi_component_apply",
                  Json::object({{"key", "wrong"}, {"ivrid", call.ivrid()}, {"data", Json::object({{"oType", 201}})}}));
    CHECK(result_of(r) == "error");
    CHECK(r->body.find("reason")->as_string() == "invalid key");
    CHECK(call.components().empty());
}

TEST_CASE("reaccept moves control; events of a detached call arrive after the reaccept", "[mock][control]") {
    ServerOptions o = fast_options();
    Server server(o);
    auto first = std::make_unique<Peer>(server);
    auto call = server.start_call();
    REQUIRE(first->accept(call) == "ok");
    REQUIRE(first->apply(call, Json::object({{"oType", 204}, {"mode", 0}, {"file", "a.wav"}, {"oId", 7}})) == "ok");
    // The controller's link drops while the play runs; the call keeps running.
    server.drop_connections();
    REQUIRE(first->ws.wait_closed());
    CHECK(first->ws.close_code() != 1000);
    REQUIRE(server.wait_for([&](const Server&) { return call.controller() == -1; }, 2000ms));
    REQUIRE(server.wait_for([&](const Server&) { return !call.components().at(0).running; }, 2000ms));
    CHECK(call.controlled());
    CHECK(call.components().at(0).transfer_key == "transfer");

    Peer second(server);
    REQUIRE(result_of(second.ws.call("ivrapi_reaccept", ids(call))) == "ok");
    CHECK(call.controller() >= 0);
    auto stopped = second.stopped();
    REQUIRE(stopped);
    CHECK(stopped->body.find("oId")->as_int() == 7);
    // The reaccept reply comes first, then the queued event.
    auto frames = second.ws.frames();
    auto reply_at =
        std::find_if(frames.begin(), frames.end(), [](const Frame& f) { return f.name == "ivrapi_reaccept_result"; });
    auto event_at =
        std::find_if(frames.begin(), frames.end(), [](const Frame& f) { return f.name == "ivrapi_component_stopped"; });
    CHECK(reply_at < event_at);
    // The new connection controls it now.
    CHECK(second.apply(call, Json::object({{"oType", 201}})) == "ok");
    CHECK(transfer_key(second.stopped()) == "transfer");
    CHECK(second.api_stop(call));
}

TEST_CASE("reaccept from another live connection takes control away", "[mock][control]") {
    Server server;
    Peer a(server), b(server);
    auto call = server.start_call();
    REQUIRE(a.accept(call) == "ok");
    REQUIRE(result_of(b.ws.call("ivrapi_reaccept", ids(call))) == "ok");
    CHECK(a.apply(call, Json::object({{"oType", 103}, {"timeoutMs", 1}})) == "error");
    CHECK(b.apply(call, Json::object({{"oType", 103}, {"timeoutMs", 1}})) == "ok");
}

TEST_CASE("detached_timeout ends a call nobody re-accepts", "[mock][control]") {
    ServerOptions o;
    o.detached_timeout = 100ms;
    Server server(o);
    Peer watcher(server);
    auto ctl = std::make_unique<Peer>(server, false);
    auto call = server.start_call();
    REQUIRE(ctl->accept(call) == "ok");
    ctl.reset();  // closes the controller's connection
    auto stop = watcher.api_stop(call);
    REQUIRE(stop);
    CHECK(stop->body.find("data")->find("reason")->as_string() == "timeout");
}

TEST_CASE("scripted caller hang-up: api_stop reason script", "[mock][control]") {
    Server server;
    Peer p(server);
    CallOptions co;
    co.hangup_after = 100ms;
    auto call = server.start_call(co);
    REQUIRE(p.accept(call) == "ok");
    REQUIRE(p.apply(call, Json::object({{"oType", 204}, {"mode", 0}, {"file", "long.wav"}})) == "ok");
    auto stop = p.api_stop(call);
    REQUIRE(stop);
    CHECK(stop->body.find("data")->find("reason")->as_string() == "script");
    CHECK(call.end_reason() == "script");
    CHECK(call.components().at(0).terminated);
    CHECK(p.ws.count("ivrapi_component_stopped") == 0);  // abandoned, no stopped event by default
}

TEST_CASE("Call::hangup and wait_ended", "[mock][control]") {
    Server server;
    auto call = server.start_call();
    CHECK_FALSE(call.wait_ended(20ms));
    std::thread t([call]() mutable { call.hangup(); });
    CHECK(call.wait_ended(2000ms));
    t.join();
    CHECK(call.end_reason() == "script");
    CHECK(server.find_call(call.ivrid()).has_value());
}
