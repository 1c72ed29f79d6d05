// Public Client / Offer / Session: thread-safe handles that post work to the core.
#include "client/client_core.hpp"
#include "client/shard_hash.hpp"
#include "client/thread_name.hpp"
#include "client/url.hpp"
#include "client/worker_pool.hpp"
#include "transport/capture_transport.hpp"
#include "transport/ws_transport.hpp"

#include <ivrapi/client.hpp>

#include <deque>
#include <fstream>
#include <limits>
#include <thread>
#include <unordered_set>

namespace ivrapi {

const char* to_string(ConnectionState s) noexcept {
    switch (s) {
        case ConnectionState::idle: return "idle";
        case ConnectionState::connecting: return "connecting";
        case ConnectionState::connected: return "connected";
        case ConnectionState::ready: return "ready";
        case ConnectionState::reconnecting: return "reconnecting";
        case ConnectionState::stopped: return "stopped";
    }
    return "unknown";
}

const char* to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::trace: return "trace";
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
        case LogLevel::off: return "off";
    }
    return "unknown";
}

namespace detail {

// Waits longer than this are capped (milliseconds::max() would overflow now() + timeout).
constexpr std::chrono::milliseconds kLongestWait = std::chrono::hours(24 * 365 * 100);
// stop() off the thread of a caller-run io_context waits this long for the shutdown.
constexpr std::chrono::milliseconds kExternalStopWait{2000};

// Components after which the platform ends control by itself (hang-up, transfers).
bool ends_the_call(int o_type) { return o_type == 201 || o_type == 203 || o_type == 215 || o_type == 217; }

class ClientRuntime : public std::enable_shared_from_this<ClientRuntime> {
public:
    // `external`: the caller's io_context, which the caller runs (ivrapi/asio.hpp); the
    // runtime then has no thread of its own.
    explicit ClientRuntime(ClientOptions options, asio::io_context* external = nullptr)
        : options_(std::move(options)),
          target_(make_connect_target(options_)),
          secret_(target_.bearer_token.empty() ? token_from_uri() : target_.bearer_token),
          link_(std::make_shared<ClientLink>()),
          loop_(external ? make_asio_loop_on(*external, &set_current_loop) : make_asio_loop()),
          external_(external != nullptr) {
        auto log = [this](LogLevel level, const std::string& line) { write_log(level, line); };
        transport_ = make_ws_transport(*loop_, transport_config(), log);
        if (options_.capture.enabled())
            transport_ = make_capture_transport(std::move(transport_), *loop_, capture_config());
        core_ = std::make_unique<ClientCore>(options_, *loop_, *transport_, link_, status_, log);
        link_->loop = loop_.get();
        link_->core = core_.get();
    }

    ~ClientRuntime() {
        stop();  // nothing when already stopped
        if (thread_.joinable()) {
            if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
            else thread_.join();
        }
    }

    // The loop thread runs from construction (work posted before start() completes, e.g.
    // a request fails with not_connected); the core connects only on start().
    void launch() {
        // Reconnects off and the link lost: the client stops, as stop() would.
        core_->handlers().on_link_gone = [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->stop();
        };
        if (external_) return;  // the caller runs the loop
        thread_ = std::thread([self = shared_from_this()] {
            name_this_thread("ivrapi-io");
            set_current_loop(self->loop_.get());
            self->loop_->run();
            set_current_loop(nullptr);
            // Before after_loop() lets ~Client return: the rest of this thread may
            // outlive the process's main().
            release_thread_crypto_state();
            self->after_loop();
        });
    }

    void start() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (started_ || stopped_) return;
        started_ = true;
        link_->post([](ClientCore& c) { c.start(); });
    }

