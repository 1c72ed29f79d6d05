// Every wire vector of the protocol reference, both directions.
#include "protocol/codec.hpp"
#include "protocol/vector_data.hpp"

#include <ivrapi/components.hpp>

#include <catch2/catch.hpp>

#include <set>

using namespace ivrapi;
using namespace ivrapi::protocol;

namespace {

const SessionRef kSession{"abc", "rDlg-006-Sm41ll"};

Json component_for(const std::string& name) {
    if (name == "ivrapi_component_apply_play") {
        Play p;
        p.file = ":GS_PUB/x/y/14.mp3";
        p.mode = PlayMode::sync_file;
        return Component(p).data();
    }
    if (name == "ivrapi_component_apply_play_temp") {
        Play p;
        p.file = ":TEMP/14.mp3";
        p.mode = PlayMode::sync_file;
        return Component(p).data();
    }
    if (name == "ivrapi_component_apply_record") {
        Record r;
        r.max_duration = std::chrono::seconds(10);
        r.max_digits = 3;
        r.stop_digits = "456";
        r.abort_on_silence = false;
        return Component(r).data();
    }
    if (name == "ivrapi_component_apply_transfer") {
        Transfer t;
        t.number = "13";
        t.reinvite_mode = ReinviteMode::sendonly;
        return Component(t).data();
    }
    if (name == "ivrapi_component_apply_hangup") return Component(Hangup{}).data();
    if (name == "ivrapi_component_apply_answer_200") return Component(SipAnswer{}).data();
    if (name == "ivrapi_component_apply_dtmf_collect") {
        CollectDigits c;
        c.timeout = std::chrono::seconds(10);
        c.inter_digit_timeout = std::chrono::seconds(3);
        return Component(c).data();
    }
    FAIL("no component for " << name);
    return {};
}

// Encodes the message a client->server vector shows, through the public encoders.
std::string encode_like(const std::string& name, const Json& body, Qid qid) {
    auto s = [&](const char* k) { return body.find(k)->as_string(); };
    if (name == "connection_info") return encode_connection_info(qid);
    if (name == "subscribe_ivrevents") {
        std::vector<std::string> events;
        for (const auto& e : body.find("events")->as_array()) events.push_back(e.as_string());
        return encode_subscribe(qid, s("id"), events, body.find("expires")->as_int());
    }
    if (name == "subscribe_renew") return encode_subscribe_renew(qid, s("id"), body.find("expires")->as_int());
    if (name == "unsubscribe") return encode_unsubscribe(qid, s("id"));
    if (name == "ivrapi_accept") return encode_session_request(kAccept, qid, kSession);
    if (name == "ivrapi_reaccept") return encode_session_request(kReaccept, qid, kSession);
    if (name == "ivrapi_abort") return encode_session_request(kAbort, qid, kSession);
    if (name == "ivrapi_component_terminate") return encode_session_request(kTerminate, qid, kSession);
    if (name.rfind("ivrapi_component_apply", 0) == 0) {
        return encode_component_apply(qid, kSession, component_for(name), 42);
    }
    if (name == "ivrapi_file_get_path") return encode_file_get_path(qid, kSession, s("path"));
    if (name == "ivrapi_file_upload_temp") return encode_file_upload_temp(qid, kSession, s("url"));
    if (name == "ivrapi_file_upload_static") {
        return encode_file_upload_static(qid, kSession, s("url"), s("destpath"));
    }
    if (name == "file_upload_static") return encode_sessionless_upload_static(qid, s("url"), s("destpath"));
    FAIL("no encoder mapping for " << name);
    return {};
}

}  // namespace

TEST_CASE("every client->server vector is encoded exactly, apart from qid and oId") {
    const Json vectors = test::load_vectors();
    int checked = 0;
    for (const auto& v : vectors.as_array()) {
        if (v.find("direction")->as_string() != "client->server") continue;
        const std::string name = v.find("name")->as_string();
        INFO("vector " << name);
        const Json& expected_frame = *v.find("json");
        const std::string wire_name = expected_frame.as_array()[0].as_string();
        Json expected = expected_frame.as_array()[1];
        std::string encoded = name.rfind("ivrapi_", 0) == 0 || name == "connection_info" ||
                                      name.rfind("subscribe", 0) == 0 || name == "unsubscribe" ||
                                      name == "file_upload_static"
                                  ? encode_like(name, expected, 77)
                                  : encode_request(wire_name, 77, expected);
        auto parsed = Json::parse(encoded);
        REQUIRE(parsed.ok());
        REQUIRE(parsed->size() == 2);
        CHECK(parsed->as_array()[0].as_string() == wire_name);
        Json got = parsed->as_array()[1];
        CHECK(got.find("qid")->is_integer());
        CHECK(got.find("qid")->as_int() == 77);
        got.erase("qid");
        expected.erase("qid");
        if (Json* data = const_cast<Json*>(got.find("data"))) {
            CHECK(data->find("oId")->as_int() == 42);
            data->erase("oId");
        }
        CHECK(got.dump() == expected.dump());  // same keys, same order, same values
        ++checked;
    }
    CHECK(checked >= 20);
}

