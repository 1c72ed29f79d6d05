// The client on the caller's io_context (<ivrapi/asio.hpp>), and Client::post/after.
#include <ivrapi/asio.hpp>
#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {

ClientOptions options_for(const mock::Server& server) {
    ClientOptions o;
    o.url = server.url();
    o.token = server.options().token;
    o.reconnect.initial_delay = 50ms;
    return o;
}

// Values collected in callbacks, checked on the test thread.
struct Notes {
    std::mutex mutex;
    std::condition_variable cv;
    std::set<std::thread::id> threads;
    std::vector<std::string> events;
    void add(const std::string& e) {
        std::lock_guard<std::mutex> lock(mutex);  // notify under it: see Box in test_coro.cpp
        threads.insert(std::this_thread::get_id());
        events.push_back(e);
        cv.notify_all();
    }
    bool wait_for(const std::string& e, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock<std::mutex> lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return std::find(events.begin(), events.end(), e) != events.end(); });
    }
    bool has(const std::string& e) {
        std::lock_guard<std::mutex> lock(mutex);
        return std::find(events.begin(), events.end(), e) != events.end();
    }
};

// Runs io.run() on a thread of the test's; `ended` once run() returned.
struct ContextThread {
    asio::io_context& io;
    std::promise<void> ended;
    std::thread thread;
    std::thread::id id;
    explicit ContextThread(asio::io_context& context) : io(context) {
        std::promise<std::thread::id> started;
        auto started_f = started.get_future();
        thread = std::thread([this, &started] {
            started.set_value(std::this_thread::get_id());
            io.run();
            ended.set_value();
        });
        id = started_f.get();
    }
    ~ContextThread() {
        io.stop();  // a failed REQUIRE leaves the client holding the context: don't hang
        if (thread.joinable()) thread.join();
    }
};

}  // namespace

TEST_CASE("client asio: one user thread runs the io_context with the client and a user timer side by side") {
    mock::ServerOptions so;
    so.default_play_duration = 300ms;
    mock::Server server(so);
    asio::io_context io;
    auto client = make_client(io, options_for(server));
    Notes notes;
    std::atomic<int> ticks{0};
    std::atomic<int> ticks_during_play{0};
    std::atomic<bool> playing{false};
    std::atomic<bool> stop_ticking{false};
    Errc get_on_io_thread = Errc{};

    // The user's own timer on the same context.
    asio::steady_timer timer(io);
    std::function<void()> tick = [&] {
        timer.expires_after(20ms);
        timer.async_wait([&](const std::error_code& ec) {
            // A wait that already completed is not aborted by cancel(): the flag ends it.
            if (ec || stop_ticking) return;
            ++ticks;
            if (playing) ++ticks_during_play;
            notes.add("tick");
            tick();
        });
    };
    tick();

    client->on_state([&](ConnectionState s, const Error&) {
        if (s == ConnectionState::ready) notes.add("ready");
    });
    client->on_offer([&](Offer offer) {
        notes.add("offer");
        offer.accept([&](Result<Session> s) {
            if (!s) return notes.add("accept failed");
            Session session = *s;
            // Blocking here would stall the loop: the SDK says so instead of hanging.
            get_on_io_thread = client->request("connection_info").get().error().code == Errc::would_deadlock
                                   ? Errc::would_deadlock
                                   : Errc{};
            playing = true;
            Play p;
            p.file = ":GS_PUB/hello.wav";
            session.apply(p, [&, session](Result<ComponentStopped> r) mutable {
                playing = false;
                notes.add(r ? "played" : "play failed");
                session.apply(Hangup{}, [&](Result<ComponentStopped>) { notes.add("hung up"); });
            });
        });
    });
    client->start();
    ContextThread runner(io);
    REQUIRE(notes.wait_for("ready"));
    auto call = server.start_call();
    REQUIRE(notes.wait_for("hung up"));
    CHECK(call.wait_ended(10s));
    CHECK(notes.has("played"));
    CHECK(get_on_io_thread == Errc::would_deadlock);
    CHECK(ticks_during_play >= 3);  // the user's timer kept running during the call
    {
        std::lock_guard<std::mutex> lock(notes.mutex);
        CHECK(notes.threads == std::set<std::thread::id>{runner.id});  // everything on the one thread
    }
    // stop() from this thread waits until the context ran the shutdown; then only the
    // user's timer keeps the context busy.
    client->stop();
    CHECK(client->state() == ConnectionState::stopped);
    asio::post(io, [&] {
        stop_ticking = true;
        timer.cancel();
    });
    auto ended = runner.ended.get_future();
    CHECK(ended.wait_for(10s) == std::future_status::ready);
    client.reset();
}

