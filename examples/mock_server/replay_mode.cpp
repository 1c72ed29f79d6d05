// ivrapi-mock-server --replay FILE: the platform's side of a recorded call (a cassette),
// for bots in any language. Exit status 0 when the bot did what the recording did, 1 on
// the first divergence (reported on stderr with both frames), 2 on bad usage.
#include "replay_mode.hpp"

#include <ivrapi/mock/replay.hpp>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace {

int usage(const std::string& msg) {
    std::fprintf(stderr, "ivrapi-mock-server: %s\n(try --help)\n", msg.c_str());
    return 2;
}

}  // namespace

int run_replay_mode(const std::vector<std::string>& args) {
    ivrapi::mock::ReplayOptions o;
    std::string file;
    long long timeout_s = 600;
    bool quiet = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        auto number = [&](double& out) {
            char* end = nullptr;
            out = std::strtod(args[i + 1].c_str(), &end);
            return !args[i + 1].empty() && *end == '\0';
        };
        if (a == "--replay" || a == "--ivrid" || a == "--offer-ivrid" || a == "--speed" || a == "--port" ||
            a == "--token" || a == "--ignore" || a == "--replay-timeout") {
            if (!has_value) return usage(a + " needs a value");
            double d = 0;
            if (a == "--replay") file = args[i + 1];
            else if (a == "--ivrid") o.ivrid = args[i + 1];
            else if (a == "--offer-ivrid") o.offer_ivrid = args[i + 1];
            else if (a == "--token") o.token = args[i + 1];
            else if (a == "--ignore") o.ignore_fields.push_back(args[i + 1]);
            else if (!number(d)) return usage(a + " expects a number, got '" + args[i + 1] + "'");
            else if (a == "--speed") {
                if (!(d > 0)) return usage("--speed must be > 0");
                o.speed = d;
            } else if (a == "--port") {
                if (d < 0 || d > 65535 || d != static_cast<int>(d)) return usage("--port out of range");
                o.port = static_cast<std::uint16_t>(d);
            } else {
                if (!(d >= 1)) return usage("--replay-timeout must be >= 1");
                timeout_s = static_cast<long long>(d);
            }
            ++i;
        } else if (a == "--quiet") {
            quiet = true;
        } else {
            return usage("option " + a +
                         " does not go with --replay (it takes --ivrid, --offer-ivrid, --speed, "
                         "--port, --token, --ignore, --replay-timeout, --quiet)");
        }
    }
    if (!quiet) {
        o.log = [](const std::string& line) {
            std::fprintf(stdout, "%s\n", line.c_str());
            std::fflush(stdout);
        };
    }
    std::unique_ptr<ivrapi::mock::Replay> replay;
    try {
        replay = std::make_unique<ivrapi::mock::Replay>(file, o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ivrapi-mock-server: %s\n", e.what());
        return 2;
    }
    std::fprintf(stdout, "ivrapi-mock-server replaying %s\n  url:   %s  (any token unless --token)\n  call:  %s\n",
                 file.c_str(), replay->url().c_str(), replay->ivrid().c_str());
    std::fflush(stdout);

    // Ctrl-C / SIGTERM (blocked by main) end the wait early, as a failure; SIGUSR1 ends
    // the watcher once the replay is over.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread watcher([&replay, signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig != SIGUSR1) replay->stop();
    });
    auto report = replay->wait(std::chrono::seconds(timeout_s));
    pthread_kill(watcher.native_handle(), SIGUSR1);
    watcher.join();
    replay->stop();
    std::fprintf(report.passed ? stdout : stderr, "%s\n", report.to_string().c_str());
    return report.passed ? 0 : 1;
}
