// Shared helpers of the mock platform's tests.
#pragma once

#include "mock/raw_client.hpp"

#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mocktest {

using ivrapi::Json;
using ivrapi::mock::Call;
using ivrapi::mock::CallOptions;
using ivrapi::mock::Server;
using ivrapi::mock::ServerOptions;

inline std::string cert(const std::string& name) { return std::string(IVRAPI_TEST_CERT_DIR) + "/" + name; }

// Options with short component timings, so tests run fast.
inline ServerOptions fast_options() {
    ServerOptions o;
    o.default_play_duration = 50ms;
    o.record_duration = 100ms;
    o.tts_duration = 50ms;
    o.asr_duration = 50ms;
    o.fax_duration = 50ms;
    o.dtmf_send_duration = 10ms;
    return o;
}

inline Json ids(const Call& call) { return Json::object({{"key", call.key()}, {"ivrid", call.ivrid()}}); }

inline Json with(Json body, const std::string& k, Json v) {
    body.set(k, std::move(v));
    return body;
}

inline std::string result_of(const std::optional<Frame>& f) {
    if (!f) return "<no reply>";
    const auto* r = f->body.find("result");
    return r ? r->to_text() : "<no result>";
}

// A connected, subscribed raw peer.
struct Peer {
    RawClient ws;
    explicit Peer(const Server& server, bool subscribe_too = true) {
        REQUIRE(ws.connect(server.url_with_token()));
        if (subscribe_too) REQUIRE(result_of(subscribe(ws)) == "ok");
    }
    // Takes the api_start notify of `call`.
    bool offered(const Call& call, ms timeout = 3000ms) {
        return ws
            .wait("notify", timeout,
                  [&](const Frame& f) {
                      const auto* d = f.body.find("data");
                      return f.body.find("type")->as_string() == "api_start" && d &&
                             d->find("ivrid")->as_string() == call.ivrid();
                  })
            .has_value();
    }
    std::string accept(const Call& call) { return result_of(ws.call("ivrapi_accept", ids(call))); }
    std::string apply(const Call& call, Json data) {
        return result_of(ws.call("ivrapi_component_apply", with(ids(call), "data", std::move(data))));
    }
    std::optional<Frame> stopped(ms timeout = 3000ms) { return ws.wait("ivrapi_component_stopped", timeout); }
    std::optional<Frame> api_stop(const Call& call, ms timeout = 3000ms) {
        return ws.wait("notify", timeout, [&](const Frame& f) {
            const auto* d = f.body.find("data");
            return f.body.find("type")->as_string() == "api_stop" && d && d->find("ivrid")->as_string() == call.ivrid();
        });
    }
};

inline std::string transfer_key(const std::optional<Frame>& f) {
    return f ? f->body.find("transferKey")->as_string() : "<none>";
}
inline std::string result_field(const std::optional<Frame>& f, const std::string& k) {
    if (!f) return "<none>";
    const auto* r = f->body.find("results");
    const auto* v = r ? r->find(k) : nullptr;
    return v ? v->to_text() : "<absent>";
}

}  // namespace mocktest
