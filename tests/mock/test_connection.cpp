// Connecting to the mock: token check on both URL forms, ws and wss, connection_info,
// reply envelope (qid echo, errors), malformed frames.
#include "mock/helpers.hpp"

using namespace mocktest;

TEST_CASE("token in the path is accepted, a wrong one refused with 401", "[mock][auth]") {
    Server server;
    RawClient ok;
    REQUIRE(ok.connect(server.url_with_token()));
    CHECK(server.wait_for([](const Server& s) { return s.connection_count() == 1; }, 2000ms));

    RawClient bad;
    CHECK_FALSE(bad.connect(server.url() + "/wrong-token"));
    CHECK(bad.http_status() == 401);

    RawClient none;
    CHECK_FALSE(none.connect(server.url()));
    CHECK(none.http_status() == 401);

    RawClient path;
    CHECK_FALSE(path.connect("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws/other"));
    CHECK(path.http_status() == 404);
}

TEST_CASE("Authorization: Bearer on /ws/token/v1 is accepted", "[mock][auth]") {
    ServerOptions o;
    o.token = "secret-42";
    o.refuse_status = 403;
    Server server(o);
    RawClient ok;
    REQUIRE(ok.connect(server.url(), "secret-42"));
    auto info = ok.call("connection_info");
    REQUIRE(info);
    CHECK(result_of(info) == "ok");

    RawClient bad;
    CHECK_FALSE(bad.connect(server.url(), "secret-43"));
    CHECK(bad.http_status() == 403);  // refuse_status is configurable
}

TEST_CASE("wss with the test CA, bearer and path forms", "[mock][auth][tls]") {
    ServerOptions o;
    o.tls = true;
    o.cert_file = cert("server.pem");
    o.key_file = cert("server.key");
    Server server(o);
    CHECK(server.url().rfind("wss://localhost:", 0) == 0);

    RawClient a;
    REQUIRE(a.connect(server.url_with_token(), "", cert("ca.pem")));
    CHECK(result_of(a.call("connection_info")) == "ok");

    RawClient b;
    REQUIRE(b.connect(server.url(), "test-token", cert("ca.pem")));
    CHECK(result_of(b.call("connection_info")) == "ok");

    RawClient c;
    CHECK_FALSE(c.connect(server.url(), "nope", cert("ca.pem")));
    CHECK(c.http_status() == 401);

    RawClient d;  // an unrelated CA: the TLS handshake fails, so the server is real TLS
    CHECK_FALSE(d.connect(server.url_with_token(), "", cert("other-ca.pem")));

    // A whole controlled session over wss.
    REQUIRE(result_of(subscribe(a)) == "ok");
    auto call = server.start_call();
    REQUIRE(a.wait("notify"));
    REQUIRE(result_of(a.call("ivrapi_accept", ids(call))) == "ok");
    REQUIRE(result_of(a.call("ivrapi_component_apply",
                             with(ids(call), "data", Json::object({{"oType", 207}, {"dtmf", "1"}})))) == "ok");
    auto st = a.wait("ivrapi_component_stopped");
    REQUIRE(st);
    CHECK(st->body.find("transferKey")->as_string() == "transfer");
    CHECK(call.sent_dtmf() == "1");
}

TEST_CASE("connection_info_result carries every documented field", "[mock]") {
    ServerOptions o;
    o.capabilities = {"ivrapi", "subscr"};
    Server server(o);
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    auto r = c.call("connection_info");
    REQUIRE(r);
    for (const char* field :
         {"qid", "result", "site", "ownertype", "domain", "sessionid", "connectionid", "capabilities", "datetime",
          "timestamp", "integration_point_id", "integration_point_type", "roles", "token"}) {
        INFO(field);
        CHECK(r->body.contains(field));
    }
    CHECK(r->body.find("ownertype")->as_string() == "token");
    CHECK(r->body.find("capabilities")->size() == 2);
    CHECK(r->body.find("timestamp")->as_int() > 1600000000000LL);
    CHECK(r->body.find("datetime")->as_string().back() == 'Z');
}

TEST_CASE("replies echo the qid exactly: integer, float, string; none without one", "[mock]") {
    Server server;
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    c.send(R"(["connection_info",{"qid":930293482233}])");
    c.send(R"(["connection_info",{"qid":0.1234}])");
    c.send(R"(["connection_info",{"qid":"16066361-dfc0-49f6-b734-9b3dda09db22"}])");
    c.send(R"(["connection_info",{}])");
    REQUIRE(c.wait_count("connection_info_result", 4));
    auto frames = c.frames();
    CHECK(frames[0].raw.find(R"("qid":930293482233)") != std::string::npos);
    CHECK(frames[1].raw.find(R"("qid":0.1234)") != std::string::npos);
    CHECK(frames[2].raw.find(R"("qid":"16066361-dfc0-49f6-b734-9b3dda09db22")") != std::string::npos);
    CHECK_FALSE(frames[3].body.contains("qid"));
}

