// ivrapi-cli: a command-line client for the Era ivrapi WebSocket API, to keep open
// while integrating (like wscat, but speaking the protocol). Output on stdout is NDJSON
// (one JSON object per line); logs and errors go to stderr; exit status 0 on success.
#include "cli/flow.hpp"
#include "common/graceful_shutdown.hpp"
#include "common/shutdown_signal.hpp"

#include <ivrapi/ivrapi.hpp>
#ifdef IVRAPI_CLI_HAS_CLUSTER
#include <ivrapi/cluster.hpp>
#endif

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace {

using ivrapi::Json;
using namespace std::chrono_literals;

const char* kUsage = R"(usage: ivrapi-cli [options] <command> [command options]

Commands:
  info                      connect, print the connection_info reply, exit
  watch [--count N]         print ivrevents (api_start / api_stop) as they come
  run --flow FILE [--calls N] [--concurrency K] [--drain-timeout SEC]
      [--cluster redis://HOST:PORT --cluster-name NAME [--replica-id ID]]
                            claim offered sessions and run a flow on each
  upload-static --src URL --dest PATH
                            sessionless file_upload_static; prints {"path":...}

Options (anywhere on the line):
  --url URL         ws:// or wss:// .../ws/token/v1 (token in the path or not)
  --token TOKEN     the integration point's token; better: the ERA_TOKEN variable,
                    which keeps it out of the process list. Never printed.
  --ca-file PATH    PEM bundle to trust for wss:// instead of the system store
  --insecure        do not verify the server's certificate (prints a warning)
  --timeout SEC     connect and request timeout (default 10)
  --ping-interval SEC   WebSocket ping period (default 4; 0 = off)
  --pong-timeout SEC    no pong within this = dead link (default 5)
  --component-timeout SEC  bound of one component's run (default 900)
  --log-level LVL   trace, debug, info, warn (default), error, off; logs go to stderr
  --capture FILE    record the connection into a cassette (docs/cassette.md; token
                    redacted), e.g. to replay it with ivrapi-mock-server --replay FILE
  --help            this text, or a command's help after the command
  --version         the SDK version this tool was built with, then exit

Output: one JSON object per line on stdout. Exit status: 0 success, 1 failure (the
reason on stderr; for run: any failed step), 2 bad usage, 130 a second Ctrl-C.
)";

const char* kRunHelp = R"(usage: ivrapi-cli run --flow FILE [--calls N] [--concurrency K] [--drain-timeout SEC]
         [--cluster redis://HOST:PORT --cluster-name NAME [--replica-id ID]
          [--cluster-lease MS] [--cluster-grace MS]]

Claims offered sessions (at most K at a time, default 1) and runs the flow on each;
exits once N sessions (default 1) have ended: 0 when every step of every session
succeeded, else 1.
Ctrl-C: no new call is claimed; running sessions go on with their flow for up to
--drain-timeout seconds (default 10), then each still controlled is handed back to
its script (ivrapi_abort; counts as failed), then the connection closes. A second
Ctrl-C hands every controlled session back at once and exits 130. The connection
never closes while a session of ours is neither ended nor handed back.
A flow is a JSON array of steps:
  {"apply": {"oType": 204, "file": ":GS_PUB/x.wav", ...}}
      -> {"ivrid":..,"step":i,"oType":..,"transferKey":..,"results":{..}}
  {"get_path": "nameVar"}   link for that value of the latest results
      -> {"ivrid":..,"step":i,"link":"<absolute URL>"}
  {"upload_temp": "http://host/file.wav", "as": "greeting"}
      -> {"ivrid":..,"step":i,"path":":TEMP/..."}; later steps may use ${greeting}
  {"abort": true}           hand control back to the script
Also printed: {"ivrid":..,"event":"dtmf","mode":..,"dtmf":..},
{"ivrid":..,"event":"end","reason":..}, and for a failed step
{"ivrid":..,"step":i,"error":{"code":..,"message":..}} (the flow of that session ends
and the session is handed back if still controlled). The flow file is checked before
connecting.
With --cluster, replicas of the same --cluster-name share the offers through Redis
(docs/scaling.md): each offer is claimed by one replica, and the sessions of a replica
that died are taken over by the others, each printing
{"event":"takeover","ivrid":..,"from":"<replica id>"} and handing the call back to its
script. --cluster-lease (default 3000) and --cluster-grace (default 500) in ms.
A Redis password goes in the URL (redis://:PASSWORD@HOST:PORT or redis://USER:PASSWORD@...,
percent-encoded); to keep it out of the process list, give --cluster env:VAR and put the
URL in the environment variable VAR. Logs and errors show the password as ***.
)";

