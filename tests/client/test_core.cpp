// The client core on an in-memory transport with a manual clock.
#include "client/core_harness.hpp"

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;

TEST_CASE("connect sends connection_info and subscribe, then reports ready") {
    CoreHarness h;
    std::vector<ConnectionState> states;
    h.core->handlers().on_state = [&](ConnectionState s, const Error&) { states.push_back(s); };
    h.connect_ready();
    auto sub = h.last("subscribe").body;
    CHECK(sub.find("objects")->as_string() == "any");
    CHECK(sub.find("events")->dump() == R"(["ivrevents.api_start","ivrevents.api_stop"])");
    CHECK(sub.find("expires")->as_int() == 3600);
    CHECK(sub.find("id")->as_string().rfind("ivrapi-cpp-", 0) == 0);
    CHECK(states == std::vector<ConnectionState>{ConnectionState::connecting, ConnectionState::connected,
                                                 ConnectionState::ready});
    std::lock_guard<std::mutex> lock(h.status.mutex);
    CHECK(h.status.info.has_capability("subscr"));
}

TEST_CASE("a token without ivrapi capability is reported clearly") {
    CoreHarness h;
    h.core->start();
    h.loop.run_ready();
    h.transport.open();
    h.answer("connection_info", R"("result":"ok","capabilities":["rest"])");
    bool warned = false;
    for (const auto& l : h.logs) warned = warned || l.find("lack 'ivrapi'") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("replies are matched by qid, out of order - duplicates and unknown qids are dropped") {
    CoreHarness h;
    h.connect_ready();
    Session a = h.claim("ivr-a");
    Session b = h.claim("ivr-b");
    Got<FileLink> la, lb;
    a.file_get_path(":TEMP/a.wav", la.cb());
    b.file_get_path(":TEMP/b.wav", lb.cb());
    h.loop.run_ready();
    std::vector<long long> qids;
    for (const auto& s : h.transport.sent) {
        auto f = parse_frame(s);
        if (f.name == "ivrapi_file_get_path") qids.push_back(f.body.find("qid")->as_int());
    }
    REQUIRE(qids.size() == 2);
    // b's reply first, with its qid echoed as a string; a's as a float.
    h.transport.receive(R"(["ivrapi_file_get_path_result",{"qid":")" + std::to_string(qids[1]) +
                        R"(","result":"/temp/b.wav"}])");
    h.transport.receive(R"(["ivrapi_file_get_path_result",{"qid":)" + std::to_string(qids[0]) +
                        R"(.0,"result":"/temp/a.wav"}])");
    h.loop.run_ready();
    REQUIRE(la.value);
    REQUIRE(lb.value);
    CHECK((*la.value)->url == "https://era.test:8443/temp/a.wav");
    CHECK((*la.value)->path == "/temp/a.wav");
    CHECK((*lb.value)->url == "https://era.test:8443/temp/b.wav");

    const auto dropped = h.status.dropped.load();
    h.reply("ivrapi_file_get_path", qids[0], R"("result":"/temp/again.wav")");  // duplicate
    h.reply("ivrapi_file_get_path", 999999);                                    // never sent
    h.receive(R"(["ivrapi_abort_result",{"qid":0.5,"result":"ok"}])");          // not our kind of qid
    CHECK(la.calls == 1);
    CHECK(h.status.dropped.load() == dropped + 3);
}

TEST_CASE("a request without reply times out on the manual clock") {
    CoreHarness h;
    h.options.request_timeout = 2000ms;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<std::string> up;
    s.upload_temp("http://media/x.wav", up.cb());
    h.loop.advance(1999ms);
    CHECK_FALSE(up.value);
    h.loop.advance(1ms);
    REQUIRE(up.value);
    CHECK(up.value->error().is(Errc::timeout));
    CHECK(h.status.request_timeouts.load() == 1);
    // The late reply is dropped, not delivered twice.
    h.answer("ivrapi_file_upload_temp", R"("result":":TEMP/x.wav")");
    CHECK(up.calls == 1);
}

