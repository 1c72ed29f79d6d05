// Soak: many calls through the mock platform while its connections drop every 2-5 s.
// What must hold (issue 10): no component result lost without the bot being told (a
// result can go with the link: see the first test), none duplicated, no step error
// caused by the drops, every call ended, and the run ends within a bound.
// Label "soak"; scripts/soak.sh runs it with more calls and prints the figures.
#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {

long env_number(const char* name, long fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

struct Figures {
    long calls = 0, handled = 0, claim_failures = 0, retried = 0, offers_missed = 0, step_errors = 0, results = 0,
         results_lost = 0, results_duplicated = 0, calls_not_ended = 0, drops = 0, reconnects = 0, components_lost = 0;
    std::map<std::string, long> error_codes;
    std::map<std::string, long> end_reasons;  // as the platform ended each call
};

// What the bot saw per call: successful results per component type.
struct BotLog {
    std::mutex m;
    std::map<std::string, std::map<int, long>> results;  // ivrid -> oType -> count
    long handled = 0, step_errors = 0, claim_failures = 0, retried = 0;
    std::map<std::string, long> error_codes;
    void step(const std::string& ivrid, int o_type, const Result<ComponentStopped>& r) {
        std::lock_guard<std::mutex> lock(m);
        if (r) {
            ++results[ivrid][o_type];
        } else {
            ++step_errors;
            ++error_codes[errc_name(static_cast<Errc>(r.error().code.value()))];
        }
    }
};

Figures soak(long calls, long calls_per_second, mock::ServerOptions mo) {
    mo.default_play_duration = 150ms;
    mo.record_duration = 300ms;
    mo.detached_timeout = 10s;  // a call whose controller never comes back ends
    mock::Server server(mo);

    ClientOptions o;
    o.url = server.url();
    o.token = server.options().token;
    o.reconnect.initial_delay = 50ms;
    o.reconnect.max_delay = 200ms;
    o.request_timeout = 5s;
    o.component_probe_timeout = 3s;
    std::atomic<long> claim_failures{0};
    o.log_level = LogLevel::info;
    o.log = [&claim_failures](LogLevel, const std::string& line) {
        if (line.find("serve: claim failed") != std::string::npos) ++claim_failures;
    };
    Client client(o);

    BotLog bot;
    ServeOptions so;
    so.workers = 32;
    so.wait_for_capacity = 20s;
    client.serve(
        [&bot](Session& s) {
            {
                std::lock_guard<std::mutex> lock(bot.m);
                ++bot.handled;
            }
            // What a bot does with component_lost: run that step again (the platform
            // never ran it, or its result was lost with the link).
            auto run = [&](const Component& c) {
                auto r = s.apply(c).get();
                if (!r && r.error().is(Errc::component_lost)) {
                    std::lock_guard<std::mutex> lock(bot.m);
                    ++bot.retried;
                }
                if (!r && r.error().is(Errc::component_lost)) r = s.apply(c).get();
                return r;
            };
            Play prompt;
            prompt.file = ":GS_PUB/soak.wav";
            auto played = run(prompt);
            bot.step(s.ivrid(), 204, played);
            if (!played) return;
            Record rec;
            rec.max_duration = std::chrono::seconds(5);
            auto recorded = run(rec);
            bot.step(s.ivrid(), 208, recorded);
            if (!recorded) return;
            auto link = s.file_get_path(recorded->result("nameVar")).get();
            if (!link) {
                std::lock_guard<std::mutex> lock(bot.m);
                ++bot.step_errors;
                ++bot.error_codes["get_path:" + std::string(errc_name(static_cast<Errc>(link.error().code.value())))];
                return;
            }
            auto hung_up = run(Hangup{});
            if (!hung_up && hung_up.error().is(Errc::session_ended)) {
                // The hang-up ended the call while the link was down: its api_stop and
                // stopped event went with the call; for the bot the step is done.
                ComponentStopped done;
                done.transfer_key = "session_ended";
                hung_up = done;
            }
            bot.step(s.ivrid(), 201, hung_up);
        },
        so);
    REQUIRE(client.wait_ready(10s));

    // The link drops every 2-5 s while the calls run.
    std::atomic<bool> done{false};
    std::atomic<long> drops{0};
    std::mutex m;
    std::condition_variable cv;
    std::thread dropper([&] {
        std::mt19937 rng(42);
        std::uniform_int_distribution<int> every(2000, 5000);
        std::unique_lock<std::mutex> lock(m);
        while (!cv.wait_for(lock, std::chrono::milliseconds(every(rng)), [&] { return done.load(); })) {
            server.drop_connections();
            ++drops;
        }
    });

    std::vector<mock::Call> started;
    const auto gap = std::chrono::microseconds(1000000 / calls_per_second);
    auto next = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; ++i) {
        started.push_back(server.start_call());
        next += gap;
        std::this_thread::sleep_until(next);  // the offered load, not synchronisation
    }
    Figures f;
    f.calls = calls;
    for (auto& c : started) {
        if (!c.wait_ended(60s)) ++f.calls_not_ended;
    }
    {
        std::lock_guard<std::mutex> lock(m);
        done = true;
    }
    cv.notify_all();
    dropper.join();
    client.stop();

    std::lock_guard<std::mutex> lock(bot.m);
    f.handled = bot.handled;
    f.retried = bot.retried;
    f.claim_failures = claim_failures;
    f.offers_missed = static_cast<long>(calls) - static_cast<long>(client.stats().offers);
    f.step_errors = bot.step_errors;
    f.error_codes = bot.error_codes;
    f.drops = drops;
    f.reconnects = static_cast<long>(client.stats().reconnects);
    f.components_lost = static_cast<long>(client.stats().components_lost);
    for (auto& c : started) {
        ++f.end_reasons[c.end_reason()];
        std::map<int, long> completed;  // what the platform reported stopped, per oType
        for (const auto& comp : c.components()) {
            if (comp.o_type == 103 || comp.running || comp.transfer_key.empty()) continue;  // probes, cut ones
            ++completed[comp.o_type];
        }
        auto& got = bot.results[c.ivrid()];
        for (const auto& [o_type, n] : completed) {
            const long seen = got.count(o_type) ? got[o_type] : 0;
            if (seen < n) f.results_lost += n - seen;
        }
        for (const auto& [o_type, n] : got) {
            f.results += n;
            const long reported = completed.count(o_type) ? completed[o_type] : 0;
            if (n > reported) f.results_duplicated += n - reported;
        }
    }
    return f;
}

