// The one translation unit with the client's websocketpp + Asio code.
#include "transport/ws_transport.hpp"

#include "transport/wspp_config.hpp"

#include <websocketpp/client.hpp>

#include <openssl/crypto.h>
#include <asio/ssl/host_name_verification.hpp>

#include <ivrapi/asio.hpp>    // IVRAPI_ASIO_VERSION: checked against this build's Asio
#include <ivrapi/future.hpp>  // current_loop()

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>

namespace ivrapi::detail {
namespace {

class AsioLoop final : public RunnableLoop {
public:
    // Own mode: a private io_context that run() drives on the owner's thread.
    AsioLoop() : owned_(std::make_unique<asio::io_context>()), io_(*owned_), work_(asio::make_work_guard(io_)) {}
    // External mode: the caller's io_context, run by the caller.
    AsioLoop(asio::io_context& io, ThreadMark mark) : io_(io), work_(asio::make_work_guard(io_)), mark_(mark) {}

    asio::io_context& io() { return io_; }

    // External mode: marks the thread as this loop's for as long as one of the client's
    // handlers runs (in own mode the owner marks its thread once).
    class Scope {
    public:
        Scope(ThreadMark mark, const Loop* loop) : mark_(mark), previous_(mark ? current_loop() : nullptr) {
            if (mark_) mark_(loop);
        }
        ~Scope() {
            if (mark_) mark_(previous_);
        }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        ThreadMark mark_;
        const void* previous_;
    };
    Scope enter() const { return Scope(mark_, this); }

    // The transport's connections: in external mode the loop's owner is kept alive until
    // websocketpp has let go of all of them (its handlers reference the endpoint).
    void retain(std::weak_ptr<void> connection) {
        retained_.erase(std::remove_if(retained_.begin(), retained_.end(), [](const auto& w) { return w.expired(); }),
                        retained_.end());
        retained_.push_back(std::move(connection));
    }

    bool post(std::function<void()> task) override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (closed_) return false;
            tasks_.push_back(std::move(task));
            if (tasks_.size() > 1) return true;  // a drain is already scheduled
        }
        asio::post(io_, [this] {
            auto scope = enter();
            drain();
        });
        return true;
    }

    TimerId schedule(std::chrono::milliseconds delay, std::function<void()> task) override {
        const TimerId id = ++next_timer_;
        auto timer = std::make_unique<asio::steady_timer>(io_, delay);
        timer->async_wait([this, id, task = std::move(task)](const std::error_code& ec) {
            if (ec) return;  // first: after a cancel `this` may be gone (external mode)
            if (timers_.erase(id) == 0) return;
            auto scope = enter();
            task();
        });
        timers_.emplace(id, std::move(timer));
        return id;
    }

    void cancel(TimerId id) override {
        auto it = timers_.find(id);
        if (it == timers_.end()) return;
        it->second->cancel();
        timers_.erase(it);  // the handler sees operation_aborted and the id gone
    }

    Clock::time_point now() const override { return Clock::now(); }

    void run() override {
        for (;;) {
            try {
                io_.run();
                break;
            } catch (...) {
                // A handler threw: keep the loop alive (the SDK's own handlers catch theirs).
            }
        }
        timers_.clear();
        stop_timer_.reset();
    }

    void close() override { close_then({}, {}); }

    void close_then(std::function<void()> finished, std::shared_ptr<void> keep_alive) override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (closed_) return;
            closed_ = true;
        }
        // Runs after every task posted before close().
        asio::post(io_, [this, finished = std::move(finished), keep_alive = std::move(keep_alive)]() mutable {
            {
                auto scope = enter();
                drain();
            }
            for (auto& [id, t] : timers_) t->cancel();
            work_.reset();
            if (finished) finished();
            if (!owned_) {
                // The caller's context is never stopped by us; the owner lives on until
                // websocketpp has finished with the connections.
                keep_alive_ = std::move(keep_alive);
                reap();
                return;
            }
            // Let the close frames queued by the last tasks go out: run() returns once
            // nothing is left to do, or after this bound (a peer that never answers).
            stop_timer_ = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(1000));
            stop_timer_->async_wait([this](const std::error_code& ec) {
                if (!ec) io_.stop();
            });
        });
    }

