#include "mock/json_util.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace ivrapi::mock::detail {

bool to_json(const rapidjson::Value& v, ivrapi::Json& out, int depth) {
    if (depth > kMaxDepth) return false;
    switch (v.GetType()) {
        case rapidjson::kNullType: out = ivrapi::Json(); return true;
        case rapidjson::kFalseType: out = ivrapi::Json(false); return true;
        case rapidjson::kTrueType: out = ivrapi::Json(true); return true;
        case rapidjson::kStringType: out = ivrapi::Json(std::string(v.GetString(), v.GetStringLength())); return true;
        case rapidjson::kNumberType:
            if (v.IsInt64()) {
                out = ivrapi::Json(static_cast<long long>(v.GetInt64()));
            } else if (v.IsUint64()) {
                out = ivrapi::Json(static_cast<unsigned long long>(v.GetUint64()));
            } else {
                out = ivrapi::Json(v.GetDouble());
            }
            return true;
        case rapidjson::kArrayType: {
            ivrapi::Json::Array items;
            items.reserve(v.Size());
            for (const auto& item : v.GetArray()) {
                ivrapi::Json j;
                if (!to_json(item, j, depth + 1)) return false;
                items.push_back(std::move(j));
            }
            out = ivrapi::Json(std::move(items));
            return true;
        }
        case rapidjson::kObjectType: {
            ivrapi::Json::Object members;
            for (const auto& m : v.GetObject()) {
                ivrapi::Json j;
                if (!to_json(m.value, j, depth + 1)) return false;
                members.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), std::move(j));
            }
            out = ivrapi::Json(std::move(members));
            return true;
        }
    }
    return false;
}

void write_json(Writer& w, const ivrapi::Json& j) {
    using T = ivrapi::Json::Type;
    switch (j.type()) {
        case T::null: w.Null(); break;
        case T::boolean: w.Bool(j.as_bool()); break;
        case T::integer: w.Int64(j.as_int()); break;
        case T::number: {
            double d = j.as_double();
            if (std::isfinite(d)) {
                w.Double(d);
            } else {
                w.Null();
            }
            break;
        }
        case T::string: {
            const auto& s = j.as_string();
            w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
            break;
        }
        case T::array:
            w.StartArray();
            for (const auto& item : j.as_array()) write_json(w, item);
            w.EndArray();
            break;
        case T::object:
            w.StartObject();
            for (const auto& [k, v] : j.as_object()) {
                w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
                write_json(w, v);
            }
            w.EndObject();
            break;
    }
}

std::string value_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    v.Accept(w);
    return {sb.GetString(), sb.GetSize()};
}

std::string json_text(const ivrapi::Json& j) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    write_json(w, j);
    return {sb.GetString(), sb.GetSize()};
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* key) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(key);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

const rapidjson::Value* prop(const rapidjson::Value& obj, const char* key) {
    const auto* v = member(obj, key);
    if (!v || !v->IsObject()) return v;
    // A stored script keeps arguments as {"argType": 1, "varType": 2, "value": "700"}.
    const auto* value = member(*v, "value");
    if (value && (member(*v, "argType") || member(*v, "varType"))) return value;
    return v;
}

std::optional<std::string> prop_string(const rapidjson::Value& obj, const char* key) {
    const auto* v = prop(obj, key);
    if (!v) return std::nullopt;
    if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
    if (v->IsNumber()) {
        if (v->IsInt64()) return std::to_string(v->GetInt64());
        return value_text(*v);
    }
    return std::nullopt;
}

namespace {
std::optional<double> parse_number(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i == s.size()) return std::nullopt;
    const char* begin = s.c_str() + i;
    char* end = nullptr;
    double d = std::strtod(begin, &end);
    if (end == begin || *end != '\0' || !std::isfinite(d)) return std::nullopt;
    return d;
}
}  // namespace

std::optional<double> prop_number(const rapidjson::Value& obj, const char* key) {
    const auto* v = prop(obj, key);
    if (!v) return std::nullopt;
    if (v->IsNumber()) return v->GetDouble();
    if (v->IsBool()) return v->GetBool() ? 1.0 : 0.0;
    if (v->IsString()) return parse_number(std::string(v->GetString(), v->GetStringLength()));
    return std::nullopt;
}

std::optional<std::int64_t> prop_int(const rapidjson::Value& obj, const char* key) {
    const auto* v = prop(obj, key);
    if (v && v->IsInt64()) return v->GetInt64();
    auto d = prop_number(obj, key);
    if (!d || *d < -9.2e18 || *d > 9.2e18) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(*d));
}

std::optional<bool> prop_bool(const rapidjson::Value& obj, const char* key) {
    const auto* v = prop(obj, key);
    if (!v) return std::nullopt;
    if (v->IsBool()) return v->GetBool();
    if (v->IsNumber()) return v->GetDouble() != 0.0;
    if (v->IsString()) {
        std::string s(v->GetString(), v->GetStringLength());
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (s == "true" || s == "yes" || s == "1" || s == "on") return true;
        if (s == "false" || s == "no" || s == "0" || s == "off" || s.empty()) return false;
    }
    return std::nullopt;
}

FrameWriter::FrameWriter(std::string_view name) : w_(sb_) {
    w_.StartArray();
    w_.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w_.StartObject();
}

FrameWriter& FrameWriter::key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
}

FrameWriter& FrameWriter::str(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
}

FrameWriter& FrameWriter::num(std::int64_t v) {
    w_.Int64(v);
    return *this;
}

FrameWriter& FrameWriter::raw(const std::string& text) {
    w_.RawValue(text.data(), text.size(), rapidjson::kNumberType);
    return *this;
}

FrameWriter& FrameWriter::json(const ivrapi::Json& v) {
    write_json(w_, v);
    return *this;
}

FrameWriter& FrameWriter::strings(const std::vector<std::string>& v) {
    w_.StartArray();
    for (const auto& s : v) str(s);
    w_.EndArray();
    return *this;
}

std::string FrameWriter::finish() {
    w_.EndObject();
    w_.EndArray();
    return {sb_.GetString(), sb_.GetSize()};
}

}  // namespace ivrapi::mock::detail
