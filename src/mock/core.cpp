#include "mock/core.hpp"

#include "mock/files.hpp"
#include "mock/json_util.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace ivrapi::mock::detail {

namespace {

constexpr const char* kBase = "/ws/token/v1";

std::string strip_query(const std::string& resource) { return resource.substr(0, resource.find_first_of("?#")); }

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

std::string short_text(const std::string& s, std::size_t max = 300) {
    if (s.size() <= max) return s;
    return s.substr(0, max) + "...(" + std::to_string(s.size()) + " bytes)";
}

bool capability(const ServerOptions& o, const char* name) {
    return std::find(o.capabilities.begin(), o.capabilities.end(), name) != o.capabilities.end();
}

bool event_matches(const std::string& pattern, const std::string& cls, const std::string& type) {
    if (pattern == "*" || pattern == "*.*") return true;
    if (pattern == cls + ".*") return true;
    return pattern == cls + "." + type;
}

}  // namespace

Core::Core(ServerOptions options) : options_(std::move(options)), started_at_(std::chrono::steady_clock::now()) {
    std::random_device rd;
    rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    if (options_.temp_dir.empty()) {
        root_ = make_temp_dir();
        own_root_ = true;
        if (root_.empty()) throw std::runtime_error("mock server: cannot create a temp dir");
    } else {
        root_ = options_.temp_dir;
    }
    storage_.root = root_;
    storage_.script_dir = options_.script_dir;
    for (const auto& [prefix, dir] : options_.static_dirs) {
        std::string name = storage_of(prefix.empty() || prefix[0] == ':' ? prefix : ":" + prefix);
        if (name.empty() || name == "TEMP") {
            if (own_root_) remove_tree(root_);
            throw std::invalid_argument("mock server: static_dirs: '" + prefix +
                                        "' is not a static storage (:GS_PUB, :SYNC_DOMAIN_DATA, ...)");
        }
        storage_.mapped[name] = dir;
    }
}

Core::~Core() {
    join_workers();
    remove_temp_dir();
}

void Core::remove_temp_dir() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (own_root_) remove_tree(root_);
    own_root_ = false;
}

void Core::attach(std::shared_ptr<Transport> transport) {
    std::lock_guard<std::mutex> lock(mutex_);
    transport_ = std::move(transport);
}

std::shared_ptr<Transport> Core::shutdown() {
    std::shared_ptr<Transport> t;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
        t = std::move(transport_);
        transport_.reset();
    }
    changed();
    return t;
}

void Core::join_workers() {
    std::vector<Worker> workers;
    {
        std::lock_guard<std::mutex> lock(workers_mutex_);
        workers.swap(workers_);
    }
    for (auto& w : workers) {
        if (!w.thread.joinable()) continue;
        if (w.thread.get_id() == std::this_thread::get_id()) {
            w.thread.detach();
        } else {
            w.thread.join();
        }
    }
}

TimePoint Core::now() const { return options_.clock ? options_.clock() : std::chrono::steady_clock::now(); }

std::int64_t Core::wall_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string Core::uuid() {
    std::uint64_t a = rng_(), b = rng_();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0x0fff),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
}

void Core::log(const std::string& line) {
    if (!options_.log) return;
    auto t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%9.3f ", t);
    std::string text = stamp + line;
    if (options_.token.size() >= 4) {  // the token is never logged
        for (auto pos = text.find(options_.token); pos != std::string::npos; pos = text.find(options_.token, pos + 3)) {
            text.replace(pos, options_.token.size(), "***");
        }
    }
    std::lock_guard<std::mutex> lock(log_mutex_);
    try {
        options_.log(text);
    } catch (...) {}
}

void Core::on_log(const std::string& line) { log(line); }

bool Core::is_stopped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
}

void Core::changed() {
    {
        std::lock_guard<std::mutex> lock(change_mutex_);
        ++version_;
    }
    change_cv_.notify_all();
}

std::uint64_t Core::version() const {
    std::lock_guard<std::mutex> lock(change_mutex_);
    return version_;
}

bool Core::wait_change(std::uint64_t seen, TimePoint deadline) const {
    std::unique_lock<std::mutex> lock(change_mutex_);
    return change_cv_.wait_until(lock, deadline, [&] { return version_ != seen; });
}

void Core::after(ms delay, std::function<void()> fn) {
    if (!transport_) return;
    std::weak_ptr<Core> weak = shared_from_this();
    transport_->schedule(delay, [weak, fn = std::move(fn)] {
        auto self = weak.lock();
        if (!self) return;
        {
            std::lock_guard<std::mutex> lock(self->mutex_);
            if (self->stopped_) return;
            fn();
        }
        self->changed();
    });
}

// ---------------------------------------------------------------------------- sending

void Core::send_to(int connection, const std::string& frame) {
    auto it = connections_.find(connection);
    if (it == connections_.end() || it->second.dropping || !transport_) return;
    if (options_.log_frames) log("conn " + std::to_string(connection) + " <- " + short_text(frame));
    transport_->send(connection, frame);
}