const char* kWatchHelp = R"(usage: ivrapi-cli watch [--count N]

Subscribes to ivrevents and prints each api_start / api_stop as one line:
  {"event":"api_start", ...every data field...}
Exits after N events (default: never) or on Ctrl-C. Offers are not claimed.
)";

const char* kInfoHelp = R"(usage: ivrapi-cli info

Connects, sends connection_info and prints the reply as one line (the token field
removed), then exits.
)";

const char* kUploadHelp = R"(usage: ivrapi-cli upload-static --src URL --dest PATH

The platform downloads URL into static storage under PATH (e.g. :GS_PUB/prompts);
prints {"path":"<stored path>"}.
)";

struct UsageError {
    std::string message;
};

// stdout, one JSON object per line, whole lines only.
class Output {
public:
    void emit(const Json& line) {
        const std::string text = line.dump();
        std::lock_guard<std::mutex> lock(mutex_);
        std::cout << text << '\n' << std::flush;
    }

private:
    std::mutex mutex_;
};

struct Args {
    std::string command;
    std::map<std::string, std::string> values;  // --name value
    bool insecure = false;
    bool help = false;
    bool version = false;

    std::string get(const std::string& name, const std::string& fallback = {}) const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }
    long number(const std::string& name, long fallback, long min) const {
        auto it = values.find(name);
        if (it == values.end()) return fallback;
        char* end = nullptr;
        const long v = std::strtol(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end != '\0' || v < min) {
            throw UsageError{"--" + name + " must be a number >= " + std::to_string(min)};
        }
        return v;
    }
};

Args parse_args(int argc, char** argv) {
    static const std::map<std::string, bool> known = {
        {"url", true},           {"token", true},         {"ca-file", true},      {"capture", true},
        {"timeout", true},       {"log-level", true},     {"count", true},        {"flow", true},
        {"calls", true},         {"concurrency", true},   {"src", true},          {"dest", true},
        {"drain-timeout", true}, {"ping-interval", true}, {"pong-timeout", true}, {"component-timeout", true},
        {"cluster", true},       {"cluster-name", true},  {"replica-id", true},   {"cluster-lease", true},
        {"cluster-grace", true}, {"insecure", false},     {"help", false},        {"version", false}};
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h") arg = "--help";
        if (arg.rfind("--", 0) == 0) {
            std::string name = arg.substr(2), value;
            const auto eq = name.find('=');
            if (eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            auto k = known.find(name);
            if (k == known.end()) throw UsageError{"unknown option " + arg};
            if (!k->second) {
                (name == "help" ? a.help : name == "version" ? a.version : a.insecure) = true;
                continue;
            }
            if (eq == std::string::npos) {
                if (i + 1 >= argc) throw UsageError{arg + " needs a value"};
                value = argv[++i];
            }
            a.values[name] = value;
        } else if (a.command.empty()) {
            a.command = arg;
        } else {
            throw UsageError{"unexpected argument '" + arg + "'"};
        }
    }
    return a;
}

ivrapi::LogLevel parse_level(const std::string& s) {
    static const std::map<std::string, ivrapi::LogLevel> levels = {
        {"trace", ivrapi::LogLevel::trace}, {"debug", ivrapi::LogLevel::debug}, {"info", ivrapi::LogLevel::info},
        {"warn", ivrapi::LogLevel::warn},   {"error", ivrapi::LogLevel::error}, {"off", ivrapi::LogLevel::off}};
    auto it = levels.find(s);
    if (it == levels.end()) throw UsageError{"--log-level must be trace, debug, info, warn, error or off"};
    return it->second;
}