TEST_CASE("request deadlines share one timer: each request times out at its own deadline, answered ones never") {
    CoreHarness h;
    h.options.request_timeout = 2000ms;
    h.connect_ready();
    Session a = h.claim("ivr-a");
    Session b = h.claim("ivr-b");
    Session c = h.claim("ivr-c");
    Got<std::string> first, second, third;
    a.upload_temp("http://media/a.wav", first.cb());
    h.loop.advance(500ms);
    b.upload_temp("http://media/b.wav", second.cb());
    h.loop.advance(500ms);
    c.upload_temp("http://media/c.wav", third.cb());
    // t = 1000. The first (earliest deadline, 2000) is answered: its deadline passes
    // without effect.
    const auto qid_a = [&]() -> long long {
        for (const auto& f : h.transport.sent) {
            auto p = parse_frame(f);
            if (p.name == "ivrapi_file_upload_temp" && p.body.find("ivrid")->as_string() == "ivr-a")
                return p.body.find("qid")->as_int();
        }
        return 0LL;
    }();
    h.reply("ivrapi_file_upload_temp", qid_a, R"("result":":TEMP/a.wav")");
    REQUIRE(first.value);
    CHECK(first.value->ok());
    h.loop.advance(1000ms);  // t = 2000: a's deadline passes quietly
    CHECK_FALSE(second.value);
    h.loop.advance(499ms);
    CHECK_FALSE(second.value);
    h.loop.advance(1ms);  // t = 2500: b times out
    REQUIRE(second.value);
    CHECK(second.value->error().is(Errc::timeout));
    CHECK_FALSE(third.value);
    h.loop.advance(499ms);
    CHECK_FALSE(third.value);
    h.loop.advance(1ms);  // t = 3000: c times out
    REQUIRE(third.value);
    CHECK(third.value->error().is(Errc::timeout));
    CHECK(h.status.request_timeouts.load() == 2);
    CHECK(first.calls == 1);
}

TEST_CASE("one component at a time: a second apply fails locally and sends nothing") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> first, second;
    s.apply(Play{":GS_PUB/a.wav"}, first.cb());
    h.loop.run_ready();
    const auto applies = h.count("ivrapi_component_apply");
    s.apply(Hangup{}, second.cb());
    h.loop.run_ready();
    REQUIRE(second.value);
    CHECK(second.value->error().is(Errc::component_busy));
    CHECK(h.count("ivrapi_component_apply") == applies);
    CHECK_FALSE(first.value);
}

TEST_CASE("apply completes on the stopped event, not on the ack, in either order") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");

    SECTION("ack first") {
        Got<ComponentStopped> run;
        s.apply(Play{":GS_PUB/a.wav"}, run.cb());
        h.loop.run_ready();
        auto apply = h.last("ivrapi_component_apply").body;
        const auto oid = apply.find("data")->find("oId")->as_int();
        h.answer("ivrapi_component_apply");
        CHECK_FALSE(run.value);
        h.stopped(oid, R"("transferKey":"transfer","results":{"x":"1"})");
        REQUIRE(run.value);
        REQUIRE(run.value->ok());
        CHECK((*run.value)->transfer_key == "transfer");
        CHECK((*run.value)->result("x") == "1");
    }
    SECTION("stopped first, ack later is absorbed") {
        Got<ComponentStopped> run;
        s.apply(Record{}, run.cb());
        h.loop.run_ready();
        auto apply = h.last("ivrapi_component_apply").body;
        const auto oid = apply.find("data")->find("oId")->as_int();
        const auto qid = apply.find("qid")->as_int();
        h.stopped(oid);
        REQUIRE(run.value);
        CHECK(run.value->ok());
        const auto dropped = h.status.dropped.load();
        h.reply("ivrapi_component_apply", qid);
        CHECK(run.calls == 1);
        CHECK(h.status.dropped.load() == dropped + 1);
        // The session is free again.
        Got<ComponentStopped> next;
        s.apply(Hangup{}, next.cb());
        h.loop.run_ready();
        CHECK_FALSE(next.value);
    }
    SECTION("an error ack fails the apply and frees the session") {
        Got<ComponentStopped> run;
        s.apply(Play{}, run.cb());
        h.loop.run_ready();
        h.answer("ivrapi_component_apply", R"("result":"error","reason":"unknown file")");
        REQUIRE(run.value);
        CHECK(run.value->error().is(Errc::server_error));
        CHECK_THAT(run.value->error().message, Catch::Matchers::Contains("unknown file"));
        CHECK_FALSE(run.value->error().raw_reply.empty());
    }
    SECTION("the ordinary request timeout does not fail a long component") {
        h.options.request_timeout = 1000ms;
        Got<ComponentStopped> run;
        s.apply(Record{}, run.cb());
        h.loop.advance(60s);
        CHECK_FALSE(run.value);
        h.loop.advance(h.options.component_timeout);
        REQUIRE(run.value);
        CHECK(run.value->error().is(Errc::timeout));
    }
}