void Core::reply(const ReplyTo& to, const std::string& frame) {
    if (to.drop) {
        log("conn " + std::to_string(to.connection) + ": reply to " + to.name + " dropped (fault)");
        return;
    }
    if (to.delay.count() > 0) {
        int conn = to.connection;
        after(to.delay, [this, conn, frame] { send_to(conn, frame); });
        return;
    }
    send_to(to.connection, frame);
}

void Core::reply_ok(const ReplyTo& to) {
    FrameWriter f(to.name + "_result");
    if (!to.qid.empty()) f.key("qid").raw(to.qid);
    f.key("result").str("ok");
    reply(to, f.finish());
}

void Core::reply_error(const ReplyTo& to, const std::string& reason) {
    log("conn " + std::to_string(to.connection) + ": " + to.name + " -> error: " + reason);
    FrameWriter f(to.name + "_result");
    if (!to.qid.empty()) f.key("qid").raw(to.qid);
    f.key("result").str("error").key("reason").str(reason);
    reply(to, f.finish());
}

void Core::reply_result(const ReplyTo& to, const std::string& result) {
    FrameWriter f(to.name + "_result");
    if (!to.qid.empty()) f.key("qid").raw(to.qid);
    f.key("result").str(result);
    reply(to, f.finish());
}

void Core::to_controller(CallData& call, const std::string& frame, bool queue_if_detached) {
    auto it = call.controller >= 0 ? connections_.find(call.controller) : connections_.end();
    if (it != connections_.end() && !it->second.dropping) {
        send_to(call.controller, frame);
    } else if (queue_if_detached && options_.lose_events_while_detached) {
        log(call.ivrid + ": no controller connected, event LOST (lose_events_while_detached)");
    } else if (queue_if_detached) {
        call.queued.push_back(frame);
        log(call.ivrid + ": no controller connected, event queued until reaccept");
    }
}

std::string Core::call_identity_json(const CallData& call, bool with_offer) const {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    auto kv = [&](const char* k, const std::string& v) {
        w.Key(k);
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    kv("callid", call.callid);
    kv("cid", call.cid);
    w.Key("componentid");
    w.Int(call.componentid);
    kv("componentname", call.componentname);
    kv("ivrid", call.ivrid);
    w.Key("ivrts");
    w.Int64(call.ivrts);
    kv("key", call.key);
    if (with_offer) {
        kv("params", call.params);
        kv("state", call.sip_state);
    } else {
        kv("reason", call.end_reason);
    }
    kv("sm_id", call.sm_id);
    w.EndObject();
    return {sb.GetString(), sb.GetSize()};
}

void Core::notify(const std::string& cls, const std::string& type, const std::string& data_json, const CallData& call) {
    auto t = now();
    FrameWriter f("notify");
    f.key("class").str(cls).key("type").str(type).key("eventts").num(wall_ms());
    f.key("data");
    f.writer().RawValue(data_json.data(), data_json.size(), rapidjson::kObjectType);
    const std::string frame = f.finish();
    std::size_t sent = 0;
    for (auto& [id, conn] : connections_) {
        for (auto it = conn.subs.begin(); it != conn.subs.end();) {
            auto& sub = it->second;
            if (t >= sub.expires_at) {
                log("conn " + std::to_string(id) + ": subscription '" + it->first + "' expired");
                it = conn.subs.erase(it);
                continue;
            }
            bool match = std::any_of(sub.events.begin(), sub.events.end(),
                                     [&](const std::string& e) { return event_matches(e, cls, type); });
            if (match && !sub.objects.empty()) {
                match = std::any_of(sub.objects.begin(), sub.objects.end(), [&](const std::string& o) {
                    return o == "any" || o == call.ivrid || o == call.callid || o == call.cid || o == call.key;
                });
            }
            if (match) {
                send_to(id, frame);
                if (duplicate_) send_to(id, frame);
                ++sent;
            }
            ++it;
        }
    }
    if (sent > 0 || cls == "ivrevents") {
        log(call.ivrid + ": notify " + cls + "." + type + " to " + std::to_string(sent) + " subscription(s)");
    }
}

// ---------------------------------------------------------------------------- transport callbacks

int Core::on_validate(const std::string& resource, const std::string& authorization) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string path = strip_query(resource);
    const std::string base = kBase;
    std::string token;
    bool found = false;
    if (path == base || path == base + "/") {
        std::string auth = trim(authorization);
        if (auth.size() > 7) {
            std::string scheme = auth.substr(0, 7);
            std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (scheme == "bearer ") {
                token = trim(auth.substr(7));
                found = true;
            }
        }
    } else if (path.compare(0, base.size() + 1, base + "/") == 0) {
        token = path.substr(base.size() + 1);
        found = true;
    } else {
        log("refused upgrade: unknown path " +
            short_text(path.substr(0, path.find("/v1/") == std::string::npos ? path.size() : path.find("/v1/") + 3)));
        return 404;
    }
    if (!found) {
        log("refused upgrade: no token (path or Authorization: Bearer)");
        return options_.refuse_status;
    }
    if (token != options_.token) {
        log("refused upgrade: wrong token");  // never log the token itself
        return options_.refuse_status;
    }
    return 0;
}

