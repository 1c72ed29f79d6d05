// The first stage of the fast paths for ivrapi_dtmf and notify (fast_decode.hpp): plain
// frames read by PlainScanner where they lie. Its own translation unit, so that adding it
// changed no inlining decision in fast_decode.cpp (the reply path lost ~680 instructions
// a frame when both lived in one file).
#include "protocol/fast_decode.hpp"
#include "protocol/plain_scanner.hpp"
#include "protocol/seen_keys.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ivrapi::protocol {

namespace {

// Compares with a literal's known length, which GCC inlines.
template <std::size_t N>
bool is(std::string_view text, const char (&literal)[N]) noexcept {
    return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}
template <std::size_t N>
bool starts_with(std::string_view text, const char (&literal)[N]) noexcept {
    return text.size() >= N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

// The plain reader nests no deeper than this (its stack frames hold a container's
// pending items); a deeper frame goes to the SAX path.
constexpr int kPlainMaxDepth = 8;

}  // namespace

std::optional<DtmfEvent> decode_dtmf_plain(std::string_view frame, const ParseLimits& limits) {
    constexpr char prefix[] = "[\"ivrapi_dtmf\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    DtmfEvent e;
    std::string_view mode;
    SeenKeys seen;
    if (!in.consume('}')) {
        do {
            std::string_view key, text;
            if (!in.string(key) || !seen.insert(key) || !in.consume(':')) return std::nullopt;
            bool read = false;
            if (is(key, "key")) {
                read = in.string(text) && (e.key.assign(text), true);
            } else if (is(key, "ivrid")) {
                read = in.string(text) && (e.ivrid.assign(text), true);
            } else if (is(key, "mode")) {
                read = in.string(mode);
            } else if (is(key, "dtmf")) {
                read = in.string(text) && (e.dtmf.assign(text), true);
            } else if (is(key, "oId")) {
                std::int64_t oid = 0;
                read = in.integer(oid) && (e.oid = oid, true);
            } else {
                read = in.skip_scalar();
            }
            if (!read) return std::nullopt;
        } while (in.consume(','));
        if (!in.consume('}')) return std::nullopt;
    }
    if (!in.consume(']') || !in.at_end()) return std::nullopt;
    e.mode = mode == "idle" ? DtmfMode::idle : mode == "component" ? DtmfMode::component : DtmfMode::unknown;
    return e;
}

std::optional<NotifyEvent> decode_notify_plain(std::string_view frame, const ParseLimits& limits) {
    constexpr char prefix[] = "[\"notify\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    NotifyEvent e;
    bool has_data = false;
    SeenKeys seen;
    const auto offer_or_end = [&e] {
        return is(e.event_class, "ivrevents") && (is(e.type, "api_start") || is(e.type, "api_stop"));
    };
    if (!in.consume('}')) {
        do {
            std::string_view key, text;
            if (!in.string(key) || !seen.insert(key) || !in.consume(':')) return std::nullopt;
            bool read = false;
            if (is(key, "class")) {
                // ivrevents api_start/api_stop are the general path's (offers, their ends).
                read = in.string(text) && (e.event_class.assign(text), !offer_or_end());
            } else if (is(key, "type")) {
                read = in.string(text) && (e.type.assign(text), !offer_or_end());
            } else if (is(key, "eventts")) {
                std::int64_t ts = 0;
                read = in.integer(ts) && (e.eventts = ts, true);
            } else if (is(key, "data")) {
                // data is at depth 3; it must be an object (null is the general path's).
                thread_local std::vector<Json> nested;  // scratch, reused
                nested.clear();
                read = in.consume('{') && in.object_body(e.data, 3, std::min(limits.max_depth, kPlainMaxDepth), nested);
                has_data = true;
            } else {
                read = in.skip_scalar();
            }
            if (!read) return std::nullopt;
        } while (in.consume(','));
        if (!in.consume('}')) return std::nullopt;
    }
    if (!in.consume(']') || !in.at_end()) return std::nullopt;
    if (!has_data) e.data = Json::object();
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    return e;
}

}  // namespace ivrapi::protocol
