// Strict reading of scenario files and control-channel call fields.
#include <ivrapi/mock/scenario.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace ivrapi::mock {

namespace {

using ms = std::chrono::milliseconds;

const char* type_name(const Json& v) {
    switch (v.type()) {
        case Json::Type::null: return "null";
        case Json::Type::boolean: return "a boolean";
        case Json::Type::integer: return "an integer";
        case Json::Type::number: return "a number";
        case Json::Type::string: return "a string";
        case Json::Type::array: return "an array";
        case Json::Type::object: return "an object";
    }
    return "a value";
}

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw ScenarioError(path + ": " + what); }

// Reads one JSON object; every key must be read (finish() rejects the others).
class ObjectReader {
public:
    ObjectReader(const Json& obj, std::string path) : obj_(obj), path_(std::move(path)) {
        if (!obj.is_object()) fail(path_, std::string("expected an object, got ") + type_name(obj));
    }
    std::string at(const std::string& key) const { return path_ + "." + key; }
    const Json* get(const std::string& key) {
        seen_.insert(key);
        return obj_.find(key);
    }
    std::optional<std::int64_t> non_negative(const std::string& key) {
        const Json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_integer() || v->as_int() < 0) {
            fail(at(key),
                 std::string("expected an integer >= 0, got ") + (v->is_integer() ? v->dump() : type_name(*v)));
        }
        return v->as_int();
    }
    std::optional<ms> millis(const std::string& key) {
        auto v = non_negative(key);
        return v ? std::optional<ms>(ms(*v)) : std::nullopt;
    }
    std::optional<std::string> string(const std::string& key) {
        const Json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_string()) fail(at(key), std::string("expected a string, got ") + type_name(*v));
        return v->as_string();
    }
    std::optional<bool> boolean(const std::string& key) {
        const Json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_bool()) fail(at(key), std::string("expected true or false, got ") + type_name(*v));
        return v->as_bool();
    }
    // Unknown keys are errors: a misspelled key must not be silently ignored.
    void finish() const {
        for (const auto& [k, v] : obj_.as_object()) {
            if (!seen_.count(k)) fail(at(k), "unknown key (see ivrapi-mock-server --help)");
        }
    }

private:
    const Json& obj_;
    std::string path_;
    std::set<std::string> seen_;
};

CallState to_state(const std::string& path, const std::string& s) {
    if (s == "dialog") return CallState::dialog;
    if (s == "early") return CallState::early;
    if (s == "ringing") return CallState::ringing;
    if (s == "incoming") return CallState::incoming;
    fail(path, "expected dialog, early, ringing or incoming, got \"" + s + "\"");
}

ApplyAck to_ack(const std::string& path, const std::string& s) {
    if (s == "immediate") return ApplyAck::immediate;
    if (s == "before_stopped") return ApplyAck::before_stopped;
    if (s == "after_stopped") return ApplyAck::after_stopped;
    fail(path, "expected immediate, before_stopped or after_stopped, got \"" + s + "\"");
}

int to_otype(const std::string& path, const std::string& key) {
    char* end = nullptr;
    long v = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || v <= 0 || v > 100000) fail(path, "expected an oType number as the key");
    return static_cast<int>(v);
}

void read_call(ObjectReader& r, CallOptions& o) {
    if (auto v = r.string("ivrid")) o.ivrid = *v;
    if (auto v = r.string("key")) o.key = *v;
    if (auto v = r.string("callid")) o.callid = *v;
    if (auto v = r.string("cid")) o.cid = *v;
    if (auto v = r.string("componentname")) o.componentname = *v;
    if (auto v = r.non_negative("componentid")) o.componentid = static_cast<int>(std::min<std::int64_t>(*v, 1 << 30));
    if (auto v = r.string("sm_id")) o.sm_id = *v;
    if (auto v = r.string("state")) o.state = to_state(r.at("state"), *v);
    if (const Json* p = r.get("params")) o.params = p->is_string() ? p->as_string() : p->dump();
    if (const Json* d = r.get("dtmf")) {
        if (!d->is_array()) fail(r.at("dtmf"), std::string("expected an array, got ") + type_name(*d));
        for (std::size_t i = 0; i < d->size(); ++i) {
            ObjectReader step(d->as_array()[i], r.at("dtmf") + "[" + std::to_string(i) + "]");
            DtmfAt at;
            at.at = step.millis("at_ms").value_or(ms(0));
            auto digits = step.string("digits");
            if (!digits || digits->empty()) fail(step.at("digits"), "required (the keys to press)");
            at.digits = *digits;
            if (auto n = step.non_negative("after_component")) {
                if (*n < 1) fail(step.at("after_component"), "expected 1 or more (1 = the first component)");
                at.component = static_cast<int>(std::min<std::int64_t>(*n, 1 << 30));
            }
            if (auto t = step.non_negative("o_type")) at.o_type = static_cast<int>(std::min<std::int64_t>(*t, 100000));
            step.finish();
            o.caller_dtmf.push_back(std::move(at));
        }
    }
    if (auto v = r.millis("hangup_after_ms")) o.hangup_after = *v;
    if (auto v = r.millis("hangup_after_offer_ms")) o.hangup_after_offer = *v;
    if (const Json* a = r.get("asr_text")) {
        if (a->is_string()) {
            o.asr_texts = {a->as_string()};
        } else if (a->is_array()) {
            for (std::size_t i = 0; i < a->size(); ++i) {
                const Json& t = a->as_array()[i];
                if (!t.is_string()) {
                    fail(r.at("asr_text") + "[" + std::to_string(i) + "]",
                         std::string("expected a string, got ") + type_name(t));
                }
                o.asr_texts.push_back(t.as_string());
            }
        } else {
            fail(r.at("asr_text"), std::string("expected a string or an array of strings, got ") + type_name(*a));
        }
    }
}

