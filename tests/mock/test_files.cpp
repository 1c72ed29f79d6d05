// Files: get_path links served over HTTP for 5 minutes (injected clock), uploads from
// http:// and file:// into :TEMP and static storage, failures as error replies.
#include "mock/helpers.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace mocktest;
using ivrapi::mock::TestClock;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("record, get_path, the link is served over HTTP, then expires after 5 minutes", "[mock][files]") {
    TestClock clock;
    ServerOptions o = fast_options();
    o.clock = clock.clock();
    Server server(o);
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    REQUIRE(p.apply(call, Json::object({{"oType", 208}, {"recTimeSec", 1}})) == "ok");
    auto path = result_field(p.stopped(), "nameVar");
    REQUIRE(path.rfind(":TEMP/", 0) == 0);

    auto r = p.ws.call("ivrapi_file_get_path", with(ids(call), "path", path));
    auto link = result_of(r);
    REQUIRE(link.rfind("/temp/", 0) == 0);
    CHECK(link.substr(link.size() - 4) == ".wav");
    CHECK(server.http_url(link) == "http://127.0.0.1:" + std::to_string(server.port()) + link);

    auto got = http_get(server.port(), link);
    CHECK(got.status == 200);
    CHECK(got.content_type == "audio/wav");
    CHECK(got.body == slurp(server.local_path(path)));

    // Still valid after the call ended, within 5 minutes.
    call.hangup();
    REQUIRE(call.wait_ended(2000ms));
    clock.advance(std::chrono::minutes(4) + std::chrono::seconds(59));
    CHECK(http_get(server.port(), link).status == 200);
    clock.advance(std::chrono::seconds(2));
    CHECK(http_get(server.port(), link).status == 404);
    CHECK(http_get(server.port(), "/temp/unknown.wav").status == 404);
}

TEST_CASE("file_get_path errors: missing file, bad path, not the controller", "[mock][files]") {
    Server server(fast_options());
    Peer p(server), other(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    CHECK(result_of(p.ws.call("ivrapi_file_get_path", with(ids(call), "path", ":TEMP/nope.wav"))) == "error");
    CHECK(result_of(p.ws.call("ivrapi_file_get_path", with(ids(call), "path", ":TEMP/../../etc/passwd"))) ==
          "error");
    CHECK(result_of(p.ws.call("ivrapi_file_get_path", with(ids(call), "path", "/etc/passwd"))) == "error");
    CHECK(result_of(p.ws.call("ivrapi_file_get_path", ids(call))) == "error");
    CHECK(result_of(other.ws.call("ivrapi_file_get_path", with(ids(call), "path", ":TEMP/x.wav"))) == "error");
}

TEST_CASE("upload_temp from http://127.0.0.1 and file:// URLs", "[mock][files]") {
    Server server(fast_options());
    server.add_http_resource("/media/14.mp3", "ID3-fake-mp3-bytes", "audio/mpeg");
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");

    auto r = p.ws.call("ivrapi_file_upload_temp", with(ids(call), "url", server.http_url("/media/14.mp3")));
    CHECK(result_of(r) == ":TEMP/14.mp3");
    CHECK(slurp(server.local_path(":TEMP/14.mp3")) == "ID3-fake-mp3-bytes");

    std::string src = server.temp_dir() + "/source-hello.wav";
    {
        std::ofstream out(src, std::ios::binary);
        out << "RIFF-hello";
    }
    r = p.ws.call("ivrapi_file_upload_temp", with(ids(call), "url", "file://" + src));
    CHECK(result_of(r) == ":TEMP/source-hello.wav");
    CHECK(slurp(server.local_path(":TEMP/source-hello.wav")) == "RIFF-hello");
    // The uploaded file can be played.
    CHECK(p.apply(call, Json::object({{"oType", 204}, {"mode", 0}, {"file", ":TEMP/14.mp3"}})) == "ok");
    REQUIRE(p.stopped());
    CHECK(call.played_files() == std::vector<std::string>{":TEMP/14.mp3"});
}

TEST_CASE("upload_static and file_upload_static return destpath-based paths", "[mock][files]") {
    Server server(fast_options());
    server.add_http_resource("/abc.wav", "WAVDATA");
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    auto r = p.ws.call("ivrapi_file_upload_static",
                       with(with(ids(call), "url", server.http_url("/abc.wav")), "destpath", ":GS_PUB/x/y/"));
    CHECK(result_of(r) == ":GS_PUB/x/y/abc.wav");
    CHECK(slurp(server.local_path(":GS_PUB/x/y/abc.wav")) == "WAVDATA");
    CHECK(server.local_path(":GS_PUB/x/y/abc.wav") == server.local_path(":GLOBALSHARE_PUBLIC/x/y/abc.wav"));

    // Sessionless: no key/ivrid needed.
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    r = c.call("file_upload_static",
               Json::object({{"url", server.http_url("/abc.wav")}, {"destpath", ":GS_PUB/a/b/c"}}));
    CHECK(result_of(r) == ":GS_PUB/a/b/c/abc.wav");
    r = c.call("file_upload_static", Json::object({{"url", server.http_url("/abc.wav")}}));
    CHECK(result_of(r) == ":SYNC_DOMAIN_DATA/abc.wav");  // the documented default storage
}

TEST_CASE("upload failures give error replies", "[mock][files]") {
    Server server(fast_options());
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    auto fail = [&](Json body) {
        auto r = c.call("file_upload_static", std::move(body), 10000ms);
        INFO((r ? r->raw : std::string("no reply")));
        return result_of(r) == "error" && r->body.contains("reason");
    };
    CHECK(fail(Json::object({{"url", server.http_url("/missing.wav")}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", "https://127.0.0.1:1/x.wav"}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", "file:///nonexistent/ivrapi/x.wav"}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", "http://127.0.0.1:1/x.wav"}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", server.http_url("/x.wav")}, {"destpath", "/etc"}})));
    CHECK(fail(Json::object({{"destpath", ":GS_PUB/a"}})));
}
