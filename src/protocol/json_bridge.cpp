#include "protocol/json_bridge.hpp"

#include "protocol/number_events.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>  // the Writer's own number formatting
#include <rapidjson/internal/itoa.h>
#include <rapidjson/memorystream.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <unordered_set>
#include <utility>

namespace ivrapi::protocol {

int json_depth(std::string_view text, int limit) noexcept {
    int depth = 0, max_depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                max_depth = depth;
                if (max_depth > limit) return max_depth;
            }
        } else if (c == ']' || c == '}') --depth;
    }
    return max_depth;
}

bool all_ascii(std::string_view s) noexcept {
    std::uint64_t bits = 0;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, s.data() + i, sizeof word);
        bits |= word;
    }
    for (; i < s.size(); ++i) bits |= static_cast<unsigned char>(s[i]);
    return (bits & 0x8080808080808080u) == 0;
}

namespace {

template <typename Document>
bool parse_bounded_into(std::string_view text, const ParseLimits& limits, Document& doc, std::string& why,
                        std::string* scratch) {
    if (text.size() > limits.max_bytes) {
        why = "message of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
              std::to_string(limits.max_bytes);
        return false;
    }
    // Nesting deeper than max_depth needs more than max_depth opening brackets: counting
    // them (memchr: vectorised, and a frame has few) settles it for typical frames
    // without the exact scan.
    const auto count_up_to = [&text](char c, std::size_t limit) {
        std::size_t n = 0;
        for (const char *p = text.data(), *end = p + text.size(); n <= limit; ++n, ++p) {
            p = static_cast<const char*>(std::memchr(p, c, static_cast<std::size_t>(end - p)));
            if (p == nullptr) break;
        }
        return n;
    };
    const auto max_depth = static_cast<std::size_t>(std::max(limits.max_depth, 0));
    const std::size_t braces = count_up_to('{', max_depth);
    if (braces + count_up_to('[', max_depth - std::min(braces, max_depth)) > max_depth &&
        json_depth(text, limits.max_depth) > limits.max_depth) {
        why = "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels";
        return false;
    }
    // A raw NUL byte is never valid JSON, and RapidJSON reads it as the end of input
    // (it would accept "1\0garbage"): reject it here.
    if (const void* nul = std::memchr(text.data(), 0, text.size())) {
        why = "not JSON: a NUL byte at offset " + std::to_string(static_cast<const char*>(nul) - text.data());
        return false;
    }
    // The depth pre-scan above bounds the recursion, so the (faster) recursive parser is
    // safe. Numbers are read as text and parsed by NumberEvents (exact, and without
    // RapidJSON 1.1's wrong zeros: number_events.hpp).
    constexpr unsigned base = rapidjson::kParseNumbersAsStringsFlag;
    constexpr unsigned checked = base | rapidjson::kParseValidateEncodingFlag;
    thread_local rapidjson::CrtAllocator reader_stack;  // else the reader news one per parse
    rapidjson::ParseResult result;
    bool too_big = false, lone_surrogate = false;
    const bool escapes = std::memchr(text.data(), '\\', text.size()) != nullptr;
    const bool validate = limits.validate_utf8 && !all_ascii(text);
    auto parse = [&](auto& in, auto flags) {
        auto generator = [&](Document& handler) {
            NumberEvents<Document> numbers(handler);
            numbers.check_surrogates = escapes;
            rapidjson::Reader reader(&reader_stack, 256);
            result = reader.template Parse<decltype(flags)::value>(in, numbers);
            too_big = numbers.too_big;
            lone_surrogate = numbers.lone_surrogate;
            return !result.IsError();
        };
        doc.Populate(generator);
    };
    using Base = std::integral_constant<unsigned, base>;
    using Checked = std::integral_constant<unsigned, checked>;
    if (scratch) {
        rapidjson::GenericInsituStringStream<rapidjson::UTF8<>> in(insitu_copy(*scratch, text));
        if (validate) parse(in, std::integral_constant<unsigned, checked | rapidjson::kParseInsituFlag>());
        else parse(in, std::integral_constant<unsigned, base | rapidjson::kParseInsituFlag>());
    } else {
        rapidjson::MemoryStream memory(text.data(), text.size());
        rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(memory);
        if (validate) parse(in, Checked());
        else parse(in, Base());
    }
    if (result.IsError()) {
        const auto code = too_big          ? rapidjson::kParseErrorNumberTooBig
                          : lone_surrogate ? rapidjson::kParseErrorStringUnicodeSurrogateInvalid
                                           : result.Code();
        why = std::string("not JSON: ") + rapidjson::GetParseError_En(code) + " at offset " +
              std::to_string(result.Offset());
        return false;
    }
    return true;
}

}  // namespace

