// "No dead air" (issue 10) on the in-memory transport and the manual clock: what the
// SDK does so that a call never waits in silence because of it.
#include "client/core_harness.hpp"

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;
using detail::SessionPhase;

namespace {

ClientOptions quick() {
    ClientOptions o = quick_reconnect();
    o.request_timeout = 1000ms;
    o.component_probe_timeout = 3000ms;
    return o;
}

// Claims ivr-1, starts a component, drops the link and re-claims: returns the
// component's oId.
long long run_then_reclaim(CoreHarness& h, Session& s, Got<ComponentStopped>& run, bool ack_before_drop) {
    s = h.claim("ivr-1");
    s.apply(Record{}, run.cb());
    h.loop.run_ready();
    const auto oid = h.last_oid();
    if (ack_before_drop) h.answer("ivrapi_component_apply");
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.advance(10ms);
    h.transport.open();
    h.answer("connection_info");
    h.answer("subscribe");
    h.answer("ivrapi_reaccept");
    return oid;
}

// The probe: the last apply, if it is a 0 ms pause with an oId of its own.
std::optional<long long> probe_oid(CoreHarness& h, long long component_oid) {
    auto data = *h.last("ivrapi_component_apply").body.find("data");
    if (data.find("oType")->as_int() != 103) return std::nullopt;
    if (data.find("timeoutMs")->as_int() != 0) return std::nullopt;
    const auto oid = data.find("oId")->as_int();
    if (oid == component_oid) return std::nullopt;
    return oid;
}

}  // namespace

TEST_CASE("dead air: an apply lost before reaching the platform completes with component_lost after the re-claim") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s;
    Got<ComponentStopped> run;
    const auto oid = run_then_reclaim(h, s, run, false);
    auto probe = probe_oid(h, oid);
    REQUIRE(probe);                      // asked at once after the re-claim
    h.answer("ivrapi_component_apply");  // the platform runs the probe: nothing else ran
    CHECK_FALSE(run.value);
    h.stopped(*probe);
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::component_lost));
    CHECK(h.status.components_lost.load() == 1);
    // The session is free for the bot's next step.
    Got<ComponentStopped> next;
    s.apply(Hangup{}, next.cb());
    h.loop.run_ready();
    CHECK_FALSE(next.value);
    CHECK(h.last("ivrapi_component_apply").body.find("data")->find("oType")->as_int() == 201);
}

TEST_CASE("dead air: a stopped event produced during the outage and never redelivered gives component_lost") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s;
    Got<ComponentStopped> run;
    const auto oid = run_then_reclaim(h, s, run, true);
    auto probe = probe_oid(h, oid);
    REQUIRE(probe);
    // A platform that does not answer the probe at all: bounded by component_probe_timeout.
    h.loop.advance(2999ms);
    CHECK_FALSE(run.value);
    h.loop.advance(2ms);
    REQUIRE(run.value);
    CHECK(run.value->error().is(Errc::component_lost));
}

TEST_CASE("dead air: a component still running after the re-claim is left alone (the probe is refused)") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s;
    Got<ComponentStopped> run;
    const auto oid = run_then_reclaim(h, s, run, true);
    REQUIRE(probe_oid(h, oid));
    // One component at a time: the platform refuses the probe, so ours still runs
    // (a 10-minute recording is not touched: no terminate, no second apply of it).
    h.answer("ivrapi_component_apply", R"("result":"error","reason":"a component is already running")");
    h.loop.advance(10000ms);
    CHECK_FALSE(run.value);
    CHECK(h.count("ivrapi_component_terminate") == 0);
    h.stopped(oid, R"("transferKey":"transfer","results":{"nameVar":":TEMP/r.wav"})");
    REQUIRE(run.value);
    REQUIRE(run.value->ok());
    CHECK((*run.value)->result("nameVar") == ":TEMP/r.wav");
}

TEST_CASE("dead air: a stopped event redelivered after the re-claim wins; the next apply waits for the probe") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s;
    Got<ComponentStopped> run;
    const auto oid = run_then_reclaim(h, s, run, true);
    auto probe = probe_oid(h, oid);
    REQUIRE(probe);
    h.stopped(oid, R"("transferKey":"transfer")");  // queued by the platform, delivered now
    REQUIRE(run.value);
    CHECK(run.value->ok());
    // The bot applies its next component while the probe's pause still runs there.
    Got<ComponentStopped> next;
    s.apply(Hangup{}, next.cb());
    h.loop.run_ready();
    CHECK(h.count("ivrapi_component_apply") == 2);  // held
    h.answer("ivrapi_component_apply");             // the probe ran
    h.stopped(*probe);
    CHECK(h.count("ivrapi_component_apply") == 3);  // now sent
    CHECK(h.last("ivrapi_component_apply").body.find("data")->find("oType")->as_int() == 201);
    CHECK(h.status.components_lost.load() == 0);
}

