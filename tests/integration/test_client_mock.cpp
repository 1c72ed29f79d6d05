// The SDK client against the mock platform over real loopback sockets (ws and wss).
#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {

const std::string kCerts = IVRAPI_TEST_CERT_DIR;

struct LogCapture {
    std::mutex mutex;
    std::vector<std::string> lines;
    LogSink sink() {
        return [this](LogLevel, const std::string& l) {
            std::lock_guard<std::mutex> lock(mutex);
            lines.push_back(l);
        };
    }
    bool contains(const std::string& needle) {
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& l : lines) {
            if (l.find(needle) != std::string::npos) return true;
        }
        return false;
    }
};

ClientOptions options_for(const mock::Server& server, bool token_in_path = false) {
    ClientOptions o;
    o.url = token_in_path ? server.url_with_token() : server.url();
    if (!token_in_path) o.token = server.options().token;
    o.request_timeout = 5s;
    o.reconnect.initial_delay = 50ms;
    o.reconnect.max_delay = 500ms;
    if (server.options().tls) o.tls.ca_file = kCerts + "/ca.pem";
    return o;
}

mock::ServerOptions fast_mock() {
    mock::ServerOptions o;
    o.default_play_duration = 100ms;
    o.record_duration = 100ms;
    return o;
}

// Waits for the first offer, with a bound.
struct OfferBox {
    std::promise<Offer> promise;
    std::once_flag once;
    std::function<void(Offer)> handler() {
        return [this](Offer o) { std::call_once(once, [&] { promise.set_value(std::move(o)); }); };
    }
    // Routes the client's offers here, starts it and waits until it is subscribed.
    void attach(Client& client) {
        client.on_offer(handler());
        client.start();
        REQUIRE(client.wait_ready(10s));
    }
    Offer get() {
        auto f = promise.get_future();
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        return f.get();
    }
};

// The reason of the client's first link loss (its first "reconnecting" state).
struct FirstDrop {
    std::promise<Error> promise;
    std::once_flag once;
    void watch(Client& client) {
        client.on_state([this](ConnectionState s, const Error& why) {
            if (s == ConnectionState::reconnecting) std::call_once(once, [&] { promise.set_value(why); });
        });
    }
    Error get() {
        auto f = promise.get_future();
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        return f.get();
    }
};

}  // namespace

TEST_CASE("integration: full session life cycle with futures (ws, bearer token)") {
    mock::Server server(fast_mock());
    LogCapture logs;
    ClientOptions o = options_for(server);
    o.log = logs.sink();
    o.log_level = LogLevel::debug;
    Client client(o);
    OfferBox offers;
    offers.attach(client);
    CHECK(client.connection_info().has_capability("ivrapi"));
    CHECK(client.connection_info().domain == "mock.era.local");

    mock::CallOptions call;
    call.params = R"({"lang":"en"})";
    call.state = mock::CallState::dialog;
    call.caller_dtmf = {{200ms, "4"}, {250ms, "2"}};
    mock::Call mc = server.start_call(call);

    Offer offer = offers.get();
    CHECK(offer.ivrid() == mc.ivrid());
    CHECK(offer.key() == "key");
    CHECK(offer.state() == CallState::dialog);
    REQUIRE(offer.info().params_json);
    CHECK(offer.info().params_json->find("lang")->as_string() == "en");
    auto accepted = offer.accept().get_for(10s);
    REQUIRE(accepted.ok());
    Session s = *accepted;

    std::mutex m;
    std::string dtmf;
    s.on_dtmf([&](const DtmfEvent& e) {
        std::lock_guard<std::mutex> lock(m);
        dtmf += e.dtmf;
    });
    auto played = s.play(":GS_PUB/hello.wav").get_for(10s);
    REQUIRE(played.ok());
    CHECK(played->transfer_key == "transfer");

    auto digits = s.collect_digits(2, 5s, 2s).get_for(10s);
    REQUIRE(digits.ok());
    CHECK(digits->result("dtmfBuffer") == "42");

    auto rec = s.record(2s, "#").get_for(10s);
    REQUIRE(rec.ok());
    const std::string path = rec->result("nameVar");
    CHECK(path.rfind(":TEMP/", 0) == 0);
    auto link = s.file_get_path(path).get_for(10s);
    REQUIRE(link.ok());
    CHECK(link->url == server.http_url(link->path));

    std::promise<SessionEnd> ended;
    s.on_end([&](const SessionEnd& e) { ended.set_value(e); });
    auto bye = s.hangup().get_for(10s);
    REQUIRE(bye.ok());
    auto end_future = ended.get_future();
    REQUIRE(end_future.wait_for(10s) == std::future_status::ready);
    CHECK(end_future.get().reason == StopReason::script);
    CHECK(s.wait_ended(1s));
    CHECK(mc.played_files() == std::vector<std::string>{":GS_PUB/hello.wav"});
    CHECK(mc.end_reason() == "script");
    CHECK(client.stats().active_sessions == 0);
    CHECK(client.stats().messages_out > 5);
    CHECK_FALSE(logs.contains(server.options().token));
}

