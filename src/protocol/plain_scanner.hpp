// A reader of "plain" JSON text, the shape the platform's busy frames have: strings
// without escapes, integers, true/false/null, small objects and arrays. It is the first
// stage of the decoder's fast paths (fast_decode.hpp): it reads the frame where it lies
// (no copy, no in-situ pass, no parser stack) and builds values once. Anything outside
// that subset makes a call return false (the caller declines and the SAX fast path or
// the general decoder reads the frame): escapes (unless the caller gives it a buffer to
// decode them into), control bytes, fractions, exponents,
// integers of more than 18 digits (so every one fits int64), a byte >= 0x80 when UTF-8
// must be checked, an object with a repeated key or more than kMaxItems members, and
// containers nested deeper than the caller allows.
#pragma once

#include "protocol/plain_bytes.hpp"

#include <ivrapi/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ivrapi::protocol {

// kDecodeEscapes: strings with escapes are decoded (into a buffer the caller gives) rather
// than declined; a separate instantiation, so the busy frames' scanner has no trace of it.
template <bool kDecodeEscapes>
class BasicPlainScanner {
public:
    // `check_utf8`: bytes >= 0x80 decline (their encoding is the general path's to check).
    // `unescaped`: where strings with escapes are decoded to, their views pointing into it;
    // its capacity must hold the text (decoded strings are never longer), so it never
    // moves. Without it a string with an escape declines.
    BasicPlainScanner(std::string_view text, bool check_utf8) noexcept
        : p_(text.data()), end_(text.data() + text.size()), high_bytes_ok_(!check_utf8) {}
    BasicPlainScanner(std::string_view text, bool check_utf8, std::string& unescaped) noexcept
        : p_(text.data()), end_(text.data() + text.size()), high_bytes_ok_(!check_utf8), unescaped_(&unescaped) {
        static_assert(kDecodeEscapes, "only the escape-decoding scanner takes a buffer");
    }

    static constexpr std::size_t kMaxItems = 16;  // members or items of one container

    // Skips whitespace; consumes `c` when it comes next.
    bool consume(char c) noexcept {
        skip_whitespace();
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }

    // Only whitespace is left.
    bool at_end() noexcept {
        skip_whitespace();
        return p_ == end_;
    }

    // A string without control bytes: its bytes, a view into the text (or, when it has
    // escapes and the scanner decodes them, into `unescaped`).
    bool string(std::string_view& out) noexcept {
        if (!consume('"')) return false;
        const char* const start = p_;
        p_ = find_special_byte(p_, end_, high_bytes_ok_);
        if (p_ != end_ && *p_ == '"') {
            out = std::string_view(start, static_cast<std::size_t>(p_ - start));
            ++p_;
            return true;
        }
        // Unterminated, a byte to decline, or an escape.
        if constexpr (kDecodeEscapes) {
            return p_ != end_ && *p_ == '\\' && escaped_string(start, out);
        } else {
            (void)start;
            return false;
        }
    }

