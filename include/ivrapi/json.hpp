// ivrapi::Json: a small JSON value for what the protocol leaves open (event params,
// component results, extra component properties, raw requests), so no third-party
// JSON type appears in the SDK's public API.
#pragma once

#include <ivrapi/result.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ivrapi {

class Json {
public:
    // The kind of value held (type()).
    enum class Type {
        null,     // JSON null (a default-constructed Json)
        boolean,  // true or false
        integer,  // a number without fraction or exponent that fits 64 bits
        number,   // any other number (a double)
        string,   // UTF-8 text
        array,    // Json::Array
        object,   // Json::Object
    };
    using Array = std::vector<Json>;              // a JSON array
    using Member = std::pair<std::string, Json>;  // one key and its value
    using Object = std::vector<Member>;           // keeps the order of keys as written

    // null.
    Json() noexcept = default;
    // Implicit from the C++ value of each JSON type: null, bool, integers (unsigned
    // values above INT64_MAX become doubles), double, text, arrays and objects.
    Json(std::nullptr_t) noexcept {}                               // NOLINT implicit
    Json(bool b) noexcept : v_(b) {}                               // NOLINT implicit
    Json(int i) noexcept : v_(std::int64_t{i}) {}                  // NOLINT implicit
    Json(long i) noexcept : v_(std::int64_t{i}) {}                 // NOLINT implicit
    Json(long long i) noexcept : v_(std::int64_t{i}) {}            // NOLINT implicit
    Json(unsigned i) noexcept : v_(std::int64_t{i}) {}             // NOLINT implicit
    Json(unsigned long i) noexcept : v_(from_unsigned(i)) {}       // NOLINT implicit
    Json(unsigned long long i) noexcept : v_(from_unsigned(i)) {}  // NOLINT implicit
    Json(double d) noexcept : v_(d) {}                             // NOLINT implicit
    Json(const char* s) : v_(std::string(s)) {}                    // NOLINT implicit
    Json(std::string s) noexcept : v_(std::move(s)) {}             // NOLINT implicit
    Json(std::string_view s) : v_(std::string(s)) {}               // NOLINT implicit
    Json(Array a) noexcept : v_(std::move(a)) {}                   // NOLINT implicit
    Json(Object o) noexcept : v_(std::move(o)) {}                  // NOLINT implicit

    // Copy and move are defined in json.cpp: inlined into user code, GCC 12 at -O2
    // reports the std::variant inside as maybe-uninitialized (e.g. in an
    // initializer list of `cond ? Json(x) : Json(nullptr)`).
    Json(const Json& other);
    Json(Json&& other) noexcept;
    Json& operator=(const Json& other);
    Json& operator=(Json&& other) noexcept;
    ~Json();

    // An array of `items`: Json::array({1, "two", nullptr}).
    static Json array(std::initializer_list<Json> items = {}) { return Json(Array(items)); }
    // An object: Json::object({{"a", 1}, {"b", "x"}}); a repeated key keeps the last value.
    static Json object(std::initializer_list<Member> members = {});

    // Parses JSON text (depth and size bounded; invalid UTF-8 rejected).
    static Result<Json> parse(std::string_view text);
    // Compact JSON text.
    std::string dump() const;

    // The kind of value held; the is_...() tests below ask for one.
    Type type() const noexcept { return static_cast<Type>(v_.index()); }
    bool is_null() const noexcept { return type() == Type::null; }
    bool is_bool() const noexcept { return type() == Type::boolean; }
    bool is_integer() const noexcept { return type() == Type::integer; }
    bool is_number() const noexcept { return is_integer() || type() == Type::number; }
    bool is_string() const noexcept { return type() == Type::string; }
    bool is_array() const noexcept { return type() == Type::array; }
    bool is_object() const noexcept { return type() == Type::object; }

    // Typed reads; the fallback is returned when the type differs.
    bool as_bool(bool fallback = false) const noexcept;
    std::int64_t as_int(std::int64_t fallback = 0) const noexcept;  // integral doubles too
    double as_double(double fallback = 0) const noexcept;           // integers too
    const std::string& as_string() const noexcept;                  // empty string when not a string
    // The value as text: strings unquoted, anything else as compact JSON.
    std::string to_text() const;

    // The items or members; empty when this is not an array / object.
    const Array& as_array() const noexcept;
    const Object& as_object() const noexcept;
    Array& array_items();    // converts a null into an empty array first
    Object& object_items();  // converts a null into an empty object first

    // Object access: nullptr when absent or when this is not an object.
    const Json* find(std::string_view key) const noexcept;
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }  // a member `key` exists
    // Inserts or replaces a member (a null becomes an object first).
    Json& set(std::string key, Json value);
    // Removes a member; true when one was removed.
    bool erase(std::string_view key);
    std::size_t size() const noexcept;  // array items or object members, else 0

    // Equal values: numbers by value (1 == 1.0), objects by members in any order.
    friend bool operator==(const Json& a, const Json& b) noexcept;
    friend bool operator!=(const Json& a, const Json& b) noexcept { return !(a == b); }

private:
    static std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> from_unsigned(
        unsigned long long u) noexcept {
        if (u <= static_cast<unsigned long long>(INT64_MAX)) return std::int64_t(u);
        return static_cast<double>(u);
    }
    std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> v_;
};

}  // namespace ivrapi