    void stop() {
        // Keep the runtime alive until this returns, whoever drops the Client meanwhile
        // (null when called from the destructor, which is then the only user).
        const auto self = weak_from_this().lock();
        std::shared_ptr<WorkerPool> pool;
        std::shared_ptr<ClaimCoordinator> coordinator;
        bool on_loop_thread = false;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            on_loop_thread = external_ ? this->on_loop_thread() : thread_.get_id() == std::this_thread::get_id();
            if (stopped_) {
                // Asked before (maybe from a callback): off the I/O thread, still wait
                // until the loop has run its last callbacks, so nothing of the caller's
                // is called after this returns.
                if (!on_loop_thread) wait_finished(lock);
                return;
            }
            stopped_ = true;
            pool = std::move(pool_);
            coordinator = std::move(coordinator_);
            // On the loop thread neither the loop nor the workers (who may wait for the
            // loop) can be joined here: after_loop() does it once the loop has finished.
            if (on_loop_thread) deferred_pool_ = pool;
            stopped_on_loop_ = on_loop_thread;
        }
        // No more coordination (its thread ends; what it registered stays for the others).
        if (coordinator) coordinator->stop();
        // The core hands controlled sessions back first (bounded by hand_back_timeout);
        // the loop closes once that is over.
        std::function<void()> close_loop;
        if (external_) {
            // The caller's context runs the shutdown; `self` stays alive until websocketpp
            // let go of the connections there (the runtime cannot go before that).
            close_loop = [this, self] {
                loop_->close_then(
                    [this] {
                        mark_finished();
                        after_loop();
                    },
                    self);
            };
        } else {
            auto* loop = loop_.get();
            close_loop = [loop] { loop->close(); };
        }
        if (!link_->post([close_loop](ClientCore& c) { c.stop(close_loop); })) close_loop();
        link_->detach();  // handles fail fast from now on
        status_.state.store(ConnectionState::stopped);
        { std::lock_guard<std::mutex> lock(status_.mutex); }
        status_.state_cv.notify_all();
        if (on_loop_thread) return;
        if (external_) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wait_finished(lock);
            }
            if (pool) pool->stop();
            return;
        }
        if (thread_.joinable()) thread_.join();
        if (pool) pool->stop();
        mark_finished();
    }

    // On the loop thread, after the loop finished.
    void after_loop() {
        std::shared_ptr<WorkerPool> pool;
        bool finish = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            pool = std::move(deferred_pool_);
            finish = stopped_on_loop_;
        }
        // Finished first: a serve worker waiting in ~Client for the loop must not be
        // joined by pool->stop() while it waits.
        if (finish) mark_finished();
        if (pool) pool->stop();
    }

    // Until the loop ran its last callbacks. On the caller's io_context at most
    // kExternalStopWait: nobody may be running it (the shutdown then completes the next
    // time it runs).
    void wait_finished(std::unique_lock<std::mutex>& lock) {
        if (external_) stopped_cv_.wait_for(lock, kExternalStopWait, [&] { return finished_; });
        else stopped_cv_.wait(lock, [&] { return finished_; });
    }

    void mark_finished() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            finished_ = true;
        }
        stopped_cv_.notify_all();
    }

    bool on_loop_thread() const { return current_loop() != nullptr && current_loop() == loop_.get(); }

    DrainResult drain(std::chrono::milliseconds timeout) {
        DrainResult out;
        link_->post([](ClientCore& c) { c.stop_claiming(); });
        if (on_loop_thread()) {
            stop();  // cannot wait here: hand back at once
            return out;
        }
        const auto active_at_start = status_.active_sessions.load();
        {
            auto& signal = SessionEndSignal::instance();
            std::unique_lock<std::mutex> lock(signal.mutex);
            signal.cv.wait_for(lock, std::min(timeout, kLongestWait),
                               [&] { return status_.active_sessions.load() == 0 || stopped_requested(); });
        }
        const auto still_active = status_.active_sessions.load();
        const auto handed_back_before = status_.handed_back.load();
        stop();
        out.ended = active_at_start > still_active ? active_at_start - still_active : 0;
        out.handed_back = status_.handed_back.load() - handed_back_before;
        out.not_handed_back = still_active > out.handed_back ? still_active - out.handed_back : 0;
        return out;
    }

    bool stopped_requested() {
        std::lock_guard<std::mutex> lock(mutex_);
        return stopped_;
    }

    bool wait_stopped(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        // On the I/O thread the loop cannot finish while this waits: answer now.
        if (on_loop_thread()) return finished_;
        auto done = [&] { return finished_; };
        if (timeout == std::chrono::milliseconds::max()) {
            stopped_cv_.wait(lock, done);
            return true;
        }
        return stopped_cv_.wait_for(lock, timeout, done);
    }

    template <typename Fn>
    void with_core(Fn fn) {
        link_->post(std::move(fn));
    }

    void serve(std::function<void(Session&)> handler, ServeOptions opts) {
        if (opts.shard_count == 0 || opts.shard_index >= opts.shard_count) {
            throw std::invalid_argument("ivrapi::ServeOptions: shard_index must be below shard_count");
        }
        auto state = std::make_shared<ServeState>();
        state->runtime = weak_from_this();
        state->link = link_;
        // Every claimed call gets a worker at once: a call claimed with no free worker
        // would sit in silence until one frees.
        if (opts.max_concurrent > opts.workers) {
            write_log(LogLevel::info, "serve: " + std::to_string(opts.max_concurrent) +
                                          " concurrent sessions need as many workers; using " +
                                          std::to_string(opts.max_concurrent));
            opts.workers = opts.max_concurrent;
        }
        state->pool = WorkerPool::create(opts.workers);
        state->handler = std::move(handler);
        state->limit = opts.max_concurrent ? opts.max_concurrent : std::max<std::size_t>(opts.workers, 1);
        state->options = std::move(opts);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopped_) {
                state->pool->stop();
                return;
            }
            if (pool_) pool_->stop();
            pool_ = state->pool;
        }
        with_core([state](ClientCore& c) {
            c.handlers().on_offer = [state](Offer o) { state->offered(std::move(o)); };
            if (state->options.cluster)
                c.handlers().on_session_ended = [state](const std::string& id) { state->session_ended(id); };
        });
        start_coordinator(state);
        start();
    }

    void claim(std::function<void(Session)> on_session, ServeOptions opts) {
        if (opts.shard_count == 0 || opts.shard_index >= opts.shard_count) {
            throw std::invalid_argument("ivrapi::ServeOptions: shard_index must be below shard_count");
        }
        auto state = std::make_shared<ServeState>();
        state->runtime = weak_from_this();
        state->link = link_;
        state->direct = std::move(on_session);
        state->limit = opts.max_concurrent ? opts.max_concurrent : std::numeric_limits<std::size_t>::max();
        state->options = std::move(opts);
        with_core([state](ClientCore& c) {
            c.handlers().on_offer = [state](Offer o) { state->offered(std::move(o)); };
            c.handlers().on_session_ended = [state](const std::string& ivrid) { state->session_ended(ivrid); };
        });
        start_coordinator(state);
        start();
    }

    struct ServeState;
    // The client as a coordinator sees it (ServeOptions::cluster).
    class CoordinatorHost : public CoordinatedClient {
    public:
        explicit CoordinatorHost(const std::shared_ptr<ServeState>& state)
            : state_(state),
              link_(state->link),
              shard_index_(state->options.shard_index),
              shard_count_(state->options.shard_count) {}
        void take_over(const std::string& ivrid, const std::string& key, const std::string& from,
                       std::function<void(bool)> done) override {
            auto info = std::make_shared<ApiStartEvent>();
            info->ivrid = ivrid;
            info->key = key;
            std::shared_ptr<const ApiStartEvent> offer = info;
            auto weak = state_;
            start_op<Session>(
                {link_, {}}, [offer](ClientCore& c, Callback<Session> d) { c.take_over(offer, std::move(d)); },
                Callback<Session>([weak, from, ivrid, done = std::move(done)](Result<Session> r) {
                    auto st = weak.lock();
                    if (!r || !st) {
                        if (st)
                            st->log(LogLevel::warn, "takeover of " + ivrid + " from " + from + " failed: " +
                                                        (r ? std::string("client gone") : r.error().message));
                        if (done) done(false);
                        return;
                    }
                    st->adopt(std::move(*r), from);
                    if (done) done(true);
                }));
        }
        std::size_t free_capacity() const override {
            auto st = state_.lock();
            if (!st) return 0;
            // Draining or stopping: offers must rank the other replicas first.
            if (auto rt = st->runtime.lock(); !rt || !rt->status().claiming.load()) return 0;
            const std::size_t active = st->active().load();
            return active >= st->limit ? 0 : st->limit - active;
        }
        std::size_t capacity() const override {
            auto st = state_.lock();
            return st ? st->limit : 0;
        }
        std::uint32_t shard_index() const override { return shard_index_; }
        std::uint32_t shard_count() const override { return shard_count_; }
        void log(LogLevel level, const std::string& line) const override {
            if (auto st = state_.lock()) st->log(level, line);
        }

    private:
        std::weak_ptr<ServeState> state_;
        std::shared_ptr<ClientLink> link_;
        // Not the ServeOptions: they hold the coordinator, which holds this (a cycle).
        const std::uint32_t shard_index_;
        const std::uint32_t shard_count_;
    };

    void start_coordinator(const std::shared_ptr<ServeState>& state) {
        std::shared_ptr<ClaimCoordinator> previous;
        auto coordinator = state->options.cluster;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            previous = std::exchange(coordinator_, coordinator);
        }
        if (previous && previous != coordinator) previous->stop();
        if (coordinator) coordinator->start(std::make_shared<CoordinatorHost>(state));
    }

    // Claim policy + worker hand-off of serve(). Its methods other than finished() run
    // on the loop thread.
    struct ServeState : std::enable_shared_from_this<ServeState> {
        std::weak_ptr<ClientRuntime> runtime;
        std::shared_ptr<ClientLink> link;
        std::shared_ptr<WorkerPool> pool;
        std::function<void(Session&)> handler;
        ServeOptions options;
        std::size_t limit = 1;
        struct Waiting {
            Offer offer;
            Loop::Clock::time_point deadline;
        };
        std::deque<Waiting> waiting;
        std::size_t claimed = 0;  // claims in flight or won (for max_sessions)
        // claim(): no pool; each claimed session goes to `direct` on the I/O thread, and
        // its slot frees when it ends (`mine` tracks them).
        std::function<void(Session)> direct;
        std::atomic<std::size_t> own_active{0};
        std::unordered_set<std::string> mine;
        std::atomic<std::size_t>& active() { return pool ? pool->active : own_active; }

        void session_ended(const std::string& ivrid) {
            if (options.cluster) options.cluster->ended(ivrid);
            if (mine.erase(ivrid) == 0) return;
            active().fetch_sub(1);
            next();
        }

        void log(LogLevel level, const std::string& line) {
            if (auto rt = runtime.lock()) rt->write_log(level, line);
        }

        void offered(Offer offer) {
            if (options.filter && !options.filter(offer.info())) return;
            if (options.cluster) {
                // The coordinator says when (if ever) this replica claims it.
                std::weak_ptr<ServeState> weak = shared_from_this();
                options.cluster->offered(offer.info(), [weak, offer]() {
                    auto self = weak.lock();
                    if (!self) return;
                    self->link->post([weak, offer](ClientCore&) {
                        if (auto st = weak.lock()) st->admit(offer);
                    });
                });
                return;
            }
            if (options.shard_count > 1 && shard_hash(offer.ivrid()) % options.shard_count != options.shard_index) {
                return;
            }
            admit(std::move(offer));
        }

        // A session taken over from another replica (loop thread): its handler runs like
        // a claimed session's, in a slot of its own.
        void adopt(Session session, const std::string& from) {
            if (auto rt = runtime.lock()) rt->status().takeovers.fetch_add(1);
            log(LogLevel::warn, "took over session " + session.ivrid() + " from replica " + from);
            active().fetch_add(1);
            Takeover takeover{from};
            if (!pool) {
                mine.insert(session.ivrid());
                if (session.ended()) {
                    session_ended(session.ivrid());
                    return;
                }
                if (options.on_takeover) options.on_takeover(session, takeover);  // guarded by the core
                else session.abort([](const Result<void>&) {});
                return;
            }
            auto self = shared_from_this();
            auto hand_back = [self, session]() mutable {
                self->active().fetch_sub(1);
                session.abort([](const Result<void>&) {});
            };
            if (!pool->submit([self, session, takeover]() mutable { self->run(session, &takeover); }, hand_back)) {
                hand_back();
            }
        }

        void admit(Offer offer) {
            if (options.max_sessions && claimed >= options.max_sessions) return;
            if (active().load() < limit) {
                claim(std::move(offer));
            } else if (options.wait_for_capacity.count() > 0 && waiting.size() < 100000) {
                waiting.push_back({std::move(offer), Loop::Clock::now() + options.wait_for_capacity});
            } else {
                log(LogLevel::info, "serve: at capacity (" + std::to_string(limit) + " sessions); offer " +
                                        offer.ivrid() + " left to others");
            }
        }

        void claim(Offer offer) {
            active().fetch_add(1);
            ++claimed;
            auto self = shared_from_this();
            // The offer rides along for the coordinator: the session keeps a compact copy.
            offer.accept([self, offered = offer](Result<Session> r) {
                if (!r) {
                    --self->claimed;
                    self->active().fetch_sub(1);
                    self->log(LogLevel::info, "serve: claim failed: " + r.error().message);
                    self->next();
                    return;
                }
                Session session = std::move(*r);
                if (self->options.cluster) self->options.cluster->claimed(offered.info());
                if (!self->pool) {
                    self->mine.insert(session.ivrid());
                    if (session.ended()) {
                        self->session_ended(session.ivrid());
                        return;
                    }
                    self->direct(session);  // on the I/O thread; a throw is caught and counted
                    return;
                }
                auto hand_back = [self, session]() mutable {
                    self->active().fetch_sub(1);
                    session.abort([](const Result<void>&) {});  // no worker will drive it: hand it back
                };
                if (!self->pool->submit([self, session]() mutable { self->run(session); }, hand_back)) hand_back();
            });
        }

        // On a worker: blocking calls are fine here.
        void run(Session& session, const Takeover* takeover = nullptr) {
            try {
                if (!takeover) handler(session);
                else if (options.on_takeover) options.on_takeover(session, *takeover);
                else (void)session.abort().get_for(std::chrono::seconds(10));
            } catch (const std::exception& e) {
                log(LogLevel::error, "serve handler for " + session.ivrid() + " threw: " + e.what());
            } catch (...) {
                log(LogLevel::error, "serve handler for " + session.ivrid() + " threw");
            }
            // After a component that ends the call, the platform's api_stop is on its
            // way: wait for it (bounded) rather than race it with an abort, so the
            // outcome reads as the platform's reason.
            if (!session.ended() && ends_the_call(ClientCore::state_of(session)->last_otype.load())) {
                (void)session.wait_ended(std::chrono::seconds(2));
            }
            if (!session.ended()) (void)session.abort().get_for(std::chrono::seconds(10));
            active().fetch_sub(1);
            auto self = shared_from_this();
            link->post([self](ClientCore&) { self->next(); });
        }

        // Claims held offers while there is room.
        void next() {
            const auto now = Loop::Clock::now();
            while (!waiting.empty() && active().load() < limit) {
                Waiting w = std::move(waiting.front());
                waiting.pop_front();
                if (w.deadline < now) continue;
                if (options.max_sessions && claimed >= options.max_sessions) {
                    waiting.clear();
                    return;
                }
                claim(std::move(w.offer));
            }
        }
    };

    // Client::post / Client::after: user code on the loop thread, guarded like a callback.
    bool post_user(std::function<void()> fn) {
        return loop_->post([this, fn = std::move(fn)] { run_user(fn); });
    }
    bool after_user(std::chrono::milliseconds delay, std::function<void()> fn) {
        return loop_->post([this, delay, fn = std::move(fn)]() mutable {
            loop_->schedule(std::max(delay, std::chrono::milliseconds(0)),
                            [this, fn = std::move(fn)] { run_user(fn); });
        });
    }
    void run_user(const std::function<void()>& fn) {
        if (!fn) return;
        try {
            fn();
        } catch (const std::exception& e) {
            status_.callback_errors.fetch_add(1);
            write_log(LogLevel::error, std::string("a posted task threw: ") + e.what());
        } catch (...) {
            status_.callback_errors.fetch_add(1);
            write_log(LogLevel::error, "a posted task threw");
        }
    }

    void write_log(LogLevel level, const std::string& line) const {
        if (!options_.log || level < options_.log_level || options_.log_level == LogLevel::off) return;
        try {
            options_.log(level, redact(line, secret_));
        } catch (...) {
            // A throwing sink must not take the I/O thread down.
        }
    }

    const ClientOptions& options() const { return options_; }
    const std::shared_ptr<ClientLink>& link() const { return link_; }
    SharedStatus& status() { return status_; }