TEST_CASE("integration: callbacks on the I/O thread (token in the path)") {
    mock::Server server(fast_mock());
    LogCapture logs;
    ClientOptions o = options_for(server, true);
    o.log = logs.sink();
    o.log_level = LogLevel::trace;
    Client client(o);
    std::promise<std::string> result;
    std::atomic<bool> on_io_thread_blocking_refused{false};
    client.on_offer([&](Offer offer) {
        offer.accept([&](Result<Session> r) {
            if (!r) {
                result.set_value("accept failed: " + r.error().message);
                return;
            }
            Session s = *r;
            // A blocking get() here would deadlock: the SDK refuses it.
            auto f = s.play("x.wav");
            on_io_thread_blocking_refused = f.get().error().is(Errc::would_deadlock);
            // f's component is running; chain with callbacks instead.
            s.terminate([&, s](Result<void>) mutable {
                s.apply(Hangup{},
                        [&](Result<ComponentStopped> h) { result.set_value(h ? h->transfer_key : h.error().message); });
            });
        });
    });
    client.start();
    REQUIRE(client.wait_ready(10s));
    auto call = server.start_call();
    auto f = result.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get() == "transfer");
    CHECK(on_io_thread_blocking_refused);
    CHECK(call.wait_ended(10s));
    CHECK_FALSE(logs.contains(server.options().token));
    CHECK(logs.contains("websocketpp: "));  // websocketpp's own lines reach the sink
}

TEST_CASE("integration: an operation started on the I/O thread is sent before the handler returns") {
    // A bot reacting in a handler pays no extra loop turn: accept and apply go out at once.
    mock::Server server(fast_mock());
    Client client(options_for(server));
    std::atomic<long long> sent_by_accept{-1}, sent_by_apply{-1};
    std::promise<void> done;
    client.on_offer([&](Offer offer) {
        const auto before = client.stats().messages_out;
        offer.accept([&](Result<Session> s) {
            if (!s) return;  // (no Catch2 assertion off the test thread) the wait below fails
            Session session = *s;
            const auto before_apply = client.stats().messages_out;
            Play play;
            play.file = ":GS_PUB/x.wav";
            session.apply(play, [&](Result<ComponentStopped>) { done.set_value(); });
            sent_by_apply = static_cast<long long>(client.stats().messages_out - before_apply);
        });
        sent_by_accept = static_cast<long long>(client.stats().messages_out - before);
    });
    client.start();
    REQUIRE(client.wait_ready(5s));
    server.start_call();
    REQUIRE(done.get_future().wait_for(5s) == std::future_status::ready);
    CHECK(sent_by_accept == 1);
    CHECK(sent_by_apply == 1);
    client.stop();
}

TEST_CASE("integration: two clients race for one call and exactly one wins") {
    mock::Server server(fast_mock());
    std::atomic<int> wins{0}, losses{0};
    std::promise<void> both;
    std::atomic<int> done{0};
    auto make = [&] {
        auto c = std::make_unique<Client>(options_for(server));
        c->on_offer([&](Offer offer) {
            offer.accept([&](Result<Session> r) {
                if (r) ++wins;
                else if (r.error().is(Errc::lost_race)) ++losses;
                if (++done == 2) both.set_value();
            });
        });
        c->start();
        return c;
    };
    auto a = make();
    auto b = make();
    REQUIRE(a->wait_ready(10s));
    REQUIRE(b->wait_ready(10s));
    server.start_call();
    REQUIRE(both.get_future().wait_for(10s) == std::future_status::ready);
    CHECK(wins == 1);
    CHECK(losses == 1);
}

TEST_CASE("integration: reconnect during a running component re-claims the session and delivers the result once") {
    mock::ServerOptions mo = fast_mock();
    mo.default_play_duration = 1500ms;
    mock::Server server(mo);
    Client client(options_for(server));
    OfferBox offers;
    offers.attach(client);
    auto call = server.start_call();
    Session s = *offers.get().accept().get_for(10s);

    std::atomic<int> completions{0};
    std::promise<Result<ComponentStopped>> played;
    s.apply(Play{":GS_PUB/long.wav"}, [&](Result<ComponentStopped> r) {
        if (++completions == 1) played.set_value(std::move(r));
    });
    REQUIRE(server.wait_for_request("ivrapi_component_apply", 5s));
    server.drop_connections();
    REQUIRE(server.wait_for_request("ivrapi_reaccept", 10s));
    auto f = played.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.ok());
    CHECK(r->transfer_key == "transfer");
    CHECK(client.stats().reconnects >= 1);
    // The session is usable again after the re-claim.
    REQUIRE(s.hangup().get_for(10s).ok());
    CHECK(call.wait_ended(10s));
    CHECK(completions == 1);
}

