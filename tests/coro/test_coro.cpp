// <ivrapi/coro.hpp> (compiled as C++20 against the C++17 library): awaitable
// operations, tasks, the coroutine serve, the coroutine menu bot, and awaits that
// complete when the session ends or the client stops instead of hanging.
#include <ivrapi/coro.hpp>
#include <ivrapi/mock/server.hpp>

#include "menu_coro/menu_coro.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

using namespace ivrapi;
using namespace std::chrono_literals;

static_assert(__cplusplus >= 202002L, "this test is compiled as C++20");

namespace {

// A value set from a callback or coroutine on the I/O thread, read on the test thread.
template <typename T>
class Box {
public:
    // Notifies under the lock: the reader may destroy the box as soon as it sees the value.
    void set(T v) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (value_) return;
        value_.emplace(std::move(v));
        cv_.notify_all();
    }
    std::optional<T> get(std::chrono::milliseconds timeout = 10s) {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait_for(lock, timeout, [&] { return value_.has_value(); });
        return value_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<T> value_;
};

ClientOptions options_for(const mock::Server& server) {
    ClientOptions o;
    o.url = server.url();
    o.token = server.options().token;
    o.reconnect.initial_delay = 50ms;
    return o;
}

co::Task<int> forty_two() { co_return 42; }
co::Task<int> add_one() { co_return(co_await forty_two()) + 1; }
co::Task<> thrower() {
    throw std::runtime_error("boom");
    co_return;
}

}  // namespace

TEST_CASE("client coro: tasks compose, values and exceptions propagate") {
    int got = 0;
    co::sync_wait([](int& out) -> co::Task<> { out = co_await add_one(); }(got));
    CHECK(got == 43);
    CHECK_THROWS_WITH(co::sync_wait(thrower()), "boom");
    Box<std::string> error;
    co::spawn(thrower(), [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            error.set(ex.what());
        }
    });
    CHECK(error.get() == std::optional<std::string>("boom"));
}

TEST_CASE("client coro: accept, record, file link, request and hang-up, all awaited") {
    mock::ServerOptions so;
    so.record_duration = 200ms;
    mock::Server server(so);
    server.add_http_resource("/files/a.wav", "RIFF....WAVE");
    struct Outcome {
        std::string recording, link, domain, stored;
        bool hung_up = false;
        std::thread::id thread;
    };
    Box<Outcome> outcome;  // before the client, which resumes the coroutines: it goes first
    Client client(options_for(server));
    auto handle = [&](Offer offer) -> co::Task<> {
        Outcome out;
        auto session = co_await co::accept(offer);
        if (!session) co_return;
        auto rec = co_await co::record(*session, 5s);
        out.thread = std::this_thread::get_id();
        if (rec) out.recording = rec->result("nameVar");
        auto link = co_await co::file_get_path(*session, out.recording);
        if (link) out.link = link->url;
        auto info = co_await co::request(client, "connection_info");
        if (info) out.domain = info->find("domain")->as_string();
        auto stored = co_await co::upload_static(client, server.http_url("/files/a.wav"), ":GS_PUB/coro");
        if (stored) out.stored = *stored;
        out.hung_up = co_await co::hangup(*session) ? true : false;
        outcome.set(out);
    };
    client.on_offer([&](Offer o) { co::spawn(handle(o)); });
    client.start();
    REQUIRE(client.wait_ready(10s));
    auto call = server.start_call();
    auto got = outcome.get();
    REQUIRE(got);
    CHECK(got->recording.rfind(":TEMP/", 0) == 0);
    CHECK(got->link.rfind("http://127.0.0.1:", 0) == 0);
    CHECK(got->domain == "mock.era.local");
    CHECK(got->stored.rfind(":GS_PUB/coro", 0) == 0);
    CHECK(got->hung_up);
    CHECK(got->thread != std::this_thread::get_id());  // resumed on the I/O thread
    CHECK(call.wait_ended(10s));
}

