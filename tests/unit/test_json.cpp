#include <ivrapi/json.hpp>

#include <catch2/catch.hpp>

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
