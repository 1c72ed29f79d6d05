// The decoder's fast paths (protocol/fast_decode.hpp: ivrapi_dtmf, notify, replies) must
// give exactly what the general path gives, for every frame: compared here on the
// protocol vectors, on hand-made edge cases and on thousands of random mutations of a
// DTMF, a notify and a reply frame.
#include "protocol/codec.hpp"
#include "protocol/fast_decode.hpp"
#include "protocol/vector_data.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace ivrapi;
using namespace ivrapi::protocol;

namespace {

ParseLimits general_only(ParseLimits l = {}) {
    l.fast_paths = false;
    return l;
}

// Same value, same types (1 and 1.0 compare equal but dump differently) and same order.
void same_json(const Json& a, const Json& b) {
    CHECK(a == b);
    CHECK(a.dump() == b.dump());
}

void same_error(const Error& a, const Error& b) {
    CHECK(a.code == b.code);
    CHECK(a.message == b.message);
    CHECK(a.raw_reply == b.raw_reply);
}

// Both paths agree on success, on the event, or on the error.
void same_result(const std::string& frame, const ParseLimits& limits = {}) {
    INFO("frame: " << frame);
    const auto fast = decode(frame, limits);
    const auto general = decode(frame, general_only(limits));
    REQUIRE(fast.ok() == general.ok());
    if (!fast.ok()) {
        same_error(fast.error(), general.error());
        return;
    }
    REQUIRE(fast->index() == general->index());
    if (const auto* a = std::get_if<DtmfEvent>(&*fast)) {
        const auto& b = std::get<DtmfEvent>(*general);
        CHECK(a->key == b.key);
        CHECK(a->ivrid == b.ivrid);
        CHECK(a->mode == b.mode);
        CHECK(a->oid == b.oid);
        CHECK(a->dtmf == b.dtmf);
    }
    if (const auto* a = std::get_if<NotifyEvent>(&*fast)) {
        const auto& b = std::get<NotifyEvent>(*general);
        CHECK(a->event_class == b.event_class);
        CHECK(a->type == b.type);
        CHECK(a->eventts == b.eventts);
        same_json(a->data, b.data);
        CHECK(a->raw == b.raw);
    }
    const auto same_identity = [](const SessionIdentity& a, const SessionIdentity& b) {
        CHECK(a.ivrid == b.ivrid);
        CHECK(a.key == b.key);
        CHECK(a.callid == b.callid);
        CHECK(a.cid == b.cid);
        CHECK(a.sm_id == b.sm_id);
        CHECK(a.componentname == b.componentname);
        CHECK(a.componentid == b.componentid);
        CHECK(a.ivrts == b.ivrts);
        CHECK(a.eventts == b.eventts);
    };
    if (const auto* a = std::get_if<ApiStartEvent>(&*fast)) {
        const auto& b = std::get<ApiStartEvent>(*general);
        same_identity(*a, b);
        CHECK(a->state == b.state);
        CHECK(a->state_text == b.state_text);
        CHECK(a->params == b.params);
        REQUIRE(a->params_json.has_value() == b.params_json.has_value());
        if (a->params_json) same_json(*a->params_json, *b.params_json);
        CHECK(a->raw == b.raw);
    }
    if (const auto* a = std::get_if<ApiStopEvent>(&*fast)) {
        const auto& b = std::get<ApiStopEvent>(*general);
        same_identity(*a, b);
        CHECK(a->reason == b.reason);
        CHECK(a->reason_text == b.reason_text);
        CHECK(a->raw == b.raw);
    }
    if (const auto* a = std::get_if<ComponentStopped>(&*fast)) {
        const auto& b = std::get<ComponentStopped>(*general);
        CHECK(a->oid == b.oid);
        CHECK(a->transfer_key == b.transfer_key);
        same_json(a->results, b.results);
        CHECK(a->key == b.key);
        CHECK(a->ivrid == b.ivrid);
        CHECK(a->raw == b.raw);
    }
    if (const auto* a = std::get_if<Reply>(&*fast)) {
        const auto& b = std::get<Reply>(*general);
        CHECK(a->request == b.request);
        CHECK(a->qid.state == b.qid.state);
        CHECK(a->qid.value == b.qid.value);
        CHECK(a->qid.text == b.qid.text);
        CHECK(a->success == b.success);
        CHECK(a->value == b.value);
        same_error(a->error, b.error);
        same_json(a->body, b.body);
    }
}

// Both paths agree, and the fast path took (or declined) the frame as expected.
template <typename Fast>
void same_result_taken(Fast fast, const std::string& frame, bool taken, const ParseLimits& limits = {}) {
    INFO("frame: " << frame);
    CHECK(fast(frame, limits).has_value() == taken);
    same_result(frame, limits);
}

// As same_result_taken for a plain stage; decode() itself reads the frame with that stage
// exactly when the stage takes it.
template <typename Plain>
void same_result_plain(Plain plain, const std::string& frame, bool taken, const ParseLimits& limits = {}) {
    same_result_taken(plain, frame, taken, limits);
    const std::uint64_t before = decode_paths().plain;
    (void)decode(frame, limits);
    CHECK(decode_paths().plain - before == (taken ? 1U : 0U));
}

// `depth` nested arrays/objects: [{"a":[{"a":...1...}]}]
std::string nested(int depth) {
    std::string open, close;
    for (int i = 0; i < depth; ++i) {
        open += i % 2 == 0 ? "{\"a\":" : "[";
        close.insert(0, i % 2 == 0 ? "}" : "]");
    }
    return open + "1" + close;
}

// Random edits of `frame` (replace, insert, delete up to three bytes), each decoded on
// both paths; returns how many the fast path took.
template <typename Fast>
std::size_t mutate_and_compare(const std::string& plain, const std::string& alphabet, unsigned seed, Fast fast) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> edits(1, 3);
    std::size_t taken = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string frame = plain;
        for (int e = edits(rng); e > 0; --e) {
            const std::size_t at = std::uniform_int_distribution<std::size_t>(0, frame.size() - 1)(rng);
            const char c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
            switch (rng() % 3) {
                case 0: frame[at] = c; break;
                case 1: frame.insert(frame.begin() + static_cast<long>(at), c); break;
                default: frame.erase(at, 1); break;
            }
        }
        ParseLimits limits;
        limits.keep_raw_events = (round % 2) == 0;
        limits.validate_utf8 = (round % 5) != 0;
        taken += fast(frame, limits).has_value() ? 1 : 0;
        same_result(frame, limits);
    }
    return taken;
}

const std::string kPlain =
    R"(["ivrapi_dtmf",{"key":"k-1","ivrid":"rDlg-006-Sm41ll","mode":"component","oId":7,"dtmf":"5","callid":"c1@h"}])";

}  // namespace

TEST_CASE("fast decode: takes the plain DTMF frame and gives the general path's event") {
    REQUIRE(decode_dtmf_fast(kPlain, {}).has_value());  // the fast path is really taken
    const auto e = *decode_dtmf_fast(kPlain, {});
    CHECK(e.key == "k-1");
    CHECK(e.ivrid == "rDlg-006-Sm41ll");
    CHECK(e.mode == DtmfMode::component);
    CHECK(e.oid == 7);
    CHECK(e.dtmf == "5");
    same_result(kPlain);
    same_result(R"(["ivrapi_dtmf",{"mode":"idle","dtmf":"#"}])");
    same_result(R"(["ivrapi_dtmf",{}])");
    same_result(R"(["ivrapi_dtmf",{"dtmf":"\u0035","ivrid":"a\"b"}]  )");
}