TEST_CASE("integration: a wrong token surfaces the HTTP status") {
    mock::Server server(fast_mock());
    ClientOptions o = options_for(server);
    o.token = "wrong-token";
    LogCapture logs;
    o.log = logs.sink();
    Client client(o);
    FirstDrop failed;
    failed.watch(client);
    client.start();
    const Error e = failed.get();
    CHECK(e.is(Errc::handshake_failed));
    CHECK_THAT(e.message, Catch::Matchers::Contains("401"));
    CHECK_FALSE(logs.contains("wrong-token"));
}

TEST_CASE("integration: a wrong token in the URL path is redacted from every log line") {
    mock::Server server(fast_mock());
    ClientOptions o = options_for(server);
    o.token.clear();
    o.url = server.url() + "/wrong-path-token-123";
    LogCapture logs;
    o.log = logs.sink();
    o.log_level = LogLevel::trace;  // websocketpp's own lines carry the URI
    Client client(o);
    FirstDrop failed;
    failed.watch(client);
    client.start();
    CHECK(failed.get().is(Errc::handshake_failed));
    client.stop();
    CHECK(logs.contains("websocketpp: "));
    CHECK_FALSE(logs.contains("wrong-path-token-123"));
}

TEST_CASE("integration: wss with the right CA works; a wrong CA or hostname is refused by default") {
    mock::ServerOptions mo = fast_mock();
    mo.tls = true;
    mo.cert_file = kCerts + "/server.pem";
    mo.key_file = kCerts + "/server.key";
    mock::Server server(mo);

    auto first_failure = [&](ClientOptions o) {
        Client client(o);
        FirstDrop failed;
        failed.watch(client);
        client.start();
        return failed.get();
    };

    SECTION("right CA") {
        Client client(options_for(server));
        client.start();
        REQUIRE(client.wait_ready(10s));
        auto reply = client.request("connection_info").get_for(5s);
        REQUIRE(reply.ok());
        CHECK(reply->find("result")->as_string() == "ok");
    }
    SECTION("wrong CA") {
        ClientOptions o = options_for(server);
        o.tls.ca_file = kCerts + "/other-ca.pem";
        CHECK(first_failure(o).is(Errc::tls_error));
    }
    SECTION("system store does not know the test CA") {
        ClientOptions o = options_for(server);
        o.tls.ca_file.clear();
        CHECK(first_failure(o).is(Errc::tls_error));
    }
    SECTION("wrong hostname") {
        mock::ServerOptions wo = mo;
        wo.cert_file = kCerts + "/wronghost.pem";
        wo.key_file = kCerts + "/wronghost.key";
        mock::Server wrong(wo);
        CHECK(first_failure(options_for(wrong)).is(Errc::tls_error));
        // Only the explicit, loudly named switch accepts it.
        ClientOptions o = options_for(wrong);
        o.tls.ca_file.clear();
        o.tls.danger_accept_invalid_certificates = true;
        LogCapture logs;
        o.log = logs.sink();
        Client client(o);
        client.start();
        REQUIRE(client.wait_ready(10s));
        CHECK(logs.contains("DISABLED"));
    }
}

TEST_CASE("integration: stop and destroy from inside a callback complete without hang or crash") {
    mock::Server server(fast_mock());
    SECTION("destroy the client inside on_offer") {
        auto client = std::make_unique<Client>(options_for(server));
        std::promise<void> destroyed;
        Client* raw = client.get();
        std::unique_ptr<Client> holder = std::move(client);
        raw->on_offer([&](Offer) {
            holder.reset();  // destructor on the I/O thread
            destroyed.set_value();
        });
        raw->start();
        REQUIRE(raw->wait_ready(10s));
        server.start_call();
        REQUIRE(destroyed.get_future().wait_for(10s) == std::future_status::ready);
        REQUIRE(server.wait_for([](const mock::Server& s) { return s.connection_count() == 0; }, 10s));
    }
    SECTION("stop inside a session callback; pending operations complete with stopped") {
        Client client(options_for(server));
        std::promise<Result<ComponentStopped>> result;
        client.on_offer([&](Offer offer) {
            offer.accept([&](Result<Session> r) {
                if (!r) {
                    result.set_value(r.error());
                    return;
                }
                r->apply(Play{"x.wav"}, [&](Result<ComponentStopped> c) { result.set_value(std::move(c)); });
                client.stop();
            });
        });
        client.start();
        REQUIRE(client.wait_ready(10s));
        server.start_call();
        auto f = result.get_future();
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        CHECK(f.get().error().is(Errc::stopped));
        CHECK(client.wait_stopped(10s));
        CHECK(client.state() == ConnectionState::stopped);
    }
    SECTION("stop from another thread while a future waits") {
        Client client(options_for(server));
        OfferBox offers;
        offers.attach(client);
        server.start_call();
        Session s = *offers.get().accept().get_for(10s);
        auto running = s.play("long.wav");
        std::thread stopper([&] { client.stop(); });
        auto r = running.get_for(10s);
        stopper.join();
        CHECK(r.error().is(Errc::stopped));
        // After stop every call fails fast.
        CHECK(s.play("x").get_for(1s).error().is(Errc::stopped));
    }
}

