// ivrapi-cli against the mock platform: NDJSON lines and exit codes.
#include "examples/process.hpp"

#include <ivrapi/json.hpp>
#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <fstream>

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;

namespace {

const std::string kCerts = IVRAPI_TEST_CERT_DIR;

mock::ServerOptions quick(bool tls = false) {
    mock::ServerOptions o;
    o.default_play_duration = 100ms;
    o.record_duration = 200ms;
    if (tls) {
        o.tls = true;
        o.cert_file = kCerts + "/server.pem";
        o.key_file = kCerts + "/server.key";
    }
    return o;
}

std::vector<std::string> cli_args(const mock::Server& server, std::vector<std::string> rest) {
    std::vector<std::string> args{IVRAPI_CLI, "--url", server.url()};
    if (server.options().tls) {
        args.push_back("--ca-file");
        args.push_back(kCerts + "/ca.pem");
    }
    args.insert(args.end(), rest.begin(), rest.end());
    return args;
}

std::map<std::string, std::string> token_env(const mock::Server& server) {
    return {{"ERA_TOKEN", server.options().token}};
}

Json parse_line(const std::string& line) {
    auto j = Json::parse(line);
    REQUIRE(j.ok());
    REQUIRE(j->is_object());
    return *j;
}

std::string write_flow(const std::string& name, const std::string& text) {
    const std::string path = std::string(IVRAPI_TEST_BINARY_DIR) + "/" + name;
    std::ofstream(path) << text;
    return path;
}

bool subscribed(const mock::Server& server) {
    return server.wait_for([](const mock::Server& s) { return s.subscription_count() >= 1; }, 10s);
}

}  // namespace

TEST_CASE("cli --help on every command") {
    for (const char* cmd : {"", "info", "watch", "run", "upload-static"}) {
        std::vector<std::string> args{IVRAPI_CLI};
        if (*cmd) args.push_back(cmd);
        args.push_back("--help");
        Process p(args);
        INFO(cmd);
        CHECK(p.wait(10s) == 0);
        CHECK(p.stdout_text().find("usage: ivrapi-cli") != std::string::npos);
    }
    Process none({IVRAPI_CLI});
    CHECK(none.wait(10s) == 2);
    Process unknown({IVRAPI_CLI, "frobnicate", "--url", "ws://x/ws/token/v1"});
    CHECK(unknown.wait(10s) == 2);
    CHECK(unknown.stderr_text().find("unknown command") != std::string::npos);
}

TEST_CASE("cli info over ws and wss, token never printed") {
    for (bool tls : {false, true}) {
        INFO("tls " << tls);
        mock::Server server(quick(tls));
        Process p(cli_args(server, {"info"}), token_env(server));
        REQUIRE(p.wait(20s) == 0);
        auto lines = p.lines();
        REQUIRE(lines.size() == 1);
        Json info = parse_line(lines[0]);
        CHECK(info.find("result")->as_string() == "ok");
        CHECK(info.find("capabilities")->size() == 3);
        CHECK_FALSE(info.contains("token"));
        CHECK(p.stdout_text().find(server.options().token) == std::string::npos);
        CHECK(p.stderr_text().find(server.options().token) == std::string::npos);
    }
}

TEST_CASE("cli with a wrong token exits 1 with the HTTP status") {
    mock::Server server(quick());
    Process p(cli_args(server, {"info", "--token", "not-the-token", "--log-level", "debug"}));
    CHECK(p.wait(20s) == 1);
    CHECK(p.stderr_text().find("401") != std::string::npos);
    CHECK(p.stderr_text().find("not-the-token") == std::string::npos);
    CHECK(p.stdout_text().empty());
}

TEST_CASE("cli --insecure warns on stderr and connects to an untrusted wss server") {
    mock::Server server(quick(true));
    Process p({IVRAPI_CLI, "info", "--url", server.url(), "--insecure"}, token_env(server));
    CHECK(p.wait(20s) == 0);
    CHECK(p.stderr_text().find("WARNING") != std::string::npos);
    Process refused({IVRAPI_CLI, "info", "--url", server.url(), "--timeout", "5"}, token_env(server));
    CHECK(refused.wait(20s) == 1);
    CHECK(refused.stderr_text().find("TLS") != std::string::npos);
}

