// ivrapi_bench: the SDK measured against raw websocketpp, side by side in one run.
//
//   1. request round trip (ws)        SDK Client::request vs raw websocketpp + RapidJSON
//   2. event dispatch (ws)            ivrapi_dtmf -> Session::on_dtmf, notify -> on_notify
//   3. claim rate from the mock       steady 1,000 and 5,000 calls/s, offer -> accepted
//                                     latency (the mock's own capacity measured first)
//   4. scale                          100,000 sessions each running a long play
//   5. wss variants of 1 and 2
//   6. reaction time                  ivrapi_dtmf on the wire -> the bot's apply on the wire
//   7. CPU per call                   10,000 calls (offer, accept, 3 components, hand-back)
//                                     through serve(), user+sys CPU of the client process
//
// Every bench runs `--reps` times (default 5), SDK and raw alternating, and reports the
// median repetition with the spread (min-max) of the repetitions; ratios are computed
// per repetition (same run, neighbouring in time) and reported the same way.
//
// Client threads run on CPU 0, server threads on CPU 1, for the SDK and the raw baseline
// alike (threads inherit the affinity of the thread that creates them).
//
//   ivrapi_bench [--smoke] [--report FILE] [--machine TEXT] [--client-cpu N] [--server-cpu N]
//                [--reps N] [--scale N] [--push N] [--only rt|decode|dispatch|claim|scale|react|cpu]
//                [--case ws|wss[-dtmf|-notify]] [--flat-only] [--sdk-extra-ns N]
//
// --flat-only: the dispatch bench's flat-out run only (what bench.sh counts instructions
// of), not its paced run.
// --sdk-extra-ns N: the SDK's dispatch callback busy-waits N ns per event, a control for
// what the dispatch figures measure (bench/notes.md, "The flat-out dispatch ratio").
// --smoke: tiny counts; checks every bench ran and exchanged the expected number of
// messages (exit 1 otherwise), no timing checks. Used by CTest (bench_smoke).
#include "wspp_bench.hpp"

#include "client/session_state.hpp"  // sizeof of a session's parts (--sizes)
#include "protocol/codec.hpp"        // decode alone (2b)

#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <rapidjson/document.h>

#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#ifndef IVRAPI_BENCH_CERT_DIR
#error "IVRAPI_BENCH_CERT_DIR must be defined"
#endif
#ifndef IVRAPI_BENCH_COMPILER
#define IVRAPI_BENCH_COMPILER "unknown"
#endif

namespace {

// What every raw baseline client sends first: offers and ends of every session.
constexpr const char* kRawSubscribe =
    "[\"subscribe\",{\"qid\":0,\"objects\":\"any\",\"events\":[\"ivrevents.api_start\","
    "\"ivrevents.api_stop\"],\"expires\":3600,\"id\":\"raw-bench\"}]";

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double us_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// Runs the raw side and the SDK side of pair `turn`, raw first on even turns: the second
// run of a pair meets a different machine state (the first one's frees, the server's
// queue), so which side goes first alternates.
template <typename Raw, typename Sdk>
void in_turn(std::size_t turn, Raw&& raw, Sdk&& sdk) {
    if (turn % 2 == 0) {
        raw();
        sdk();
    } else {
        sdk();
        raw();
    }
}

// `total` in `chunks` (at least one; the last takes the remainder), each run by both sides
// in_turn(), so that across chunks the order goes raw-SDK, SDK-raw, ... (ABBA).
template <typename Raw, typename Sdk>
void in_chunks(std::size_t total, std::size_t chunks, std::size_t rep, Raw&& raw, Sdk&& sdk) {
    chunks = std::max<std::size_t>(chunks, 1);
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t n = total / chunks + (c + 1 == chunks ? total % chunks : 0);
        in_turn(
            rep + c, [&] { raw(n); }, [&] { sdk(n); });
    }
}

struct Config {
    bool smoke = false;
    int client_cpu = 0;
    int server_cpu = 1;
    // Round trip and dispatch run `reps` times, SDK and raw alternating, and report the
    // median repetition: the machine is shared, so one run can catch a neighbour's burst.
    std::size_t reps = 5;
    std::size_t rt_warmup = 2000, rt_count = 20000;
    std::size_t push_count = 200000;
    bool paced_dispatch = true;                         // --flat-only: the dispatch bench without its paced run
    std::chrono::nanoseconds sdk_extra{0};              // --sdk-extra-ns: work added to the SDK's callback
    std::size_t decode_count = 500000;                  // 2b: frames decoded per repetition
    std::size_t claim_count = 5000, claim_rate = 1000;  // the 1,000/s run
    std::size_t fast_claim_count = 10000, fast_claim_rate = 5000;  // the 5,000/s run
    std::size_t scale_count = 100000;
    std::size_t react_warmup = 200, react_count = 2000;
    std::size_t cpu_calls = 10000, cpu_rate = 2500;
    std::string report;
    std::string machine;
    std::string only;           // run one bench: rt, dispatch, claim, scale, react, cpu
    std::string dispatch_case;  // --case: a dispatch case (ws-dtmf, ws-notify, wss-dtmf, wss-notify), or for
                                // the round trip a scheme (ws, wss; a dispatch case names its scheme too)
    std::string args;           // the command line, for the report
    std::string cert = std::string(IVRAPI_BENCH_CERT_DIR) + "/server.pem";
    std::string key = std::string(IVRAPI_BENCH_CERT_DIR) + "/server.key";
    std::string ca = std::string(IVRAPI_BENCH_CERT_DIR) + "/ca.pem";
};

// Bounded wait for a condition set from another thread (no sleeps as synchronisation).
class Latch {
public:
    void set() {
        {
            std::lock_guard<std::mutex> lock(m_);
            done_ = true;
        }
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(m_);
        return cv_.wait_for(lock, timeout, [&] { return done_; });
    }
    // For the next use; nobody may be setting it meanwhile.
    void reset() {
        std::lock_guard<std::mutex> lock(m_);
        done_ = false;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
};

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};
void check(bool ok, const std::string& what) {
    if (!ok) throw Failure(what);
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

// The median repetition and the spread (min-max) of the repetitions.
struct Spread {
    double median = 0, lo = 0, hi = 0;
};
Spread spread_of(const std::vector<double>& v) {
    if (v.empty()) return {};
    return {percentile(v, 0.5), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
}
// Per-repetition ratios a[i] / b[i].
std::vector<double> ratios(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> out;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) out.push_back(b[i] > 0 ? a[i] / b[i] : 0);
    return out;
}

bool parse_frame(rapidjson::Document& doc, std::string& payload) {
    // In-situ parse, like a careful raw client would do.
    doc.ParseInsitu(payload.data());
    return !doc.HasParseError() && doc.IsArray() && doc.Size() == 2 && doc[0].IsString() && doc[1].IsObject();
}

bool name_is(const rapidjson::Value& v, const char* s) {
    return v.GetStringLength() == std::strlen(s) && std::memcmp(v.GetString(), s, v.GetStringLength()) == 0;
}

std::string str_of(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || !it->value.IsString()) return {};
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

// The data of an api_start notify (a frame parse_frame() took), or null for any other frame.
const rapidjson::Value* api_start_data(const rapidjson::Document& doc) {
    if (!name_is(doc[0], "notify")) return nullptr;
    const rapidjson::Value& body = doc[1];
    auto d = body.FindMember("data");
    if (str_of(body, "type") != "api_start" || d == body.MemberEnd() || !d->value.IsObject()) return nullptr;
    return &d->value;
}

// A raw client's request about a session, [name, {qid, key, ivrid}], written into `frame`
// (the caller's buffer, reused from frame to frame as a raw client would).
const std::string& session_request_frame(std::string& frame, std::string_view name, std::uint64_t qid,
                                         std::string_view key, std::string_view ivrid) {
    frame.assign("[\"").append(name).append("\",{\"qid\":").append(std::to_string(qid)).append(",\"key\":\"");
    frame.append(key).append("\",\"ivrid\":\"").append(ivrid).append("\"}]");
    return frame;
}

std::uint64_t qid_of(const rapidjson::Value& body) {
    auto it = body.FindMember("qid");
    return (it != body.MemberEnd() && it->value.IsUint64()) ? it->value.GetUint64() : 0;
}

ivrapi::ClientOptions sdk_options(const std::string& url, const std::string& ca, const std::string& token,
                                  bool subscribe) {
    ivrapi::ClientOptions o;
    o.url = url;
    o.token = token;
    if (url.rfind("wss://", 0) == 0) o.tls.ca_file = ca;
    o.reconnect.enabled = false;
    if (!subscribe) o.events.clear();
    return o;
}

// ------------------------------------------------------------------ 1 + 5: round trip

struct Rtt {
    double p50 = 0, p99 = 0;
    std::size_t exchanged = 0;
};

Rtt sdk_round_trip(const Config& cfg, const std::string& url) {
    ivrapi::Client client(sdk_options(url, cfg.ca, "bench", false));
    client.start();
    check(client.wait_ready(10s), "SDK round trip: client not ready");
    const std::size_t total = cfg.rt_warmup + cfg.rt_count;
    std::vector<double> lat;
    lat.reserve(cfg.rt_count);
    std::size_t done = 0, errors = 0;
    Clock::time_point t0;
    Latch finished;
    const ivrapi::Json body = ivrapi::Json::object();
    std::function<void()> next = [&] {
        t0 = Clock::now();
        client.request("connection_info", body, [&](ivrapi::Result<ivrapi::Json> r) {
            const auto t1 = Clock::now();
            if (!r || !r->contains("qid")) ++errors;
            if (done >= cfg.rt_warmup) lat.push_back(us_between(t0, t1));
            if (++done < total) next();
            else finished.set();
        });
    };
    next();
    check(finished.wait(std::chrono::milliseconds(60000 + total)), "SDK round trip: timed out");
    check(errors == 0, "SDK round trip: " + std::to_string(errors) + " failed requests");
    client.stop();
    return {percentile(lat, 0.5), percentile(lat, 0.99), done};
}

Rtt raw_round_trip(const Config& cfg, const std::string& url) {
    const std::size_t total = cfg.rt_warmup + cfg.rt_count;
    std::vector<double> lat;
    lat.reserve(cfg.rt_count);
    std::size_t done = 0, errors = 0;
    std::uint64_t qid = 0;
    Clock::time_point t0;
    Latch finished;
    char buf[64];
    auto send_next = [&](bench::RawClient& c) {
        ++qid;
        const int n = std::snprintf(buf, sizeof buf, "[\"connection_info\",{\"qid\":%llu}]",
                                    static_cast<unsigned long long>(qid));
        t0 = Clock::now();
        c.send(std::string_view(buf, static_cast<std::size_t>(n)));
    };
    bench::RawClient client(
        {url, "bench", cfg.ca}, [&](bench::RawClient& c) { send_next(c); },
        [&](bench::RawClient& c, std::string& payload) {
            rapidjson::Document doc;
            const bool ok =
                parse_frame(doc, payload) && name_is(doc[0], "connection_info_result") && qid_of(doc[1]) == qid;
            const auto t1 = Clock::now();
            if (!ok) ++errors;
            if (done >= cfg.rt_warmup) lat.push_back(us_between(t0, t1));
            if (++done < total) send_next(c);
            else finished.set();
        });
    client.start();
    check(finished.wait(std::chrono::milliseconds(60000 + total)), "raw round trip: timed out");
    check(errors == 0, "raw round trip: " + std::to_string(errors) + " bad replies");
    client.stop();
    return {percentile(lat, 0.5), percentile(lat, 0.99), done};
}

// ------------------------------------------------------------------ 2 + 5: event dispatch

struct Dispatch {
    double per_s = 0;
    std::size_t events = 0;
    // CPU time (user + sys) of the thread that runs the event callbacks (the SDK's I/O
    // thread, the raw client's thread) from the first to the last event of each chunk,
    // summed over the chunks, per event.
    // Events/s is bound by the bench server (it spends about twice the client's CPU per
    // frame); this is what the client itself pays, whatever the server's pace.
    double cpu_ns_per_event = 0;
    // Times the client thread blocked (voluntary context switches) per 1,000 events: a
    // client that waits for the server is not the slower side.
    double waits_per_k = 0;
    // The kernel's part of that CPU time (reading the socket, waiting for it).
    double sys_ns_per_event = 0;
};

// CPU time of the calling thread.
std::chrono::nanoseconds thread_cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// What getrusage says of the calling thread so far: its voluntary context switches
// (times it blocked) and its system CPU time.
struct ThreadUsage {
    long waits = 0;
    std::chrono::nanoseconds sys{};
};
ThreadUsage thread_usage_now() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return {ru.ru_nvcsw, std::chrono::seconds(ru.ru_stime.tv_sec) + std::chrono::microseconds(ru.ru_stime.tv_usec)};
}

