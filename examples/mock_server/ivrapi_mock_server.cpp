// ivrapi-mock-server: the mock Era platform (ivrapi::mock::Server) as a command-line
// server, for manual runs, demos and clients written in any language.
//
//   ivrapi-mock-server --port 8765 --token secret --calls-per-second 0.5
//   ivrapi-mock-server --scenario calls.json --exit-when-done
//
// Prints one line per event on stdout; Ctrl-C (or SIGTERM) exits cleanly. Tests in any
// language drive it over its control channel (POST /control/<command>, docs/mock.md).
#include <ivrapi/json.hpp>
#include <ivrapi/mock/scenario.hpp>
#include <ivrapi/mock/server.hpp>
#include <ivrapi/version.hpp>

#include "replay_mode.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
  --port N                 TCP port (default 8765; 0 = pick a free one)
  --listen ADDR            address to listen on (default 127.0.0.1; 0.0.0.0 or :: for
                           bots in containers)
  --token T                accepted token (default "test-token"), either in the path
                           /ws/token/v1/<T> or as "Authorization: Bearer <T>" on /ws/token/v1
  --tls-cert FILE          serve wss:// with this PEM certificate chain ...
  --tls-key FILE           ... and this PEM private key
  --refuse-status N        HTTP status of a refused upgrade (default 401)
  --capabilities a,b,c     connection_info capabilities (default ivrapi,subscr,rest)
  --no-control             turn the control channel off (POST /control/<command> on the
                           same port with "Authorization: Bearer <token>"; docs/mock.md)

Calls
  --calls-per-second X     offer X calls per second (e.g. 0.2 = one every 5 s; default 0)
  --calls N                stop offering after N generated calls (default: no limit)
  --key K                  key of generated calls (default "key")
  --state S                dialog | early | ringing | incoming (default dialog)
  --params TEXT            api_start params of generated calls
  --caller-dtmf MS:DIGITS  the caller presses DIGITS MS after the accept (repeatable)
  --caller-dtmf-component N:MS:DIGITS
                           ... MS after the start of the N-th component (repeatable)
  --hangup-after MS        the caller hangs up MS after the accept
  --hangup-after-offer MS  the caller hangs up MS after the offer, accepted or not
  --scenario FILE          offer the calls described in a JSON file (format below)
  --wait-for-subscriber    offer scenario and generated calls only once a client has
                           subscribed (times count from then)
  --exit-when-done         exit once every scenario / --calls call has ended

Behaviour
  --accept-timeout MS      api_stop "timeout" without an accept (default 30000)
  --detach-timeout MS      api_stop "timeout" when a controller's connection is gone this
                           long without a reaccept (default: wait forever)
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

Files
  --static-dir DIR         seed static storage from DIR, whose folders are named after
                           storages (DIR/GS_PUB/menu.wav is :GS_PUB/menu.wav)
  --static-dir :PREFIX=DIR map one storage onto DIR (e.g. :GS_PUB=./prompts); repeatable
  --script-dir DIR         files named without a storage prefix ("menu.wav")
  --any-path-plays         play (204) and fax (213) any static path, also one that does
                           not exist (quick demos); by default such a path is refused
                           with an error reply, as the platform does
  --upload-ca FILE         CA (PEM) for https:// upload URLs (default: the system's CAs)

