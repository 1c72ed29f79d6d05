// ClientOptions::capture against the mock platform: the cassette's lines, both token
// placements redacted, link drops as generations, a bad path refused.
#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <mutex>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "S3cr3t-Tok\"en/42";  // a quote: also redacted JSON-escaped

struct Lines {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::function<void(const std::string&)> sink() {
        return [this](const std::string& l) {
            std::lock_guard<std::mutex> lock(mutex);
            lines.push_back(l);
        };
    }
    std::vector<std::string> get() {
        std::lock_guard<std::mutex> lock(mutex);
        return lines;
    }
};

std::vector<Json> parse_all(const std::vector<std::string>& lines) {
    std::vector<Json> out;
    for (const auto& l : lines) {
        auto j = Json::parse(l);
        INFO(l);
        REQUIRE(j.ok());
        REQUIRE(j->is_object());
        out.push_back(*j);
    }
    return out;
}

// The frames of one direction whose name is `name`.
std::vector<Json> frames(const std::vector<Json>& events, const std::string& ev, const std::string& name) {
    std::vector<Json> out;
    for (const auto& e : events) {
        if (!e.find("ev") || e.find("ev")->as_string() != ev) continue;
        auto f = Json::parse(e.find("frame")->as_string());
        if (f && f->is_array() && f->size() == 2 && f->as_array()[0].as_string() == name) out.push_back(*f);
    }
    return out;
}

void check_redacted(const std::vector<std::string>& lines) {
    const std::string escaped = "S3cr3t-Tok\\\"en/42";
    for (const auto& l : lines) {
        INFO(l);
        CHECK(l.find("S3cr3t") == std::string::npos);
        CHECK(l.find(escaped) == std::string::npos);
    }
}

std::vector<Json> capture_info_exchange(bool token_in_path, Lines& lines) {
    mock::ServerOptions so;
    so.token = token_in_path ? "S3cr3t-Token-42" : kSecret;
    mock::Server server(so);
    ClientOptions o;
    o.url = token_in_path ? server.url_with_token() : server.url();
    if (!token_in_path) o.token = kSecret;
    o.capture.sink = lines.sink();
    {
        Client client(o);
        client.start();
        REQUIRE(client.wait_ready(10s));
        // The mock's connection_info reply carries the token, as the platform's may.
        auto reply = client.request("connection_info").get_for(10s);
        REQUIRE(reply.ok());
        CHECK(reply->find("token") != nullptr);
        client.stop();
    }
    return parse_all(lines.get());
}

}  // namespace

TEST_CASE("client capture: cassette lines and token redacted (bearer header)") {
    Lines lines;
    auto events = capture_info_exchange(false, lines);
    check_redacted(lines.get());
    REQUIRE(events.size() > 4);
    const Json& header = events[0];
    CHECK(header.find("cassette")->as_string() == "ivrapi");
    CHECK(header.find("version")->as_int() == 1);
    CHECK(header.find("token")->as_string() == "header");
    CHECK(header.find("url")->as_string().find("/ws/token/v1") != std::string::npos);
    const Json& connect = events[1];
    CHECK(connect.find("ev")->as_string() == "connect");
    CHECK(connect.find("gen")->as_int() == 1);
    CHECK(connect.find("headers")->find("Authorization")->as_string() == "Bearer ***");
    CHECK(events[2].find("ev")->as_string() == "open");
    // Both directions, timestamps never going back.
    REQUIRE(frames(events, "out", "connection_info").size() == 2);
    auto replies = frames(events, "in", "connection_info_result");
    REQUIRE(replies.size() == 2);
    CHECK(replies[0].as_array()[1].find("token")->as_string() == "***");
    CHECK(frames(events, "out", "subscribe").size() == 1);
    double last = 0;
    for (std::size_t i = 1; i < events.size(); ++i) {
        const double t = events[i].find("t")->as_double(-1);
        CHECK(t >= last);
        last = t;
    }
    CHECK(events.back().find("ev")->as_string() == "shutdown");
}

TEST_CASE("client capture: token in the URL path redacted") {
    Lines lines;
    auto events = capture_info_exchange(true, lines);
    for (const auto& l : lines.get()) {
        INFO(l);
        CHECK(l.find("S3cr3t-Token-42") == std::string::npos);
    }
    CHECK(events[0].find("token")->as_string() == "path");
    CHECK(events[0].find("url")->as_string().find("/ws/token/v1/***") != std::string::npos);
    CHECK(events[1].find("url")->as_string().find("/ws/token/v1/***") != std::string::npos);
    CHECK(events[1].find("headers")->size() == 0);
    auto replies = frames(events, "in", "connection_info_result");
    REQUIRE(!replies.empty());
    CHECK(replies[0].as_array()[1].find("token")->as_string() == "***");
}

TEST_CASE("client capture: to a file, a link drop starts generation 2") {
    mock::Server server;
    const std::string path = std::string(IVRAPI_TEST_BINARY_DIR) + "/capture-drop.cassette";
    ClientOptions o;
    o.url = server.url();
    o.token = server.options().token;
    o.reconnect.initial_delay = 50ms;
    o.capture.file = path;
    {
        Client client(o);
        client.start();
        REQUIRE(client.wait_ready(10s));
        REQUIRE(server.wait_for([](const mock::Server& s) { return s.subscription_count() == 1; }, 10s));
        server.drop_connections();
        REQUIRE(server.wait_for([](const mock::Server& s) { return s.request_count("subscribe") == 2; }, 10s));
        REQUIRE(client.wait_ready(10s));
        client.stop();
    }
    std::ifstream in(path);
    std::vector<std::string> text;
    for (std::string l; std::getline(in, l);) text.push_back(l);
    auto events = parse_all(text);
    bool closed_by_link = false, open2 = false;
    for (const auto& e : events) {
        const std::string ev = e.find("ev") ? e.find("ev")->as_string() : "";
        if (ev == "closed" && e.find("gen")->as_int() == 1) closed_by_link = e.find("by")->as_string() == "link";
        if (ev == "open" && e.find("gen")->as_int() == 2) open2 = true;
    }
    CHECK(closed_by_link);
    CHECK(open2);
}

TEST_CASE("client capture: a file that cannot be written is refused by the constructor") {
    ClientOptions o;
    o.url = "ws://127.0.0.1:1/ws/token/v1";
    o.token = "t";
    o.capture.file = "/nonexistent-dir/x.cassette";
    CHECK_THROWS_WITH(Client(o), Catch::Contains("capture.file '/nonexistent-dir/x.cassette' cannot be written"));
}