    // -?(0|[1-9][0-9]*) of at most 18 digits. What follows is the caller's to check: a
    // fraction or exponent leaves a '.', 'e' or 'E' where it expects ',' '}' or ']'.
    bool integer(std::int64_t& out) noexcept {
        skip_whitespace();
        const bool negative = p_ != end_ && *p_ == '-';
        if (negative) ++p_;
        const char* const start = p_;
        std::int64_t value = 0;
        for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_) {
            if (p_ - start == 18) return false;  // a 19th digit: the value might not fit
            value = value * 10 + (*p_ - '0');
        }
        const auto digits = p_ - start;
        if (digits == 0 || (digits > 1 && *start == '0')) return false;
        out = negative ? -value : value;
        return true;
    }

    // The next byte after whitespace, 0 at the end: what kind of value comes.
    char peek() noexcept {
        skip_whitespace();
        return p_ == end_ ? '\0' : *p_;
    }

    // The literal null.
    bool null() noexcept {
        skip_whitespace();
        return word("null");
    }

    // A scalar this reader knows (string, integer, literal), read and dropped.
    bool skip_scalar() noexcept {
        skip_whitespace();
        if (p_ == end_) return false;
        std::string_view text;
        std::int64_t number = 0;
        switch (*p_) {
            case '"': return string(text);
            case 't': return word("true");
            case 'f': return word("false");
            case 'n': return word("null");
            default: return integer(number);
        }
    }

    // An object's members after its '{', through its '}', into `out`. `depth` is the
    // object's own; a container deeper than `max_depth` declines (the general path
    // reports it). `built` is scratch for nested containers, empty between values.
    bool object_body(Json& out, int depth, int max_depth, std::vector<Json>& built) {
        return container_body(out, true, depth, max_depth, built);
    }

    // Any value it knows, into `out`; `depth` is the value's own (a container's).
    bool value(Json& out, int depth, int max_depth, std::vector<Json>& built) {
        Pending p;  // NOLINT(cppcoreguidelines-pro-type-member-init): set as read
        if (!item(p, depth, max_depth, built)) return false;
        with_value(p, built, [&](auto&& v) { out = Json(std::forward<decltype(v)>(v)); });
        if (p.kind == Pending::Kind::built) built.pop_back();
        return true;
    }

