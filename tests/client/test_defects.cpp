// Regression tests for the defects of the first client core (issue 9), each on the
// in-memory transport and the manual clock. The runtime-level ones (threads, real
// sockets) are in tests/integration/test_client_mock.cpp.
#include "client/core_harness.hpp"
#include "client/worker_pool.hpp"

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;
using detail::SessionPhase;

TEST_CASE("defect 2: throwing completions while the link is lost leave the core consistent") {
    CoreHarness h(quick_reconnect());
    std::vector<ConnectionState> states;
    h.core->handlers().on_state = [&](ConnectionState s, const Error&) { states.push_back(s); };
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.core->request("x", Json::object(), [](Result<Json>) { throw std::runtime_error("user bug"); });
    s.terminate([](Result<void>) { throw 42; });  // not a std::exception
    h.loop.run_ready();
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    CHECK(h.status.callback_errors.load() == 2);
    CHECK(h.status.state.load() == ConnectionState::reconnecting);
    CHECK(h.core->phase_of("ivr-1") == SessionPhase::detached);
    // The reconnect still happens and re-claims the session.
    h.loop.advance(10ms);
    CHECK(h.transport.connects == 2);
    h.transport.open();
    h.loop.run_ready();
    CHECK(h.count("ivrapi_reaccept") == 1);
}

TEST_CASE("defect 2: a throwing api_stop handler does not lose the session's end") {
    CoreHarness h;
    h.connect_ready();
    h.core->handlers().on_api_stop = [](const ApiStopEvent&) { throw std::runtime_error("user bug"); };
    Session s = h.claim("ivr-1");
    std::optional<SessionEnd> end;
    s.on_end([&](const SessionEnd& e) { end = e; });
    h.loop.run_ready();
    h.receive(api_stop("ivr-1", "script"));
    REQUIRE(end);
    CHECK(end->reason == StopReason::script);
    CHECK(h.status.callback_errors.load() == 1);
}

TEST_CASE("defect 2: a timer-driven completion that throws a non-std exception is caught") {
    CoreHarness h;
    h.options.request_timeout = 100ms;
    h.connect_ready();
    h.core->request("some_request", Json::object(), [](Result<Json>) { throw 42; });
    h.loop.advance(101ms);  // the timeout completes it from a timer
    CHECK(h.status.callback_errors.load() == 1);
    // The core still works.
    Got<Json> next;
    h.core->request("other", Json::object(), next.cb());
    h.loop.run_ready();
    h.answer("other");
    CHECK(next.value);
}

TEST_CASE("defect 3: an abort in flight when the link drops is sent again after the re-claim") {
    CoreHarness h(quick_reconnect());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<void> aborted;
    s.abort(aborted.cb());
    h.loop.run_ready();
    REQUIRE(h.count("ivrapi_abort") == 1);
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    CHECK_FALSE(aborted.value);  // not failed with connection_lost
    h.loop.advance(10ms);
    h.transport.open();
    h.answer("ivrapi_reaccept");
    REQUIRE(h.count("ivrapi_abort") == 2);
    h.answer("ivrapi_abort");
    REQUIRE(aborted.value);
    CHECK(aborted.value->ok());
    CHECK(s.ended());
}

TEST_CASE("defect 4: a reaccept refused because another controller has it is lost_race") {
    CoreHarness h(quick_reconnect());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    s.apply(Hangup{}, run.cb());
    h.loop.run_ready();
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.advance(10ms);
    h.transport.open();
    h.answer("ivrapi_reaccept", R"("result":"error","reason":"already captured by another connection")");
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::lost_race));
    CHECK(s.ended());
}

