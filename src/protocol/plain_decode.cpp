// The first stage of the fast paths (fast_decode.hpp) for ivrapi_dtmf, notify, replies and
// ivrapi_component_stopped: plain frames read by PlainScanner where they lie. Its own
// translation unit, so that adding it changed no inlining decision in fast_decode.cpp (the
// reply path lost ~680 instructions a frame when both lived in one file).
#include "protocol/fast_decode.hpp"
#include "protocol/plain_scanner.hpp"
#include "protocol/seen_keys.hpp"
#include "protocol/text_match.hpp"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ivrapi::protocol {

namespace {

// An object's members after its '{', through its '}': `field(key)` reads each value
// (false declines, as does a repeated key).
template <typename Scanner, typename Field>
bool read_members(Scanner& in, Field&& field) {
    SeenKeys seen;
    if (in.consume('}')) return true;
    do {
        std::string_view key;
        if (!in.string(key) || !seen.insert(key) || !in.consume(':') || !field(key)) return false;
    } while (in.consume(','));
    return in.consume('}');
}

// The body's members, then the frame's end.
template <typename Scanner, typename Field>
bool read_body(Scanner& in, Field&& field) {
    return read_members(in, std::forward<Field>(field)) && in.consume(']') && in.at_end();
}

// An error field set: present and not null/false/""/0 (decode_reply()'s rule).
bool raises_error(const Json& v) noexcept {
    switch (v.type()) {
        case Json::Type::null: return false;
        case Json::Type::boolean: return v.as_bool();
        case Json::Type::integer: return v.as_int() != 0;
        case Json::Type::string: return !v.as_string().empty();
        default: return true;
    }
}

// The plain reader nests no deeper than this (its stack frames hold a container's
// pending items); a deeper frame goes to the SAX path.
constexpr int kPlainMaxDepth = 8;

// How deep the plain reader may nest for these limits.
int plain_max_depth(const ParseLimits& limits) noexcept { return std::min(limits.max_depth, kPlainMaxDepth); }

// Scratch for the containers a value nests (PlainScanner's `built`): one per thread,
// empty when handed out; no two readers use it at once.
std::vector<Json>& nested_scratch() {
    thread_local std::vector<Json> nested;
    nested.clear();
    return nested;
}

}  // namespace

bool decode_dtmf_plain(std::string_view frame, const ParseLimits& limits, DtmfEvent& e) {
    constexpr char prefix[] = "[\"ivrapi_dtmf\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return false;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    std::string_view mode;
    // `e` is a default event and a key comes once (a repeat declines): append is assign,
    // without its checks (~70 instructions a frame).
    assert(e.key.empty() && e.ivrid.empty() && e.dtmf.empty() && !e.oid);
    const bool read = read_body(in, [&](std::string_view key) {
        std::string_view text;
        if (is(key, "key")) return in.string(text) && (e.key.append(text.data(), text.size()), true);
        if (is(key, "ivrid")) return in.string(text) && (e.ivrid.append(text.data(), text.size()), true);
        if (is(key, "mode")) return in.string(mode);
        if (is(key, "dtmf")) return in.string(text) && (e.dtmf.append(text.data(), text.size()), true);
        if (is(key, "oId")) {
            std::int64_t oid = 0;
            return in.integer(oid) && (e.oid = oid, true);
        }
        return in.skip_scalar();
    });
    if (!read) return false;
    e.mode = parse_dtmf_mode(mode);
    return true;
}

bool decode_notify_plain(std::string_view frame, const ParseLimits& limits, NotifyEvent& e, bool* offer_or_end) {
    constexpr char prefix[] = "[\"notify\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return false;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    bool has_data = false;
    // ivrevents api_start/api_stop are the general path's (offers, their ends): declined
    // as soon as both are known, and said so.
    const auto not_offer = [&] {
        const bool offer = is_offer_or_end(e.event_class, e.type);
        if (offer && offer_or_end != nullptr) *offer_or_end = true;
        return !offer;
    };
    // As for DTMF: `e` is a default event, so append is assign.
    assert(e.event_class.empty() && e.type.empty() && e.data.is_null() && !e.eventts);
    const bool read = read_body(in, [&](std::string_view key) {
        std::string_view text;
        if (is(key, "class")) return in.string(text) && (e.event_class.append(text.data(), text.size()), not_offer());
        if (is(key, "type")) return in.string(text) && (e.type.append(text.data(), text.size()), not_offer());
        if (is(key, "eventts")) {
            std::int64_t ts = 0;
            return in.integer(ts) && (e.eventts = ts, true);
        }
        if (is(key, "data")) {
            // data is at depth 3; it must be an object (null is the general path's).
            has_data = true;
            return in.consume('{') && in.object_body(e.data, 3, plain_max_depth(limits), nested_scratch());
        }
        return in.skip_scalar();
    });
    if (!read) return false;
    if (!has_data) e.data = Json::object();
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    return true;
}