TEST_CASE("api_stop mid-component ends every pending operation - later messages are dropped") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    Got<FileLink> link;
    std::optional<SessionEnd> ended;
    s.on_end([&](const SessionEnd& e) { ended = e; });
    s.apply(Play{":GS_PUB/a.wav"}, run.cb());
    s.file_get_path(":TEMP/x", link.cb());
    h.loop.run_ready();
    const auto oid = h.last_oid();
    h.receive(api_stop("ivr-1", "script"));
    REQUIRE(link.value);
    CHECK_FALSE(run.value);  // its stopped event may still come (results of a cut recording)
    h.loop.advance(h.options.request_timeout);
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::session_ended));
    CHECK(link.value->error().is(Errc::session_ended));
    REQUIRE(ended);
    CHECK(ended->reason == StopReason::script);
    REQUIRE(ended->event);
    CHECK(ended->event->ivrid == "ivr-1");
    CHECK(s.ended());
    CHECK(h.status.active_sessions.load() == 0);

    const auto dropped = h.status.dropped.load();
    h.stopped(oid);
    h.receive(R"(["ivrapi_dtmf",{"ivrid":"ivr-1","key":"k","mode":"idle","dtmf":"5"}])");
    CHECK(h.status.dropped.load() == dropped + 2);
    CHECK(run.calls == 1);

    Got<ComponentStopped> after;
    const auto sent = h.transport.sent.size();
    s.apply(Hangup{}, after.cb());
    h.loop.run_ready();
    REQUIRE(after.value);
    CHECK(after.value->error().is(Errc::session_ended));
    CHECK(h.transport.sent.size() == sent);
}

TEST_CASE("stopped and DTMF events without ivrid are routed by the oId the SDK set") {
    CoreHarness h;
    h.connect_ready();
    Session a = h.claim("ivr-a");
    Session b = h.claim("ivr-b");
    Got<ComponentStopped> ra, rb;
    a.apply(Play{"a.wav"}, ra.cb());
    h.loop.run_ready();
    const auto oid_a = h.last_oid();
    b.apply(Play{"b.wav"}, rb.cb());
    h.loop.run_ready();
    const auto oid_b = h.last_oid();
    REQUIRE(oid_a != oid_b);

    std::vector<std::string> dtmf_b;
    b.on_dtmf([&](const DtmfEvent& e) { dtmf_b.push_back(e.dtmf); });
    h.loop.run_ready();
    h.receive(R"(["ivrapi_dtmf",{"mode":"component","oId":)" + std::to_string(oid_b) + R"(,"dtmf":"7"}])");
    CHECK(dtmf_b == std::vector<std::string>{"7"});

    h.stopped(oid_b);
    CHECK(rb.value);
    CHECK_FALSE(ra.value);
    h.stopped(oid_a, R"("transferKey":"transferTimeout","ivrid":"ivr-a","key":"k")");
    REQUIRE(ra.value);
    CHECK((*ra.value)->transfer_key == "transferTimeout");
}

TEST_CASE("DTMF before on_dtmf is buffered and delivered in order") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.receive(R"(["ivrapi_dtmf",{"ivrid":"ivr-1","key":"k","mode":"idle","dtmf":"1"}])");
    h.receive(R"(["ivrapi_dtmf",{"ivrid":"ivr-1","key":"k","mode":"idle","dtmf":"2"}])");
    std::string got;
    s.on_dtmf([&](const DtmfEvent& e) { got += e.dtmf; });
    h.loop.run_ready();
    CHECK(got == "12");
}