Json error_json(const ivrapi::Error& e) {
    const bool ours = e.code.category() == ivrapi::error_category();
    return Json::object(
        {{"code", ours ? ivrapi::errc_name(static_cast<ivrapi::Errc>(e.code.value())) : e.code.category().name()},
         {"message", e.message}});
}

// Everything the commands share: the client, and how the process ends.
class App {
public:
    App(const Args& args, std::vector<std::string> events) : args_(args) {
        ivrapi::ClientOptions o;
        o.url = args.get("url");
        if (o.url.empty()) throw UsageError{"--url is required"};
        o.token = args.get("token", std::getenv("ERA_TOKEN") ? std::getenv("ERA_TOKEN") : "");
        if (o.token.empty() && o.url.find("/ws/token/v1/") == std::string::npos) {
            throw UsageError{"no token: set --token or ERA_TOKEN (or put it in the URL path)"};
        }
        if (args.values.count("ping-interval"))
            o.ping_interval = std::chrono::seconds(args.number("ping-interval", 4, 0));
        if (args.values.count("pong-timeout")) o.pong_timeout = std::chrono::seconds(args.number("pong-timeout", 5, 1));
        if (args.values.count("component-timeout")) {
            o.component_timeout = std::chrono::seconds(args.number("component-timeout", 900, 1));
        }
        o.tls.ca_file = args.get("ca-file");
        o.capture.file = args.get("capture");
        if (args.insecure) {
            std::cerr << "ivrapi-cli: WARNING: --insecure: the server's certificate is NOT verified\n";
            o.tls.danger_accept_invalid_certificates = true;
        }
        timeout_ = std::chrono::seconds(args.number("timeout", 10, 1));
        o.request_timeout = timeout_;
        o.connect_timeout = timeout_;
        o.events = std::move(events);
        o.keep_raw_events = true;  // watch prints every data field of api_start
        o.log_level = parse_level(args.get("log-level", "warn"));
        o.log = [](ivrapi::LogLevel level, const std::string& line) {
            std::cerr << "ivrapi-cli [" << ivrapi::to_string(level) << "] " << line << '\n';
        };
        try {
            client_ = std::make_unique<ivrapi::Client>(o);
        } catch (const std::invalid_argument& e) {
            // Name the flag, not the SDK field.
            std::string why = e.what();
            const std::string prefix = "ivrapi::ClientOptions: ";
            if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
            static const std::pair<const char*, const char*> flags[] = {{"url ", "--url "},
                                                                        {"tls.ca_file", "--ca-file"},
                                                                        {"request_timeout", "--timeout"},
                                                                        {"connect_timeout", "--timeout"},
                                                                        {"ping_interval", "--ping-interval"},
                                                                        {"pong_timeout", "--pong-timeout"},
                                                                        {"component_timeout", "--component-timeout"}};
            for (const auto& [field, flag] : flags) {
                if (why.rfind(field, 0) == 0) why.replace(0, std::string(field).size(), flag);
            }
            throw UsageError{why};
        }
        // Before the first successful connect, a failure ends the command.
        client_->on_state([this](ivrapi::ConnectionState s, const ivrapi::Error& why) {
            if (s == ivrapi::ConnectionState::ready) {
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    ready_ = true;
                }
                cv_.notify_all();
            }
            if (s == ivrapi::ConnectionState::reconnecting && !ready_) finish(1, why.message);
        });
    }

    ivrapi::Client& client() { return *client_; }
    Output& out() { return out_; }
    std::chrono::seconds timeout() const { return timeout_; }

    // Connects and waits until subscribed (or failed / timed out).
    void connect() {
        client_->start();
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, timeout_, [&] { return done_ || ready_; })) {
            done_ = true;
            status_ = 1;
            reason_ = "could not connect within " + std::to_string(timeout_.count()) + " s";
        }
    }

    // Ends the command with `status` (first call wins) and wakes wait().
    void finish(int status, const std::string& reason = {}) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (done_) return;
            done_ = true;
            status_ = status;
            reason_ = reason;
        }
        cv_.notify_all();
        examples::ShutdownSignal::raise_now();
    }
    bool done() {
        std::lock_guard<std::mutex> lock(mutex_);
        return done_;
    }
    // Waits for finish() or Ctrl-C; returns the exit status.
    int wait(examples::ShutdownSignal& signal) {
        if (!done()) signal.wait();
        return end();
    }
    // run's Ctrl-C contract: the first SIGINT drains (no new claims; running sessions go
    // on until `drain_timeout`, then what is still controlled is handed back; exit 0 if
    // every step succeeded, else 1); a second one stops at once, still handing every
    // controlled session back, and exits 130. The link never closes while a session
    // of ours is neither ended nor handed back.
    int wait_draining(examples::ShutdownSignal& signal, std::chrono::seconds drain_timeout,
                      const std::function<bool()>& any_failed) {
        if (done()) return end();
        signal.wait();
        if (done()) return end();  // the work finished (finish() woke us)
        const auto outcome = examples::drain_or_stop(*client_, signal, drain_timeout, "ivrapi-cli");
        if (outcome.interrupted_twice) return 130;
        const auto& r = outcome.drained;
        return any_failed() || r.handed_back + r.not_handed_back > 0 ? 1 : 0;
    }

    int end() {
        client_->stop();
        std::lock_guard<std::mutex> lock(mutex_);
        if (!done_) return 0;  // Ctrl-C
        if (status_ != 0 && !reason_.empty()) std::cerr << "ivrapi-cli: " << reason_ << '\n';
        return status_;
    }

