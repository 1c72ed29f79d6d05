// ivrapi::mock::Replay: the platform's side of a cassette, on the mock's WebSocket
// transport (transport.hpp), with its own handler: it shares no state with the mock's
// platform logic (core.cpp).
#include <ivrapi/mock/replay.hpp>

#include <ivrapi/json.hpp>

#include "mock/transport.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ivrapi::mock {
namespace {

using Clock = std::chrono::steady_clock;

// Fields whose value the bot picks afresh on every run: learnt at each match.
const std::set<std::string> kFresh = {"qid", "oId", "id"};
// Fields fixed per call: the live value must be the remapped recorded one.
const std::set<std::string> kIdentity = {"ivrid", "key"};
// Platform timestamps (ms since the epoch), shifted to the replay's time.
const std::set<std::string> kTimestamps = {"eventts", "ivrts", "ts", "timestamp"};

// A frame the platform sent (or a link drop), `t` ms into the recording.
struct Action {
    double t = 0;
    bool drop = false;
    std::string raw;
};

// One recorded request of the bot and what the platform did after it.
struct Step {
    double t = 0;
    std::string name;
    Json body;
    std::string raw;
    std::vector<Action> actions;
};

struct Model {
    std::int64_t wall_ms = 0;
    std::string ivrid;  // the replayed call ("" when the cassette claims none)
    std::string key;
    std::vector<Action> prologue;  // platform frames before the first request
    std::vector<Step> steps;
};

[[noreturn]] void bad(const std::string& source, std::size_t line, const std::string& what) {
    throw std::runtime_error("cassette " + source + (line ? " line " + std::to_string(line) : std::string()) + ": " +
                             what);
}

// [name, object] or nothing.
bool split_frame(const std::string& raw, std::string& name, Json& body) {
    auto parsed = Json::parse(raw);
    if (!parsed || !parsed->is_array() || parsed->size() != 2) return false;
    const auto& a = parsed->as_array();
    if (!a[0].is_string() || !a[1].is_object()) return false;
    name = a[0].as_string();
    body = a[1];
    return true;
}

std::string text_of(const Json* v) { return v && v->is_string() ? v->as_string() : std::string(); }

Model load(const std::string& text, const std::string& source, const ReplayOptions& options) {
    struct Event {
        std::size_t line;
        double t;
        std::string ev, by, raw, name;
        Json body;
        bool parsed = false;
        std::string ivrid;
    };
    std::vector<Event> events;
    Model m;
    std::istringstream in(text);
    std::size_t n = 0;
    bool header = false;
    for (std::string line; std::getline(in, line);) {
        ++n;
        if (line.empty() || line == "\r") continue;
        auto j = Json::parse(line);
        if (!j) bad(source, n, "not JSON (" + j.error().message + ")");
        if (!j->is_object()) bad(source, n, "not a JSON object");
        if (!header) {
            if (text_of(j->find("cassette")) != "ivrapi")
                bad(source, n, "no cassette header (\"cassette\": \"ivrapi\")");
            const auto* v = j->find("version");
            if (!v || !v->is_integer()) bad(source, n, "the header has no integer \"version\"");
            if (v->as_int() != 1) bad(source, n, "version " + v->to_text() + " is not supported (this build reads 1)");
            if (const auto* w = j->find("wall_ms")) m.wall_ms = w->as_int();
            header = true;
            continue;
        }
        Event e;
        e.line = n;
        const auto* t = j->find("t");
        if (!t || !t->is_number()) bad(source, n, "no numeric \"t\"");
        e.t = t->as_double();
        e.ev = text_of(j->find("ev"));
        if (e.ev.empty()) bad(source, n, "no \"ev\"");
        e.by = text_of(j->find("by"));
        if (e.ev == "in" || e.ev == "out") {
            const auto* f = j->find("frame");
            if (!f || !f->is_string()) bad(source, n, "\"" + e.ev + "\" without a string \"frame\"");
            e.raw = f->as_string();
            e.parsed = split_frame(e.raw, e.name, e.body);
            if (e.ev == "out" && !e.parsed) bad(source, n, "a sent frame that is not [name, {...}]");
        }
        events.push_back(std::move(e));
    }
    if (!header) bad(source, 0, "empty (no header line)");

    // Which call each frame belongs to: requests name it; replies follow their request's
    // qid; notifications carry it in data; component events follow the apply's oId.
    std::map<std::string, std::string> qid_call, oid_call;
    std::vector<std::string> accepted;
    for (auto& e : events) {
        if (!e.parsed) continue;
        if (e.ev == "out") {
            e.ivrid = text_of(e.body.find("ivrid"));
            if (const auto* q = e.body.find("qid")) qid_call[q->dump()] = e.ivrid;
            if (const auto* d = e.body.find("data")) {
                if (const auto* o = d->find("oId")) oid_call[o->dump()] = e.ivrid;
            }
            if ((e.name == "ivrapi_accept" || e.name == "ivrapi_reaccept") && !e.ivrid.empty() &&
                std::find(accepted.begin(), accepted.end(), e.ivrid) == accepted.end()) {
                accepted.push_back(e.ivrid);
                if (const auto* k = e.body.find("key")) m.key = text_of(k);
            }
        } else if (e.ev == "in") {
            if (const auto* iv = e.body.find("ivrid")) {
                e.ivrid = text_of(iv);
            } else if (const auto* d = e.body.find("data"); d && d->find("ivrid")) {
                e.ivrid = text_of(d->find("ivrid"));
            } else if (const auto* q = e.body.find("qid");
                       q && e.name.size() > 7 && e.name.compare(e.name.size() - 7, 7, "_result") == 0) {
                auto it = qid_call.find(q->dump());
                if (it != qid_call.end()) e.ivrid = it->second;
            } else if (const auto* o = e.body.find("oId")) {
                auto it = oid_call.find(o->dump());
                if (it != oid_call.end()) e.ivrid = it->second;
            }
        }
    }
    if (!options.ivrid.empty()) {
        if (std::find(accepted.begin(), accepted.end(), options.ivrid) == accepted.end()) {
            std::string list;
            for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
            bad(source, 0, "no claimed call " + options.ivrid + " (claimed: " + (list.empty() ? "none" : list) + ")");
        }
        m.ivrid = options.ivrid;
    } else if (accepted.size() == 1) {
        m.ivrid = accepted[0];
    } else if (accepted.size() > 1) {
        std::string list;
        for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
        bad(source, 0, std::to_string(accepted.size()) + " claimed calls (" + list + "): choose one with --ivrid");
    }
    if (!m.ivrid.empty()) {
        for (const auto& e : events) {
            if (e.ev == "out" && e.ivrid == m.ivrid && e.body.find("key")) m.key = text_of(e.body.find("key"));
        }
    }

    for (auto& e : events) {
        const bool ours = m.ivrid.empty() || e.ivrid.empty() || e.ivrid == m.ivrid;
        if (e.ev == "out" && ours) {
            Step s;
            s.t = e.t;
            s.name = e.name;
            s.body = std::move(e.body);
            s.raw = std::move(e.raw);
            m.steps.push_back(std::move(s));
        } else if ((e.ev == "in" && ours) || (e.ev == "closed" && e.by == "link")) {
            Action a;
            a.t = e.t;
            a.drop = e.ev == "closed";
            a.raw = std::move(e.raw);
            (m.steps.empty() ? m.prologue : m.steps.back().actions).push_back(std::move(a));
        }
    }
    if (m.steps.empty()) bad(source, 0, "no request of the bot to replay");
    return m;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read cassette " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const Json* at_path(const Json& body, const std::string& path) {
    const Json* cur = &body;
    std::size_t start = 0;
    while (cur) {
        const auto dot = path.find('.', start);
        cur = cur->find(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

std::string show(const Json& v) { return v.is_string() ? "'" + v.as_string() + "'" : v.dump(); }

std::string label(const std::string& path) { return path.rfind("data.", 0) == 0 ? path.substr(5) : path; }

// "oType 204 file ':GS_PUB/a.wav'": the values of `paths` present in `body`.
std::string describe(const Json& body, std::vector<std::string> paths) {
    std::stable_sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
        return (label(a) == "oType") > (label(b) == "oType");
    });
    std::string out;
    for (const auto& p : paths) {
        if (const Json* v = at_path(body, p)) out += (out.empty() ? "" : " ") + label(p) + " " + show(*v);
    }
    return out;
}

// What a request is about, for a report when even the name differs.
std::string summary(const Json& body) {
    std::vector<std::string> paths;
    if (const Json* d = body.find("data"); d && d->is_object()) {
        for (const auto& [k, v] : d->as_object()) {
            if (!kFresh.count(k)) paths.push_back("data." + k);
        }
    }
    for (const char* k : {"path", "url", "destpath"}) {
        if (body.find(k)) paths.emplace_back(k);
    }
    return describe(body, paths);
}

bool same_value(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) return a.as_double() == b.as_double();
    return a == b;
}

}  // namespace

