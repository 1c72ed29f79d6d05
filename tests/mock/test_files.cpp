// Files: get_path links served over HTTP for 5 minutes (injected clock), uploads from
// http:// and file:// into :TEMP and static storage, failures as error replies.
#include "mock/helpers.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
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
    CHECK(got.body == slurp(call.local_path(path)));

    // Still valid after the call ended (and its temp folder is gone), within 5 minutes.
    call.hangup();
    REQUIRE(call.wait_ended(2000ms));
    CHECK_FALSE(std::filesystem::exists(call.local_path(path)));
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
    CHECK(result_of(p.ws.call("ivrapi_file_get_path", with(ids(call), "path", ":TEMP/../../etc/passwd"))) == "error");
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
    CHECK(slurp(call.local_path(":TEMP/14.mp3")) == "ID3-fake-mp3-bytes");
    CHECK(server.local_path(":TEMP/14.mp3").empty());  // :TEMP belongs to one call

    std::string src = server.temp_dir() + "/source-hello.wav";
    {
        std::ofstream out(src, std::ios::binary);
        out << "RIFF-hello";
    }
    r = p.ws.call("ivrapi_file_upload_temp", with(ids(call), "url", "file://" + src));
    CHECK(result_of(r) == ":TEMP/source-hello.wav");
    CHECK(slurp(call.local_path(":TEMP/source-hello.wav")) == "RIFF-hello");
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
    CHECK(fail(Json::object({{"url", "ftp://127.0.0.1/x.wav"}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", "file:///nonexistent/ivrapi/x.wav"}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", "http://127.0.0.1:1/x.wav"}, {"destpath", ":GS_PUB/a"}})));
    CHECK(fail(Json::object({{"url", server.http_url("/x.wav")}, {"destpath", "/etc"}})));
    CHECK(fail(Json::object({{"destpath", ":GS_PUB/a"}})));
}

namespace {
std::string write_tmp(const std::string& dir, const std::string& rel, const std::string& bytes) {
    std::filesystem::create_directories(std::filesystem::path(dir + "/" + rel).parent_path());
    std::ofstream(dir + "/" + rel, std::ios::binary) << bytes;
    return dir + "/" + rel;
}
}  // namespace

TEST_CASE(":TEMP belongs to one script: another call cannot use it, and it is deleted when the call ends",
          "[mock][files]") {
    Server server(fast_options());
    server.add_http_resource("/media/greeting.wav", "RIFF-greeting");
    Peer p(server);
    auto a = server.start_call();
    auto b = server.start_call();
    REQUIRE(p.accept(a) == "ok");
    REQUIRE(p.accept(b) == "ok");
    auto up = p.ws.call("ivrapi_file_upload_temp", with(ids(a), "url", server.http_url("/media/greeting.wav")));
    REQUIRE(result_of(up) == ":TEMP/greeting.wav");
    const std::string local = a.local_path(":TEMP/greeting.wav");
    REQUIRE(std::filesystem::exists(local));
    CHECK(b.local_path(":TEMP/greeting.wav") != local);

    // Call b reuses a's temp path: refused, as on the platform (even with any_path_plays).
    auto r = p.ws.call("ivrapi_component_apply",
                       with(ids(b), "data", Json::object({{"oType", 204}, {"file", ":TEMP/greeting.wav"}})));
    REQUIRE(result_of(r) == "error");
    CHECK(r->body.find("reason")->as_string().find("not in this script's temp folder") != std::string::npos);
    CHECK(result_of(p.ws.call("ivrapi_file_get_path", with(ids(b), "path", ":TEMP/greeting.wav"))) == "error");
    CHECK(b.components().empty());
    // Call a plays it.
    CHECK(p.apply(a, Json::object({{"oType", 204}, {"file", ":TEMP/greeting.wav"}})) == "ok");
    REQUIRE(p.stopped());

    // A record lives in the temp folder too; both go when the script ends.
    CHECK(p.apply(a, Json::object({{"oType", 208}, {"recTimeSec", 1}})) == "ok");
    auto rec = result_field(p.stopped(), "nameVar");
    REQUIRE(std::filesystem::exists(a.local_path(rec)));
    CHECK(result_of(p.ws.call("ivrapi_abort", ids(a))) == "ok");
    REQUIRE(a.wait_ended(2000ms));
    CHECK_FALSE(std::filesystem::exists(local));
    CHECK_FALSE(std::filesystem::exists(a.local_path(rec)));
    CHECK_FALSE(b.ended());
}

TEST_CASE("a temp upload that completes after its call ended is not stored", "[mock][files]") {
    Server server(fast_options());
    server.add_http_resource("/slow.wav", "RIFF-slow");
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    // Hang up while the fetch may be in flight: whatever the order, no file survives the call.
    p.ws.request("ivrapi_file_upload_temp", with(ids(call), "url", server.http_url("/slow.wav")));
    call.hangup();
    REQUIRE(call.wait_ended(2000ms));
    REQUIRE(server.wait_for([](const Server& s) { return s.request_count("ivrapi_file_upload_temp") == 1; }, 2000ms));
    auto reply = p.ws.wait("ivrapi_file_upload_temp_result", 5000ms);
    REQUIRE(reply);
    CHECK_FALSE(std::filesystem::exists(call.local_path(":TEMP/slow.wav")));
}

TEST_CASE("a path that does not exist is refused unless any_path_plays; static storage can be seeded",
          "[mock][files]") {
    const std::string seed =
        std::filesystem::temp_directory_path().string() + "/ivrapi-mock-seed-" + std::to_string(::getpid());
    write_tmp(seed, "prompts/menu.wav", "RIFF-menu");
    write_tmp(seed, "random/a.wav", "RIFF-a");
    write_tmp(seed + "-script", "hello.wav", "RIFF-hello");
    ServerOptions o = fast_options();
    o.any_path_plays = false;
    o.static_dirs[":GLOBALSHARE_PUBLIC"] = seed;  // the long name and the alias are one storage
    o.script_dir = seed + "-script";
    Server server(o);
    server.add_http_resource("/up.wav", "RIFF-up");
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    auto play = [&](const std::string& file) {
        auto r = p.ws.call("ivrapi_component_apply",
                           with(ids(call), "data", Json::object({{"oType", 204}, {"file", file}})));
        if (result_of(r) == "ok") REQUIRE(p.stopped());
        return r ? r->body : Json();
    };
    CHECK(play(":GS_PUB/prompts/menu.wav").find("result")->as_string() == "ok");
    CHECK(play(":GS_PUB/random").find("result")->as_string() == "ok");  // a directory: a random file of it
    CHECK(play("hello.wav").find("result")->as_string() == "ok");       // a file attached to the script
    auto missing = play(":GS_PUB/prompts/nope.wav");
    REQUIRE(missing.find("result")->as_string() == "error");
    CHECK(missing.find("reason")->as_string() == "file not found: :GS_PUB/prompts/nope.wav");
    CHECK(play("other.wav").find("result")->as_string() == "error");
    CHECK(play(":SYN_DOM/x.wav").find("result")->as_string() == "error");
    auto fax = p.ws.call("ivrapi_component_apply",
                         with(ids(call), "data", Json::object({{"oType", 213}, {"file", ":GS_PUB/fax.tif"}})));
    CHECK(result_of(fax) == "error");
    // An upload to a seeded storage lands in the mapped folder, and then plays.
    auto up = p.ws.call("ivrapi_file_upload_static",
                        with(with(ids(call), "url", server.http_url("/up.wav")), "destpath", ":GS_PUB/new"));
    REQUIRE(result_of(up) == ":GS_PUB/new/up.wav");
    CHECK(slurp(seed + "/new/up.wav") == "RIFF-up");
    CHECK(play(":GS_PUB/new/up.wav").find("result")->as_string() == "ok");
    CHECK(call.played_files() ==
          std::vector<std::string>{":GS_PUB/prompts/menu.wav", ":GS_PUB/random", "hello.wav", ":GS_PUB/new/up.wav"});
    std::filesystem::remove_all(seed);
    std::filesystem::remove_all(seed + "-script");

    // The library default keeps quick demos working: any static path plays.
    Server lenient(fast_options());
    Peer q(lenient);
    auto c2 = lenient.start_call();
    REQUIRE(q.accept(c2) == "ok");
    CHECK(q.apply(c2, Json::object({{"oType", 204}, {"file", ":GS_PUB/never/uploaded.wav"}})) == "ok");
    REQUIRE(q.stopped());
    CHECK(q.apply(c2, Json::object({{"oType", 204}, {"file", "bare.wav"}})) == "ok");
    REQUIRE(q.stopped());

    ServerOptions bad = fast_options();
    bad.static_dirs[":TEMP"] = "/tmp";
    CHECK_THROWS_AS(Server(bad), std::invalid_argument);
}

TEST_CASE("the HTTP server says Connection: close, so a keep-alive client does not reuse a dead socket",
          "[mock][files]") {
    Server server(fast_options());
    server.add_http_resource("/a.wav", "RIFF-a", "audio/wav");
    // Two pipelined keep-alive requests on one socket: one response, then the server closes.
    auto resp = raw_http(server.port(),
                         "GET /a.wav HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
                         "GET /a.wav HTTP/1.1\r\nHost: x\r\n\r\n");
    INFO(resp);
    CHECK(resp.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(resp.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(resp.find("\r\nContent-Length: 6\r\n") != std::string::npos);
    CHECK(resp.find("HTTP/1.1", 1) == std::string::npos);  // no second response: closed
    // HEAD: the headers with the body's length, no body.
    auto head = raw_http(server.port(), "HEAD /a.wav HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(head.find("Content-Length: 6") != std::string::npos);
    CHECK(head.substr(head.find("\r\n\r\n") + 4).empty());
    CHECK(http_get(server.port(), "/missing").headers.find("Connection: close") != std::string::npos);
}

TEST_CASE("uploads from https:// URLs verify the server against upload_ca_file", "[mock][files]") {
    ServerOptions tls = fast_options();
    tls.tls = true;
    tls.cert_file = cert("server.pem");
    tls.key_file = cert("server.key");
    Server source(tls);
    source.add_http_resource("/secure.wav", "RIFF-secure");
    const std::string url = source.http_url("/secure.wav");
    REQUIRE(url.rfind("https://localhost:", 0) == 0);

    auto upload = [&](const std::string& ca, const std::string& u) {
        ServerOptions o = fast_options();
        o.upload_ca_file = ca;
        Server server(o);
        RawClient c;
        REQUIRE(c.connect(server.url_with_token()));
        auto r = c.call("file_upload_static", Json::object({{"url", u}, {"destpath", ":GS_PUB/s"}}), 10000ms);
        INFO((r ? r->raw : std::string("no reply")));
        std::string got = result_of(r);
        if (got == ":GS_PUB/s/secure.wav") CHECK(slurp(server.local_path(got)) == "RIFF-secure");
        return got == "error" ? r->body.find("reason")->as_string() : got;
    };
    CHECK(upload(cert("ca.pem"), url) == ":GS_PUB/s/secure.wav");
    const std::string by_ip = "https://127.0.0.1:" + std::to_string(source.port()) + "/secure.wav";
    CHECK(upload(cert("ca.pem"), by_ip) == ":GS_PUB/s/secure.wav");  // the certificate names 127.0.0.1 too
    CHECK(upload(cert("other-ca.pem"), url).find("certificate not trusted") != std::string::npos);
    CHECK(upload("", url).find("certificate not trusted") != std::string::npos);  // system CAs
    CHECK(upload(cert("nope.pem"), url).find("CA file") != std::string::npos);
}