private:
    TransportConfig transport_config() const {
        TransportConfig c;
        c.target = target_;
        c.connect_timeout = options_.connect_timeout;
        c.ping_interval = options_.ping_interval;
        c.pong_timeout = options_.pong_timeout;
        c.max_message_size = options_.max_message_size;
        c.ca_file = options_.tls.ca_file;
        c.verify_hostname = options_.tls.verify_hostname;
        c.accept_invalid_certificates = options_.tls.danger_accept_invalid_certificates;
        return c;
    }

    // Capture: the decorator writes to the file and/or the sink; the token is replaced
    // by "***" in every line, also where it appears JSON-escaped.
    CaptureConfig capture_config() const {
        CaptureConfig c;
        const CaptureOptions& o = options_.capture;
        std::shared_ptr<std::ofstream> file;
        if (!o.file.empty()) {
            file = std::make_shared<std::ofstream>(o.file, std::ios::out | std::ios::trunc);
            if (!*file)
                throw std::invalid_argument("ivrapi::ClientOptions: capture.file '" + o.file + "' cannot be written");
        }
        c.write = [file, sink = o.sink](const std::string& line) {
            if (file) *file << line << '\n' << std::flush;  // a crash keeps every line so far
            if (sink) sink(line);
        };
        const std::string escaped = Json(secret_).dump();
        c.redact = [secret = secret_, escaped = escaped.substr(1, escaped.size() - 2)](std::string text) {
            text = redact(std::move(text), secret);
            return escaped == secret ? text : redact(std::move(text), escaped);
        };
        c.url = redact(target_.uri, secret_);
        c.token_placement = target_.bearer_token.empty() ? "path" : "header";
        if (!target_.bearer_token.empty()) c.headers.emplace_back("Authorization", "Bearer ***");
        return c;
    }

    std::string token_from_uri() const {
        const auto pos = target_.uri.find("/ws/token/v1/");
        return pos == std::string::npos ? std::string() : target_.uri.substr(pos + 13);
    }

    const ClientOptions options_;
    const ConnectTarget target_;
    const std::string secret_;
    SharedStatus status_;
    std::shared_ptr<ClientLink> link_;
    std::unique_ptr<RunnableLoop> loop_;
    const bool external_;  // on the caller's io_context: no thread_
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<ClientCore> core_;
    std::thread thread_;
    std::shared_ptr<WorkerPool> pool_;
    std::shared_ptr<WorkerPool> deferred_pool_;
    std::shared_ptr<ClaimCoordinator>
        coordinator_;  // ServeOptions::cluster of the latest serve()/claim()  // stop() on the loop thread: stopped by after_loop()
    bool stopped_on_loop_ = false;

    std::mutex mutex_;
    std::condition_variable stopped_cv_;
    bool started_ = false;
    bool stopped_ = false;
    bool finished_ = false;
};

}  // namespace detail