void Core::on_open(int connection) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) return;
        auto& c = connections_[connection];
        c.sessionid = uuid();
        c.connectionid = uuid();
        log("conn " + std::to_string(connection) + ": open");
    }
    changed();
}

void Core::on_close(int connection) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) return;
        connections_.erase(connection);
        log("conn " + std::to_string(connection) + ": closed");
        for (auto& [ivrid, call] : calls_) {
            if (call->phase != CallData::Phase::controlled || call->controller != connection) continue;
            call->controller = -1;
            auto gen = ++call->control_gen;
            log(ivrid + ": controller connection " + std::to_string(connection) +
                " gone; the call keeps running and waits for ivrapi_reaccept");
            if (options_.detached_timeout) {
                auto c = call;
                after(*options_.detached_timeout, [this, c, gen] {
                    if (c->phase == CallData::Phase::controlled && c->control_gen == gen && c->controller < 0) {
                        abandon(*c);
                        end_call(*c, "timeout");
                    }
                });
            }
        }
    }
    changed();
}

void Core::on_message(int connection, std::string text) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) return;
        if (stalled_) {
            // Not processed (nor logged) until the stall ends.
            held_.emplace_back(connection, std::move(text));
            return;
        }
        process_message(connection, std::move(text));
    }
    changed();
}

void Core::process_message(int connection, std::string text) {
    {
        auto cit = connections_.find(connection);
        if (cit == connections_.end()) return;
        if (options_.log_frames) log("conn " + std::to_string(connection) + " -> " + short_text(text));

        rapidjson::Document doc;
        doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
        ReceivedRequest rr;
        rr.raw = text;
        rr.connection = connection;
        std::string why;
        if (doc.HasParseError()) {
            why = std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError());
        } else if (!doc.IsArray() || doc.Size() != 2 || !doc[0].IsString() || !doc[1].IsObject()) {
            why = "not a [name, object] array";
        } else if (!to_json(doc[1], rr.body)) {
            why = "nested too deeply";
            rr.body = ivrapi::Json();
        } else {
            rr.name.assign(doc[0].GetString(), doc[0].GetStringLength());
        }
        requests_.push_back(rr);
        ++requests_seen_;
        while (requests_.size() > options_.request_log_limit && !requests_.empty()) requests_.pop_front();
        ++request_counts_[rr.name];

        bool drop_now = false;
        if (drop_after_ > 0 && --drop_after_ == 0) {
            drop_now = true;
            cit->second.dropping = true;  // its reply and anything else is not sent
        }
        if (!why.empty()) {
            log("conn " + std::to_string(connection) + ": malformed frame ignored (" + why +
                "): " + short_text(text, 120));
        } else {
            ReplyTo to;
            to.connection = connection;
            to.name = rr.name;
            if (const auto* q = member(doc[1], "qid")) to.qid = value_text(*q);
            if (auto f = failures_.find(to.name); f != failures_.end()) {
                log("conn " + std::to_string(connection) + ": " + to.name + " failed (fault)");
                reply_error(to, f->second);
            } else {
                to.drop = drops_.count(to.name) > 0;
                if (auto d = delays_.find(to.name); d != delays_.end()) to.delay = d->second;
                dispatch(to, doc[1]);
            }
        }
        if (drop_now && transport_) {
            log("conn " + std::to_string(connection) + ": dropped after the armed message count (fault)");
            transport_->drop(connection);
        }
    }
}

void Core::on_http(const HttpRequest& request, HttpRespond respond) {
    const std::string path = strip_query(request.resource);
    const std::string control = "/control/";
    if (options_.control_channel && path.compare(0, control.size(), control) == 0) {
        // Not under the lock: commands go through the public API, and waits block.
        return handle_control(path.substr(control.size()), request, std::move(respond));
    }
    HttpReply reply = serve_file(request);
    reply.head = request.method == "HEAD";
    respond(std::move(reply));
}