TEST_CASE("DTMF and notify read while a callback runs are delivered after it, in order, intact") {
    // A transport that delivers a frame synchronously (or a frame read while user code
    // runs) must not run a callback inside another: the event is queued, and the queued
    // closure owns it (the frame it was read from is gone by then).
    // Strings longer than std::string keeps inline: a closure left with views or
    // references into the dead frame would read freed memory (ASan) or garbage.
    const std::string ivrid = "ivr-0123456789-abcdefghij";
    const std::string key = "key-0123456789-abcdefghij";
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim(ivrid);
    std::string got;
    h.core->handlers().on_notify = [&](const NotifyEvent& e) {
        got += "[" + e.type + ":" + std::to_string(e.eventts.value_or(0)) + "]";
    };
    const auto dtmf = [&](const std::string& digit) {
        return R"(["ivrapi_dtmf",{"ivrid":")" + ivrid + R"(","key":")" + key + R"(","mode":"idle","dtmf":")" + digit +
               R"("}])";
    };
    s.on_dtmf([&](const DtmfEvent& e) {
        CHECK(e.ivrid == ivrid);
        CHECK(e.key == key);
        got += e.dtmf;
        if (e.dtmf == "1") {
            h.receive(dtmf("2"));
            h.receive(R"(["notify",{"class":"callevents","type":"sm_start_of_a_long_name","eventts":7,"data":{}}])");
            h.receive(dtmf("3"));
            got += "|";  // none of them ran inside this callback
        }
    });
    h.loop.run_ready();
    h.receive(dtmf("1"));
    CHECK(got == "1|2[sm_start_of_a_long_name:7]3");
}

TEST_CASE("Future::get on the loop thread returns would_deadlock instead of hanging") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Future<FileLink> f = s.file_get_path(":TEMP/x");
    std::optional<Result<FileLink>> inside;
    h.loop.post([&] { inside.emplace(f.get()); });
    h.loop.run_ready();
    REQUIRE(inside);
    CHECK(inside->error().is(Errc::would_deadlock));
    // Once the result is there, get() on the loop thread returns it.
    h.answer("ivrapi_file_get_path", R"("result":"/temp/x")");
    std::optional<Result<FileLink>> later;
    h.loop.post([&] { later.emplace(f.get()); });
    h.loop.run_ready();
    REQUIRE(later);
    CHECK(later->ok());
}

TEST_CASE("duplicate notifications are dropped (one offer per api_start)") {
    CoreHarness h;
    h.connect_ready();
    h.receive(api_start("ivr-1"));
    h.receive(api_start("ivr-1"));
    h.receive(api_start("ivr-2"));
    CHECK(h.offers.size() == 2);
    CHECK(h.status.duplicates.load() == 1);
    h.receive(api_stop("ivr-1"));
    h.receive(api_stop("ivr-1"));
    CHECK(h.status.duplicates.load() == 2);
}

TEST_CASE("the subscription is renewed at 80 % of its lifetime with the same id") {
    ClientOptions o;
    o.subscription_lifetime = std::chrono::seconds(300);
    CoreHarness h(o);
    h.connect_ready();
    const std::string id = h.last("subscribe").body.find("id")->as_string();
    CHECK(h.count("subscribe") == 1);
    h.loop.advance(239s);
    CHECK(h.count("subscribe") == 1);
    h.loop.advance(1s);
    REQUIRE(h.count("subscribe") == 2);
    auto renew = h.last("subscribe").body;
    CHECK(renew.find("id")->as_string() == id);
    CHECK(renew.find("expires")->as_int() == 300);
    CHECK_FALSE(renew.contains("events"));
    h.answer("subscribe");
    h.loop.advance(240s);
    CHECK(h.count("subscribe") == 3);
    // A failed renewal subscribes again in full.
    h.answer("subscribe", R"("result":"error","reason":"no such subscription")");
    CHECK(h.count("subscribe") == 4);
    CHECK(h.last("subscribe").body.contains("events"));
}

TEST_CASE("accept: winner gets a session - losing the race or a timeout gives an Error") {
    CoreHarness h;
    h.options.request_timeout = 5000ms;
    h.connect_ready();
    h.receive(api_start("ivr-1"));
    h.receive(api_start("ivr-2"));
    REQUIRE(h.offers.size() == 2);
    Got<Session> lost, slow;
    h.offers[0].accept(lost.cb());
    h.loop.run_ready();
    h.answer("ivrapi_accept", R"("result":"error","reason":"already accepted")");
    REQUIRE(lost.value);
    CHECK(lost.value->error().is(Errc::lost_race));
    h.offers[1].accept(slow.cb());
    h.loop.advance(5000ms);
    REQUIRE(slow.value);
    CHECK(slow.value->error().is(Errc::timeout));
    CHECK(h.status.active_sessions.load() == 0);
    // api_stop before the accept reply: session_ended.
    h.receive(api_start("ivr-3"));
    Got<Session> late;
    h.offers.back().accept(late.cb());
    h.loop.run_ready();
    h.receive(api_stop("ivr-3", "timeout"));
    REQUIRE(late.value);
    CHECK(late.value->error().is(Errc::session_ended));
}