TEST_CASE("integration: serve claims under a policy and runs handlers on workers") {
    // Declared before the client: handlers may still run while the client shuts down.
    std::mutex m;
    std::condition_variable cv;
    std::set<std::string> handled;
    std::atomic<int> concurrent{0}, max_seen{0};
    mock::Server server(fast_mock());
    Client client(options_for(server));
    ServeOptions so;
    so.workers = 3;
    so.max_concurrent = 1;  // below workers: the policy, not the thread count, bounds it
    so.wait_for_capacity = 20s;
    so.filter = [](const ApiStartEvent& e) { return e.params != "skip"; };
    client.serve(
        [&](Session& s) {
            const int now = ++concurrent;
            int seen = max_seen.load();
            while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {}
            auto r = s.play(":GS_PUB/hi.wav").get();  // blocking is fine on a worker
            if (r) (void)s.hangup().get();
            --concurrent;
            std::lock_guard<std::mutex> lock(m);
            handled.insert(s.ivrid());
            cv.notify_all();
        },
        so);
    REQUIRE(client.wait_ready(10s));
    std::vector<mock::Call> calls;
    for (int i = 0; i < 4; ++i) calls.push_back(server.start_call());
    mock::CallOptions skip;
    skip.params = "skip";
    skip.ivrid = "skipped-call";
    server.start_call(skip);
    for (auto& c : calls) CHECK(c.wait_ended(20s));
    std::unique_lock<std::mutex> lock(m);
    CHECK(cv.wait_for(lock, 10s, [&] { return handled.size() == 4; }));
    CHECK(max_seen.load() == 1);
    CHECK_FALSE(server.find_call("skipped-call")->controlled());
}

TEST_CASE("integration: shards split offers between processes without racing") {
    mock::Server server(fast_mock());
    std::atomic<int> claimed[2] = {{0}, {0}};
    std::vector<std::unique_ptr<Client>> clients;
    for (std::uint32_t k = 0; k < 2; ++k) {
        auto c = std::make_unique<Client>(options_for(server));
        ServeOptions so;
        so.workers = 2;
        so.shard_index = k;
        so.shard_count = 2;
        so.wait_for_capacity = 20s;
        c->serve(
            [&, k](Session& s) {
                ++claimed[k];
                (void)s.hangup().get();
            },
            so);
        REQUIRE(c->wait_ready(10s));
        clients.push_back(std::move(c));
    }
    std::vector<mock::Call> calls;
    for (int i = 0; i < 10; ++i) calls.push_back(server.start_call());
    for (auto& c : calls) CHECK(c.wait_ended(20s));
    CHECK(claimed[0] + claimed[1] == 10);
    CHECK(server.request_count("ivrapi_accept") == 10);  // nobody raced
}

TEST_CASE("integration: the caller hanging up mid-component ends the session") {
    mock::ServerOptions mo = fast_mock();
    mo.default_play_duration = 5s;
    mock::Server server(mo);
    Client client(options_for(server));
    OfferBox offers;
    offers.attach(client);
    mock::CallOptions co;
    co.hangup_after = 200ms;
    server.start_call(co);
    Session s = *offers.get().accept().get_for(10s);
    auto r = s.play("long.wav").get_for(10s);
    CHECK(r.error().is(Errc::session_ended));
    CHECK(s.ended());
}

TEST_CASE("integration: a link that stops answering pings is dropped and re-established") {
    mock::Server server(fast_mock());
    ClientOptions o = options_for(server);
    o.ping_interval = 100ms;
    o.pong_timeout = 200ms;
    Client client(o);
    FirstDrop dead;
    dead.watch(client);
    client.start();
    REQUIRE(client.wait_ready(10s));
    server.answer_pings(false);  // the peer looks dead: no pong comes back
    CHECK_THAT(dead.get().message, Catch::Matchers::Contains("pong timeout"));
    server.answer_pings(true);
    REQUIRE(server.wait_for(
        [](const mock::Server& s) { return s.subscription_count() >= 1 && s.connection_count() >= 1; }, 10s));
    CHECK(client.wait_ready(10s));
}