HttpReply Core::serve_file(const HttpRequest& request) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string& method = request.method;
    std::string path = strip_query(request.resource);
    if (method != "GET" && method != "HEAD") return {405, "method not allowed\n", "text/plain"};
    if (auto it = http_resources_.find(path); it != http_resources_.end()) {
        log("http GET " + path + " -> 200");
        return {200, it->second.body, it->second.content_type};
    }
    if (path.compare(0, 6, "/temp/") == 0) {
        auto name = path.substr(6);
        auto it = links_.find(name);
        if (it == links_.end()) {
            log("http GET " + path + " -> 404 (unknown link)");
            return {404, "not found\n", "text/plain"};
        }
        if (now() >= it->second.expires_at) {
            log("http GET " + path + " -> 404 (link expired)");
            remove_file(it->second.local);
            links_.erase(it);
            return {404, "link expired\n", "text/plain"};
        }
        HttpReply r;
        if (!read_file(it->second.local, r.body)) {
            log("http GET " + path + " -> 404 (file gone)");
            return {404, "file gone\n", "text/plain"};
        }
        r.status = 200;
        r.content_type = content_type_of(name);
        log("http GET " + path + " -> 200 (" + std::to_string(r.body.size()) + " bytes)");
        return r;
    }
    log("http " + method + " " + short_text(path, 80) + " -> 404");
    return {404, "not found\n", "text/plain"};
}

// ---------------------------------------------------------------------------- requests

void Core::dispatch(const ReplyTo& to, const rapidjson::Value& body) {
    const std::string& name = to.name;
    if (options_.log) {
        log("conn " + std::to_string(to.connection) + ": " + name + (to.qid.empty() ? "" : " qid=" + to.qid));
    }
    if (name == "connection_info") return handle_connection_info(to);
    if (name == "subscribe") {
        if (!capability(options_, "subscr")) return reply_error(to, "capability 'subscr' not allowed");
        return handle_subscribe(to, body);
    }
    if (name == "file_upload_static") {
        if (!capability(options_, "ivrapi")) return reply_error(to, "capability 'ivrapi' not allowed");
        return handle_upload(to, nullptr, body, true);
    }
    if (name.compare(0, 7, "ivrapi_") != 0) return reply_error(to, "unknown request '" + name + "'");
    if (!capability(options_, "ivrapi")) return reply_error(to, "capability 'ivrapi' not allowed");

    const bool accept = name == "ivrapi_accept" || name == "ivrapi_reaccept";
    const bool known = accept || name == "ivrapi_abort" || name == "ivrapi_component_apply" ||
                       name == "ivrapi_component_terminate" || name == "ivrapi_file_get_path" ||
                       name == "ivrapi_file_upload_temp" || name == "ivrapi_file_upload_static";
    if (!known) return reply_error(to, "unknown request '" + name + "'");
    CallData* call = session_for(to, body, !accept);
    if (!call) return;
    if (name == "ivrapi_accept") return handle_accept(to, *call, false);
    if (name == "ivrapi_reaccept") return handle_accept(to, *call, true);
    if (name == "ivrapi_abort") return handle_abort(to, *call);
    if (name == "ivrapi_component_apply") return handle_apply(to, *call, body);
    if (name == "ivrapi_component_terminate") return handle_terminate(to, *call);
    if (name == "ivrapi_file_get_path") return handle_get_path(to, *call, body);
    if (name == "ivrapi_file_upload_temp") return handle_upload(to, call, body, false);
    return handle_upload(to, call, body, true);
}

