// The control channel: POST /control/<command> with a JSON body, one command per
// library call (docs/mock.md has the table), so tests in any language drive the mock
// as C++ tests drive Server and Call. Runs on the I/O thread without the lock; each
// command goes through the same entry points as the public API. `wait` blocks on a
// worker thread and answers later.
#include "mock/core.hpp"

#include <ivrapi/mock/scenario.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace ivrapi::mock::detail {

namespace {

constexpr int kMaxWaits = 32;
constexpr std::int64_t kMaxWaitMs = 120000;

HttpReply json_reply(int status, const ivrapi::Json& body) {
    return HttpReply{status, body.dump() + "\n", "application/json"};
}

HttpReply error_reply(int status, const std::string& why) {
    return json_reply(status, ivrapi::Json::object({{"ok", false}, {"error", why}}));
}

// Command arguments, with errors that name the argument.
struct Args {
    const ivrapi::Json& body;
    std::string error;

    const ivrapi::Json* get(const char* key) const { return body.find(key); }
    std::string str(const char* key, bool required = true) {
        const ivrapi::Json* v = get(key);
        if (v && v->is_string()) return v->as_string();
        if (v || required) error = error.empty() ? std::string("'") + key + "' must be a string" : error;
        return {};
    }
    std::int64_t integer(const char* key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
        const ivrapi::Json* v = get(key);
        if (!v) return fallback;
        if (!v->is_integer() || v->as_int() < lo || v->as_int() > hi) {
            if (error.empty()) {
                error = std::string("'") + key + "' must be an integer in " + std::to_string(lo) + ".." +
                        std::to_string(hi);
            }
            return fallback;
        }
        return v->as_int();
    }
    bool boolean(const char* key, bool fallback) {
        const ivrapi::Json* v = get(key);
        if (!v) return fallback;
        if (!v->is_bool()) {
            if (error.empty()) error = std::string("'") + key + "' must be true or false";
            return fallback;
        }
        return v->as_bool();
    }
};

ivrapi::Json strings(const std::vector<std::string>& v) {
    ivrapi::Json::Array a;
    for (const auto& s : v) a.emplace_back(s);
    return ivrapi::Json(std::move(a));
}

bool bearer_matches(const std::string& authorization, const std::string& token) {
    std::string a = authorization;
    while (!a.empty() && std::isspace(static_cast<unsigned char>(a.back()))) a.pop_back();
    if (a.size() < 7) return false;
    std::string scheme = a.substr(0, 7);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string given = a.substr(7);
    given.erase(0, given.find_first_not_of(' '));
    return scheme == "bearer " && given == token;
}

}  // namespace

void Core::start_worker(std::function<void()> fn) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread worker([fn = std::move(fn), done] {
        fn();
        done->store(true);
    });
    std::lock_guard<std::mutex> lock(workers_mutex_);
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
    workers_.push_back(Worker{std::move(worker), done});
}