TEST_CASE("cli watch prints api_start and api_stop with every data field") {
    mock::Server server(quick());
    Process p(cli_args(server, {"watch", "--count", "2"}), token_env(server));
    REQUIRE(subscribed(server));
    mock::CallOptions co;
    co.params = R"({"a":1})";
    co.state = mock::CallState::early;
    auto call = server.start_call(co);
    call.hangup();  // not claimed: api_stop follows
    REQUIRE(p.wait(20s) == 0);
    auto lines = p.lines();
    REQUIRE(lines.size() == 2);
    Json start = parse_line(lines[0]);
    CHECK(start.find("event")->as_string() == "api_start");
    CHECK(start.find("ivrid")->as_string() == call.ivrid());
    CHECK(start.find("state")->as_string() == "early");
    CHECK(start.find("params")->as_string() == R"({"a":1})");
    for (const char* field : {"callid", "cid", "sm_id", "componentid", "componentname", "key", "ivrts"}) {
        INFO(field);
        CHECK(start.contains(field));
    }
    Json stop = parse_line(lines[1]);
    CHECK(stop.find("event")->as_string() == "api_stop");
    CHECK(stop.find("reason")->as_string() == "script");
}

TEST_CASE("cli run: a flow on each session, over ws and wss") {
    const std::string flow = write_flow("flow_ok.json", R"([
        {"upload_temp": "URL", "as": "greeting"},
        {"apply": {"oType": 204, "mode": 0, "file": "${greeting}"}},
        {"apply": {"oType": 208, "recTimeSec": "5", "interruptSymbols": "#"}},
        {"get_path": "nameVar"},
        {"apply": {"oType": 201}}
    ])");
    for (bool tls : {false, true}) {
        INFO("tls " << tls);
        mock::Server server(quick(tls));
        // The platform fetches the greeting from a file:// URL (the wss mock serves https only).
        const std::string greeting = write_flow("greeting.wav", std::string(64, 'x'));
        std::string text;
        {
            std::ifstream in(flow);
            text.assign(std::istreambuf_iterator<char>(in), {});
            text.replace(text.find("URL"), 3, "file://" + greeting);
        }
        const std::string path = write_flow(tls ? "flow_tls.json" : "flow_ws.json", text);
        Process p(cli_args(server, {"run", "--flow", path, "--calls", "2", "--concurrency", "2"}), token_env(server));
        REQUIRE(subscribed(server));
        mock::CallOptions co;
        co.caller_dtmf = {{300ms, "#"}};
        auto a = server.start_call(co);
        auto b = server.start_call(co);
        REQUIRE(p.wait(30s) == 0);
        INFO(p.stdout_text() << p.stderr_text());
        std::map<std::string, std::vector<Json>> by_call;
        for (const auto& l : p.lines()) {
            Json j = parse_line(l);
            by_call[j.find("ivrid")->as_string()].push_back(j);
        }
        REQUIRE(by_call.size() == 2);
        for (const auto& call : {a, b}) {
            const auto& out = by_call[call.ivrid()];
            std::vector<Json> steps;
            bool ended = false, dtmf = false;
            for (const auto& j : out) {
                if (j.contains("step")) steps.push_back(j);
                if (const Json* e = j.find("event")) {
                    ended = ended || e->as_string() == "end";
                    dtmf = dtmf || (e->as_string() == "dtmf" && j.find("dtmf")->as_string() == "#");
                }
            }
            CHECK(ended);
            CHECK(dtmf);
            REQUIRE(steps.size() == 5);
            CHECK(steps[0].find("path")->as_string().rfind(":TEMP/", 0) == 0);
            CHECK(steps[1].find("oType")->as_int() == 204);
            CHECK(steps[1].find("transferKey")->as_string() == "transfer");
            CHECK(steps[2].find("results")->find("nameVar")->as_string().rfind(":TEMP/", 0) == 0);
            CHECK(steps[3].find("link")->as_string().rfind(tls ? "https://" : "http://", 0) == 0);
            CHECK(steps[4].find("oType")->as_int() == 201);
            // The uploaded file was played: ${greeting} was substituted.
            REQUIRE_FALSE(call.played_files().empty());
            CHECK(call.played_files()[0] == steps[0].find("path")->as_string());
        }
    }
}

