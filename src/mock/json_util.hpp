// The mock's own JSON reading and writing on RapidJSON. Deliberately independent of
// src/protocol: a bug in the SDK's codec must not hide behind the same bug here.
#pragma once

#include <ivrapi/json.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ivrapi::mock::detail {

constexpr int kMaxDepth = 64;

// RapidJSON value -> ivrapi::Json; false when nested deeper than kMaxDepth.
bool to_json(const rapidjson::Value& v, ivrapi::Json& out, int depth = 0);

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
void write_json(Writer& w, const ivrapi::Json& j);

// Compact JSON text of a value.
std::string value_text(const rapidjson::Value& v);
std::string json_text(const ivrapi::Json& j);

const rapidjson::Value* member(const rapidjson::Value& obj, const char* key);
// A component property: member(), with a stored script's argument object
// {"argType": .., "varType": .., "value": v} read as its value v.
const rapidjson::Value* prop(const rapidjson::Value& obj, const char* key);
// The prop_* readers go through prop(). A string property, or a number written as text.
std::optional<std::string> prop_string(const rapidjson::Value& obj, const char* key);
// A number, or a string holding a number ("10", " 2.5 "), or a bool (0/1).
std::optional<double> prop_number(const rapidjson::Value& obj, const char* key);
std::optional<std::int64_t> prop_int(const rapidjson::Value& obj, const char* key);
// bool, a number (0 = false), or "true"/"false"/"yes"/"no"/"1"/"0".
std::optional<bool> prop_bool(const rapidjson::Value& obj, const char* key);

// Builds ["name", {...}] frames.
class FrameWriter {
public:
    explicit FrameWriter(std::string_view name);
    FrameWriter& key(std::string_view k);
    FrameWriter& str(std::string_view v);
    FrameWriter& num(std::int64_t v);
    FrameWriter& raw(const std::string& json_text);  // a value already in JSON text
    FrameWriter& json(const ivrapi::Json& v);
    FrameWriter& strings(const std::vector<std::string>& v);
    Writer& writer() { return w_; }
    std::string finish();

private:
    rapidjson::StringBuffer sb_;
    Writer w_;
};

}  // namespace ivrapi::mock::detail
