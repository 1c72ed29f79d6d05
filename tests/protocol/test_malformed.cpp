// Hostile and broken input: every case gives a clear error value, none crashes.
#include "protocol/codec.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace ivrapi;
using namespace ivrapi::protocol;

namespace {

// Decoding must fail with `code` and a message containing `needle`.
void expect_error(const std::string& frame, const std::string& needle, Errc code = Errc::protocol_error,
                  ParseLimits limits = {}) {
    INFO("frame: " << frame.substr(0, 120));
    auto r = decode(frame, limits);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is(code));
    CHECK_THAT(r.error().message, Catch::Matchers::Contains(needle));
}

}  // namespace

TEST_CASE("frames that are not protocol messages") {
    expect_error("", "empty frame");
    expect_error("not json", "not JSON");
    expect_error("{\"qid\":1}", "not a JSON array");
    expect_error("\"text\"", "not a JSON array");
    expect_error("42", "not a JSON array");
    expect_error("[]", "0 elements");
    expect_error("[\"notify\"]", "1 elements");
    expect_error("[\"a\",{},{}]", "3 elements");
    expect_error("[1,{}]", "name (element 0) is not a string");
    expect_error("[null,{}]", "name (element 0) is not a string");
    expect_error("[\"ivrapi_dtmf\",[]]", "body (element 1) is not an object");
    expect_error("[\"ivrapi_dtmf\",\"x\"]", "body (element 1) is not an object");
    expect_error("[\"\",{}]", "name is empty");
    expect_error("[\"x\",{}] trailing", "not JSON");
    expect_error("[\"x\",{\"a\":1,}]", "not JSON");
}

TEST_CASE("wrong field types name the field") {
    expect_error(R"(["notify",{"class":5,"type":"api_start"}])", "field 'class'");
    expect_error(R"(["notify",{"class":"ivrevents","type":"api_start","data":[]}])", "field 'data'");
    expect_error(R"(["notify",{"class":"ivrevents","type":"api_start","eventts":"soon"}])", "field 'eventts'");
    expect_error(R"(["notify",{"class":"ivrevents","type":"api_start","data":{"ivrid":7}}])", "field 'ivrid'");
    expect_error(R"(["notify",{"class":"ivrevents","type":"api_start","data":{"ivrts":{}}}])", "field 'ivrts'");
    expect_error(R"(["notify",{"class":"ivrevents","type":"api_stop","data":{"reason":[]}}])", "field 'reason'");
    expect_error(R"(["ivrapi_component_stopped",{"oId":"x1","transferKey":"transfer"}])", "field 'oId'");
    // results that are not an object (e.g. [] for an empty set) do not cost the completion.
    auto odd = decode(R"(["ivrapi_component_stopped",{"oId":1,"results":[],"key":7}])");
    REQUIRE(odd.ok());
    CHECK(std::get<ComponentStopped>(*odd).results.is_object());
    CHECK(std::get<ComponentStopped>(*odd).key == "7");
    expect_error(R"(["ivrapi_component_stopped",{"oId":1,"transferKey":false}])", "field 'transferKey'");
    expect_error(R"(["ivrapi_dtmf",{"mode":1,"dtmf":"5"}])", "field 'mode'");
    expect_error(R"(["ivrapi_dtmf",{"mode":"idle","dtmf":{}}])", "field 'dtmf'");
}

TEST_CASE("huge and negative numbers") {
    expect_error(R"(["notify",{"class":"c","eventts":1e300}])", "field 'eventts'");
    expect_error(R"(["ivrapi_component_stopped",{"oId":99999999999999999999999}])", "field 'oId'");
    // A negative oId is a number the SDK never sent; it decodes and simply won't match.
    auto neg = decode(R"(["ivrapi_component_stopped",{"oId":-5}])");
    REQUIRE(neg.ok());
    CHECK(std::get<ComponentStopped>(*neg).oid == -5);
    auto big =
        decode(R"(["notify",{"class":"ivrevents","type":"api_start","eventts":9007199254740993,"data":{"ivrts":-1}}])");
    REQUIRE(big.ok());
    CHECK(std::get<ApiStartEvent>(*big).eventts == 9007199254740993LL);  // 64-bit exact
    CHECK(std::get<ApiStartEvent>(*big).ivrts == -1);
}