// Counts the events of a dispatch run, chunk by chunk: expect() before each chunk is
// asked for, tick() on the client's event thread for each event; the figures are the
// sums over the chunks (each timed from its first event to its last).
class EventClock {
public:
    void expect(std::size_t n) {
        n_ = n;
        count_ = 0;
        done_.reset();
    }
    void tick() {
        const std::size_t c = count_.load(std::memory_order_relaxed) + 1;
        count_.store(c, std::memory_order_relaxed);
        if (c == 1) {
            first_ = Clock::now();
            cpu_first_ = thread_cpu_now();
            usage_first_ = thread_usage_now();
        }
        if (c != n_) return;
        wall_ += Clock::now() - first_;
        cpu_ += thread_cpu_now() - cpu_first_;
        const ThreadUsage usage = thread_usage_now();
        waits_ += usage.waits - usage_first_.waits;
        sys_ += usage.sys - usage_first_.sys;
        gaps_ += n_ - 1;
        events_ += n_;
        done_.set();
    }
    bool wait(std::chrono::milliseconds timeout) { return done_.wait(timeout); }
    std::size_t count() const { return count_.load(std::memory_order_relaxed); }
    // Over every finished chunk.
    Dispatch result() const {
        const double gaps = static_cast<double>(std::max<std::size_t>(gaps_, 1));
        return {gaps / std::chrono::duration<double>(wall_).count(), events_,
                std::chrono::duration<double, std::nano>(cpu_).count() / gaps,
                1000.0 * static_cast<double>(waits_) / gaps,
                std::chrono::duration<double, std::nano>(sys_).count() / gaps};
    }

private:
    std::size_t n_ = 0;
    std::atomic<std::size_t> count_{0};
    Clock::time_point first_;
    std::chrono::nanoseconds cpu_first_{};
    ThreadUsage usage_first_;
    std::chrono::nanoseconds sys_{};
    Clock::duration wall_{};
    std::chrono::nanoseconds cpu_{};
    long waits_ = 0;
    std::size_t gaps_ = 0, events_ = 0;
    Latch done_;
};

// How the bench server sends a dispatch run's events: flat out (burst 0), or `burst`
// frames every `interval_us` µs.
struct Pacing {
    std::size_t burst = 0;
    std::size_t interval_us = 0;
    // The request's extra members.
    std::string json_members() const {
        if (burst == 0) return "";
        return ",\"burst\":" + std::to_string(burst) + ",\"interval_us\":" + std::to_string(interval_us);
    }
};

// The SDK's side of a dispatch run: connected (and for DTMF holding a claimed session)
// from construction to finish(); each run() asks the bench server for a chunk of events.
class SdkDispatch {
public:
    SdkDispatch(const Config& cfg, const std::string& url, std::string kind, Pacing pacing)
        : kind_(std::move(kind)),
          pacing_(pacing),
          extra_(cfg.sdk_extra),
          client_(sdk_options(url, cfg.ca, "bench", false)) {
        client_.on_notify([this](const ivrapi::NotifyEvent& e) { on_event(e.type.size() == 8 ? 1 : 0); });
        client_.on_offer([this](ivrapi::Offer offer) {
            offer.accept([this](ivrapi::Result<ivrapi::Session> s) {
                if (s) {
                    session_ = *s;
                    session_.on_dtmf([this](const ivrapi::DtmfEvent& e) { on_event(e.dtmf.size()); });
                }
                claimed_.set();
            });
        });
        client_.start();
        check(client_.wait_ready(10s), "SDK dispatch: client not ready");
        if (kind_ == "dtmf") {
            // DTMF goes to a session: claim one from the bench server first.
            auto r = client_.request("bench_offer", ivrapi::Json::object({{"ivrid", "bench-1"}})).get();
            check(r.ok(), "SDK dispatch: bench_offer failed");
            check(claimed_.wait(10s) && static_cast<bool>(session_), "SDK dispatch: no session claimed");
        }
    }
    void run(std::size_t n) {
        clock_.expect(n);
        expected_ += n;
        auto body = ivrapi::Json::object({{"count", n}, {"kind", kind_}, {"ivrid", "bench-1"}});
        if (pacing_.burst != 0) {
            body.set("burst", pacing_.burst);
            body.set("interval_us", pacing_.interval_us);
        }
        auto push = client_.request("bench_push", std::move(body));
        check(clock_.wait(std::chrono::milliseconds(60000 + n / 10)), "SDK dispatch " + kind_ + ": " +
                                                                          std::to_string(clock_.count()) + "/" +
                                                                          std::to_string(n) + " events arrived");
        check(push.get().ok(), "SDK dispatch: bench_push failed");
    }
    Dispatch finish() {
        client_.stop();
        check(checksum_ == expected_, "SDK dispatch: wrong event contents");
        return clock_.result();
    }

private:
    void on_event(std::size_t v) {
        if (extra_.count() > 0) {
            const auto until = Clock::now() + extra_;  // steady_clock reads without a system call
            while (Clock::now() < until) {}
        }
        checksum_ += v;
        clock_.tick();
    }
    std::string kind_;
    Pacing pacing_;
    std::chrono::nanoseconds extra_;
    Latch claimed_;
    ivrapi::Session session_;
    EventClock clock_;
    std::size_t checksum_ = 0, expected_ = 0;
    ivrapi::Client client_;  // last: destroyed first, its thread stops before the members it calls
};

// The raw client's side, the same way.
class RawDispatch {
public:
    RawDispatch(const Config& cfg, const std::string& url, std::string kind, Pacing pacing)
        : kind_(std::move(kind)),
          pacing_(pacing),
          client_(
              {url, "bench", cfg.ca}, [this](bench::RawClient&) { opened_.set(); },
              [this](bench::RawClient&, std::string& payload) { on_frame(payload); }) {
        client_.start();
        check(opened_.wait(10s), "raw dispatch: not connected");
    }
    void run(std::size_t n) {
        clock_.expect(n);
        expected_ += n;
        const std::string request = "[\"bench_push\",{\"qid\":1,\"count\":" + std::to_string(n) + ",\"kind\":\"" +
                                    kind_ + "\",\"ivrid\":\"bench-1\"" + pacing_.json_members() + "}]";
        client_.post([this, request] { client_.send(request); });
        check(clock_.wait(std::chrono::milliseconds(60000 + n / 10)), "raw dispatch " + kind_ + ": " +
                                                                          std::to_string(clock_.count()) + "/" +
                                                                          std::to_string(n) + " events arrived");
    }
    Dispatch finish() {
        client_.stop();
        check(checksum_ == expected_, "raw dispatch: wrong event contents");
        return clock_.result();
    }

private:
    void on_frame(std::string& payload) {
        rapidjson::Document doc;
        if (!parse_frame(doc, payload)) return;
        const rapidjson::Value& body = doc[1];
        std::size_t v = 0;
        if (name_is(doc[0], "ivrapi_dtmf")) {
            auto it = body.FindMember("dtmf");
            if (it == body.MemberEnd() || !it->value.IsString()) return;
            v = it->value.GetStringLength();
        } else if (name_is(doc[0], "notify")) {
            auto it = body.FindMember("type");
            if (it == body.MemberEnd() || !it->value.IsString()) return;
            v = it->value.GetStringLength() == 8 ? 1 : 0;  // "sm_start"
        } else {
            return;  // the bench_push reply
        }
        checksum_ += v;
        clock_.tick();
    }
    std::string kind_;
    Pacing pacing_;
    Latch opened_;
    EventClock clock_;
    std::size_t checksum_ = 0, expected_ = 0;
    bench::RawClient client_;  // last: its thread stops before the members it calls
};

// One repetition: both clients connected to the same server, `total` events each, asked
// for in chunks that alternate between them (ABBA), so that both meet the same phases
// of the host's load: a whole run per side (~0.2 s) let one side meet a slow phase the
// other missed, and moved the ratio by ±5-10 %.
std::pair<Dispatch, Dispatch> dispatch_rep(const Config& cfg, const std::string& url, const std::string& kind,
                                           std::size_t rep, std::size_t total, Pacing pacing = {}) {
    SdkDispatch sdk(cfg, url, kind, pacing);
    RawDispatch raw(cfg, url, kind, pacing);
    in_chunks(
        total, std::clamp<std::size_t>(total / 1000, 1, 10), rep, [&](std::size_t n) { raw.run(n); },
        [&](std::size_t n) { sdk.run(n); });
    Dispatch r = raw.finish();
    Dispatch s = sdk.finish();
    return {s, r};
}

