// The decoder's fast path for ivrapi_dtmf (protocol/fast_decode.hpp) must give exactly
// what the general path gives, for every frame: compared here on the protocol vectors,
// on hand-made edge cases and on thousands of random mutations of a DTMF frame.
#include "protocol/codec.hpp"
#include "protocol/fast_decode.hpp"
#include "protocol/vector_data.hpp"

#include <catch2/catch.hpp>

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

// Both paths agree on success, on the event, or on the error.
void same_result(const std::string& frame, const ParseLimits& limits = {}) {
    INFO("frame: " << frame);
    const auto fast = decode(frame, limits);
    const auto general = decode(frame, general_only(limits));
    REQUIRE(fast.ok() == general.ok());
    if (!fast.ok()) {
        CHECK(fast.error().code == general.error().code);
        CHECK(fast.error().message == general.error().message);
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
    std::mt19937 rng(20261202);
    const std::string alphabet = "\"{}[],:0123456789-.eE \\u nulltruefalseivrapi_dtmfkeyoIdmode\x01\xc3\xa9";
    std::uniform_int_distribution<int> edits(1, 3);
    std::size_t taken = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string frame = kPlain;
        for (int e = edits(rng); e > 0; --e) {
            const std::size_t at = std::uniform_int_distribution<std::size_t>(0, frame.size() - 1)(rng);
            const char c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
            switch (rng() % 3) {
                case 0: frame[at] = c; break;
                case 1: frame.insert(frame.begin() + static_cast<long>(at), c); break;
                default: frame.erase(at, 1); break;
            }
        }
        taken += decode_dtmf_fast(frame, {}).has_value() ? 1 : 0;
        same_result(frame);
    }
    CHECK(taken > 2000);  // the fast path saw many variants, not only declines
}