TEST_CASE("fast decode: declines what only the general path reads, and both agree") {
    const std::vector<std::string> declined = {
        R"(["ivrapi_dtmf",{"dtmf":"5","dtmf":"6"}])",              // repeated key: an error
        R"(["ivrapi_dtmf",{"key":null,"dtmf":"5"}])",              // null: absent
        R"(["ivrapi_dtmf",{"key":12,"dtmf":5}])",                  // numbers read as text
        R"(["ivrapi_dtmf",{"oId":"42"}])",                         // decimal string
        R"(["ivrapi_dtmf",{"oId":42.0}])",                         // integral double
        R"(["ivrapi_dtmf",{"oId":18446744073709551615}])",         // beyond int64: an error
        R"(["ivrapi_dtmf",{"mode":3}])",                           // wrong type: an error
        R"(["ivrapi_dtmf",{"ivrid":true}])",                       // wrong type: an error
        R"(["ivrapi_dtmf",{"extra":{"nested":[1]},"dtmf":"1"}])",  // nested unknown: skipped
        R"(["ivrapi_dtmf",{"dtmf":"1"},3])",                       // three elements: an error
        R"(["ivrapi_dtmf",{"dtmf":"1"}] x)",                       // trailing text: an error
        R"(["ivrapi_dtmf",{"dtmf":"1"})",                          // truncated: an error
        std::string("[\"ivrapi_dtmf\",{\"dtmf\":\"1\"}]\0x", 29),  // NUL byte: an error
        "[\"ivrapi_dtmf\",{\"dtmf\":\"\xff\"}]",                   // invalid UTF-8: an error
    };
    for (const auto& frame : declined) {
        INFO("frame: " << frame);
        CHECK_FALSE(decode_dtmf_fast(frame, {}).has_value());
        same_result(frame);
    }
    std::string many = R"(["ivrapi_dtmf",{)";
    for (int i = 0; i < 17; ++i) many += "\"f" + std::to_string(i) + "\":1,";
    many += R"("dtmf":"9"}])";
    CHECK_FALSE(decode_dtmf_fast(many, {}).has_value());  // more keys than it tracks
    same_result(many);
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;  // the client's setting: websocketpp validated already
    same_result("[\"ivrapi_dtmf\",{\"dtmf\":\"\xff\"}]", no_utf8);
    same_result(kPlain, no_utf8);
    ParseLimits tiny;
    tiny.max_bytes = 20;
    same_result(kPlain, tiny);
}

TEST_CASE("fast decode: every protocol vector decodes the same on both paths") {
    std::size_t n = 0;
    const Json vectors = test::load_vectors();
    for (const auto& v : vectors.as_array()) {
        if (v.find("direction")->as_string() != "server->client") continue;
        same_result(v.find("json")->dump());
        ++n;
    }
    CHECK(n >= 10);
}

TEST_CASE("fast decode: random mutations of a DTMF frame decode the same on both paths") {
    const std::string alphabet = "\"{}[],:0123456789-.eE \\u nulltruefalseivrapi_dtmfkeyoIdmode\x01\xc3\xa9";
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_dtmf_fast(f, l); };
    CHECK(mutate_and_compare(kPlain, alphabet, 20261202, fast) > 2000);  // many variants taken, not only declines
}

TEST_CASE("fast decode: a DTMF frame deeper than max_depth goes to the general path") {
    ParseLimits shallow;
    shallow.max_depth = 1;  // the frame itself is 2 deep
    CHECK_FALSE(decode_dtmf_fast(kPlain, shallow).has_value());
    same_result(kPlain, shallow);
}

namespace {

const std::string kNotify =
    R"(["notify",{"class":"callevents","type":"sm_start","eventts":1700000000000,)"
    R"("data":{"ivrid":"bench-1","sm_id":"0b7c9d6e-5a4f-4e3b-9c2d-1a0f8e7d6c5b","n":[1,-2,3.5,{"x":null}],"ok":true}}])";

const std::string kReply =
    R"(["connection_info_result",{"qid":12345,"site":"s","ownertype":"x","capabilities":["a","b"],)"
    R"("timestamp":1700000000,"datetime":"2026","result":"ok"}])";

// ["notify",{"class":"c","type":"t","eventts":5,"data":<data>}]
std::string notify_with_data(const std::string& data) {
    return R"(["notify",{"class":"c","type":"t","eventts":5,"data":)" + data + "}]";
}

// ["<request>_result",{"qid":7,<members>}]
std::string reply_with(const std::string& members, const std::string& request = "ivrapi_abort") {
    return "[\"" + request + R"(_result",{"qid":7)" + (members.empty() ? "" : "," + members) + "}]";
}

// An object of `n` members f0..f<n-1>, then `tail` (e.g. a repeated key).
std::string many_members(int n, const std::string& tail = "") {
    std::string s = "{";
    for (int i = 0; i < n; ++i) s += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":" + std::to_string(i);
    return s + tail + "}";
}

// Numbers of every kind the reader distinguishes (and RapidJSON 1.1's wrong zeros).
const std::vector<std::string> kNumbers = {
    "0",
    "-0",
    "-0.0",
    "0e-30",
    "0E82",
    "0.000000000000000000000000",
    "1e-400",
    "1.5",
    "-2.25e-3",
    "1E2",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "-2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "9007199254740993",
    "1e308",
};

}  // namespace

TEST_CASE("fast decode: takes the plain notify frame and gives the general path's event") {
    const auto e = decode_notify_fast(kNotify, {});
    REQUIRE(e.has_value());  // the fast path is really taken
    CHECK(e->event_class == "callevents");
    CHECK(e->type == "sm_start");
    CHECK(e->eventts == 1700000000000);
    CHECK(e->data.find("ivrid")->as_string() == "bench-1");
    CHECK(e->data.find("n")->as_array().size() == 4);
    CHECK(e->raw == kNotify);
    ParseLimits no_raw;
    no_raw.keep_raw_events = false;
    CHECK(decode_notify_fast(kNotify, no_raw)->raw.empty());
    same_result(kNotify);
    same_result(kNotify, no_raw);
}