TEST_CASE("reconnect: requests wait for the re-claim, the running component stays, the session is re-claimed") {
    ClientOptions o;
    o.reconnect.initial_delay = 100ms;
    o.reconnect.jitter = 0;
    CoreHarness h(o);
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    Got<std::string> upload;
    s.apply(Record{}, run.cb());
    s.upload_temp("http://x/y.wav", upload.cb());
    h.loop.run_ready();
    const auto oid = h.last_oid();

    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    CHECK_FALSE(upload.value);  // safe to repeat: it waits for the re-claim
    CHECK_FALSE(run.value);
    CHECK(h.status.state.load() == ConnectionState::reconnecting);
    // While detached, new requests wait for the re-claim too.
    Got<void> term;
    s.terminate(term.cb());
    h.loop.run_ready();
    CHECK_FALSE(term.value);
    CHECK(h.count("ivrapi_component_terminate") == 0);

    h.loop.advance(100ms);
    CHECK(h.transport.connects == 2);
    h.transport.open();
    h.answer("connection_info");
    h.answer("subscribe");
    auto reaccept = h.last("ivrapi_reaccept").body;
    CHECK(reaccept.find("ivrid")->as_string() == "ivr-1");
    CHECK(reaccept.find("key")->as_string() == "k");
    h.answer("ivrapi_reaccept");
    CHECK(h.count("ivrapi_file_upload_temp") == 2);  // sent again
    CHECK(h.count("ivrapi_component_terminate") == 1);
    h.answer("ivrapi_file_upload_temp", R"("result":":TEMP/y.wav")");
    REQUIRE(upload.value);
    CHECK(**upload.value == ":TEMP/y.wav");
    h.stopped(oid, R"("transferKey":"transfer","results":{"nameVar":":TEMP/r.wav"})");
    REQUIRE(run.value);
    CHECK((*run.value)->result("nameVar") == ":TEMP/r.wav");
    CHECK(run.calls == 1);
    CHECK(h.status.reconnects.load() == 1);
}

TEST_CASE("reconnect backoff grows exponentially and is capped") {
    ClientOptions o;
    o.reconnect.initial_delay = 100ms;
    o.reconnect.max_delay = 400ms;
    o.reconnect.jitter = 0;
    CoreHarness h(o);
    h.core->start();
    h.loop.run_ready();
    const std::chrono::milliseconds expected[] = {100ms, 200ms, 400ms, 400ms};
    int connects = 1;
    for (auto delay : expected) {
        h.transport.drop(Error(Errc::connection_lost, "refused"));
        h.loop.advance(delay - 1ms);
        CHECK(h.transport.connects == connects);
        h.loop.advance(1ms);
        CHECK(h.transport.connects == ++connects);
    }
}

TEST_CASE("a failed reaccept ends the session and its running component") {
    ClientOptions o;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.jitter = 0;
    CoreHarness h(o);
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    s.apply(Play{"x"}, run.cb());
    h.loop.run_ready();
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.advance(10ms);
    h.transport.open();
    h.answer("ivrapi_reaccept", R"("result":"error","reason":"session is gone")");
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::session_ended));
    CHECK(s.ended());
}

TEST_CASE("terminate completes on its reply - a missing stopped event cannot block the session forever") {
    CoreHarness h;
    h.options.request_timeout = 1000ms;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    Got<void> term;
    s.apply(Play{"long.wav"}, run.cb());
    s.terminate(term.cb());
    h.loop.run_ready();
    h.answer("ivrapi_component_terminate");
    REQUIRE(term.value);
    CHECK(term.value->ok());
    CHECK_FALSE(run.value);
    h.loop.advance(1000ms);
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::cancelled));
}