// ------------------------------------------------------------------ Client

Client::Client(ClientOptions options) : runtime_(std::make_shared<detail::ClientRuntime>(std::move(options))) {
    runtime_->launch();
}

Client::Client(std::shared_ptr<detail::ClientRuntime> runtime) : runtime_(std::move(runtime)) { runtime_->launch(); }

std::unique_ptr<Client> detail::ClientFactory::on_asio_context(void* io_context, ClientOptions options,
                                                               long asio_version) {
    if (!io_context) throw std::invalid_argument("ivrapi::make_client: no io_context");
    if (asio_version != built_asio_version()) {
        throw std::logic_error("ivrapi::make_client: the program uses Asio " + std::to_string(asio_version) +
                               " but the library was built with Asio " + std::to_string(built_asio_version()));
    }
    auto runtime = std::make_shared<ClientRuntime>(std::move(options), static_cast<asio::io_context*>(io_context));
    return std::unique_ptr<Client>(new Client(std::move(runtime)));
}

Client::~Client() {
    if (runtime_) runtime_->stop();
}

void Client::start() { runtime_->start(); }
void Client::stop() {
    auto runtime = runtime_;  // a callback may destroy this Client meanwhile
    runtime->stop();
}
bool Client::wait_stopped(std::chrono::milliseconds timeout) { return runtime_->wait_stopped(timeout); }
DrainResult Client::drain(std::chrono::milliseconds timeout) {
    auto runtime = runtime_;  // a callback may destroy this Client meanwhile
    return runtime->drain(timeout);
}