TEST_CASE("fast decode: notify edge cases decode the same on both paths") {
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_notify_fast(f, l); };
    const std::vector<std::pair<std::string, bool>> cases = {
        {R"(["notify",{}])", true},  // all absent: data {}
        {R"(["notify",{"data":{}}])", true},
        {R"(["notify",{"class":"a","type":"b"}])", true},
        {R"(["notify",{"eventts":-5,"class":"","type":""}])", true},
        {R"(["notify",{"eventts":0}])", true},
        {R"(["notify",{"eventts":9223372036854775807}])", true},
        {R"(["notify",{"eventts":-9223372036854775808}])", true},
        {R"(["notify",{"class":"ivrevents","type":"sm_start","data":{"a":1}}])", true},
        {R"(["notify",{"class":"other","type":"api_start","data":{"a":1}}])", true},
        {R"(["notify",{"extra":{"deep":[1,{"a":null}]},"x":null,"y":1.5,"z":true,"w":"s","v":[]}])", true},
        {notify_with_data(R"({"a":1,"a":2,"b":{"c":1,"c":[1,2]},"c":{"x":1},"c":{"y":[{"z":1}]},"d":[{"e":1,"e":2}]})"),
         true},  // nested repeats: the first value stays
        {notify_with_data(R"({"s":"a\"b\\c\/\u00e9\ud83d\ude00\n\t","k\u0065y":"\u0000x","":"empty key"})"), true},
        {notify_with_data("{\"raw\":\"caf\xc3\xa9\",\"\xc3\xa9\":1}"), true},  // UTF-8: the validating parse
        {notify_with_data(R"({"a":[[],[[]],{},[{}]],"b":[null,true,false,"x",1,-1,1.25]})"), true},
        {notify_with_data(many_members(40)), true},
        {notify_with_data(many_members(40, R"(,"f3":"again","f39":"again","f40":"new")")), true},
        {R"(["notify",{"class":"ivrevents","type":"api_start","data":{"ivrid":"i"}}])", false},
        {R"(["notify",{"class":"ivrevents","type":"api_stop","data":{"ivrid":"i"}}])", false},
        {R"(["notify",{"data":{"ivrid":"i"},"type":"api_start","class":"ivrevents"}])", false},  // any order
        {R"(["notify",{"class":null}])", false},
        {R"(["notify",{"type":5}])", false},
        {R"(["notify",{"class":["a"]}])", false},
        {R"(["notify",{"eventts":"123"}])", false},
        {R"(["notify",{"eventts":1.0}])", false},
        {R"(["notify",{"eventts":1e3}])", false},
        {R"(["notify",{"eventts":18446744073709551615}])", false},
        {R"(["notify",{"eventts":null}])", false},
        {R"(["notify",{"eventts":true}])", false},
        {R"(["notify",{"eventts":{}}])", false},
        {R"(["notify",{"data":null}])", false},
        {R"(["notify",{"data":[]}])", false},
        {R"(["notify",{"data":"x"}])", false},
        {R"(["notify",{"data":5}])", false},
        {R"(["notify",{"class":"a","class":"b"}])", false},
        {R"(["notify",{"data":{},"data":{"a":1}}])", false},
        {R"(["notify",{"extra":1,"extra":2}])", false},
        {R"(["notify",{"class":"a"},3])", false},
        {R"(["notify",{"class":"a"}] x)", false},
        {R"(["notify",{"class":"a"})", false},
        {R"(["notify",{"class":"a"}]])", false},
        {R"(["notify",{"data":{"a":1e400}}])", false},  // too big: an error
        {R"(["notify",{"data":{"a":01}}])", false},
        {R"( ["notify",{"class":"a"}])", false},
        {R"(["notify" ,{"class":"a"}])", false},
        {std::string("[\"notify\",{\"class\":\"a\"}]\0x", 26), false},
        {"[\"notify\",{\"class\":\"\xff\"}]", false},
        {"[\"notify\",{\"data\":{\"a\":\"\xc3\"}}]", false},
        {R"(["notify",)" + many_members(17).substr(0) + "]", false},  // more top-level keys than it tracks
    };
    for (const auto& [frame, taken] : cases) same_result_taken(fast, frame, taken);
    for (const auto& n : kNumbers) {
        same_result_taken(fast, notify_with_data("{\"n\":" + n + ",\"a\":[" + n + "]}"), true);
        same_result_taken(fast, R"(["notify",{"eventts":)" + n + "}]",
                          decode(R"(["notify",{"eventts":)" + n + "}]", general_only()).ok() &&
                              n.find_first_of(".eE") == std::string::npos);
    }
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;  // the client's setting: websocketpp validated already
    same_result_taken(fast, "[\"notify\",{\"class\":\"\xff\",\"data\":{\"\xc3\":\"\xff\"}}]", true, no_utf8);
    same_result_taken(fast, kNotify, true, no_utf8);
    ParseLimits no_raw;
    no_raw.keep_raw_events = false;
    for (const auto& [frame, taken] : cases) same_result(frame, no_raw);
    ParseLimits tiny;
    tiny.max_bytes = 20;
    same_result(kNotify, tiny);
}

TEST_CASE("fast decode: notify nested at and past max_depth") {
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_notify_fast(f, l); };
    ParseLimits eight;
    eight.max_depth = 8;
    // data is at depth 3 and itself an object: {"a":nested(d)} reaches 4 + d - 1.
    same_result_taken(fast, notify_with_data("{\"a\":" + nested(5) + "}"), true, eight);
    same_result_taken(fast, notify_with_data("{\"a\":" + nested(6) + "}"), false, eight);
    // A repeated key's value is dropped, and still counts.
    same_result_taken(fast, notify_with_data("{\"a\":1,\"a\":" + nested(5) + "}"), true, eight);
    same_result_taken(fast, notify_with_data("{\"a\":1,\"a\":" + nested(6) + "}"), false, eight);
    // A field notify skips, at depth 3.
    same_result_taken(fast, R"(["notify",{"extra":)" + nested(6) + "}]", true, eight);
    same_result_taken(fast, R"(["notify",{"extra":)" + nested(7) + "}]", false, eight);
    // The default limit (64).
    same_result_taken(fast, notify_with_data("{\"a\":" + nested(61) + "}"), true);
    same_result_taken(fast, notify_with_data("{\"a\":" + nested(62) + "}"), false);
    for (int max_depth : {-1, 0, 1, 2, 3}) {
        ParseLimits l;
        l.max_depth = max_depth;
        same_result_taken(fast, R"(["notify",{"class":"a"}])", max_depth >= 2, l);
        same_result_taken(fast, R"(["notify",{"data":{}}])", max_depth >= 3, l);
    }
}

TEST_CASE("fast decode: takes a plain reply and gives the general path's Reply") {
    const auto r = decode_reply_fast(kReply, {});
    REQUIRE(r.has_value());  // the fast path is really taken
    CHECK(r->request == "connection_info");
    CHECK(r->qid.state == QidField::State::valid);
    CHECK(r->qid.value == 12345);
    CHECK(r->qid.text == "12345");
    CHECK(r->success);
    CHECK(r->value == "ok");
    CHECK(r->body.find("capabilities")->as_array().size() == 2);
    same_result(kReply);
    const auto failed =
        decode_reply_fast(reply_with(R"("result":"error","reason":"already accepted")", "ivrapi_accept"), {});
    REQUIRE(failed.has_value());
    CHECK_FALSE(failed->success);
    CHECK(failed->error.is(Errc::lost_race));
}

TEST_CASE("fast decode: reply edge cases decode the same on both paths") {
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_reply_fast(f, l); };
    const std::vector<std::string> qids = {
        "18446744073709551615",
        "9223372036854775808",
        "9007199254740993",
        "9007199254740992",
        "1.0",
        "1.5",
        "1e3",
        "-1",
        "-0",
        "0e-30",
        "1e-400",
        R"("42")",
        R"("0042")",
        R"("abc")",
        R"("")",
        R"("12345678901234567")",
        "true",
        "null",
        R"({"a":1})",
        R"({"a":1,"a":2})",
        "[1,2]",
        "[]",
    };
    for (const auto& q : qids) {
        same_result_taken(fast, R"(["ivrapi_abort_result",{"result":"ok","qid":)" + q + "}]", true);
    }
    same_result_taken(fast, R"(["ivrapi_abort_result",{"result":"ok"}])", true);  // no qid
    const std::vector<std::string> results = {
        R"("ok")",     R"("OK")",
        R"("error")",  R"("Failed")",
        R"("denied")", R"("")",
        R"("other")",  "false",
        "true",        "0",
        "1",           "null",
        R"({"a":1})",  R"({"a":1,"a":2})",
        "[1]",         "18446744073709551615",
        "1.50",        "-0",
    };
    for (const auto& request : {"ivrapi_abort", "ivrapi_accept", "ivrapi_file_get_path", "ivrapi_component_apply",
                                "subscribe", "callrecord_get_path", "something_else"}) {
        for (const auto& result : results) same_result_taken(fast, reply_with("\"result\":" + result, request), true);
        same_result_taken(fast, reply_with("", request), true);  // no result
    }
    const std::vector<std::string> failures = {
        R"("error":"boom")",
        R"("error":{"message":"m","code":3})",
        R"("error":{"code":5})",
        R"("error":{"code":5,"code":6,"message":1})",
        R"("error":{"message":"a","message":"b"})",
        R"("errorcode":7)",
        R"("errorcode":0,"result":"ok")",
        R"("errorcode":18446744073709551615)",
        R"("error_code":"E1")",
        R"("error":false,"result":"ok")",
        R"("error":"","result":"ok")",
        R"("error":null,"result":"ok")",
        R"("error":[],"result":"ok")",
        R"("error":0.0,"result":"ok")",
        R"("error":-0,"result":"ok")",
        R"("result":"error","reason":"already accepted by another")",
        R"("result":"error","reason":"nope")",
        R"("result":"error","message":"session busy")",
        R"("result":false,"errormsg":"taken")",
        R"("result":"error","error_message":"x","code":42)",
        R"("result":"error","code":1e3)",
        R"("result":"error","code":18446744073709551615)",
        R"("result":"error","reason":"","message":null,"error":{"a":[1,{"b":2,"b":3}]})",
        R"("result":"error","reason":{"message":"owner elsewhere"})",
        R"("result":"error","reason":{"message":5})",
        R"("result":"error","reason":"Already\u0020Captured")",
        R"("result":"error","reason":"x\"y\\z\u00e9")",
    };
    for (const auto& request : {"ivrapi_accept", "ivrapi_reaccept", "ivrapi_abort", "ivrapi_file_upload_temp"}) {
        for (const auto& f : failures) same_result_taken(fast, reply_with(f, request), true);
    }
    const std::vector<std::pair<std::string, bool>> cases = {
        {reply_with(R"("data":{"a":[1,{"b":null}],"a":2,"c":{"d":1,"d":[2]}})"), true},  // nested repeats
        {reply_with(R"("s":"a\"b\\c\/\u00e9\ud83d\ude00\n","k\u0065y":"\u0000x","":1)"), true},
        {reply_with("\"s\":\"caf\xc3\xa9\""), true},
        {reply_with(R"("body":)" + many_members(40, R"(,"f3":"again","f40":"new")")), true},
        {R"(["ivrapi_abort_result",)" + many_members(40) + "]", true},
        {R"(["ivrapi_abort_result",{}])", true},
        {R"(["x_result",{}])", true},
        {R"(["ivrapi_abort_result",)" + many_members(40, R"(,"f20":1)") + "]", false},
        {reply_with(R"("qid":8)"), false},  // repeated top-level keys: an error
        {reply_with(R"("result":"ok","result":"error")"), false},
        {reply_with(R"("site":1,"site":1)"), false},
        {R"(["_result",{}])", false},                             // not a reply
        {R"(["connection_info",{"qid":1}])", false},              // not a reply
        {R"(["conn\u0065ction_info_result",{"qid":1}])", false},  // escaped name
        {R"(["a\"_result",{"qid":1}])", false},
        {R"(["ivrapi_abort_result",{"qid":1},3])", false},
        {R"(["ivrapi_abort_result",{"qid":1}] x)", false},
        {R"(["ivrapi_abort_result",{"qid":1})", false},
        {R"(["ivrapi_abort_result",{"qid":1e400}])", false},
        {R"(["ivrapi_abort_result",[1]])", false},
        {R"(["ivrapi_abort_result","x"])", false},
        {R"(["ivrapi_abort_result"])", false},
        {R"(["ivrapi_abort_result",{"qid":1}]])", false},
        {std::string("[\"ivrapi_abort_result\",{\"qid\":1}]\0x", 35), false},
        {"[\"ivrapi_abort_result\",{\"result\":\"\xff\"}]", false},
        {"[\"ivrapi_abort_result\xff\",{\"result\":\"ok\"}]", false},
    };
    for (const auto& [frame, taken] : cases) same_result_taken(fast, frame, taken);
    for (const auto& n : kNumbers) {
        same_result_taken(fast, reply_with("\"n\":" + n + ",\"a\":[" + n + "],\"result\":" + n), true);
        same_result_taken(fast, R"(["ivrapi_abort_result",{"qid":)" + n + "}]", true);
    }
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;
    same_result_taken(fast, "[\"ivrapi_abort_result\",{\"result\":\"\xff\",\"\xc3\":1}]", true, no_utf8);
    same_result_taken(fast, kReply, true, no_utf8);
    ParseLimits tiny;
    tiny.max_bytes = 20;
    same_result(kReply, tiny);
}