private:
    const Args& args_;
    std::unique_ptr<ivrapi::Client> client_;
    Output out_;
    std::chrono::seconds timeout_{10};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<bool> ready_{false};
    bool done_ = false;
    int status_ = 0;
    std::string reason_;
};

int cmd_info(App& app) {
    app.connect();
    if (app.done()) return app.end();
    auto reply = app.client().request("connection_info").get_for(app.timeout() + 1s);
    if (!reply) {
        app.finish(1, reply.error().message);
        return app.end();
    }
    Json body = *reply;
    body.erase("token");
    body.erase("qid");
    app.out().emit(body);
    app.finish(0);
    return app.end();
}

Json event_line(const char* event, const std::string& raw) {
    Json line = Json::object({{"event", event}});
    auto frame = Json::parse(raw);
    if (frame && frame->size() == 2) {
        if (const Json* data = frame->as_array()[1].find("data")) {
            for (const auto& [k, v] : data->as_object()) line.set(k, v);
        }
    }
    return line;
}

int cmd_watch(App& app, const Args& args, examples::ShutdownSignal& signal) {
    const long count = args.number("count", 0, 1);
    std::atomic<long> seen{0};
    auto on_event = [&](const Json& line) {
        app.out().emit(line);
        if (count > 0 && ++seen >= count) app.finish(0);
    };
    app.client().on_offer([&](ivrapi::Offer offer) { on_event(event_line("api_start", offer.info().raw)); });
    app.client().on_api_stop([&](const ivrapi::ApiStopEvent& e) { on_event(event_line("api_stop", e.raw)); });
    app.connect();
    return app.wait(signal);
}

int cmd_upload(App& app, const Args& args) {
    const std::string src = args.get("src"), dest = args.get("dest");
    if (src.empty() || dest.empty()) throw UsageError{"upload-static needs --src URL and --dest PATH"};
    app.connect();
    if (app.done()) return app.end();
    auto path = app.client().upload_static(src, dest).get_for(app.timeout() + 1s);
    if (!path) {
        app.finish(1, path.error().message);
        return app.end();
    }
    app.out().emit(Json::object({{"path", *path}}));
    app.finish(0);
    return app.end();
}

