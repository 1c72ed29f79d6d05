#include <ivrapi/result.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using ivrapi::Errc;
using ivrapi::Error;
using ivrapi::Result;

namespace {
Result<int> parse_digit(const std::string& s) {
    if (s.size() != 1 || s[0] < '0' || s[0] > '9') return Error(Errc::invalid_argument, "not a digit: " + s);
    return s[0] - '0';
}
}  // namespace

TEST_CASE("Result: has_value and value_or") {
    Result<std::string> good = std::string("x");
    Result<std::string> bad = Error(Errc::timeout, "late");
    CHECK(good.has_value());
    CHECK_FALSE(bad.has_value());
    CHECK(good.value_or("fallback") == "x");
    CHECK(bad.value_or("fallback") == "fallback");
    CHECK(Result<std::string>(Error(Errc::timeout, "t")).value_or(std::string("moved")) == "moved");
    CHECK(Result<int>(7).value_or(1.9) == 7);
    CHECK(Result<int>(Error(Errc::timeout, "t")).value_or(1.9) == 1);
    CHECK(Result<void>().has_value());
    CHECK_FALSE(Result<void>(Error(Errc::stopped, "s")).has_value());
}

TEST_CASE("Result: in_place makes the value from its arguments, without a copy or a move") {
    struct Pinned {  // neither copyable nor movable: only in-place construction compiles
        Pinned(std::string a, int b) : text(std::move(a) + std::to_string(b)) {}
        Pinned(const Pinned&) = delete;
        Pinned& operator=(const Pinned&) = delete;
        std::string text;
    };
    const Result<Pinned> r(std::in_place, "n", 7);
    REQUIRE(r.has_value());
    CHECK(r->text == "n7");
    const Result<std::string> repeated(std::in_place, 3, 'x');
    CHECK(*repeated == "xxx");
}

TEST_CASE("Result: and_then chains on a value and skips on an error") {
    int calls = 0;
    auto twice = [&](int v) -> Result<std::string> {
        ++calls;
        return std::string(static_cast<std::size_t>(v), '*');
    };
    auto ok = parse_digit("3").and_then(twice);
    REQUIRE(ok);
    CHECK(*ok == "***");
    CHECK(calls == 1);

    auto failed = parse_digit("x").and_then(twice);
    static_assert(std::is_same_v<decltype(failed), Result<std::string>>);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().is(Errc::invalid_argument));
    CHECK(failed.error().message == "not a digit: x");
    CHECK(calls == 1);

    // The second step's error is returned as is.
    auto second = parse_digit("4").and_then([](int) -> Result<void> { return Error(Errc::session_ended, "gone"); });
    CHECK(second.error().is(Errc::session_ended));

    // Result<void>::and_then runs on success only.
    Result<void> done;
    CHECK(*done.and_then([] { return Result<int>(5); }) == 5);
    CHECK(Result<void>(Error(Errc::stopped, "s")).and_then([] { return Result<int>(5); }).error().is(Errc::stopped));
}

TEST_CASE("Result: and_then on an rvalue moves the value out") {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(41);
    auto next = std::move(r).and_then([](std::unique_ptr<int> p) { return Result<int>(*p + 1); });
    CHECK(*next == 42);
}

TEST_CASE("Result: transform maps the value, keeps the error") {
    auto len = Result<std::string>(std::string("abcd")).transform([](const std::string& s) { return s.size(); });
    static_assert(std::is_same_v<decltype(len), Result<std::size_t>>);
    CHECK(*len == 4);

    int calls = 0;
    auto kept = Result<std::string>(Error(Errc::timeout, "late")).transform([&](const std::string& s) {
        ++calls;
        return s.size();
    });
    CHECK(kept.error().is(Errc::timeout));
    CHECK(calls == 0);

    // A function returning nothing gives Result<void>.
    std::string seen;
    auto v = Result<std::string>(std::string("hi")).transform([&](const std::string& s) { seen = s; });
    static_assert(std::is_same_v<decltype(v), Result<void>>);
    CHECK(v.ok());
    CHECK(seen == "hi");

    CHECK(*Result<void>().transform([] { return 3; }) == 3);
    CHECK(Result<void>(Error(Errc::stopped, "s")).transform([] { return 3; }).error().is(Errc::stopped));

    auto moved =
        Result<std::unique_ptr<int>>(std::make_unique<int>(9)).transform([](std::unique_ptr<int> p) { return *p; });
    CHECK(*moved == 9);
}

TEST_CASE("Result: or_else recovers from an error only") {
    int calls = 0;
    auto recover = [&](const Error& e) -> Result<int> {
        ++calls;
        if (e.is(Errc::timeout)) return 0;
        return e;
    };
    CHECK(*Result<int>(Error(Errc::timeout, "late")).or_else(recover) == 0);
    CHECK(Result<int>(Error(Errc::stopped, "s")).or_else(recover).error().is(Errc::stopped));
    CHECK(calls == 2);
    CHECK(*Result<int>(8).or_else(recover) == 8);
    CHECK(calls == 2);

    CHECK(Result<void>(Error(Errc::timeout, "t")).or_else([](const Error&) { return Result<void>(); }).ok());
    CHECK(Result<void>().or_else([](const Error& e) { return Result<void>(e); }).ok());
}

TEST_CASE("Result: value() of an error throws BadResultAccess with the reason") {
    Result<int> bad = Error(Errc::timeout, "late");
    CHECK_THROWS_AS(bad.value(), ivrapi::BadResultAccess);
    CHECK_THROWS_WITH(bad.value(), Catch::Contains("late"));
}