// ------------------------------------------------------------------------ engine

struct Replay::Impl : detail::TransportHandler, std::enable_shared_from_this<Replay::Impl> {
    Impl(Model m, ReplayOptions o) : model(std::move(m)), options(std::move(o)) {
        live_ivrid = options.offer_ivrid.empty() ? model.ivrid : options.offer_ivrid;
        if (!model.ivrid.empty()) maps["ivrid"][Json(model.ivrid).dump()] = Json(live_ivrid);
        const auto wall =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
        shift_ms = model.wall_ms ? wall.count() - model.wall_ms : 0;
    }

    Model model;
    const ReplayOptions options;
    std::string live_ivrid;
    std::int64_t shift_ms = 0;
    std::shared_ptr<detail::Transport> transport;
    std::uint16_t port = 0;

    mutable std::mutex mutex;
    std::condition_variable cv;
    // field -> recorded value (JSON text) -> live value
    std::map<std::string, std::map<std::string, Json>> maps;
    std::size_t next = 0;  // index of the next expected request
    struct Pending {
        Clock::time_point due;
        const Action* action;
        int connection;
    };
    std::deque<Pending> queue;
    Clock::time_point last_due{};
    bool pump_armed = false;
    bool any_connection = false;
    bool stopped = false;
    ReplayReport result;