// Runs the flow on one session (a serve() worker: blocking calls are fine). True when
// every step succeeded.
bool run_flow(ivrapi::Session& s, const std::vector<cli::FlowStep>& flow, Output& out) {
    std::map<std::string, std::string> vars;
    Json latest_results = Json::object();
    auto line = [&](std::size_t i) {
        return Json::object({{"ivrid", s.ivrid()}, {"step", static_cast<long long>(i)}});
    };
    for (std::size_t i = 0; i < flow.size(); ++i) {
        const cli::FlowStep& step = flow[i];
        ivrapi::Error error;
        Json result = line(i);
        switch (step.kind) {
            case cli::FlowStep::Kind::apply: {
                auto r = s.apply(ivrapi::Component::from_json(cli::substitute(step.data, vars))).get();
                if (!r) {
                    error = r.error();
                    break;
                }
                latest_results = r->results;
                result.set("oType", step.data.find("oType")->as_int());
                result.set("transferKey", r->transfer_key);
                result.set("results", r->results.is_object() ? r->results : Json::object());
                break;
            }
            case cli::FlowStep::Kind::get_path: {
                const Json* value = latest_results.find(step.result_name);
                if (!value || value->to_text().empty()) {
                    error = ivrapi::Error(ivrapi::Errc::invalid_argument,
                                          "the latest results have no \"" + step.result_name + "\"");
                    break;
                }
                auto link = s.file_get_path(value->to_text()).get();
                if (!link) error = link.error();
                else result.set("link", link->url);
                break;
            }
            case cli::FlowStep::Kind::upload_temp: {
                auto path = s.upload_temp(cli::substitute(step.url, vars)).get();
                if (!path) {
                    error = path.error();
                    break;
                }
                vars[step.as] = *path;
                result.set("path", *path);
                break;
            }
            case cli::FlowStep::Kind::abort: {
                auto r = s.abort().get();
                if (!r) error = r.error();
                else result.set("abort", "ok");
                break;
            }
        }
        if (error.code) {
            result.set("error", error_json(error));
            out.emit(result);
            if (!s.ended()) (void)s.abort().get();
            return false;
        }
        out.emit(result);
        // Ended by the platform after the last step is fine (a hang-up step); before it,
        // the rest of the flow did not run.
        if (s.ended()) return i + 1 == flow.size();
    }
    return true;
}