TEST_CASE("fast decode: reply nested at and past max_depth") {
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_reply_fast(f, l); };
    ParseLimits eight;
    eight.max_depth = 8;
    // The body is at depth 2: a member's value may open 6 levels.
    same_result_taken(fast, reply_with("\"x\":" + nested(6)), true, eight);
    same_result_taken(fast, reply_with("\"x\":" + nested(7)), false, eight);
    // In a member the classification reads (a DOM of it is built too).
    same_result_taken(fast, reply_with("\"result\":\"error\",\"error\":" + nested(6)), true, eight);
    same_result_taken(fast, reply_with("\"result\":\"error\",\"error\":" + nested(7)), false, eight);
    same_result_taken(fast, reply_with("\"x\":{\"a\":1,\"a\":" + nested(5) + "}"), true, eight);
    same_result_taken(fast, reply_with("\"x\":{\"a\":1,\"a\":" + nested(6) + "}"), false, eight);
    same_result_taken(fast, reply_with("\"x\":" + nested(62)), true);
    same_result_taken(fast, reply_with("\"x\":" + nested(63)), false);
    for (int max_depth : {-1, 0, 1, 2, 3}) {
        ParseLimits l;
        l.max_depth = max_depth;
        same_result_taken(fast, reply_with(""), max_depth >= 2, l);
        same_result_taken(fast, reply_with("\"x\":[]"), max_depth >= 3, l);
    }
}

TEST_CASE("fast decode: random mutations of a notify frame decode the same on both paths") {
    const std::string alphabet =
        "\"{}[],:0123456789-.eE \\u nulltruefalsenotifyclasstypeeventtsdataivrevents\x01\xc3\xa9";
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_notify_fast(f, l); };
    CHECK(mutate_and_compare(kNotify, alphabet, 20261203, fast) > 2000);
}

TEST_CASE("fast decode: random mutations of a reply frame decode the same on both paths") {
    const std::string alphabet = "\"{}[],:0123456789-.eE \\u nulltruefalse_resultqiderrorreasoncodeok\x01\xc3\xa9";
    const auto fast = [](const std::string& f, const ParseLimits& l) { return decode_reply_fast(f, l); };
    const std::string failing =
        R"(["ivrapi_accept_result",{"qid":9,"result":"error","reason":"already accepted","error":{"code":5,"message":"m"},"data":{"a":[1,2.5]}}])";
    CHECK(mutate_and_compare(kReply, alphabet, 20261204, fast) > 2000);
    CHECK(mutate_and_compare(failing, alphabet, 20261205, fast) > 2000);
}

// The plain stage (protocol/plain_scanner.hpp) in front of the SAX pass: it must take the
// frames the platform really sends, and everything it takes must decode as the general
// path decodes it.
namespace {

const std::string kPlainNotify =
    R"(["notify",{"class":"callevents","type":"sm_start","eventts":1700000000000,)"
    R"("data":{"ivrid":"bench-1","sm_id":"0b7c9d6e-5a4f-4e3b-9c2d-1a0f8e7d6c5b","n":[1,-2,{"x":null}],"ok":true}}])";

const auto kNotifyPlain = [](const std::string& f, const ParseLimits& l) { return decode_notify_plain(f, l); };
const auto kDtmfPlain = [](const std::string& f, const ParseLimits& l) { return decode_dtmf_plain(f, l); };
const auto kReplyPlain = [](const std::string& f, const ParseLimits& l) { return decode_reply_plain(f, l); };
const auto kStoppedPlain = [](const std::string& f, const ParseLimits& l) { return decode_stopped_plain(f, l); };

const std::string kPlainStopped =
    R"(["ivrapi_component_stopped",{"oId":3,"transferKey":"transfer","results":{"dtmfBuffer":"78","n":[1,null]}}])";

// ["ivrapi_component_stopped",{<members>}]
std::string stopped_with(const std::string& members) { return R"(["ivrapi_component_stopped",{)" + members + "}]"; }

}  // namespace

TEST_CASE("decode: each frame is read by the first stage that can") {
    struct Case {
        std::string frame;
        std::uint64_t DecodePaths::*stage;
    };
    const std::vector<Case> cases = {
        {kPlain, &DecodePaths::plain},
        {R"(["ivrapi_dtmf",{"dtmf":"\u0035"}])", &DecodePaths::sax},  // an escape: past the plain stage
        {R"(["ivrapi_dtmf",{"oId":"1"}])", &DecodePaths::general},    // a decimal string
        {kNotify, &DecodePaths::sax},                                 // a fraction in data
        {notify_with_data(R"({"a":1})"), &DecodePaths::plain},
        {reply_with(R"("result":"ok")"), &DecodePaths::plain},
        {reply_with(R"("result":"error","reason":"busy")"), &DecodePaths::sax},  // failures: the SAX pass
        {stopped_with(R"("oId":1,"results":{})"), &DecodePaths::plain},
        {stopped_with(R"("oId":"1")"), &DecodePaths::general},
        {R"(["notify",{"class":"ivrevents","type":"api_start","data":{}}])", &DecodePaths::plain},
        {R"(["notify",{"class":"ivrevents","type":"api_start","data":{"params":"{\"a\":1}"}}])", &DecodePaths::plain},
        {R"(["notify",{"class":"ivrevents","type":"api_stop","data":{"reason":"script"}}])", &DecodePaths::plain},
        {R"(["notify",{"class":"ivrevents","type":"api_start","data":null}])", &DecodePaths::general},
        {"not json", &DecodePaths::general},
    };
    for (const auto& c : cases) {
        INFO("frame: " << c.frame);
        const DecodePaths before = decode_paths();
        (void)decode(c.frame);
        const DecodePaths after = decode_paths();
        CHECK(after.plain - before.plain == (c.stage == &DecodePaths::plain ? 1U : 0U));
        CHECK(after.sax - before.sax == (c.stage == &DecodePaths::sax ? 1U : 0U));
        CHECK(after.general - before.general == (c.stage == &DecodePaths::general ? 1U : 0U));
    }
}