void print(const char* title, const Figures& f) {
    std::cout << title << ": calls " << f.calls << ", handled " << f.handled << ", results " << f.results << ", lost "
              << f.results_lost << ", duplicated " << f.results_duplicated << ", step errors " << f.step_errors
              << ", calls not ended " << f.calls_not_ended << ", link drops " << f.drops << ", reconnects "
              << f.reconnects << ", components lost " << f.components_lost << " (steps run again " << f.retried
              << "), offers missed while the link was down " << f.offers_missed << ", claims failed "
              << f.claim_failures << '\n';
    for (const auto& [code, n] : f.error_codes) std::cout << "  error " << code << ": " << n << '\n';
    for (const auto& [why, n] : f.end_reasons) std::cout << "  calls ended with reason '" << why << "': " << n << '\n';
}

}  // namespace

TEST_CASE("soak: calls through a link that drops every 2-5 s lose nothing silently and duplicate nothing") {
    const long calls = env_number("IVRAPI_SOAK_CALLS", 1000);
    const long rate = env_number("IVRAPI_SOAK_RATE", 40);
    const auto started = std::chrono::steady_clock::now();
    const Figures f = soak(calls, rate, mock::ServerOptions{});
    print("soak (link drops)", f);
    CHECK(f.calls_not_ended == 0);
    // A stopped event the platform writes in the last moment before a drop goes with the
    // link (seen: sent 1 ms before the drop, never read). After the re-claim the SDK's
    // probe finds nothing running and fails the step with component_lost, and the bot
    // runs it again: the result is lost, but never silently. Rare (0-1 in 1,000 calls).
    CHECK(f.results_lost <= f.components_lost);
    CHECK(f.results_lost <= f.drops);
    CHECK(f.results_duplicated == 0);
    CHECK(f.step_errors == 0);
    CHECK(f.drops >= 3);
    // Every offer that reached the client was claimed and driven. Offers the platform
    // emitted while the link was down never reach this connection (docs/reliability.md).
    CHECK(f.handled + f.offers_missed >= f.calls - f.claim_failures);
    CHECK(f.claim_failures <= f.drops);  // at most the accept in flight at each drop
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(calls / rate + 90));
}

TEST_CASE("soak: with a platform that loses the events of a detached call, no call is stranded") {
    const long calls = env_number("IVRAPI_SOAK_LOST_CALLS", 300);
    const long rate = env_number("IVRAPI_SOAK_RATE", 40);
    mock::ServerOptions mo;
    mo.lose_events_while_detached = true;
    const auto started = std::chrono::steady_clock::now();
    const Figures f = soak(calls, rate, mo);
    print("soak (link drops, events lost)", f);
    // A result the platform lost cannot reach the bot; the SDK learns it was lost
    // (component_lost, and the bot runs that step again) instead of waiting 15 minutes.
    CHECK(f.calls_not_ended == 0);
    CHECK(f.results_duplicated == 0);
    CHECK(f.step_errors == 0);
    CHECK(f.results_lost <= f.components_lost);
    CHECK(f.handled + f.offers_missed >= f.calls - f.claim_failures);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(calls / rate + 90));
}