void Core::handle_control(const std::string& command, const HttpRequest& request, HttpRespond respond) {
    if (!bearer_matches(request.authorization, options_.token)) {
        log("control " + command + ": refused (no or wrong 'Authorization: Bearer <token>')");
        return respond(error_reply(401, "send the server's token as 'Authorization: Bearer <token>'"));
    }
    if (request.method != "POST") return respond(error_reply(405, "control commands are POST requests"));
    ivrapi::Json body = ivrapi::Json::object();
    if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
        auto parsed = ivrapi::Json::parse(request.body);
        if (!parsed) return respond(error_reply(400, "the body is not JSON: " + parsed.error().message));
        body = std::move(*parsed);
    }
    if (!body.is_object()) return respond(error_reply(400, "the body must be a JSON object"));
    log("control: " + command);
    Args args{body, {}};
    auto ok = [&](const ivrapi::Json& extra = ivrapi::Json::object()) {
        ivrapi::Json out = ivrapi::Json::object({{"ok", true}});
        for (const auto& [k, v] : extra.as_object()) out.set(k, v);
        respond(json_reply(200, out));
    };
    auto bad = [&](const std::string& why) { respond(error_reply(400, command + ": " + why)); };
    auto find = [&]() -> std::shared_ptr<CallData> {
        std::string ivrid = args.str("ivrid");
        if (!args.error.empty()) return nullptr;
        auto c = find_call(ivrid);
        if (!c) args.error = "unknown ivrid '" + ivrid + "'";
        return c;
    };
    auto call_json = [&](const CallData& c) {
        std::lock_guard<std::mutex> lock(mutex_);
        ivrapi::Json::Array comps;
        for (const auto& r : c.records) {
            comps.push_back(ivrapi::Json::object({{"o_type", r.o_type},
                                                  {"data", r.data},
                                                  {"oid", r.oid},
                                                  {"transfer_key", r.transfer_key},
                                                  {"results", r.results},
                                                  {"terminated", r.terminated},
                                                  {"running", r.running}}));
        }
        ivrapi::Json::Array codes;
        for (int code : c.sip_codes) codes.emplace_back(code);
        const char* phase = c.phase == CallData::Phase::offered      ? "offered"
                            : c.phase == CallData::Phase::controlled ? "controlled"
                                                                     : "ended";
        return ivrapi::Json::object({{"ivrid", c.ivrid},
                                     {"key", c.key},
                                     {"callid", c.callid},
                                     {"cid", c.cid},
                                     {"phase", phase},
                                     {"end_reason", c.end_reason},
                                     {"controller", c.controller},
                                     {"state", c.sip_state},
                                     {"components", ivrapi::Json(std::move(comps))},
                                     {"played_files", strings(c.played)},
                                     {"sip_codes", ivrapi::Json(std::move(codes))},
                                     {"sent_dtmf", c.sent_dtmf},
                                     {"transferred_to", c.transferred_to}});
    };

    if (command == "status") {
        ivrapi::Json::Array conns, ids;
        for (int id : connections()) conns.emplace_back(id);
        for (const auto& c : calls()) ids.emplace_back(c->ivrid);
        return ok(ivrapi::Json::object({{"connections", ivrapi::Json(std::move(conns))},
                                        {"subscriptions", static_cast<std::int64_t>(subscription_count())},
                                        {"calls", ivrapi::Json(std::move(ids))}}));
    }
    if (command == "start_call") {
        CallOptions co;
        try {
            co = parse_call(body, "$");
        } catch (const std::exception& e) {
            return bad(e.what());
        }
        try {
            auto c = start_call(co);
            return ok(ivrapi::Json::object({{"ivrid", c->ivrid}, {"key", c->key}}));
        } catch (const std::exception& e) {
            return bad(e.what());
        }
    }
    if (command == "call") {
        auto c = find();
        if (!c) return bad(args.error);
        return ok(ivrapi::Json::object({{"call", call_json(*c)}}));
    }
    if (command == "calls") {
        ivrapi::Json::Array all;
        for (const auto& c : calls()) all.push_back(call_json(*c));
        return ok(ivrapi::Json::object({{"calls", ivrapi::Json(std::move(all))}}));
    }
    if (command == "dtmf") {
        auto c = find();
        std::string digits = args.str("digits");
        if (!args.error.empty()) return bad(args.error);
        caller_dtmf(c, digits);
        return ok();
    }
    if (command == "hangup") {
        auto c = find();
        if (!c) return bad(args.error);
        caller_hangup(c);
        return ok();
    }
    if (command == "drop_connections") {
        if (args.get("connection")) {
            auto id = args.integer("connection", 0, 1, 1 << 30);
            if (!args.error.empty()) return bad(args.error);
            drop_connection(static_cast<int>(id));
        } else {
            drop_connections();
        }
        return ok();
    }
    if (command == "close_connections") {
        auto code = args.integer("code", 1001, 1000, 4999);
        std::string reason = args.get("reason") ? args.str("reason") : std::string();
        if (!args.error.empty()) return bad(args.error);
        close_connections(static_cast<int>(code), reason);
        return ok();
    }
    if (command == "drop_after_messages") {
        auto n = args.integer("count", -1, 1, 1 << 30);
        if (!args.error.empty() || n < 0) return bad(args.error.empty() ? "'count' is required" : args.error);
        drop_after_messages(static_cast<std::size_t>(n));
        return ok();
    }
    if (command == "stall" || command == "answer_pings" || command == "duplicate_notifications") {
        if (!args.get("on")) return bad("'on' (true or false) is required");
        bool on = args.boolean("on", false);
        if (!args.error.empty()) return bad(args.error);
        if (command == "stall") stall(on);
        if (command == "answer_pings") answer_pings(on);
        if (command == "duplicate_notifications") duplicate_notifications(on);
        return ok();
    }
    if (command == "delay_reply") {
        std::string name = args.str("name");
        auto d = args.integer("ms", -1, 0, 3600000);
        if (!args.error.empty() || d < 0) return bad(args.error.empty() ? "'ms' is required" : args.error);
        delay_reply(name, ms(d));
        return ok();
    }
    if (command == "fail_reply") {
        std::string name = args.str("name");
        std::string reason = args.get("reason") ? args.str("reason") : std::string("failed (mock fault)");
        if (!args.error.empty()) return bad(args.error);
        fail_reply(name, reason);
        return ok();
    }
    if (command == "drop_reply") {
        std::string name = args.str("name");
        if (!args.error.empty()) return bad(args.error);
        drop_reply(name);
        return ok();
    }
    if (command == "clear_faults") {
        clear_faults();
        answer_pings(true);
        return ok();
    }
    if (command == "send_raw") {
        const ivrapi::Json* f = args.get("frame");
        if (!f) return bad("'frame' is required (a string sent as is, or JSON sent as its text)");
        send_raw(f->is_string() ? f->as_string() : f->dump());
        return ok();
    }
    if (command == "requests") {
        auto since = args.integer("since", 0, 0, INT64_MAX);
        std::string name = args.get("name") ? args.str("name") : std::string();
        if (!args.error.empty()) return bad(args.error);
        ivrapi::Json::Array list;
        std::size_t next = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            next = requests_seen_;
            std::size_t index = requests_seen_ - requests_.size();
            for (const auto& r : requests_) {
                if (index >= static_cast<std::size_t>(since) && (name.empty() || r.name == name)) {
                    list.push_back(ivrapi::Json::object({{"index", static_cast<std::int64_t>(index)},
                                                         {"name", r.name},
                                                         {"connection", r.connection},
                                                         {"body", r.body},
                                                         {"raw", r.raw}}));
                }
                ++index;
            }
        }
        return ok(ivrapi::Json::object(
            {{"requests", ivrapi::Json(std::move(list))}, {"next", static_cast<std::int64_t>(next)}}));
    }
    if (command == "wait") {
        std::string what = args.str("for");
        auto timeout = ms(args.integer("timeout_ms", 5000, 0, kMaxWaitMs));
        auto count = static_cast<std::size_t>(args.integer("count", 1, 0, 1 << 30));
        if (!args.error.empty()) return bad(args.error);
        std::function<bool()> met;
        if (what == "request") {
            std::string name = args.str("name");
            if (!args.error.empty()) return bad(args.error);
            met = [this, name, count] { return request_count(name) >= count; };
        } else if (what == "subscriptions") {
            met = [this, count] { return subscription_count() >= count; };
        } else if (what == "connections") {
            met = [this, count] { return connection_count() >= count; };
        } else if (what == "controlled" || what == "ended" || what == "components") {
            auto c = find();
            if (!c) return bad(args.error);
            met = [this, c, what, count] {
                std::lock_guard<std::mutex> lock(mutex_);
                if (what == "controlled") return c->phase == CallData::Phase::controlled;
                if (what == "ended") return c->phase == CallData::Phase::ended;
                return c->records.size() >= count;
            };
        } else {
            return bad("'for' must be request, subscriptions, connections, controlled, ended or components");
        }
        if (control_waits_.fetch_add(1) >= kMaxWaits) {
            --control_waits_;
            return respond(error_reply(503, "wait: too many waits in progress"));
        }
        std::weak_ptr<Core> weak = shared_from_this();
        return start_worker([weak, met, timeout, respond, what] {
            auto self = weak.lock();
            if (!self) return respond(error_reply(503, "server stopping"));
            const auto deadline = std::chrono::steady_clock::now() + timeout;
            HttpReply reply;
            for (;;) {
                auto seen = self->version();
                if (self->is_stopped()) {
                    reply = error_reply(503, "server stopping");
                    break;
                }
                if (met()) {
                    reply = json_reply(200, ivrapi::Json::object({{"ok", true}}));
                    break;
                }
                auto now = std::chrono::steady_clock::now();
                if (now >= deadline) {
                    reply = error_reply(
                        408, "wait: '" + what + "' not reached within " + std::to_string(timeout.count()) + " ms");
                    break;
                }
                self->wait_change(seen, std::min(deadline, now + ms(50)));
            }
            --self->control_waits_;
            respond(std::move(reply));
        });
    }
    respond(error_reply(404, "unknown command '" + command + "' (see docs/mock.md)"));
}

}  // namespace ivrapi::mock::detail