void Core::handle_connection_info(const ReplyTo& to) {
    auto& conn = connections_[to.connection];
    auto wall = wall_ms();
    std::time_t secs = static_cast<std::time_t>(wall / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char datetime[80];
    std::snprintf(datetime, sizeof datetime, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(wall % 1000));
    static const std::string ip_id = "5d7a0b0e-6c6f-4d6f-8b63-6d6f636b0001";
    FrameWriter f("connection_info_result");
    if (!to.qid.empty()) f.key("qid").raw(to.qid);
    f.key("result").str("ok");
    f.key("site").str(options_.site);
    f.key("ownertype").str("token");
    f.key("domain").str(options_.domain);
    f.key("sessionid").str(conn.sessionid);
    f.key("connectionid").str(conn.connectionid);
    f.key("capabilities").strings(options_.capabilities);
    f.key("datetime").str(datetime);
    f.key("timestamp").num(wall);
    f.key("integration_point_id").str(ip_id);
    f.key("integration_point_type").str(options_.integration_point_type);
    f.key("roles").strings(options_.roles);
    f.key("token").str(options_.token);
    reply(to, f.finish());
}

void Core::handle_subscribe(const ReplyTo& to, const rapidjson::Value& body) {
    const auto* idv = member(body, "id");
    std::string id;
    if (idv && idv->IsString()) {
        id.assign(idv->GetString(), idv->GetStringLength());
    } else if (idv && idv->IsNumber()) {
        id = value_text(*idv);
    }
    if (id.empty()) return reply_error(to, "subscribe: 'id' is required");
    std::optional<double> expires = 3600;
    if (member(body, "expires")) {
        expires = prop_number(body, "expires");
        if (!expires || *expires < 0) return reply_error(to, "subscribe: 'expires' must be a number >= 0");
        expires = std::min(*expires, 10.0 * 365 * 24 * 3600);  // keeps the time arithmetic finite
    }
    auto& conn = connections_[to.connection];
    auto t = now();
    auto it = conn.subs.find(id);
    if (it != conn.subs.end() && t >= it->second.expires_at) {
        conn.subs.erase(it);  // expired: a renewal now creates it anew
        it = conn.subs.end();
    }
    if (*expires == 0) {
        if (it != conn.subs.end()) conn.subs.erase(it);
        log("conn " + std::to_string(to.connection) + ": subscription '" + id + "' deleted");
        return reply_ok(to);
    }
    std::vector<std::string> events;
    bool has_events = false;
    if (const auto* ev = member(body, "events")) {
        if (ev->IsString()) {
            events.emplace_back(ev->GetString(), ev->GetStringLength());
        } else if (ev->IsArray()) {
            for (const auto& e : ev->GetArray()) {
                if (!e.IsString()) return reply_error(to, "subscribe: 'events' must hold strings");
                events.emplace_back(e.GetString(), e.GetStringLength());
            }
        } else {
            return reply_error(to, "subscribe: 'events' must be a list of strings");
        }
        has_events = true;
    }
    std::vector<std::string> objects;
    bool has_objects = false;
    if (const auto* ob = member(body, "objects")) {
        has_objects = true;
        if (ob->IsArray()) {
            for (const auto& o : ob->GetArray()) {
                if (o.IsString()) objects.emplace_back(o.GetString(), o.GetStringLength());
            }
        } else if (ob->IsString() && std::string(ob->GetString()) != "any") {
            objects.emplace_back(ob->GetString(), ob->GetStringLength());
        }
    }
    auto expires_at =
        t + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(*expires));
    if (it == conn.subs.end()) {
        if (!has_events || events.empty()) {
            return reply_error(to, "subscribe: unknown subscription id '" + id + "' and no 'events'");
        }
        Subscription sub;
        sub.events = std::move(events);
        sub.objects = std::move(objects);
        sub.expires_at = expires_at;
        conn.subs[id] = std::move(sub);
        log("conn " + std::to_string(to.connection) + ": subscription '" + id + "' created for " +
            std::to_string(static_cast<long long>(*expires)) + " s");
    } else {
        it->second.expires_at = expires_at;
        if (has_events && !events.empty()) it->second.events = std::move(events);
        if (has_objects) it->second.objects = std::move(objects);
        log("conn " + std::to_string(to.connection) + ": subscription '" + id + "' renewed");
    }
    reply_ok(to);
}

CallData* Core::session_for(const ReplyTo& to, const rapidjson::Value& body, bool need_controller) {
    auto key = prop_string(body, "key");
    auto ivrid = prop_string(body, "ivrid");
    if (!ivrid || ivrid->empty()) {
        reply_error(to, "'ivrid' is required");
        return nullptr;
    }
    if (!key) {
        reply_error(to, "'key' is required");
        return nullptr;
    }
    auto it = calls_.find(*ivrid);
    if (it == calls_.end()) {
        reply_error(to, "unknown ivrid '" + *ivrid + "'");
        return nullptr;
    }
    CallData& call = *it->second;
    if (*key != call.key) {
        reply_error(to, "invalid key");
        return nullptr;
    }
    if (call.phase == CallData::Phase::ended) {
        reply_error(to, "session ended (" + call.end_reason + ")");
        return nullptr;
    }
    if (need_controller) {
        if (call.phase != CallData::Phase::controlled) {
            reply_error(to, "session not accepted");
            return nullptr;
        }
        if (call.controller != to.connection) {
            reply_error(to, "not the controlling connection");
            return nullptr;
        }
    }
    return &call;
}

std::shared_ptr<CallData> Core::call_ptr(const CallData& call) const {
    auto it = calls_.find(call.ivrid);
    return it == calls_.end() ? nullptr : it->second;
}

void Core::take_control(CallData& call, int connection) {
    call.controller = connection;
    ++call.control_gen;
    if (call.phase == CallData::Phase::offered) {
        call.phase = CallData::Phase::controlled;
    }
    if (call.ever_accepted) return;
    call.ever_accepted = true;
    // The scripted caller starts with the first accept.
    auto c = call_ptr(call);
    for (const auto& d : call.caller_dtmf) {
        if (!d.component) schedule_press(call, d.at, d.digits);
    }
    if (call.hangup_after) {
        after(*call.hangup_after, [this, c] {
            if (c->phase == CallData::Phase::ended) return;
            log(c->ivrid + ": caller hangs up (script)");
            hang_up_by_caller(*c);
        });
    }
}

void Core::hang_up_by_caller(CallData& call) {
    if (options_.stopped_event_on_hangup && call.run && call.phase == CallData::Phase::controlled) {
        finish(call, "transfer", ivrapi::Json::object(), true);
    }
    abandon(call);
    end_call(call, "script");
}

void Core::schedule_press(CallData& call, ms delay, const std::string& digits) {
    auto c = call_ptr(call);
    if (!c) return;
    after(delay, [this, c, digits] {
        for (char ch : digits) press(*c, ch);
    });
}

