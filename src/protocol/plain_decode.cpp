// The first stage of the fast paths (fast_decode.hpp) for ivrapi_dtmf, notify, replies and
// ivrapi_component_stopped: plain frames read by PlainScanner where they lie. Its own
// translation unit, so that adding it changed no inlining decision in fast_decode.cpp (the
// reply path lost ~680 instructions a frame when both lived in one file).
#include "protocol/fast_decode.hpp"
#include "protocol/plain_scanner.hpp"
#include "protocol/seen_keys.hpp"
#include "protocol/text_match.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
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

std::optional<NotifyEvent> decode_notify_plain(std::string_view frame, const ParseLimits& limits, bool* offer_or_end) {
    constexpr char prefix[] = "[\"notify\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8);
    NotifyEvent e;
    bool has_data = false;
    // ivrevents api_start/api_stop are the general path's (offers, their ends): declined
    // as soon as both are known, and said so.
    const auto not_offer = [&] {
        const bool offer = is_offer_or_end(e.event_class, e.type);
        if (offer && offer_or_end != nullptr) *offer_or_end = true;
        return !offer;
    };
    const bool read = read_body(in, [&](std::string_view key) {
        std::string_view text;
        if (is(key, "class")) return in.string(text) && (e.event_class.assign(text), not_offer());
        if (is(key, "type")) return in.string(text) && (e.type.assign(text), not_offer());
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

std::optional<Json> parse_plain_value(std::string_view text, const ParseLimits& limits) {
    if (text.size() > limits.max_bytes) return std::nullopt;  // the full parse reports it
    PlainScanner in(text, limits.validate_utf8);
    thread_local std::vector<Json> nested;  // scratch, reused
    nested.clear();
    Json value;
    if (!in.value(value, 1, std::min(limits.max_depth, kPlainMaxDepth), nested) || !in.at_end()) return std::nullopt;
    return value;
}

namespace {

// An offer's (or its end's) data member read as decode_notify() reads it, from the Json
// the plain stage built: false declines (a type the general path converts or reports).
bool text_field(const Json& data, const char* name, std::string& out, bool numbers_as_text = false) {
    const Json* v = data.find(name);
    if (v == nullptr || v->is_null()) return true;
    if (v->is_string()) return out = v->as_string(), true;
    if (numbers_as_text && v->is_integer()) return out = std::to_string(v->as_int()), true;
    return false;
}

bool integer_field(const Json& data, const char* name, std::optional<std::int64_t>& out) {
    const Json* v = data.find(name);
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_integer()) return false;
    out = v->as_int();
    return true;
}

bool identity_fields(const Json& data, SessionIdentity& id) {
    return text_field(data, "ivrid", id.ivrid) && text_field(data, "key", id.key, true) &&
           text_field(data, "callid", id.callid) && text_field(data, "cid", id.cid) &&
           text_field(data, "sm_id", id.sm_id) && text_field(data, "componentname", id.componentname, true) &&
           integer_field(data, "componentid", id.componentid) && integer_field(data, "ivrts", id.ivrts);
}

}  // namespace

std::optional<Inbound> decode_offer_plain(std::string_view frame, const ParseLimits& limits) {
    constexpr char prefix[] = "[\"notify\",{";
    if (!starts_with(frame, prefix) || limits.max_depth < 2) return std::nullopt;
    // params is JSON in a string: escapes are the rule here, decoded into `unescaped`.
    thread_local std::string unescaped;
    unescaped.clear();
    unescaped.reserve(frame.size());
    PlainScanner in(frame.substr(sizeof prefix - 1), limits.validate_utf8, &unescaped);
    std::string_view event_class, type;
    std::optional<std::int64_t> eventts;
    Json data;
    bool has_data = false;
    const bool read = read_body(in, [&](std::string_view key) {
        if (is(key, "class")) return in.string(event_class);
        if (is(key, "type")) return in.string(type);
        if (is(key, "eventts")) {
            std::int64_t ts = 0;
            return in.integer(ts) && (eventts = ts, true);
        }
        if (is(key, "data")) {
            thread_local std::vector<Json> nested;  // scratch, reused
            nested.clear();
            has_data = true;
            return in.consume('{') && in.object_body(data, 3, std::min(limits.max_depth, kPlainMaxDepth), nested);
        }
        return in.skip_scalar();
    });
    if (!read || !has_data || !is_offer_or_end(event_class, type)) return std::nullopt;
    if (is(type, "api_start")) {
        ApiStartEvent e;
        const Json* params = data.find("params");
        // params as JSON itself (not a string) is written out by the general path.
        if (!identity_fields(data, e) || !text_field(data, "state", e.state_text) ||
            (params != nullptr && (params->is_object() || params->is_array())) ||
            !text_field(data, "params", e.params, true)) {
            return std::nullopt;
        }
        e.state = parse_call_state(e.state_text);
        e.eventts = eventts;
        e.params_json = params_json_of(e.params);
        if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
        return Inbound(std::move(e));
    }
    ApiStopEvent e;
    if (!identity_fields(data, e) || !text_field(data, "reason", e.reason_text)) return std::nullopt;
    e.reason = parse_stop_reason(e.reason_text);
    e.eventts = eventts;
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    return Inbound(std::move(e));
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
            thread_local std::vector<Json> nested;  // scratch, reused
            nested.clear();
            return in.value(e.results, 3, std::min(limits.max_depth, kPlainMaxDepth), nested);
        }
        return in.skip_scalar();
    });
    if (!read) return std::nullopt;
    if (!e.results.is_object()) e.results = Json::object();
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    return e;
}