TEST_CASE("integration: hostile frames are dropped and counted, the link and sessions survive") {
    mock::Server server(fast_mock());
    ClientOptions o = options_for(server);
    o.max_message_size = 64 * 1024;
    Client client(o);
    std::promise<GenericMessage> unknown;
    client.on_unknown_message([&](const GenericMessage& m) { unknown.set_value(m); });
    OfferBox offers;
    offers.attach(client);
    auto call = server.start_call();
    Session s = *offers.get().accept().get_for(10s);

    const auto before = client.stats();
    server.send_raw("not json at all");
    server.send_raw(R"(["ivrapi_dtmf",[1,2,3]])");
    server.send_raw("[\"x\",{\"big\":\"" + std::string(100 * 1024, 'a') + "\"}]");
    server.send_raw(std::string(1000, '[') + std::string(1000, ']'));
    server.send_raw(R"(["script_push",{"text":"hello from a script"}])");
    auto m = unknown.get_future();
    REQUIRE(m.wait_for(10s) == std::future_status::ready);
    CHECK(m.get().body.find("text")->as_string() == "hello from a script");
    const auto after = client.stats();
    CHECK(after.protocol_errors - before.protocol_errors == 4);
    // The session still works on the same link.
    REQUIRE(s.play("x.wav").get_for(10s).ok());
    CHECK(client.stats().reconnects == 0);
    CHECK(call.controlled());
}

TEST_CASE("integration: duplicate notifications give one offer") {
    mock::Server server(fast_mock());
    server.duplicate_notifications(true);
    Client client(options_for(server));
    std::atomic<int> offers{0};
    std::promise<void> stopped;
    client.on_offer([&](Offer) { ++offers; });
    client.on_api_stop([&](const ApiStopEvent&) { stopped.set_value(); });
    client.start();
    REQUIRE(client.wait_ready(10s));
    auto call = server.start_call();
    call.hangup();
    REQUIRE(stopped.get_future().wait_for(10s) == std::future_status::ready);
    CHECK(offers == 1);
    CHECK(client.stats().duplicates >= 1);
}

TEST_CASE("integration: a close by the server surfaces its code and reason, then the client reconnects") {
    mock::Server server(fast_mock());
    Client client(options_for(server));
    FirstDrop closed;
    closed.watch(client);
    client.start();
    REQUIRE(client.wait_ready(10s));
    server.close_connections(4001, "maintenance window");
    const Error e = closed.get();
    CHECK(e.is(Errc::closed_by_peer));
    CHECK_THAT(e.message, Catch::Matchers::Contains("4001"));
    CHECK_THAT(e.message, Catch::Matchers::Contains("maintenance window"));
    REQUIRE(server.wait_for([](const mock::Server& s) { return s.subscription_count() >= 1; }, 10s));
    CHECK(client.wait_ready(10s));
}

TEST_CASE("integration: stop from an I/O-thread callback while a serve worker blocks on a future") {
    std::promise<Result<ComponentStopped>> blocked;
    mock::ServerOptions mo = fast_mock();
    mo.default_play_duration = 30s;
    mock::Server server(mo);
    Client client(options_for(server));
    ServeOptions so;
    so.workers = 1;
    client.serve(
        [&](Session& s) {
            s.on_dtmf([&](const DtmfEvent&) { client.stop(); });  // on the I/O thread
            blocked.set_value(s.play("long.wav").get());          // blocks this worker
        },
        so);
    REQUIRE(client.wait_ready(10s));
    mock::CallOptions co;
    co.caller_dtmf = {{200ms, "5"}};
    server.start_call(co);
    auto f = blocked.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get().error().is(Errc::stopped));
    CHECK(client.wait_stopped(10s));
}

// ---------------------------------------------------------------- issue 9 regressions

TEST_CASE("integration: ~Client on another thread after stop() in a callback waits for the last callbacks") {
    mock::Server server(fast_mock());
    server.drop_reply("file_upload_static");  // a request that stays pending
    auto client = std::make_unique<Client>(options_for(server));
    std::atomic<bool> destroying{false}, destroyed{false};
    std::atomic<int> ran_after_destruction{0}, completions{0};
    std::mutex m;
    std::condition_variable cv;
    std::promise<void> stop_asked;
    client->on_offer([&](Offer) {
        client->stop();  // from the I/O thread: returns at once
        stop_asked.set_value();
        std::unique_lock<std::mutex> lock(m);
        cv.wait_for(lock, 5s, [&] { return destroying.load(); });
    });
    client->start();
    REQUIRE(client->wait_ready(10s));
    client->upload_static("http://127.0.0.1:1/a.wav", "/x/a.wav", [&](Result<std::string>) {
        // Give a destructor that does not wait every chance to return first.
        std::unique_lock<std::mutex> lock(m);
        cv.wait_for(lock, 300ms, [&] { return destroyed.load(); });
        if (destroyed) ++ran_after_destruction;
        ++completions;
    });
    REQUIRE(server.wait_for_request("file_upload_static", 10s));
    server.start_call();
    REQUIRE(stop_asked.get_future().wait_for(10s) == std::future_status::ready);
    {
        std::lock_guard<std::mutex> lock(m);
        destroying = true;
    }
    cv.notify_all();
    client.reset();  // another thread than the one that asked to stop
    {
        std::lock_guard<std::mutex> lock(m);
        destroyed = true;
    }
    cv.notify_all();
    CHECK(completions.load() == 1);  // ran before the destructor returned
    CHECK(ran_after_destruction.load() == 0);
}