TEST_CASE("dead air: requests made while the session waits for its re-claim are bounded by request_timeout") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.transport.drop(Error(Errc::connection_lost, "reset"));
    h.loop.run_ready();
    Got<FileLink> link;
    s.file_get_path(":TEMP/a.wav", link.cb());
    h.loop.run_ready();
    CHECK_FALSE(link.value);
    h.loop.advance(1001ms);  // reconnect attempts fail meanwhile
    REQUIRE(link.value);
    CHECK(link.value->error().is(Errc::not_connected));
}

TEST_CASE("dead air: Session::end() is set before pending operations fail, and the error names the reason") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    std::optional<SessionEnd> end_seen;
    Got<FileLink> link;
    s.file_get_path(":TEMP/a.wav", [&](Result<FileLink> r) {
        end_seen = s.end();
        link.cb()(std::move(r));
    });
    h.loop.run_ready();
    CHECK_FALSE(s.end());
    h.receive(api_stop("ivr-1", "script"));
    REQUIRE(link.value);
    CHECK(link.value->error().is(Errc::session_ended));
    CHECK_THAT(link.value->error().message, Catch::Matchers::Contains("script"));
    REQUIRE(end_seen);
    CHECK(end_seen->reason == StopReason::script);
}

TEST_CASE("dead air: a stopped event that arrives after api_stop completes the apply with its results") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> rec;
    s.apply(Record{}, rec.cb());
    h.loop.run_ready();
    const auto oid = h.last_oid();
    h.receive(api_stop("ivr-1", "script"));  // the caller hung up mid-recording
    CHECK(s.ended());
    CHECK_FALSE(rec.value);
    h.receive(R"(["ivrapi_component_stopped",{"ivrid":"ivr-1","oId":)" + std::to_string(oid) +
              R"(,"transferKey":"transfer","results":{"nameVar":":TEMP/r.wav"}}])");
    REQUIRE(rec.value);
    REQUIRE(rec.value->ok());
    CHECK((*rec.value)->result("nameVar") == ":TEMP/r.wav");
}

TEST_CASE("dead air: without a late stopped event the apply fails with session_ended shortly after api_stop") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    Got<ComponentStopped> rec;
    s.apply(Record{}, rec.cb());
    h.loop.run_ready();
    h.receive(api_stop("ivr-1", "script"));
    CHECK_FALSE(rec.value);
    h.loop.advance(1000ms);
    REQUIRE(rec.value);
    CHECK(rec.value->error().is(Errc::session_ended));
}

TEST_CASE("dead air: a link may still be asked for after the end (the platform answers, not the SDK)") {
    CoreHarness h(quick());
    h.connect_ready();
    Session s = h.claim("ivr-1");
    h.receive(api_stop("ivr-1", "script"));
    Got<FileLink> link;
    s.file_get_path(":TEMP/r.wav", link.cb());
    h.loop.run_ready();
    REQUIRE(h.count("ivrapi_file_get_path") == 1);
    h.answer("ivrapi_file_get_path", R"("result":"/temp/r.wav")");
    REQUIRE(link.value);
    REQUIRE(link.value->ok());
    CHECK((*link.value)->url == "https://era.test:8443/temp/r.wav");
}

TEST_CASE("dead air: stop() hands back every controlled session, bounded by hand_back_timeout") {
    ClientOptions o = quick();
    o.hand_back_timeout = 2000ms;
    CoreHarness h(o);
    h.connect_ready();
    Session a = h.claim("ivr-1");
    Session b = h.claim("ivr-2");
    bool done = false;
    h.core->stop([&] { done = true; });
    CHECK(h.count("ivrapi_abort") == 2);
    h.answer("ivrapi_abort");  // one answers, the other never does
    h.loop.run_ready();
    CHECK_FALSE(done);
    h.loop.advance(2000ms);
    CHECK(done);
    CHECK(a.ended());
    CHECK(b.ended());
    CHECK(h.status.state.load() == ConnectionState::stopped);
}

TEST_CASE("dead air: while draining no offer is delivered and no accept is sent") {
    CoreHarness h(quick());
    h.connect_ready();
    h.receive(api_start("ivr-1"));
    REQUIRE(h.offers.size() == 1);
    h.core->stop_claiming();
    Got<Session> late;
    h.offers.back().accept(late.cb());
    h.loop.run_ready();
    REQUIRE(late.value);
    CHECK(late.value->error().is(Errc::cancelled));
    h.receive(api_start("ivr-2"));
    CHECK(h.offers.size() == 1);
    CHECK(h.count("ivrapi_accept") == 0);
}

TEST_CASE("dead air: after max_auth_failures refused logins the client stops retrying") {
    ClientOptions o = quick();
    o.max_auth_failures = 3;
    CoreHarness h(o);
    h.core->start();
    h.loop.run_ready();
    Error refused(Errc::handshake_failed, "WebSocket upgrade refused: HTTP 401");
    refused.http_status = 401;
    for (int i = 0; i < 3; ++i) {
        h.transport.drop(refused);
        h.loop.advance(10s);
    }
    CHECK(h.transport.connects == 3);
    CHECK(h.status.state.load() == ConnectionState::stopped);
    bool said = false;
    for (const auto& l : h.logs) said = said || l.find("not retrying") != std::string::npos;
    CHECK(said);
}