    void log(const std::string& line) {
        if (options.log) options.log(line);
    }

    // ---- remapping
    void rewrite(Json& v) {
        if (v.is_array()) {
            for (auto& item : v.array_items()) rewrite(item);
            return;
        }
        if (!v.is_object()) return;
        for (auto& [k, item] : v.object_items()) {
            if (kFresh.count(k) || kIdentity.count(k)) {
                auto f = maps.find(k);
                if (f != maps.end()) {
                    auto it = f->second.find(item.dump());
                    if (it != f->second.end()) {
                        item = it->second;
                        continue;
                    }
                }
            }
            if (kTimestamps.count(k) && item.is_integer()) {
                item = Json(static_cast<long long>(item.as_int() + shift_ms));
                continue;
            }
            rewrite(item);
        }
    }

    std::string rewrite_frame(const std::string& raw) {
        auto parsed = Json::parse(raw);
        if (!parsed) return raw;  // sent as recorded, malformed or not
        rewrite(*parsed);
        return parsed->dump();
    }

    // Differences between the recorded and the live request; fresh values are learnt
    // into `learn` (applied only when the whole request matches).
    void compare(const Json& exp, const Json& got, const std::string& path, std::vector<std::string>& diffs,
                 std::vector<std::pair<std::string, std::pair<std::string, Json>>>& learn) {
        if (std::find(options.ignore_fields.begin(), options.ignore_fields.end(), path) !=
            options.ignore_fields.end()) {
            return;
        }
        if (exp.is_object() && got.is_object()) {
            std::set<std::string> keys;
            for (const auto& [k, v] : exp.as_object()) keys.insert(k);
            for (const auto& [k, v] : got.as_object()) keys.insert(k);
            for (const auto& k : keys) {
                std::string p = path.empty() ? k : path;
                if (!path.empty()) p.append(".").append(k);
                const Json* e = exp.find(k);
                const Json* g = got.find(k);
                if (!e || !g) {
                    if (std::find(options.ignore_fields.begin(), options.ignore_fields.end(), p) ==
                        options.ignore_fields.end()) {
                        diffs.push_back(p);
                    }
                    continue;
                }
                if (kFresh.count(k)) {
                    learn.push_back({k, {e->dump(), *g}});
                    continue;
                }
                if (kIdentity.count(k)) {
                    Json want = *e;
                    auto f = maps.find(k);
                    if (f != maps.end()) {
                        auto it = f->second.find(e->dump());
                        if (it != f->second.end()) want = it->second;
                    }
                    if (!same_value(want, *g)) diffs.push_back(p);
                    continue;
                }
                compare(*e, *g, p, diffs, learn);
            }
            return;
        }
        if (exp.is_array() && got.is_array() && exp.size() == got.size()) {
            for (std::size_t i = 0; i < exp.size(); ++i) {
                compare(exp.as_array()[i], got.as_array()[i], path + "." + std::to_string(i), diffs, learn);
            }
            return;
        }
        if (!same_value(exp, got)) diffs.push_back(path);
    }