TEST_CASE("every server->client vector decodes with every field it carries") {
    const Json vectors = test::load_vectors();
    std::set<std::string> seen;
    for (const auto& v : vectors.as_array()) {
        if (v.find("direction")->as_string() != "server->client") continue;
        const std::string name = v.find("name")->as_string();
        INFO("vector " << name);
        const Json& frame = *v.find("json");
        const Json& body = frame.as_array()[1];
        auto decoded = decode(frame.dump());
        REQUIRE(decoded.ok());
        seen.insert(name);

        if (auto* r = std::get_if<Reply>(&*decoded)) {
            const std::string wire = frame.as_array()[0].as_string();
            CHECK(r->request + "_result" == wire);
            CHECK(r->body == body);
            // The frame itself is kept only with a failure (error.raw_reply, checked below).
            const Json* qid = body.find("qid");
            if (qid->is_string() && qid->as_string().find_first_not_of("0123456789") != std::string::npos) {
                CHECK(r->qid.state == QidField::State::invalid);  // "q-renew-1", UUIDs: not ours
            } else if (qid->is_integer()) {
                CHECK(r->qid.state == QidField::State::valid);
                CHECK(r->qid.value == static_cast<Qid>(qid->as_int()));
            } else {
                CHECK(r->qid.state == QidField::State::invalid);  // 0.1234
            }
            const std::string result = body.find("result")->as_string();
            CHECK(r->value == result);
            if (result == "error") {
                CHECK_FALSE(r->success);
                CHECK(r->error.message.find(body.find("reason")->as_string()) != std::string::npos);
                CHECK(r->error.raw_reply == frame.dump());
                if (r->request == "ivrapi_accept") CHECK(r->error.is(Errc::lost_race));
                else CHECK(r->error.is(Errc::server_error));
            } else {
                CHECK(r->success);
            }
            if (wire == "connection_info_result") {
                ConnectionInfo info = decode_connection_info(r->body);
                CHECK(info.site == "main_site");
                CHECK(info.ownertype == "token");
                CHECK(info.domain == "test.rootdomain.ru");
                CHECK(info.sessionid == "6a0c530c-017d-960e-e3d6-7cd30a921f58");
                CHECK(info.connectionid == "b26c45b1-017d-960e-e3d5-7cd30a921f58");
                CHECK(info.capabilities.size() == 6);
                CHECK(info.has_capability("ivrapi"));
                CHECK_FALSE(info.has_capability("subscr"));
                CHECK(info.datetime == "2021-12-07T18:47:00.003Z");
                CHECK(info.timestamp == 1638902820003LL);
                CHECK(info.integration_point_id == "c75f0231-016b-8f20-af65-1c1b0d69174c");
                CHECK(info.integration_point_type == "public");
                CHECK(info.roles == std::vector<std::string>{"admin"});
                CHECK_FALSE(info.body.contains("token"));  // never kept in clear
            }
            if (wire == "start_svcscript_result") {
                CHECK(r->body.find("data")->find("variables")->find("path")->as_string() == ":SYNC/common/1.txt");
            }
        } else if (auto* s = std::get_if<ApiStartEvent>(&*decoded)) {
            const Json& d = *body.find("data");
            CHECK(s->callid == d.find("callid")->as_string());
            CHECK(s->cid == d.find("cid")->as_string());
            CHECK(s->componentid == d.find("componentid")->as_int());
            CHECK(s->componentname == d.find("componentname")->as_string());
            CHECK(s->ivrid == d.find("ivrid")->as_string());
            CHECK(s->ivrts == d.find("ivrts")->as_int());
            CHECK(s->key == d.find("key")->as_string());
            CHECK(s->params == d.find("params")->as_string());
            REQUIRE(s->params_json.has_value());
            CHECK(s->params_json->find("asdf")->as_string() == "zxcv");
            CHECK(s->sm_id == d.find("sm_id")->as_string());
            CHECK(s->eventts == body.find("eventts")->as_int());
            if (d.contains("state")) CHECK(s->state == CallState::incoming);
            else CHECK(s->state == CallState::unknown);
        } else if (auto* e = std::get_if<ApiStopEvent>(&*decoded)) {
            const Json& d = *body.find("data");
            CHECK(e->reason == StopReason::abort);
            CHECK(e->reason_text == "abort");
            CHECK(e->ivrid == d.find("ivrid")->as_string());
            CHECK(e->key == d.find("key")->as_string());
            CHECK(e->callid == d.find("callid")->as_string());
            CHECK(e->cid == d.find("cid")->as_string());
            CHECK(e->sm_id == d.find("sm_id")->as_string());
            CHECK(e->componentid == 14);
            CHECK(e->componentname == d.find("componentname")->as_string());
            CHECK(e->ivrts == d.find("ivrts")->as_int());
            CHECK(e->eventts == body.find("eventts")->as_int());
        } else if (auto* n = std::get_if<NotifyEvent>(&*decoded)) {
            CHECK(n->event_class == "ivrevents");
            CHECK(n->type == "sm_start");
            CHECK(n->eventts == body.find("eventts")->as_int());
            CHECK(n->data == *body.find("data"));
        } else if (auto* c = std::get_if<ComponentStopped>(&*decoded)) {
            CHECK(c->oid == 0);
            CHECK(c->transfer_key == "transfer");
            CHECK(c->result("dtmfBuffer") == "78");
            CHECK_FALSE(c->key.has_value());
            CHECK_FALSE(c->ivrid.has_value());
        } else if (auto* d = std::get_if<DtmfEvent>(&*decoded)) {
            CHECK(d->key == "abc");
            CHECK(d->ivrid == "rDlg-006-WbVFRX");
            CHECK(d->dtmf == "5");
            if (body.find("mode")->as_string() == "idle") {
                CHECK(d->mode == DtmfMode::idle);
                CHECK_FALSE(d->oid.has_value());
            } else {
                CHECK(d->mode == DtmfMode::component);
                CHECK(d->oid == 0);
            }
        } else {
            FAIL("unexpected generic decode");
        }
    }
    CHECK(seen.size() >= 20);
}