bool parse_bounded(std::string_view text, const ParseLimits& limits, rapidjson::Document& doc, std::string& why,
                   std::string* scratch) {
    return parse_bounded_into(text, limits, doc, why, scratch);
}

bool parse_bounded(std::string_view text, const ParseLimits& limits, FrameDocument& doc, std::string& why,
                   std::string* scratch) {
    return parse_bounded_into(text, limits, doc, why, scratch);
}

Json to_json(const rapidjson::Value& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType: return Json();
        case rapidjson::kFalseType: return Json(false);
        case rapidjson::kTrueType: return Json(true);
        case rapidjson::kStringType: return Json(std::string(v.GetString(), v.GetStringLength()));
        case rapidjson::kNumberType:
            if (v.IsInt64()) return Json(static_cast<long long>(v.GetInt64()));
            if (v.IsUint64()) return Json(static_cast<unsigned long long>(v.GetUint64()));
            return Json(v.GetDouble());
        case rapidjson::kArrayType: {
            Json::Array items;
            items.reserve(v.Size());
            for (const auto& item : v.GetArray()) items.push_back(to_json(item));
            return Json(std::move(items));
        }
        case rapidjson::kObjectType: {
            // A repeated key keeps its first value, as RapidJSON's FindMember (and so every
            // typed field) sees it; Json objects never hold a key twice.
            Json::Object members;
            members.reserve(v.MemberCount());
            std::optional<std::unordered_set<std::string_view>> seen;  // only for big objects
            if (v.MemberCount() > 16) seen.emplace();
            for (const auto& m : v.GetObject()) {
                const std::string_view key(m.name.GetString(), m.name.GetStringLength());
                const bool repeated = seen ? !seen->insert(key).second
                                           : std::any_of(members.begin(), members.end(),
                                                         [&](const Json::Member& e) { return e.first == key; });
                if (!repeated) members.emplace_back(std::string(key), to_json(m.value));
            }
            return Json(std::move(members));
        }
    }
    return Json();
}

void append_string(std::string& out, std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    const char* special = find_special_byte(p, end, true);
    if (special == end) {  // the usual case: one call that grows the string, then a copy
        const std::size_t at = out.size();
        out.append(s.size() + 2, '"');
        if (!s.empty()) std::memcpy(&out[at + 1], p, s.size());
        return;
    }
    out += '"';
    for (;;) {
        out.append(p, static_cast<std::size_t>(special - p));
        if (special == end) break;
        const auto c = static_cast<unsigned char>(*special);
        out += '\\';
        switch (c) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '\b': out += 'b'; break;
            case '\f': out += 'f'; break;
            case '\n': out += 'n'; break;
            case '\r': out += 'r'; break;
            case '\t': out += 't'; break;
            default: {
                static constexpr char kHex[] = "0123456789ABCDEF";  // RapidJSON's digits
                const char u[] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
                out.append(u, sizeof u);
            }
        }
        p = special + 1;
        special = find_special_byte(p, end, true);
    }
    out += '"';
}

void append_int(std::string& out, std::int64_t v) {
    char buffer[24];
    const char* end = rapidjson::internal::i64toa(v, buffer);
    out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_uint(std::string& out, std::uint64_t v) {
    char buffer[24];
    const char* end = rapidjson::internal::u64toa(v, buffer);
    out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_json(std::string& out, const Json& value) {
    switch (value.type()) {
        case Json::Type::null: out.append("null", 4); break;
        case Json::Type::boolean: value.as_bool() ? out.append("true", 4) : out.append("false", 5); break;
        case Json::Type::integer: append_int(out, value.as_int()); break;
        case Json::Type::number:
            // JSON has no NaN/Infinity: null.
            if (std::isfinite(value.as_double())) {
                char buffer[32];
                const char* end = rapidjson::internal::dtoa(value.as_double(), buffer);  // the Writer's Double
                out.append(buffer, static_cast<std::size_t>(end - buffer));
            } else {
                out.append("null", 4);
            }
            break;
        case Json::Type::string: append_string(out, value.as_string()); break;
        case Json::Type::array: {
            out += '[';
            bool first = true;
            for (const auto& item : value.as_array()) {
                if (!std::exchange(first, false)) out += ',';
                append_json(out, item);
            }
            out += ']';
            break;
        }
        case Json::Type::object: {
            out += '{';
            bool first = true;
            for (const auto& [k, v] : value.as_object()) {
                if (!std::exchange(first, false)) out += ',';
                append_string(out, k);
                out += ':';
                append_json(out, v);
            }
            out += '}';
            break;
        }
    }
}

}  // namespace ivrapi::protocol