std::optional<Reply> decode_reply_plain(std::string_view frame, const ParseLimits& limits) {
    const std::string_view name = reply_name_of(frame);
    // The name's bytes are checked as a string's would be (it has no quote or backslash).
    if (name.empty() || limits.max_depth < 2 ||
        find_special_byte(name.data(), name.data() + name.size(), !limits.validate_utf8) != name.data() + name.size()) {
        return std::nullopt;
    }
    PlainScanner in(frame.substr(name.size() + 5), limits.validate_utf8);  // after `["<name>",{`
    thread_local std::vector<Json> nested;                                 // scratch, reused
    nested.clear();
    Json body;
    if (!in.object_body(body, 2, std::min(limits.max_depth, kPlainMaxDepth), nested) || !in.consume(']') ||
        !in.at_end()) {
        return std::nullopt;
    }
    Reply r;
    r.request.assign(name.substr(0, name.size() - 7));  // strip "_result"
    if (const Json* qid = body.find("qid")) {
        if (qid->is_integer() && qid->as_int() >= 0) {
            r.qid = qid_of_unsigned(static_cast<std::uint64_t>(qid->as_int()));
        } else if (qid->is_string()) {
            const std::string& digits = qid->as_string();
            r.qid = qid_of_string(digits, '"' + digits + '"');  // no escapes: its JSON text
            if (r.qid.state != QidField::State::valid) return std::nullopt;
        } else {
            return std::nullopt;
        }
    }
    for (const char* field : {"error", "errorcode", "error_code"}) {
        if (const Json* v = body.find(field); v && raises_error(*v)) return std::nullopt;
    }
    ResultShape shape = ResultShape::absent;
    bool flag = false;
    if (const Json* result = body.find("result")) {
        switch (result->type()) {
            case Json::Type::null: break;
            case Json::Type::string: shape = ResultShape::string, r.value = result->as_string(); break;
            case Json::Type::boolean:
                shape = ResultShape::boolean, flag = result->as_bool(), r.value = flag ? "true" : "false";
                break;
            case Json::Type::integer: shape = ResultShape::other, r.value = std::to_string(result->as_int()); break;
            default: return std::nullopt;  // a container: its text is the general path's to write
        }
    }
    if (!reply_result_failure(r.request, shape, r.value, flag).empty()) return std::nullopt;
    r.success = true;
    r.body = std::move(body);
    return r;
}

}  // namespace ivrapi::protocol
