// ClientCore::take_over (Client::take_over): control of a session another connection
// holds, by ivrapi_reaccept, through the session machine's reclaiming state.
#include "client/core_harness.hpp"

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;

namespace {
std::shared_ptr<const ApiStartEvent> identity(const std::string& ivrid, const std::string& key) {
    auto e = std::make_shared<ApiStartEvent>();
    e->ivrid = ivrid;
    e->key = key;
    return e;
}
}  // namespace

TEST_CASE("take_over sends ivrapi_reaccept with the ivrid and key, and yields a controlled session") {
    CoreHarness h;
    h.connect_ready();
    Got<Session> got;
    h.core->take_over(identity("ivr-9", "key-9"), got.cb());
    h.loop.run_ready();
    CHECK(h.core->phase_of("ivr-9") == detail::SessionPhase::reclaiming);
    CHECK(h.count("ivrapi_accept") == 0);
    auto body = h.last("ivrapi_reaccept").body;
    CHECK(body.find("ivrid")->as_string() == "ivr-9");
    CHECK(body.find("key")->as_string() == "key-9");
    CHECK(got.calls == 0);

    h.answer("ivrapi_reaccept");
    REQUIRE(got.calls == 1);
    REQUIRE(got.value->ok());
    Session s = **got.value;
    CHECK(s.ivrid() == "ivr-9");
    CHECK(!s.ended());
    CHECK(h.core->phase_of("ivr-9") == detail::SessionPhase::controlled);
    CHECK(h.status.active_sessions.load() == 1);

    // Driven like any session: the next apply goes out, api_stop ends it.
    Got<ComponentStopped> played;
    h.core->apply(detail::ClientCore::state_of(s), Play{}, played.cb());
    h.loop.run_ready();
    CHECK(h.last("ivrapi_component_apply").body.find("key")->as_string() == "key-9");
    h.receive(api_stop("ivr-9"));
    CHECK(s.ended());
    CHECK(h.status.active_sessions.load() == 0);
}

TEST_CASE("a refused take_over fails the caller and forgets the session") {
    CoreHarness h;
    h.connect_ready();
    Got<Session> got;
    h.core->take_over(identity("ivr-1", "k"), got.cb());
    h.loop.run_ready();
    h.answer("ivrapi_reaccept", R"("result":"error","reason":"no such session")");
    REQUIRE(got.calls == 1);
    REQUIRE(!got.value->ok());
    CHECK(h.core->phase_of("ivr-1") == detail::SessionPhase::ended);
    CHECK(h.status.active_sessions.load() == 0);
}

TEST_CASE("take_over: link down, already ours, after the end") {
    CoreHarness h;
    Got<Session> down;
    h.core->take_over(identity("ivr-1", "k"), down.cb());
    h.loop.run_ready();
    REQUIRE(down.calls == 1);
    CHECK(down.value->error().is(Errc::not_connected));

    h.connect_ready();
    Session mine = h.claim("ivr-2");
    Got<Session> twice;
    h.core->take_over(identity("ivr-2", "k"), twice.cb());
    h.loop.run_ready();
    REQUIRE(twice.calls == 1);
    CHECK(twice.value->error().is(Errc::invalid_argument));
    CHECK(h.count("ivrapi_reaccept") == 0);
}

TEST_CASE("take_over of a session whose accept race this client lost goes out (it may own it now)") {
    CoreHarness h;
    h.connect_ready();
    h.receive(api_start("ivr-5"));
    REQUIRE(!h.offers.empty());
    Got<Session> lost;
    h.offers.back().accept(lost.cb());
    h.loop.run_ready();
    h.answer("ivrapi_accept", R"("result":"error","reason":"already accepted")");
    REQUIRE(lost.calls == 1);
    REQUIRE(!lost.value->ok());

    Got<Session> got;
    h.core->take_over(identity("ivr-5", "k"), got.cb());
    h.loop.run_ready();
    REQUIRE(h.count("ivrapi_reaccept") == 1);
    h.answer("ivrapi_reaccept");
    REQUIRE(got.calls == 1);
    CHECK(got.value->ok());
}

TEST_CASE("a take_over cut by a link drop is re-sent as a reaccept once the link is back") {
    ClientOptions o = quick_reconnect();
    CoreHarness h(o);
    h.connect_ready();
    Got<Session> got;
    h.core->take_over(identity("ivr-3", "k"), got.cb());
    h.loop.run_ready();
    h.transport.drop(Error(Errc::connection_lost, "test"));
    h.loop.run_ready();
    CHECK(h.core->phase_of("ivr-3") == detail::SessionPhase::detached);
    h.loop.advance(20ms);
    h.transport.open();
    h.answer("connection_info", R"("result":"ok","capabilities":["ivrapi","subscr"])");
    CHECK(h.count("ivrapi_reaccept") == 2);
    CHECK(h.count("ivrapi_accept") == 0);  // never an accept: that is for offers
    h.answer("ivrapi_reaccept");
    REQUIRE(got.calls == 1);
    CHECK(got.value->ok());
}