void Client::on_offer(std::function<void(Offer)> handler) {
    runtime_->with_core([h = std::move(handler)](detail::ClientCore& c) { c.handlers().on_offer = h; });
}
void Client::on_state(std::function<void(ConnectionState, const Error&)> handler) {
    runtime_->with_core([h = std::move(handler)](detail::ClientCore& c) { c.handlers().on_state = h; });
}
void Client::on_api_stop(std::function<void(const ApiStopEvent&)> handler) {
    runtime_->with_core([h = std::move(handler)](detail::ClientCore& c) { c.handlers().on_api_stop = h; });
}
void Client::on_notify(std::function<void(const NotifyEvent&)> handler) {
    runtime_->with_core([h = std::move(handler)](detail::ClientCore& c) { c.handlers().on_notify = h; });
}
void Client::on_unknown_message(std::function<void(const GenericMessage&)> handler) {
    runtime_->with_core([h = std::move(handler)](detail::ClientCore& c) { c.handlers().on_unknown = h; });
}

void Client::serve(std::function<void(Session&)> handler, ServeOptions options) {
    runtime_->serve(std::move(handler), std::move(options));
}
void Client::claim(std::function<void(Session)> on_session, ServeOptions options) {
    runtime_->claim(std::move(on_session), std::move(options));
}

