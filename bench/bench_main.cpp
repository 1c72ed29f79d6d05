// ivrapi_bench: the SDK measured against raw websocketpp, side by side in one run.
//
//   1. request round trip (ws)        SDK Client::request vs raw websocketpp + RapidJSON
//   2. event dispatch (ws)            ivrapi_dtmf -> Session::on_dtmf, notify -> on_notify
//   3. claim rate from the mock       steady 1,000 calls/s, offer -> accepted latency
//   4. scale                          10,000 sessions each running a long play
//   5. wss variants of 1 and 2
//
// Client threads run on CPU 0, server threads on CPU 1, for the SDK and the raw baseline
// alike (threads inherit the affinity of the thread that creates them).
//
//   ivrapi_bench [--smoke] [--report FILE] [--machine TEXT] [--client-cpu N] [--server-cpu N]
//
// --smoke: tiny counts; checks every bench ran and exchanged the expected number of
// messages (exit 1 otherwise), no timing checks. Used by CTest (bench_smoke).
#include "wspp_bench.hpp"

#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <rapidjson/document.h>

#include <malloc.h>
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
#include <iostream>
#include <mutex>
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

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double us_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
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
    std::size_t claim_count = 10000, claim_rate = 1000;
    std::size_t scale_count = 10000;
    std::string report;
    std::string machine;
    std::string only;  // run one bench: rt, dispatch, claim, scale
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
};

Dispatch sdk_dispatch(const Config& cfg, const std::string& url, const std::string& kind) {
    ivrapi::Client client(sdk_options(url, cfg.ca, "bench", false));
    const std::size_t n = cfg.push_count;
    std::size_t count = 0, checksum = 0;
    Clock::time_point first, last;
    Latch all, claimed;
    ivrapi::Session session;
    auto on_event = [&](std::size_t v) {
        checksum += v;
        if (++count == 1) first = Clock::now();
        if (count == n) {
            last = Clock::now();
            all.set();
        }
    };
    client.on_notify([&](const ivrapi::NotifyEvent& e) { on_event(e.type.size() == 8 ? 1 : 0); });
    client.on_offer([&](ivrapi::Offer offer) {
        offer.accept([&](ivrapi::Result<ivrapi::Session> s) {
            if (s) {
                session = *s;
                session.on_dtmf([&](const ivrapi::DtmfEvent& e) { on_event(e.dtmf.size()); });
            }
            claimed.set();
        });
    });
    client.start();
    check(client.wait_ready(10s), "SDK dispatch: client not ready");
    if (kind == "dtmf") {
        // DTMF goes to a session: claim one from the bench server first.
        auto r = client.request("bench_offer", ivrapi::Json::object({{"ivrid", "bench-1"}})).get();
        check(r.ok(), "SDK dispatch: bench_offer failed");
        check(claimed.wait(10s) && static_cast<bool>(session), "SDK dispatch: no session claimed");
    }
    auto push =
        client.request("bench_push", ivrapi::Json::object({{"count", n}, {"kind", kind}, {"ivrid", "bench-1"}}));
    check(all.wait(std::chrono::milliseconds(60000 + n / 10)),
          "SDK dispatch " + kind + ": " + std::to_string(count) + "/" + std::to_string(n) + " events arrived");
    check(push.get().ok(), "SDK dispatch: bench_push failed");
    client.stop();
    check(checksum == n, "SDK dispatch: wrong event contents");
    (void)checksum;
    return {static_cast<double>(n - 1) / std::chrono::duration<double>(last - first).count(), count};
}

Dispatch raw_dispatch(const Config& cfg, const std::string& url, const std::string& kind) {
    const std::size_t n = cfg.push_count;
    std::size_t count = 0, checksum = 0;
    Clock::time_point first, last;
    Latch all;
    const std::string request = "[\"bench_push\",{\"qid\":1,\"count\":" + std::to_string(n) + ",\"kind\":\"" + kind +
                                "\",\"ivrid\":\"bench-1\"}]";
    bench::RawClient client(
        {url, "bench", cfg.ca}, [&](bench::RawClient& c) { c.send(request); },
        [&](bench::RawClient&, std::string& payload) {
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
            checksum += v;
            if (++count == 1) first = Clock::now();
            if (count == n) {
                last = Clock::now();
                all.set();
            }
        });
    client.start();
    check(all.wait(std::chrono::milliseconds(60000 + n / 10)),
          "raw dispatch " + kind + ": " + std::to_string(count) + "/" + std::to_string(n) + " events arrived");
    client.stop();
    check(checksum == n, "raw dispatch: wrong event contents");
    return {static_cast<double>(n - 1) / std::chrono::duration<double>(last - first).count(), count};
}