int cmd_run(App& app, const Args& args, examples::ShutdownSignal& signal) {
    const std::string file = args.get("flow");
    if (file.empty()) throw UsageError{"run needs --flow FILE"};
    std::ifstream in(file);
    if (!in) throw UsageError{"cannot read flow file " + file};
    std::stringstream text;
    text << in.rdbuf();
    auto flow = cli::parse_flow(text.str(), file);
    if (!flow) throw UsageError{flow.error().message};
    const long calls = args.number("calls", 1, 1);
    const long concurrency = args.number("concurrency", 1, 1);

    // A session counts once its flow has returned AND it has ended (or been handed back).
    struct Progress {
        std::mutex m;
        long finished = 0;
        bool any_failed = false;
    };
    auto progress = std::make_shared<Progress>();
    // A call is finished once both its flow (worker thread) and its end (I/O thread) are
    // in; whichever comes second counts it, exactly once.
    struct PerSession {
        std::mutex m;
        bool flow_done = false, ended = false;
    };
    auto mark_done = [&app, progress, calls](const std::shared_ptr<PerSession>& p, bool PerSession::*part,
                                             bool failed) {
        bool finished_now = false;
        {
            std::lock_guard<std::mutex> lock(p->m);
            (*p).*part = true;
            finished_now = p->flow_done && p->ended;
        }
        std::lock_guard<std::mutex> lock(progress->m);
        if (failed) progress->any_failed = true;
        if (finished_now && ++progress->finished >= calls) app.finish(progress->any_failed ? 1 : 0);
    };
    ivrapi::ServeOptions so;
    so.workers = static_cast<std::size_t>(concurrency);
    so.max_concurrent = static_cast<std::size_t>(concurrency);
    so.max_sessions = static_cast<std::size_t>(calls);
    so.wait_for_capacity = 25s;  // the platform gives 30 s to claim
    if (args.values.count("cluster")) {
#ifdef IVRAPI_CLI_HAS_CLUSTER
        ivrapi::cluster::Redis redis;
        redis.url = args.get("cluster");
        if (redis.url.rfind("env:", 0) == 0) {  // the URL (and its password) from the environment
            const char* from_env = std::getenv(redis.url.c_str() + 4);
            if (from_env == nullptr || *from_env == '\0') {
                throw UsageError{"--cluster " + redis.url + ": the variable " + redis.url.substr(4) + " is not set"};
            }
            redis.url = from_env;
        }
        redis.name = args.get("cluster-name");
        if (redis.name.empty()) throw UsageError{"--cluster needs --cluster-name NAME"};
        redis.replica_id = args.get("replica-id");
        redis.lease_ttl = std::chrono::milliseconds(args.number("cluster-lease", 3000, 300));
        redis.grace = std::chrono::milliseconds(args.number("cluster-grace", 500, 0));
        try {
            so.cluster = redis;
        } catch (const std::invalid_argument& e) {
            throw UsageError{std::string("--cluster: ") + e.what()};
        }
        // A call of a dead replica: say so, then hand it back to its script.
        so.on_takeover = [&app](ivrapi::Session& s, const ivrapi::Takeover& t) {
            app.out().emit(Json::object({{"event", "takeover"}, {"ivrid", s.ivrid()}, {"from", t.from}}));
            (void)s.abort().get();
        };
#else
        throw UsageError{"--cluster: this ivrapi-cli was built without the cluster library (hiredis)"};
#endif
    }
    const auto steps = *flow;
    app.client().serve(
        [&app, steps, mark_done](ivrapi::Session& s) {
            const std::string ivrid = s.ivrid();
            auto mine = std::make_shared<PerSession>();
            s.on_dtmf([&app, ivrid](const ivrapi::DtmfEvent& e) {
                app.out().emit(Json::object(
                    {{"ivrid", ivrid}, {"event", "dtmf"}, {"mode", ivrapi::to_string(e.mode)}, {"dtmf", e.dtmf}}));
            });
            s.on_end([&app, ivrid, mine, mark_done](const ivrapi::SessionEnd& e) {
                app.out().emit(
                    Json::object({{"ivrid", ivrid},
                                  {"event", "end"},
                                  {"reason", e.reason_text.empty() ? ivrapi::to_string(e.reason) : e.reason_text}}));
                mark_done(mine, &PerSession::ended, false);
            });
            const bool ok = run_flow(s, steps, app.out());
            mark_done(mine, &PerSession::flow_done, !ok);
            // Still controlled after the last step: serve() hands it back (abort).
        },
        so);
    app.connect();
    return app.wait_draining(signal, std::chrono::seconds(args.number("drain-timeout", 10, 0)), [progress] {
        std::lock_guard<std::mutex> lock(progress->m);
        return progress->any_failed;
    });
}

}  // namespace

int main(int argc, char** argv) {
    examples::ShutdownSignal signal;
    try {
        const Args args = parse_args(argc, argv);
        const std::map<std::string, const char*> help = {
            {"info", kInfoHelp}, {"watch", kWatchHelp}, {"run", kRunHelp}, {"upload-static", kUploadHelp}};
        if (args.version) {
            std::cout << "ivrapi-cli " << ivrapi::version() << "\n";
            return 0;
        }
        if (args.help || args.command.empty()) {
            auto it = help.find(args.command);
            std::cout << (it == help.end() ? kUsage : it->second);
            return args.help ? 0 : 2;
        }
        if (!help.count(args.command)) throw UsageError{"unknown command '" + args.command + "'"};
        if (args.command == "info") {
            App app(args, {});
            return cmd_info(app);
        }
        if (args.command == "upload-static") {
            App app(args, {});
            return cmd_upload(app, args);
        }
        if (args.command == "run") {
            // Check the flow file before connecting.
            App app(args, {"ivrevents.api_start", "ivrevents.api_stop"});
            return cmd_run(app, args, signal);
        }
        App app(args, {"ivrevents.api_start", "ivrevents.api_stop"});
        return cmd_watch(app, args, signal);
    } catch (const UsageError& e) {
        std::cerr << "ivrapi-cli: " << e.message << " (see --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "ivrapi-cli: " << e.what() << '\n';
        return 1;
    }
}