void read_options(const Json& obj, const std::string& path, ServerOptions& so) {
    ObjectReader r(obj, path);
    if (auto v = r.millis("accept_timeout_ms")) so.accept_timeout = *v;
    if (auto v = r.millis("detached_timeout_ms")) so.detached_timeout = *v;
    if (auto v = r.millis("play_ms")) so.default_play_duration = *v;
    if (const Json* p = r.get("play_durations_ms")) {
        ObjectReader files(*p, r.at("play_durations_ms"));
        for (const auto& [file, d] : p->as_object()) so.play_durations[file] = *files.millis(file);
        files.finish();
    }
    if (auto v = r.millis("record_ms")) so.record_duration = *v;
    if (auto v = r.millis("tts_ms")) so.tts_duration = *v;
    if (auto v = r.millis("asr_ms")) so.asr_duration = *v;
    if (auto v = r.string("asr_text")) so.asr_text = *v;
    if (auto v = r.millis("fax_ms")) so.fax_duration = *v;
    if (auto v = r.millis("dtmf_send_ms")) so.dtmf_send_duration = *v;
    if (auto v = r.string("apply_ack")) so.apply_ack = to_ack(r.at("apply_ack"), *v);
    if (auto v = r.boolean("stopped_event_carries_ids")) so.stopped_event_carries_ids = *v;
    if (auto v = r.boolean("terminate_reply_first")) so.terminate_reply_first = *v;
    if (auto v = r.boolean("stopped_event_on_hangup")) so.stopped_event_on_hangup = *v;
    if (auto v = r.boolean("strict_sip_rules")) so.strict_sip_rules = *v;
    if (auto v = r.boolean("any_path_plays")) so.any_path_plays = *v;
    if (const Json* p = r.get("component_results")) {
        ObjectReader results(*p, r.at("component_results"));
        for (const auto& [type, v] : p->as_object()) {
            results.get(type);
            if (!v.is_object()) fail(results.at(type), std::string("expected an object, got ") + type_name(v));
            so.component_results[to_otype(results.at(type), type)] = v;
        }
    }
    if (const Json* p = r.get("component_transfer_keys")) {
        ObjectReader keys(*p, r.at("component_transfer_keys"));
        for (const auto& [type, v] : p->as_object()) {
            so.component_transfer_keys[to_otype(keys.at(type), type)] = *keys.string(type);
        }
    }
    r.finish();
}

}  // namespace

CallOptions parse_call(const Json& call, const std::string& path) {
    ObjectReader r(call, path);
    CallOptions o;
    read_call(r, o);
    r.finish();
    return o;
}

std::vector<ScheduledCall> parse_scenario(const Json& doc, ServerOptions& server) {
    ObjectReader top(doc, "$");
    if (const Json* o = top.get("options")) read_options(*o, top.at("options"), server);
    std::vector<ScheduledCall> out;
    if (const Json* calls = top.get("calls")) {
        if (!calls->is_array()) fail(top.at("calls"), std::string("expected an array, got ") + type_name(*calls));
        for (std::size_t i = 0; i < calls->size(); ++i) {
            ObjectReader r(calls->as_array()[i], top.at("calls") + "[" + std::to_string(i) + "]");
            ScheduledCall sc;
            sc.at = r.millis("at_ms").value_or(ms(0));
            const auto repeat = r.non_negative("repeat").value_or(1);
            if (repeat < 1 || repeat > 100000) fail(r.at("repeat"), "expected 1..100000");
            const auto every = r.millis("every_ms").value_or(ms(1000));
            read_call(r, sc.options);
            r.finish();
            for (std::int64_t n = 0; n < repeat; ++n) {
                ScheduledCall copy = sc;
                copy.at = sc.at + every * n;
                if (repeat > 1 && !copy.options.ivrid.empty()) copy.options.ivrid += "-" + std::to_string(n + 1);
                out.push_back(std::move(copy));
            }
        }
    }
    top.finish();
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return out;
}

const std::vector<std::string>& scenario_keys() {
    static const std::vector<std::string> keys = {
        "options.accept_timeout_ms",
        "options.detached_timeout_ms",
        "options.play_ms",
        "options.play_durations_ms",
        "options.record_ms",
        "options.tts_ms",
        "options.asr_ms",
        "options.asr_text",
        "options.fax_ms",
        "options.dtmf_send_ms",
        "options.apply_ack",
        "options.stopped_event_carries_ids",
        "options.terminate_reply_first",
        "options.stopped_event_on_hangup",
        "options.strict_sip_rules",
        "options.any_path_plays",
        "options.component_results",
        "options.component_transfer_keys",
        "calls[].at_ms",
        "calls[].repeat",
        "calls[].every_ms",
        "calls[].ivrid",
        "calls[].key",
        "calls[].callid",
        "calls[].cid",
        "calls[].componentname",
        "calls[].componentid",
        "calls[].sm_id",
        "calls[].state",
        "calls[].params",
        "calls[].dtmf[].at_ms",
        "calls[].dtmf[].digits",
        "calls[].dtmf[].after_component",
        "calls[].dtmf[].o_type",
        "calls[].hangup_after_ms",
        "calls[].hangup_after_offer_ms",
        "calls[].asr_text",
    };
    return keys;
}

}  // namespace ivrapi::mock
