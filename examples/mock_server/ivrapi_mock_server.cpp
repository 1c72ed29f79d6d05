// ivrapi-mock-server: the mock Era platform (ivrapi::mock::Server) as a command-line
// server, for manual runs, demos and clients written in any language.
//
//   ivrapi-mock-server --port 8765 --token secret --calls-per-second 0.5
//   ivrapi-mock-server --scenario calls.json --exit-when-done
//
// Prints one line per event on stdout; Ctrl-C (or SIGTERM) exits cleanly.
#include <ivrapi/json.hpp>
#include <ivrapi/mock/server.hpp>
#include <ivrapi/version.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;
using ivrapi::Json;
using ivrapi::mock::CallOptions;
using ivrapi::mock::CallState;
using ivrapi::mock::DtmfAt;
using ivrapi::mock::ServerOptions;

const char* kHelp = R"(ivrapi-mock-server - a mock Era platform for the WebSocket Token API (ivrapi)

Usage: ivrapi-mock-server [options]

Connection
  --port N                 TCP port on 127.0.0.1 (default 8765; 0 = pick a free one)
  --token T                accepted token (default "test-token"), either in the path
                           /ws/token/v1/<T> or as "Authorization: Bearer <T>" on /ws/token/v1
  --tls-cert FILE          serve wss:// with this PEM certificate chain ...
  --tls-key FILE           ... and this PEM private key
  --refuse-status N        HTTP status of a refused upgrade (default 401)
  --capabilities a,b,c     connection_info capabilities (default ivrapi,subscr,rest)

Calls
  --calls-per-second X     offer X calls per second (e.g. 0.2 = one every 5 s; default 0)
  --calls N                stop offering after N generated calls (default: no limit)
  --key K                  key of generated calls (default "key")
  --state S                dialog | early | ringing | incoming (default dialog)
  --params TEXT            api_start params of generated calls
  --caller-dtmf MS:DIGITS  the caller presses DIGITS MS after the accept (repeatable)
  --hangup-after MS        the caller hangs up MS after the accept
  --scenario FILE          offer the calls described in a JSON file (format below)
  --exit-when-done         exit once every scenario / --calls call has ended

Behaviour
  --accept-timeout MS      api_stop "timeout" without an accept (default 30000)
  --play-ms MS             duration of every played file (default 1000)
  --record-ms MS           how long the caller speaks into a record (default 1000)
  --tts-ms MS, --asr-ms MS durations of TTS and speech recognition stubs (default 1000)
  --asr-text TEXT          speech recognition result (results {"text": TEXT})
  --apply-ack MODE         immediate | before_stopped | after_stopped: when
                           ivrapi_component_apply_result is sent (default immediate)
  --no-ids-in-stopped      ivrapi_component_stopped without key/ivrid (as the spec's example)
  --terminate-reply-first  reply to a terminate before the stopped event
  --strict-sip             refuse media before answer and bye/refer before 2xx
  --temp-dir DIR           where recordings and uploads go (default: a fresh /tmp dir,
                           removed on exit)

Output
  --log-frames             also print every frame received and sent
  --quiet                  print nothing but errors
  --help                   this text
  --version                the SDK version, then exit

Scenario file (JSON; every field optional):
  {
    "calls": [
      { "at_ms": 0,                      // when to offer it, after start
        "ivrid": "rDlg-demo-1", "key": "abc", "callid": "...", "cid": "...",
        "state": "dialog", "params": {"lang": "en"},   // a string or any JSON
        "dtmf": [ {"at_ms": 1500, "digits": "12#"} ],  // after the accept
        "hangup_after_ms": 20000,
        "repeat": 1, "every_ms": 1000 }  // offer it `repeat` times (ivrid gets "-<n>")
    ],
    "options": { "accept_timeout_ms": 30000, "play_ms": 1000,
                 "play_durations_ms": {":GS_PUB/hello.wav": 2500},
                 "record_ms": 1000, "asr_text": "yes", "apply_ack": "immediate",
                 "stopped_event_carries_ids": true }
  }

Wire behaviour (see docs/mock.md): replies ["<name>_result", {"qid": <as sent>,
"result": "ok"}], errors {"result": "error", "reason": "..."}; file links
/temp/<random>.<ext> served by this server over HTTP for 5 minutes; components 201-230
and 103 are simulated with the durations above.
)";