TEST_CASE("integration: without reconnects a lost link stops the client") {
    mock::Server server(fast_mock());
    ClientOptions o = options_for(server);
    o.reconnect.enabled = false;
    Client client(o);
    OfferBox offers;
    offers.attach(client);
    server.start_call();
    auto claimed = offers.get().accept().get_for(10s);
    REQUIRE(claimed);
    Session s = *claimed;
    auto running = s.play("long.wav");
    server.drop_connections();
    CHECK(running.get_for(10s).error().is(Errc::connection_lost));
    CHECK(client.wait_stopped(10s));
    CHECK(client.state() == ConnectionState::stopped);
    CHECK(s.ended());
}

TEST_CASE("integration: connect_timeout bounds the whole attempt, TCP connect included") {
    // A listening socket whose backlog is full: the SYN is never answered.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 0) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        fillers.push_back(c);
    }
    ClientOptions o;
    o.url = "ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ws/token/v1";
    o.token = "t";
    o.connect_timeout = 300ms;
    o.reconnect.enabled = false;
    Client client(o);
    std::promise<Error> failed;
    std::once_flag once;
    client.on_state([&](ConnectionState s, const Error& why) {
        if (s == ConnectionState::stopped && why.code) std::call_once(once, [&] { failed.set_value(why); });
    });
    client.start();
    auto f = failed.get_future();
    // websocketpp's own TCP connect bound is 10 s: well past this wait.
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    const Error e = f.get();
    CHECK(e.is(Errc::timeout));
    CHECK_THAT(e.message, Catch::Matchers::Contains("127.0.0.1:"));
    for (int c : fillers) ::close(c);
    ::close(listener);
}

TEST_CASE("integration: wait_ready, wait_stopped and wait_ended answer at once on the I/O thread") {
    mock::Server server(fast_mock());
    Client client(options_for(server));
    struct Seen {
        bool ready = false, stopped = true, ended = true;
    };
    std::promise<Seen> seen;
    client.on_offer([&](Offer offer) {
        offer.accept([&](Result<Session> r) {
            Seen out;
            // An hour each: blocking here would hold the I/O thread that must change them.
            out.ready = client.wait_ready(std::chrono::hours(1));
            out.stopped = client.wait_stopped(std::chrono::hours(1));
            out.ended = r && r->wait_ended(std::chrono::hours(1));
            seen.set_value(out);
        });
    });
    client.start();
    REQUIRE(client.wait_ready(10s));
    server.start_call();
    auto f = seen.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    const Seen got = f.get();
    CHECK(got.ready);
    CHECK_FALSE(got.stopped);
    CHECK_FALSE(got.ended);
}

TEST_CASE("integration: Session calls after the Client was destroyed fail with stopped") {
    mock::Server server(fast_mock());
    Session s;
    {
        Client client(options_for(server));
        OfferBox offers;
        offers.attach(client);
        server.start_call();
        auto claimed = offers.get().accept().get_for(10s);
        REQUIRE(claimed);
        s = *claimed;
    }
    CHECK(s.play("x.wav").get_for(1s).error().is(Errc::stopped));
    Result<void> cb = Error(Errc::ok, "");
    s.abort([&](Result<void> r) { cb = r; });  // runs at once: no I/O thread left
    CHECK(cb.error().is(Errc::stopped));
    CHECK(Session().play("x").get_for(1s).error().is(Errc::invalid_argument));  // an empty handle
}

// ---------------------------------------------------------------- issue 10: no dead air

TEST_CASE("integration: stop() hands controlled calls back to their scripts before closing") {
    mock::ServerOptions mo = fast_mock();
    mo.default_play_duration = 30s;
    mock::Server server(mo);
    auto client = std::make_unique<Client>(options_for(server));
    OfferBox offers;
    offers.attach(*client);
    auto call = server.start_call();
    auto claimed = offers.get().accept().get_for(10s);
    REQUIRE(claimed);
    auto running = claimed->play("long.wav");
    CHECK(server.client_close_codes().empty());
    client->stop();
    CHECK(running.get_for(1s).error().is(Errc::stopped));
    // The platform saw an abort: the script goes on (no caller waits for a reaccept).
    CHECK(server.request_count("ivrapi_abort") == 1);
    CHECK(call.wait_ended(10s));
    CHECK(client->stats().sessions_handed_back == 1);
    // Then a clean close frame, flushed before stop() returned the I/O thread's work:
    // the platform tells "the bot left" from "the link broke".
    REQUIRE(server.wait_for([](const mock::Server& s) { return !s.client_close_codes().empty(); }, 5s));
    const auto codes = server.client_close_codes();
    REQUIRE(codes.size() == 1);
    CHECK((codes[0] == 1000 || codes[0] == 1001));
}

