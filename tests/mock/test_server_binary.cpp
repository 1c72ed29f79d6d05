// ivrapi-mock-server as a program: its banner, --wait-for-subscriber, the control
// channel, --listen, --static-dir, bad scenario files, and --help listing every key.
#include "examples/process.hpp"
#include "mock/helpers.hpp"

#include <ivrapi/mock/scenario.hpp>

#include <filesystem>
#include <fstream>

using namespace mocktest;
using ivrapi::test::Process;

namespace {

const std::string kBinary = IVRAPI_MOCK_SERVER;
const std::string kToken = "binary-test-s3cret";

std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = std::string(IVRAPI_TEST_BINARY_DIR) + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
}

// Starts the server on a free port; reads the banner for the port.
struct Running {
    Process p;
    std::uint16_t port = 0;
    std::vector<std::string> banner;
    explicit Running(std::vector<std::string> args) : p(with_defaults(std::move(args))) {
        for (;;) {
            auto line = p.line(10s);
            REQUIRE(line);
            banner.push_back(*line);
            if (line->find("  url:") == 0) {
                auto colon = line->find(':', line->find("//"));
                port = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
            }
            if (line->find("  control:") == 0) break;  // the banner's last line
        }
        REQUIRE(port != 0);
    }
    static std::vector<std::string> with_defaults(std::vector<std::string> args) {
        std::vector<std::string> all = {kBinary, "--port", "0", "--token", kToken};
        all.insert(all.end(), args.begin(), args.end());
        return all;
    }
    std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port) + "/ws/token/v1/" + kToken; }
    HttpResult cmd(const std::string& command, const Json& body = Json::object()) {
        return control(port, command, body, kToken);
    }
    ~Running() {
        p.signal(SIGTERM);
        p.wait(10s);
    }
};

}  // namespace

TEST_CASE("binary: the banner never shows the token; the control channel answers curl-style requests",
          "[mock][binary]") {
    Running s({});
    for (const auto& line : s.banner) CHECK(line.find(kToken) == std::string::npos);
    CHECK(s.banner[2].find("/ws/token/v1/<token>") != std::string::npos);
    auto status = s.cmd("status");
    CHECK(status.status == 200);
    CHECK(status.json().find("ok")->as_bool());
    CHECK(control(s.port, "status", Json::object(), "").status == 401);

    // A whole call: offer over HTTP, the bot on a raw WebSocket, keys over HTTP.
    RawClient bot;
    REQUIRE(bot.connect(s.ws_url()));
    REQUIRE(result_of(subscribe(bot)) == "ok");
    REQUIRE(s.cmd("start_call", Json::object({{"ivrid", "rDlg-bin-1"}, {"key", "k"}})).status == 200);
    REQUIRE(bot.wait("notify"));
    Json call = Json::object({{"key", "k"}, {"ivrid", "rDlg-bin-1"}});
    REQUIRE(result_of(bot.call("ivrapi_accept", call)) == "ok");
    REQUIRE(result_of(bot.call("ivrapi_component_apply",
                               with(call, "data", Json::object({{"oType", 206}, {"maxSymbolCount", 1}})))) == "ok");
    REQUIRE(s.cmd("wait", Json::object({{"for", "components"}, {"ivrid", "rDlg-bin-1"}})).status == 200);
    REQUIRE(s.cmd("dtmf", Json::object({{"ivrid", "rDlg-bin-1"}, {"digits", "7"}})).status == 200);
    auto st = bot.wait("ivrapi_component_stopped");
    CHECK(result_field(st, "dtmfBuffer") == "7");
    s.p.signal(SIGTERM);
    REQUIRE(s.p.wait(10s) == 0);
    CHECK(s.p.stdout_text().find(kToken) == std::string::npos);  // nor the log
}

