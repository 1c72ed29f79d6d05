// Runs the client core on an in-memory transport and a manual clock: the test thread
// is the loop thread, time moves only when the test says so.
#pragma once

#include "client/client_core.hpp"

#include <ivrapi/json.hpp>

#include <catch2/catch.hpp>

#include <deque>
#include <map>

namespace ivrapi::test {

class ManualLoop final : public detail::Loop {
public:
    bool post(std::function<void()> task) override {
        tasks_.push_back(std::move(task));
        return true;
    }
    TimerId schedule(std::chrono::milliseconds delay, std::function<void()> task) override {
        const TimerId id = ++next_;
        timers_.emplace(id, Timer{now_ + delay, std::move(task)});
        return id;
    }
    void cancel(TimerId id) override { timers_.erase(id); }
    Clock::time_point now() const override { return now_; }

    // Runs every posted task (and those they post).
    void run_ready() {
        detail::set_current_loop(this);
        while (!tasks_.empty()) {
            auto t = std::move(tasks_.front());
            tasks_.pop_front();
            t();
        }
        detail::set_current_loop(nullptr);
    }
    // Moves the clock forward, firing due timers in order.
    void advance(std::chrono::milliseconds d) {
        const auto target = now_ + d;
        run_ready();
        for (;;) {
            auto next = timers_.end();
            for (auto it = timers_.begin(); it != timers_.end(); ++it) {
                if (it->second.at <= target && (next == timers_.end() || it->second.at < next->second.at)) next = it;
            }
            if (next == timers_.end()) break;
            now_ = next->second.at;
            auto task = std::move(next->second.task);
            timers_.erase(next);
            detail::set_current_loop(this);
            task();
            detail::set_current_loop(nullptr);
            run_ready();
        }
        now_ = target;
    }
    std::size_t timer_count() const { return timers_.size(); }

private:
    struct Timer {
        Clock::time_point at;
        std::function<void()> task;
    };
    std::deque<std::function<void()>> tasks_;
    std::map<TimerId, Timer> timers_;
    TimerId next_ = 0;
    Clock::time_point now_{};
};

class MemoryTransport final : public detail::Transport {
public:
    void connect(detail::TransportHandlers h) override {
        handlers_ = std::move(h);
        ++connects;
        open_ = false;
    }
    bool send(std::string_view frame) override {
        if (!open_ || refuse_sends) return false;
        sent.emplace_back(frame);
        return true;
    }
    void close(std::string_view) override { drop(Error(Errc::connection_lost, "closed")); }
    void shutdown() override {
        handlers_ = {};
        open_ = false;
    }
    std::string http_base() const override { return "https://era.test:8443"; }

    void open() {
        open_ = true;
        if (handlers_.on_open) handlers_.on_open();
    }
    void receive(const std::string& frame) {
        if (handlers_.on_message) handlers_.on_message(std::string(frame));
    }
    void drop(const Error& why) {
        open_ = false;
        auto h = std::move(handlers_);
        handlers_ = {};
        if (h.on_close) h.on_close(why);
    }

    std::vector<std::string> sent;
    int connects = 0;
    bool refuse_sends = false;  // open, but every send fails (a link that is closing)

private:
    detail::TransportHandlers handlers_;
    bool open_ = false;
};

// Options with an immediate, deterministic reconnect (10 ms, no jitter) for tests that
// drop the link and re-open it by hand.
inline ClientOptions quick_reconnect() {
    ClientOptions o;
    o.reconnect.initial_delay = std::chrono::milliseconds(10);
    o.reconnect.jitter = 0;
    return o;
}

// Collects a callback's result.
template <typename T>
struct Got {
    std::optional<Result<T>> value;
    int calls = 0;
    Callback<T> cb() {
        return [this](Result<T> r) {
            ++calls;
            value.emplace(std::move(r));
        };
    }
};

struct SentFrame {
    std::string name;
    Json body;
};

inline SentFrame parse_frame(const std::string& text) {
    auto j = Json::parse(text);
    REQUIRE(j.ok());
    REQUIRE(j->size() == 2);
    return {j->as_array()[0].as_string(), j->as_array()[1]};
}

inline std::string api_start(const std::string& ivrid, const std::string& key = "k", long long eventts = 1000) {
    return R"(["notify",{"class":"ivrevents","type":"api_start","eventts":)" + std::to_string(eventts) +
           R"(,"data":{"ivrid":")" + ivrid + R"(","key":")" + key + R"(","state":"dialog","componentid":14}}])";
}
inline std::string api_stop(const std::string& ivrid, const std::string& reason = "script", long long eventts = 2000) {
    return R"(["notify",{"class":"ivrevents","type":"api_stop","eventts":)" + std::to_string(eventts) +
           R"(,"data":{"ivrid":")" + ivrid + R"(","key":"k","reason":")" + reason + R"(","componentid":14}}])";
}

struct CoreHarness {
    ClientOptions options;
    ManualLoop loop;
    MemoryTransport transport;
    std::shared_ptr<detail::ClientLink> link = std::make_shared<detail::ClientLink>();
    detail::SharedStatus status;
    std::vector<std::string> logs;
    std::vector<Offer> offers;
    std::unique_ptr<detail::ClientCore> core;