TEST_CASE("integration: drain lets running calls finish, then hands back what is left") {
    mock::ServerOptions mo = fast_mock();
    mock::Server server(mo);
    LogCapture logs;
    ClientOptions o = options_for(server);
    o.log = logs.sink();
    Client client(o);
    std::promise<void> long_started;
    std::promise<void> release_quick, quick_started;
    auto quick_may_end = release_quick.get_future().share();
    std::atomic<int> handled{0};
    ServeOptions so;
    so.workers = 2;
    client.serve(
        [&](Session& s) {
            ++handled;
            if (s.info().params == "long") {
                long_started.set_value();
                (void)s.apply(Pause{std::chrono::milliseconds(60000), {}}).get();  // cut by the drain
                return;
            }
            quick_started.set_value();
            (void)quick_may_end.wait_for(10s);  // until the drain has begun
            (void)s.hangup().get();
        },
        so);
    REQUIRE(client.wait_ready(10s));
    mock::CallOptions long_call;
    long_call.params = "long";
    auto slow = server.start_call(long_call);
    REQUIRE(long_started.get_future().wait_for(10s) == std::future_status::ready);
    auto quick = server.start_call();
    REQUIRE(quick_started.get_future().wait_for(10s) == std::future_status::ready);
    auto draining = std::async(std::launch::async, [&] { return client.drain(2s); });
    REQUIRE(server.wait_for([&](const mock::Server&) { return logs.contains("draining"); }, 10s));
    release_quick.set_value();
    const DrainResult r = draining.get();
    CHECK(quick.wait_ended(10s));
    CHECK(slow.wait_ended(10s));
    CHECK(r.handed_back == 1);
    CHECK(r.ended >= 1);
    // Offered while draining: never claimed.
    auto later = server.start_call();
    CHECK_FALSE(server.wait_for([](const mock::Server& s) { return s.request_count("ivrapi_accept") > 2; }, 300ms));
    CHECK(client.state() == ConnectionState::stopped);
}

TEST_CASE("integration: Session::wait_controlled waits for the re-claim after a link drop") {
    mock::Server server(fast_mock());
    Client client(options_for(server));
    OfferBox offers;
    offers.attach(client);
    server.start_call();
    auto claimed = offers.get().accept().get_for(10s);
    REQUIRE(claimed);
    Session s = *claimed;
    CHECK(s.wait_controlled(1s));
    server.drop_connections();
    REQUIRE(s.wait_controlled(10s));                             // re-claimed
    auto link = s.file_get_path(":TEMP/none.wav").get_for(10s);  // works again
    CHECK((link.ok() || link.error().is(Errc::server_error)));
}

TEST_CASE(
    "integration: after a hang-up the handler's end waits for the platform's api_stop (reason script, not abort)") {
    mock::Server server(fast_mock());
    Client client(options_for(server));
    std::promise<SessionEnd> ended;
    client.serve([&](Session& s) {
        s.on_end([&](const SessionEnd& e) { ended.set_value(e); });
        (void)s.hangup().get();
        // returns at once: serve must not race the platform's api_stop with an abort
    });
    REQUIRE(client.wait_ready(10s));
    auto call = server.start_call();
    auto f = ended.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get().reason != StopReason::abort);
    CHECK(server.request_count("ivrapi_abort") == 0);
}

TEST_CASE("integration: serve with max_concurrent above workers gives every claimed call a worker") {
    mock::ServerOptions mo = fast_mock();
    mo.default_play_duration = 500ms;
    mock::Server server(mo);
    Client client(options_for(server));
    std::atomic<int> concurrent{0}, max_seen{0};
    std::atomic<int> done{0};
    ServeOptions so;
    so.workers = 1;
    so.max_concurrent = 3;
    client.serve(
        [&](Session& s) {
            const int now = ++concurrent;
            int seen = max_seen.load();
            while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {}
            (void)s.play("x.wav").get();
            (void)s.hangup().get();
            --concurrent;
            ++done;
        },
        so);
    REQUIRE(client.wait_ready(10s));
    std::vector<mock::Call> calls;
    for (int i = 0; i < 3; ++i) calls.push_back(server.start_call());
    for (auto& c : calls) CHECK(c.wait_ended(10s));
    CHECK(max_seen.load() == 3);  // three at once, not one after another
}

TEST_CASE("integration: a refused token stops the client after max_auth_failures attempts") {
    mock::Server server(fast_mock());
    ClientOptions o = options_for(server);
    o.token = "wrong-token";
    o.max_auth_failures = 2;
    o.reconnect.initial_delay = 10ms;
    LogCapture logs;
    o.log = logs.sink();
    Client client(o);
    client.start();
    CHECK(client.wait_stopped(10s));
    CHECK(logs.contains("not retrying"));
    CHECK_FALSE(logs.contains("wrong-token"));
}