private:
    // External mode, after close: polls until no connection is left, then lets the
    // owner go (possibly destroying this loop: nothing may follow that).
    void reap() {
        retained_.erase(std::remove_if(retained_.begin(), retained_.end(), [](const auto& w) { return w.expired(); }),
                        retained_.end());
        if (retained_.empty()) {
            timers_.clear();
            auto owner = std::move(keep_alive_);
            owner.reset();
            return;
        }
        reap_timer_ = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(10));
        reap_timer_->async_wait([this](const std::error_code& ec) {
            if (!ec) reap();
        });
    }

    void drain() {
        std::deque<std::function<void()>> batch;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            batch.swap(tasks_);
        }
        for (auto& t : batch) {
            // One throwing task must not drop the others (their futures would never complete).
            try {
                t();
            } catch (...) {}
        }
    }

    std::unique_ptr<asio::io_context> owned_;  // own mode only; declared first, destroyed last
    asio::io_context& io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    const ThreadMark mark_ = nullptr;
    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;
    bool closed_ = false;
    TimerId next_timer_ = 0;
    std::map<TimerId, std::unique_ptr<asio::steady_timer>> timers_;
    std::unique_ptr<asio::steady_timer> stop_timer_;
    std::vector<std::weak_ptr<void>> retained_;
    std::shared_ptr<void> keep_alive_;
    std::unique_ptr<asio::steady_timer> reap_timer_;
};

Errc classify(const std::error_code& ec) {
    if (ec.category() == asio::error::get_ssl_category()) return Errc::tls_error;
    const std::string cat = ec.category().name();
    if (cat.find("ssl") != std::string::npos || cat.find("tls") != std::string::npos) return Errc::tls_error;
    return Errc::connection_lost;
}

template <typename Config>
class WsTransport final : public Transport {
public:
    using Endpoint = websocketpp::client<Config>;
    using ConnectionPtr = typename Endpoint::connection_ptr;
    using MessagePtr = typename Endpoint::message_ptr;

    WsTransport(AsioLoop& loop, TransportConfig config, WireLog log)
        : loop_(loop), config_(std::move(config)), target_(config_.target), log_(std::move(log)) {
        endpoint_.get_alog().set_sink([this](bool, websocketpp::log::level, const std::string& line) {
            log_(LogLevel::debug, "websocketpp: " + line);
        });
        endpoint_.get_elog().set_sink([this](bool, websocketpp::log::level lvl, const std::string& line) {
            log_(lvl >= websocketpp::log::elevel::rerror ? LogLevel::warn : LogLevel::debug, "websocketpp: " + line);
        });
        endpoint_.clear_access_channels(websocketpp::log::alevel::all);
        endpoint_.set_access_channels(websocketpp::log::alevel::connect | websocketpp::log::alevel::disconnect |
                                      websocketpp::log::alevel::fail);
        endpoint_.set_error_channels(websocketpp::log::elevel::all);
        endpoint_.init_asio(&loop_.io());
        endpoint_.set_user_agent("ivrapi-cpp/0.1");
        // Nagle off before connect: small request/reply traffic collapses with it on.
        endpoint_.set_tcp_pre_init_handler([this](websocketpp::connection_hdl hdl) {
            std::error_code ec;
            auto con = endpoint_.get_con_from_hdl(hdl, ec);
            if (!ec) con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ec);
        });
        configure_tls();
    }

    ~WsTransport() override { shutdown(); }

    void connect(TransportHandlers handlers) override {
        drop_current();
        handlers_ = std::move(handlers);
        std::error_code ec;
        ConnectionPtr con = endpoint_.get_connection(target_.uri, ec);
        if (ec) {
            fail(Error(Errc::invalid_argument, "cannot connect: " + ec.message()));
            return;
        }
        if (!target_.bearer_token.empty()) {
            con->append_header("Authorization", "Bearer " + target_.bearer_token);
        }
        con->set_open_handshake_timeout(static_cast<long>(config_.connect_timeout.count()));
        con->set_close_handshake_timeout(1000);
        // websocketpp closes the link (1009) above this; the decoder enforces the real
        // limit per frame and drops what is over it without losing the link.
        con->set_max_message_size(config_.max_message_size * 2 + 1024);
        con->set_pong_timeout(static_cast<long>(config_.pong_timeout.count()));
        const std::uint64_t gen = ++generation_;
        con->set_open_handler([this, gen](const websocketpp::connection_hdl&) {
            auto scope = loop_.enter();
            if (gen != generation_) return;
            open_ = true;
            if (connect_timer_) loop_.cancel(std::exchange(connect_timer_, 0));
            schedule_ping(gen);
            if (handlers_.on_open) handlers_.on_open();
        });
        con->set_fail_handler([this, gen](websocketpp::connection_hdl hdl) {
            auto scope = loop_.enter();
            if (gen != generation_) return;
            fail(describe_failure(hdl));
        });
        con->set_close_handler([this, gen](websocketpp::connection_hdl hdl) {
            auto scope = loop_.enter();
            if (gen != generation_) return;
            fail(describe_close(hdl));
        });
        con->set_message_handler([this, gen](const websocketpp::connection_hdl&, const MessagePtr& msg) {
            auto scope = loop_.enter();
            if (gen != generation_ || !handlers_.on_message) return;
            try {
                handlers_.on_message(std::move(msg->get_raw_payload()));
            } catch (const std::exception& e) {
                // A throwing user callback must not stop websocketpp's read loop.
                log_(LogLevel::error, std::string("a callback threw: ") + e.what());
            } catch (...) {
                log_(LogLevel::error, "a callback threw");
            }
        });
        con->set_pong_handler([this, gen](const websocketpp::connection_hdl&, const std::string&) {
            auto scope = loop_.enter();
            if (gen == generation_) awaiting_pong_ = false;
        });
        con->set_pong_timeout_handler([this, gen](const websocketpp::connection_hdl&, const std::string&) {
            auto scope = loop_.enter();
            if (gen != generation_) return;
            log_(LogLevel::warn,
                 "no pong within " + std::to_string(config_.pong_timeout.count()) + " ms: dropping the link");
            abort_connection(Error(Errc::connection_lost, "pong timeout (dead link)"));
        });
        current_ = con;
        loop_.retain(con);
        endpoint_.connect(con);
        // websocketpp bounds DNS and TCP connect by its compile-time config (10 s) and
        // the upgrade by the handshake timeout: this timer bounds the whole attempt.
        connect_timer_ = loop_.schedule(config_.connect_timeout, [this, gen] {
            connect_timer_ = 0;
            if (gen != generation_ || open_) return;
            abort_connection(Error(Errc::timeout, "connect to " + target_.host + ":" + std::to_string(target_.port) +
                                                      " timed out after " +
                                                      std::to_string(config_.connect_timeout.count()) + " ms"));
        });
    }

    bool send(std::string_view frame) override {
        if (!open_ || !current_) return false;
        std::error_code ec;
        endpoint_.send(current_->get_handle(), frame.data(), frame.size(), websocketpp::frame::opcode::text, ec);
        if (ec) {
            log_(LogLevel::warn, "send failed: " + ec.message());
            return false;
        }
        return true;
    }

    void close(std::string_view reason) override {
        if (!current_) return;
        std::error_code ec;
        current_->close(websocketpp::close::status::normal, std::string(reason), ec);
        if (ec) abort_connection(Error(Errc::connection_lost, std::string(reason)));
    }

    void shutdown() override {
        handlers_ = TransportHandlers{};
        drop_current();
    }

    std::string http_base() const override {
        return std::string(target_.tls ? "https://" : "http://") + target_.host + ":" + std::to_string(target_.port);
    }