TEST_CASE("plain decode: takes the platform's DTMF and notify frames") {
    const auto d = decode_dtmf_plain(kPlain, {});
    REQUIRE(d.has_value());
    CHECK(d->key == "k-1");
    CHECK(d->ivrid == "rDlg-006-Sm41ll");
    CHECK(d->mode == DtmfMode::component);
    CHECK(d->oid == 7);
    CHECK(d->dtmf == "5");
    const auto n = decode_notify_plain(kPlainNotify, {});
    REQUIRE(n.has_value());
    CHECK(n->event_class == "callevents");
    CHECK(n->eventts == 1700000000000);
    CHECK(n->data.dump() ==
          R"({"ivrid":"bench-1","sm_id":"0b7c9d6e-5a4f-4e3b-9c2d-1a0f8e7d6c5b","n":[1,-2,{"x":null}],"ok":true})");
    CHECK(n->raw == kPlainNotify);
    same_result_plain(kNotifyPlain, kPlainNotify, true);
    same_result_plain(kDtmfPlain, kPlain, true);
    same_result_plain(kNotifyPlain, " \t\n\r" + kPlainNotify, false);  // not the frame's first bytes
    same_result_plain(kNotifyPlain,
                      R"(["notify",{ "class" : "a" , "data" : { } } ] )"
                      "\n",
                      true);
    same_result_plain(kDtmfPlain, R"(["ivrapi_dtmf",{"x":null,"y":true,"z":false,"w":-12,"dtmf":"1"}])", true);
}

TEST_CASE("plain decode: declines what is not plain, and the other paths read it the same") {
    const std::vector<std::string> notify_declined = {
        notify_with_data(R"({"a":"x\"y"})"),                         // an escape
        notify_with_data(R"({"a":1.5})"),                            // a fraction
        notify_with_data(R"({"a":1e2})"),                            // an exponent
        notify_with_data(R"({"a":1234567890123456789})"),            // 19 digits
        R"(["notify",{"eventts":162202222222222222222222222222}])",  // 30 digits: no overflow (UBSan; the fuzzer)
        notify_with_data(R"({"a":-0.0})"),                           //
        notify_with_data(R"({"a":01})"),                             // a leading zero: an error
        notify_with_data(R"({"a":-})"),                              // a bare minus: an error
        notify_with_data(R"({"a":1,"a":2})"),                        // a repeat: the first stays
        notify_with_data(R"({"b":{"a":1,"a":2}})"),                  // nested too
        notify_with_data(many_members(17)),                          // more members than it holds
        notify_with_data(R"({"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]})"),  // more items than it holds
        notify_with_data("{\"a\":" + nested(6) + "}"),                             // deeper than it nests
        notify_with_data(R"({"a":tru})"),                                          // a broken literal
        notify_with_data(R"({"a":nul)"),                                           // truncated
        R"(["notify",{"data":null}])",                                             // null data: the general path's
        R"(["notify",{"type":"api_stop","class":"ivrevents"}])",
        R"(["notify",{"extra":{"a":1}}])",  // a nested field it does not read
        R"(["notify",{"class":"a"}]])",
        R"(["notify",{"class":"a",}])",
        R"(["notify",{,"class":"a"}])",
        "[\"notify\",{\"class\":\"a\x01\"}]",        // a control byte: an error
        "[\"notify\",{\"class\":\"caf\xc3\xa9\"}]",  // UTF-8 to check
    };
    for (const auto& frame : notify_declined) same_result_plain(kNotifyPlain, frame, false);
    // An offer: not the notify stage's (decode() reads it with the offer stage).
    same_result_taken(kNotifyPlain, R"(["notify",{"class":"ivrevents","type":"api_start","data":{}}])", false);
    const std::vector<std::string> dtmf_declined = {
        R"(["ivrapi_dtmf",{"dtmf":"\u0035"}])",
        R"(["ivrapi_dtmf",{"oId":1.0}])",
        R"(["ivrapi_dtmf",{"oId":"1"}])",
        R"(["ivrapi_dtmf",{"dtmf":5}])",
        R"(["ivrapi_dtmf",{"key":null}])",
        R"(["ivrapi_dtmf",{"extra":[1]}])",
        R"(["ivrapi_dtmf",{"dtmf":"1","dtmf":"2"}])",
        R"(["ivrapi_dtmf",{"dtmf":"1"},1])",
        R"(["ivrapi_dtmf",{"dtmf":"1"}] 1)",
    };
    for (const auto& frame : dtmf_declined) same_result_plain(kDtmfPlain, frame, false);
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;  // the client's setting: bytes >= 0x80 are read as they are
    same_result_plain(kNotifyPlain, "[\"notify\",{\"class\":\"caf\xc3\xa9\"}]", true, no_utf8);
    same_result_plain(kDtmfPlain, "[\"ivrapi_dtmf\",{\"ivrid\":\"\xff\"}]", true, no_utf8);
    ParseLimits shallow;
    shallow.max_depth = 3;
    same_result_plain(kNotifyPlain, notify_with_data(R"({"a":1})"), true, shallow);
    same_result_plain(kNotifyPlain, notify_with_data(R"({"a":[1]})"), false, shallow);
    shallow.max_depth = 2;
    same_result_plain(kNotifyPlain, R"(["notify",{}])", true, shallow);
    same_result_plain(kNotifyPlain, notify_with_data("{}"), false, shallow);
    // At the edges of what it holds: taken.
    for (const auto& frame :
         {notify_with_data(R"({"a":-0,"":1})"), notify_with_data(many_members(16)),
          notify_with_data(R"({"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]})"),
          std::string(R"(["notify",{"eventts":-999999999999999999}])"), R"(["notify",)" + many_members(16) + "]"}) {
        same_result_plain(kNotifyPlain, frame, true);
    }
    same_result_plain(kDtmfPlain, R"(["ivrapi_dtmf",{"oId":999999999999999999}])", true);
    same_result_plain(kDtmfPlain, R"(["ivrapi_dtmf",{"oId":-0}])", true);
    // Just past them: declined, and the other paths agree.
    for (const auto& frame :
         {notify_with_data(R"({"":1,"":2})"), std::string(R"(["notify",{"eventts":1000000000000000000}])"),
          std::string(R"(["notify",{"x":truex}])"), std::string("[\"notify\",{}]\f"),
          std::string("[\"notify\",{}]\0", 14)}) {
        same_result_plain(kNotifyPlain, frame, false);
    }
    for (const std::string frame : {R"(["ivrapi_dtmf",{"oId":1000000000000000000}])",
                                    R"(["ivrapi_dtmf",{"mode":null}])", R"(["ivrapi_dtmf",{"mode":1}])"}) {
        same_result_plain(kDtmfPlain, frame, false);
    }
    // Its own nesting bound (8 levels, data being 3): taken at 8, declined (to the SAX
    // pass) at 9, whatever max_depth allows beyond.
    for (int max_depth : {8, 9, 64}) {
        ParseLimits l;
        l.max_depth = max_depth;
        same_result_plain(kNotifyPlain, notify_with_data("{\"a\":" + nested(5) + "}"), true, l);
        same_result_plain(kNotifyPlain, notify_with_data("{\"a\":" + nested(6) + "}"), false, l);
    }
}