TEST_CASE("integration: claim() applies the policy without a worker pool; a slot frees when its session ends") {
    mock::ServerOptions mo = fast_mock();
    mo.default_play_duration = 300ms;
    mock::Server server(mo);
    Client client(options_for(server));
    std::mutex m;
    std::vector<std::string> claimed;
    ServeOptions so;
    so.max_concurrent = 1;
    so.wait_for_capacity = 10s;
    client.claim(
        [&](Session s) {  // I/O thread: callback forms only
            {
                std::lock_guard<std::mutex> lock(m);
                claimed.push_back(s.ivrid());
            }
            Play prompt;
            prompt.file = "prompt.wav";  // 300 ms on this mock
            s.apply(prompt,
                    [s](Result<ComponentStopped>) mutable { s.apply(Hangup{}, [](Result<ComponentStopped>) {}); });
        },
        so);
    REQUIRE(client.wait_ready(10s));
    auto first = server.start_call();
    REQUIRE(server.wait_for([](const mock::Server& s) { return s.request_count("ivrapi_accept") == 1; }, 10s));
    auto second = server.start_call();
    // Held while the first runs: one at a time.
    CHECK_FALSE(server.wait_for([](const mock::Server& s) { return s.request_count("ivrapi_accept") == 2; }, 150ms));
    CHECK(first.wait_ended(10s));
    CHECK(second.wait_ended(10s));
    CHECK(server.request_count("ivrapi_accept") == 2);
    std::lock_guard<std::mutex> lock(m);
    CHECK(claimed.size() == 2);
}

TEST_CASE("integration: the SDK's threads carry names (ivrapi-io, ivrapi-worker)") {
    const auto thread_name = [] {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        return std::string(name);
    };
    mock::Server server(fast_mock());
    Client client(options_for(server));
    std::promise<std::string> io_name, worker_name;
    std::atomic<bool> io_named{false}, worker_named{false};
    client.on_state([&](ConnectionState s, const Error&) {
        if (s == ConnectionState::ready && !io_named.exchange(true)) io_name.set_value(thread_name());
    });
    client.serve([&](Session& s) {
        if (!worker_named.exchange(true)) worker_name.set_value(thread_name());
        (void)s.hangup().get();
    });
    REQUIRE(client.wait_ready(10s));
    auto call = server.start_call();
    auto io = io_name.get_future();
    auto worker = worker_name.get_future();
    REQUIRE(io.wait_for(10s) == std::future_status::ready);
    REQUIRE(worker.wait_for(10s) == std::future_status::ready);
    CHECK(io.get() == "ivrapi-io");
    CHECK(worker.get() == "ivrapi-worker");
    CHECK(call.wait_ended(10s));
}

TEST_CASE("integration: a draining client tells its claim coordinator it has no free capacity") {
    // A coordinator that claims every offer and keeps the client's view of itself.
    struct Recorder : ClaimCoordinator {
        std::mutex m;
        std::shared_ptr<CoordinatedClient> host;
        void start(std::shared_ptr<CoordinatedClient> c) override {
            std::lock_guard<std::mutex> lock(m);
            host = std::move(c);
        }
        void stop() override {}
        void offered(const ApiStartEvent&, std::function<void()> claim) override { claim(); }
        void claimed(const ApiStartEvent&) override {}
        void ended(const std::string&) override {}
        std::shared_ptr<CoordinatedClient> client() {
            std::lock_guard<std::mutex> lock(m);
            return host;
        }
    };
    auto recorder = std::make_shared<Recorder>();
    mock::ServerOptions mo;
    mo.default_play_duration = 60s;  // the call outlasts the drain below
    mock::Server server(mo);
    Client client(options_for(server));
    ServeOptions so;
    so.workers = 2;
    so.max_concurrent = 4;
    so.cluster = recorder;
    std::promise<void> playing;
    std::atomic<bool> started{false};
    client.serve(
        [&](Session& s) {
            auto play = s.play(":GS_PUB/long.wav");
            if (!started.exchange(true)) playing.set_value();
            (void)play.get();
        },
        so);
    REQUIRE(client.wait_ready(10s));
    auto host = recorder->client();
    REQUIRE(host);
    CHECK(host->capacity() == 4);
    CHECK(host->free_capacity() == 4);
    auto call = server.start_call();
    REQUIRE(playing.get_future().wait_for(10s) == std::future_status::ready);
    CHECK(host->free_capacity() == 3);
    auto drained = std::async(std::launch::async, [&] { return client.drain(5s); });
    // While the drain waits for the call, the coordinator sees no room (no event to
    // wait on: polled, bounded well inside the drain's 5 s).
    const auto deadline = std::chrono::steady_clock::now() + 4s;
    while (host->free_capacity() != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    CHECK(host->free_capacity() == 0);
    CHECK(drained.wait_for(0s) == std::future_status::timeout);  // still draining
    CHECK(drained.get().handed_back == 1);
}