TEST_CASE("qid of every odd type is reported, not matched") {
    auto qid_of = [](const std::string& q) {
        auto r = decode(R"(["ivrapi_abort_result",{"qid":)" + q + R"(,"result":"ok"}])");
        REQUIRE(r.ok());
        return std::get<Reply>(*r).qid;
    };
    CHECK(qid_of("17").state == QidField::State::valid);
    CHECK(qid_of("17").value == 17);
    CHECK(qid_of("17.0").value == 17);
    CHECK(qid_of("17.0").state == QidField::State::valid);
    CHECK(qid_of("\"17\"").value == 17);
    CHECK(qid_of("\"17\"").state == QidField::State::valid);
    for (const char* odd : {"0.1234", "-1", "1e300", "\"\"", "\"17a\"", "\"-17\"", "null", "true", "[17]", "{\"q\":17}",
                            "18446744073709551615", "\"99999999999999999999\""}) {
        INFO(odd);
        auto q = qid_of(odd);
        CHECK(q.state == QidField::State::invalid);
        CHECK_FALSE(q.text.empty());
    }
    auto absent = decode(R"(["ivrapi_abort_result",{"result":"ok"}])");
    REQUIRE(absent.ok());
    CHECK(std::get<Reply>(*absent).qid.state == QidField::State::absent);
}

TEST_CASE("deep nesting, huge strings and invalid UTF-8 are bounded") {
    std::string deep = "[\"x\",{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}]";
    expect_error(deep, "nested deeper");
    // Objects and arrays count together: 2 + 2 x 31 = 64 levels pass, 2 + 2 x 32 fail.
    const auto mixed = [](int pairs) {
        std::string open, close;
        for (int i = 0; i < pairs; ++i) {
            open += "{\"a\":[";
            close += "]}";
        }
        return "[\"x\",{\"a\":" + open + "1" + close + "}]";
    };
    CHECK(decode(mixed(31)).ok());
    expect_error(mixed(32), "nested deeper");
    // Brackets inside strings do not count as nesting.
    auto quoted = decode("[\"x\",{\"a\":\"" + std::string(1000, '[') + "\"}]");
    CHECK(quoted.ok());

    std::string huge = "[\"x\",{\"a\":\"" + std::string(16u * 1024u * 1024u, 'a') + "\"}]";
    expect_error(huge, "exceeds the limit", Errc::message_too_large);
    ParseLimits small;
    small.max_bytes = 64;
    expect_error(R"(["ivrapi_dtmf",{"mode":"idle","dtmf":"5","padding":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}])",
                 "exceeds the limit", Errc::message_too_large, small);

    expect_error("[\"x\",{\"a\":\"\xff\xfe\"}]", "not JSON");
    expect_error("[\"x\",{\"a\":\"\xc3\x28\"}]", "not JSON");
    expect_error("[\"\xed\xa0\x80\",{}]", "not JSON");  // UTF-16 surrogate encoded in UTF-8
    auto ok = decode("[\"x\",{\"a\":\"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"}]");
    CHECK(ok.ok());
}