void Core::component_started(CallData& call, int o_type) {
    // Scripted keys relative to a component: "the n-th component (of this oType)".
    std::size_t seen = 0;
    for (const auto& r : call.records) {
        if (o_type == r.o_type) ++seen;
    }
    const std::size_t all = call.records.size();
    for (const auto& d : call.caller_dtmf) {
        if (!d.component) continue;
        const std::size_t nth = d.o_type == 0 ? all : (d.o_type == o_type ? seen : 0);
        if (nth != 0 && nth == static_cast<std::size_t>(*d.component)) schedule_press(call, d.at, d.digits);
    }
}

void Core::handle_accept(const ReplyTo& to, CallData& call, bool re) {
    if (call.phase == CallData::Phase::controlled && !re) {
        return reply_error(to, "already accepted");
    }
    bool was_offered = call.phase == CallData::Phase::offered;
    take_control(call, to.connection);
    log(call.ivrid + ": " + (re ? "reaccepted" : "accepted") + " by conn " + std::to_string(to.connection));
    reply_ok(to);
    if (!was_offered && !call.queued.empty()) {
        auto queued = std::move(call.queued);
        call.queued.clear();
        log(call.ivrid + ": delivering " + std::to_string(queued.size()) + " queued event(s)");
        for (const auto& frame : queued) send_to(to.connection, frame);
    }
}

void Core::handle_abort(const ReplyTo& to, CallData& call) {
    reply_ok(to);
    abandon(call);
    end_call(call, "abort");
}

void Core::handle_terminate(const ReplyTo& to, CallData& call) {
    if (!call.run) {
        log(call.ivrid + ": terminate with no component running");
        return reply_ok(to);
    }
    log(call.ivrid + ": terminate component " + std::to_string(call.run->o_type));
    if (options_.terminate_reply_first) reply_ok(to);
    // The results gathered so far; a record is written up to this moment.
    ivrapi::Json results = ivrapi::Json::object();
    if (call.run->o_type == 206) results.set("dtmfBuffer", call.run->digits);
    finish(call, "transfer", std::move(results), true);  // a record is kept up to now
    if (!options_.terminate_reply_first) reply_ok(to);
}

void Core::handle_apply(const ReplyTo& to, CallData& call, const rapidjson::Value& body) {
    const auto* data = member(body, "data");
    if (!data || !data->IsObject()) return reply_error(to, "'data' object is required");
    auto otype = prop_int(*data, "oType");
    if (!otype) return reply_error(to, "'data.oType' is required");
    if (call.run) {
        return reply_error(to, "a component is already running (oType " + std::to_string(call.run->o_type) + ")");
    }
    auto run = std::make_unique<Run>();
    run->seq = ++next_seq_;
    run->o_type = static_cast<int>(*otype);
    const auto* oid = member(*data, "oId");
    run->oid = oid ? value_text(*oid) : "0";
    run->ack = to;
    run->started = std::chrono::steady_clock::now();
    std::string why;
    if (!start_component(call, *run, *data, why)) return reply_error(to, why);

    ComponentRecord rec;
    rec.o_type = run->o_type;
    to_json(*data, rec.data);
    rec.running = true;
    if (oid) {
        to_json(*oid, rec.oid);
    } else {
        rec.oid = ivrapi::Json(0);
    }
    run->record = call.records.size();
    call.records.push_back(std::move(rec));
    component_started(call, run->o_type);
    log(call.ivrid + ": component " + std::to_string(run->o_type) + " started (oId " + run->oid + ")");

    if (options_.apply_ack == ApplyAck::immediate) {
        reply_ok(to);
    } else {
        run->ack_pending = true;
    }
    call.run = std::move(run);
    // Components that complete at once do so from here, after the reply above.
    begin_component(call, *call.run);
}

void Core::handle_get_path(const ReplyTo& to, CallData& call, const rapidjson::Value& body) {
    auto path = prop_string(body, "path");
    if (!path || path->empty()) return reply_error(to, "'path' is required");
    std::string local = local_path_of(storage_, *path, call.temp_dir);
    if (local.empty()) return reply_error(to, "invalid path '" + *path + "'");
    if (!file_exists(local)) return reply_error(to, "file not found: " + *path);
    std::string ext;
    auto slash = path->rfind('/');
    auto dot = path->rfind('.');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ext = path->substr(dot);
    static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string name;
    for (int i = 0; i < 27; ++i) name += alphabet[rng_() % 36];
    name += ext;
    // Expired links go now; each link serves its own copy, which outlives the script.
    const auto t = now();
    for (auto it = links_.begin(); it != links_.end();) {
        if (t >= it->second.expires_at) {
            remove_file(it->second.local);
            it = links_.erase(it);
        } else {
            ++it;
        }
    }
    std::string copy = root_ + "/links/" + name;
    if (!link_or_copy(local, copy)) return reply_error(to, "cannot publish " + *path);
    links_[name] = Link{copy, t + options_.file_link_ttl};
    log("file link /temp/" + name + " -> " + *path);
    reply_result(to, "/temp/" + name);
}

