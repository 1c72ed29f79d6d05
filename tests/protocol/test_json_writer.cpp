// The encoder's writer (protocol/json_bridge.hpp) copies strings that need no escape in
// one piece instead of RapidJSON's byte-by-byte escape pass: its text must be RapidJSON's,
// byte for byte, for every string (escapes, control bytes, DEL, UTF-8, invalid UTF-8, NUL)
// and wherever a string sits (value, key, array item, nested).
#include "protocol/json_bridge.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

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
        "del\x7f",
        "caf\xc3\xa9",
        "\xff\xfe not UTF-8",
        "slash / stays",
        std::string(40, 'x') + "\"" + std::string(40, 'y'),  // past the first 16-byte blocks
    };
    for (const auto& s : cases) {
        INFO("string: " << s);
        CHECK(ours(s) == rapidjsons(s));
    }
    CHECK(ours("plain") == R"({"plain":["plain",{"k":"plain"}],"n":1})");
}

TEST_CASE("json writer: random strings, special bytes at every position of a block") {
    std::mt19937 rng(20261202);
    const std::string alphabet = std::string("ab \"\\/\t\n\x01\x1f\x7f\xc3\xa9\xff", 14) + std::string(1, '\0');
    for (int round = 0; round < 5000; ++round) {
        std::string s(std::uniform_int_distribution<std::size_t>(0, 70)(rng), 'x');
        for (int e = std::uniform_int_distribution<int>(0, 3)(rng); e > 0 && !s.empty(); --e) {
            s[std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng)] =
                alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
        }
        INFO("string: " << s);
        REQUIRE(ours(s) == rapidjsons(s));
    }
}