std::optional<Json> parse_plain_value(std::string_view text, const ParseLimits& limits) {
    if (text.size() > limits.max_bytes) return std::nullopt;  // the full parse reports it
    PlainScanner in(text, limits.validate_utf8);
    Json value;
    if (!in.value(value, 1, plain_max_depth(limits), nested_scratch()) || !in.at_end()) return std::nullopt;
    return value;
}

namespace {

// The members of an offer's (or its end's) data, read into the event as decode_notify()
// reads them; false declines (a type the general path converts or reports).

// Text: a string or null (absent); with `numbers_as_text`, an integer as its digits.
bool text_member(EscapingPlainScanner& in, std::string& out, bool numbers_as_text = false) {
    std::string_view text;
    std::int64_t number = 0;
    switch (in.peek()) {
        case '"': return in.string(text) && (out.assign(text), true);
        case 'n': return in.null();
        default: return numbers_as_text && in.integer(number) && (out = std::to_string(number), true);
    }
}

// An integer or null.
bool integer_member(EscapingPlainScanner& in, std::optional<std::int64_t>& out) {
    if (in.peek() == 'n') return in.null();
    std::int64_t number = 0;
    return in.integer(number) && (out = number, true);
}

// A member of either event; false when `key` is not one of them or its value declines.
bool identity_member(EscapingPlainScanner& in, std::string_view key, SessionIdentity& id, bool& known) {
    known = true;
    if (is(key, "ivrid")) return text_member(in, id.ivrid);
    if (is(key, "key")) return text_member(in, id.key, true);
    if (is(key, "callid")) return text_member(in, id.callid);
    if (is(key, "cid")) return text_member(in, id.cid);
    if (is(key, "sm_id")) return text_member(in, id.sm_id);
    if (is(key, "componentname")) return text_member(in, id.componentname, true);
    if (is(key, "componentid")) return integer_member(in, id.componentid);
    if (is(key, "ivrts")) return integer_member(in, id.ivrts);
    known = false;
    return false;
}

// data's members after its '{' (data at depth 3).
template <typename Event>
bool offer_data(EscapingPlainScanner& in, Event& e, int max_depth) {
    return read_members(in, [&](std::string_view key) {
        bool known = false;
        const bool read = identity_member(in, key, e, known);
        if (known) return read;
        if constexpr (std::is_same_v<Event, ApiStartEvent>) {
            if (is(key, "state")) return text_member(in, e.state_text);
            // params as JSON itself (not a string) is written out by the general path.
            if (is(key, "params")) return text_member(in, e.params, true);
        } else {
            if (is(key, "reason")) return text_member(in, e.reason_text);
        }
        Json ignored;
        return in.value(ignored, 4, max_depth, nested_scratch());
    });
}

}  // namespace

std::optional<OfferOrEnd> decode_offer_plain(std::string_view frame, const ParseLimits& limits) {
    constexpr char prefix[] = "[\"notify\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    // With UTF-8 unchecked, the general path still rejects a surrogate's encoding (0xED
    // 0xA0-0xBF) in any string of a frame that has an escape (protocol/number_events.hpp):
    // such a frame is its to judge.
    if (!limits.validate_utf8 && std::memchr(frame.data(), '\xed', frame.size()) != nullptr &&
        std::memchr(frame.data(), '\\', frame.size()) != nullptr) {
        return std::nullopt;
    }
    // params is JSON in a string: escapes are the rule here, decoded into `unescaped`.
    thread_local std::string unescaped;
    unescaped.clear();
    unescaped.reserve(frame.size());
    EscapingPlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8, unescaped);
    std::string_view event_class, type;
    std::optional<std::int64_t> eventts;
    ApiStartEvent start;
    ApiStopEvent stop;
    bool has_data = false;
    const int max_depth = plain_max_depth(limits);
    const bool read = read_body(in, [&](std::string_view key) {
        if (is(key, "class")) return in.string(event_class);
        if (is(key, "type")) return in.string(type);
        if (is(key, "eventts")) return integer_member(in, eventts);
        if (is(key, "data")) {
            // Read straight into the event: class and type must come first (as the
            // platform sends them), data must be an object at depth 3.
            if (!is_offer_or_end(event_class, type) || max_depth < 3 || !in.consume('{')) return false;
            has_data = true;
            return is(type, "api_start") ? offer_data(in, start, max_depth) : offer_data(in, stop, max_depth);
        }
        return in.skip_scalar();
    });
    if (!read || !has_data || !is_offer_or_end(event_class, type)) return std::nullopt;
    if (is(type, "api_start")) {
        start.state = parse_call_state(start.state_text);
        start.eventts = eventts;
        start.params_json = params_json_of(start.params);
        if (limits.keep_raw_events) start.raw.assign(frame.data(), frame.size());
        return OfferOrEnd(std::move(start));
    }
    stop.reason = parse_stop_reason(stop.reason_text);
    stop.eventts = eventts;
    if (limits.keep_raw_events) stop.raw.assign(frame.data(), frame.size());
    return OfferOrEnd(std::move(stop));
}