TEST_CASE("defect 5: without reconnects a lost link ends everything with connection_lost") {
    ClientOptions o;
    o.reconnect.enabled = false;
    CoreHarness h(o);
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    s.apply(Hangup{}, run.cb());
    h.receive(api_start("ivr-2"));
    Got<Session> accepting;
    h.offers.back().accept(accepting.cb());
    Got<Json> req;
    h.core->request("x", Json::object(), req.cb());
    h.loop.run_ready();
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::connection_lost));
    REQUIRE(accepting.value);
    CHECK(accepting.value->error().is(Errc::connection_lost));
    REQUIRE(req.value);
    CHECK(req.value->error().is(Errc::connection_lost));
    CHECK(s.ended());
    CHECK(h.status.state.load() == ConnectionState::stopped);
    // Sessionless requests made afterwards do not wait for a link that never comes.
    Got<Json> late;
    h.core->request("y", Json::object(), late.cb());
    h.loop.run_ready();
    REQUIRE(late.value);
    CHECK_FALSE(late.value->ok());
}

TEST_CASE("defect 6: the backoff resets only after the link stayed ready for reset_after") {
    ClientOptions o = quick_reconnect();
    o.reconnect.initial_delay = 100ms;
    o.reconnect.reset_after = 5000ms;
    CoreHarness h(o);
    h.connect_ready();
    auto flap = [&] {
        h.transport.drop(Error(Errc::closed_by_peer, "closed at once"));
        h.loop.run_ready();
    };
    auto reconnects_after = [&](std::chrono::milliseconds d) {
        const int before = h.transport.connects;
        h.loop.advance(d);
        return h.transport.connects > before;
    };
    flap();
    CHECK(reconnects_after(100ms));
    h.transport.open();
    h.answer("subscribe");  // ready, but only briefly
    flap();
    CHECK_FALSE(reconnects_after(199ms));  // 200 ms now, not 100 ms
    CHECK(reconnects_after(1ms));
    h.transport.open();
    h.answer("subscribe");
    h.loop.advance(5000ms);  // stayed ready long enough
    flap();
    CHECK(reconnects_after(100ms));
}

TEST_CASE("defect 9: an accept granted after it timed out locally is handed back") {
    CoreHarness h;
    h.options.request_timeout = 1000ms;
    h.connect_ready();
    h.receive(api_start("ivr-1"));
    Got<Session> claimed;
    h.offers.back().accept(claimed.cb());
    h.loop.run_ready();
    const auto qid = h.last("ivrapi_accept").body.find("qid")->as_int();
    h.loop.advance(1001ms);
    REQUIRE(claimed.value);
    CHECK(claimed.value->error().is(Errc::timeout));
    h.reply("ivrapi_accept", qid);  // the late grant
    REQUIRE(h.count("ivrapi_abort") == 1);
    CHECK(h.core->phase_of("ivr-1") == SessionPhase::aborting);
    h.answer("ivrapi_abort");
    CHECK(h.core->phase_of("ivr-1") == SessionPhase::ended);
    CHECK(claimed.calls == 1);
    CHECK(h.status.active_sessions.load() == 0);
}

TEST_CASE("defect 10: on_dtmf set after the end is not kept (no leak of what it captures)") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.receive(api_stop("ivr-1"));
    auto sentinel = std::make_shared<int>(1);
    s.on_dtmf([sentinel](const DtmfEvent&) {});
    h.loop.run_ready();
    CHECK(sentinel.use_count() == 1);
}

TEST_CASE("defect 13: a failed renewal re-subscribes without a second ready") {
    ClientOptions o;
    o.subscription_lifetime = std::chrono::seconds(100);
    CoreHarness h(o);
    int ready = 0;
    h.core->handlers().on_state = [&](ConnectionState s, const Error&) { ready += s == ConnectionState::ready; };
    h.connect_ready();
    CHECK(ready == 1);
    h.loop.advance(80s);
    h.answer("subscribe", R"("result":"error","reason":"no such subscription")");
    h.answer("subscribe");  // created again
    CHECK(h.count("subscribe") == 3);
    CHECK(ready == 1);
}