TEST_CASE("unknown requests get an error reply; malformed frames are logged, not answered", "[mock]") {
    Server server;
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    auto r = c.call("no_such_request");
    REQUIRE(r);
    CHECK(result_of(r) == "error");
    CHECK(r->body.find("reason")->as_string().find("unknown") != std::string::npos);

    c.send("not json");
    c.send(R"({"a":1})");
    c.send(R"(["x"])");
    c.send(std::string(200, '[') + std::string(200, ']'));
    c.send(R"(["connection_info",{"qid":7}])");
    REQUIRE(c.wait_count("connection_info_result", 1));
    REQUIRE(server.wait_for([](const Server& s) { return s.requests().size() >= 6; }, 2000ms));
    auto reqs = server.requests();
    CHECK(reqs[1].name.empty());
    CHECK(reqs[1].raw == "not json");
    CHECK(reqs[2].name.empty());
    CHECK(reqs[3].name.empty());
    CHECK(reqs[4].name.empty());
    CHECK(reqs[5].name == "connection_info");
    CHECK(reqs[5].body.find("qid")->as_int() == 7);
    CHECK(reqs[5].connection == reqs[0].connection);
    CHECK(c.frames().size() == 2);  // the error reply and connection_info_result only
}

TEST_CASE("a missing capability refuses its requests", "[mock]") {
    ServerOptions o;
    o.capabilities = {"rest"};
    Server server(o);
    RawClient c;
    REQUIRE(c.connect(server.url_with_token()));
    CHECK(result_of(subscribe(c)) == "error");
    CHECK(result_of(c.call("ivrapi_accept", Json::object({{"key", "k"}, {"ivrid", "x"}}))) == "error");
}

TEST_CASE("the log callback gets one line per event and never the token", "[mock]") {
    auto lines = std::make_shared<std::vector<std::string>>();
    auto m = std::make_shared<std::mutex>();
    ServerOptions o;
    o.token = "very-secret-token";
    o.log = [lines, m](const std::string& l) {
        std::lock_guard<std::mutex> lock(*m);
        lines->push_back(l);
    };
    {
        Server server(o);
        RawClient bad;
        CHECK_FALSE(bad.connect(server.url() + "/very-secret-tokeX"));
        RawClient c;
        REQUIRE(c.connect(server.url_with_token()));
        REQUIRE(c.call("connection_info"));
    }
    std::lock_guard<std::mutex> lock(*m);
    CHECK(lines->size() >= 3);
    for (const auto& l : *lines) {
        CHECK(l.find('\n') == std::string::npos);
        CHECK(l.find("very-secret") == std::string::npos);
    }
}

TEST_CASE("odd and hostile input never crashes the mock", "[mock][robustness]") {
    Server server(fast_options());
    Peer p(server);
    auto call = server.start_call();
    REQUIRE(p.accept(call) == "ok");
    const std::string ids_json = R"("key":")" + call.key() + R"(","ivrid":")" + call.ivrid() + "\"";
    const std::vector<std::string> frames = {
        R"(["ivrapi_component_apply",{"qid":1,)" + ids_json + R"(,"data":[1,2]}])",
        R"(["ivrapi_component_apply",{"qid":2,)" + ids_json + R"(,"data":{"oType":"abc"}}])",
        R"(["ivrapi_component_apply",{"qid":3,)" + ids_json + R"(,"data":{"oType":1e300}}])",
        R"(["ivrapi_component_apply",{"qid":4,)" + ids_json +
            R"(,"data":{"oType":206,"timeoutSec":-1e308,"maxSymbolCount":1e300,"terminateSymbols":[1,{}]}}])",
        R"(["ivrapi_component_terminate",{"qid":5,)" + ids_json + R"(}])",
        R"(["ivrapi_component_apply",{"qid":6,)" + ids_json +
            R"(,"data":{"oType":204,"mode":"x","file":{"a":1},"oId":{"deep":[1,2,3]}}}])",
        R"(["ivrapi_component_apply",{"qid":7,)" + ids_json + R"(,"data":{"oType":207,"dtmf":"12\u0000"}}])",
        R"(["ivrapi_file_get_path",{"qid":8,)" + ids_json + R"(,"path":":TEMP/\u0000/../x"}])",
        R"(["ivrapi_file_upload_temp",{"qid":9,)" + ids_json + R"(,"url":"http://[::1"}])",
        R"(["ivrapi_file_upload_temp",{"qid":10,)" + ids_json + R"(,"url":"http://127.0.0.1:99999999/x"}])",
        R"(["subscribe",{"qid":11,"id":{"x":1},"expires":"soon"}])",
        R"(["subscribe",{"qid":12,"id":"big","expires":1e308,"events":"ivrevents.*"}])",
        R"(["ivrapi_accept",{"qid":[1,2],"key":5,"ivrid":null}])",
        R"(["connection_info",{"qid":{"nested":{"qid":1}}}])",
        R"(["",{}])",
        R"([1,{}])",
    };
    for (const auto& f : frames) p.ws.send(f);
    REQUIRE(server.wait_for_request("connection_info", 5000ms, 1));
    auto info = p.ws.call("connection_info");
    REQUIRE(info);  // still serving
    CHECK(result_of(info) == "ok");
    CHECK(server.subscription_count() == 2);  // "s1" and "big"
    CHECK(p.ws.wait_count("ivrapi_file_upload_temp_result", 2, 10000ms));
}