TEST_CASE("cli run: a failing step prints an error and hands the session back") {
    mock::Server server(quick());
    server.fail_reply("ivrapi_component_apply", "no such file");
    const std::string flow =
        write_flow("flow_fail.json", R"([{"apply":{"oType":204,"file":"missing.wav"}},{"apply":{"oType":201}}])");
    Process p(cli_args(server, {"run", "--flow", flow}), token_env(server));
    REQUIRE(subscribed(server));
    auto call = server.start_call();
    REQUIRE(p.wait(20s) == 1);  // a failed step: exit status 1
    auto lines = p.lines();
    REQUIRE(lines.size() == 2);
    Json step = parse_line(lines[0]);
    CHECK(step.find("step")->as_int() == 0);
    CHECK(step.find("error")->find("code")->as_string() == "server_error");
    CHECK(step.find("error")->find("message")->as_string().find("no such file") != std::string::npos);
    Json end = parse_line(lines[1]);
    CHECK(end.find("event")->as_string() == "end");
    CHECK(end.find("reason")->as_string() == "abort");
    CHECK(call.wait_ended(10s));
    CHECK(call.end_reason() == "abort");
    CHECK(server.request_count("ivrapi_abort") == 1);
}

TEST_CASE("cli run: a call that ends mid-flow") {
    mock::ServerOptions o = quick();
    o.default_play_duration = 5s;
    mock::Server server(o);
    const std::string flow =
        write_flow("flow_long.json", R"([{"apply":{"oType":204,"file":"long.wav"}},{"apply":{"oType":201}}])");
    Process p(cli_args(server, {"run", "--flow", flow}), token_env(server));
    REQUIRE(subscribed(server));
    mock::CallOptions co;
    co.hangup_after = 300ms;
    server.start_call(co);
    REQUIRE(p.wait(20s) == 1);  // a failed step: exit status 1
    auto lines = p.lines();
    INFO(p.stdout_text() << p.stderr_text());
    REQUIRE(lines.size() == 2);
    // The end event and the failed step may come in either order (two threads).
    Json a = parse_line(lines[0]), b = parse_line(lines[1]);
    const Json& end = a.contains("event") ? a : b;
    const Json& step = a.contains("event") ? b : a;
    CHECK(end.find("event")->as_string() == "end");
    CHECK(end.find("reason")->as_string() == "script");
    REQUIRE(step.contains("error"));
    CHECK(step.find("error")->find("code")->as_string() == "session_ended");
}

TEST_CASE("cli run: an invalid flow file is rejected before connecting, with its position") {
    mock::Server server(quick());
    const std::pair<const char*, const char*> cases[] = {
        {"[{\"apply\": {\"oType\": 204},\n  }]", "line 2, column 3"},
        {"{}", "JSON array"},
        {"[{\"apply\": {\"file\": \"x\"}}]", "step 0"},
        {"[{\"apply\": {\"oType\": 201}}, {\"jump\": 3}]", "step 1: unknown step"},
        {"[{\"upload_temp\": \"http://x\"}]", "needs \"as\""},
        {"[{\"abort\": false}]", "must be true"},
    };
    int i = 0;
    for (const auto& [text, expected] : cases) {
        INFO(text);
        const std::string flow = write_flow("bad" + std::to_string(i++) + ".json", text);
        Process p(cli_args(server, {"run", "--flow", flow}), token_env(server));
        CHECK(p.wait(10s) == 2);
        CHECK(p.stderr_text().find(expected) != std::string::npos);
    }
    CHECK(server.requests().empty());  // never connected
}

TEST_CASE("cli upload-static prints the stored path") {
    mock::Server server(quick());
    server.add_http_resource("/files/prompt.wav", "RIFF....WAVE", "audio/wav");
    Process p(
        cli_args(server, {"upload-static", "--src", server.http_url("/files/prompt.wav"), "--dest", ":GS_PUB/prompts"}),
        token_env(server));
    REQUIRE(p.wait(20s) == 0);
    auto lines = p.lines();
    REQUIRE(lines.size() == 1);
    CHECK(parse_line(lines[0]).find("path")->as_string().rfind(":GS_PUB/prompts", 0) == 0);
    Process missing(
        cli_args(server, {"upload-static", "--src", server.http_url("/files/none.wav"), "--dest", ":GS_PUB/x"}),
        token_env(server));
    CHECK(missing.wait(20s) == 1);
    CHECK_FALSE(missing.stderr_text().empty());
}

