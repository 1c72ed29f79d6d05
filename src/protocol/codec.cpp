#include "protocol/codec.hpp"

#include "protocol/fast_decode.hpp"
#include "protocol/text_match.hpp"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <unordered_set>

namespace ivrapi::protocol {
namespace {

constexpr double kMaxQid = 9007199254740992.0;  // 2^53
constexpr Qid kMaxIntegerQid = Qid{1} << 53;    // the same, compared exactly (2^53 + 1 rounds to it as a double)

// ["name",{"qid":N, ... }], written straight into its string (json_bridge.hpp's append_*:
// RapidJSON's bytes). qid comes first, so every later member starts with a comma.
class Frame {
public:
    Frame(std::string_view name, Qid qid) {
        text_.reserve(256);  // most requests fit: one allocation
        text_ += '[';
        append_string(text_, name);
        text_.append(",{\"qid\":", 8);
        append_uint(text_, qid);
    }
    Frame& field(std::string_view key, std::string_view value) {
        append_string(member(key), value);
        return *this;
    }
    Frame& field(std::string_view key, std::int64_t value) {
        append_int(member(key), value);
        return *this;
    }
    Frame& session(SessionRef s) { return field("key", s.key).field("ivrid", s.ivrid); }
    // `,"key":` written: the caller appends the value.
    std::string& member(std::string_view key) {
        text_ += ',';
        append_string(text_, key);
        text_ += ':';
        return text_;
    }
    std::string finish() {
        text_.append("}]", 2);
        return std::move(text_);
    }

private:
    std::string text_;
};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string dump_value(const rapidjson::Value& v) {
    std::string s;
    StringOutput out(s);
    JsonWriter w(out);
    v.Accept(w);
    if (s.size() > 64) s = s.substr(0, 61) + "...";
    return s;
}

// Member names are short: comparing them inline beats RapidJSON's FindMember (strlen
// of the name, then a memcmp call per member of the same length).
inline bool same_name(const rapidjson::Value& name, std::string_view want) noexcept {
    if (name.GetStringLength() != want.size()) return false;
    const char* p = name.GetString();
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (p[i] != want[i]) return false;
    }
    return true;
}

const rapidjson::Value* find_member(const rapidjson::Value& obj, std::string_view name) noexcept {
    for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
        if (same_name(m->name, name)) return &m->value;
    }
    return nullptr;
}

// Reads fields of one JSON object, recording the first type error by field name.
class Fields {
public:
    Fields(const rapidjson::Value& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

    const rapidjson::Value* get(std::string_view name) const { return find_member(obj_, name); }
    // A string field; numbers are accepted as their text when `lenient`.
    void str(std::string_view name, std::string& out, bool lenient = false) {
        const auto* v = get(name);
        if (!v || v->IsNull()) return;
        if (v->IsString()) out.assign(v->GetString(), v->GetStringLength());
        else if (lenient && v->IsNumber()) out = dump_value(*v);
        else fail(name, "must be a string");
    }
    void opt_str(std::string_view name, std::optional<std::string>& out) {
        const auto* v = get(name);
        if (!v || v->IsNull()) return;
        if (v->IsString()) out.emplace(v->GetString(), v->GetStringLength());
        else fail(name, "must be a string");
    }
    // A 64-bit integer: integer, integral float, or decimal string.
    void i64(std::string_view name, std::optional<std::int64_t>& out) {
        const auto* v = get(name);
        if (!v || v->IsNull()) return;
        if (v->IsInt64()) {
            out = v->GetInt64();
            return;
        }
        if (v->IsDouble()) {
            double d = v->GetDouble();
            if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) {
                out = static_cast<std::int64_t>(d);
                return;
            }
        }
        if (v->IsString() && v->GetStringLength() > 0 && v->GetStringLength() < 19) {
            std::string_view s = view_of(*v);
            bool neg = s[0] == '-';
            std::string_view digits = neg ? s.substr(1) : s;
            if (!digits.empty() &&
                std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                out = std::stoll(std::string(s));
                return;
            }
        }
        fail(name, "must be a 64-bit integer, got " + dump_value(*v));
    }
    void object(std::string_view name, Json& out) {
        const auto* v = get(name);
        if (!v || v->IsNull()) {
            out = Json::object();
            return;
        }
        if (v->IsObject()) out = to_json(*v);
        else fail(name, "must be an object");
    }
    void fail(std::string_view name, const std::string& what) {
        if (error_.empty()) error_ = where_ + ": field '" + std::string(name) + "' " + what;
    }
    const std::string& error() const { return error_; }

private:
    const rapidjson::Value& obj_;
    std::string where_;
    std::string error_;
};