std::optional<ComponentStopped> decode_stopped_plain(std::string_view frame, const ParseLimits& limits) {
    constexpr char prefix[] = "[\"ivrapi_component_stopped\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    ComponentStopped e;
    const bool read = read_body(in, [&](std::string_view key) {
        std::string_view text;
        if (is(key, "oId")) {
            std::int64_t oid = 0;
            return in.integer(oid) && (e.oid = oid, true);
        }
        if (is(key, "transferKey")) return in.string(text) && (e.transfer_key.assign(text), true);
        if (is(key, "key")) return in.string(text) && (e.key.emplace(text), true);
        if (is(key, "ivrid")) return in.string(text) && (e.ivrid.emplace(text), true);
        if (is(key, "results")) {
            // Anything but an object is read as no results (the general path's leniency).
            return in.value(e.results, 3, plain_max_depth(limits), nested_scratch());
        }
        return in.skip_scalar();
    });
    if (!read) return std::nullopt;
    if (!e.results.is_object()) e.results = Json::object();
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    return e;
}

bool decode_reply_plain(std::string_view frame, std::string_view name, const ParseLimits& limits, Reply& r) {
    // The name's bytes are checked as a string's would be (it has no quote or backslash).
    if (name.empty() || limits.max_depth < 2 ||
        find_special_byte(name.data(), name.data() + name.size(), !limits.validate_utf8) != name.data() + name.size()) {
        return false;
    }
    PlainScanner in(frame.substr(name.size() + 5), limits.validate_utf8);  // after `["<name>",{`
    Json& body = r.body;
    if (!in.object_body(body, 2, plain_max_depth(limits), nested_scratch()) || !in.consume(']') || !in.at_end()) {
        return false;
    }
    // The members it reads, found in one pass (a body has no repeated key here).
    const Json* qid = nullptr;
    const Json* result = nullptr;
    using namespace std::string_view_literals;
    for (const auto& [name_of_member, value] : body.as_object()) {
        const std::string_view key = name_of_member;  // compared as views: sizes first, inline
        if (key == "qid"sv) {
            qid = &value;
        } else if (key == "result"sv) {
            result = &value;
        } else if ((key == "error"sv || key == "errorcode"sv || key == "error_code"sv) && raises_error(value)) {
            return false;
        }
    }
    if (qid) {
        if (qid->is_integer() && qid->as_int() >= 0) {
            r.qid = qid_of_unsigned(static_cast<std::uint64_t>(qid->as_int()));
        } else if (qid->is_string()) {
            const std::string& digits = qid->as_string();
            r.qid = qid_of_string(digits, '"' + digits + '"');  // no escapes: its JSON text
            if (r.qid.state != QidField::State::valid) return false;
        } else {
            return false;
        }
    }
    r.request.assign(name.substr(0, name.size() - 7));  // strip "_result"
    ResultShape shape = ResultShape::absent;
    bool flag = false;
    if (result) {
        switch (result->type()) {
            case Json::Type::null: break;
            case Json::Type::string: shape = ResultShape::string, r.value = result->as_string(); break;
            case Json::Type::boolean:
                shape = ResultShape::boolean, flag = result->as_bool(), r.value = flag ? "true" : "false";
                break;
            case Json::Type::integer: shape = ResultShape::other, r.value = std::to_string(result->as_int()); break;
            default: return false;  // a container: its text is the general path's to write
        }
    }
    if (!reply_result_failure(r.request, shape, r.value, flag).empty()) return false;
    r.success = true;
    return true;
}

}  // namespace ivrapi::protocol