private:
    // A value of an open container, made into its Json once the container closes, in
    // place in a vector of the exact size. Not initialised: set as it is read.
    struct Pending {
        enum class Kind : unsigned char { null, boolean, integer, string, built };
        Kind kind;
        bool b;
        std::int64_t i;
        std::string_view key;
        std::string_view text;
        std::size_t built;  // a closed container: its index in `built`
    };

    bool item(Pending& out, int depth, int max_depth, std::vector<Json>& built) {
        skip_whitespace();
        if (p_ == end_) return false;
        switch (*p_) {
            case '"': out.kind = Pending::Kind::string; return string(out.text);
            case 't': out.kind = Pending::Kind::boolean, out.b = true; return word("true");
            case 'f': out.kind = Pending::Kind::boolean, out.b = false; return word("false");
            case 'n': out.kind = Pending::Kind::null; return word("null");
            case '{':
            case '[': {
                const bool object = *p_ == '{';
                ++p_;
                Json value;
                if (!container_body(value, object, depth, max_depth, built)) return false;
                out.kind = Pending::Kind::built;
                out.built = built.size();
                built.push_back(std::move(value));
                return true;
            }
            default: out.kind = Pending::Kind::integer; return integer(out.i);
        }
    }

    // Calls `f` with what makes `p`'s Json.
    template <typename F>
    static void with_value(Pending& p, std::vector<Json>& built, F&& f) {
        switch (p.kind) {
            case Pending::Kind::null: f(nullptr); return;
            case Pending::Kind::boolean: f(p.b); return;
            case Pending::Kind::integer: f(static_cast<long long>(p.i)); return;
            case Pending::Kind::string: f(p.text); return;
            case Pending::Kind::built: f(std::move(built[p.built])); return;
        }
    }

    bool container_body(Json& out, bool object, int depth, int max_depth, std::vector<Json>& built) {
        if (depth > max_depth) return false;
        const char close = object ? '}' : ']';
        std::array<Pending, kMaxItems> pending;  // NOLINT(cppcoreguidelines-pro-type-member-init): set as read
        std::size_t n = 0;
        const std::size_t built_before = built.size();
        if (!consume(close)) {
            do {
                if (n == kMaxItems) return false;
                Pending& p = pending[n];
                if (object) {
                    if (!string(p.key) || !consume(':')) return false;
                    for (std::size_t i = 0; i < n; ++i) {
                        if (pending[i].key == p.key) return false;  // which one counts is the general path's rule
                    }
                }
                if (!item(p, depth + 1, max_depth, built)) return false;
                ++n;
            } while (consume(','));
            if (!consume(close)) return false;
        }
        if (object) {
            Json::Object members;
            members.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                with_value(pending[i], built, [&](auto&& v) {
                    members.emplace_back(std::piecewise_construct, std::forward_as_tuple(pending[i].key),
                                         std::forward_as_tuple(std::forward<decltype(v)>(v)));
                });
            }
            out = Json(std::move(members));
        } else {
            Json::Array items;
            items.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                with_value(pending[i], built, [&](auto&& v) { items.emplace_back(std::forward<decltype(v)>(v)); });
            }
            out = Json(std::move(items));
        }
        built.resize(built_before);
        return true;
    }

    // The rest of a string from its first backslash (p_), decoded into unescaped_. Declines
    // \u0000 and surrogates that do not pair (the general path's to judge).
    bool escaped_string(const char* start, std::string_view& out) noexcept {
        std::string& to = *unescaped_;
        const std::size_t begin = to.size();
        if (!append(start, p_)) return false;
        while (true) {
            ++p_;  // the backslash
            if (p_ == end_) return false;
            char decoded[4];
            std::size_t n = 1;
            switch (*p_++) {
                case '"': decoded[0] = '"'; break;
                case '\\': decoded[0] = '\\'; break;
                case '/': decoded[0] = '/'; break;
                case 'b': decoded[0] = '\b'; break;
                case 'f': decoded[0] = '\f'; break;
                case 'n': decoded[0] = '\n'; break;
                case 'r': decoded[0] = '\r'; break;
                case 't': decoded[0] = '\t'; break;
                case 'u': {
                    unsigned code = 0;
                    if (!hex4(code) || code == 0 || (code >= 0xDC00 && code <= 0xDFFF)) return false;
                    if (code >= 0xD800 && code <= 0xDBFF) {
                        unsigned low = 0;
                        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
                        p_ += 2;
                        if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                    n = utf8(code, decoded);
                    break;
                }
                default: return false;
            }
            const char* const run = p_;
            p_ = find_special_byte(p_, end_, high_bytes_ok_);
            if (!append(decoded, decoded + n) || !append(run, p_) || p_ == end_) return false;
            if (*p_ == '"') break;
            if (*p_ != '\\') return false;
        }
        ++p_;
        out = std::string_view(to.data() + begin, to.size() - begin);
        return true;
    }
    // Appends without letting unescaped_ move (views into it are held).
    bool append(const char* from, const char* to_end) noexcept {
        std::string& to = *unescaped_;
        const auto n = static_cast<std::size_t>(to_end - from);
        if (to.capacity() - to.size() < n) return false;
        to.append(from, n);
        return true;
    }
    bool hex4(unsigned& out) noexcept {
        if (end_ - p_ < 4) return false;
        for (int i = 0; i < 4; ++i, ++p_) {
            const char c = *p_;
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (digit < 0) return false;
            out = out * 16 + static_cast<unsigned>(digit);
        }
        return true;
    }
    static std::size_t utf8(unsigned code, char* out) noexcept {
        if (code < 0x80) {
            out[0] = static_cast<char>(code);
            return 1;
        }
        if (code < 0x800) {
            out[0] = static_cast<char>(0xC0 | (code >> 6));
            out[1] = static_cast<char>(0x80 | (code & 0x3F));
            return 2;
        }
        if (code < 0x10000) {
            out[0] = static_cast<char>(0xE0 | (code >> 12));
            out[1] = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out[2] = static_cast<char>(0x80 | (code & 0x3F));
            return 3;
        }
        out[0] = static_cast<char>(0xF0 | (code >> 18));
        out[1] = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out[2] = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out[3] = static_cast<char>(0x80 | (code & 0x3F));
        return 4;
    }

    void skip_whitespace() noexcept {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }
    bool word(std::string_view w) noexcept {
        if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w) return false;
        p_ += w.size();
        return true;
    }

    const char* p_;
    const char* end_;
    bool high_bytes_ok_;
    std::string* unescaped_ = nullptr;
};

using PlainScanner = BasicPlainScanner<false>;
using EscapingPlainScanner = BasicPlainScanner<true>;

}  // namespace ivrapi::protocol