[[noreturn]] void usage_error(const std::string& msg) {
    std::cerr << "ivrapi-mock-server: " << msg << "\n(try --help)\n";
    std::exit(2);
}

long long to_int(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') usage_error(flag + " expects an integer, got '" + v + "'");
    return n;
}

double to_double(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || d < 0) usage_error(flag + " expects a number >= 0, got '" + v + "'");
    return d;
}

CallState to_state(const std::string& s) {
    if (s == "dialog") return CallState::dialog;
    if (s == "early") return CallState::early;
    if (s == "ringing") return CallState::ringing;
    if (s == "incoming") return CallState::incoming;
    usage_error("unknown state '" + s + "'");
}

ivrapi::mock::ApplyAck to_ack(const std::string& s) {
    if (s == "immediate") return ivrapi::mock::ApplyAck::immediate;
    if (s == "before_stopped") return ivrapi::mock::ApplyAck::before_stopped;
    if (s == "after_stopped") return ivrapi::mock::ApplyAck::after_stopped;
    usage_error("unknown --apply-ack mode '" + s + "'");
}

struct ScheduledCall {
    ms at{0};
    CallOptions options;
};

std::vector<ScheduledCall> load_scenario(const std::string& path, ServerOptions& so) {
    std::ifstream in(path);
    if (!in) usage_error("cannot read scenario " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = Json::parse(ss.str());
    if (!parsed) usage_error("scenario " + path + ": " + parsed.error().message);
    const Json& doc = *parsed;
    if (!doc.is_object()) usage_error("scenario " + path + ": top level must be an object");
    if (const auto* o = doc.find("options")) {
        if (const auto* v = o->find("accept_timeout_ms")) so.accept_timeout = ms(v->as_int(30000));
        if (const auto* v = o->find("play_ms")) so.default_play_duration = ms(v->as_int(1000));
        if (const auto* v = o->find("record_ms")) so.record_duration = ms(v->as_int(1000));
        if (const auto* v = o->find("tts_ms")) so.tts_duration = ms(v->as_int(1000));
        if (const auto* v = o->find("asr_ms")) so.asr_duration = ms(v->as_int(1000));
        if (const auto* v = o->find("asr_text")) so.asr_text = v->to_text();
        if (const auto* v = o->find("apply_ack")) so.apply_ack = to_ack(v->to_text());
        if (const auto* v = o->find("stopped_event_carries_ids")) so.stopped_event_carries_ids = v->as_bool(true);
        if (const auto* v = o->find("play_durations_ms")) {
            for (const auto& [file, d] : v->as_object()) so.play_durations[file] = ms(d.as_int(1000));
        }
    }
    std::vector<ScheduledCall> out;
    const auto* calls = doc.find("calls");
    if (!calls) return out;
    if (!calls->is_array()) usage_error("scenario " + path + ": \"calls\" must be an array");
    for (const auto& c : calls->as_array()) {
        ScheduledCall sc;
        sc.at = ms(c.find("at_ms") ? c.find("at_ms")->as_int(0) : 0);
        auto text = [&](const char* k) { return c.find(k) ? c.find(k)->to_text() : std::string(); };
        sc.options.ivrid = text("ivrid");
        if (c.find("key")) sc.options.key = text("key");
        sc.options.callid = text("callid");
        sc.options.cid = text("cid");
        if (c.find("componentname")) sc.options.componentname = text("componentname");
        if (c.find("state")) sc.options.state = to_state(text("state"));
        sc.options.params = text("params");  // a JSON value is sent as its text
        if (const auto* d = c.find("dtmf")) {
            for (const auto& step : d->as_array()) {
                sc.options.caller_dtmf.push_back(
                    DtmfAt{ms(step.find("at_ms") ? step.find("at_ms")->as_int(0) : 0),
                           step.find("digits") ? step.find("digits")->to_text() : ""});
            }
        }
        if (const auto* h = c.find("hangup_after_ms")) sc.options.hangup_after = ms(h->as_int(0));
        auto repeat = c.find("repeat") ? c.find("repeat")->as_int(1) : 1;
        auto every = ms(c.find("every_ms") ? c.find("every_ms")->as_int(1000) : 1000);
        for (std::int64_t i = 0; i < std::max<std::int64_t>(1, repeat); ++i) {
            ScheduledCall copy = sc;
            copy.at = sc.at + every * i;
            if (repeat > 1 && !copy.options.ivrid.empty()) copy.options.ivrid += "-" + std::to_string(i + 1);
            out.push_back(std::move(copy));
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    // Block SIGINT/SIGTERM in every thread; main waits for them with sigwait.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    ServerOptions so;
    so.port = 8765;
    std::string scenario;
    double cps = 0;
    long long max_calls = -1;
    bool quiet = false, exit_when_done = false;
    CallOptions generated;

    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) usage_error(a + " needs a value");
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << kHelp;
            return 0;
        } else if (a == "--version") {
            std::cout << "ivrapi-mock-server " << ivrapi::version() << "\n";
            return 0;
        } else if (a == "--port") {
            auto p = to_int(a, value());
            if (p < 0 || p > 65535) usage_error("--port out of range");
            so.port = static_cast<std::uint16_t>(p);
        } else if (a == "--token") {
            so.token = value();
        } else if (a == "--tls-cert") {
            so.cert_file = value();
            so.tls = true;
        } else if (a == "--tls-key") {
            so.key_file = value();
            so.tls = true;
        } else if (a == "--refuse-status") {
            so.refuse_status = static_cast<int>(to_int(a, value()));
        } else if (a == "--capabilities") {
            so.capabilities.clear();
            std::stringstream ss(value());
            for (std::string c; std::getline(ss, c, ',');) {
                if (!c.empty()) so.capabilities.push_back(c);
            }
        } else if (a == "--calls-per-second") {
            cps = to_double(a, value());
        } else if (a == "--calls") {
            max_calls = to_int(a, value());
        } else if (a == "--key") {
            generated.key = value();
        } else if (a == "--state") {
            generated.state = to_state(value());
        } else if (a == "--params") {
            generated.params = value();
        } else if (a == "--caller-dtmf") {
            auto v = value();
            auto colon = v.find(':');
            if (colon == std::string::npos) usage_error("--caller-dtmf expects MS:DIGITS");
            generated.caller_dtmf.push_back(DtmfAt{ms(to_int(a, v.substr(0, colon))), v.substr(colon + 1)});
        } else if (a == "--hangup-after") {
            generated.hangup_after = ms(to_int(a, value()));
        } else if (a == "--scenario") {
            scenario = value();
        } else if (a == "--exit-when-done") {
            exit_when_done = true;
        } else if (a == "--accept-timeout") {
            so.accept_timeout = ms(to_int(a, value()));
        } else if (a == "--play-ms") {
            so.default_play_duration = ms(to_int(a, value()));
        } else if (a == "--record-ms") {
            so.record_duration = ms(to_int(a, value()));
        } else if (a == "--tts-ms") {
            so.tts_duration = ms(to_int(a, value()));
        } else if (a == "--asr-ms") {
            so.asr_duration = ms(to_int(a, value()));
        } else if (a == "--asr-text") {
            so.asr_text = value();
        } else if (a == "--apply-ack") {
            so.apply_ack = to_ack(value());
        } else if (a == "--no-ids-in-stopped") {
            so.stopped_event_carries_ids = false;
        } else if (a == "--terminate-reply-first") {
            so.terminate_reply_first = true;
        } else if (a == "--strict-sip") {
            so.strict_sip_rules = true;
        } else if (a == "--temp-dir") {
            so.temp_dir = value();
        } else if (a == "--log-frames") {
            so.log_frames = true;
        } else if (a == "--quiet") {
            quiet = true;
        } else {
            usage_error("unknown option " + a);
        }
    }
    if (so.tls && (so.cert_file.empty() || so.key_file.empty())) {
        usage_error("--tls-cert and --tls-key go together");
    }
    std::vector<ScheduledCall> scheduled;
    if (!scenario.empty()) scheduled = load_scenario(scenario, so);
    if (exit_when_done && scheduled.empty() && (cps <= 0 || max_calls < 0)) {
        usage_error("--exit-when-done needs a scenario, or --calls-per-second with --calls");
    }

    auto out_mutex = std::make_shared<std::mutex>();
    if (!quiet) {
        so.log = [out_mutex](const std::string& line) {
            std::lock_guard<std::mutex> lock(*out_mutex);
            std::fprintf(stdout, "%s\n", line.c_str());
            std::fflush(stdout);
        };
    }

    std::unique_ptr<ivrapi::mock::Server> server;
    try {
        server = std::make_unique<ivrapi::mock::Server>(so);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ivrapi-mock-server: %s\n", e.what());
        return 1;
    }
    {
        std::lock_guard<std::mutex> lock(*out_mutex);
        std::fprintf(stdout,
                     "ivrapi-mock-server listening\n  url:          %s  (Authorization: Bearer <token>)\n"
                     "  token in URL: %s\n  files:        %s\n",
                     server->url().c_str(), server->url_with_token().c_str(), server->temp_dir().c_str());
        std::fflush(stdout);
    }

    // Offers calls from the scenario and at --calls-per-second, on one thread.
    std::mutex m;
    std::condition_variable cv;
    bool stopping = false;
    std::thread offerer([&] {
        const auto start = std::chrono::steady_clock::now();
        std::vector<ivrapi::mock::Call> offered;
        std::size_t next = 0;
        long long generated_count = 0;
        auto next_generated = start;
        const bool generate = cps > 0;
        const auto period = generate ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                           std::chrono::duration<double>(1.0 / cps))
                                     : std::chrono::steady_clock::duration::zero();
        for (;;) {
            auto now = std::chrono::steady_clock::now();
            try {
                while (next < scheduled.size() && start + scheduled[next].at <= now) {
                    offered.push_back(server->start_call(scheduled[next].options));
                    ++next;
                }
                while (generate && (max_calls < 0 || generated_count < max_calls) && next_generated <= now) {
                    offered.push_back(server->start_call(generated));
                    ++generated_count;
                    next_generated += period;
                }
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(*out_mutex);
                std::fprintf(stderr, "ivrapi-mock-server: cannot offer a call: %s\n", e.what());
            }
            const bool all_offered =
                next >= scheduled.size() && (!generate || (max_calls >= 0 && generated_count >= max_calls));
            if (exit_when_done && all_offered &&
                std::all_of(offered.begin(), offered.end(), [](const auto& c) { return c.ended(); })) {
                std::lock_guard<std::mutex> lock(*out_mutex);
                std::fprintf(stdout, "every call ended; exiting\n");
                std::fflush(stdout);
                kill(getpid(), SIGTERM);
                return;
            }
            // Prune ended calls so a long run does not grow.
            if (!exit_when_done) {
                offered.erase(std::remove_if(offered.begin(), offered.end(), [](const auto& c) { return c.ended(); }),
                              offered.end());
            }
            auto wake = now + 100ms;
            if (next < scheduled.size()) wake = std::min(wake, start + scheduled[next].at);
            if (generate && (max_calls < 0 || generated_count < max_calls)) wake = std::min(wake, next_generated);
            std::unique_lock<std::mutex> lock(m);
            if (cv.wait_until(lock, wake, [&] { return stopping; })) return;
        }
    });

    int sig = 0;
    sigwait(&signals, &sig);
    {
        std::lock_guard<std::mutex> lock(m);
        stopping = true;
    }
    cv.notify_all();
    offerer.join();
    server->stop();
    server.reset();
    if (!quiet) {
        std::lock_guard<std::mutex> lock(*out_mutex);
        std::fprintf(stdout, "stopped (%s)\n", sig == SIGINT ? "Ctrl-C" : "SIGTERM");
    }
    return 0;
}