namespace {
auto sessionless_upload_op(std::string url, std::string dest) {
    return [url = std::move(url), dest = std::move(dest)](detail::ClientCore& c, Callback<std::string> d) {
        c.upload_static(url, dest, std::move(d));
    };
}
auto request_op(std::string name, Json body) {
    return [name = std::move(name), body = std::move(body)](detail::ClientCore& c, Callback<Json> d) {
        c.request(name, body, std::move(d));
    };
}
}  // namespace

Future<std::string> Client::upload_static(const std::string& url, const std::string& destpath) {
    return detail::start_op<std::string>({runtime_->link(), {}}, sessionless_upload_op(url, destpath));
}
void Client::upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done) {
    detail::start_op<std::string>({runtime_->link(), {}}, sessionless_upload_op(url, destpath), std::move(done));
}

Future<Json> Client::request(const std::string& name, const Json& body) {
    return detail::start_op<Json>({runtime_->link(), {}}, request_op(name, body));
}
void Client::request(const std::string& name, const Json& body, Callback<Json> done) {
    detail::start_op<Json>({runtime_->link(), {}}, request_op(name, body), std::move(done));
}

bool Client::post(std::function<void()> fn) { return runtime_->post_user(std::move(fn)); }
bool Client::after(std::chrono::milliseconds delay, std::function<void()> fn) {
    return runtime_->after_user(delay, std::move(fn));
}

ConnectionState Client::state() const { return runtime_->status().state.load(); }

ConnectionInfo Client::connection_info() const {
    std::lock_guard<std::mutex> lock(runtime_->status().mutex);
    return runtime_->status().info;
}

ClientStats Client::stats() const {
    const auto& s = runtime_->status();
    ClientStats out;
    out.messages_in = s.messages_in.load();
    out.messages_out = s.messages_out.load();
    out.dropped = s.dropped.load();
    out.protocol_errors = s.protocol_errors.load();
    out.duplicates = s.duplicates.load();
    out.reconnects = s.reconnects.load();
    out.offers = s.offers.load();
    out.active_sessions = s.active_sessions.load();
    out.requests = s.requests.load();
    out.request_timeouts = s.request_timeouts.load();
    out.callback_errors = s.callback_errors.load();
    out.sessions_handed_back = s.handed_back.load();
    out.components_lost = s.components_lost.load();
    out.takeovers = s.takeovers.load();
    if (out.requests) out.request_latency_avg_us = static_cast<double>(s.latency_sum_us.load()) / out.requests;
    out.request_latency_max_us = static_cast<double>(s.latency_max_us.load());
    return out;
}