void read_identity(Fields& f, SessionIdentity& id) {
    f.str("ivrid", id.ivrid);
    f.str("key", id.key, true);
    f.str("callid", id.callid);
    f.str("cid", id.cid);
    f.str("sm_id", id.sm_id);
    f.str("componentname", id.componentname, true);
    f.i64("componentid", id.componentid);
    f.i64("ivrts", id.ivrts);
}

Error protocol_error(std::string message, std::string_view raw) {
    return Error(Errc::protocol_error, std::move(message), std::string(raw));
}

bool is_failure_word(const std::string& lowered) {
    static const std::unordered_set<std::string> words{"error", "fail",   "failed",    "failure",
                                                       "false", "denied", "forbidden", "rejected"};
    return words.count(lowered) != 0;
}

// True when the field signals an error: present and not null/false/""/0.
bool truthy(const rapidjson::Value* v) {
    if (!v || v->IsNull()) return false;
    if (v->IsBool()) return v->GetBool();
    if (v->IsString()) return v->GetStringLength() != 0;
    if (v->IsNumber()) return v->GetDouble() != 0;
    return true;
}

// Every member of a reply body decode_reply() and reason_text() read (the fast path
// hands them only these): keep it in step with them (reply_member checks in debug builds).
constexpr std::string_view kReplyFields[] = {"qid",    "result",  "error",    "errorcode",     "error_code",
                                             "reason", "message", "errormsg", "error_message", "code"};

const rapidjson::Value* reply_member(const rapidjson::Value& body, std::string_view name) noexcept {
    assert(reply_reads_field(name));
    return find_member(body, name);
}

std::string reason_text(const rapidjson::Value& body) {
    for (const char* name : {"reason", "message", "error", "errormsg", "error_message", "errorcode", "code"}) {
        const rapidjson::Value* found = reply_member(body, name);
        if (found == nullptr || found->IsNull()) continue;
        const auto& v = *found;
        if (v.IsString() && v.GetStringLength() > 0) return std::string(view_of(v));
        if (v.IsObject()) {
            auto m = v.FindMember("message");
            if (m != v.MemberEnd() && m->value.IsString()) return std::string(view_of(m->value));
            return dump_value(v);
        }
        if (v.IsNumber()) return std::string(name) + " " + dump_value(v);
    }
    return {};
}

enum class ReplyKind { ok, payload, lenient };

ReplyKind reply_kind(std::string_view request) {
    if (result_carries_payload(request)) return ReplyKind::payload;
    // The apply's reply may come when the component ends (the spec elides its body):
    // only an explicit error fails it.
    if (request == kConnectionInfo || request == kSubscribe || request == kAccept || request == kReaccept ||
        request == kAbort || request == kTerminate) {
        return ReplyKind::ok;
    }
    return ReplyKind::lenient;
}