TEST_CASE("escapes must decode to UTF-8: a lone low surrogate is rejected") {
    // RapidJSON 1.1 checks only that a high surrogate is followed by a low one.
    ParseLimits unchecked;
    unchecked.validate_utf8 = false;  // escapes are checked even when the bytes are not
    for (const auto& limits : {ParseLimits{}, unchecked}) {
        expect_error(R"(["x",{"a":"\udc00"}])", "surrogate", Errc::protocol_error, limits);
        expect_error(R"(["x",{"a":"ok \uDFFF tail"}])", "surrogate", Errc::protocol_error, limits);
        expect_error(R"(["x",{"\udc01":1}])", "surrogate", Errc::protocol_error, limits);  // in a key
        // The fast paths (dtmf, notify, replies) reject it as the general path does.
        expect_error(R"(["ivrapi_dtmf",{"dtmf":"\udc00"}])", "surrogate", Errc::protocol_error, limits);
        expect_error(R"(["notify",{"class":"c","type":"t","data":{"a":"\udc00"}}])", "surrogate", Errc::protocol_error,
                     limits);
        expect_error(R"(["ping_result",{"qid":1,"result":"ok","x":"\udc00"}])", "surrogate", Errc::protocol_error,
                     limits);
        expect_error(R"(["x",{"a":"\ud800"}])", "surrogate", Errc::protocol_error, limits);  // high, alone
        // A pair, an escaped backslash before "udc00", and U+E000 (bytes EE 80 80) are fine.
        auto pair = decode(R"(["x",{"a":"\ud83d\ude00","b":"\\udc00","c":"\ue000"}])", limits);
        REQUIRE(pair.ok());
        const auto& body = std::get<GenericMessage>(*pair).body;
        CHECK(body.find("a")->as_string() == "\xf0\x9f\x98\x80");
        CHECK(body.find("b")->as_string() == "\\udc00");
        CHECK(body.find("c")->as_string() == "\xee\x80\x80");
    }
    // U+D7FF, the last code point before the surrogates, is ED 9F BF: valid.
    auto below = decode(R"(["x",{"a":"\ud7ff"}])");
    REQUIRE(below.ok());
    CHECK(std::get<GenericMessage>(*below).body.find("a")->as_string() == "\xed\x9f\xbf");
}

TEST_CASE("duplicate keys are rejected") {
    expect_error(R"(["ivrapi_abort_result",{"qid":1,"qid":2,"result":"ok"}])", "field 'qid' appears twice");
    std::string many = R"(["x",{)";
    for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":1,";
    many += R"("k7":2}])";
    expect_error(many, "field 'k7' appears twice");
}

TEST_CASE("unknown names become generic messages - error replies are classified") {
    auto g = decode(R"(["script_message",{"text":"hi","n":[1,2]}])");
    REQUIRE(g.ok());
    const auto& m = std::get<GenericMessage>(*g);
    CHECK(m.name == "script_message");
    CHECK(m.body.find("n")->size() == 2);

    auto r = decode(R"(["ivrapi_component_apply_result",{"qid":3,"result":"ok","error":"bad oType"}])");
    REQUIRE(r.ok());
    CHECK_FALSE(std::get<Reply>(*r).success);
    CHECK_THAT(std::get<Reply>(*r).error.message, Catch::Matchers::Contains("bad oType"));

    auto notok = decode(R"(["ivrapi_abort_result",{"qid":3,"result":"later"}])");
    CHECK_FALSE(std::get<Reply>(*notok).success);
    auto path_ok = decode(R"(["ivrapi_file_get_path_result",{"qid":3,"result":"/temp/x.wav"}])");
    CHECK(std::get<Reply>(*path_ok).success);
    CHECK(std::get<Reply>(*path_ok).value == "/temp/x.wav");
    auto path_missing = decode(R"(["ivrapi_file_get_path_result",{"qid":3}])");
    CHECK_FALSE(std::get<Reply>(*path_missing).success);
    auto path_error = decode(R"(["file_upload_static_result",{"qid":3,"result":"error","reason":"404"}])");
    CHECK_FALSE(std::get<Reply>(*path_error).success);
    auto lenient = decode(R"(["start_svcscript_result",{"qid":3,"result":{"x":1}}])");
    CHECK(std::get<Reply>(*lenient).success);
    auto errcode = decode(R"(["start_svcscript_result",{"qid":3,"errorcode":17}])");
    CHECK_FALSE(std::get<Reply>(*errcode).success);
    auto accept_other = decode(R"(["ivrapi_accept_result",{"qid":3,"result":"error","reason":"invalid key"}])");
    CHECK(std::get<Reply>(*accept_other).error.is(Errc::server_error));
}

