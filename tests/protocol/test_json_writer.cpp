// The SDK's JSON writers (protocol/json_bridge.hpp) must write RapidJSON's text, byte for
// byte: JsonWriter (strings that need no escape copied in one piece) for every string
// (escapes, control bytes, DEL, UTF-8, invalid UTF-8, NUL) wherever it sits (value, key,
// array item, nested), and append_string/append_json (the encoder's frames, Json::dump)
// for every string and every Json value (integers, doubles, literals, nesting).
#include "protocol/codec.hpp"
#include "protocol/json_bridge.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace ivrapi::protocol;

namespace {

// Writes {"<s>":["<s>",{"k":"<s>"}],"n":1} with `w`.
template <typename W>
void write_sample(W& w, const std::string& s) {
    const auto n = static_cast<rapidjson::SizeType>(s.size());
    w.StartObject();
    w.Key(s.data(), n);
    w.StartArray();
    w.String(s.data(), n);
    w.StartObject();
    w.Key("k");
    w.String(s.data(), n);
    w.EndObject();
    w.EndArray();
    w.Key("n");
    w.Int(1);
    w.EndObject();
}

std::string ours(const std::string& s) {
    std::string text;
    StringOutput out(text);
    JsonWriter w(out);
    write_sample(w, s);
    return text;
}

// The same text through append_string.
std::string appended(const std::string& s) {
    std::string text = "{";
    append_string(text, s);
    text += ":[";
    append_string(text, s);
    text += ",{\"k\":";
    append_string(text, s);
    text += "}],\"n\":1}";
    return text;
}

std::string rapidjsons(const std::string& s) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    write_sample(w, s);
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

TEST_CASE("json writer: strings come out as RapidJSON writes them") {
    const std::vector<std::string> cases = {
        "",
        "plain",
        "a\"b",
        "back\\slash",
        "tab\tnew\nline\r",
        std::string("nul\0byte", 8),
        "\x01\x1f",
        "bs\b ff\f cr\r vt\x0b",
        "del\x7f",
        "caf\xc3\xa9",
        "\xff\xfe not UTF-8",
        "slash / stays",
        std::string(40, 'x') + "\"" + std::string(40, 'y'),  // past the first 16-byte blocks
    };
    for (const auto& s : cases) {
        INFO("string: " << s);
        CHECK(ours(s) == rapidjsons(s));
        CHECK(appended(s) == rapidjsons(s));
    }
    CHECK(ours("plain") == R"({"plain":["plain",{"k":"plain"}],"n":1})");
}

TEST_CASE("json writer: random strings, special bytes at every position of a block") {
    std::mt19937 rng(20261202);
    const std::string alphabet =
        std::string("ab \"\\/\t\n\x01\x1f\x7f\xc3\xa9\xff\b\f\r\x0b", 18) + std::string(1, '\0');
    for (int round = 0; round < 5000; ++round) {
        std::string s(std::uniform_int_distribution<std::size_t>(0, 70)(rng), 'x');
        for (int e = std::uniform_int_distribution<int>(0, 3)(rng); e > 0 && !s.empty(); --e) {
            s[std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng)] =
                alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
        }
        INFO("string: " << s);
        REQUIRE(ours(s) == rapidjsons(s));
        REQUIRE(appended(s) == rapidjsons(s));
    }
}

namespace {

// `v` through RapidJSON's Writer (a non-finite number as null, as append_json writes it).
void write_rapidjson(rapidjson::Writer<rapidjson::StringBuffer>& w, const ivrapi::Json& v) {
    using T = ivrapi::Json::Type;
    switch (v.type()) {
        case T::null: w.Null(); break;
        case T::boolean: w.Bool(v.as_bool()); break;
        case T::integer: w.Int64(v.as_int()); break;
        case T::number: std::isfinite(v.as_double()) ? w.Double(v.as_double()) : w.Null(); break;
        case T::string: w.String(v.as_string().data(), static_cast<rapidjson::SizeType>(v.as_string().size())); break;
        case T::array:
            w.StartArray();
            for (const auto& item : v.as_array()) write_rapidjson(w, item);
            w.EndArray();
            break;
        case T::object:
            w.StartObject();
            for (const auto& [k, item] : v.as_object()) {
                w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
                write_rapidjson(w, item);
            }
            w.EndObject();
            break;
    }
}

std::string rapidjson_text(const ivrapi::Json& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    write_rapidjson(w, v);
    return std::string(buffer.GetString(), buffer.GetSize());
}

ivrapi::Json random_json(std::mt19937& rng, int depth) {
    const auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    static const std::vector<double> doubles = {0.0,           -0.0,    0.1,
                                                -1.5,          1e21,    1e-7,
                                                123456789.125, 5e-324,  1.7976931348623157e308,
                                                2.0,           -3e-300, 0.30000000000000004};
    static const std::vector<std::string> strings = {
        "", "a\"b", "tab\t", std::string("\0x", 2), "\x1f\x7f", "caf\xc3\xa9", "\xff", "/", "plain text"};
    switch (depth > 2 ? pick(5) : pick(7)) {
        case 0: return nullptr;
        case 1: return pick(2) == 0;
        case 2: {
            const std::int64_t ints[] = {0,
                                         -1,
                                         42,
                                         std::numeric_limits<std::int64_t>::min(),
                                         std::numeric_limits<std::int64_t>::max(),
                                         std::int64_t{1} << 53};
            return ints[pick(6)];
        }
        case 3: {
            if (pick(3) == 0) return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
            return doubles[static_cast<std::size_t>(pick(static_cast<int>(doubles.size())))];
        }
        case 4: return strings[static_cast<std::size_t>(pick(static_cast<int>(strings.size())))];
        case 5: {
            ivrapi::Json a = ivrapi::Json::array();
            for (int i = pick(4); i > 0; --i) a.array_items().push_back(random_json(rng, depth + 1));
            return a;
        }
        default: {
            ivrapi::Json o = ivrapi::Json::object();
            for (int i = pick(4); i > 0; --i) {
                o.set(strings[static_cast<std::size_t>(pick(static_cast<int>(strings.size())))] + std::to_string(i),
                      random_json(rng, depth + 1));
            }
            return o;
        }
    }
}

}  // namespace

