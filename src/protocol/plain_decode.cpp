// The first stage of the fast paths for ivrapi_dtmf and notify (fast_decode.hpp): plain
// frames read by PlainScanner where they lie. Its own translation unit, so that adding it
// changed no inlining decision in fast_decode.cpp (the reply path lost ~680 instructions
// a frame when both lived in one file).
#include "protocol/fast_decode.hpp"
#include "protocol/plain_scanner.hpp"
#include "protocol/seen_keys.hpp"
#include "protocol/text_match.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ivrapi::protocol {

namespace {

// The body's members after its '{', then the frame's end: `field(key)` reads each value
// (false declines, as does a repeated key).
template <typename Field>
bool read_body(PlainScanner& in, Field&& field) {
    SeenKeys seen;
    if (!in.consume('}')) {
        do {
            std::string_view key;
            if (!in.string(key) || !seen.insert(key) || !in.consume(':') || !field(key)) return false;
        } while (in.consume(','));
        if (!in.consume('}')) return false;
    }
    return in.consume(']') && in.at_end();
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
    const bool read = read_body(in, [&](std::string_view key) {
        std::string_view text;
        if (is(key, "key")) return in.string(text) && (e.key.assign(text), true);
        if (is(key, "ivrid")) return in.string(text) && (e.ivrid.assign(text), true);
        if (is(key, "mode")) return in.string(mode);
        if (is(key, "dtmf")) return in.string(text) && (e.dtmf.assign(text), true);
        if (is(key, "oId")) {
            std::int64_t oid = 0;
            return in.integer(oid) && (e.oid = oid, true);
        }
        return in.skip_scalar();
    });
    if (!read) return std::nullopt;
    e.mode = parse_dtmf_mode(mode);
    return e;
}

std::optional<NotifyEvent> decode_notify_plain(std::string_view frame, const ParseLimits& limits) {
    constexpr char prefix[] = "[\"notify\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    NotifyEvent e;
    bool has_data = false;
    const bool read = read_body(in, [&](std::string_view key) {
        std::string_view text;
        // ivrevents api_start/api_stop are the general path's (offers, their ends).
        if (is(key, "class"))
            return in.string(text) && (e.event_class.assign(text), !is_offer_or_end(e.event_class, e.type));
        if (is(key, "type")) return in.string(text) && (e.type.assign(text), !is_offer_or_end(e.event_class, e.type));
        if (is(key, "eventts")) {
            std::int64_t ts = 0;
            return in.integer(ts) && (e.eventts = ts, true);
        }
        if (is(key, "data")) {
            // data is at depth 3; it must be an object (null is the general path's).
            thread_local std::vector<Json> nested;  // scratch, reused
            nested.clear();
            has_data = true;
            return in.consume('{') && in.object_body(e.data, 3, std::min(limits.max_depth, kPlainMaxDepth), nested);
        }
        return in.skip_scalar();
    });
    if (!read) return std::nullopt;
    if (!has_data) e.data = Json::object();
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    return e;
}

}  // namespace ivrapi::protocol