TEST_CASE("client asio: stop and destroy from inside a handler; the context then runs dry") {
    mock::Server server;
    asio::io_context io;
    auto client = make_client(io, options_for(server));
    std::atomic<bool> destroyed{false};
    client->on_state([&](ConnectionState s, const Error&) {
        if (s != ConnectionState::ready) return;
        client.reset();  // stop() + release, from the client's own callback
        destroyed = true;
    });
    client->start();
    ContextThread runner(io);
    auto ended = runner.ended.get_future();
    REQUIRE(ended.wait_for(10s) == std::future_status::ready);  // nothing of the client is left
    CHECK(destroyed);
    CHECK(server.wait_for([](const mock::Server& s) { return s.connection_count() == 0; }, 10s));
}

TEST_CASE("client asio: a library built with another Asio is refused at run time too") {
    asio::io_context io;
    ClientOptions o;
    o.url = "ws://127.0.0.1:1/ws/token/v1";
    o.token = "t";
    CHECK_THROWS_WITH(
        detail::ClientFactory::on_asio_context(&io, o, 100000),
        Catch::Contains("uses Asio 100000 but the library was built with Asio " + std::to_string(ASIO_VERSION)));
}

TEST_CASE("client post/after: on the I/O thread, in order, after the delay; nothing once stopped") {
    mock::Server server;
    Client client(options_for(server));
    std::mutex m;
    std::condition_variable cv;
    std::vector<int> order;
    std::set<std::thread::id> threads;
    std::chrono::steady_clock::duration waited{};
    auto note = [&](int n) {
        std::lock_guard<std::mutex> lock(m);
        order.push_back(n);
        threads.insert(std::this_thread::get_id());
        cv.notify_all();
    };
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(client.after(100ms, [&] {
        waited = std::chrono::steady_clock::now() - t0;
        note(3);
    }));
    REQUIRE(client.post([&] { note(1); }));
    REQUIRE(client.post([&] { throw std::runtime_error("a bad task"); }));
    REQUIRE(client.post([&] { note(2); }));
    {
        std::unique_lock<std::mutex> lock(m);
        REQUIRE(cv.wait_for(lock, 10s, [&] { return order.size() == 3; }));
        CHECK(order == std::vector<int>{1, 2, 3});
        CHECK(waited >= 100ms);
        CHECK(threads.size() == 1);
        CHECK(*threads.begin() != std::this_thread::get_id());
    }
    CHECK(client.stats().callback_errors == 1);  // the throwing task, logged and counted
    std::atomic<bool> late{false};
    REQUIRE(client.after(1h, [&] { late = true; }));
    client.stop();
    CHECK_FALSE(client.post([&] { late = true; }));
    CHECK_FALSE(client.after(1ms, [&] { late = true; }));
    CHECK_FALSE(late);
}

TEST_CASE("client asio: stop hands a controlled session back on the caller's context, then lets it run dry") {
    mock::ServerOptions so;
    so.default_play_duration = 60s;
    mock::Server server(so);
    asio::io_context io;
    Notes notes;  // before the client: its callbacks write here until it is gone
    auto client = make_client(io, options_for(server));
    client->on_offer([&](Offer offer) {
        offer.accept([&](Result<Session> s) {
            if (s) notes.add("claimed");
        });
    });
    client->start();
    ContextThread runner(io);
    REQUIRE(server.wait_for([](const mock::Server& s) { return s.subscription_count() == 1; }, 10s));
    auto call = server.start_call();
    REQUIRE(notes.wait_for("claimed"));
    client->stop();  // from this thread, while the user's thread runs the context
    CHECK(call.wait_ended(10s));
    CHECK(call.end_reason() == "abort");
    auto ended = runner.ended.get_future();
    CHECK(ended.wait_for(10s) == std::future_status::ready);
    client.reset();
}