private:
    void configure_tls();

    void schedule_ping(std::uint64_t gen) {
        if (config_.ping_interval.count() <= 0) return;
        ping_timer_ = loop_.schedule(config_.ping_interval, [this, gen] {
            ping_timer_ = 0;
            if (gen != generation_ || !current_ || !open_) return;
            // websocketpp restarts its pong timer on every ping: while one is unanswered,
            // send no other, or an interval below the pong timeout would never time out.
            if (!awaiting_pong_) {
                std::error_code ec;
                current_->ping("ivrapi", ec);
                awaiting_pong_ = !ec;
            }
            schedule_ping(gen);
        });
    }

    // Ends the current link now and reports `why` (once).
    void abort_connection(const Error& why) {
        auto handlers = std::move(handlers_);
        handlers_ = TransportHandlers{};
        drop_current();
        if (handlers.on_close) handlers.on_close(why);
    }

    void fail(const Error& why) {
        auto handlers = std::move(handlers_);
        handlers_ = TransportHandlers{};
        open_ = false;
        awaiting_pong_ = false;
        ++generation_;
        if (ping_timer_) loop_.cancel(std::exchange(ping_timer_, 0));
        if (connect_timer_) loop_.cancel(std::exchange(connect_timer_, 0));
        current_.reset();
        if (handlers.on_close) handlers.on_close(why);
    }

    void drop_current() {
        ++generation_;
        open_ = false;
        awaiting_pong_ = false;
        if (ping_timer_) loop_.cancel(std::exchange(ping_timer_, 0));
        if (connect_timer_) loop_.cancel(std::exchange(connect_timer_, 0));
        if (current_) {
            std::error_code ec;
            if (current_->get_state() == websocketpp::session::state::open) {
                current_->close(websocketpp::close::status::going_away, "client closing", ec);
            } else {
                current_->terminate(ec);
            }
            current_.reset();
        }
    }

    Error describe_failure(websocketpp::connection_hdl hdl) {
        std::error_code ec;
        auto con = endpoint_.get_con_from_hdl(hdl, ec);
        if (ec) return Error(Errc::connection_lost, "connection failed");
        const int status = static_cast<int>(con->get_response_code());
        const std::error_code why = con->get_ec();
        const std::string transport_ec = con->get_transport_ec().message();
        if (status != 0 && status != 101) {
            Error e(Errc::handshake_failed, "WebSocket upgrade refused by " + where() + ": HTTP " +
                                                std::to_string(status) + " " + con->get_response_msg());
            e.http_status = status;
            return e;
        }
        if (con->get_transport_ec() == asio::error::connection_refused || why == asio::error::connection_refused) {
            return Error(Errc::connection_refused, "connection refused by " + where());
        }
        Errc code = classify(con->get_transport_ec());
        if (code != Errc::tls_error) code = classify(why);
        std::string text = why.message();
        if (con->get_transport_ec() && con->get_transport_ec() != why) text += " (" + transport_ec + ")";
        if (code == Errc::tls_error) {
            std::string hint;
            if (text.find("wrong version number") != std::string::npos ||
                text.find("http request") != std::string::npos ||
                text.find("packet length too long") != std::string::npos) {
                hint = " (is it a plain ws:// server? then use ws://)";
            }
            return Error(Errc::tls_error, "TLS handshake with " + where() + " failed: " + text + hint);
        }
        return Error(Errc::connection_lost, "cannot connect to " + where() + ": " + text);
    }

    std::string where() const { return target_.host + ":" + std::to_string(target_.port); }

    Error describe_close(websocketpp::connection_hdl hdl) {
        std::error_code ec;
        auto con = endpoint_.get_con_from_hdl(hdl, ec);
        if (ec) return Error(Errc::connection_lost, "connection closed");
        const auto code = con->get_remote_close_code();
        if (code != websocketpp::close::status::blank && code != websocketpp::close::status::abnormal_close &&
            code != websocketpp::close::status::no_status) {
            return Error(Errc::closed_by_peer, "closed by the server: code " + std::to_string(code) +
                                                   (con->get_remote_close_reason().empty()
                                                        ? std::string()
                                                        : " reason \"" + con->get_remote_close_reason() + "\""));
        }
        return Error(Errc::connection_lost, "connection dropped (" + con->get_ec().message() + ")");
    }

    AsioLoop& loop_;
    const TransportConfig config_;
    const ConnectTarget& target_;
    std::shared_ptr<asio::ssl::context> tls_context_;  // built once, reused by every reconnect
    WireLog log_;
    Endpoint endpoint_;
    TransportHandlers handlers_;
    ConnectionPtr current_;
    bool open_ = false;
    bool awaiting_pong_ = false;
    std::uint64_t generation_ = 0;
    Loop::TimerId ping_timer_ = 0;
    Loop::TimerId connect_timer_ = 0;
};