TEST_CASE("plain decode: takes the replies that succeed") {
    const auto r = decode_reply_plain(reply_with(R"("result":"ok")", "ivrapi_accept"), {});
    REQUIRE(r.has_value());
    CHECK(r->request == "ivrapi_accept");
    CHECK(r->qid.state == QidField::State::valid);
    CHECK(r->qid.value == 7);
    CHECK(r->qid.text == "7");
    CHECK(r->success);
    CHECK(r->value == "ok");
    CHECK(r->body.dump() == R"({"qid":7,"result":"ok"})");
    const auto quoted = decode_reply_plain(R"(["ivrapi_abort_result",{"qid":"0042","result":"ok"}])", {});
    REQUIRE(quoted.has_value());
    CHECK(quoted->qid.value == 42);
    CHECK(quoted->qid.text == R"("0042")");
    const std::vector<std::string> taken = {
        kReply,
        reply_with(R"("result":"ok")", "ivrapi_accept"),
        reply_with(R"("result":"OK")", "ivrapi_accept"),  // the case does not matter
        reply_with(R"("result":"/temp/x.wav")", "ivrapi_file_get_path"),
        reply_with("", "ivrapi_component_apply"),                    // the apply's reply may have no result
        reply_with(R"("result":null)", "ivrapi_component_apply"),    //
        reply_with(R"("result":12)", "ivrapi_component_apply"),      // lenient
        reply_with(R"("result":"done")", "ivrapi_component_apply"),  //
        reply_with(R"("result":true)", "ivrapi_abort"),
        reply_with(R"("result":"ok","error":null,"errorcode":0,"error_code":"")", "ivrapi_accept"),  // unset
        reply_with(R"("result":"ok","error":false,"reason":"none","data":{"a":[1,{"b":null}]})"),
        R"(["ivrapi_abort_result",{"result":"ok"}])",  // no qid: the caller reports it
        R"(["subscribe_result",{"qid":3,"result":"ok"}] )",
        reply_with(R"("result":"ok")", "x") + "\n",
    };
    for (const auto& frame : taken) same_result_plain(kReplyPlain, frame, true);
    // A qid beyond 2^53 (which a double cannot tell from 2^53): invalid, reported by the caller.
    for (const std::string qid : {"9007199254740993", R"("9007199254740993")"}) {
        const std::string frame = R"(["ivrapi_abort_result",{"qid":)" + qid + R"(,"result":"ok"}])";
        CHECK(std::get<Reply>(*decode(frame, general_only())).qid.state == QidField::State::invalid);
        same_result_taken(kReplyPlain, frame, qid[0] != '"');  // a string qid that is not valid: declined
    }
    const std::string at_limit = R"(["ivrapi_abort_result",{"qid":9007199254740992,"result":"ok"}])";
    CHECK(decode_reply_plain(at_limit, {})->qid.state == QidField::State::valid);
    same_result_plain(kReplyPlain, at_limit, true);
}

TEST_CASE("plain decode: declines failed and unusual replies, and the other paths read them the same") {
    const std::vector<std::string> declined = {
        reply_with(R"("result":"error","reason":"already accepted")", "ivrapi_accept"),  // failures: the SAX pass
        reply_with(R"("result":"Failed")"),
        reply_with(R"("result":"done")", "ivrapi_accept"),  // not "ok"
        reply_with(R"("result":false)"),
        reply_with(R"("result":1)"),  // a number where "ok" is expected
        reply_with(R"("result":"")", "ivrapi_file_get_path"),
        reply_with("", "ivrapi_file_get_path"),
        reply_with(R"("result":"ok","error":"x")"),
        reply_with(R"("result":"ok","errorcode":5)"),
        reply_with(R"("result":"ok","error_code":true)"),
        reply_with(R"("result":"ok","error":{})"),
        reply_with(R"("result":"ok","error":[])"),
        reply_with(R"("result":{"path":"/a"})", "ivrapi_component_apply"),  // a container as result
        reply_with(R"("result":[1])", "ivrapi_component_apply"),
        reply_with(R"("result":1.5)", "ivrapi_component_apply"),  // a fraction
        R"(["ivrapi_abort_result",{"qid":-1,"result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":"q-abort-1","result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":"","result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":"12345678901234567","result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":1.0,"result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":null,"result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":true,"result":"ok"}])",
        R"(["ivrapi_abort_result",{"qid":[7],"result":"ok"}])",
        reply_with(R"("result":"ok","qid":8)"),  // a repeat
        reply_with(R"("result":"o\u006b")"),     // an escape
        reply_with(R"("result":"ok")") + ",1]",
        reply_with(R"("result":"ok")") + "x",
        reply_with(R"("result":"ok")").substr(0, 30),
        R"(["ivrapi_abort_result",{"qid":7,"result":"ok"},{}])",
        R"(["ivrapi_abort_result",{"qid":7,"result":"ok"])",
        R"(["_result",{"qid":7,"result":"ok"}])",
        R"(["ivrapi_abort_result" ,{"qid":7,"result":"ok"}])",
        R"(["ivrapi_abort_resul\u0074",{"qid":7,"result":"ok"}])",
        "[\"ivrapi_abort\x01_result\",{\"qid\":7,\"result\":\"ok\"}]",  // a control byte in the name
        reply_with(R"("result":"ok")") + std::string(1, '\0'),
    };
    for (const auto& frame : declined) same_result_plain(kReplyPlain, frame, false);
    // qid and n more members: 16 it holds, 17 it does not.
    const auto members = [](int n) {
        const std::string object = many_members(n);
        return object.substr(1, object.size() - 2);
    };
    same_result_plain(kReplyPlain, reply_with(members(15)), true);
    same_result_plain(kReplyPlain, reply_with(members(16)), false);
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;
    const std::string accented = "[\"caf\xc3\xa9_result\",{\"qid\":7,\"result\":\"ok\"}]";
    same_result_plain(kReplyPlain, accented, false);
    same_result_plain(kReplyPlain, accented, true, no_utf8);
    ParseLimits shallow;
    shallow.max_depth = 2;
    same_result_plain(kReplyPlain, reply_with(R"("result":"ok")"), true, shallow);
    same_result_plain(kReplyPlain, reply_with(R"("result":"ok","data":{})"), false, shallow);
    shallow.max_depth = 1;
    same_result_plain(kReplyPlain, reply_with(R"("result":"ok")"), false, shallow);
}

TEST_CASE("plain decode: takes the platform's ivrapi_component_stopped") {
    ParseLimits no_raw;
    no_raw.keep_raw_events = false;  // the client's default
    const auto e = decode_stopped_plain(kPlainStopped, {});
    REQUIRE(e.has_value());
    CHECK(e->oid == 3);
    CHECK(e->transfer_key == "transfer");
    CHECK(e->results.dump() == R"({"dtmfBuffer":"78","n":[1,null]})");
    CHECK(e->result("dtmfBuffer") == "78");
    CHECK_FALSE(e->key.has_value());
    CHECK(e->raw == kPlainStopped);
    // The raw frame only when asked for (ClientOptions::keep_raw_events), on every path.
    CHECK(decode_stopped_plain(kPlainStopped, no_raw)->raw.empty());
    CHECK(std::get<ComponentStopped>(*decode(kPlainStopped, general_only(no_raw))).raw.empty());
    const std::vector<std::string> taken = {
        kPlainStopped,
        stopped_with(R"("oId":0,"transferKey":"transfer","results":{"dtmfBuffer":"78"})"),  // the spec's
        stopped_with(R"("oId":1,"transferKey":"timeout","results":{},"key":"k","ivrid":"i","x":1)"),
        stopped_with(R"("oId":1,"results":[])"),    // an empty result set as []: no results
        stopped_with(R"("oId":1,"results":null)"),  //
        stopped_with(R"("oId":1,"results":"x")"),   //
        stopped_with(R"("oId":-5)"),
        stopped_with(""),
    };
    for (const auto& frame : taken) {
        same_result_plain(kStoppedPlain, frame, true);
        same_result_plain(kStoppedPlain, frame, true, no_raw);
    }
}

