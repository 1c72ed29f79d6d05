// Simulated IVR components (ivrapi_component_apply) and the caller's key presses.
#include "mock/core.hpp"

#include "mock/files.hpp"
#include "mock/json_util.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ivrapi::mock::detail {

namespace {

bool is_dtmf(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' || (c >= 'A' && c <= 'D') ||
           (c >= 'a' && c <= 'd');
}

// "4, 5, 6", "456", "#" or ["4", "5"] -> {'4','5','6'}.
std::set<char> digit_set(const rapidjson::Value& d, const char* key) {
    std::set<char> out;
    const auto* v = prop(d, key);
    if (!v) return out;
    auto add = [&](const std::string& s) {
        for (char c : s) {
            if (is_dtmf(c)) out.insert(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
    };
    if (v->IsArray()) {
        for (const auto& e : v->GetArray()) {
            if (e.IsString()) add(e.GetString());
            if (e.IsInt()) add(std::to_string(e.GetInt()));
        }
    } else if (auto s = prop_string(d, key)) {
        add(*s);
    }
    return out;
}

// "#" or "#, *0" or ["#", "*0"] -> {"#", "*0"}: comma-separated sequences.
std::vector<std::string> sequences(const rapidjson::Value& d, const char* key) {
    std::vector<std::string> out;
    const auto* v = prop(d, key);
    if (!v) return out;
    auto add = [&](const std::string& s) {
        std::string cur;
        for (char c : s + ",") {
            if (c == ',') {
                if (!cur.empty()) out.push_back(cur);
                cur.clear();
            } else if (is_dtmf(c)) {
                cur += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
        }
    };
    if (v->IsArray()) {
        for (const auto& e : v->GetArray()) {
            if (e.IsString()) add(e.GetString());
        }
    } else if (auto s = prop_string(d, key)) {
        add(*s);
    }
    return out;
}

// A duration from the first present property; `scale` converts its unit to ms.
std::optional<ms> duration_prop(const rapidjson::Value& d, std::initializer_list<std::pair<const char*, double>> keys) {
    for (const auto& [key, scale] : keys) {
        if (auto v = prop_number(d, key)) {
            double msv = std::fabs(*v) * scale;
            if (msv > 24.0 * 3600 * 1000) msv = 24.0 * 3600 * 1000;
            return ms(static_cast<std::int64_t>(std::llround(msv)));
        }
    }
    return std::nullopt;
}

// A file as a stored script keeps it: {"selectMode": 0, "localFile": "x.wav"}, or an
// argument object {"argType": .., "value": "x.wav"}; anything else as is.
const rapidjson::Value* file_value(const rapidjson::Value& v) {
    if (!v.IsObject()) return &v;
    if (const auto* local = member(v, "localFile")) return local;
    if (const auto* value = member(v, "value")) return value;
    return &v;
}

std::vector<std::string> file_list(const rapidjson::Value& d, bool split) {
    std::vector<std::string> out;
    for (const char* key : {"file", "files"}) {
        const auto* v = member(d, key);
        if (!v) continue;
        v = file_value(*v);
        if (v->IsArray()) {
            for (const auto& item : v->GetArray()) {
                const auto& e = *file_value(item);
                if (e.IsString() && e.GetStringLength() > 0) out.emplace_back(e.GetString(), e.GetStringLength());
            }
        } else if (v->IsString()) {
            std::string s(v->GetString(), v->GetStringLength());
            if (!split) {
                if (!s.empty()) out.push_back(s);
                continue;
            }
            std::string cur;
            for (char c : s + ";") {
                if (c == ';' || c == ',' || c == '\n') {
                    while (!cur.empty() && std::isspace(static_cast<unsigned char>(cur.back()))) cur.pop_back();
                    auto b = cur.find_first_not_of(" \t");
                    if (b != std::string::npos) out.push_back(cur.substr(b));
                    cur.clear();
                } else {
                    cur += c;
                }
            }
        }
    }
    return out;
}

}  // namespace

bool Core::check_file(const CallData& call, const std::string& path, std::string& why) const {
    const bool temp = storage_of(path) == "TEMP";
    if (options_.any_path_plays && !temp) return true;
    const std::string local = local_path_of(storage_, path, call.temp_dir);
    if (playable_file(local)) return true;
    if (temp) {
        why = "file not found: " + path + " (not in this script's temp folder)";
    } else if (path[0] != ':' && storage_.script_dir.empty()) {
        why = "file not found: " + path + " (no storage prefix and no script files)";
    } else {
        why = "file not found: " + path;
    }
    return false;
}

bool Core::start_component(CallData& call, Run& run, const rapidjson::Value& d, std::string& why) {
    const int t = run.o_type;
    static const std::set<int> media = {204, 206, 208, 213, 214, 222, 223, 226, 227, 230};
    if (options_.strict_sip_rules) {
        if (media.count(t) && (call.sip_state == "incoming" || call.sip_state == "ringing")) {
            why = "media components are not allowed in state '" + call.sip_state + "'";
            return false;
        }
        if ((t == 201 || t == 203) && call.sip_state != "dialog") {
            why = "oType " + std::to_string(t) + " needs an answered call (state '" + call.sip_state +
                  "'); send a 202 with 3xx-6xx instead";
            return false;
        }
    }
    run.interrupt = digit_set(d, "interruptSymbols");
    switch (t) {
        case 204: {
            auto mode = prop_int(d, "mode").value_or(0);
            run.files = file_list(d, mode == 7);
            const bool sync = mode == 0 || mode == 1 || mode == 2 || mode == 7;
            if ((sync || mode == 3) && run.files.empty()) {
                why = "'file' is required";
                return false;
            }
            if (mode != 7 && run.files.size() > 1) run.files.resize(1);
            for (const auto& f : run.files) {
                if (!check_file(call, f, why)) return false;
            }
            // Documented for 206 (buffer cleared before the start; platform default yes);
            // a stored 204 carries the same switch, off here when absent [guess].
            if (prop_bool(d, "clearDtmfBuffer").value_or(false)) call.dtmf_buffer.clear();
            run.clear_interrupt = prop_bool(d, "clearInterrupt").value_or(false);
            for (const auto& f : run.files) {
                auto it = options_.play_durations.find(f);
                run.durations.push_back(it == options_.play_durations.end() ? options_.default_play_duration
                                                                            : it->second);
            }
            if (!sync) {
                run.instant = true;  // background start / layer control: done at once
                break;
            }
            if (mode == 1) {
                if (auto limit = duration_prop(d, {{"limitMs", 1},
                                                   {"timeLimitMs", 1},
                                                   {"limitSec", 1000},
                                                   {"timeLimitSec", 1000},
                                                   {"timeoutSec", 1000}})) {
                    ms left = *limit;
                    for (auto& dur : run.durations) {
                        dur = std::min(dur, left);
                        left -= dur;
                    }
                }
            }
            if (mode == 2 || mode == 7) {
                run.pause = duration_prop(d, {{"pauseMs", 1},
                                              {"extraPauseMs", 1},
                                              {"pauseSec", 1000},
                                              {"extraPauseSec", 1000},
                                              {"timeoutSec", 1000}})
                                .value_or(mode == 2 ? ms(3000) : ms(0));
            }
            break;
        }
        case 222:
        case 226:
        case 230: {
            auto mode = prop_int(d, "mode").value_or(0);
            for (const char* key : {"text", "ssml", "content", "body"}) {
                if (auto s = prop_string(d, key)) {
                    run.text = *s;
                    break;
                }
            }
            if (mode == 1) {
                run.planned = options_.tts_duration;
                run.out_path = ":TEMP/tts/tts_" + std::to_string(++next_file_) + ".wav";
            } else {
                run.files = {"tts:" + run.text};
                run.durations = {options_.tts_duration};
            }
            break;
        }
        case 206: {
            run.first_timeout = duration_prop(d, {{"timeoutSec", 1000}, {"timeoutMs", 1}}).value_or(ms(10000));
            run.symbol_timeout = duration_prop(d, {{"symbolTimeoutSec", 1000}, {"symbolTimeoutMs", 1}}).value_or(ms(0));
            auto max = prop_int(d, "maxSymbolCount").value_or(0);
            run.max_digits = max > 0 ? static_cast<std::size_t>(max) : 0;
            // 206's documented terminators are "interruptSymbols"; "terminateSymbols" was
            // the mock's earlier guess and still works.
            run.terminators = sequences(d, "interruptSymbols");
            for (auto& t : sequences(d, "terminateSymbols")) run.terminators.push_back(std::move(t));
            // The documented switch keeps terminators (code unknown): "keepTerminateSymbols",
            // or "clearInterrupt": 0 as a stored 204 names its sibling switch [guesses].
            run.keep_terminator =
                prop_bool(d, "keepTerminateSymbols").value_or(false) || !prop_bool(d, "clearInterrupt").value_or(true);
            if (prop_bool(d, "clearDtmfBuffer").value_or(true)) call.dtmf_buffer.clear();
            break;
        }
        case 208: {
            run.planned = options_.record_duration;
            if (auto limit = duration_prop(d, {{"recTimeSec", 1000}, {"recTimeMs", 1}})) {
                if (limit->count() > 0) run.planned = std::min(run.planned, *limit);
            }
            auto max = prop_int(d, "maxSymbolCount").value_or(0);
            run.max_digits = max > 0 ? static_cast<std::size_t>(max) : 0;
            std::string safe;
            for (char c : call.ivrid) safe += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
            run.out_path = ":TEMP/ivr_records/ivr_" + safe + "_" + std::to_string(wall_ms()) + "_" +
                           std::to_string(++next_file_) + ".wav";
            break;
        }
        case 207: {
            run.text = prop_string(d, "dtmf").value_or("");
            std::size_t digits = 0, pauses = 0;
            for (char c : run.text) {
                if (c == ',') {
                    ++pauses;
                } else if (is_dtmf(c)) {
                    ++digits;
                } else if (!std::isspace(static_cast<unsigned char>(c))) {
                    why = "'dtmf' holds an invalid character";
                    return false;
                }
            }
            if (digits == 0 && pauses == 0) {
                why = "'dtmf' is required";
                return false;
            }
            run.planned = options_.dtmf_send_duration * static_cast<int>(digits) + ms(1000) * static_cast<int>(pauses);
            break;
        }
        case 202: {
            // A stored 202 may carry no sipCode (components-addendum §0): 200 then [guess].
            auto code = member(d, "sipCode") ? prop_int(d, "sipCode") : std::optional<std::int64_t>(200);
            if (!code || *code < 100 || *code > 699) {
                why = "'sipCode' must be 100..699";
                return false;
            }
            run.sip_code = static_cast<int>(*code);
            run.instant = true;
            break;
        }
        case 201: run.instant = true; break;
        case 203: {
            run.text = prop_string(d, "number").value_or("");
            if (run.text.empty()) {
                why = "'number' is required";
                return false;
            }
            run.instant = true;
            break;
        }
        case 103: run.planned = duration_prop(d, {{"timeoutMs", 1}, {"timeoutSec", 1000}}).value_or(ms(1000)); break;
        case 223:
        case 227: run.planned = options_.asr_duration; break;
        case 213:
            if (file_list(d, false).empty()) {
                why = "'file' is required";
                return false;
            }
            if (!check_file(call, file_list(d, false).front(), why)) return false;
            run.planned = options_.fax_duration;
            break;
        case 214:
            run.planned = options_.fax_duration;
            run.out_path = ":TEMP/fax/fax_" + std::to_string(++next_file_) + ".tif";
            break;
        default: why = "unsupported oType " + std::to_string(t); return false;
    }
    return true;
}

void Core::arm(CallData& call, ms delay, std::function<void(CallData&, Run&)> fn) {
    if (!call.run) return;
    auto c = call_ptr(call);
    if (!c) return;
    auto seq = call.run->seq;
    auto gen = ++call.run->timer_gen;
    after(delay, [c, seq, gen, fn = std::move(fn)] {
        if (c->phase == CallData::Phase::ended || !c->run) return;
        if (c->run->seq != seq || c->run->timer_gen != gen) return;
        fn(*c, *c->run);
    });
}

void Core::begin_component(CallData& call, Run& run) {
    auto done = [this](CallData& c, Run&) { finish(c, "transfer", ivrapi::Json::object(), false); };
    switch (run.o_type) {
        case 204:
        case 222:
        case 226:
        case 230:
            if (run.instant) {
                for (const auto& f : run.files) call.played.push_back(f);
                return finish(call, "transfer", ivrapi::Json::object(), false);
            }
            if (!run.files.empty()) return play_next(call, run);
            return arm(call, run.planned, done);  // TTS to a file
        case 206: {
            const auto seq = run.seq;
            std::string typed = call.dtmf_buffer;  // kept when clearDtmfBuffer is off
            call.dtmf_buffer.clear();
            for (char ch : typed) {
                if (!call.run || call.run->seq != seq) {
                    call.dtmf_buffer += ch;  // left over after the component ended
                    continue;
                }
                call.run->digits += ch;
                collect_check(call, *call.run);  // may end the component (run is gone then)
            }
            if (call.run && call.run->seq == seq &&
                (call.run->digits.empty() || call.run->symbol_timeout.count() == 0)) {
                // Overall timeout; with symbolTimeoutSec, each digit replaces it.
                arm(call, call.run->first_timeout, [this](CallData& c, Run& r) {
                    finish(c, r.digits.empty() ? "transferTimeout" : "transfer",
                           ivrapi::Json::object({{"dtmfBuffer", r.digits}}), false);
                });
            }
            return;
        }
        case 207:
            for (char ch : run.text) {
                if (is_dtmf(ch)) call.sent_dtmf += ch;
            }
            return arm(call, run.planned, done);
        case 202: {
            call.sip_codes.push_back(run.sip_code);
            const int code = run.sip_code;
            if (code >= 200 && code < 300) {
                call.sip_state = "dialog";
            } else if (code == 180) {
                if (call.sip_state != "dialog") call.sip_state = "ringing";
            } else if (code == 183) {
                if (call.sip_state != "dialog") call.sip_state = "early";
            }
            log(call.ivrid + ": SIP " + std::to_string(code) + ", state " + call.sip_state);
            return finish(call, "transfer", ivrapi::Json::object(), false, code >= 300);
        }
        case 201:
            log(call.ivrid + ": hang up by the script");
            return finish(call, "transfer", ivrapi::Json::object(), false, true);
        case 203:
            call.transferred_to = run.text;
            log(call.ivrid + ": transferred to " + run.text);
            return finish(call, "transfer", ivrapi::Json::object(), false, true);
        case 223:
        case 227: {
            // The caller's words for this call: its n-th ASR text, the last one repeating.
            std::string text = options_.asr_text;
            if (!call.asr_texts.empty()) text = call.asr_texts[std::min(call.asr_count, call.asr_texts.size() - 1)];
            ++call.asr_count;
            return arm(call, run.planned, [this, text](CallData& c, Run&) {
                finish(c, "transfer", ivrapi::Json::object({{"text", text}}), false);
            });
        }
        default: return arm(call, run.planned, done);
    }
}

void Core::play_next(CallData& call, Run& run) {
    if (run.file_index < run.files.size()) {
        call.played.push_back(run.files[run.file_index]);
        auto d = run.durations[run.file_index];
        ++run.file_index;
        return arm(call, d, [this](CallData& c, Run& r) { play_next(c, r); });
    }
    if (run.pause.count() > 0 && !run.in_pause) {
        run.in_pause = true;
        return arm(call, run.pause,
                   [this](CallData& c, Run&) { finish(c, "transferTimeout", ivrapi::Json::object(), false); });
    }
    finish(call, "transfer", ivrapi::Json::object(), false);
}

void Core::collect_check(CallData& call, Run& run) {
    for (const auto& t : run.terminators) {
        if (run.digits.size() >= t.size() && run.digits.compare(run.digits.size() - t.size(), t.size(), t) == 0) {
            std::string buffer = run.digits;
            if (!run.keep_terminator) buffer.resize(buffer.size() - t.size());
            return finish(call, "transfer", ivrapi::Json::object({{"dtmfBuffer", buffer}}), false);
        }
    }
    if (run.max_digits > 0 && run.digits.size() >= run.max_digits) {
        return finish(call, "transfer", ivrapi::Json::object({{"dtmfBuffer", run.digits}}), false);
    }
    if (run.symbol_timeout.count() > 0) {
        arm(call, run.symbol_timeout, [this](CallData& c, Run& r) {
            finish(c, r.digits.empty() ? "transferTimeout" : "transfer",
                   ivrapi::Json::object({{"dtmfBuffer", r.digits}}), false);
        });
    }
}

void Core::press(CallData& call, char digit) {
    if (!is_dtmf(digit) || call.phase == CallData::Phase::ended) return;
    digit = static_cast<char>(std::toupper(static_cast<unsigned char>(digit)));
    const std::string d(1, digit);
    log(call.ivrid + ": caller pressed " + d);
    const bool controlled = call.phase == CallData::Phase::controlled;
    // callevents.dtmf for subscribers that asked for it, after ivrapi_dtmf (the spec:
    // ivrapi_dtmf "duplicates callevents.dtmf but arrives earlier"). Its fields are a
    // guess: the call's identity plus the digit.
    auto call_event = [&] {
        rapidjson::StringBuffer sb;
        Writer w(sb);
        auto kv = [&](const char* k, const std::string& v) {
            w.Key(k);
            w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
        };
        w.StartObject();
        kv("callid", call.callid);
        kv("cid", call.cid);
        kv("dtmf", d);
        kv("ivrid", call.ivrid);
        w.EndObject();
        notify("callevents", "dtmf", std::string(sb.GetString(), sb.GetSize()), call);
    };
    if (!controlled || !call.run) {
        call.dtmf_buffer += digit;
        if (controlled) {
            FrameWriter f("ivrapi_dtmf");
            f.key("key").str(call.key).key("ivrid").str(call.ivrid).key("mode").str("idle").key("dtmf").str(d);
            to_controller(call, f.finish(), false);
        }
        call_event();
        return;
    }
    Run& run = *call.run;
    {
        FrameWriter f("ivrapi_dtmf");
        f.key("key").str(call.key).key("ivrid").str(call.ivrid).key("mode").str("component");
        f.key("oId").raw(run.oid).key("dtmf").str(d);
        to_controller(call, f.finish(), false);
    }
    call_event();
    switch (run.o_type) {
        case 204:
        case 222:
        case 226:
        case 230:
            if (run.in_pause) {
                return finish(call, "transfer", ivrapi::Json::object({{"dtmfBuffer", d}}), false);
            }
            // Every digit joins the call's DTMF buffer, which a following 206 with
            // clearDtmfBuffer 0 reads; an interrupting digit too unless clearInterrupt.
            call.dtmf_buffer += digit;
            if (run.interrupt.count(digit)) {
                if (run.clear_interrupt) call.dtmf_buffer.pop_back();
                log(call.ivrid + ": play interrupted by " + d);
                return finish(call, "transfer", ivrapi::Json::object({{"interruptSymbol", d}}), false);
            }
            return;
        case 206: run.digits += digit; return collect_check(call, run);
        case 208:
            if (run.interrupt.count(digit)) {
                log(call.ivrid + ": record interrupted by " + d);
                return finish(call, "transfer", ivrapi::Json::object({{"interruptSymbol", d}}), false);
            }
            run.digits += digit;
            if (run.max_digits > 0 && run.digits.size() >= run.max_digits) {
                return finish(call, "transfer", ivrapi::Json::object({{"dtmfBuffer", run.digits}}), false);
            }
            return;
        default: call.dtmf_buffer += digit; return;
    }
}

void Core::finish(CallData& call, const std::string& transfer_key, ivrapi::Json results, bool terminated,
                  bool ends_call) {
    auto run = std::move(call.run);
    call.run.reset();
    if (!run) return;
    std::string key = transfer_key;
    if (!results.is_object()) results = ivrapi::Json::object();
    if (!terminated) {
        if (auto it = options_.component_transfer_keys.find(run->o_type);
            it != options_.component_transfer_keys.end()) {
            key = it->second;
        }
        if (auto it = options_.component_results.find(run->o_type); it != options_.component_results.end()) {
            for (const auto& [k, v] : it->second.as_object()) results.set(k, v);
        }
    }
    if (!run->out_path.empty()) {
        std::string local = local_path_of(storage_, run->out_path, call.temp_dir);
        std::string bytes;
        if (run->o_type == 214) {
            bytes = make_tiff();
        } else {
            auto elapsed = std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - run->started);
            bytes = make_wav(run->o_type == 208 ? std::min(elapsed, run->planned) : run->planned);
        }
        if (write_file(local, bytes)) {
            results.set("nameVar", run->out_path);
        } else {
            log(call.ivrid + ": cannot write " + local);
            key = "transferError";
        }
    }
    if (run->record < call.records.size()) {
        auto& rec = call.records[run->record];
        rec.transfer_key = key;
        rec.results = results;
        rec.terminated = terminated;
        rec.running = false;
    }
    FrameWriter f("ivrapi_component_stopped");
    f.key("oId").raw(run->oid).key("transferKey").str(key).key("results").json(results);
    if (options_.stopped_event_carries_ids) f.key("key").str(call.key).key("ivrid").str(call.ivrid);
    std::string frame = f.finish();
    log(call.ivrid + ": component " + std::to_string(run->o_type) + " stopped, transferKey " + key +
        (terminated ? " (terminated)" : "") + ", results " + json_text(results));
    if (run->ack_pending && options_.apply_ack == ApplyAck::before_stopped) reply_ok(run->ack);
    to_controller(call, frame, true);
    if (run->ack_pending && options_.apply_ack == ApplyAck::after_stopped) reply_ok(run->ack);
    if (ends_call) end_call(call, "script");
}

void Core::abandon(CallData& call) {
    auto run = std::move(call.run);
    call.run.reset();
    if (!run) return;
    if (run->record < call.records.size()) {
        auto& rec = call.records[run->record];
        rec.terminated = true;
        rec.running = false;
    }
    log(call.ivrid + ": component " + std::to_string(run->o_type) + " abandoned");
}

}  // namespace ivrapi::mock::detail
