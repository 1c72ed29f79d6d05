// Numbers parsed by us, not by RapidJSON. RapidJSON 1.1 (Debian 12) computes a zero
// whose power of ten is outside [-22, 37] ("0e-30", "0E82", "0." and 24 zeros) through
// a path that normalises 0 (clz(0): undefined behaviour) and returns garbage such as
// -2.2e-193 or 9.6e-240; the fuzzer found it. Reading with kParseNumbersAsStringsFlag,
// this adaptor turns each number's text into the event RapidJSON would have sent:
// std::from_chars is exact (correctly rounded), as the full-precision parse meant to be.
//
// It also rejects a lone low-surrogate escape ("\udc00"): RapidJSON 1.1 checks that a
// high surrogate is followed by a low one, but decodes a low one on its own into bytes
// that are not UTF-8 (ED B0..BF xx), which no Json value may hold. Valid UTF-8 never
// has ED followed by A0..BF, so strings are checked for that pair (only when the text
// has escapes at all: `check_surrogates`).
#pragma once

#include <rapidjson/reader.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

namespace ivrapi::protocol {

template <typename Handler>
class NumberEvents {
public:
    explicit NumberEvents(Handler& out) : out_(out) {}

    bool too_big = false;  // a number beyond double's range (RapidJSON's kParseErrorNumberTooBig)
    // Set false when the text has no backslash: no escape, so no surrogate to check.
    bool check_surrogates = true;
    bool lone_surrogate = false;  // found one (kParseErrorStringUnicodeSurrogateInvalid)

    bool RawNumber(const char* s, rapidjson::SizeType length, bool) {
        const char* const end = s + length;
        bool integral = true;
        for (const char* p = s; p != end; ++p) integral = integral && *p != '.' && *p != 'e' && *p != 'E';
        if (integral) {
            if (*s == '-') {
                std::int64_t i = 0;
                if (std::from_chars(s, end, i).ec == std::errc()) {
                    return i >= std::numeric_limits<int>::min() ? out_.Int(static_cast<int>(i)) : out_.Int64(i);
                }
            } else {
                std::uint64_t u = 0;
                if (std::from_chars(s, end, u).ec == std::errc()) {
                    return u <= std::numeric_limits<unsigned>::max() ? out_.Uint(static_cast<unsigned>(u))
                                                                     : out_.Uint64(u);
                }
            }
            // Beyond 64 bits: a double, as RapidJSON makes it.
        }
        double d = 0;
        const auto r = std::from_chars(s, end, d);
        if (r.ec == std::errc::result_out_of_range) {
            // Overflow is an error; underflow is 0 or a subnormal (strtod tells which).
            const std::string text(s, length);
            d = std::strtod(text.c_str(), nullptr);
            if (std::isinf(d)) {
                too_big = true;
                return false;
            }
        } else if (r.ec != std::errc()) {
            return false;  // the reader validated the grammar: not reached
        }
        return out_.Double(d);
    }

    // Everything else goes through unchanged.
    bool Null() { return out_.Null(); }
    bool Bool(bool b) { return out_.Bool(b); }
    bool Int(int i) { return out_.Int(i); }
    bool Uint(unsigned u) { return out_.Uint(u); }
    bool Int64(std::int64_t i) { return out_.Int64(i); }
    bool Uint64(std::uint64_t u) { return out_.Uint64(u); }
    bool Double(double d) { return out_.Double(d); }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return utf8(s, n) && out_.String(s, n, copy); }
    bool StartObject() { return out_.StartObject(); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return utf8(s, n) && out_.Key(s, n, copy); }
    bool EndObject(rapidjson::SizeType n) { return out_.EndObject(n); }
    bool StartArray() { return out_.StartArray(); }
    bool EndArray(rapidjson::SizeType n) { return out_.EndArray(n); }

private:
    bool utf8(const char* s, rapidjson::SizeType n) {
        if (!check_surrogates) return true;
        for (const char *p = s, *end = s + n; p != end; ++p) {
            p = static_cast<const char*>(std::memchr(p, '\xed', static_cast<std::size_t>(end - p)));
            if (p == nullptr) return true;
            if (p + 1 != end && static_cast<unsigned char>(p[1]) >= 0xa0) {
                lone_surrogate = true;
                return false;
            }
        }
        return true;
    }

    Handler& out_;
};

}  // namespace ivrapi::protocol