TEST_CASE("plain decode: declines an unusual ivrapi_component_stopped, and the general path reads it the same") {
    const std::vector<std::string> declined = {
        stopped_with(R"("oId":"3")"),  // a decimal string: the general path reads it
        stopped_with(R"("oId":3.0)"),
        stopped_with(R"("oId":null)"),
        stopped_with(R"("oId":"x")"),  // an error
        stopped_with(R"("transferKey":5)"),
        stopped_with(R"("transferKey":null)"),
        stopped_with(R"("transferKey":{})"),  // an error
        stopped_with(R"("key":7,"ivrid":"i")"),
        stopped_with(R"("key":"k","ivrid":true)"),  // neither is set
        stopped_with(R"("key":null)"),
        stopped_with(R"("results":{"a":1.5})"),
        stopped_with(R"("results":{"a":1,"a":2})"),
        stopped_with(R"("results":{"a":"
"})"),
        stopped_with(R"("oId":1,"oId":2)"),
        stopped_with(R"("extra":{"a":1})"),
        stopped_with(R"("oId":1)") + "]",
        stopped_with(R"("oId":1,)"),
        R"(["ivrapi_component_stopped",{"oId":1}])" + std::string(1, '\0'),
    };
    for (const auto& frame : declined) same_result_plain(kStoppedPlain, frame, false);
    ParseLimits shallow;
    shallow.max_depth = 3;
    same_result_plain(kStoppedPlain, stopped_with(R"("results":{"a":1})"), true, shallow);
    same_result_plain(kStoppedPlain, stopped_with(R"("results":{"a":[1]})"), false, shallow);
    shallow.max_depth = 2;
    same_result_plain(kStoppedPlain, stopped_with(R"("oId":1)"), true, shallow);
    same_result_plain(kStoppedPlain, stopped_with(R"("results":{})"), false, shallow);
}

// Offers and their ends: plain, with escapes decoded (params is JSON in a string).
namespace {

const auto kOfferPlain = [](const std::string& f, const ParseLimits& l) { return decode_offer_plain(f, l); };

const std::string kPlainOffer =
    R"(["notify",{"class":"ivrevents","type":"api_start","eventts":1602002803754,"data":{)"
    R"("callid":"rB2-002-SuDtIE-01-2582368067@192.168.0.149","cid":"267278f0-0642-00af-0ac9-b80000000006",)"
    R"("componentid":14,"componentname":"External management 3","ivrid":"rDlg-006-ZevQbP",)"
    R"("ivrts":1602002800707,"key":"abc","params":"{\"asdf\":\"zxcv\"}",)"
    R"("sm_id":"f9098ae9-0642-00af-0ad1-880000000006","state":"incoming"}}])";

// ["notify",{"class":"ivrevents","type":"<type>","data":{<data>}}]
std::string offer_with(const std::string& data, const std::string& type = "api_start") {
    return R"(["notify",{"class":"ivrevents","type":")" + type + R"(","data":{)" + data + "}}]";
}

}  // namespace

TEST_CASE("plain decode: takes offers and their ends, escapes decoded") {
    const auto got = decode_offer_plain(kPlainOffer, {});
    REQUIRE(got.has_value());
    const auto& offer = std::get<ApiStartEvent>(*got);
    CHECK(offer.ivrid == "rDlg-006-ZevQbP");
    CHECK(offer.key == "abc");
    CHECK(offer.componentid == 14);
    CHECK(offer.ivrts == 1602002800707);
    CHECK(offer.eventts == 1602002803754);
    CHECK(offer.state == CallState::incoming);
    CHECK(offer.params == R"({"asdf":"zxcv"})");
    REQUIRE(offer.params_json.has_value());
    CHECK(offer.params_json->find("asdf")->as_string() == "zxcv");
    const std::vector<std::string> taken = {
        kPlainOffer,
        offer_with(R"("ivrid":"i","key":"k","reason":"script")", "api_stop"),
        offer_with(R"("ivrid":"i","reason":"timeout","extra":{"a":[1,{"b":null}]})", "api_stop"),
        offer_with(R"("key":123,"componentname":7,"params":42)"),     // numbers as text where lenient
        offer_with(R"("ivrid":null,"key":null,"componentid":null)"),  // null: absent
        offer_with(R"("params":"free text","state":"dialog")"),
        offer_with(R"("params":"{\"a\":[1,2],\"b\":{\"c\":\"d\"}}")"),
        offer_with(R"("params":"quote \" backslash \\ slash \/ controls \b\f\n\r\t")"),
        offer_with(R"("params":"\u00e9\u0041\u20AC\ud83d\ude00\uD83D\uDE00\uffff")"),  // UTF-8 from escapes
        offer_with(R"("ivrid":"a\"b","key":"\\")"),
        offer_with(R"("params":"\"\"")"),
        offer_with(R"("params":"\\u0041")"),  // an escaped backslash, then text
        offer_with(R"("par\u0061ms":"x")"),   // an escaped key
        offer_with(""),
    };
    for (const auto& frame : taken) {
        same_result_plain(kOfferPlain, frame, true);
        ParseLimits no_raw;
        no_raw.keep_raw_events = false;
        same_result_plain(kOfferPlain, frame, true, no_raw);
    }
    // A long string with escapes spread over many 16-byte blocks.
    std::string params;
    for (int i = 0; i < 40; ++i) params += std::string(static_cast<std::size_t>(i % 17), 'x') + R"(\"\\\u00e9)";
    same_result_plain(kOfferPlain, offer_with(R"("params":")" + params + "\""), true);
}

TEST_CASE("plain decode: declines unusual offers, and the general path reads them the same") {
    const std::vector<std::string> declined = {
        offer_with(R"("params":"\u0000")"),        // NUL: the general path's
        offer_with(R"("params":"\udc00")"),        // a lone low surrogate: an error
        offer_with(R"("params":"\ud800")"),        // a lone high surrogate: an error
        offer_with(R"("params":"\ud800\u0041")"),  // not a pair
        offer_with(R"("params":"\ud800x")"),
        offer_with(R"("params":"\u00g0")"),  // not hex
        offer_with(R"("params":"\u00e")"),
        offer_with(R"("params":"\x")"),  // not an escape
        offer_with(R"("params":"\)"),
        offer_with(R"("params":"ab\)") + "\"",
        offer_with(R"("params":{"a":1})"),  // params as JSON itself: the general path writes it out
        offer_with(R"("params":[1])"),
        offer_with(R"("params":true)"),
        offer_with(R"("componentid":"14")"),  // a decimal string: the general path reads it
        offer_with(R"("componentid":1.5)"),
        offer_with(R"("ivrid":5)"),  // an error
        offer_with(R"("state":1)"),
        offer_with(R"("reason":1)", "api_stop"),
        offer_with(R"("ivrid":"a","ivrid":"b")"),
        offer_with(R"("x":{"a":1,"a":2})"),
        offer_with("\"ivrid\":\"a\x01\""),
        offer_with("\"ivrid\":\"\\u0041\x01\""),  // a control byte after an escape
        R"(["notify",{"data":{"ivrid":"i"},"type":"api_start","class":"ivrevents"}])",  // data first
        R"(["notify",{"class":"ivrevents","data":{"ivrid":"i"},"type":"api_start"}])",
        R"(["notify",{"class":"ivrevents","type":"api_start","data":null}])",
        R"(["notify",{"class":"ivrevents","type":"api_start"}])",
        R"(["notify",{"class":"ivrevents","type":"api_start","data":[]}])",
        R"(["notify",{"class":"ivrevents","type":"api_start","eventts":"5","data":{}}])",
        R"(["notify",{"class":"ivrevents","type":"sm_start","data":{}}])",  // not an offer
        R"(["notify",{"class":"ivrevents","type":"api_start","data":{},"x":[1]}])",
        R"(["notify",{"class":"ivrevents","type":"api_start","data":{}}]x)",
    };
    for (const auto& frame : declined) same_result_taken(kOfferPlain, frame, false);
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;
    const std::string accented = offer_with("\"params\":\"caf\xc3\xa9 \\u00e9\"");
    same_result_taken(kOfferPlain, accented, false);
    same_result_taken(kOfferPlain, accented, true, no_utf8);
    // A surrogate's UTF-8 (0xED 0xA0..) with UTF-8 unchecked: the general path rejects it
    // when the frame has an escape anywhere (found by the fuzzer), and reads it when not.
    same_result_taken(kOfferPlain, offer_with("\"callid\":\"\xed\xa0\x80\",\"params\":\"\\\"\""), false, no_utf8);
    same_result_taken(kOfferPlain,
                      offer_with("\"callid\":\"\xed\xe9\xe9"
                                 "c\",\"params\":\"{\\\"a\xff\""),
                      false, no_utf8);
    same_result_taken(kOfferPlain, offer_with("\"callid\":\"\xed\xa0\x80\""), true, no_utf8);
    ParseLimits shallow;
    shallow.max_depth = 3;
    same_result_taken(kOfferPlain, offer_with(R"("ivrid":"i")"), true, shallow);
    same_result_taken(kOfferPlain, offer_with(R"("x":{})"), false, shallow);
}