TEST_CASE("a fuzz-like sweep over truncations of valid frames never crashes") {
    const std::string frames[] = {
        R"(["notify",{"class":"ivrevents","type":"api_start","eventts":1602002803754,"data":{"ivrid":"r","key":"k","params":"{\"a\":[1,2,{\"b\":null}]}","state":"early"}}])",
        R"(["ivrapi_component_stopped",{"oId":12,"transferKey":"transfer","results":{"dtmfBuffer":"78","n":{"deep":[1]}}}])",
        R"(["ivrapi_file_get_path_result",{"qid":"17","result":"/temp/x.wav"}])",
    };
    int decoded = 0;
    for (const auto& f : frames) {
        for (std::size_t n = 0; n <= f.size(); ++n) {
            auto r = decode(f.substr(0, n));
            decoded += r.ok() ? 1 : 0;
            std::string flipped = f;
            if (n < f.size()) flipped[n] = static_cast<char>(flipped[n] ^ 0x5a);
            (void)decode(flipped);
        }
    }
    CHECK(decoded == 3);  // only the complete frames
}

TEST_CASE("api_start params sent as JSON rather than a string are accepted") {
    auto r = decode(
        R"(["notify",{"class":"ivrevents","type":"api_start","data":{"ivrid":"r","params":{"lang":"en","n":[1,2]}}}])");
    REQUIRE(r.ok());
    const auto& e = std::get<ApiStartEvent>(*r);
    CHECK(e.params == R"({"lang":"en","n":[1,2]})");
    REQUIRE(e.params_json);
    CHECK(e.params_json->find("lang")->as_string() == "en");
    auto text =
        decode(R"(["notify",{"class":"ivrevents","type":"api_start","data":{"ivrid":"r","params":"free text"}}])");
    REQUIRE(text.ok());
    CHECK(std::get<ApiStartEvent>(*text).params == "free text");
    CHECK_FALSE(std::get<ApiStartEvent>(*text).params_json);
}

TEST_CASE("a NUL byte anywhere is rejected, and doubles survive a dump/parse round trip") {
    expect_error(std::string("[\"x\",{}]") + std::string(1, '\0') + "garbage", "NUL byte");
    expect_error(std::string("[\"x\",{\"a\":\"b") + std::string(1, '\0') + "\"}]", "NUL byte");
    CHECK_FALSE(Json::parse(std::string("1") + std::string(1, '\0') + "2").ok());
    auto big = Json::parse("4444444444444444444444444");
    REQUIRE(big.ok());
    auto again = Json::parse(big->dump());
    REQUIRE(again.ok());
    CHECK(*again == *big);
}

// A frame that ends inside a multi-byte UTF-8 sequence, parsed in situ with UTF-8
// checked: an error, and no read past the copy (ASan caught one before the copy was padded;
// found by the fuzzer).
TEST_CASE("malformed: a truncated UTF-8 sequence at the frame's end is an error, read within bounds") {
    // Over 30 bytes and decoded first on a fresh thread: the decoder's thread-local copy is
    // then allocated at the frame's exact size, so a read past it is one ASan sees.
    const std::string pad(40, 'a');
    const std::vector<std::string> frames = {
        "[\"" + pad + "\xe0",
        "[\"" + pad + "\xf0",
        "[\"" + pad + "\xf0\x9f",
        "[\"" + pad + "\xf4\x8f\xbf",
        "[\"ivrapi_dtmf\",{\"key\":\"" + pad + "\xe0",
        "[\"notify\",{\"class\":\"" + pad + "\xf0",
        "[\"ivrapi_abort_result\",{\"qid\":\"" + pad + "\xf4",
        "[\"ivrapi_component_stopped\",{\"transferKey\":\"" + pad + "\xe0",
    };
    for (const auto& frame : frames) {
        for (bool validate : {true, false}) {
            for (bool fast : {true, false}) {
                INFO("frame: " << frame << " validate " << validate << " fast " << fast);
                ParseLimits limits;
                limits.validate_utf8 = validate;
                limits.fast_paths = fast;
                std::optional<Result<Inbound>> r;
                std::thread([&] { r.emplace(decode(frame, limits)); }).join();
                REQUIRE(r.has_value());
                REQUIRE_FALSE(r->ok());
                CHECK(r->error().code == Errc::protocol_error);
            }
        }
    }
}
