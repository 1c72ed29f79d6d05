// The command-line tools: ivrapi-cli --capture records a cassette, ivrapi-mock-server
// --replay plays it back (exit 0 when the bot matched, 1 at a divergence, 2 on bad usage).
#include "examples/process.hpp"

#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;

namespace {

std::string path_for(const std::string& name) {
    return std::string(IVRAPI_TEST_BINARY_DIR) + "/" + std::to_string(::getpid()) + "-" + name;
}

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Captures `ivrapi-cli info` against the mock platform.
std::string capture_info() {
    mock::ServerOptions so;
    so.token = "cli-secret-token";
    mock::Server server(so);
    const std::string file = path_for("cli-info.cassette");
    Process cli({IVRAPI_CLI, "--url", server.url(), "--capture", file, "info"}, {{"ERA_TOKEN", so.token}});
    REQUIRE(cli.wait(20s) == 0);
    return file;
}

// Starts the replay server and returns its URL (from its first lines).
std::string replay_url(Process& server) {
    auto line = server.line_with("url:", 10s);
    REQUIRE(line);
    const auto start = line->find("ws://");
    REQUIRE(start != std::string::npos);
    return line->substr(start, line->find(' ', start) - start);
}

}  // namespace

TEST_CASE("cli --capture writes a cassette with the token redacted; mock-server --replay plays it back") {
    const std::string file = capture_info();
    const std::string text = read(file);
    CHECK(text.find("cli-secret-token") == std::string::npos);
    CHECK(text.find("connection_info_result") != std::string::npos);
    CHECK(text.rfind("{\"cassette\":\"ivrapi\",\"version\":1", 0) == 0);

    Process server({IVRAPI_MOCK_SERVER, "--replay", file, "--port", "0", "--speed", "2"});
    const std::string url = replay_url(server);
    Process cli({IVRAPI_CLI, "--url", url, "info"}, {{"ERA_TOKEN", "any-token"}});
    CHECK(cli.wait(20s) == 0);
    CHECK(cli.stdout_text().find("\"domain\":\"mock.era.local\"") != std::string::npos);
    REQUIRE(server.wait(20s) == 0);
    CHECK(server.stdout_text().find("replay passed: 2/2 requests matched") != std::string::npos);
}

TEST_CASE("mock-server --replay reports a divergence and exits 1") {
    const std::string file = capture_info();
    Process server({IVRAPI_MOCK_SERVER, "--replay", file, "--port", "0", "--quiet"});
    const std::string url = replay_url(server);
    // info sent connection_info twice (the client's own, then the command's);
    // upload-static sends file_upload_static second.
    Process cli(
        {IVRAPI_CLI, "--url", url, "--timeout", "2", "upload-static", "--src", "http://x/a.wav", "--dest", ":GS_PUB/a"},
        {{"ERA_TOKEN", "t"}});
    REQUIRE(server.wait(20s) == 1);
    CHECK(server.stderr_text().find("step 2: expected connection_info, got file_upload_static url 'http://x/a.wav' "
                                    "destpath ':GS_PUB/a'") != std::string::npos);
    CHECK(server.stderr_text().find("got:      [\"file_upload_static\"") != std::string::npos);
    cli.signal(SIGTERM);
    (void)cli.wait(10s);
}

TEST_CASE("mock-server --replay: bad usage and bad cassettes exit 2 with the reason") {
    const std::string bad = path_for("bad.cassette");
    std::ofstream(bad) << "{\"cassette\":\"ivrapi\",\"version\":1}\nnot json\n";
    Process malformed({IVRAPI_MOCK_SERVER, "--replay", bad, "--port", "0"});
    CHECK(malformed.wait(10s) == 2);
    CHECK(malformed.stderr_text().find("line 2: not JSON") != std::string::npos);

    Process missing({IVRAPI_MOCK_SERVER, "--replay", path_for("missing.cassette")});
    CHECK(missing.wait(10s) == 2);
    CHECK(missing.stderr_text().find("cannot read cassette") != std::string::npos);

    Process speed({IVRAPI_MOCK_SERVER, "--replay", bad, "--speed", "fast"});
    CHECK(speed.wait(10s) == 2);
    CHECK(speed.stderr_text().find("--speed expects a number, got 'fast'") != std::string::npos);

    Process other({IVRAPI_MOCK_SERVER, "--replay", bad, "--calls", "3"});
    CHECK(other.wait(10s) == 2);
    CHECK(other.stderr_text().find("option --calls does not go with --replay") != std::string::npos);

    Process cli({IVRAPI_CLI, "--url", "ws://127.0.0.1:1/ws/token/v1", "--capture", "/nonexistent-dir/c", "info"},
                {{"ERA_TOKEN", "t"}});
    CHECK(cli.wait(10s) == 2);
    CHECK(cli.stderr_text().find("capture.file '/nonexistent-dir/c' cannot be written") != std::string::npos);
}