TEST_CASE("abort hands control back and ends the session") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<void> ab;
    std::optional<SessionEnd> end;
    s.on_end([&](const SessionEnd& e) { end = e; });
    s.abort(ab.cb());
    h.loop.run_ready();
    h.answer("ivrapi_abort");
    REQUIRE(ab.value);
    CHECK(ab.value->ok());
    REQUIRE(end);
    CHECK(end->reason == StopReason::abort);
    // The platform's api_stop(abort) that follows is harmless.
    h.receive(api_stop("ivr-1", "abort"));
    CHECK(s.ended());
}

TEST_CASE("invalid components and unknown messages") {
    CoreHarness h;
    std::vector<std::string> unknown;
    h.core->handlers().on_unknown = [&](const GenericMessage& m) { unknown.push_back(m.name); };
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> bad;
    const auto sent = h.transport.sent.size();
    s.apply(RawComponent{0, "{\"mode\":1}"}, bad.cb());
    h.loop.run_ready();
    REQUIRE(bad.value);
    CHECK(bad.value->error().is(Errc::invalid_argument));
    CHECK(h.transport.sent.size() == sent);
    h.receive(R"(["script_says",{"hello":1}])");
    h.receive("garbage");
    CHECK(unknown == std::vector<std::string>{"script_says"});
    CHECK(h.status.protocol_errors.load() == 1);
}

TEST_CASE("sessionless upload_static and raw requests") {
    CoreHarness h;
    h.connect_ready();
    Got<std::string> up;
    h.link->post([&](detail::ClientCore& c) { c.upload_static("http://x/a.wav", ":GS_PUB/a", up.cb()); });
    h.loop.run_ready();
    auto f = h.last("file_upload_static").body;
    CHECK(f.find("url")->as_string() == "http://x/a.wav");
    CHECK(f.find("destpath")->as_string() == ":GS_PUB/a");
    CHECK_FALSE(f.contains("key"));
    h.answer("file_upload_static", R"("result":":GS_PUB/a/a.wav")");
    REQUIRE(up.value);
    CHECK(**up.value == ":GS_PUB/a/a.wav");

    Got<Json> raw;
    h.link->post([&](detail::ClientCore& c) {
        c.request("start_svcscript", Json::object({{"code", "s1"}, {"timeout", 5000}}), raw.cb());
    });
    h.loop.run_ready();
    CHECK(h.last("start_svcscript").body.find("code")->as_string() == "s1");
    h.answer("start_svcscript", R"("result":"ok","data":{"variables":{"x":1}})");
    REQUIRE(raw.value);
    CHECK((*raw.value)->find("data")->find("variables")->find("x")->as_int() == 1);
}

TEST_CASE("stop fails everything pending with stopped and ends sessions") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    s.apply(Play{"x"}, run.cb());
    h.loop.run_ready();
    bool done = false;
    h.core->stop([&] { done = true; });
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::stopped));
    // The session is handed back to its script before the link closes.
    REQUIRE(h.count("ivrapi_abort") == 1);
    CHECK_FALSE(done);
    h.answer("ivrapi_abort");
    h.loop.run_ready();
    CHECK(s.ended());
    CHECK(done);
    CHECK(h.status.handed_back.load() == 1);
    CHECK(h.status.state.load() == ConnectionState::stopped);
}

TEST_CASE("sessionless requests made while connecting are sent once the link is up, or time out") {
    CoreHarness h;
    h.options.request_timeout = 3000ms;
    h.core->start();
    h.loop.run_ready();
    Got<Json> early, late;
    // The name and body are the caller's temporaries: the held request keeps its own copy.
    h.link->post([&](detail::ClientCore& c) {
        c.request(std::string("connection_info"), Json::object({{"probe", "held-body"}}), early.cb());
    });
    h.loop.advance(1000ms);
    CHECK(h.transport.sent.empty());
    h.transport.open();
    h.loop.run_ready();
    CHECK(h.count("connection_info") == 2);  // the core's own and ours
    CHECK(h.transport.sent.back().find(R"("probe":"held-body")") != std::string::npos);
    h.answer("connection_info");  // answers ours (the last one)
    REQUIRE(early.value);
    CHECK(early.value->ok());

    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    h.link->post([&](detail::ClientCore& c) { c.request("start_svcscript", Json::object(), late.cb()); });
    h.loop.advance(3000ms);
    REQUIRE(late.value);
    CHECK(late.value->error().is(Errc::timeout));
}