    // ---- outcome (under the lock)
    void diverge(std::string what, std::string expected_frame, std::string got_frame) {
        if (result.diverged || result.passed) return;
        result.diverged = true;
        result.divergence = std::move(what);
        result.expected_frame = std::move(expected_frame);
        result.got_frame = std::move(got_frame);
        queue.clear();
        log("replay diverged: " + result.divergence);
        cv.notify_all();
    }

    void check_passed() {
        if (result.diverged || result.passed) return;
        if (next == model.steps.size() && queue.empty()) {
            result.passed = true;
            log("replay passed: " + std::to_string(result.matched) + " requests matched");
            cv.notify_all();
        }
    }

    std::string step_name(std::size_t i) const { return "step " + std::to_string(i + 1); }

    std::string expected_text(const Step& s) { return s.name + (summary(s.body).empty() ? "" : " " + summary(s.body)); }

    // ---- the platform's frames, in order, with the recorded delays
    void enqueue(const std::vector<Action>& actions, double since_t, int connection) {
        const auto now = Clock::now();
        for (const auto& a : actions) {
            const double delay_ms = std::max(0.0, (a.t - since_t) / options.speed);
            auto due = now + std::chrono::microseconds(static_cast<long long>(delay_ms * 1000));
            due = std::max(due, last_due);  // never overtake an earlier frame
            last_due = due;
            queue.push_back({due, &a, connection});
        }
        pump();
    }

    void pump() {
        if (pump_armed || queue.empty() || stopped || !transport) return;
        pump_armed = true;
        const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(queue.front().due - Clock::now());
        std::weak_ptr<Impl> weak = shared_from_this();
        transport->schedule(std::max(delay, std::chrono::milliseconds(0)), [weak] {
            if (auto self = weak.lock()) self->fire();
        });
    }

    void fire() {
        std::lock_guard<std::mutex> lock(mutex);
        pump_armed = false;
        if (stopped) return;
        while (!queue.empty() && queue.front().due <= Clock::now() + std::chrono::microseconds(500)) {
            Pending p = queue.front();
            queue.pop_front();
            if (p.action->drop) {
                log("replay: dropping connection " + std::to_string(p.connection) + " (as recorded)");
                transport->drop(p.connection);
            } else {
                transport->send(p.connection, rewrite_frame(p.action->raw));
            }
        }
        pump();
        check_passed();
    }

    // ---- TransportHandler (the transport's I/O thread)
    int on_validate(const std::string& resource, const std::string& authorization) override {
        const std::string base = "/ws/token/v1";
        if (resource.rfind(base, 0) != 0) return 404;
        if (options.token.empty()) return 0;
        const std::string in_path = resource.size() > base.size() + 1 ? resource.substr(base.size() + 1) : "";
        const std::string bearer = authorization.rfind("Bearer ", 0) == 0 ? authorization.substr(7) : "";
        return in_path == options.token || bearer == options.token ? 0 : 401;
    }

    void on_open(int connection) override {
        std::lock_guard<std::mutex> lock(mutex);
        log("replay: connection " + std::to_string(connection) + " open");
        if (!any_connection) {
            any_connection = true;
            if (!model.prologue.empty()) enqueue(model.prologue, model.prologue.front().t, connection);
        }
    }

    void on_close(int connection) override {
        std::lock_guard<std::mutex> lock(mutex);
        log("replay: connection " + std::to_string(connection) + " closed");
    }

    void on_message(int connection, std::string text) override {
        std::lock_guard<std::mutex> lock(mutex);
        if (stopped || result.diverged) return;
        std::string name;
        Json body;
        const bool ok = split_frame(text, name, body);
        if (next >= model.steps.size()) {
            if (result.passed) return;  // after the recording: the test has its verdict
            diverge(step_name(next) + ": expected nothing more (the recording ends), got " +
                        (ok ? name + " " + summary(body) : std::string("a malformed frame")),
                    "", text);
            return;
        }
        const Step& step = model.steps[next];
        const std::string expected_frame = rewrite_frame(step.raw);
        if (!ok) {
            diverge(step_name(next) + ": expected " + expected_text(step) + ", got a malformed frame", expected_frame,
                    text);
            return;
        }
        if (name != step.name) {
            diverge(step_name(next) + ": expected " + expected_text(step) + ", got " + name +
                        (summary(body).empty() ? "" : " " + summary(body)),
                    expected_frame, text);
            return;
        }
        std::vector<std::string> diffs;
        std::vector<std::pair<std::string, std::pair<std::string, Json>>> learn;
        compare(step.body, body, "", diffs, learn);
        if (!diffs.empty()) {
            Json want = step.body;
            rewrite(want);
            diverge(
                step_name(next) + ": expected " + name + " " + describe(want, diffs) + ", got " + describe(body, diffs),
                expected_frame, text);
            return;
        }
        for (auto& [field, m] : learn) maps[field][m.first] = m.second;
        ++result.matched;
        log("replay: " + step_name(next) + " matched: " + name);
        ++next;
        enqueue(step.actions, step.t, connection);
        check_passed();
    }

