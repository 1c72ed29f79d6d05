// ClientOptions are checked at construction; messages are clear and never carry the token.
#include "client/url.hpp"

#include <ivrapi/client.hpp>

#include <catch2/catch.hpp>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {

std::string rejection(const ClientOptions& o) {
    try {
        Client client(o);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return {};
}

ClientOptions base() {
    ClientOptions o;
    o.url = "wss://era.example.com/ws/token/v1";
    o.token = "s3cr3t-token";
    return o;
}

}  // namespace

TEST_CASE("valid URLs give the expected connect target") {
    auto t = detail::make_connect_target(base());
    CHECK(t.tls);
    CHECK(t.host == "era.example.com");
    CHECK(t.port == 443);
    CHECK(t.uri == "wss://era.example.com:443/ws/token/v1");
    CHECK(t.bearer_token == "s3cr3t-token");

    ClientOptions in_path;
    in_path.url = "ws://10.0.0.5:8080/ws/token/v1/abc123";
    auto p = detail::make_connect_target(in_path);
    CHECK_FALSE(p.tls);
    CHECK(p.port == 8080);
    CHECK(p.uri == "ws://10.0.0.5:8080/ws/token/v1/abc123");
    CHECK(p.bearer_token.empty());

    ClientOptions v6 = base();
    v6.url = "wss://[::1]:9443/prefix/ws/token/v1";
    auto q = detail::make_connect_target(v6);
    CHECK(q.host == "::1");
    CHECK(q.uri == "wss://[::1]:9443/prefix/ws/token/v1");
}

TEST_CASE("bad URLs and options are rejected with a clear message") {
    const std::pair<std::function<void(ClientOptions&)>, const char*> cases[] = {
        {[](ClientOptions& o) { o.url = ""; }, "url is empty"},
        {[](ClientOptions& o) { o.url = "era.example.com/ws/token/v1"; }, "ws:// or wss://"},
        {[](ClientOptions& o) { o.url = "https://era.example.com/ws/token/v1"; }, "ws:// or wss://"},
        {[](ClientOptions& o) { o.url = "wss:///ws/token/v1"; }, "no host"},
        {[](ClientOptions& o) { o.url = "wss://era:99999/ws/token/v1"; }, "port"},
        {[](ClientOptions& o) { o.url = "wss://era:/ws/token/v1"; }, "port"},
        {[](ClientOptions& o) { o.url = "wss://era:12ab/ws/token/v1"; }, "port"},
        {[](ClientOptions& o) { o.url = "wss://user:pw@era/ws/token/v1"; }, "user info"},
        {[](ClientOptions& o) { o.url = "wss://era/api/v2"; }, "/ws/token/v1"},
        {[](ClientOptions& o) { o.url = "wss://era/ws/token/v1/tok/extra"; }, "after the token"},
        {[](ClientOptions& o) { o.url = "wss://era/ws/token/v1/other-token"; }, "given twice"},
        {[](ClientOptions& o) { o.token.clear(); }, "no token"},
        {[](ClientOptions& o) { o.token = "a\r\nInjected: x"; }, "line break"},
        {[](ClientOptions& o) { o.request_timeout = 0ms; }, "request_timeout"},
        {[](ClientOptions& o) { o.connect_timeout = -1ms; }, "connect_timeout"},
        {[](ClientOptions& o) { o.reconnect.max_delay = 1ms; }, "max_delay"},
        {[](ClientOptions& o) { o.reconnect.jitter = 1.5; }, "jitter"},
        {[](ClientOptions& o) { o.pong_timeout = 0ms; }, "pong_timeout"},
        // Issue 9 defect 8: no overflow of now() + duration.
        {[](ClientOptions& o) { o.component_timeout = std::chrono::milliseconds::max(); },
         "component_timeout must be at most"},
        {[](ClientOptions& o) { o.request_timeout = std::chrono::hours(24 * 365); }, "request_timeout must be at most"},
        {[](ClientOptions& o) { o.reconnect.max_delay = std::chrono::milliseconds::max(); },
         "max_delay must be at most"},
        {[](ClientOptions& o) { o.subscription_lifetime = std::chrono::seconds::max(); }, "subscription_lifetime"},
        {[](ClientOptions& o) { o.subscription_lifetime = std::chrono::seconds(1); }, "subscription_lifetime"},
        {[](ClientOptions& o) { o.max_message_size = 10; }, "max_message_size"},
        {[](ClientOptions& o) { o.tls.ca_file = "/nonexistent/ca.pem"; }, "cannot be read"},
        {[](ClientOptions& o) {
             o.url = "ws://era/ws/token/v1";
             o.tls.ca_file = "/etc/hostname";
         },
         "no TLS"},
    };
    for (const auto& [mutate, expected] : cases) {
        ClientOptions o = base();
        mutate(o);
        const std::string why = rejection(o);
        INFO(o.url << " -> " << why);
        CHECK_THAT(why, Catch::Matchers::Contains(expected));
        CHECK_THAT(why, Catch::Matchers::Contains("ivrapi::ClientOptions"));
        CHECK(why.find("s3cr3t-token") == std::string::npos);
    }
}

TEST_CASE("a client that is never started stops cleanly and fails what was asked of it") {
    Client client(base());
    auto pending = client.request("connection_info");
    client.stop();
    auto r = pending.get_for(5s);
    CHECK(r.error().is(Errc::not_connected));  // never started: nothing is held
    CHECK_THAT(r.error().message, Catch::Matchers::Contains("not started"));
    CHECK(client.state() == ConnectionState::stopped);
    CHECK(client.wait_stopped(1s));
    // After stop, calls fail fast.
    CHECK(client.upload_static("http://x", ":GS_PUB/x").get_for(1s).error().is(Errc::stopped));
}

TEST_CASE("redact hides every occurrence of the token") {
    CHECK(detail::redact("GET /ws/token/v1/abc failed; token abc", "abc") == "GET /ws/token/v1/*** failed; token ***");
    CHECK(detail::redact("nothing here", "abc") == "nothing here");
    CHECK(detail::redact("abcabc", "abc") == "******");
    CHECK(detail::redact("x", "") == "x");
}