TEST_CASE("json writer: append_json and Json::dump write RapidJSON's text for any value") {
    const ivrapi::Json fixed = ivrapi::Json::object({{"n", nullptr},
                                                     {"t", true},
                                                     {"f", false},
                                                     {"i", -7},
                                                     {"d", 0.5},
                                                     {"big", 1e300},
                                                     {"s", "x\ny"},
                                                     {"a", ivrapi::Json::array({1, "two", 3.25})},
                                                     {"o", ivrapi::Json::object({{"k", "v"}})}});
    std::string text;
    append_json(text, fixed);
    CHECK(text == rapidjson_text(fixed));
    CHECK(fixed.dump() == text);
    CHECK(ivrapi::Json(std::numeric_limits<double>::infinity()).dump() == "null");
    std::mt19937 rng(7);
    for (int round = 0; round < 3000; ++round) {
        const ivrapi::Json v = random_json(rng, 0);
        std::string out = "x";  // appends after what is there
        append_json(out, v);
        INFO("value: " << rapidjson_text(v));
        REQUIRE(out == "x" + rapidjson_text(v));
    }
}

TEST_CASE("json writer: append_int and append_uint write the Writer's digits") {
    for (const std::int64_t v :
         {std::int64_t{0}, std::int64_t{-1}, std::int64_t{9}, std::int64_t{-10}, std::int64_t{1234567890123},
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        std::string out;
        append_int(out, v);
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
        w.Int64(v);
        CHECK(out == std::string(buffer.GetString(), buffer.GetSize()));
    }
    for (const std::uint64_t v :
         {std::uint64_t{0}, std::uint64_t{1} << 53, std::numeric_limits<std::uint64_t>::max()}) {
        std::string out;
        append_uint(out, v);
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
        w.Uint64(v);
        CHECK(out == std::string(buffer.GetString(), buffer.GetSize()));
    }
}

TEST_CASE("json writer: find_special_byte finds the first special byte at every length and position") {
    // The reference: the plain byte loop. The SSE2 and 8-byte steps must agree with it for
    // every tail length (0-40), every position of one byte and every byte value.
    const auto reference = [](const char* p, const char* end, bool high_ok) {
        for (; p != end; ++p) {
            const auto c = static_cast<unsigned char>(*p);
            if (c == '"' || c == '\\' || c < 0x20 || (c >= 0x80 && !high_ok)) return p;
        }
        return end;
    };
    for (std::size_t len = 0; len <= 40; ++len) {
        std::vector<char> text(len, 'a');  // exactly `len` bytes: ASan sees any read past them
        for (std::size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                text[at] = static_cast<char>(b);
                const char* begin = text.data();
                for (const bool high_ok : {false, true}) {
                    REQUIRE(find_special_byte(begin, begin + len, high_ok) == reference(begin, begin + len, high_ok));
                }
            }
            text[at] = 'a';
        }
        CHECK(find_special_byte(text.data(), text.data() + len, false) == text.data() + len);
    }
}

TEST_CASE("json writer: request frames byte for byte") {
    using ivrapi::Json;
    CHECK(encode_connection_info(1) == R"(["connection_info",{"qid":1}])");
    CHECK(encode_subscribe(2, "sub-1", {"ivrevents", "callevents"}, 3600) ==
          R"(["subscribe",{"qid":2,"objects":"any","events":["ivrevents","callevents"],"expires":3600,"id":"sub-1"}])");
    CHECK(encode_subscribe(3, "s", {}, 0) ==
          R"(["subscribe",{"qid":3,"objects":"any","events":[],"expires":0,"id":"s"}])");
    const Json play = Json::object({{"oType", 204}, {"file", "a\"b.wav"}, {"oId", 99}, {"stop", true}});
    CHECK(
        encode_component_apply(4, SessionRef{"k", "i-1"}, play, 7) ==
        R"(["ivrapi_component_apply",{"qid":4,"key":"k","ivrid":"i-1","data":{"oType":204,"file":"a\"b.wav","stop":true,"oId":7}}])");
    CHECK(encode_component_apply(5, SessionRef{"k", "i"}, Json::object(), -1) ==
          R"(["ivrapi_component_apply",{"qid":5,"key":"k","ivrid":"i","data":{"oId":-1}}])");
    CHECK(encode_request("x_custom", 6, Json::object({{"qid", 1}, {"n", 1.5}, {"l", Json::array({nullptr})}})) ==
          R"(["x_custom",{"qid":6,"n":1.5,"l":[null]}])");
}