void Core::handle_upload(const ReplyTo& to, CallData* session, const rapidjson::Value& body, bool is_static) {
    auto url = prop_string(body, "url");
    if (!url || url->empty()) return reply_error(to, "'url' is required");
    std::string name = file_name_of_url(*url);
    if (name.empty()) name = "upload_" + std::to_string(++next_file_) + ".bin";
    std::string result;
    if (is_static) {
        std::string dest = prop_string(body, "destpath").value_or("");
        if (dest.empty()) dest = ":SYNC_DOMAIN_DATA";
        while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
        if (dest[0] != ':' || storage_of(dest).empty() || storage_of(dest) == "TEMP") {
            return reply_error(to, "invalid destpath '" + dest + "'");
        }
        result = dest + "/" + name;
    } else {
        result = ":TEMP/" + name;
    }
    std::string local = local_path_of(storage_, result, session ? session->temp_dir : std::string());
    if (local.empty()) return reply_error(to, "invalid destination path '" + result + "'");
    log("upload " + *url + " -> " + result + " (fetching)");

    std::weak_ptr<Core> weak = shared_from_this();
    auto timeout = options_.upload_timeout;
    std::string u = *url;
    std::string ca = options_.upload_ca_file;
    // A temp upload belongs to its script: not stored when the call ended meanwhile.
    std::shared_ptr<CallData> owner = !is_static && session ? call_ptr(*session) : nullptr;
    start_worker([weak, to, u, ca, local, result, timeout, owner] {
        std::string bytes, why;
        bool ok = false;
        try {
            ok = fetch_url(u, timeout, ca, bytes, why);
        } catch (const std::exception& e) {
            why = e.what();
        } catch (...) {
            why = "internal error";
        }
        if (auto self = weak.lock()) {
            {
                std::lock_guard<std::mutex> lock(self->mutex_);
                if (ok && owner && owner->phase == CallData::Phase::ended) {
                    ok = false;
                    why = "session ended";
                } else if (ok && !write_file(local, bytes)) {
                    ok = false;
                    why = "cannot store the file";
                }
                if (!self->stopped_) {
                    if (ok) {
                        self->log("upload done: " + result + " (" + std::to_string(bytes.size()) + " bytes)");
                        self->reply_result(to, result);
                    } else {
                        self->reply_error(to, "upload failed: " + why);
                    }
                }
            }
            self->changed();
        }
    });
}

// ---------------------------------------------------------------------------- call life cycle

void Core::end_call(CallData& call, const std::string& reason) {
    if (call.phase == CallData::Phase::ended) return;
    call.phase = CallData::Phase::ended;
    call.end_reason = reason;
    call.controller = -1;
    ++call.control_gen;
    call.queued.clear();
    log(call.ivrid + ": ended, api_stop reason " + reason);
    notify("ivrevents", "api_stop", call_identity_json(call, false), call);
    // The script's temp folder goes with it (spec: the file "will be deleted
    // automatically after the script completes"); file links keep their own copy.
    remove_tree(call.temp_dir);
    ended_order_.push_back(call.ivrid);
    while (ended_order_.size() > 10000) {
        calls_.erase(ended_order_.front());
        ended_order_.pop_front();
    }
}

std::shared_ptr<CallData> Core::start_call(const CallOptions& o) {
    std::shared_ptr<CallData> c;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto n = ++next_call_;
        c = std::make_shared<CallData>();
        c->ivrid = o.ivrid.empty() ? "rDlg-mock-" + std::to_string(n) : o.ivrid;
        if (stopped_) {
            c->phase = CallData::Phase::ended;
            c->end_reason = "abort";
            return c;
        }
        if (calls_.count(c->ivrid) && calls_[c->ivrid]->phase != CallData::Phase::ended) {
            throw std::invalid_argument("mock: a call with ivrid '" + c->ivrid + "' is running");
        }
        c->key = o.key;
        c->callid = o.callid.empty() ? "mock-" + std::to_string(n) + "@127.0.0.1" : o.callid;
        c->cid = o.cid.empty() ? uuid() : o.cid;
        c->componentname = o.componentname;
        c->componentid = o.componentid;
        c->sm_id = o.sm_id.empty() ? uuid() : o.sm_id;
        c->params = o.params;
        c->ivrts = wall_ms();
        c->sip_state = to_string(o.state);
        c->caller_dtmf = o.caller_dtmf;
        c->hangup_after = o.hangup_after;
        c->hangup_after_offer = o.hangup_after_offer;
        c->asr_texts = o.asr_texts;
        std::string safe;
        for (char ch : c->ivrid) safe += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
        c->temp_dir = root_ + "/TEMP/" + std::to_string(n) + "-" + safe.substr(0, 64);
        calls_[c->ivrid] = c;
        log(c->ivrid + ": call offered (key '" + c->key + "', state " + c->sip_state + ")");
        notify("ivrevents", "api_start", call_identity_json(*c, true), *c);
        if (c->hangup_after_offer) {
            after(*c->hangup_after_offer, [this, c] {
                if (c->phase == CallData::Phase::ended) return;
                log(c->ivrid + ": caller hangs up (script, " +
                    (c->phase == CallData::Phase::offered ? "before any accept)" : "after the offer)"));
                hang_up_by_caller(*c);
            });
        }
        after(options_.accept_timeout, [this, c] {
            if (c->phase == CallData::Phase::offered) {
                log(c->ivrid + ": not accepted within " + std::to_string(options_.accept_timeout.count()) + " ms");
                end_call(*c, "timeout");
            }
        });
    }
    changed();
    return c;
}

