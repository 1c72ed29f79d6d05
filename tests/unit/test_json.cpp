#include <ivrapi/json.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

using ivrapi::Json;

TEST_CASE("Json parses and dumps every type") {
    auto parsed = Json::parse(R"({"a":1,"b":[true,null,2.5,"x"],"c":{"d":-9007199254740993}})");
    REQUIRE(parsed.ok());
    const Json& j = *parsed;
    CHECK(j.find("a")->as_int() == 1);
    CHECK(j.find("b")->as_array().size() == 4);
    CHECK(j.find("b")->as_array()[2].as_double() == 2.5);
    CHECK(j.find("c")->find("d")->as_int() == -9007199254740993LL);
    CHECK(j.dump() == R"({"a":1,"b":[true,null,2.5,"x"],"c":{"d":-9007199254740993}})");
}

TEST_CASE("Json escapes strings when dumping") {
    Json j = Json::object({{"q\"k", "line\nbreak \"quoted\" \\ \x01"}});
    CHECK(j.dump() == R"({"q\"k":"line\nbreak \"quoted\" \\ \u0001"})");
    auto back = Json::parse(j.dump());
    REQUIRE(back.ok());
    CHECK(*back == j);
}

TEST_CASE("Json rejects bad text with a reason") {
    CHECK_FALSE(Json::parse("").ok());
    CHECK_FALSE(Json::parse("{").ok());
    CHECK_FALSE(Json::parse("[1] 2").ok());
    CHECK_FALSE(Json::parse("\"\xff\"").ok());
    std::string deep(100, '[');
    auto r = Json::parse(deep + std::string(100, ']'));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("nested") != std::string::npos);
}

TEST_CASE("Json set replaces, erase removes, equality ignores key order") {
    Json a = Json::object({{"x", 1}, {"y", "s"}});
    a.set("x", 2);
    CHECK(a.find("x")->as_int() == 2);
    CHECK(a.size() == 2);
    CHECK(a == Json::object({{"y", "s"}, {"x", 2}}));
    CHECK(a.erase("y"));
    CHECK_FALSE(a.erase("y"));
    CHECK(Json(1) == Json(1.0));
    CHECK(Json(std::nan("")).dump() == "null");
    CHECK(Json(1.5).as_int(7) == 7);
    CHECK(Json(3.0).as_int() == 3);
}

TEST_CASE("Json objects never hold a key twice: the first value wins, as in typed reads") {
    auto j = Json::parse(R"({"a":1,"b":2,"a":3})");
    REQUIRE(j.ok());
    CHECK(j->size() == 2);
    CHECK(j->find("a")->as_int() == 1);
    CHECK(*j == *Json::parse(j->dump()));
}

TEST_CASE("Json reads a zero written with a tiny exponent as zero (RapidJSON 1.1 returned garbage)") {
    // A zero whose power of ten is outside [-22, 37] went through a path that normalises 0:
    // "0.000000000000000000000000" gave -2.2e-193, "0e-30" gave 9.6e-240.
    for (const char* zero : {"0e-30", "0.000000000000000000000000", "0.0000000000000000000000000000000000",
                             "0.00000000000e-12", "0E-400", "0.000000000000000000000000000000e+5", "0E0082", "0e38"}) {
        INFO(zero);
        auto j = Json::parse(zero);
        REQUIRE(j.ok());
        CHECK(j->as_double(1) == 0.0);
        CHECK_FALSE(std::signbit(j->as_double(1)));
        auto in_array = Json::parse(std::string("[1, ") + zero + ", \"" + zero + "\"]");
        REQUIRE(in_array.ok());
        CHECK(in_array->as_array()[1].as_double(1) == 0.0);
        CHECK(in_array->as_array()[2].as_string() == zero);  // text in strings is untouched
    }
    auto negative = Json::parse("-0e-30");
    REQUIRE(negative.ok());
    CHECK(negative->as_double(1) == 0.0);
    CHECK(std::signbit(negative->as_double(1)));
    // Non-zero numbers keep their value; malformed numbers stay errors, and so does an
    // exponent past RapidJSON's range even for a zero (its scanner refuses it).
    CHECK_FALSE(Json::parse("0.0e400").ok());
    CHECK_FALSE(Json::parse("1e400").ok());
    CHECK(Json::parse("1e-400")->as_double(1) == 0.0);                                  // underflow: zero, as before
    CHECK(Json::parse("18446744073709551616")->as_double() == 18446744073709551616.0);  // past 64 bits
    CHECK(Json::parse("-9223372036854775808")->as_int() == std::numeric_limits<std::int64_t>::min());
    CHECK(Json::parse("1e-30")->as_double() == 1e-30);
    CHECK(Json::parse("0.0000000000000000000000001")->as_double() == 1e-25);
    for (const char* bad : {"0.e-30", "00.000000000000000000000000", "-e-30", "0e-", "[0e-30 1]"}) {
        INFO(bad);
        CHECK_FALSE(Json::parse(bad).ok());
    }
}
