// A session keeps its offer compactly (client/offer_record.hpp) and builds the public
// ApiStartEvent on the first Session::info(): every field must come back as decoded.
#include "client/core_harness.hpp"
#include "client/offer_record.hpp"

#include <thread>

using namespace ivrapi;
using namespace ivrapi::test;

namespace {

void check_same(const ApiStartEvent& got, const ApiStartEvent& want) {
    CHECK(got.ivrid == want.ivrid);
    CHECK(got.key == want.key);
    CHECK(got.callid == want.callid);
    CHECK(got.cid == want.cid);
    CHECK(got.sm_id == want.sm_id);
    CHECK(got.componentname == want.componentname);
    CHECK(got.componentid == want.componentid);
    CHECK(got.ivrts == want.ivrts);
    CHECK(got.eventts == want.eventts);
    CHECK(got.state == want.state);
    CHECK(got.state_text == want.state_text);
    CHECK(got.params == want.params);
    CHECK(got.params_json.has_value() == want.params_json.has_value());
    if (got.params_json && want.params_json) CHECK(got.params_json->dump() == want.params_json->dump());
    CHECK(got.raw == want.raw);
}

}  // namespace

TEST_CASE("offer record: every field of the offer comes back, absent ones stay absent") {
    ApiStartEvent full;
    full.ivrid = "rDlg-006-Sm41ll";
    full.key = "a-key-longer-than-the-small-string-buffer";
    full.callid = "3c2a1b@10.0.0.1";
    full.cid = "5f1e3c0a-0000-4000-8000-00000000cafe";
    full.sm_id = "sm-42";
    full.componentname = "7";
    full.componentid = 14;
    full.ivrts = 1600935092785;
    full.eventts = 0;  // present and zero is not absent
    full.state_text = "ringing";
    full.state = CallState::ringing;
    full.params = R"({"lang":"en","n":[1,2]})";
    full.params_json = Json::parse(full.params).value();
    full.raw = R"(["notify",{"class":"ivrevents","type":"api_start"}])";

    detail::OfferRecord record(full);
    CHECK(record.ivrid() == full.ivrid);
    CHECK(record.key() == full.key);
    CHECK(record.state() == CallState::ringing);
    check_same(record.event(), full);
    CHECK(&record.event() == &record.event());  // built once

    ApiStartEvent sparse;
    sparse.ivrid = "i";
    sparse.params = "free text, not JSON";
    detail::OfferRecord small(sparse);
    check_same(small.event(), sparse);
    CHECK_FALSE(small.event().componentid);
    CHECK_FALSE(small.event().params_json);

    detail::OfferRecord empty{ApiStartEvent{}};
    check_same(empty.event(), ApiStartEvent{});
}

TEST_CASE("offer record: info() from many threads at once builds one event") {
    ApiStartEvent e;
    e.ivrid = "ivr-threads";
    e.callid = "c";
    detail::OfferRecord record(e);
    std::vector<const ApiStartEvent*> seen(8, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&, i] { seen[i] = &record.event(); });
    for (auto& t : threads) t.join();
    for (const auto* p : seen) CHECK(p == seen.front());
    CHECK(seen.front()->callid == "c");
}

TEST_CASE("offer record: a claimed session's info() is the offer as decoded, after the offer is gone") {
    ClientOptions o;
    o.keep_raw_events = true;
    CoreHarness h(o);
    h.connect_ready();
    const std::string frame =
        R"(["notify",{"class":"ivrevents","type":"api_start","eventts":1234,"data":{"ivrid":"ivr-9","key":"k9",)"
        R"("callid":"call-9","cid":"cid-9","sm_id":"sm-9","componentname":"12","componentid":12,"ivrts":99,)"
        R"("state":"early","params":"{\"lang\":\"de\"}"}}])";
    h.receive(frame);
    REQUIRE(h.offers.size() == 1);
    const ApiStartEvent offered = h.offers.back().info();  // a copy: the Offer goes below
    std::optional<Result<Session>> got;
    h.offers.back().accept([&](Result<Session> r) { got.emplace(std::move(r)); });
    h.offers.clear();
    h.loop.run_ready();
    h.answer("ivrapi_accept");
    REQUIRE(got);
    REQUIRE(got->ok());
    Session session = **got;
    CHECK(session.ivrid() == "ivr-9");
    CHECK(session.key() == "k9");
    CHECK(session.initial_state() == CallState::early);
    CHECK(offered.raw == frame);
    REQUIRE(offered.params_json);
    check_same(session.info(), offered);
    // Requests still address the session by its kept ivrid and key.
    session.apply(Hangup{}, [](Result<ComponentStopped>) {});
    h.loop.run_ready();
    const auto apply = h.last("ivrapi_component_apply").body;
    CHECK(apply.find("ivrid")->as_string() == "ivr-9");
    CHECK(apply.find("key")->as_string() == "k9");
}