TEST_CASE("defect 14: an api_start without eventts re-offering a dialog after an abort is a new offer") {
    CoreHarness h;
    h.connect_ready();
    const std::string offer =
        R"(["notify",{"class":"ivrevents","type":"api_start","data":{"ivrid":"ivr-1","key":"k","componentid":14}}])";
    h.receive(offer);
    h.receive(offer);  // a repeat while the offer is open: one offer
    REQUIRE(h.offers.size() == 1);
    Got<Session> claimed;
    h.offers.back().accept(claimed.cb());
    h.loop.run_ready();
    h.answer("ivrapi_accept");
    REQUIRE(claimed.value);
    Session s = **claimed.value;
    s.abort([](Result<void>) {});
    h.loop.run_ready();
    h.answer("ivrapi_abort");
    REQUIRE(s.ended());
    h.receive(offer);  // the script reaches the API component again
    CHECK(h.offers.size() == 2);
}

TEST_CASE("a stopped event naming the session with an oId that is not ours completes the running component") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    s.apply(Hangup{}, run.cb());
    h.loop.run_ready();
    h.receive(R"(["ivrapi_component_stopped",{"ivrid":"ivr-1","key":"k","oId":0,"transferKey":"transfer"}])");
    REQUIRE(run.value);
    REQUIRE(run.value->ok());
    CHECK((*run.value)->transfer_key == "transfer");
}

TEST_CASE("a reaccept unanswered is asked again, and gives up after three tries") {
    CoreHarness h(quick_reconnect());
    h.options.request_timeout = 1000ms;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.advance(10ms);
    h.transport.open();
    h.loop.run_ready();
    h.answer("connection_info");
    h.answer("subscribe");
    h.loop.advance(1001ms);
    CHECK(h.count("ivrapi_reaccept") == 2);
    CHECK_FALSE(s.ended());
    h.answer("ivrapi_reaccept");
    CHECK(h.core->phase_of("ivr-1") == SessionPhase::controlled);
}

TEST_CASE("a user callback that enters the core runs after the state change it reacts to") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    std::optional<bool> ended_seen;
    s.on_end([&](const SessionEnd&) { ended_seen = s.ended(); });
    Got<ComponentStopped> run;
    s.apply(Hangup{}, [&](Result<ComponentStopped> r) {
        // Inside the completion the session already reads as ended.
        ended_seen = s.ended();
        run.cb()(std::move(r));
    });
    h.loop.run_ready();
    h.receive(api_stop("ivr-1"));
    h.loop.advance(h.options.request_timeout);
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::session_ended));
    REQUIRE(ended_seen);
    CHECK(*ended_seen);
}

TEST_CASE("worker pool: jobs still queued when it stops run their dropped handler (claimed sessions are handed back)") {
    auto pool = detail::WorkerPool::create(1);
    std::mutex m;
    std::condition_variable cv;
    bool started = false, release = false;
    pool->submit([&] {
        std::unique_lock<std::mutex> lock(m);
        started = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
    });
    {
        std::unique_lock<std::mutex> lock(m);
        REQUIRE(cv.wait_for(lock, 5s, [&] { return started; }));
    }
    std::atomic<int> ran{0}, dropped{0};
    pool->submit([&] { ++ran; },
                 [&] {
                     std::lock_guard<std::mutex> lock(m);
                     ++dropped;
                     cv.notify_all();
                 });
    std::thread stopper([&] { pool->stop(); });
    {
        std::unique_lock<std::mutex> lock(m);
        CHECK(cv.wait_for(lock, 5s, [&] { return dropped.load() == 1; }));
        release = true;
    }
    cv.notify_all();
    stopper.join();
    CHECK(ran.load() == 0);
    CHECK(dropped.load() == 1);
}

TEST_CASE("a request whose frame the closing link refuses fails at once, once, with not_connected") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.transport.refuse_sends = true;
    Got<ComponentStopped> run;
    s.apply(Hangup{}, run.cb());
    Got<Json> req;
    h.core->request("x", Json::object(), req.cb());
    h.loop.run_ready();
    REQUIRE(run.calls == 1);
    CHECK(run.value->error().is(Errc::not_connected));
    REQUIRE(req.calls == 1);
    CHECK(req.value->error().is(Errc::not_connected));
    CHECK(req.value->error().message.find("not sent") != std::string::npos);
    // Nothing is left pending to fire again at the deadline.
    h.loop.advance(std::chrono::minutes(5));
    CHECK(run.calls == 1);
    CHECK(req.calls == 1);
}