// ------------------------------------------------------------------ 2b: decode alone
//
// The client's per-frame work without the network, which on this machine's throughput
// benches drowns in the host's stalls: `protocol::decode` (what the SDK does with every
// frame before routing it) against the raw client's in-situ parse plus the name check
// and one lookup. Both on the client CPU, alternating; ns per frame.

struct DecodeCost {
    double sdk_ns = 0, raw_ns = 0;
};

DecodeCost decode_cost(const std::string& frame, std::size_t n) {
    ivrapi::protocol::ParseLimits limits;
    limits.validate_utf8 = false;  // as the client sets it: websocketpp validated the frame
    limits.keep_raw_events = false;
    std::size_t sink = 0;
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) sink += ivrapi::protocol::decode(frame, limits).ok() ? 1 : 0;
    auto t1 = Clock::now();
    std::string payload;
    for (std::size_t i = 0; i < n; ++i) {
        payload = frame;  // websocketpp hands the raw client a string it may parse in place
        rapidjson::Document doc;
        if (parse_frame(doc, payload) && name_is(doc[0], "x")) ++sink;
        sink += doc.IsArray() && doc[1].IsObject() && doc[1].HasMember("qid") ? 1 : 0;
    }
    auto t2 = Clock::now();
    check(sink >= n, "decode: frames not decoded");
    const auto ns = [n](Clock::duration d) { return std::chrono::duration<double, std::nano>(d).count() / n; };
    return {ns(t1 - t0), ns(t2 - t1)};
}

// ------------------------------------------------------------------ 3: claim rate

struct Claim {
    double offered_per_s = 0;  // rate the pacer achieved
    double claimed_per_s = 0;
    double p50_us = 0, p99_us = 0, max_us = 0;
    double stall_us = 0;      // StallProbe's worst lateness during the run
    double clear_max_us = 0;  // max over the offers whose wait overlapped no stall window
    double clear_share = 0;   // share of the offers that overlapped none
    std::size_t claimed = 0, failed = 0;
};

// When one offer waited: from the offer reaching the client to its acceptance reaching it.
struct Wait {
    Clock::time_point from, to;
    double us() const { return us_between(from, to); }
};

// A span of time in which a CPU of the machine did not run a thread that was due.
struct StallWindow {
    Clock::time_point from, to;
};

// What one client's claims came to, over the chunks of a repetition.
struct ClaimTally {
    std::vector<Wait> waits;
    std::size_t claimed = 0, failed = 0;
    std::size_t offered = 0;
    double pacing_s = 0;  // the pacer's time, summed over the chunks
    double active_s = 0;  // each chunk from its first offer to its last answer, summed
};

// Fills the figures of a finished claim run (SDK and raw alike).
// The maximum apart from the machine's stalls is the client's (and the mock's) own worst
// case: an offer whose wait overlapped a window in which a CPU was not given to a thread
// that was due cannot tell a slow client from a host that did not run it.
Claim summarize(const ClaimTally& t, double stall_us, std::vector<StallWindow> stalls) {
    Claim c;
    const std::vector<Wait>& waits = t.waits;
    c.claimed = t.claimed;
    c.failed = t.failed;
    c.stall_us = stall_us;
    c.offered_per_s = static_cast<double>(t.offered) / std::max(1e-9, t.pacing_s);
    c.claimed_per_s = static_cast<double>(t.claimed) / std::max(1e-9, t.active_s);
    std::vector<double> lat, clear;
    lat.reserve(waits.size());
    std::sort(stalls.begin(), stalls.end(), [](const StallWindow& a, const StallWindow& b) { return a.from < b.from; });
    for (const Wait& w : waits) {
        lat.push_back(w.us());
        // Windows are few (tens per run): a scan per offer is cheap enough after the run.
        const bool stalled = std::any_of(stalls.begin(), stalls.end(),
                                         [&](const StallWindow& s) { return s.from < w.to && w.from < s.to; });
        if (!stalled) clear.push_back(w.us());
    }
    c.p50_us = percentile(lat, 0.5);
    c.p99_us = percentile(lat, 0.99);
    c.max_us = percentile(lat, 1.0);
    c.clear_max_us = clear.empty() ? 0 : percentile(clear, 1.0);
    c.clear_share = lat.empty() ? 0 : static_cast<double>(clear.size()) / static_cast<double>(lat.size());
    return c;
}

// The machine's own stalls while a claim run goes on: one thread per CPU sleeps in 1 ms
// steps and records how late it wakes. A thread that does nothing else cannot answer
// faster than it is woken, so its worst lateness is a floor under any client's maximum
// latency in the same run (on a VM, host preemption shows here and nowhere else).
// A wake-up later than kStallUs marks a stall window: from the previous wake-up (the
// CPU may have been taken from any point after it) to this one.
class StallProbe {
public:
    static constexpr double kStallUs = 500;

    explicit StallProbe(std::initializer_list<int> cpus) {
        for (int cpu : cpus) {
            threads_.emplace_back([this, cpu] {
                bench::pin_this_thread(cpu);
                double worst = 0;
                std::vector<StallWindow> windows;
                auto woke = Clock::now();
                for (auto next = woke; !stop_.load(std::memory_order_relaxed);) {
                    next += 1ms;
                    std::this_thread::sleep_until(next);  // the measurement itself, not synchronisation
                    const auto now = Clock::now();
                    const double late = us_between(next, now);
                    worst = std::max(worst, late);
                    if (late > kStallUs) windows.push_back({woke, now});
                    woke = now;
                }
                std::lock_guard<std::mutex> lock(mutex_);
                worst_us_ = std::max(worst_us_, worst);
                windows_.insert(windows_.end(), windows.begin(), windows.end());
            });
        }
    }
    StallProbe(const StallProbe&) = delete;
    StallProbe& operator=(const StallProbe&) = delete;
    ~StallProbe() { stop(); }

    // Ends the probe; the worst lateness seen on any CPU, in µs.
    double stop() {
        stop_ = true;
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
        return worst_us_;
    }

    // The stall windows of every CPU; after stop().
    const std::vector<StallWindow>& windows() const { return windows_; }

private:
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    double worst_us_ = 0;
    std::vector<StallWindow> windows_;
    std::vector<std::thread> threads_;
};

// Starts `n` calls at a steady `rate` (0: as fast as it can) from a thread on the server's CPU.
double pace_calls(const Config& cfg, ivrapi::mock::Server& server, std::size_t n, std::size_t rate,
                  std::optional<std::chrono::milliseconds> hangup_after = 200ms) {
    double achieved = 0;
    std::thread pacer([&] {
        bench::pin_this_thread(cfg.server_cpu);
        const auto period = std::chrono::nanoseconds(rate ? 1000000000LL / static_cast<long long>(rate) : 0);
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i) {
            if (rate) std::this_thread::sleep_until(t0 + period * static_cast<long long>(i));  // pacing, not sync
            ivrapi::mock::CallOptions co;
            co.hangup_after = hangup_after;  // calls end, as real ones do: ~rate/5 live at a time
            server.start_call(co);
        }
        achieved = static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
    });
    pacer.join();
    return achieved;
}

std::unique_ptr<ivrapi::mock::Server> make_mock(const Config& cfg, std::chrono::milliseconds play) {
    // Created from the server CPU so its threads run there; the caller goes back to the client CPU.
    bench::pin_this_thread(cfg.server_cpu);
    ivrapi::mock::ServerOptions mo;
    mo.accept_timeout = 120s;
    mo.default_play_duration = play;
    mo.request_log_limit = 1000;
    auto server = std::make_unique<ivrapi::mock::Server>(mo);
    bench::pin_this_thread(cfg.client_cpu);
    return server;
}

// One client's side of a claim run, whichever the client: its own mock, its tally, and
// the chunks it is asked for. The client reports each offer and each answer from its
// thread; run() starts a chunk's calls and waits until every offer of it is answered.
class ClaimSide {
public:
    ClaimSide(const Config& cfg, std::string who) : cfg_(cfg), who_(std::move(who)), server_(make_mock(cfg, 1000ms)) {}
    ivrapi::mock::Server& server() { return *server_; }

    // Client thread.
    void offered(Clock::time_point at) {
        if (!started_.exchange(true, std::memory_order_relaxed)) first_ = at;
    }
    void answered(bool claimed, Clock::time_point offered_at, Clock::time_point at) {
        if (claimed) {
            ++tally_.claimed;
            tally_.waits.push_back({offered_at, at});
        } else {
            ++tally_.failed;
        }
        if (tally_.claimed + tally_.failed != expected_.load(std::memory_order_relaxed)) return;
        last_ = at;
        done_.set();
    }

    void run(std::size_t n, std::size_t rate) {
        tally_.offered += n;
        tally_.waits.reserve(tally_.offered);  // no reallocation in the client's callbacks
        started_.store(false, std::memory_order_relaxed);
        expected_.store(tally_.offered, std::memory_order_relaxed);
        done_.reset();
        tally_.pacing_s += static_cast<double>(n) / pace_calls(cfg_, *server_, n, rate);
        check(done_.wait(60s), who_ + " claim: offers of a chunk not all answered");
        tally_.active_s += std::chrono::duration<double>(last_ - first_).count();
    }
    ClaimTally take() { return std::move(tally_); }

private:
    const Config& cfg_;
    std::string who_;
    std::unique_ptr<ivrapi::mock::Server> server_;
    ClaimTally tally_;
    std::atomic<bool> started_{false};
    std::atomic<std::size_t> expected_{0};
    Clock::time_point first_, last_;
    Latch done_;
};

// The SDK's claim loop: connected from construction to stop().
class SdkClaimer {
public:
    explicit SdkClaimer(const Config& cfg)
        : side_(cfg, "SDK"), client_(sdk_options(side_.server().url(), cfg.ca, side_.server().options().token, true)) {
        client_.on_offer([this](ivrapi::Offer offer) {
            const auto arrived = Clock::now();
            side_.offered(arrived);
            offer.accept([this, arrived](ivrapi::Result<ivrapi::Session> s) {
                side_.answered(static_cast<bool>(s), arrived, Clock::now());
            });
        });
        client_.start();
        check(client_.wait_ready(10s), "SDK claim: client not ready");
    }
    ClaimSide& side() { return side_; }
    void stop() { client_.stop(); }

private:
    ClaimSide side_;
    ivrapi::Client client_;  // last: destroyed first, its thread stops before the members it calls
};