// ---------------------------------------------------------------- Ctrl-C contract (issue 10)

TEST_CASE("cli run: the first Ctrl-C drains: the running flow finishes, nothing new is claimed, exit 0") {
    mock::ServerOptions o = quick();
    o.default_play_duration = 1500ms;
    mock::Server server(o);
    const std::string flow =
        write_flow("flow_drain.json", R"([{"apply":{"oType":204,"file":"a.wav"}},{"apply":{"oType":201}}])");
    Process p(cli_args(server, {"run", "--flow", flow, "--calls", "5", "--drain-timeout", "20"}), token_env(server));
    REQUIRE(subscribed(server));
    auto call = server.start_call();
    REQUIRE(server.wait_for_request("ivrapi_component_apply", 10s));
    p.signal(SIGINT);
    // Offered after the Ctrl-C: never claimed.
    REQUIRE(server.wait_for([](const mock::Server& s) { return s.request_count("ivrapi_accept") == 1; }, 1s));
    REQUIRE(p.wait(20s) == 0);
    CHECK(call.wait_ended(1s));
    CHECK(call.end_reason() == "script");  // hung up by the flow, not handed back
    CHECK(server.request_count("ivrapi_accept") == 1);
    CHECK(server.request_count("ivrapi_abort") == 0);
}

TEST_CASE("cli run: at the drain deadline a call still running is handed back (exit 1)") {
    mock::ServerOptions o = quick();
    o.default_play_duration = 60s;
    mock::Server server(o);
    const std::string flow = write_flow("flow_slow.json", R"([{"apply":{"oType":204,"file":"long.wav"}}])");
    Process p(cli_args(server, {"run", "--flow", flow, "--drain-timeout", "1"}), token_env(server));
    REQUIRE(subscribed(server));
    auto call = server.start_call();
    REQUIRE(server.wait_for_request("ivrapi_component_apply", 10s));
    p.signal(SIGINT);
    const auto status = p.wait(20s);
    INFO(p.stdout_text() << p.stderr_text());
    REQUIRE(status == 1);
    CHECK(call.wait_ended(5s));
    CHECK(call.end_reason() == "abort");  // handed back before the link closed
}

TEST_CASE("cli run: a second Ctrl-C hands every call back at once and exits 130") {
    mock::ServerOptions o = quick();
    o.default_play_duration = 60s;
    mock::Server server(o);
    const std::string flow = write_flow("flow_slow2.json", R"([{"apply":{"oType":204,"file":"long.wav"}}])");
    Process p(cli_args(server, {"run", "--flow", flow, "--drain-timeout", "60"}), token_env(server));
    REQUIRE(subscribed(server));
    auto call = server.start_call();
    REQUIRE(server.wait_for_request("ivrapi_component_apply", 10s));
    p.signal(SIGINT);
    REQUIRE(p.wait_stderr_contains("draining", 10s));
    p.signal(SIGINT);
    REQUIRE(p.wait(20s) == 130);
    CHECK(call.wait_ended(5s));
    CHECK(call.end_reason() == "abort");
}

TEST_CASE("cli: usage errors name flags, flows with undefined variables or a get_path first are refused") {
    mock::Server server(quick());
    {
        Process p({IVRAPI_CLI, "--url", server.url(), "info"}, {});
        REQUIRE(p.wait(20s) == 2);
        CHECK_THAT(p.stderr_text(), Catch::Matchers::Contains("--token or ERA_TOKEN"));
        CHECK_THAT(p.stderr_text(), !Catch::Matchers::Contains("ClientOptions"));
    }
    const std::pair<const char*, const char*> flows[] = {
        {R"([{"apply":{"oType":204,"file":"${greeting}"}}])", "${greeting}"},
        {R"([{"get_path":"nameVar"}])", "earlier apply"},
    };
    for (const auto& [text, expected] : flows) {
        const std::string flow = write_flow("flow_bad.json", text);
        Process p(cli_args(server, {"run", "--flow", flow}), token_env(server));
        REQUIRE(p.wait(20s) == 2);
        CHECK_THAT(p.stderr_text(), Catch::Matchers::Contains(expected));
    }
}