template <>
void WsTransport<transport::ClientConfig>::configure_tls() {}

template <>
void WsTransport<transport::TlsClientConfig>::configure_tls() {
    // Reading the system trust store (set_default_verify_paths) costs milliseconds of
    // file I/O: do it once, not on the I/O thread at every reconnect.
    endpoint_.set_tls_init_handler([this](const websocketpp::connection_hdl&) {
        if (tls_context_) return tls_context_;
        auto ctx = transport::new_tls_context(asio::ssl::context::tls_client);
        std::error_code ec;
        if (config_.accept_invalid_certificates) {
            ctx->set_verify_mode(asio::ssl::verify_none, ec);
            tls_context_ = ctx;
            return ctx;
        }
        ctx->set_verify_mode(asio::ssl::verify_peer, ec);
        if (!config_.ca_file.empty()) {
            ctx->load_verify_file(config_.ca_file, ec);
            if (ec) log_(LogLevel::error, "cannot load CA file " + config_.ca_file + ": " + ec.message());
        } else {
            ctx->set_default_verify_paths(ec);
        }
        if (config_.verify_hostname) {
            ctx->set_verify_callback(asio::ssl::host_name_verification(target_.host), ec);
        }
        tls_context_ = ctx;
        return ctx;
    });
}

}  // namespace

void release_thread_crypto_state() noexcept { OPENSSL_thread_stop(); }

std::unique_ptr<RunnableLoop> make_asio_loop() { return std::make_unique<AsioLoop>(); }

std::unique_ptr<RunnableLoop> make_asio_loop_on(asio::io_context& io, ThreadMark mark) {
    return std::make_unique<AsioLoop>(io, mark);
}

long built_asio_version() noexcept { return ASIO_VERSION; }

std::unique_ptr<Transport> make_ws_transport(RunnableLoop& loop, TransportConfig config, WireLog log) {
    auto& asio_loop = static_cast<AsioLoop&>(loop);
    if (config.target.tls) {
        return std::make_unique<WsTransport<transport::TlsClientConfig>>(asio_loop, std::move(config), std::move(log));
    }
    return std::make_unique<WsTransport<transport::ClientConfig>>(asio_loop, std::move(config), std::move(log));
}

}  // namespace ivrapi::detail