// The same claim loop written directly on websocketpp + RapidJSON.
class RawClaimer {
public:
    explicit RawClaimer(const Config& cfg)
        : side_(cfg, "raw"),
          client_(
              {side_.server().url(), side_.server().options().token, cfg.ca},
              [](bench::RawClient& c) { c.send(kRawSubscribe); },
              [this](bench::RawClient& c, std::string& payload) { on_frame(c, payload); }) {
        client_.start();
        check(ready_.wait(10s), "raw claim: not subscribed");
    }
    ClaimSide& side() { return side_; }
    void stop() { client_.stop(); }

private:
    void on_frame(bench::RawClient& c, std::string& payload) {
        rapidjson::Document doc;
        if (!parse_frame(doc, payload)) return;
        const rapidjson::Value& body = doc[1];
        if (const rapidjson::Value* data = api_start_data(doc)) {
            const auto arrived = Clock::now();
            side_.offered(arrived);
            const std::uint64_t q = next_qid_++;
            c.send(session_request_frame(frame_, "ivrapi_accept", q, str_of(*data, "key"), str_of(*data, "ivrid")));
            in_flight_.emplace(q, arrived);
        } else if (name_is(doc[0], "ivrapi_accept_result")) {
            const auto t = Clock::now();
            auto it = in_flight_.find(qid_of(body));
            if (it == in_flight_.end()) return;
            const Clock::time_point arrived = it->second;
            in_flight_.erase(it);
            side_.answered(str_of(body, "result") == "ok", arrived, t);
        } else if (name_is(doc[0], "subscribe_result")) {
            ready_.set();
        }
    }
    ClaimSide side_;
    std::unordered_map<std::uint64_t, Clock::time_point> in_flight_;
    std::uint64_t next_qid_ = 1;
    std::string frame_;
    Latch ready_;
    bench::RawClient client_;  // last: its thread stops before the members it calls
};

// The mock alone: a raw client claiming `n` calls started as fast as the pacer can.
Claim mock_capacity(const Config& cfg, std::size_t n) {
    RawClaimer raw(cfg);
    StallProbe probe({cfg.client_cpu, cfg.server_cpu});
    raw.side().run(n, 0);
    const double stall = probe.stop();
    raw.stop();
    return summarize(raw.side().take(), stall, probe.windows());
}

// One repetition: each client with its own mock, `n` calls each at `rate`, in 10 chunks
// that alternate between them (ABBA), so that both meet the same phases of the host's
// load (a whole run per side, 2-5 s, let one side meet a slow phase the other missed: the
// p99 ratio's spread was 0.5-2.2). One stall probe runs through both.
std::pair<Claim, Claim> claim_rep(const Config& cfg, std::size_t n, std::size_t rate, std::size_t rep) {
    SdkClaimer sdk(cfg);
    RawClaimer raw(cfg);
    StallProbe probe({cfg.client_cpu, cfg.server_cpu});
    in_chunks(
        n, std::clamp<std::size_t>(n / 100, 1, 10), rep, [&](std::size_t k) { raw.side().run(k, rate); },
        [&](std::size_t k) { sdk.side().run(k, rate); });
    const double stall = probe.stop();
    sdk.stop();
    raw.stop();
    return {summarize(sdk.side().take(), stall, probe.windows()), summarize(raw.side().take(), stall, probe.windows())};
}

// ------------------------------------------------------------------ 4: scale
//
// The mock platform runs in a child process (its 10,000 calls must not count in the
// client's memory), the measured client in another child (a clean heap each).

struct Scale {
    double bytes_per_session = 0;
    double heap_per_session = 0;  // malloc'ed bytes in use (with malloc's headers), all arenas
    double claim_ms = 0;
    std::size_t sessions = 0;
    std::size_t plays = 0;  // ivrapi_component_apply requests the mock received
};