    explicit CoreHarness(ClientOptions o = {}) : options(std::move(o)) {
        if (options.url.empty()) options.url = "wss://era.test:8443/ws/token/v1";
        if (options.token.empty()) options.token = "secret-token";
        core = std::make_unique<detail::ClientCore>(options, loop, transport, link, status,
                                                    [this](LogLevel, const std::string& l) { logs.push_back(l); });
        link->loop = &loop;
        link->core = core.get();
        core->handlers().on_offer = [this](Offer o) { offers.push_back(std::move(o)); };
    }
    ~CoreHarness() {
        // The test's locals are gone: destroy the core without running its callbacks.
        link->detach();
        core.reset();
    }

    // Connects, answers connection_info and subscribe: the client is ready.
    void connect_ready() {
        core->start();
        loop.run_ready();
        transport.open();
        answer("connection_info", R"("result":"ok","capabilities":["ivrapi","subscr"])");
        answer("subscribe");
        REQUIRE(status.state.load() == ConnectionState::ready);
    }

    // The last frame sent with this name (fails the test if none).
    SentFrame last(const std::string& name) {
        for (auto it = transport.sent.rbegin(); it != transport.sent.rend(); ++it) {
            SentFrame f = parse_frame(*it);
            if (f.name == name) return f;
        }
        FAIL("no " << name << " was sent");
        return {};
    }
    std::size_t count(const std::string& name) {
        std::size_t n = 0;
        for (const auto& s : transport.sent) n += parse_frame(s).name == name ? 1 : 0;
        return n;
    }
    // Replies to the last `name` request; `fields` are extra JSON members.
    void answer(const std::string& name, const std::string& fields = R"("result":"ok")") {
        const auto qid = last(name).body.find("qid")->as_int();
        reply(name, qid, fields);
    }
    void reply(const std::string& name, long long qid, const std::string& fields = R"("result":"ok")") {
        transport.receive("[\"" + name + "_result\",{\"qid\":" + std::to_string(qid) + "," + fields + "}]");
        loop.run_ready();
    }
    // The oId the SDK set on the last ivrapi_component_apply.
    long long last_oid() { return last("ivrapi_component_apply").body.find("data")->find("oId")->as_int(); }
    // The platform reports that component `oid` stopped; `fields` are extra JSON members.
    void stopped(long long oid, const std::string& fields = R"("transferKey":"transfer")") {
        receive(R"(["ivrapi_component_stopped",{"oId":)" + std::to_string(oid) + "," + fields + "}]");
    }
    void receive(const std::string& frame) {
        transport.receive(frame);
        loop.run_ready();
    }

    // Offers and claims `ivrid`, returning the session.
    Session claim(const std::string& ivrid) {
        receive(api_start(ivrid));
        REQUIRE(!offers.empty());
        Offer offer = offers.back();
        REQUIRE(offer.ivrid() == ivrid);
        std::optional<Result<Session>> got;
        offer.accept([&](Result<Session> r) { got.emplace(std::move(r)); });
        loop.run_ready();
        answer("ivrapi_accept");
        REQUIRE(got.has_value());
        REQUIRE(got->ok());
        return **got;
    }
};

}  // namespace ivrapi::test