TEST_CASE("plain decode: random mutations of an offer decode the same on every path") {
    const std::string alphabet =
        "\"{}[],:0123456789abcdefABCDEF-.eE \\\\\\\\\\u/bfnrtxnulltruefalse\x01\x1f\xc3\xa9\xff";
    CHECK(mutate_and_compare(kPlainOffer, alphabet, 20261211, kOfferPlain) > 2000);
    const std::string escapes = offer_with(R"("ivrid":"i\"d","params":"{\"a\":\"\u00e9\ud83d\ude00\\\/\n\"}")");
    REQUIRE(decode_offer_plain(escapes, {}).has_value());
    CHECK(mutate_and_compare(escapes, alphabet, 20261212, kOfferPlain) > 1500);
}

// Json::parse (and with it an offer's params_json) tries the plain stage first: what it
// takes must parse as the full parser parses it, and what it declines must still parse.
namespace {

std::optional<Json> full_parse(const std::string& text) {
    rapidjson::Document doc;
    std::string why;
    if (!parse_bounded(text, ParseLimits{}, doc, why)) return std::nullopt;
    return to_json(doc);
}

void same_parse(const std::string& text) {
    INFO("text: " << text);
    const auto parsed = Json::parse(text);
    const auto full = full_parse(text);
    REQUIRE(parsed.ok() == full.has_value());
    if (full) same_json(*parsed, *full);
    const auto params = params_json_of(text);
    CHECK(params.has_value() == (full.has_value() && !text.empty()));
}

}  // namespace

TEST_CASE("plain decode: Json::parse and params take plain text, and agree with the full parser") {
    const std::vector<std::pair<std::string, bool>> texts = {
        {R"({"asdf":"zxcv"})", true},  // the spec's params
        {R"( {"a":[1,-2,true,false,null,{"b":"c"}]} )", true},
        {"[]", true},
        {"5", true},
        {R"("text")", true},
        {"-0", true},
        {"null", true},
        {R"({"a":"x\"y"})", false},  // an escape: the full parser
        {R"({"a":1.5})", false},
        {R"({"a":1,"a":2})", false},         // a repeat: the full parser's rule
        {"{\"a\":\"caf\xc3\xa9\"}", false},  // UTF-8 to check
        {"{\"a\":\"\xff\"}", false},         // not UTF-8: an error
        {"free text", false},
        {"", false},
        {"{} {}", false},
        {"{", false},
        {"[" + std::string(8, '[') + std::string(9, ']'), false},  // deeper than it nests
        {"[" + std::string(6, '[') + std::string(7, ']'), true},
    };
    for (const auto& [text, plain] : texts) {
        INFO("text: " << text);
        CHECK(parse_plain_value(text, ParseLimits{}).has_value() == plain);
        same_parse(text);
    }
    ParseLimits small;
    small.max_bytes = 4;
    CHECK_FALSE(parse_plain_value("12345", small).has_value());  // over the size limit: the full parser reports it
    CHECK(parse_plain_value("1234", small).has_value());
    // Random edits of a plain params text.
    std::mt19937 rng(20261210);
    const std::string alphabet = "\"{}[],:0123456789-.eE \\u nulltruefalse\x01\xc3\xa9\xff";
    const std::string base = R"({"a":"b","n":[1,-2,{"x":null}],"t":true})";
    std::size_t taken = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string text = base;
        for (int e = 1 + static_cast<int>(rng() % 3); e > 0; --e) {
            const std::size_t at = rng() % text.size();
            const char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
                case 0: text[at] = c; break;
                case 1: text.insert(text.begin() + static_cast<long>(at), c); break;
                default: text.erase(at, 1); break;
            }
            if (text.empty()) text = "x";
        }
        taken += parse_plain_value(text, ParseLimits{}).has_value() ? 1 : 0;
        same_parse(text);
    }
    CHECK(taken > 1000);
}

// The scanner looks at 16 string bytes at a time: a byte that ends or breaks a string must
// be found at every position of a block, in the first block and later ones.
TEST_CASE("plain decode: a special byte anywhere in a long string") {
    ParseLimits no_utf8;
    no_utf8.validate_utf8 = false;
    struct Special {
        std::string bytes;
        bool taken;          // with UTF-8 checked
        bool taken_no_utf8;  // without
    };
    const std::vector<Special> specials = {
        {"\\\"", false, false},                // an escaped quote
        {"\\n", false, false},                 // an escape
        {"\x01", false, false},                // control bytes: an error
        {"\x1f", false, false},                //
        {std::string(1, '\0'), false, false},  // NUL: an error
        {"\x80", false, true},                 // a lone continuation byte
        {"\x7f", true, true},                  // DEL is not a control byte in JSON
        {" ", true, true},                     //
        {"\xc3\xa9", false, true},             // UTF-8
        {"\xff", false, true},                 // not UTF-8: an error when checked
    };
    for (const auto& s : specials) {
        for (std::size_t at = 0; at <= 40; ++at) {
            std::string text(40, 'x');
            text.insert(at, s.bytes);
            const std::string frame = notify_with_data("{\"s\":\"" + text + "\",\"t\":\"" + text + "\"}");
            same_result_plain(kNotifyPlain, frame, s.taken);
            same_result_plain(kNotifyPlain, frame, s.taken_no_utf8, no_utf8);
            if (s.taken_no_utf8) {
                const auto e = decode_notify_plain(frame, no_utf8);
                REQUIRE(e.has_value());
                CHECK(e->data.find("s")->as_string() == text);
            }
        }
    }
    // A string that ends exactly at a block boundary, and one cut off by the frame's end.
    for (std::size_t n = 0; n <= 40; ++n) {
        same_result_plain(kNotifyPlain, R"(["notify",{"class":")" + std::string(n, 'c') + "\"}]", true);
        same_result_plain(kNotifyPlain, R"(["notify",{"class":")" + std::string(n, 'c'), false);
    }
}

TEST_CASE("plain decode: random mutations of plain frames decode the same on every path") {
    const std::string alphabet =
        "\"{}[],:0123456789-.eE \\u "
        "nulltruefalsenotifyclasstypeeventtsdataivrevents\x01\x1f\x7f\xc3\xa9\t\n\v\x80\xff" +
        std::string(1, '\0');
    CHECK(mutate_and_compare(kPlainNotify, alphabet, 20261206, kNotifyPlain) > 2000);
    CHECK(mutate_and_compare(kPlain, alphabet, 20261207, kDtmfPlain) > 2000);
    const std::string reply_alphabet = alphabet + "qidresulterrorcodeok_";
    CHECK(mutate_and_compare(reply_with(R"("result":"ok","data":{"a":[1,null]})", "ivrapi_accept"), reply_alphabet,
                             20261208, kReplyPlain) > 2000);
    CHECK(mutate_and_compare(kPlainStopped, alphabet + "oIdtransferKeyresults", 20261209, kStoppedPlain) > 2000);
}
