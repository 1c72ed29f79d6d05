#include <ivrapi/json.hpp>

#include "protocol/fast_decode.hpp"
#include "protocol/json_bridge.hpp"

#include <cmath>

namespace ivrapi {

Json::Json(const Json& other) = default;
Json::Json(Json&& other) noexcept = default;
Json& Json::operator=(const Json& other) = default;
Json& Json::operator=(Json&& other) noexcept = default;
Json::~Json() = default;

Json Json::object(std::initializer_list<Member> members) {
    Json j{Object{}};
    for (const auto& m : members) j.set(m.first, m.second);
    return j;
}

Result<Json> Json::parse(std::string_view text) {
    // Plain text (no escapes, integers, small containers) is read where it lies; the rest,
    // errors included, by the full parser.
    if (auto plain = protocol::parse_plain_value(text, protocol::ParseLimits{})) return std::move(*plain);
    rapidjson::Document doc;
    std::string why;
    if (!protocol::parse_bounded(text, protocol::ParseLimits{}, doc, why)) {
        return Error(Errc::invalid_argument, why);
    }
    return protocol::to_json(doc);
}

std::string Json::dump() const {
    std::string text;
    protocol::append_json(text, *this);
    return text;
}

bool Json::as_bool(bool fallback) const noexcept { return is_bool() ? std::get<bool>(v_) : fallback; }

std::int64_t Json::as_int(std::int64_t fallback) const noexcept {
    if (is_integer()) return std::get<std::int64_t>(v_);
    if (type() == Type::number) {
        double d = std::get<double>(v_);
        if (std::isfinite(d) && std::floor(d) == d && d >= -9.2e18 && d <= 9.2e18) {
            return static_cast<std::int64_t>(d);
        }
    }
    return fallback;
}

double Json::as_double(double fallback) const noexcept {
    if (is_integer()) return static_cast<double>(std::get<std::int64_t>(v_));
    if (type() == Type::number) return std::get<double>(v_);
    return fallback;
}

const std::string& Json::as_string() const noexcept {
    static const std::string empty;
    return is_string() ? std::get<std::string>(v_) : empty;
}

std::string Json::to_text() const {
    if (is_string()) return as_string();
    if (is_null()) return {};
    return dump();
}

const Json::Array& Json::as_array() const noexcept {
    static const Array empty;
    return is_array() ? std::get<Array>(v_) : empty;
}

const Json::Object& Json::as_object() const noexcept {
    static const Object empty;
    return is_object() ? std::get<Object>(v_) : empty;
}

Json::Array& Json::array_items() {
    if (!is_array()) v_ = Array{};
    return std::get<Array>(v_);
}

Json::Object& Json::object_items() {
    if (!is_object()) v_ = Object{};
    return std::get<Object>(v_);
}

const Json* Json::find(std::string_view key) const noexcept {
    if (!is_object()) return nullptr;
    for (const auto& m : std::get<Object>(v_)) {
        if (m.first == key) return &m.second;
    }
    return nullptr;
}

Json& Json::set(std::string key, Json value) {
    auto& members = object_items();
    for (auto& m : members) {
        if (m.first == key) {
            m.second = std::move(value);
            return m.second;
        }
    }
    members.emplace_back(std::move(key), std::move(value));
    return members.back().second;
}

bool Json::erase(std::string_view key) {
    if (!is_object()) return false;
    auto& members = std::get<Object>(v_);
    for (auto it = members.begin(); it != members.end(); ++it) {
        if (it->first == key) {
            members.erase(it);
            return true;
        }
    }
    return false;
}

std::size_t Json::size() const noexcept {
    if (is_array()) return std::get<Array>(v_).size();
    if (is_object()) return std::get<Object>(v_).size();
    return 0;
}

bool operator==(const Json& a, const Json& b) noexcept {
    if (a.is_number() && b.is_number() && a.type() != b.type()) {
        return a.as_double() == b.as_double();
    }
    if (a.type() != b.type()) return false;
    if (a.is_object()) {
        // Key order does not matter for equality.
        const auto& ao = a.as_object();
        if (ao.size() != b.size()) return false;
        for (const auto& [k, v] : ao) {
            const Json* other = b.find(k);
            if (!other || !(*other == v)) return false;
        }
        return true;
    }
    return a.v_ == b.v_;
}

}  // namespace ivrapi