TEST_CASE("client coro: the coroutine menu bot transfers on '2' (coroutine serve)") {
    mock::ServerOptions so;
    so.default_play_duration = 300ms;
    mock::Server server(so);
    std::mutex m;
    std::vector<std::string> said;
    Client client(options_for(server));
    co::serve(client, [&](Session call) {
        return examples::run_menu(call, "5550100", [&](const std::string& s) {
            std::lock_guard<std::mutex> lock(m);
            said.push_back(s);
        });
    });
    REQUIRE(client.wait_ready(10s));
    mock::CallOptions caller;
    caller.caller_dtmf = {{100ms, "2"}};  // during the menu: interrupts it
    auto call = server.start_call(caller);
    REQUIRE(server.wait_for([&](const mock::Server&) { return !call.transferred_to().empty(); }, 10s));
    CHECK(call.transferred_to() == "5550100");
    auto played = call.played_files();
    REQUIRE(!played.empty());
    CHECK(played[0] == ":GS_PUB/prompts/menu.wav");
    REQUIRE(server.wait_for(
        [&](const mock::Server&) {
            std::lock_guard<std::mutex> lock(m);
            return said.size() >= 2;
        },
        10s));
    std::lock_guard<std::mutex> lock(m);
    CHECK(said[0] == "attempt 1: caller chose '2'");
    CHECK(said[1] == "transferred to 5550100: transfer");
}

TEST_CASE("client coro: a pending await completes with session_ended when the caller hangs up") {
    mock::ServerOptions so;
    so.default_play_duration = 60s;  // would hang a test that waits for it
    mock::Server server(so);
    Box<Error> ended_with;
    Client client(options_for(server));
    co::serve(client, [&](Session call) -> co::Task<> {
        auto r = co_await co::play(call, ":GS_PUB/long.wav");
        ended_with.set(r ? Error() : r.error());
        // A new operation on the ended session fails at once, without the wire.
        auto again = co_await co::play(call, ":GS_PUB/long.wav");
        if (again) ended_with.set(Error());
    });
    REQUIRE(client.wait_ready(10s));
    auto call = server.start_call();
    REQUIRE(server.wait_for([&](const mock::Server&) { return call.played_files().size() == 1; }, 10s));
    call.hangup();
    auto error = ended_with.get();
    REQUIRE(error);
    CHECK(error->code == Errc::session_ended);
    CHECK(server.request_count("ivrapi_component_apply") == 1);
}

TEST_CASE("client coro: awaits complete with stopped when the client stops") {
    mock::ServerOptions so;
    so.default_play_duration = 60s;
    mock::Server server(so);
    Box<Error> play_result, sleep_result;
    Box<bool> playing;
    Box<Error> late;
    Client client(options_for(server));
    client.on_offer([&](Offer offer) {
        co::spawn([](Offer o, Box<Error>& result, Box<bool>& started) -> co::Task<> {
            auto s = co_await co::accept(o);
            if (!s) co_return;
            started.set(true);
            auto r = co_await co::play(*s, ":GS_PUB/long.wav");
            result.set(r ? Error() : r.error());
        }(offer, play_result, playing));
    });
    client.start();
    REQUIRE(client.wait_ready(10s));
    co::spawn([](Client& c, Box<Error>& result) -> co::Task<> {
        auto r = co_await co::sleep(c, std::chrono::hours(1));
        result.set(r ? Error() : r.error());
    }(client, sleep_result));
    server.start_call();
    REQUIRE(playing.get());
    client.stop();
    auto played = play_result.get();
    auto slept = sleep_result.get();
    REQUIRE(played);
    REQUIRE(slept);
    CHECK(played->code == Errc::stopped);
    CHECK(slept->code == Errc::stopped);
    // After the stop an await completes at once, without suspending.
    co::spawn([](Client& c, Box<Error>& result) -> co::Task<> {
        auto r = co_await co::sleep(c, 1ms);
        result.set(r ? Error() : r.error());
    }(client, late));
    auto l = late.get(1s);
    REQUIRE(l);
    CHECK(l->code == Errc::stopped);
}

TEST_CASE("client coro: sleep resumes after the delay, on the I/O thread") {
    mock::Server server;
    Box<std::chrono::steady_clock::duration> waited;
    Client client(options_for(server));
    client.start();
    REQUIRE(client.wait_ready(10s));
    const auto start = std::chrono::steady_clock::now();
    co::spawn([](Client& c, Box<std::chrono::steady_clock::duration>& out,
                 std::chrono::steady_clock::time_point t0) -> co::Task<> {
        auto r = co_await co::sleep(c, 150ms);
        if (r) out.set(std::chrono::steady_clock::now() - t0);
    }(client, waited, start));
    auto w = waited.get();
    REQUIRE(w);
    CHECK(*w >= 150ms);
}