bool Client::wait_ready(std::chrono::milliseconds timeout) const {
    auto& s = runtime_->status();
    // On the I/O thread the state cannot change while this waits: answer now.
    if (runtime_->on_loop_thread()) return s.state.load() == ConnectionState::ready;
    std::unique_lock<std::mutex> lock(s.mutex);
    return s.state_cv.wait_for(lock, std::min(timeout, detail::kLongestWait),
                               [&] { return s.state.load() == ConnectionState::ready; });
}

namespace {
auto take_over_op(std::shared_ptr<const ApiStartEvent> info) {
    return [info = std::move(info)](detail::ClientCore& c, Callback<Session> d) { c.take_over(info, std::move(d)); };
}
std::shared_ptr<const ApiStartEvent> session_identity(const std::string& ivrid, const std::string& key) {
    auto info = std::make_shared<ApiStartEvent>();
    info->ivrid = ivrid;
    info->key = key;
    return info;
}
}  // namespace

Future<Session> Client::take_over(const std::string& ivrid, const std::string& key) {
    return detail::start_op<Session>({runtime_->link(), {}}, take_over_op(session_identity(ivrid, key)));
}
void Client::take_over(const std::string& ivrid, const std::string& key, Callback<Session> done) {
    detail::start_op<Session>({runtime_->link(), {}}, take_over_op(session_identity(ivrid, key)), std::move(done));
}

// ------------------------------------------------------------------ Offer

namespace {
auto accept_op(std::shared_ptr<const ApiStartEvent> info) {
    return [info = std::move(info)](detail::ClientCore& c, Callback<Session> d) { c.accept(info, std::move(d)); };
}
detail::OpTarget target_of(const std::shared_ptr<detail::ClientLink>& link) {
    return link ? detail::OpTarget{link, {}} : detail::gone();
}
}  // namespace

Future<Session> Offer::accept() { return detail::start_op<Session>(target_of(link_), accept_op(info_)); }
void Offer::accept(Callback<Session> done) {
    detail::start_op<Session>(target_of(link_), accept_op(info_), std::move(done));
}

// ------------------------------------------------------------------ Session

const ApiStartEvent& Session::info() const {
    static const ApiStartEvent empty;
    return state_ ? state_->offer.event() : empty;
}

const std::string& Session::ivrid() const {
    static const std::string empty;
    return state_ ? state_->offer.ivrid() : empty;
}

const std::string& Session::key() const {
    static const std::string empty;
    return state_ ? state_->offer.key() : empty;
}

CallState Session::initial_state() const { return state_ ? state_->offer.state() : CallState::unknown; }

bool Session::ended() const { return !state_ || state_->ended.load(); }

std::optional<SessionEnd> Session::end() const {
    if (!state_) return std::nullopt;
    auto& signal = detail::SessionEndSignal::instance();
    std::lock_guard<std::mutex> lock(signal.mutex);
    if (!state_->published_end) return std::nullopt;
    return *state_->published_end;
}

bool Session::wait_controlled(std::chrono::milliseconds timeout) const {
    if (!state_) return false;
    auto link = state_->link.lock();
    if (link && detail::current_loop() != nullptr && detail::current_loop() == link->loop_id()) {
        return state_->controlled.load();
    }
    auto& signal = detail::SessionEndSignal::instance();
    std::unique_lock<std::mutex> lock(signal.mutex);
    signal.cv.wait_for(lock, std::min(timeout, detail::kLongestWait),
                       [&] { return state_->controlled.load() || state_->ended.load(); });
    return state_->controlled.load();
}

bool Session::wait_ended(std::chrono::milliseconds timeout) const {
    if (!state_) return true;
    auto link = state_->link.lock();
    // On the I/O thread nothing can end the session while this waits: answer now.
    if (link && detail::current_loop() != nullptr && detail::current_loop() == link->loop_id()) return ended();
    auto& signal = detail::SessionEndSignal::instance();
    std::unique_lock<std::mutex> lock(signal.mutex);
    return signal.cv.wait_for(lock, std::min(timeout, detail::kLongestWait), [&] { return state_->ended.load(); });
}