TEST_CASE("binary: --wait-for-subscriber offers scenario calls only once a client subscribed", "[mock][binary]") {
    const auto scenario = write_file("mock/two_calls_wait.json", R"({
      "calls": [{"at_ms": 0, "ivrid": "rDlg-wait", "repeat": 2, "every_ms": 10}],
      "options": {"accept_timeout_ms": 300}
    })");
    Running s({"--scenario", scenario, "--wait-for-subscriber", "--exit-when-done"});
    REQUIRE(s.p.line_with("waiting for a client to subscribe", 10s));
    // Connected but not subscribed: still nothing offered.
    RawClient bot;
    REQUIRE(bot.connect(s.ws_url()));
    REQUIRE(s.cmd("wait", Json::object({{"for", "connections"}, {"count", 1}})).status == 200);
    CHECK(s.cmd("status").json().find("calls")->as_array().empty());
    REQUIRE(result_of(subscribe(bot)) == "ok");
    // Both calls reach the subscriber, and the run completes on its own.
    REQUIRE(bot.wait_count("notify", 4, 10000ms));  // 2 x api_start + 2 x api_stop (timeout)
    CHECK(s.p.wait(10s) == 0);
    CHECK(s.p.stdout_text().find("every call ended; exiting") != std::string::npos);
}

TEST_CASE("binary: --listen and --static-dir; missing files refused by default", "[mock][binary]") {
    const std::string dir = std::string(IVRAPI_TEST_BINARY_DIR) + "/mock/static";
    write_file("mock/static/GS_PUB/prompts/menu.wav", "RIFF-menu");
    Running s({"--listen", "127.0.0.2", "--static-dir", dir});
    CHECK(s.banner[1].find("ws://127.0.0.2:") != std::string::npos);
    CHECK(raw_http(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").empty());  // not on 127.0.0.1
    CHECK(raw_http(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.2").rfind("HTTP/1.1 404", 0) == 0);

    RawClient bot;
    REQUIRE(bot.connect("ws://127.0.0.2:" + std::to_string(s.port) + "/ws/token/v1/" + kToken));
    REQUIRE(result_of(subscribe(bot)) == "ok");
    // The control channel is on the same address.
    const std::string body = R"({"ivrid":"rDlg-files","key":"k"})";
    auto started = raw_http(s.port,
                            "POST /control/start_call HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                            "127.0.0.2");
    REQUIRE(started.rfind("HTTP/1.1 200", 0) == 0);
    Json call = Json::object({{"key", "k"}, {"ivrid", "rDlg-files"}});
    REQUIRE(result_of(bot.call("ivrapi_accept", call)) == "ok");
    auto play = [&](const std::string& file) {
        return result_of(
            bot.call("ivrapi_component_apply", with(call, "data", Json::object({{"oType", 204}, {"file", file}}))));
    };
    CHECK(play(":GS_PUB/prompts/nope.wav") == "error");
    CHECK(play(":GS_PUB/prompts/menu.wav") == "ok");
}

TEST_CASE("binary: a bad scenario file is an error naming its JSON path", "[mock][binary]") {
    const auto bad = write_file("mock/bad.json", R"({"calls": [{"ivrid": "a"}, {"at_ms": "soon"}]})");
    Process p({kBinary, "--port", "0", "--scenario", bad});
    REQUIRE(p.wait(10s) == 2);
    CHECK(p.stderr_text().find("$.calls[1].at_ms: expected an integer >= 0, got a string") != std::string::npos);
    const auto typo = write_file("mock/typo.json", R"({"calls": [{"hangup_afer_ms": 5}]})");
    Process q({kBinary, "--port", "0", "--scenario", typo});
    REQUIRE(q.wait(10s) == 2);
    CHECK(q.stderr_text().find("$.calls[0].hangup_afer_ms: unknown key") != std::string::npos);
    Process r({kBinary, "--listen", "nowhere", "--port", "0"});
    REQUIRE(r.wait(10s) == 1);
    CHECK(r.stderr_text().find("not an IP address") != std::string::npos);
}

TEST_CASE("binary: --help lists every scenario key", "[mock][binary]") {
    Process p({kBinary, "--help"});
    REQUIRE(p.wait(10s) == 0);
    const std::string help = p.stdout_text();
    for (const auto& key : ivrapi::mock::scenario_keys()) {
        const std::string leaf = key.substr(key.find_last_of('.') + 1);
        INFO(key);
        CHECK(help.find("\"" + leaf + "\"") != std::string::npos);
    }
    for (const char* flag : {"--listen", "--wait-for-subscriber", "--static-dir", "--any-path-plays", "--upload-ca",
                             "--detach-timeout", "--hangup-after-offer", "--caller-dtmf-component", "--no-control"}) {
        CHECK(help.find(flag) != std::string::npos);
    }
}