std::size_t resident_bytes() {
    std::ifstream f("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    f >> size >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::string read_line(int fd) {
    std::string line;
    char ch;
    while (::read(fd, &ch, 1) == 1 && ch != '\n') line += ch;
    return line;
}

void write_line(int fd, const std::string& s) {
    const std::string l = s + "\n";
    if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::perror("bench: write");
}

struct MockChild {
    pid_t pid = -1;
    int to = -1, from = -1;
    std::string url;
};

// The mock in a child process. Commands: "calls N" -> starts N calls as fast as it can,
// waits until it received N ivrapi_component_apply, answers "ok <applies>";
// "paced N RATE" -> starts N calls at RATE/s, waits until it received N ivrapi_abort,
// answers "ok <aborts>"; "quit". Plays last `play`.
MockChild spawn_mock(const Config& cfg, std::chrono::milliseconds play = std::chrono::hours(1)) {
    int down[2], up[2];
    check(::pipe(down) == 0 && ::pipe(up) == 0, "pipe failed");
    const pid_t pid = ::fork();
    check(pid >= 0, "fork failed");
    if (pid == 0) {
        ::close(down[1]);
        ::close(up[0]);
        int rc = 0;
        try {
            bench::pin_this_thread(cfg.server_cpu);
            ivrapi::mock::ServerOptions mo;
            mo.accept_timeout = 300s;
            mo.default_play_duration = play;
            mo.request_log_limit = 16;
            ivrapi::mock::Server server(mo);
            write_line(up[1], server.url());
            for (;;) {
                const std::string cmd = read_line(down[0]);
                if (cmd.rfind("calls ", 0) == 0) {
                    const std::size_t n = std::stoul(cmd.substr(6));
                    for (std::size_t i = 0; i < n; ++i) server.start_call();
                    const bool ok = server.wait_for_request("ivrapi_component_apply", 300s, n);
                    write_line(up[1], std::string(ok ? "ok " : "fail ") +
                                          std::to_string(server.request_count("ivrapi_component_apply")));
                } else if (cmd.rfind("paced ", 0) == 0) {
                    std::istringstream in(cmd.substr(6));
                    std::size_t n = 0, rate = 0;
                    in >> n >> rate;
                    pace_calls(cfg, server, n, rate, std::nullopt);  // the bot hands each call back
                    const bool ok = server.wait_for_request("ivrapi_abort", 300s, n);
                    write_line(up[1], std::string(ok ? "ok " : "fail ") +
                                          std::to_string(server.request_count("ivrapi_abort")));
                } else {
                    break;  // "quit" or EOF
                }
            }
            server.stop();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench mock child: %s\n", e.what());
            rc = 1;
        }
        ::_exit(rc);
    }
    ::close(down[0]);
    ::close(up[1]);
    MockChild m{pid, down[1], up[0], {}};
    m.url = read_line(m.from);
    check(!m.url.empty(), "the mock child did not start");
    return m;
}

// Runs `measure` in a child process; it returns a line the parent gets back.
std::string in_child(const std::function<std::string()>& measure) {
    int up[2];
    check(::pipe(up) == 0, "pipe failed");
    const pid_t pid = ::fork();
    check(pid >= 0, "fork failed");
    if (pid == 0) {
        ::close(up[0]);
        std::string line;
        try {
            line = measure();
        } catch (const std::exception& e) {
            line = std::string("error ") + e.what();
        }
        write_line(up[1], line);
        ::_exit(0);
    }
    ::close(up[1]);
    std::string line = read_line(up[0]);
    ::close(up[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return line;
}

Scale run_scale(const Config& cfg, bool sdk) {
    MockChild mock = spawn_mock(cfg);
    const std::size_t n = cfg.scale_count;
    const std::string line = in_child([&]() -> std::string {
        bench::pin_this_thread(cfg.client_cpu);
        std::size_t claimed = 0, rss0 = 0;
        Clock::time_point t0, last;
        Latch all, ready;
        std::unique_ptr<ivrapi::Client> client;
        std::unique_ptr<bench::RawClient> raw;
        // raw baseline state: what a minimal hand-written client keeps per session.
        std::unordered_map<std::uint64_t, std::string> accepting;  // qid -> ivrid
        std::unordered_map<std::string, std::string> sessions;     // ivrid -> key
        std::uint64_t next_qid = 1;
        std::string frame;  // used by the raw client's thread: outlives it
        auto claimed_one = [&] {
            if (++claimed == n) {
                last = Clock::now();
                all.set();
            }
        };
        if (sdk) {
            client = std::make_unique<ivrapi::Client>(sdk_options(mock.url, cfg.ca, "test-token", true));
            client->on_offer([&](ivrapi::Offer offer) {
                offer.accept([&](ivrapi::Result<ivrapi::Session> s) {
                    if (!s) return;
                    ivrapi::Play play;
                    play.file = ":GS_PUB/bench/long.wav";
                    s->apply(play, [](ivrapi::Result<ivrapi::ComponentStopped>) {});
                    claimed_one();
                });
            });
            client->start();
            check(client->wait_ready(10s), "SDK scale: client not ready");
        } else {
            raw = std::make_unique<bench::RawClient>(
                bench::RawClient::Options{mock.url, "test-token", cfg.ca},
                [&](bench::RawClient& c) { c.send(kRawSubscribe); },
                [&](bench::RawClient& c, std::string& payload) {
                    rapidjson::Document doc;
                    if (!parse_frame(doc, payload)) return;
                    const rapidjson::Value& body = doc[1];
                    if (const rapidjson::Value* data = api_start_data(doc)) {
                        const std::uint64_t q = next_qid++;
                        std::string ivrid = str_of(*data, "ivrid");
                        std::string key = str_of(*data, "key");
                        c.send(session_request_frame(frame, "ivrapi_accept", q, key, ivrid));
                        accepting.emplace(q, ivrid);
                        sessions.emplace(std::move(ivrid), std::move(key));
                    } else if (name_is(doc[0], "ivrapi_accept_result")) {
                        auto it = accepting.find(qid_of(body));
                        if (it == accepting.end()) return;
                        const std::string ivrid = std::move(it->second);
                        accepting.erase(it);
                        if (str_of(body, "result") != "ok") return;
                        const std::uint64_t q = next_qid++;
                        frame = "[\"ivrapi_component_apply\",{\"qid\":" + std::to_string(q) + ",\"key\":\"" +
                                sessions[ivrid] + "\",\"ivrid\":\"" + ivrid +
                                "\",\"data\":{\"oType\":204,\"file\":\":GS_PUB/bench/long.wav\",\"oId\":" +
                                std::to_string(q) + "}}]";
                        c.send(frame);
                        claimed_one();
                    } else if (name_is(doc[0], "subscribe_result")) {
                        ready.set();
                    }
                });
            raw->start();
            check(ready.wait(10s), "raw scale: not subscribed");
        }
        malloc_trim(0);
        rss0 = resident_bytes();  // the idle client, connected and subscribed
        // malloc's count plus the session pool's blocks (client/slab_pool.hpp).
        const auto heap_in_use = [] {
            return mallinfo2().uordblks + ivrapi::detail::SlabPool::sessions().stats().bytes;
        };
        const std::size_t heap0 = heap_in_use();
        t0 = Clock::now();
        write_line(mock.to, "calls " + std::to_string(n));
        check(all.wait(300s), "scale: only " + std::to_string(claimed) + "/" + std::to_string(n) + " claimed");
        const std::string answer = read_line(mock.from);  // the mock has every play request
        if (sdk) {
            // ... and the client has every reply: requests still in flight are not what a
            // session keeps (connection_info + subscribe + an accept and an apply each).
            const auto settle = Clock::now() + 30s;
            while (client->stats().requests < 2 + 2 * n && Clock::now() < settle) std::this_thread::sleep_for(1ms);
        }
        // Retained memory, not the burst's transient peak (frames in flight, queues):
        // give freed heap back first, as for rss0.
        malloc_trim(0);
        const std::size_t rss1 = resident_bytes();
        const std::size_t heap1 = heap_in_use();
        std::ostringstream out;
        out << "ok " << rss0 << ' ' << rss1 << ' ' << std::chrono::duration<double, std::milli>(last - t0).count()
            << ' ' << claimed << ' ' << (static_cast<double>(heap1) - static_cast<double>(heap0)) << ' ' << answer;
        // Leave without tearing 10,000 sessions down: the process ends here.
        return out.str();
    });
    write_line(mock.to, "quit");
    ::close(mock.to);
    ::close(mock.from);
    int status = 0;
    ::waitpid(mock.pid, &status, 0);

    std::istringstream in(line);
    std::string tag, mock_tag;
    std::size_t rss0 = 0, rss1 = 0, claimed = 0, plays = 0;
    double ms = 0, heap = 0;
    in >> tag >> rss0 >> rss1 >> ms >> claimed >> heap >> mock_tag >> plays;
    check(tag == "ok", std::string(sdk ? "SDK" : "raw") + " scale: " + line);
    check(mock_tag == "ok",
          std::string(sdk ? "SDK" : "raw") + " scale: the mock saw " + std::to_string(plays) + " plays");
    Scale s;
    s.sessions = claimed;
    s.plays = plays;
    s.claim_ms = ms;
    s.bytes_per_session = (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(n);
    s.heap_per_session = heap / static_cast<double>(n);
    return s;
}

// ------------------------------------------------------------------ 6: reaction time
//
// The bench server writes an ivrapi_dtmf and times until it reads the bot's
// ivrapi_component_apply (both on the server's thread: on the wire as the platform sees
// it); it answers the apply and its stopped event, then writes the next dtmf.

struct Reaction {
    double p50 = 0, p99 = 0;
    std::size_t samples = 0;
};

Reaction summarize_reactions(const Config& cfg, std::vector<double> all) {
    if (all.size() > cfg.react_warmup) all.erase(all.begin(), all.begin() + static_cast<long>(cfg.react_warmup));
    return {percentile(all, 0.5), percentile(all, 0.99), all.size()};
}

Reaction sdk_reaction(const Config& cfg, bench::BenchServer& server) {
    ivrapi::Client client(sdk_options(server.url(), cfg.ca, "bench", false));
    Latch claimed;
    ivrapi::Session session;
    ivrapi::Play play;
    play.file = ":GS_PUB/bench/next.wav";
    std::size_t busy = 0;
    client.on_offer([&](ivrapi::Offer offer) {
        offer.accept([&](ivrapi::Result<ivrapi::Session> s) {
            if (s) {
                session = *s;
                // The bot: a digit -> the next prompt.
                session.on_dtmf([&](const ivrapi::DtmfEvent&) {
                    session.apply(play, [&](ivrapi::Result<ivrapi::ComponentStopped> r) {
                        // (the last one may be cut by client.stop() below)
                        if (!r && !r.error().is(ivrapi::Errc::stopped)) ++busy;
                    });
                });
            }
            claimed.set();
        });
    });
    client.start();
    check(client.wait_ready(10s), "SDK reaction: client not ready");
    check(client.request("bench_offer", ivrapi::Json::object({{"ivrid", "bench-1"}})).get().ok(),
          "SDK reaction: bench_offer failed");
    check(claimed.wait(10s) && static_cast<bool>(session), "SDK reaction: no session claimed");
    const std::size_t n = cfg.react_warmup + cfg.react_count;
    check(client.request("bench_react", ivrapi::Json::object({{"count", n}, {"ivrid", "bench-1"}})).get().ok(),
          "SDK reaction: bench_react failed");
    auto samples = server.take_reactions(n, std::chrono::milliseconds(60000 + n));
    check(samples.size() == n, "SDK reaction: " + std::to_string(samples.size()) + "/" + std::to_string(n));
    client.stop();
    check(busy == 0, "SDK reaction: " + std::to_string(busy) + " applies failed");
    return summarize_reactions(cfg, std::move(samples));
}

Reaction raw_reaction(const Config& cfg, bench::BenchServer& server) {
    const std::size_t n = cfg.react_warmup + cfg.react_count;
    const std::string request =
        "[\"bench_react\",{\"qid\":1,\"count\":" + std::to_string(n) + ",\"ivrid\":\"bench-1\"}]";
    std::uint64_t qid = 1;
    std::string frame;
    bench::RawClient client(
        {server.url(), "bench", cfg.ca}, [&](bench::RawClient& c) { c.send(request); },
        [&](bench::RawClient& c, std::string& payload) {
            rapidjson::Document doc;
            if (!parse_frame(doc, payload) || !name_is(doc[0], "ivrapi_dtmf")) return;
            const rapidjson::Value& body = doc[1];
            ++qid;
            frame = "[\"ivrapi_component_apply\",{\"qid\":" + std::to_string(qid) + ",\"key\":\"" +
                    str_of(body, "key") + "\",\"ivrid\":\"" + str_of(body, "ivrid") +
                    "\",\"data\":{\"oType\":204,\"file\":\":GS_PUB/bench/next.wav\",\"oId\":" + std::to_string(qid) +
                    "}}]";
            c.send(frame);
        });
    client.start();
    auto samples = server.take_reactions(n, std::chrono::milliseconds(60000 + n));
    check(samples.size() == n, "raw reaction: " + std::to_string(samples.size()) + "/" + std::to_string(n));
    client.stop();
    return summarize_reactions(cfg, std::move(samples));
}

// ------------------------------------------------------------------ 7: CPU per call
//
// The mock in one child process, the measured client in another: user + sys CPU of the
// client process (getrusage) from before the first offer to the last hand-back, over
// cfg.cpu_calls calls offered at cfg.cpu_rate/s. A call: offer, accept, three plays one
// after the other (each waits for its stopped event), hand-back (ivrapi_abort). The SDK
// runs it twice: through serve() (a blocking handler on a worker thread: each step
// crosses threads twice) and in callbacks on its I/O thread (as the raw client does).
// Context switches (getrusage: voluntary + involuntary) show where the difference goes.

enum class CpuStyle { raw, sdk_serve, sdk_callbacks };

struct CpuPerCall {
    double us_per_call = 0;
    double switches_per_call = 0;
    std::size_t calls = 0;
};

struct CpuUsage {
    double seconds = 0;   // user + sys
    double switches = 0;  // context switches, voluntary and involuntary
};

CpuUsage cpu_usage() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {sec(u.ru_utime) + sec(u.ru_stime), static_cast<double>(u.ru_nvcsw + u.ru_nivcsw)};
}

CpuPerCall run_cpu_per_call(const Config& cfg, CpuStyle style) {
    const bool sdk = style != CpuStyle::raw;
    MockChild mock = spawn_mock(cfg, 0ms);  // plays end at once: the bench measures the client
    const std::size_t n = cfg.cpu_calls;
    const std::string line = in_child([&]() -> std::string {
        bench::pin_this_thread(cfg.client_cpu);
        std::atomic<std::size_t> done{0};
        Latch all;
        auto call_done = [&] {
            if (done.fetch_add(1) + 1 == n) all.set();
        };
        std::unique_ptr<ivrapi::Client> client;
        std::unique_ptr<bench::RawClient> raw;
        // raw baseline: per call, its key and how many plays it has had.
        struct Call {
            std::string key;
            int plays = 0;
        };
        std::unordered_map<std::string, Call> calls;                // by ivrid
        std::unordered_map<std::uint64_t, std::string> by_request;  // accept/abort qid -> ivrid
        std::unordered_map<std::uint64_t, std::string> by_oid;      // play oId -> ivrid
        std::uint64_t next = 1;
        Latch ready;
        // Used by the raw client's handlers on its thread: declared here, outlive it.
        std::string frame;
        std::function<void(bench::RawClient&, const std::string&, const Call&)> play;
        std::function<void(bench::RawClient&, const char*, const std::string&, const Call&)> request;
        // SDK in callbacks: plays `left` more, then hands back.
        std::function<void(ivrapi::Session, int)> step;
        ivrapi::Play prompt;
        prompt.file = ":GS_PUB/bench/prompt.wav";
        if (style == CpuStyle::sdk_callbacks) {
            client = std::make_unique<ivrapi::Client>(sdk_options(mock.url, cfg.ca, "test-token", true));
            step = [&](ivrapi::Session session, int left) {
                if (left == 0) {
                    session.abort([&](ivrapi::Result<void> r) {
                        if (r) call_done();
                    });
                    return;
                }
                session.apply(prompt, [&, session, left](ivrapi::Result<ivrapi::ComponentStopped> r) {
                    if (r) step(session, left - 1);
                });
            };
            client->on_offer([&](ivrapi::Offer offer) {
                offer.accept([&](ivrapi::Result<ivrapi::Session> s) {
                    if (s) step(*s, 3);
                });
            });
            client->start();
            check(client->wait_ready(10s), "SDK cpu: client not ready");
        } else if (sdk) {
            client = std::make_unique<ivrapi::Client>(sdk_options(mock.url, cfg.ca, "test-token", true));
            ivrapi::ServeOptions so;
            so.max_concurrent = 256;
            so.wait_for_capacity = 20s;
            client->serve(
                [&](ivrapi::Session& s) {
                    ivrapi::Play play;
                    play.file = ":GS_PUB/bench/prompt.wav";
                    for (int i = 0; i < 3; ++i) {
                        if (!s.apply(play).get()) return;
                    }
                    if (s.abort().get()) call_done();
                },
                so);
            check(client->wait_ready(10s), "SDK cpu: client not ready");
        } else {
            play = [&](bench::RawClient& c, const std::string& ivrid, const Call& call) {
                const std::uint64_t q = next++;
                by_oid.emplace(q, ivrid);
                frame =
                    "[\"ivrapi_component_apply\",{\"qid\":" + std::to_string(q) + ",\"key\":\"" + call.key +
                    "\",\"ivrid\":\"" + ivrid +
                    "\",\"data\":{\"oType\":204,\"file\":\":GS_PUB/bench/prompt.wav\",\"oId\":" + std::to_string(q) +
                    "}}]";
                c.send(frame);
            };
            request = [&](bench::RawClient& c, const char* name, const std::string& ivrid, const Call& call) {
                const std::uint64_t q = next++;
                by_request.emplace(q, ivrid);
                c.send(session_request_frame(frame, name, q, call.key, ivrid));
            };
            raw = std::make_unique<bench::RawClient>(
                bench::RawClient::Options{mock.url, "test-token", cfg.ca},
                [&](bench::RawClient& c) { c.send(kRawSubscribe); },
                [&](bench::RawClient& c, std::string& payload) {
                    rapidjson::Document doc;
                    if (!parse_frame(doc, payload)) return;
                    const rapidjson::Value& body = doc[1];
                    if (const rapidjson::Value* data = api_start_data(doc)) {
                        std::string ivrid = str_of(*data, "ivrid");
                        auto& call = calls[ivrid];
                        call.key = str_of(*data, "key");
                        request(c, "ivrapi_accept", ivrid, call);
                    } else if (name_is(doc[0], "ivrapi_accept_result") || name_is(doc[0], "ivrapi_abort_result")) {
                        auto it = by_request.find(qid_of(body));
                        if (it == by_request.end()) return;
                        const std::string ivrid = std::move(it->second);
                        by_request.erase(it);
                        if (str_of(body, "result") != "ok") return;
                        if (name_is(doc[0], "ivrapi_abort_result")) {
                            calls.erase(ivrid);
                            call_done();
                            return;
                        }
                        play(c, ivrid, calls[ivrid]);
                    } else if (name_is(doc[0], "ivrapi_component_stopped")) {
                        auto o = body.FindMember("oId");
                        if (o == body.MemberEnd() || !o->value.IsUint64()) return;
                        auto it = by_oid.find(o->value.GetUint64());
                        if (it == by_oid.end()) return;
                        const std::string ivrid = std::move(it->second);
                        by_oid.erase(it);
                        auto& call = calls[ivrid];
                        if (++call.plays < 3) play(c, ivrid, call);
                        else request(c, "ivrapi_abort", ivrid, call);
                    } else if (name_is(doc[0], "subscribe_result")) {
                        ready.set();
                    }
                });
            raw->start();
            check(ready.wait(10s), "raw cpu: not subscribed");
        }
        const CpuUsage cpu0 = cpu_usage();
        const auto t0 = Clock::now();
        write_line(mock.to, "paced " + std::to_string(n) + " " + std::to_string(cfg.cpu_rate));
        check(all.wait(300s), "cpu: only " + std::to_string(done.load()) + "/" + std::to_string(n) + " calls done");
        const CpuUsage cpu1 = cpu_usage();
        const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
        const std::string answer = read_line(mock.from);
        std::ostringstream out;
        out << "ok " << (cpu1.seconds - cpu0.seconds) << ' ' << (cpu1.switches - cpu0.switches) << ' ' << wall << ' '
            << done.load() << ' ' << answer;
        return out.str();
    });
    write_line(mock.to, "quit");
    ::close(mock.to);
    ::close(mock.from);
    int status = 0;
    ::waitpid(mock.pid, &status, 0);
    std::istringstream in(line);
    std::string tag, mock_tag;
    double cpu = 0, switches = 0, wall = 0;
    std::size_t calls = 0, aborts = 0;
    in >> tag >> cpu >> switches >> wall >> calls >> mock_tag >> aborts;
    check(tag == "ok" && mock_tag == "ok", std::string(sdk ? "SDK" : "raw") + " cpu: " + line);
    return {cpu * 1e6 / static_cast<double>(n), switches / static_cast<double>(n), calls};
}

// ------------------------------------------------------------------ --sizes
//
// What one controlled session is made of (the memory table in bench/notes.md): sizeof of
// each part and what it takes: a block of the session pool (client/slab_pool.hpp: size
// rounded up to 16) or its share of a vector. "-" for parts inside another.

std::size_t pool_block(std::size_t n) { return (n + 15) / 16 * 16; }

void print_sizes() {
    using ivrapi::detail::SessionState;
    enum class From { pool, vector, inside };
    struct Part {
        const char* what;
        std::size_t size;
        From from;
    };
    // allocate_shared puts the object behind a 16-byte control block.
    const Part parts[] = {
        {"SessionState (allocate_shared, pool)", sizeof(SessionState) + 16, From::pool},
        {"  of which the offer's record (ivrid, key, numbers)", sizeof(ivrapi::detail::OfferRecord), From::inside},
        {"  of which SessionState::Running (optional)", sizeof(std::optional<SessionState::Running>), From::inside},
        {"  of which on_dtmf + on_end handlers", 2 * sizeof(std::function<void()>), From::inside},
        {"  of which dtmf_backlog (empty vector)", sizeof(std::vector<ivrapi::DtmfEvent>), From::inside},
        {"session map node (string_view key, shared_ptr, next, hash; pool)",
         sizeof(std::pair<const std::string_view, std::shared_ptr<SessionState>>) + 16, From::pool},
        {"oId index node (int64 key, weak_ptr, next; pool)",
         sizeof(std::pair<const std::int64_t, std::weak_ptr<SessionState>>) + 8, From::pool},
        {"component deadline (an entry of one vector, a min-heap)",
         sizeof(std::pair<std::chrono::steady_clock::time_point, std::int64_t>), From::vector},
    };
    std::printf("%-66s %6s %6s\n", "part", "sizeof", "takes");
    for (const auto& p : parts) {
        if (p.from == From::inside) {
            std::printf("%-66s %6zu %6s\n", p.what, p.size, "-");
        } else {
            std::printf("%-66s %6zu %6zu\n", p.what, p.size, p.from == From::pool ? pool_block(p.size) : p.size);
        }
    }
    std::printf("%-66s %6s %6s\n", "the offer's packed text (callid, cid, sm_id, ...; pool)", "var", "var");
}

// ------------------------------------------------------------------ report

struct Row {
    std::string bench, metric, sdk, raw, ratio, target, met;
};

std::string fmt(double v, int prec = 1) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}
std::string fmt_int(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.0f", v);
    std::string s = b, out;
    int k = 0;
    for (auto it = s.rbegin(); it != s.rend(); ++it, ++k) {
        if (k && k % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
        out.insert(out.begin(), *it);
    }
    return out;
}

std::string met(bool ok) { return ok ? "yes" : "**no**"; }

// "median (min–max)".
std::string show(const Spread& s, int prec) {
    auto f = [&](double v) { return prec == 0 ? fmt_int(v) : fmt(v, prec); };
    return f(s.median) + " (" + f(s.lo) + "–" + f(s.hi) + ")";
}

// The load averages at the end of the run (the machine is shared).
std::string load_text() {
    std::ifstream f("/proc/loadavg");
    double a = 0, b = 0, c = 0;
    f >> a >> b >> c;
    return "load average " + fmt(a, 2) + ", " + fmt(b, 2) + ", " + fmt(c, 2) + " (1, 5, 15 min) at the end of the run";
}

std::string now_text() {
    std::time_t t = std::time(nullptr);
    char b[64];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M %Z", std::localtime(&t));
    return b;
}

void print_table(std::ostream& os, const std::vector<Row>& rows, bool markdown) {
    const std::vector<std::string> head = {"Bench", "Metric", "SDK", "raw websocketpp", "SDK/raw", "Target", "Met"};
    auto cells = [](const Row& r) {
        return std::vector<std::string>{r.bench, r.metric, r.sdk, r.raw, r.ratio, r.target, r.met};
    };
    if (markdown) {
        os << "|";
        for (auto& h : head) os << ' ' << h << " |";
        os << "\n|";
        for (std::size_t i = 0; i < head.size(); ++i) os << (i >= 2 && i <= 4 ? "---:|" : "---|");
        os << "\n";
        for (auto& r : rows) {
            os << "|";
            for (auto& c : cells(r)) os << ' ' << c << " |";
            os << "\n";
        }
        return;
    }
    // Display width: UTF-8 code points (µ, →, ≤ are one column each).
    auto width = [](const std::string& s) {
        std::size_t n = 0;
        for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
        return n;
    };
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) w[i] = width(head[i]);
    for (auto& r : rows) {
        auto c = cells(r);
        for (std::size_t i = 0; i < c.size(); ++i) w[i] = std::max(w[i], width(c[i]));
    }
    auto line = [&](const std::vector<std::string>& c) {
        for (std::size_t i = 0; i < c.size(); ++i) {
            os << c[i];
            if (i + 1 < c.size()) os << std::string(w[i] - width(c[i]) + 2, ' ');
        }
        os << "\n";
    };
    line(head);
    for (auto& r : rows) line(cells(r));
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a != "--report" && a != "--machine" &&
            (i == 1 || (std::string(argv[i - 1]) != "--report" && std::string(argv[i - 1]) != "--machine"))) {
            cfg.args += (cfg.args.empty() ? "" : " ") + a;
        }
        if (a == "--sizes") {
            print_sizes();
            return 0;
        }
        if (a == "--smoke") cfg.smoke = true;
        else if (a == "--report") cfg.report = value();
        else if (a == "--machine") cfg.machine = value();
        else if (a == "--client-cpu") cfg.client_cpu = std::stoi(value());
        else if (a == "--server-cpu") cfg.server_cpu = std::stoi(value());
        else if (a == "--scale") cfg.scale_count = std::stoul(value());
        else if (a == "--only") cfg.only = value();
        else if (a == "--push") cfg.push_count = std::stoul(value());
        else if (a == "--case") cfg.dispatch_case = value();
        else if (a == "--reps") cfg.reps = std::stoul(value());
        else if (a == "--flat-only") cfg.paced_dispatch = false;
        else if (a == "--sdk-extra-ns") cfg.sdk_extra = std::chrono::nanoseconds(std::stol(value()));
        else {
            std::cerr << "usage: ivrapi_bench [--smoke] [--report FILE] [--machine TEXT] [--client-cpu N] "
                         "[--server-cpu N] [--scale N] [--push N] [--reps N] [--flat-only] [--sdk-extra-ns N] "
                         "[--only rt|decode|dispatch|claim|scale|react|cpu] [--case ws|wss[-dtmf|-notify]]\n";
            return 2;
        }
    }
    if (cfg.smoke) {
        cfg.reps = 1;
        cfg.rt_warmup = 20;
        cfg.rt_count = 200;
        cfg.push_count = 2000;
        cfg.decode_count = 2000;
        cfg.claim_count = 50;
        cfg.fast_claim_count = 50;
        cfg.scale_count = 100;
        cfg.react_warmup = 5;
        cfg.react_count = 50;
        cfg.cpu_calls = 20;
        cfg.cpu_rate = 200;
    }
    if (std::thread::hardware_concurrency() < 2) cfg.server_cpu = cfg.client_cpu;
    if (!bench::pin_this_thread(cfg.client_cpu)) std::cerr << "warning: cannot pin to CPU " << cfg.client_cpu << "\n";

    std::vector<Row> rows;
    try {
        auto want = [&](const char* name) { return cfg.only.empty() || cfg.only == name; };
        auto rep_line = [&](const std::string& what, std::size_t r, const std::string& sdk, const std::string& raw) {
            std::cerr << what << " rep " << (r + 1) << "/" << cfg.reps << ": SDK " << sdk << ", raw " << raw << "\n";
        };
        // A row whose SDK, raw and ratio cells show the median and the spread of the reps.
        auto row = [&](const std::string& bench, const std::string& metric, const std::vector<double>& sdk,
                       const std::vector<double>& raw, int prec, const std::string& target,
                       const std::function<bool(double)>& ok) {
            const Spread r = spread_of(ratios(sdk, raw));
            rows.push_back({bench, metric, show(spread_of(sdk), prec), show(spread_of(raw), prec),
                            raw.empty() ? "" : show(r, 2), target, ok ? met(ok(r.median)) : ""});
        };
        // 1 + 5: round trip
        for (bool tls : {false, true}) {
            if (!want("rt")) break;
            const char* scheme = tls ? "wss" : "ws";
            // --case ws|wss (or a dispatch case of that scheme) runs that scheme alone.
            const std::string& only = cfg.dispatch_case;
            if (!only.empty() && only != scheme && only.rfind(std::string(scheme) + "-", 0) != 0) continue;
            bench::BenchServer server(tls, cfg.cert, cfg.key, cfg.server_cpu);
            std::vector<double> raw50, raw99, sdk50, sdk99;
            for (std::size_t r = 0; r < cfg.reps; ++r) {
                Rtt a, b;
                in_turn(
                    r, [&] { a = raw_round_trip(cfg, server.url()); }, [&] { b = sdk_round_trip(cfg, server.url()); });
                const std::size_t expect = cfg.rt_warmup + cfg.rt_count;
                check(a.exchanged == expect && b.exchanged == expect, "round trip: wrong message count");
                raw50.push_back(a.p50), raw99.push_back(a.p99), sdk50.push_back(b.p50), sdk99.push_back(b.p99);
                rep_line(std::string(scheme) + " round trip median µs", r, fmt(b.p50), fmt(a.p50));
            }
            const std::string b = std::string(tls ? "5. " : "1. ") + "round trip " + scheme;
            row(b, "median µs", sdk50, raw50, 1, "≤ 1.05", [](double x) { return x <= 1.05; });
            row(b, "p99 µs", sdk99, raw99, 1, "", nullptr);
        }
        // 2b: decode alone
        if ((want("dispatch") && cfg.dispatch_case.empty()) || want("decode")) {
            const std::vector<std::pair<std::string, std::string>> frames = {
                {"ivrapi_dtmf",
                 "[\"ivrapi_dtmf\",{\"key\":\"k-bench-1\",\"ivrid\":\"bench-1\",\"mode\":\"component\","
                 "\"oId\":1,\"dtmf\":\"5\",\"callid\":\"c1@127.0.0.1-0000\"}]"},
                {"notify",
                 "[\"notify\",{\"class\":\"callevents\",\"type\":\"sm_start\",\"eventts\":1700000000000,"
                 "\"data\":{\"ivrid\":\"bench-1\",\"sm_id\":\"0b7c9d6e-5a4f-4e3b-9c2d-1a0f8e7d6c5b\"}}]"},
                // The bench server's round-trip reply.
                {"connection_info_result",
                 "[\"connection_info_result\",{\"qid\":12345,\"site\":\"main_site\",\"ownertype\":\"domain\","
                 "\"domain\":\"bench.local\",\"sessionid\":\"s-0001\",\"capabilities\":[\"ivrapi\",\"subscr\"]}]"},
                // An offer: the spec's example with state (params is JSON in a string).
                {"api_start",
                 "[\"notify\",{\"class\":\"ivrevents\",\"type\":\"api_start\",\"eventts\":1602002803754,"
                 "\"data\":{\"callid\":\"rB2-002-SuDtIE-01-2582368067@192.168.0.149\","
                 "\"cid\":\"267278f0-0642-00af-0ac9-b80000000006\",\"componentid\":14,"
                 "\"componentname\":\"External management 3\",\"ivrid\":\"rDlg-006-ZevQbP\","
                 "\"ivrts\":1602002800707,\"key\":\"abc\",\"params\":\"{\\\"asdf\\\":\\\"zxcv\\\"}\","
                 "\"sm_id\":\"f9098ae9-0642-00af-0ad1-880000000006\",\"state\":\"incoming\"}}]"},
                // A component's end, as the mock sends it after a collect.
                {"ivrapi_component_stopped",
                 "[\"ivrapi_component_stopped\",{\"oId\":3,\"transferKey\":\"transfer\","
                 "\"results\":{\"dtmfBuffer\":\"78\"}}]"}};
            const std::size_t n = cfg.decode_count;
            for (const auto& [kind, frame] : frames) {
                std::vector<double> sdk, raw;
                for (std::size_t r = 0; r < cfg.reps; ++r) {
                    const DecodeCost c = decode_cost(frame, n);
                    sdk.push_back(c.sdk_ns), raw.push_back(c.raw_ns);
                }
                row("2b. decode alone (no network)", kind + ", ns per frame", sdk, raw, 0, "", nullptr);
            }
        }
        // 2 + 5: dispatch
        for (bool tls : {false, true}) {
            if (!want("dispatch")) break;
            const std::string scheme = tls ? "wss" : "ws";
            const auto skipped = [&](const std::string& kind) {
                return !cfg.dispatch_case.empty() && cfg.dispatch_case != scheme + "-" + kind;
            };
            if (skipped("dtmf") && skipped("notify")) continue;
            bench::BenchServer server(tls, cfg.cert, cfg.key, cfg.server_cpu);
            for (const std::string kind : {"dtmf", "notify"}) {
                if (skipped(kind)) continue;
                const std::string event = kind == "dtmf" ? "ivrapi_dtmf → on_dtmf" : "notify → on_notify";
                const std::string bench_name = std::string(tls ? "5. " : "2. ") + "dispatch " + scheme;
                // Flat out, then paced: flat out, the client that is faster in user space
                // drains the socket sooner and reads smaller batches, more often (more
                // kernel time per event); paced, both read the same batches.
                for (const bool paced : {false, true}) {
                    if (paced && !cfg.paced_dispatch) continue;
                    const Pacing pacing = paced ? Pacing{20, 200} : Pacing{};
                    const std::size_t total = paced ? std::max<std::size_t>(cfg.push_count / 2, 1) : cfg.push_count;
                    const std::string label = std::string(scheme) + " dispatch " + kind + (paced ? " paced" : "");
                    std::vector<double> raws, sdks, raw_cpu, sdk_cpu, raw_sys, sdk_sys;
                    for (std::size_t r = 0; r < cfg.reps; ++r) {
                        const auto [b, a] = dispatch_rep(cfg, server.url(), kind, r, total, pacing);
                        check(a.events == total && b.events == total, "dispatch: wrong event count");
                        raws.push_back(a.per_s / 1000), sdks.push_back(b.per_s / 1000);
                        raw_cpu.push_back(a.cpu_ns_per_event), sdk_cpu.push_back(b.cpu_ns_per_event);
                        raw_sys.push_back(a.sys_ns_per_event), sdk_sys.push_back(b.sys_ns_per_event);
                        if (!paced) rep_line(label + " k/s", r, fmt(b.per_s / 1000, 0), fmt(a.per_s / 1000, 0));
                        rep_line(label + " client CPU ns/event", r, fmt(b.cpu_ns_per_event, 0),
                                 fmt(a.cpu_ns_per_event, 0));
                        rep_line(label + " client kernel ns/event", r, fmt(b.sys_ns_per_event, 0),
                                 fmt(a.sys_ns_per_event, 0));
                        rep_line(label + " client waits per 1k events", r, fmt(b.waits_per_k, 1),
                                 fmt(a.waits_per_k, 1));
                    }
                    const std::string what = paced ? event + ", paced 100k/s in bursts of 20" : event;
                    if (!paced) {
                        row(bench_name, what + ", k events/s", sdks, raws, 0, "≥ 1.00",
                            [](double x) { return x >= 1.0; });
                    }
                    row(bench_name, what + ", client thread CPU ns per event", sdk_cpu, raw_cpu, 0, "≤ 1.00",
                        [](double x) { return x <= 1.0; });
                    // getrusage splits user and kernel time by the ticks it sampled: coarse,
                    // so only over the flat-out runs' ~0.2 s per chunk pair.
                    if (!paced)
                        row(bench_name, what + ", of which kernel ns per event", sdk_sys, raw_sys, 0, "", nullptr);
                }
            }
        }
        // 3: claim rate — the mock's own capacity first, then 1,000/s and 5,000/s.
        if (want("claim")) {
            {
                std::vector<double> offered, claimed;
                for (std::size_t r = 0; r < cfg.reps; ++r) {
                    const Claim m = mock_capacity(cfg, cfg.fast_claim_count);
                    check(m.claimed == cfg.fast_claim_count, "mock capacity: claims lost");
                    offered.push_back(m.offered_per_s), claimed.push_back(m.claimed_per_s);
                    std::cerr << "mock capacity rep " << (r + 1) << ": offered " << fmt_int(m.offered_per_s)
                              << "/s, claimed " << fmt_int(m.claimed_per_s) << "/s\n";
                }
                const std::string b = "3. mock alone (raw client, calls started flat out)";
                rows.push_back({b, "calls offered/s", "", show(spread_of(offered), 0), "", "", ""});
                rows.push_back({b, "offers claimed/s", "", show(spread_of(claimed), 0), "", "", ""});
            }
            for (const auto& [count, rate] :
                 {std::pair<std::size_t, std::size_t>{cfg.claim_count, cfg.claim_rate},
                  std::pair<std::size_t, std::size_t>{cfg.fast_claim_count, cfg.fast_claim_rate}}) {
                std::vector<double> rp50, rp99, rmax, rrate, sp50, sp99, smax, srate, rstall, sstall;
                std::vector<double> rclear, sclear, rshare, sshare;
                for (std::size_t r = 0; r < cfg.reps; ++r) {
                    const auto [sdk, raw] = claim_rep(cfg, count, rate, r);
                    check(raw.claimed == count && sdk.claimed == count,
                          "claim: SDK claimed " + std::to_string(sdk.claimed) + ", raw " + std::to_string(raw.claimed) +
                              " of " + std::to_string(count));
                    rp50.push_back(raw.p50_us), rp99.push_back(raw.p99_us), rmax.push_back(raw.max_us / 1000);
                    sp50.push_back(sdk.p50_us), sp99.push_back(sdk.p99_us), smax.push_back(sdk.max_us / 1000);
                    rrate.push_back(raw.claimed_per_s), srate.push_back(sdk.claimed_per_s);
                    rstall.push_back(raw.stall_us / 1000), sstall.push_back(sdk.stall_us / 1000);
                    rclear.push_back(raw.clear_max_us / 1000), sclear.push_back(sdk.clear_max_us / 1000);
                    rshare.push_back(raw.clear_share * 100), sshare.push_back(sdk.clear_share * 100);
                    rep_line("claim @" + std::to_string(rate) + "/s p99 µs", r, fmt(sdk.p99_us), fmt(raw.p99_us));
                }
                const std::string b = "3. claim from mock @ " + fmt_int(static_cast<double>(rate)) + "/s";
                row(b, "offers claimed/s", srate, rrate, 0, "", nullptr);
                row(b, "offer → accepted p50 µs", sp50, rp50, 1, "", nullptr);
                row(b, "offer → accepted p99 µs", sp99, rp99, 1, "≤ 1.25", [](double x) { return x <= 1.25; });
                const Spread m = spread_of(smax);
                rows.push_back({b, "offer → accepted max ms", show(m, 2), show(spread_of(rmax), 2), "", "≤ 2 ms",
                                met(m.median <= 2.0)});
                rows.push_back({b, "machine stall during the run (idle 1 ms timer, worst lateness) ms",
                                show(spread_of(sstall), 2), show(spread_of(rstall), 2), "", "", ""});
                // Judged only when the stalls left most offers to judge by (a run that was
                // all stall would otherwise read 0 ms, met).
                const Spread clear = spread_of(sclear);
                const Spread share = spread_of(sshare);
                rows.push_back({b, "offer → accepted max ms, offers clear of a machine stall", show(clear, 2),
                                show(spread_of(rclear), 2), "", "≤ 2 ms",
                                met(clear.median <= 2.0 && share.median >= 90)});
                rows.push_back(
                    {b, "offers clear of a machine stall (wait overlapped no window of a probe late > 0.5 ms) %",
                     show(share, 1), show(spread_of(rshare), 1), "", "", ""});
            }
        }
        // 4: scale
        if (want("scale")) {
            std::vector<double> sb, rb, sms, rms, sh, rh;
            for (std::size_t r = 0; r < cfg.reps; ++r) {
                const Scale raw = run_scale(cfg, false);
                const Scale sdk = run_scale(cfg, true);
                check(raw.sessions == cfg.scale_count && sdk.sessions == cfg.scale_count &&
                          raw.plays == cfg.scale_count && sdk.plays == cfg.scale_count,
                      "scale: wrong session or play count");
                sb.push_back(sdk.bytes_per_session), rb.push_back(raw.bytes_per_session);
                sh.push_back(sdk.heap_per_session), rh.push_back(raw.heap_per_session);
                sms.push_back(sdk.claim_ms), rms.push_back(raw.claim_ms);
                rep_line("scale bytes/session", r, fmt_int(sdk.bytes_per_session), fmt_int(raw.bytes_per_session));
            }
            const std::string b = "4. scale: " + fmt_int(static_cast<double>(cfg.scale_count)) + " sessions playing";
            const Spread m = spread_of(sb);
            rows.push_back({b, "resident bytes per session", show(m, 0), show(spread_of(rb), 0), "", "≤ 1,024",
                            met(m.median <= 1024)});
            rows.push_back({b, "heap in use per session (malloc with headers + session pool)", show(spread_of(sh), 0),
                            show(spread_of(rh), 0), "", "", ""});
            row(b, "time to claim all, ms", sms, rms, 0, "", nullptr);
        }
        // 6: reaction time
        for (bool tls : {false, true}) {
            if (!want("react")) break;
            const char* scheme = tls ? "wss" : "ws";
            bench::BenchServer server(tls, cfg.cert, cfg.key, cfg.server_cpu);
            std::vector<double> r50, r99, s50, s99;
            for (std::size_t r = 0; r < cfg.reps; ++r) {
                Reaction a, b;
                in_turn(
                    r, [&] { a = raw_reaction(cfg, server); }, [&] { b = sdk_reaction(cfg, server); });
                r50.push_back(a.p50), r99.push_back(a.p99), s50.push_back(b.p50), s99.push_back(b.p99);
                rep_line(std::string(scheme) + " reaction median µs", r, fmt(b.p50), fmt(a.p50));
            }
            const std::string b = std::string("6. reaction ") + scheme + " (dtmf → apply on the wire)";
            row(b, "median µs", s50, r50, 1, "", nullptr);
            row(b, "p99 µs", s99, r99, 1, "", nullptr);
        }
        // 7: CPU per call
        if (want("cpu")) {
            std::vector<double> s, sc, r, s_sw, sc_sw, r_sw;
            for (std::size_t i = 0; i < cfg.reps; ++i) {
                const CpuPerCall raw = run_cpu_per_call(cfg, CpuStyle::raw);
                const CpuPerCall serve = run_cpu_per_call(cfg, CpuStyle::sdk_serve);
                const CpuPerCall callbacks = run_cpu_per_call(cfg, CpuStyle::sdk_callbacks);
                check(raw.calls == cfg.cpu_calls && serve.calls == cfg.cpu_calls && callbacks.calls == cfg.cpu_calls,
                      "cpu: wrong call count");
                s.push_back(serve.us_per_call), sc.push_back(callbacks.us_per_call), r.push_back(raw.us_per_call);
                s_sw.push_back(serve.switches_per_call), sc_sw.push_back(callbacks.switches_per_call);
                r_sw.push_back(raw.switches_per_call);
                rep_line("CPU µs per call (serve)", i, fmt(serve.us_per_call), fmt(raw.us_per_call));
                rep_line("CPU µs per call (callbacks)", i, fmt(callbacks.us_per_call), fmt(raw.us_per_call));
            }
            const std::string calls = fmt_int(static_cast<double>(cfg.cpu_calls)) + " calls";
            row("7. CPU per call (" + calls + " via serve)", "user+sys µs per call", s, r, 1, "", nullptr);
            row("7. CPU per call (" + calls + " via serve)", "context switches per call", s_sw, r_sw, 1, "", nullptr);
            row("7. CPU per call (" + calls + ", callbacks on the I/O thread)", "user+sys µs per call", sc, r, 1, "",
                nullptr);
            row("7. CPU per call (" + calls + ", callbacks on the I/O thread)", "context switches per call", sc_sw,
                r_sw, 1, "", nullptr);
        }
    } catch (const std::exception& e) {
        std::cerr << "BENCH FAILED: " << e.what() << "\n";
        return 1;
    }

    print_table(std::cout, rows, false);
    if (cfg.smoke) {
        std::cout << "bench smoke: every bench ran and exchanged the expected messages\n";
        return 0;
    }
    if (!cfg.report.empty()) {
        std::ofstream md(cfg.report);
        md << "# Performance\n\n"
           << "Generated by `scripts/bench.sh` (do not edit by hand; the notes at the end come from "
              "`bench/notes.md`).\n\n"
           << "- Machine: " << (cfg.machine.empty() ? "unknown" : cfg.machine) << "\n"
           << "- Compiler: " << IVRAPI_BENCH_COMPILER << ", Release (-O3)\n"
           << "- Date: " << now_text() << "\n"
           << "- Placement: client threads on CPU " << cfg.client_cpu << ", server/mock threads on CPU "
           << cfg.server_cpu << " (SDK and raw baseline alike)\n"
           << "- Every bench: median of " << cfg.reps
           << " repetitions with their spread (min–max) in brackets, SDK and raw alternating in the same "
              "run; SDK/raw is the median (and spread) of the per-repetition ratios\n"
           << "- Load: " << load_text() << "\n"
           << "- Command: `scripts/bench.sh" << (cfg.args.empty() ? "" : " " + cfg.args) << "`\n"
           << "- Counts: round trip " << fmt_int(static_cast<double>(cfg.rt_count)) << " (after "
           << fmt_int(static_cast<double>(cfg.rt_warmup)) << " warm-up); decode alone "
           << fmt_int(static_cast<double>(cfg.decode_count)) << " per frame; dispatch "
           << fmt_int(static_cast<double>(cfg.push_count)) << " frames of ~150 bytes flat out and "
           << fmt_int(static_cast<double>(std::max<std::size_t>(cfg.push_count / 2, 1)))
           << " paced (bursts of 20 every 200 µs); claim " << fmt_int(static_cast<double>(cfg.claim_count))
           << " calls at " << fmt_int(static_cast<double>(cfg.claim_rate)) << "/s and "
           << fmt_int(static_cast<double>(cfg.fast_claim_count)) << " at "
           << fmt_int(static_cast<double>(cfg.fast_claim_rate)) << "/s; scale "
           << fmt_int(static_cast<double>(cfg.scale_count)) << " sessions; reaction "
           << fmt_int(static_cast<double>(cfg.react_count)) << " (after " << cfg.react_warmup
           << " warm-up); CPU per call " << fmt_int(static_cast<double>(cfg.cpu_calls)) << " calls at "
           << fmt_int(static_cast<double>(cfg.cpu_rate)) << "/s\n\n";
        print_table(md, rows, true);
        md << "\n";
    }
    return 0;
}