namespace {
// An empty Session handle is a caller's mistake; a Session whose client is gone is
// "stopped".
detail::OpTarget target_of(const std::shared_ptr<detail::SessionState>& s) {
    if (!s) return detail::no_handle();
    return target_of(s->link.lock());
}

using detail::ClientCore;
using SessionPtr = std::shared_ptr<detail::SessionState>;

auto apply_op(SessionPtr s, Component c) {
    return [s = std::move(s), c = std::move(c)](ClientCore& core, Callback<ComponentStopped> d) {
        core.apply(s, c, std::move(d));
    };
}
auto terminate_op(SessionPtr s) {
    return [s = std::move(s)](ClientCore& core, Callback<void> d) { core.terminate(s, std::move(d)); };
}
auto abort_op(SessionPtr s) {
    return [s = std::move(s)](ClientCore& core, Callback<void> d) { core.abort(s, std::move(d)); };
}
auto get_path_op(SessionPtr s, std::string path) {
    return [s = std::move(s), path = std::move(path)](ClientCore& core, Callback<FileLink> d) {
        core.file_get_path(s, path, std::move(d));
    };
}
auto upload_temp_op(SessionPtr s, std::string url) {
    return [s = std::move(s), url = std::move(url)](ClientCore& core, Callback<std::string> d) {
        core.upload_temp(s, url, std::move(d));
    };
}
auto upload_static_op(SessionPtr s, std::string url, std::string dest) {
    return [s = std::move(s), url = std::move(url), dest = std::move(dest)](ClientCore& core, Callback<std::string> d) {
        core.upload_static(s, url, dest, std::move(d));
    };
}
}  // namespace

Future<ComponentStopped> Session::apply(const Component& component) {
    return detail::start_op<ComponentStopped>(target_of(state_), apply_op(state_, component));
}
void Session::apply(const Component& component, Callback<ComponentStopped> done) {
    detail::start_op<ComponentStopped>(target_of(state_), apply_op(state_, component), std::move(done));
}

Future<ComponentStopped> Session::play(const std::string& file, const std::string& interrupt_digits) {
    Play p;
    p.file = file;
    p.interrupt_digits = interrupt_digits;
    return apply(p);
}

Future<ComponentStopped> Session::record(std::chrono::seconds max_duration, const std::string& stop_digits) {
    Record r;
    r.max_duration = max_duration;
    r.stop_digits = stop_digits;
    return apply(r);
}

Future<ComponentStopped> Session::collect_digits(int max_digits, std::chrono::seconds timeout,
                                                 std::chrono::seconds inter_digit_timeout) {
    CollectDigits c;
    c.max_digits = max_digits;
    c.timeout = timeout;
    c.inter_digit_timeout = inter_digit_timeout;
    return apply(c);
}

Future<ComponentStopped> Session::transfer(const std::string& number) {
    Transfer t;
    t.number = number;
    return apply(t);
}

Future<ComponentStopped> Session::answer(int sip_code) {
    SipAnswer a;
    a.sip_code = sip_code;
    return apply(a);
}

Future<ComponentStopped> Session::hangup() { return apply(Hangup{}); }

Future<void> Session::terminate() { return detail::start_op<void>(target_of(state_), terminate_op(state_)); }
void Session::terminate(Callback<void> done) {
    detail::start_op<void>(target_of(state_), terminate_op(state_), std::move(done));
}

Future<void> Session::abort() { return detail::start_op<void>(target_of(state_), abort_op(state_)); }
void Session::abort(Callback<void> done) {
    detail::start_op<void>(target_of(state_), abort_op(state_), std::move(done));
}

Future<FileLink> Session::file_get_path(const std::string& path) {
    return detail::start_op<FileLink>(target_of(state_), get_path_op(state_, path));
}
void Session::file_get_path(const std::string& path, Callback<FileLink> done) {
    detail::start_op<FileLink>(target_of(state_), get_path_op(state_, path), std::move(done));
}

Future<std::string> Session::upload_temp(const std::string& url) {
    return detail::start_op<std::string>(target_of(state_), upload_temp_op(state_, url));
}
void Session::upload_temp(const std::string& url, Callback<std::string> done) {
    detail::start_op<std::string>(target_of(state_), upload_temp_op(state_, url), std::move(done));
}

Future<std::string> Session::upload_static(const std::string& url, const std::string& destpath) {
    return detail::start_op<std::string>(target_of(state_), upload_static_op(state_, url, destpath));
}
void Session::upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done) {
    detail::start_op<std::string>(target_of(state_), upload_static_op(state_, url, destpath), std::move(done));
}

void Session::on_dtmf(std::function<void(const DtmfEvent&)> handler) {
    auto s = state_;
    auto link = s ? s->link.lock() : nullptr;
    if (!link) return;
    link->post([s, h = std::move(handler)](detail::ClientCore& c) mutable { c.set_dtmf_handler(s, std::move(h)); });
}

void Session::on_end(std::function<void(const SessionEnd&)> handler) {
    auto s = state_;
    auto link = s ? s->link.lock() : nullptr;
    auto shared = std::make_shared<std::function<void(const SessionEnd&)>>(std::move(handler));
    if (!link || !link->post([s, shared](detail::ClientCore& c) { c.set_end_handler(s, std::move(*shared)); })) {
        if (*shared) {
            SessionEnd end;
            end.reason_text = "client stopped";
            (*shared)(end);
        }
    }
}

}  // namespace ivrapi