Replay (docs/cassette.md)
  --replay FILE            play the platform's side of a recorded call (a cassette from
                           ClientOptions::capture or ivrapi-cli --capture) and check the
                           bot's requests against it; exits 0 when they all matched, 1 at
                           the first divergence (printed with both frames)
  --ivrid ID               the recorded call to replay (default: the cassette's only one)
  --offer-ivrid ID         offer it under this ivrid instead
  --speed X                recorded delays divided by X (default 1)
  --ignore PATH            a request field not compared, e.g. data.url (repeatable)
  --replay-timeout SEC     give up waiting for the bot after SEC (default 600)
  (with --replay also: --port, --token (default: any token), --quiet)

Output
  --log-frames             also print every frame received and sent
  --quiet                  print nothing but errors
  --help                   this text
  --version                the SDK version, then exit

Scenario file (JSON). Every key is optional; an unknown key or a wrong type is an
error that names its JSON path.
  {
    "options": {
      "accept_timeout_ms": 30000, "detached_timeout_ms": 60000,
      "play_ms": 1000, "play_durations_ms": {":GS_PUB/hello.wav": 2500},
      "record_ms": 1000, "tts_ms": 1000, "asr_ms": 1000, "asr_text": "yes",
      "fax_ms": 1000, "dtmf_send_ms": 100,
      "apply_ack": "immediate",            // before_stopped | after_stopped
      "stopped_event_carries_ids": true, "terminate_reply_first": false,
      "stopped_event_on_hangup": false, "strict_sip_rules": false,
      "any_path_plays": false,
      "component_results": {"223": {"text": "yes"}},       // merged into results
      "component_transfer_keys": {"206": "transferTimeout"}
    },
    "calls": [
      { "at_ms": 0,                        // when to offer it, after start
        "repeat": 1, "every_ms": 1000,     // offer it `repeat` times (ivrid gets "-<n>")
        "ivrid": "rDlg-demo-1", "key": "abc", "callid": "...", "cid": "...",
        "componentname": "External management", "componentid": 14, "sm_id": "...",
        "state": "dialog",                 // early | ringing | incoming
        "params": {"lang": "en"},          // a string, or any JSON (sent as its text)
        "dtmf": [ {"at_ms": 1500, "digits": "12#"},          // after the accept
                  {"at_ms": 2000, "digits": "1",             // after the start of the
                   "after_component": 1, "o_type": 204} ],   // 1st 204 (o_type 0 = any)
        "hangup_after_ms": 20000,          // after the accept
        "hangup_after_offer_ms": 5000,     // after the offer, accepted or not
        "asr_text": ["yes", "no"] }        // per ASR component of this call
    ]
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

std::vector<ivrapi::mock::ScheduledCall> load_scenario(const std::string& path, ServerOptions& so) {
    std::ifstream in(path);
    if (!in) usage_error("cannot read scenario " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = Json::parse(ss.str());
    if (!parsed) usage_error("scenario " + path + ": " + parsed.error().message);
    try {
        return ivrapi::mock::parse_scenario(*parsed, so);
    } catch (const ivrapi::mock::ScenarioError& e) {
        usage_error("scenario " + path + ": " + e.what());
    }
}

// --static-dir DIR: every folder of DIR named after a storage (GS_PUB or
// GLOBALSHARE_PUBLIC, ...) seeds it; --static-dir :PREFIX=DIR maps one storage.
void add_static_dir(ServerOptions& so, const std::string& value) {
    namespace fs = std::filesystem;
    if (!value.empty() && value[0] == ':') {
        auto eq = value.find('=');
        if (eq == std::string::npos || eq + 1 == value.size()) usage_error("--static-dir expects :PREFIX=DIR or DIR");
        so.static_dirs[value.substr(0, eq)] = value.substr(eq + 1);
        return;
    }
    std::error_code ec;
    if (!fs::is_directory(value, ec)) usage_error("--static-dir: " + value + " is not a directory");
    std::size_t mapped = 0;
    for (const auto& e : fs::directory_iterator(value, ec)) {
        if (!e.is_directory(ec)) continue;
        const std::string name = e.path().filename().string();
        static const char* storages[] = {"SYNC_COMMON",
                                         "SYN_MEDIA",
                                         "SYNC_DOMAIN_DATA",
                                         "SYN_DOM",
                                         "SYNC_DOMAIN_COMMON",
                                         "SYN_DOM_MEDIA",
                                         "SITESHARE_PUBLIC",
                                         "SS_PUB",
                                         "SITESHARE_DOMAIN_DATA",
                                         "SS_DOM",
                                         "GLOBALSHARE_PUBLIC",
                                         "GS_PUB",
                                         "GLOBALSHARE_DOMAIN_DATA",
                                         "GS_DOM"};
        if (std::find(std::begin(storages), std::end(storages), name) != std::end(storages)) {
            so.static_dirs[":" + name] = e.path().string();
            ++mapped;
        }
    }
    if (mapped == 0) usage_error("--static-dir: " + value + " holds no storage folder (GS_PUB, SYN_DOM, ...)");
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
    so.control_channel = true;
    so.any_path_plays = false;  // as the platform: a file that is not there is refused
    std::string scenario;
    double cps = 0;
    long long max_calls = -1;
    bool quiet = false, exit_when_done = false, wait_for_subscriber = false;
    CallOptions generated;

    std::vector<std::string> args(argv + 1, argv + argc);
    if (std::find(args.begin(), args.end(), "--replay") != args.end() &&
        std::find(args.begin(), args.end(), "--help") == args.end()) {
        return run_replay_mode(args);
    }
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
        } else if (a == "--listen") {
            so.listen_address = value();
        } else if (a == "--no-control") {
            so.control_channel = false;
        } else if (a == "--caller-dtmf-component") {
            auto v = value();
            auto c1 = v.find(':');
            auto c2 = c1 == std::string::npos ? c1 : v.find(':', c1 + 1);
            if (c2 == std::string::npos) usage_error("--caller-dtmf-component expects N:MS:DIGITS");
            DtmfAt d{ms(to_int(a, v.substr(c1 + 1, c2 - c1 - 1))), v.substr(c2 + 1)};
            auto n = to_int(a, v.substr(0, c1));
            if (n < 1) usage_error("--caller-dtmf-component: N counts from 1");
            d.component = static_cast<int>(n);
            generated.caller_dtmf.push_back(d);
        } else if (a == "--hangup-after-offer") {
            generated.hangup_after_offer = ms(to_int(a, value()));
        } else if (a == "--wait-for-subscriber") {
            wait_for_subscriber = true;
        } else if (a == "--detach-timeout") {
            so.detached_timeout = ms(to_int(a, value()));
        } else if (a == "--static-dir") {
            add_static_dir(so, value());
        } else if (a == "--script-dir") {
            so.script_dir = value();
        } else if (a == "--any-path-plays") {
            so.any_path_plays = true;
        } else if (a == "--upload-ca") {
            so.upload_ca_file = value();
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
    std::vector<ivrapi::mock::ScheduledCall> scheduled;
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
        // The token itself is never printed (a shared terminal or CI log).
        std::lock_guard<std::mutex> lock(*out_mutex);
        std::fprintf(stdout,
                     "ivrapi-mock-server listening\n  url:          %s  (Authorization: Bearer <token>)\n"
                     "  token in URL: %s/<token>\n  files:        %s\n",
                     server->url().c_str(), server->url().c_str(), server->temp_dir().c_str());
        if (so.control_channel) {
            std::fprintf(stdout, "  control:      POST %s  (Authorization: Bearer <token>)\n",
                         server->http_url("/control/<command>").c_str());
        }
        std::fflush(stdout);
    }

    // Offers calls from the scenario and at --calls-per-second, on one thread.
    std::mutex m;
    std::condition_variable cv;
    bool stopping = false;
    std::thread offerer([&] {
        if (wait_for_subscriber) {
            {
                std::lock_guard<std::mutex> lock(*out_mutex);
                std::fprintf(stdout, "waiting for a client to subscribe before offering calls\n");
                std::fflush(stdout);
            }
            for (;;) {
                if (server->wait_for([](const ivrapi::mock::Server& s) { return s.subscription_count() > 0; }, 200ms)) {
                    break;
                }
                std::lock_guard<std::mutex> lock(m);
                if (stopping) return;
            }
        }
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