TEST_CASE("a stopped event with neither ivrid nor oId completes the only running component") {
    CoreHarness h;
    h.connect_ready();
    Session a = h.claim("ivr-a");
    Got<ComponentStopped> run;
    a.apply(Play{"a.wav"}, run.cb());
    h.loop.run_ready();
    h.receive(R"(["ivrapi_component_stopped",{"transferKey":"transfer"}])");
    REQUIRE(run.value);
    CHECK(run.value->ok());
    // With two running, it is ambiguous: dropped and counted.
    Session b = h.claim("ivr-b");
    Got<ComponentStopped> ra, rb;
    a.apply(Play{"a.wav"}, ra.cb());
    b.apply(Play{"b.wav"}, rb.cb());
    h.loop.run_ready();
    const auto dropped = h.status.dropped.load();
    h.receive(R"(["ivrapi_component_stopped",{"transferKey":"transfer"}])");
    CHECK_FALSE(ra.value);
    CHECK_FALSE(rb.value);
    CHECK(h.status.dropped.load() == dropped + 1);
}

TEST_CASE("a dialog offered again after its control ended can be claimed again") {
    CoreHarness h;
    h.connect_ready();
    Session first = h.claim("ivr-1");
    h.receive(api_stop("ivr-1", "abort", 2000));
    REQUIRE(first.ended());
    // The script reaches an API component again: a new api_start for the same ivrid.
    h.receive(api_start("ivr-1", "k", 3000));
    REQUIRE(h.offers.size() == 2);
    Got<Session> again;
    h.offers.back().accept(again.cb());
    h.loop.run_ready();
    h.answer("ivrapi_accept");
    REQUIRE(again.value);
    CHECK(again.value->ok());
}

TEST_CASE("on_end set after the end still gets the real reason") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.receive(api_stop("ivr-1", "timeout"));
    std::optional<SessionEnd> end;
    s.on_end([&](const SessionEnd& e) { end = e; });
    h.loop.run_ready();
    REQUIRE(end);
    CHECK(end->reason == StopReason::timeout);
    REQUIRE(end->event);
}

TEST_CASE("an apply reply whose result is not \"ok\" text is an ack unless it says error") {
    CoreHarness h;
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> run;
    s.apply(Record{}, run.cb());
    h.loop.run_ready();
    h.answer("ivrapi_component_apply", R"("result":{"nameVar":":TEMP/r.wav"})");
    CHECK_FALSE(run.value);  // still running: the stopped event completes it
    const auto oid = h.last_oid();
    h.stopped(oid);
    REQUIRE(run.value);
    CHECK(run.value->ok());
}

TEST_CASE("an accept in flight when the link drops is repeated as an accept on reconnect") {
    ClientOptions o;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.jitter = 0;
    CoreHarness h(o);
    h.connect_ready();
    h.receive(api_start("ivr-1"));
    Got<Session> claimed;
    h.offers.back().accept(claimed.cb());
    h.loop.run_ready();
    REQUIRE(h.count("ivrapi_accept") == 1);
    h.transport.drop(Error(Errc::connection_lost, "reset"));  // the platform may have granted it
    h.loop.advance(10ms);
    CHECK_FALSE(claimed.value);
    h.transport.open();
    // Not a reaccept: that could take a session another controller won meanwhile.
    CHECK(h.count("ivrapi_reaccept") == 0);
    REQUIRE(h.count("ivrapi_accept") == 2);
    CHECK(h.last("ivrapi_accept").body.find("ivrid")->as_string() == "ivr-1");
    h.answer("ivrapi_accept");
    REQUIRE(claimed.value);
    REQUIRE(claimed.value->ok());
    CHECK(h.status.active_sessions.load() == 1);
}

TEST_CASE("abort while the link is down is sent once the session is re-claimed") {
    ClientOptions o;
    o.reconnect.initial_delay = 10ms;
    o.reconnect.jitter = 0;
    CoreHarness h(o);
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    Got<void> aborted;
    s.abort(aborted.cb());
    h.loop.advance(10ms);
    CHECK_FALSE(aborted.value);
    CHECK(h.count("ivrapi_abort") == 0);
    h.transport.open();
    h.answer("ivrapi_reaccept");
    REQUIRE(h.count("ivrapi_abort") == 1);
    h.answer("ivrapi_abort");
    REQUIRE(aborted.value);
    CHECK(aborted.value->ok());
    CHECK(s.ended());
    CHECK(h.status.active_sessions.load() == 0);
}