std::shared_ptr<CallData> Core::find_call(const std::string& ivrid) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = calls_.find(ivrid);
    return it == calls_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<CallData>> Core::calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::shared_ptr<CallData>> out;
    for (const auto& [id, c] : calls_) out.push_back(c);
    return out;
}

std::vector<ReceivedRequest> Core::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {requests_.begin(), requests_.end()};
}

std::size_t Core::request_count(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = request_counts_.find(name);
    return it == request_counts_.end() ? 0 : it->second;
}

std::size_t Core::connection_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return connections_.size();
}

std::size_t Core::subscription_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto t = now();
    std::size_t n = 0;
    for (const auto& [id, conn] : connections_) {
        for (const auto& [sid, sub] : conn.subs) {
            if (t < sub.expires_at) ++n;
        }
    }
    return n;
}

std::vector<int> Core::connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<int> out;
    for (const auto& [id, c] : connections_) out.push_back(id);
    return out;
}

void Core::add_http_resource(const std::string& path, HttpResource r) {
    std::lock_guard<std::mutex> lock(mutex_);
    http_resources_[path] = std::move(r);
}

std::string Core::local_path(const std::string& platform_path) const {
    return local_path_of(storage_, platform_path, "");
}

std::string Core::call_local_path(const CallData& call, const std::string& platform_path) const {
    return local_path_of(storage_, platform_path, call.temp_dir);
}

void Core::answer_pings(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (transport_) transport_->answer_pings(on);
    log(on ? "answering pings" : "not answering pings (fault)");
}

void Core::caller_dtmf(const std::shared_ptr<CallData>& call, const std::string& digits) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_ || !call) return;
        for (char ch : digits) press(*call, ch);
    }
    changed();
}

void Core::caller_hangup(const std::shared_ptr<CallData>& call) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_ || !call || call->phase == CallData::Phase::ended) return;
        log(call->ivrid + ": caller hangs up");
        hang_up_by_caller(*call);
    }
    changed();
}

// ---------------------------------------------------------------------------- faults

void Core::drop_connections() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [id, c] : connections_) {
            c.dropping = true;
            if (transport_) transport_->drop(id);
        }
        log("dropping every connection (fault)");
    }
    changed();
}

void Core::close_connections(int code, const std::string& reason) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [id, c] : connections_) {
            c.dropping = true;  // like a drop: calls keep running for a reaccept
            if (transport_) transport_->close(id, code, reason);
        }
        log("closing every connection with code " + std::to_string(code) + " (fault)");
    }
    changed();
}

void Core::drop_connection(int connection) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(connection);
    if (it == connections_.end()) return;
    it->second.dropping = true;
    if (transport_) transport_->drop(connection);
    log("dropping conn " + std::to_string(connection) + " (fault)");
}

void Core::drop_after_messages(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    drop_after_ = n;
}

void Core::delay_reply(const std::string& name, ms delay) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (delay.count() <= 0) {
        delays_.erase(name);
    } else {
        delays_[name] = delay;
    }
}

void Core::fail_reply(const std::string& name, std::string reason) {
    std::lock_guard<std::mutex> lock(mutex_);
    failures_[name] = std::move(reason);
}

void Core::drop_reply(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    drops_.insert(name);
}

void Core::clear_faults() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        drop_after_ = 0;
        delays_.clear();
        failures_.clear();
        drops_.clear();
        duplicate_ = false;
    }
    stall(false);
}

void Core::send_raw(const std::string& frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    log("sending a raw frame to every connection (fault): " + short_text(frame, 80));
    for (auto& [id, c] : connections_) send_to(id, frame);
}

void Core::duplicate_notifications(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    duplicate_ = on;
}

void Core::stall(bool on) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stalled_ == on) return;
        stalled_ = on;
        // Held at this level rather than with websocketpp's pause_reading(): a resume
        // while a read is still in flight would start a second concurrent read.
        log(on ? "stalled: not reading any connection (fault)" : "reading connections again");
        if (!on) {
            auto held = std::move(held_);
            held_.clear();
            for (auto& [conn, text] : held) {
                if (stopped_ || stalled_) break;
                process_message(conn, std::move(text));
            }
        }
    }
    changed();
}

}  // namespace ivrapi::mock::detail