bool looks_like_lost_race(const std::string& reason) {
    std::string r = lower(reason);
    for (const char* w : {"already", "accepted", "captured", "controlled", "taken", "owner", "busy"}) {
        if (r.find(w) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

std::string reply_result_failure(std::string_view request, ResultShape shape, const std::string& value, bool flag) {
    const ReplyKind kind = reply_kind(request);
    switch (shape) {
        case ResultShape::string: {
            if (value == "ok") return {};  // nearly every reply: no lowering, no lookup
            const std::string lowered = lower(value);
            if (is_failure_word(lowered)) return "result \"" + value + "\"";
            if (kind == ReplyKind::ok && lowered != "ok") return "result \"" + value + "\" where \"ok\" was expected";
            if (kind == ReplyKind::payload && value.empty()) return "empty result";
            return {};
        }
        case ResultShape::boolean: return flag ? std::string() : "result false";
        case ResultShape::other:
            return kind != ReplyKind::lenient ? "result " + value + " of an unexpected type" : std::string();
        case ResultShape::absent: return kind == ReplyKind::payload ? "no result in the reply" : std::string();
    }
    return {};
}

Reply decode_reply(std::string_view name, const rapidjson::Value& fields, Json body, std::string_view frame) {
    Reply r;
    r.request = std::string(name.substr(0, name.size() - 7));  // strip "_result"
    r.qid = read_qid(reply_member(fields, "qid"));
    r.body = std::move(body);

    const rapidjson::Value* result = reply_member(fields, "result");
    std::string failure;
    for (const char* name : {"error", "errorcode", "error_code"}) {
        if (truthy(reply_member(fields, name))) {
            failure = "error field '" + std::string(name) + "'";
            break;
        }
    }
    if (result && result->IsString()) r.value = std::string(view_of(*result));
    else if (result && !result->IsNull()) r.value = dump_value(*result);

    if (failure.empty()) {
        const ResultShape shape = !result || result->IsNull() ? ResultShape::absent
                                  : result->IsString()        ? ResultShape::string
                                  : result->IsBool()          ? ResultShape::boolean
                                                              : ResultShape::other;
        failure = reply_result_failure(r.request, shape, r.value, shape == ResultShape::boolean && result->GetBool());
    }
    if (failure.empty()) {
        r.success = true;
        return r;
    }
    std::string why = reason_text(fields);
    Errc code = Errc::server_error;
    if ((r.request == kAccept || r.request == kReaccept) && looks_like_lost_race(why)) code = Errc::lost_race;
    // The frame is copied only for a failure (Error::raw_reply), not for every reply.
    r.error = Error(code, r.request + " failed: " + (why.empty() ? failure : why), std::string(frame));
    return r;
}

bool reply_reads_field(std::string_view key) noexcept {
    for (std::string_view f : kReplyFields) {
        if (f == key) return true;
    }
    return false;
}

namespace {

Result<Inbound> decode_notify(const rapidjson::Value& body, std::string_view raw, bool keep_raw) {
    Fields f(body, "notify");
    std::string cls, type;
    std::optional<std::int64_t> eventts;
    f.str("class", cls);
    f.str("type", type);
    f.i64("eventts", eventts);
    const auto* data = f.get("data");
    if (data && !data->IsNull() && !data->IsObject()) f.fail("data", "must be an object");
    if (!f.error().empty()) return protocol_error(f.error(), raw);

    static const rapidjson::Value empty_object(rapidjson::kObjectType);
    const rapidjson::Value& d = (data && data->IsObject()) ? *data : empty_object;
    if (is_offer_or_end(cls, type)) {
        Fields df(d, "notify " + type + " data");
        if (type == "api_start") {
            ApiStartEvent e;
            read_identity(df, e);
            df.str("state", e.state_text);
            // params is documented as a string (JSON or free text); a platform that
            // sends it as JSON itself is read the same way.
            if (const auto* p = df.get("params"); p && (p->IsObject() || p->IsArray())) {
                e.params.clear();
                StringOutput out(e.params);
                JsonWriter w(out);
                p->Accept(w);
            } else {
                df.str("params", e.params, true);
            }
            if (!df.error().empty()) return protocol_error(df.error(), raw);
            e.state = parse_call_state(e.state_text);
            e.eventts = eventts;
            e.params_json = params_json_of(e.params);
            e.raw = keep_raw ? std::string(raw) : std::string();
            return Inbound(std::move(e));
        }
        ApiStopEvent e;
        read_identity(df, e);
        df.str("reason", e.reason_text);
        if (!df.error().empty()) return protocol_error(df.error(), raw);
        e.reason = parse_stop_reason(e.reason_text);
        e.eventts = eventts;
        e.raw = keep_raw ? std::string(raw) : std::string();
        return Inbound(std::move(e));
    }
    NotifyEvent n;
    n.event_class = std::move(cls);
    n.type = std::move(type);
    n.eventts = eventts;
    n.data = to_json(d);
    n.raw = keep_raw ? std::string(raw) : std::string();
    return Inbound(std::move(n));
}

// Rejects an object with a repeated key: which one counts is ambiguous.
std::string duplicate_key(const rapidjson::Value& obj) {
    const auto n = obj.MemberCount();
    if (n < 2) return {};
    if (n <= 16) {
        for (auto a = obj.MemberBegin(); a != obj.MemberEnd(); ++a) {
            for (auto b = a + 1; b != obj.MemberEnd(); ++b) {
                if (same_name(a->name, view_of(b->name))) return std::string(view_of(a->name));
            }
        }
        return {};
    }
    std::unordered_set<std::string_view> seen;
    for (const auto& m : obj.GetObject()) {
        if (!seen.insert(view_of(m.name)).second) return std::string(view_of(m.name));
    }
    return {};
}

}  // namespace

std::string encode_connection_info(Qid qid) { return Frame(kConnectionInfo, qid).finish(); }

std::string encode_subscribe(Qid qid, std::string_view id, const std::vector<std::string>& events,
                             std::int64_t expires_seconds) {
    Frame f(kSubscribe, qid);
    f.field("objects", "any");
    std::string& text = f.member("events");
    text += '[';
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (i > 0) text += ',';
        append_string(text, events[i]);
    }
    text += ']';
    return f.field("expires", expires_seconds).field("id", id).finish();
}

std::string encode_subscribe_renew(Qid qid, std::string_view id, std::int64_t expires_seconds) {
    return Frame(kSubscribe, qid).field("id", id).field("expires", expires_seconds).finish();
}

std::string encode_unsubscribe(Qid qid, std::string_view id) {
    return Frame(kSubscribe, qid).field("id", id).field("expires", std::int64_t{0}).finish();
}

std::string encode_session_request(std::string_view name, Qid qid, SessionRef session) {
    return Frame(name, qid).session(session).finish();
}

std::string encode_component_apply(Qid qid, SessionRef session, const Json& component, std::int64_t oid) {
    Frame f(kApply, qid);
    f.session(session);
    std::string& text = f.member("data");
    text += '{';
    for (const auto& [k, v] : component.as_object()) {
        if (is(k, "oId")) continue;
        append_string(text, k);
        text += ':';
        append_json(text, v);
        text += ',';
    }
    text.append("\"oId\":", 6);
    append_int(text, oid);
    text += '}';
    return f.finish();
}

std::string encode_file_get_path(Qid qid, SessionRef session, std::string_view path) {
    return Frame(kFileGetPath, qid).session(session).field("path", path).finish();
}

std::string encode_file_upload_temp(Qid qid, SessionRef session, std::string_view url) {
    return Frame(kFileUploadTemp, qid).session(session).field("url", url).finish();
}

std::string encode_file_upload_static(Qid qid, SessionRef session, std::string_view url, std::string_view destpath) {
    return Frame(kFileUploadStatic, qid).session(session).field("url", url).field("destpath", destpath).finish();
}

std::string encode_sessionless_upload_static(Qid qid, std::string_view url, std::string_view destpath) {
    return Frame(kSessionlessUploadStatic, qid).field("url", url).field("destpath", destpath).finish();
}

std::string encode_request(std::string_view name, Qid qid, const Json& body) {
    Frame f(name, qid);
    for (const auto& [k, v] : body.as_object()) {
        if (is(k, "qid")) continue;
        append_json(f.member(k), v);
    }
    return f.finish();
}

QidField qid_of_unsigned(std::uint64_t value) {
    QidField q;
    q.state = QidField::State::invalid;
    // Every reply has one: its text without a JSON writer (a 256-byte buffer each).
    q.text = std::to_string(value);
    if (value <= kMaxIntegerQid) {
        q.state = QidField::State::valid;
        q.value = value;
    }
    return q;
}

QidField qid_of_string(std::string_view s, std::string json_text) {
    QidField q;
    q.state = QidField::State::invalid;
    q.text = std::move(json_text);
    if (!s.empty() && s.size() <= 16 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        Qid value = 0;
        for (char c : s) value = value * 10 + static_cast<Qid>(c - '0');  // at most 16 digits: no overflow
        if (value <= kMaxIntegerQid) {
            q.state = QidField::State::valid;
            q.value = value;
        }
    }
    return q;
}

QidField read_qid(const rapidjson::Value* v) {
    if (!v) return {};
    if (v->IsUint64()) return qid_of_unsigned(v->GetUint64());
    if (v->IsString()) return qid_of_string(view_of(*v), dump_value(*v));
    QidField q;
    q.state = QidField::State::invalid;
    q.text = dump_value(*v);
    if (v->IsDouble()) {
        double d = v->GetDouble();
        if (std::isfinite(d) && d >= 0 && d <= kMaxQid && std::floor(d) == d) {
            q.state = QidField::State::valid;
            q.value = static_cast<Qid>(d);
        }
    }
    return q;
}

bool result_carries_payload(std::string_view request_name) noexcept {
    return request_name == kFileGetPath || request_name == kFileUploadTemp || request_name == kFileUploadStatic ||
           request_name == kSessionlessUploadStatic || request_name == "callrecord_get_path";
}

DecodePaths& decode_paths() noexcept {
    thread_local DecodePaths paths;
    return paths;
}

namespace {

Result<Inbound> decode_general(std::string_view frame, const ParseLimits& limits);

// decode()'s path for ivrapi_dtmf, the busiest frame: the event is read into the Result
// returned (one named object, so no move of the event on the way out).
Result<Inbound> decode_dtmf_frame(std::string_view frame, const ParseLimits& limits) {
    Result<Inbound> r(std::in_place, std::in_place_type<DtmfEvent>);
    if (!decode_dtmf_fast(frame, limits, std::get<DtmfEvent>(*r))) r = decode_general(frame, limits);
    return r;
}

// The same for notify; an offer or its end (ivrevents api_start/api_stop) is declined by
// the notify stages and read by the offer stage.
Result<Inbound> decode_notify_frame(std::string_view frame, const ParseLimits& limits) {
    Result<Inbound> r(std::in_place, std::in_place_type<NotifyEvent>);
    if (decode_notify_fast(frame, limits, std::get<NotifyEvent>(*r))) return r;
    if (auto offer = decode_offer_plain(frame, limits)) {
        ++decode_paths().plain;
        if (auto* start = std::get_if<ApiStartEvent>(&*offer)) {
            r = Inbound(std::move(*start));
        } else {
            r = Inbound(std::move(std::get<ApiStopEvent>(*offer)));
        }
        return r;
    }
    r = decode_general(frame, limits);
    return r;
}

// The same for replies (every request's answer: the round trip's path).
Result<Inbound> decode_reply_frame(std::string_view frame, std::string_view name, const ParseLimits& limits) {
    Result<Inbound> r(std::in_place, std::in_place_type<Reply>);
    if (!decode_reply_fast(frame, name, limits, std::get<Reply>(*r))) r = decode_general(frame, limits);
    return r;
}

}  // namespace

Result<Inbound> decode(std::string_view frame, const ParseLimits& limits) {
    if (frame.empty()) return protocol_error("empty frame", frame);
    if (frame.size() > limits.max_bytes) {
        return Error(Errc::message_too_large, "message of " + std::to_string(frame.size()) +
                                                  " bytes exceeds the limit of " + std::to_string(limits.max_bytes));
    }
    if (limits.fast_paths) {
        // Each looks at the frame's first bytes before parsing anything.
        if (starts_with(frame, "[\"ivrapi_dtmf\",")) return decode_dtmf_frame(frame, limits);
        if (starts_with(frame, "[\"notify\",")) return decode_notify_frame(frame, limits);
        if (const std::string_view name = reply_name_of(frame); !name.empty())
            return decode_reply_frame(frame, name, limits);
        if (auto stopped = decode_stopped_plain(frame, limits)) {
            ++decode_paths().plain;
            return Inbound(std::move(*stopped));
        }
    }
    return decode_general(frame, limits);
}

namespace {

// decode()'s DOM path, for everything the fast stages declined. Its own function (not
// inlined), so that decode() and the fast paths stay small (a larger decode() once made
// GCC call std::string's move out of line on the fast returns, ~+50 instructions a frame).
[[gnu::noinline]] Result<Inbound> decode_general(std::string_view frame, const ParseLimits& limits) {
    ++decode_paths().general;
    // Typical frames fit in these buffers: no heap allocation for the DOM (RapidJSON's
    // default pool would malloc and free a 64 KiB chunk per frame).
    thread_local char value_buffer[16 * 1024];
    thread_local char stack_buffer[4 * 1024];  // the parser's stack: nesting x ~16 bytes
    rapidjson::MemoryPoolAllocator<> value_allocator(value_buffer, sizeof value_buffer);
    rapidjson::MemoryPoolAllocator<> stack_allocator(stack_buffer, sizeof stack_buffer);
    FrameDocument doc(&value_allocator, 1024, &stack_allocator);  // 1024: RapidJSON's default
    std::string why;
    thread_local std::string scratch;  // the in-situ copy `doc` refers to
    if (!parse_bounded(frame, limits, doc, why, &scratch)) return protocol_error(why, frame);
    if (!doc.IsArray()) return protocol_error("frame is not a JSON array", frame);
    if (doc.Size() != 2) {
        return protocol_error("frame has " + std::to_string(doc.Size()) + " elements, expected 2", frame);
    }
    if (!doc[0].IsString()) return protocol_error("message name (element 0) is not a string", frame);
    if (!doc[1].IsObject()) return protocol_error("message body (element 1) is not an object", frame);
    const std::string_view name = view_of(doc[0]);
    const rapidjson::Value& body = doc[1];
    if (name.empty()) return protocol_error("message name is empty", frame);
    if (std::string dup = duplicate_key(body); !dup.empty()) {
        return protocol_error(std::string(name) + ": field '" + dup + "' appears twice", frame);
    }

    constexpr std::string_view suffix = "_result";
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
        return Inbound(decode_reply(name, body, to_json(body), frame));
    }
    if (name == "notify") return decode_notify(body, frame, limits.keep_raw_events);
    if (name == "ivrapi_component_stopped") {
        Fields f(body, "ivrapi_component_stopped");
        ComponentStopped e;
        f.i64("oId", e.oid);
        f.str("transferKey", e.transfer_key, true);
        if (!f.error().empty()) return protocol_error(f.error(), frame);
        // Losing a completion costs a session its next 15 minutes: be lenient with the
        // fields that do not route it (an empty result set may come as []).
        if (const auto* r = f.get("results"); r && r->IsObject()) e.results = to_json(*r);
        else e.results = Json::object();
        std::string key, ivrid;
        Fields loose(body, "ivrapi_component_stopped");
        loose.str("key", key, true);
        loose.str("ivrid", ivrid, true);
        if (loose.error().empty()) {
            if (f.get("key") && !f.get("key")->IsNull()) e.key = key;
            if (f.get("ivrid") && !f.get("ivrid")->IsNull()) e.ivrid = ivrid;
        }
        if (limits.keep_raw_events) e.raw = std::string(frame);
        return Inbound(std::move(e));
    }
    if (name == "ivrapi_dtmf") {
        Fields f(body, "ivrapi_dtmf");
        DtmfEvent e;
        std::string mode;
        f.str("key", e.key, true);
        f.str("ivrid", e.ivrid);
        f.str("mode", mode);
        f.i64("oId", e.oid);
        f.str("dtmf", e.dtmf, true);
        if (!f.error().empty()) return protocol_error(f.error(), frame);
        e.mode = parse_dtmf_mode(mode);
        return Inbound(std::move(e));
    }
    GenericMessage g;
    g.name = std::string(name);
    g.body = to_json(body);
    g.raw = std::string(frame);
    return Inbound(std::move(g));
}

}  // namespace

ConnectionInfo decode_connection_info(const Json& body) {
    ConnectionInfo info;
    auto text = [&](const char* k) {
        const Json* v = body.find(k);
        return v ? v->to_text() : std::string();
    };
    auto list = [&](const char* k) {
        std::vector<std::string> out;
        if (const Json* v = body.find(k)) {
            for (const auto& item : v->as_array()) out.push_back(item.to_text());
        }
        return out;
    };
    info.site = text("site");
    info.ownertype = text("ownertype");
    info.domain = text("domain");
    info.sessionid = text("sessionid");
    info.connectionid = text("connectionid");
    info.datetime = text("datetime");
    info.integration_point_id = text("integration_point_id");
    info.integration_point_type = text("integration_point_type");
    info.capabilities = list("capabilities");
    info.roles = list("roles");
    if (const Json* ts = body.find("timestamp"); ts && ts->is_number()) info.timestamp = ts->as_int();
    info.body = body;
    info.body.erase("token");
    return info;
}

std::optional<Json> params_json_of(std::string_view params) {
    if (params.empty()) return std::nullopt;
    auto parsed = Json::parse(params);
    if (!parsed) return std::nullopt;
    return std::move(*parsed);
}

CallState parse_call_state(std::string_view s) noexcept {
    if (s == "dialog") return CallState::dialog;
    if (s == "early") return CallState::early;
    if (s == "ringing") return CallState::ringing;
    if (s == "incoming") return CallState::incoming;
    return CallState::unknown;
}

StopReason parse_stop_reason(std::string_view s) noexcept {
    if (s == "script") return StopReason::script;
    if (s == "timeout") return StopReason::timeout;
    if (s == "abort") return StopReason::abort;
    return StopReason::unknown;
}

}  // namespace ivrapi::protocol
