// Conversions between RapidJSON values and ivrapi::Json, plus the bounded parse every
// decoder in the SDK goes through. Internal to the protocol layer.
#pragma once

#include "protocol/plain_bytes.hpp"

#include <ivrapi/json.hpp>

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ivrapi::protocol {

struct ParseLimits {
    std::size_t max_bytes = 16u * 1024u * 1024u;  // larger frames are rejected unparsed
    int max_depth = 64;                           // arrays/objects nested deeper are rejected
    // Reject invalid UTF-8. The client turns it off for WebSocket text frames, which
    // websocketpp has already validated (RFC 6455 requires it).
    bool validate_utf8 = true;
    // Copy the frame into the `raw` of notify events (api_start, api_stop, others).
    bool keep_raw_events = true;
    // decode() may take a fast path for hot frames (protocol/fast_decode.hpp); the tests
    // turn it off to compare both paths.
    bool fast_paths = true;
};

// True when every byte is ASCII: such text cannot hold invalid UTF-8, so the parses skip
// RapidJSON's validation for it (which costs about as much as the rest of the parse).
bool all_ascii(std::string_view s) noexcept;

// Nesting depth of JSON text (brackets outside strings), stopping early past `limit`.
int json_depth(std::string_view text, int limit) noexcept;

// Parses `text` into `doc` with size, depth and UTF-8 checks. On failure returns false
// and sets `why` to a one-line reason.
// `scratch`: parse in situ on a copy of `text` in this buffer (faster: strings are not
// copied again); `doc` then refers into `scratch`, which must outlive it unchanged.
bool parse_bounded(std::string_view text, const ParseLimits& limits, rapidjson::Document& doc, std::string& why,
                   std::string* scratch = nullptr);
// A document whose parse stack also comes from a pool (given a buffer, no heap at all:
// RapidJSON's default stack mallocs and frees ~1 KiB per parse). Same values.
using FrameDocument =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>, rapidjson::MemoryPoolAllocator<>>;
bool parse_bounded(std::string_view text, const ParseLimits& limits, FrameDocument& doc, std::string& why,
                   std::string* scratch = nullptr);

// Copies `text` into `scratch` for RapidJSON's in-situ parse and returns where it begins.
// Four NUL bytes follow it, not one: validating UTF-8, RapidJSON reads the rest of a
// truncated multi-byte sequence through the terminating NUL and up to 3 bytes beyond
// (a heap overflow the fuzzer found with `"\xe0` at the end of a frame).
inline char* insitu_copy(std::string& scratch, std::string_view text) {
    scratch.assign(text.data(), text.size());
    scratch.append(4, '\0');
    return &scratch[0];
}

Json to_json(const rapidjson::Value& v);

// A RapidJSON output stream that appends to a std::string: a frame is written where it
// is returned (a StringBuffer allocates its own stack, then the text is copied out).
class StringOutput {
public:
    using Ch = char;
    explicit StringOutput(std::string& out) : out_(out) {}
    void Put(char c) { out_.push_back(c); }
    void Flush() {}
    // `s` between double quotes, as it is (the caller checked it needs no escape).
    void put_quoted(const char* s, std::size_t n) {
        const std::size_t at = out_.size();
        out_.resize(at + n + 2);
        char* d = &out_[at];
        d[0] = '"';
        if (n > 0) std::memcpy(d + 1, s, n);
        d[n + 1] = '"';
    }

private:
    std::string& out_;
};

// A writer into a StringOutput. Its level stack uses one shared CrtAllocator (malloc,
// stateless): by default each writer would `new` an allocator of its own.
//
// Strings and keys that need no escape are copied in one piece (RapidJSON's writer puts
// them byte by byte through its escape table); the text is the same. RapidJSON's calls
// are not virtual: these hide Writer's String and Key for every caller that holds a
// JsonWriter (Value::Accept: a DOM written back as text).
class JsonWriter : public rapidjson::Writer<StringOutput> {
public:
    explicit JsonWriter(StringOutput& out) : Writer(out, &shared_allocator()) {}

    bool String(const char* s, rapidjson::SizeType n, bool copy = false) {
        if (find_special_byte(s, s + n, true) != s + n) return Writer::String(s, n, copy);
        Prefix(rapidjson::kStringType);
        os_->put_quoted(s, n);
        return EndValue(true);
    }
    bool String(const char* s) { return String(s, static_cast<rapidjson::SizeType>(std::strlen(s))); }
    bool String(const std::string& s) { return String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy = false) { return String(s, n, copy); }
    bool Key(const char* s) { return String(s); }

private:
    static rapidjson::CrtAllocator& shared_allocator() {
        static rapidjson::CrtAllocator allocator;
        return allocator;
    }
};

// JSON text appended straight to a string: the bytes RapidJSON's Writer writes (checked by
// tests/protocol/test_json_writer.cpp), without its level stack and per-value Prefix. The
// encoder's frames and Json::dump use them; building a component_apply through the Writer
// cost ~3,900 instructions, most of it per call, not per byte.
// `s` quoted, escaped as RapidJSON escapes: \" \\ \b \f \n \r \t, other bytes < 0x20 as
// \u00XX; every other byte as it is. `s` must not point into `out` (it may reallocate).
void append_string(std::string& out, std::string_view s);
void append_int(std::string& out, std::int64_t v);
void append_uint(std::string& out, std::uint64_t v);
// Any Json value; a non-finite number (JSON has none) as null.
void append_json(std::string& out, const Json& value);

inline std::string_view view_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

}  // namespace ivrapi::protocol