// ------------------------------------------------------------------ 3: claim rate

struct Claim {
    double offered_per_s = 0;  // rate the pacer achieved
    double claimed_per_s = 0;
    double p50_us = 0, p99_us = 0, max_us = 0;
    std::size_t claimed = 0, failed = 0;
};

// Fills the figures of a finished claim run (SDK and raw alike).
void summarize(Claim& c, std::size_t claimed, std::size_t failed, Clock::time_point first, Clock::time_point last,
               const std::vector<double>& lat) {
    c.claimed = claimed;
    c.failed = failed;
    c.claimed_per_s =
        static_cast<double>(claimed) / std::max(1e-9, std::chrono::duration<double>(last - first).count());
    c.p50_us = percentile(lat, 0.5);
    c.p99_us = percentile(lat, 0.99);
    c.max_us = percentile(lat, 1.0);
}

// Starts `n` calls at a steady `rate` from a thread on the server's CPU.
double pace_calls(const Config& cfg, ivrapi::mock::Server& server, std::size_t n, std::size_t rate) {
    double achieved = 0;
    std::thread pacer([&] {
        bench::pin_this_thread(cfg.server_cpu);
        const auto period = std::chrono::nanoseconds(1000000000LL / static_cast<long long>(rate));
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i) {
            std::this_thread::sleep_until(t0 + period * static_cast<long long>(i));  // pacing, not sync
            ivrapi::mock::CallOptions co;
            co.hangup_after = 200ms;  // calls end, as real ones do: ~200 live at a time
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

Claim sdk_claim(const Config& cfg) {
    auto server = make_mock(cfg, 1000ms);
    ivrapi::Client client(sdk_options(server->url(), cfg.ca, server->options().token, true));
    const std::size_t n = cfg.claim_count;
    std::vector<double> lat;
    lat.reserve(n);
    std::size_t claimed = 0, failed = 0;
    Clock::time_point first, last;
    Latch all;
    client.on_offer([&](ivrapi::Offer offer) {
        const auto arrived = Clock::now();
        if (claimed + failed == 0 && lat.empty()) first = arrived;
        offer.accept([&, arrived](ivrapi::Result<ivrapi::Session> s) {
            const auto t = Clock::now();
            if (s) {
                ++claimed;
                lat.push_back(us_between(arrived, t));
            } else {
                ++failed;
            }
            if (claimed + failed == n) {
                last = t;
                all.set();
            }
        });
    });
    client.start();
    check(client.wait_ready(10s), "SDK claim: client not ready");
    Claim c;
    c.offered_per_s = pace_calls(cfg, *server, n, cfg.claim_rate);
    check(all.wait(60s),
          "SDK claim: " + std::to_string(claimed + failed) + "/" + std::to_string(n) + " offers answered");
    client.stop();
    summarize(c, claimed, failed, first, last, lat);
    return c;
}

// The same claim loop written directly on websocketpp + RapidJSON.
Claim raw_claim(const Config& cfg) {
    auto server = make_mock(cfg, 1000ms);
    const std::size_t n = cfg.claim_count;
    std::vector<double> lat;
    lat.reserve(n);
    std::unordered_map<std::uint64_t, Clock::time_point> in_flight;
    std::uint64_t next_qid = 1;
    std::size_t claimed = 0, failed = 0, offers = 0;
    Clock::time_point first, last;
    Latch ready, all;
    std::string frame;
    bench::RawClient client(
        {server->url(), server->options().token, cfg.ca},
        [&](bench::RawClient& c) {
            c.send(
                "[\"subscribe\",{\"qid\":0,\"objects\":\"any\",\"events\":[\"ivrevents.api_start\","
                "\"ivrevents.api_stop\"],\"expires\":3600,\"id\":\"raw-bench\"}]");
        },
        [&](bench::RawClient& c, std::string& payload) {
            rapidjson::Document doc;
            if (!parse_frame(doc, payload)) return;
            const rapidjson::Value& body = doc[1];
            if (name_is(doc[0], "notify")) {
                auto d = body.FindMember("data");
                if (str_of(body, "type") != "api_start" || d == body.MemberEnd() || !d->value.IsObject()) return;
                const auto arrived = Clock::now();
                if (offers++ == 0) first = arrived;
                const std::uint64_t q = next_qid++;
                frame = "[\"ivrapi_accept\",{\"qid\":" + std::to_string(q) + ",\"key\":\"" + str_of(d->value, "key") +
                        "\",\"ivrid\":\"" + str_of(d->value, "ivrid") + "\"}]";
                in_flight.emplace(q, arrived);
                c.send(frame);
            } else if (name_is(doc[0], "ivrapi_accept_result")) {
                const auto t = Clock::now();
                auto it = in_flight.find(qid_of(body));
                if (it == in_flight.end()) return;
                if (str_of(body, "result") == "ok") {
                    ++claimed;
                    lat.push_back(us_between(it->second, t));
                } else {
                    ++failed;
                }
                in_flight.erase(it);
                if (claimed + failed == n) {
                    last = t;
                    all.set();
                }
            } else if (name_is(doc[0], "subscribe_result")) {
                ready.set();
            }
        });
    client.start();
    check(ready.wait(10s), "raw claim: not subscribed");
    Claim c;
    c.offered_per_s = pace_calls(cfg, *server, n, cfg.claim_rate);
    check(all.wait(60s),
          "raw claim: " + std::to_string(claimed + failed) + "/" + std::to_string(n) + " offers answered");
    client.stop();
    summarize(c, claimed, failed, first, last, lat);
    return c;
}

// ------------------------------------------------------------------ 4: scale
//
// The mock platform runs in a child process (its 10,000 calls must not count in the
// client's memory), the measured client in another child (a clean heap each).

struct Scale {
    double bytes_per_session = 0;
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
// waits until it received N ivrapi_component_apply, answers "ok <applies>"; "quit".
MockChild spawn_mock(const Config& cfg) {
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
            mo.default_play_duration = std::chrono::hours(1);  // a long play
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
            std::string frame;
            raw = std::make_unique<bench::RawClient>(
                bench::RawClient::Options{mock.url, "test-token", cfg.ca},
                [&](bench::RawClient& c) {
                    c.send(
                        "[\"subscribe\",{\"qid\":0,\"objects\":\"any\",\"events\":[\"ivrevents.api_start\","
                        "\"ivrevents.api_stop\"],\"expires\":3600,\"id\":\"raw-bench\"}]");
                },
                [&](bench::RawClient& c, std::string& payload) {
                    rapidjson::Document doc;
                    if (!parse_frame(doc, payload)) return;
                    const rapidjson::Value& body = doc[1];
                    if (name_is(doc[0], "notify")) {
                        auto d = body.FindMember("data");
                        if (str_of(body, "type") != "api_start" || d == body.MemberEnd()) return;
                        const std::uint64_t q = next_qid++;
                        std::string ivrid = str_of(d->value, "ivrid");
                        std::string key = str_of(d->value, "key");
                        frame = "[\"ivrapi_accept\",{\"qid\":" + std::to_string(q) + ",\"key\":\"" + key +
                                "\",\"ivrid\":\"" + ivrid + "\"}]";
                        c.send(frame);
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
        t0 = Clock::now();
        write_line(mock.to, "calls " + std::to_string(n));
        check(all.wait(300s), "scale: only " + std::to_string(claimed) + "/" + std::to_string(n) + " claimed");
        const std::string answer = read_line(mock.from);  // the mock has every play request
        // Retained memory, not the burst's transient peak (frames in flight, queues):
        // give freed heap back first, as for rss0.
        malloc_trim(0);
        const std::size_t rss1 = resident_bytes();
        std::ostringstream out;
        out << "ok " << rss0 << ' ' << rss1 << ' ' << std::chrono::duration<double, std::milli>(last - t0).count()
            << ' ' << claimed << ' ' << answer;
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
    double ms = 0;
    in >> tag >> rss0 >> rss1 >> ms >> claimed >> mock_tag >> plays;
    check(tag == "ok", std::string(sdk ? "SDK" : "raw") + " scale: " + line);
    check(mock_tag == "ok",
          std::string(sdk ? "SDK" : "raw") + " scale: the mock saw " + std::to_string(plays) + " plays");
    Scale s;
    s.sessions = claimed;
    s.plays = plays;
    s.claim_ms = ms;
    s.bytes_per_session = (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(n);
    return s;
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
        if (a == "--smoke") cfg.smoke = true;
        else if (a == "--report") cfg.report = value();
        else if (a == "--machine") cfg.machine = value();
        else if (a == "--client-cpu") cfg.client_cpu = std::stoi(value());
        else if (a == "--server-cpu") cfg.server_cpu = std::stoi(value());
        else if (a == "--scale") cfg.scale_count = std::stoul(value());
        else if (a == "--only") cfg.only = value();
        else if (a == "--push") cfg.push_count = std::stoul(value());
        else {
            std::cerr << "usage: ivrapi_bench [--smoke] [--report FILE] [--machine TEXT] [--client-cpu N] "
                         "[--server-cpu N] [--scale N] [--push N] [--only rt|dispatch|claim|scale]\n";
            return 2;
        }
    }
    if (cfg.smoke) {
        cfg.reps = 1;
        cfg.rt_warmup = 20;
        cfg.rt_count = 200;
        cfg.push_count = 2000;
        cfg.claim_count = 50;
        cfg.scale_count = 100;
    }
    if (std::thread::hardware_concurrency() < 2) cfg.server_cpu = cfg.client_cpu;
    if (!bench::pin_this_thread(cfg.client_cpu)) std::cerr << "warning: cannot pin to CPU " << cfg.client_cpu << "\n";

    std::vector<Row> rows;
    try {
        auto want = [&](const char* name) { return cfg.only.empty() || cfg.only == name; };
        // 1 + 5: round trip
        for (bool tls : {false, true}) {
            if (!want("rt")) break;
            const char* scheme = tls ? "wss" : "ws";
            bench::BenchServer server(tls, cfg.cert, cfg.key, cfg.server_cpu);
            std::vector<double> raw50, raw99, sdk50, sdk99;
            for (std::size_t r = 0; r < cfg.reps; ++r) {
                const Rtt a = raw_round_trip(cfg, server.url());
                const Rtt b = sdk_round_trip(cfg, server.url());
                const std::size_t expect = cfg.rt_warmup + cfg.rt_count;
                check(a.exchanged == expect && b.exchanged == expect, "round trip: wrong message count");
                raw50.push_back(a.p50), raw99.push_back(a.p99), sdk50.push_back(b.p50), sdk99.push_back(b.p99);
            }
            Rtt raw, sdk;
            raw.p50 = percentile(raw50, 0.5), raw.p99 = percentile(raw99, 0.5);
            sdk.p50 = percentile(sdk50, 0.5), sdk.p99 = percentile(sdk99, 0.5);
            const double ratio = sdk.p50 / raw.p50;
            rows.push_back({std::string(tls ? "5. " : "1. ") + "round trip " + scheme, "median µs", fmt(sdk.p50),
                            fmt(raw.p50), fmt(ratio, 2), "≤ 1.10", met(ratio <= 1.10)});
            rows.push_back({std::string(tls ? "5. " : "1. ") + "round trip " + scheme, "p99 µs", fmt(sdk.p99),
                            fmt(raw.p99), fmt(sdk.p99 / raw.p99, 2), "", ""});
            std::cerr << scheme << " round trip: SDK " << fmt(sdk.p50) << " µs, raw " << fmt(raw.p50) << " µs\n";
        }
        // 2 + 5: dispatch
        for (bool tls : {false, true}) {
            if (!want("dispatch")) break;
            const char* scheme = tls ? "wss" : "ws";
            bench::BenchServer server(tls, cfg.cert, cfg.key, cfg.server_cpu);
            for (const std::string kind : {"dtmf", "notify"}) {
                std::vector<double> raws, sdks;
                for (std::size_t r = 0; r < cfg.reps; ++r) {
                    const Dispatch a = raw_dispatch(cfg, server.url(), kind);
                    const Dispatch b = sdk_dispatch(cfg, server.url(), kind);
                    check(a.events == cfg.push_count && b.events == cfg.push_count, "dispatch: wrong event count");
                    raws.push_back(a.per_s), sdks.push_back(b.per_s);
                }
                Dispatch raw, sdk;
                raw.per_s = percentile(raws, 0.5), sdk.per_s = percentile(sdks, 0.5);
                const double ratio = sdk.per_s / raw.per_s;
                rows.push_back(
                    {std::string(tls ? "5. " : "2. ") + "dispatch " + scheme,
                     (kind == "dtmf" ? "ivrapi_dtmf → on_dtmf" : "notify → on_notify") + std::string(", events/s"),
                     fmt_int(sdk.per_s), fmt_int(raw.per_s), fmt(ratio, 2), "≥ 0.80", met(ratio >= 0.80)});
                std::cerr << scheme << " dispatch " << kind << ": SDK " << fmt_int(sdk.per_s) << "/s, raw "
                          << fmt_int(raw.per_s) << "/s\n";
            }
        }
        // 3: claim rate
        if (want("claim")) {
            const Claim raw = raw_claim(cfg);
            const Claim sdk = sdk_claim(cfg);
            check(raw.claimed == cfg.claim_count && sdk.claimed == cfg.claim_count,
                  "claim: SDK claimed " + std::to_string(sdk.claimed) + ", raw " + std::to_string(raw.claimed) +
                      " of " + std::to_string(cfg.claim_count));
            const std::string b = "3. claim from mock @ " + fmt_int(static_cast<double>(cfg.claim_rate)) + "/s";
            rows.push_back(
                {b, "calls offered/s (pacer)", fmt_int(sdk.offered_per_s), fmt_int(raw.offered_per_s), "", "", ""});
            rows.push_back({b, "offers claimed/s", fmt_int(sdk.claimed_per_s), fmt_int(raw.claimed_per_s),
                            fmt(sdk.claimed_per_s / raw.claimed_per_s, 2), "", ""});
            rows.push_back({b, "offer → accepted p50 µs", fmt(sdk.p50_us), fmt(raw.p50_us),
                            fmt(sdk.p50_us / raw.p50_us, 2), "", ""});
            rows.push_back({b, "offer → accepted p99 µs", fmt(sdk.p99_us), fmt(raw.p99_us),
                            fmt(sdk.p99_us / raw.p99_us, 2), "≤ 5,000", met(sdk.p99_us <= 5000)});
            rows.push_back({b, "offer → accepted max µs", fmt(sdk.max_us), fmt(raw.max_us), "", "", ""});
            std::cerr << "claim: SDK p99 " << fmt(sdk.p99_us) << " µs, raw p99 " << fmt(raw.p99_us) << " µs\n";
        }
        // 4: scale
        if (want("scale")) {
            const Scale raw = run_scale(cfg, false);
            const Scale sdk = run_scale(cfg, true);
            check(raw.sessions == cfg.scale_count && sdk.sessions == cfg.scale_count && raw.plays == cfg.scale_count &&
                      sdk.plays == cfg.scale_count,
                  "scale: wrong session or play count");
            const std::string b = "4. scale: " + fmt_int(static_cast<double>(cfg.scale_count)) + " sessions playing";
            rows.push_back({b, "resident bytes per session", fmt_int(sdk.bytes_per_session),
                            fmt_int(raw.bytes_per_session),
                            fmt(sdk.bytes_per_session / std::max(1.0, raw.bytes_per_session), 2), "≤ 2,048",
                            met(sdk.bytes_per_session <= 2048)});
            rows.push_back({b, "time to claim all, ms", fmt(sdk.claim_ms, 0), fmt(raw.claim_ms, 0),
                            fmt(sdk.claim_ms / raw.claim_ms, 2), "", ""});
            std::cerr << "scale: SDK " << fmt_int(sdk.bytes_per_session) << " B/session, raw "
                      << fmt_int(raw.bytes_per_session) << " B/session\n";
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
           << "- Round trip and dispatch: median of " << cfg.reps
           << " repetitions, SDK and raw alternating in the same run\n"
           << "- Counts: round trip " << fmt_int(static_cast<double>(cfg.rt_count)) << " (after "
           << fmt_int(static_cast<double>(cfg.rt_warmup)) << " warm-up); dispatch "
           << fmt_int(static_cast<double>(cfg.push_count)) << " frames of ~150 bytes; claim "
           << fmt_int(static_cast<double>(cfg.claim_count)) << " calls at "
           << fmt_int(static_cast<double>(cfg.claim_rate)) << "/s; scale "
           << fmt_int(static_cast<double>(cfg.scale_count)) << " sessions\n\n";
        print_table(md, rows, true);
        md << "\n";
    }
    return 0;
}