    void on_http(const detail::HttpRequest&, detail::HttpRespond respond) override {
        detail::HttpReply r;
        r.status = 404;
        r.body = "replay: no files are served";
        respond(std::move(r));
    }

    void on_log(const std::string& line) override { log(line); }

    ReplayReport snapshot() const {
        ReplayReport r = result;
        r.steps = model.steps.size();
        return r;
    }
};

std::string ReplayReport::to_string() const {
    std::string out;
    if (passed) return "replay passed: " + std::to_string(matched) + "/" + std::to_string(steps) + " requests matched";
    out = "replay failed after " + std::to_string(matched) + "/" + std::to_string(steps) +
          " requests: " + (divergence.empty() ? std::string("not finished") : divergence);
    if (!expected_frame.empty()) out += "\n  expected: " + expected_frame;
    if (diverged) out += "\n  got:      " + (got_frame.empty() ? std::string("(nothing)") : got_frame);
    return out;
}

Replay::Replay(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {
    detail::TransportOptions t;
    t.port = impl_->options.port;
    auto transport = detail::make_transport(t, impl_);
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->transport = std::move(transport);
    impl_->port = impl_->transport->port();
}

namespace {
ReplayOptions checked(ReplayOptions o) {
    if (!(o.speed > 0) || o.speed > 1e6) throw std::runtime_error("replay speed must be a number > 0");
    return o;
}
}  // namespace

Replay::Replay(const std::string& cassette_file, const ReplayOptions& options)
    : Replay(std::make_shared<Impl>(load(read_file(cassette_file), cassette_file, checked(options)), options)) {}

std::unique_ptr<Replay> Replay::from_text(const std::string& cassette_text, const ReplayOptions& options) {
    return std::unique_ptr<Replay>(
        new Replay(std::make_shared<Impl>(load(cassette_text, "(text)", checked(options)), options)));
}

Replay::~Replay() { stop(); }

void Replay::stop() {
    std::shared_ptr<detail::Transport> transport;
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        if (impl_->stopped) return;
        impl_->stopped = true;
        impl_->queue.clear();
        transport = std::move(impl_->transport);
    }
    impl_->cv.notify_all();
    if (transport) transport->stop();
}

std::string Replay::url() const { return "ws://127.0.0.1:" + std::to_string(impl_->port) + "/ws/token/v1"; }
std::uint16_t Replay::port() const { return impl_->port; }
const std::string& Replay::ivrid() const { return impl_->live_ivrid; }

ClientOptions Replay::client_options() const {
    ClientOptions o;
    o.url = url();
    o.token = impl_->options.token.empty() ? "replay" : impl_->options.token;
    o.reconnect.initial_delay = std::chrono::milliseconds(50);
    o.reconnect.max_delay = std::chrono::milliseconds(500);
    return o;
}

ReplayReport Replay::wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    const bool done = impl_->cv.wait_for(
        lock, timeout, [&] { return impl_->result.passed || impl_->result.diverged || impl_->stopped; });
    if (!done || (!impl_->result.passed && !impl_->result.diverged)) {
        const std::string waited = " within " + std::to_string(timeout.count()) + " ms";
        if (impl_->next < impl_->model.steps.size()) {
            const auto& step = impl_->model.steps[impl_->next];
            impl_->diverge(
                impl_->step_name(impl_->next) + ": expected " + impl_->expected_text(step) + ", got nothing" + waited,
                impl_->rewrite_frame(step.raw), "");
        } else {
            impl_->diverge("every request matched, but the recorded platform frames were not all sent" + waited, "",
                           "");
        }
    }
    return impl_->snapshot();
}

ReplayReport Replay::report() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->snapshot();
}

}  // namespace ivrapi::mock
