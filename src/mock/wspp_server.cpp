// The mock platform's websocketpp server (ws and wss): the only translation unit of the
// mock that includes websocketpp/Asio.
#include "mock/transport.hpp"

#include "transport/wspp_config.hpp"

#include <websocketpp/server.hpp>

#include <asio/ssl.hpp>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace ivrapi::mock::detail {
namespace {

template <typename Config>
class WsppTransport final : public Transport, public std::enable_shared_from_this<WsppTransport<Config>> {
public:
    using Endpoint = websocketpp::server<Config>;
    using ConnectionPtr = typename Endpoint::connection_ptr;
    using MessagePtr = typename Endpoint::message_ptr;
    using Hdl = websocketpp::connection_hdl;

    WsppTransport(const TransportOptions& options, std::shared_ptr<TransportHandler> handler)
        : options_(options), handler_(std::move(handler)) {}

    ~WsppTransport() override {
        // stop() was called by the owner; if not, make sure the thread is gone.
        if (thread_.joinable()) {
            if (thread_.get_id() == std::this_thread::get_id()) {
                thread_.detach();
            } else {
                io_.stop();
                thread_.join();
            }
        }
    }

    void start() {
        std::shared_ptr<asio::ssl::context> ssl;
        if (options_.tls) ssl = make_ssl_context();

        // LogBridge::set_channels adds to the enabled set: clear first.
        endpoint_.get_alog().clear_channels(websocketpp::log::alevel::all);
        endpoint_.get_elog().clear_channels(websocketpp::log::elevel::all);
        endpoint_.get_elog().set_channels(websocketpp::log::elevel::warn | websocketpp::log::elevel::rerror |
                                          websocketpp::log::elevel::fatal);
        // websocketpp's own lines go to the event log, except the expected noise of
        // closing the acceptor and the connections on shutdown.
        auto sink = [this](bool, websocketpp::log::level, const std::string& msg) {
            if (!stopping_) log("websocketpp: " + msg);
        };
        endpoint_.get_elog().set_sink(sink);
        endpoint_.get_alog().set_sink(sink);

        endpoint_.init_asio(&io_);
        endpoint_.set_reuse_addr(true);
        endpoint_.set_open_handshake_timeout(5000);
        endpoint_.set_max_http_body_size(1024 * 1024);  // control commands are small
        endpoint_.set_close_handshake_timeout(1000);
        endpoint_.set_tcp_pre_init_handler([this](Hdl hdl) {
            std::error_code ec;
            auto con = endpoint_.get_con_from_hdl(hdl, ec);
            if (ec || !con) return;
            asio::error_code aec;
            con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), aec);
        });
        if constexpr (std::is_same_v<Config, ivrapi::transport::TlsServerConfig>) {
            endpoint_.set_tls_init_handler([ssl](const Hdl&) { return ssl; });
        }
        endpoint_.set_validate_handler([this](Hdl hdl) { return on_validate(hdl); });
        endpoint_.set_http_handler([this](Hdl hdl) { on_http(hdl); });
        endpoint_.set_open_handler([this](Hdl hdl) { on_open(hdl); });
        // websocketpp sends the pong only when the ping handler returns true.
        endpoint_.set_ping_handler([this](const Hdl&, const std::string&) { return answer_pings_.load(); });
        endpoint_.set_close_handler([this](Hdl hdl) { on_closed(hdl); });
        endpoint_.set_fail_handler([this](Hdl hdl) { on_closed(hdl); });
        endpoint_.set_message_handler([this](Hdl hdl, MessagePtr msg) { on_message(hdl, std::move(msg)); });

        std::error_code ec;
        asio::error_code address_ec;
        auto address = asio::ip::make_address(options_.address, address_ec);
        const std::string where = options_.address + ":" + std::to_string(options_.port);
        if (address_ec) {
            throw std::runtime_error("mock server: cannot listen on " + where + ": not an IP address");
        }
        endpoint_.listen(asio::ip::tcp::endpoint(address, options_.port), ec);
        if (ec) throw std::runtime_error("mock server: cannot listen on " + where + ": " + ec.message());
        asio::error_code aec;
        port_ = endpoint_.get_local_endpoint(aec).port();
        endpoint_.start_accept(ec);
        if (ec) throw std::runtime_error("mock server: cannot accept: " + ec.message());

        auto done = std::make_shared<std::promise<void>>();
        finished_ = done->get_future();
        thread_ = std::thread([this, done] {
            for (;;) {
                try {
                    io_.run();
                    break;
                } catch (const std::exception& e) {
                    log(std::string("I/O thread caught: ") + e.what());
                } catch (...) {
                    log("I/O thread caught an unknown exception");
                }
            }
            done->set_value();
            std::shared_ptr<WsppTransport> keep;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                keep = std::move(self_keep_);
                if (keep) thread_.detach();
            }
            // `keep` may destroy *this here; nothing below touches a member.
        });
    }

    std::uint16_t port() const override { return port_; }

    // Runs fn(hdl) on the I/O thread if the connection is still open then.
    template <typename Fn>
    void on_io_thread(int connection, Fn fn) {
        auto* self = this;  // the I/O thread never outlives *this (see stop())
        asio::post(io_, [self, connection, fn = std::move(fn)]() mutable {
            Hdl hdl;
            {
                std::lock_guard<std::mutex> lock(self->mutex_);
                auto it = self->connections_.find(connection);
                if (it == self->connections_.end()) return;
                hdl = it->second;
            }
            fn(hdl);
        });
    }

    void send(int connection, const std::string& text) override {
        // Always through the I/O thread: websocketpp's send() from another thread races
        // with its own close handling (m_state), and posting keeps frames in the order
        // the platform logic produced them (it posts under its lock).
        on_io_thread(connection, [this, text](Hdl hdl) {
            std::error_code ec;
            endpoint_.send(hdl, text, websocketpp::frame::opcode::text, ec);
        });
    }

    void answer_pings(bool on) override { answer_pings_ = on; }

    void close(int connection, int code, const std::string& reason) override {
        on_io_thread(connection, [this, code, reason](Hdl hdl) {
            std::error_code ec;
            endpoint_.close(hdl, static_cast<websocketpp::close::status::value>(code), reason, ec);
        });
    }

    void drop(int connection) override {
        on_io_thread(connection, [this](Hdl hdl) {
            std::error_code ec;
            auto con = endpoint_.get_con_from_hdl(hdl, ec);
            if (ec || !con) return;
            asio::error_code aec;
            // No close frame: the peer sees the TCP stream end, our read fails and
            // websocketpp terminates the connection.
            con->get_raw_socket().shutdown(asio::ip::tcp::socket::shutdown_both, aec);
        });
    }

    void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
        if (stopping_) return;
        auto* self = this;
        if (delay.count() <= 0) {
            asio::post(io_, [self, fn = std::move(fn)] { self->run_guarded(fn); });
            return;
        }
        auto timer = std::make_shared<asio::steady_timer>(io_, delay);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            timers_.insert(timer);
        }
        timer->async_wait([self, timer, fn = std::move(fn)](const asio::error_code& ec) {
            {
                std::lock_guard<std::mutex> lock(self->mutex_);
                self->timers_.erase(timer);
            }
            if (!ec) self->run_guarded(fn);
        });
    }

    void stop() override {
        if (stopping_.exchange(true)) {
            if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
                thread_.join();
            }
            return;
        }
        auto* self = this;
        auto shutdown = [self] {
            std::error_code ec;
            self->endpoint_.stop_listening(ec);
            std::vector<Hdl> all;
            std::set<std::shared_ptr<asio::steady_timer>> timers;
            {
                std::lock_guard<std::mutex> lock(self->mutex_);
                for (auto& [id, hdl] : self->connections_) all.push_back(hdl);
                timers.swap(self->timers_);
            }
            for (auto& t : timers) t->cancel();
            for (auto& hdl : all) {
                std::error_code cec;
                self->endpoint_.close(hdl, websocketpp::close::status::going_away, "server shutting down", cec);
            }
        };
        if (!thread_.joinable()) return;
        if (thread_.get_id() == std::this_thread::get_id()) {
            // Called from a callback on the I/O thread: we cannot join ourselves. The
            // thread keeps *this alive until its loop returned, then detaches itself.
            {
                std::lock_guard<std::mutex> lock(mutex_);
                self_keep_ = this->shared_from_this();
            }
            shutdown();
            io_.stop();
            return;
        }
        asio::post(io_, shutdown);
        // Closing handshakes are bounded; past the bound, stop the loop the hard way.
        if (finished_.wait_for(std::chrono::milliseconds(1500)) != std::future_status::ready) {
            io_.stop();
        }
        thread_.join();
        std::lock_guard<std::mutex> lock(mutex_);
        connections_.clear();
        ids_.clear();
    }

private:
    std::shared_ptr<asio::ssl::context> make_ssl_context() {
        auto ctx = ivrapi::transport::new_tls_context(asio::ssl::context::tls_server);
        asio::error_code ec;
        ctx->use_certificate_chain_file(options_.cert_file, ec);
        if (ec) {
            throw std::runtime_error("mock server: cannot load certificate '" + options_.cert_file +
                                     "': " + ec.message());
        }
        ctx->use_private_key_file(options_.key_file, asio::ssl::context::pem, ec);
        if (ec) {
            throw std::runtime_error("mock server: cannot load private key '" + options_.key_file +
                                     "': " + ec.message());
        }
        return ctx;
    }

    void log(const std::string& line) {
        if (handler_) handler_->on_log(line);
    }

    void run_guarded(const std::function<void()>& fn) {
        try {
            fn();
        } catch (const std::exception& e) {
            log(std::string("internal error in a timer: ") + e.what());
        } catch (...) {
            log("internal error in a timer");
        }
    }

    ConnectionPtr con_of(Hdl hdl) {
        std::error_code ec;
        auto con = endpoint_.get_con_from_hdl(hdl, ec);
        return ec ? nullptr : con;
    }

    bool on_validate(Hdl hdl) {
        auto con = con_of(hdl);
        if (!con) return false;
        try {
            int status = handler_->on_validate(con->get_resource(), con->get_request_header("Authorization"));
            if (status == 0) return true;
            con->set_status(static_cast<websocketpp::http::status_code::value>(status));
        } catch (...) {
            con->set_status(websocketpp::http::status_code::internal_server_error);
        }
        return false;
    }

    void on_http(Hdl hdl) {
        auto con = con_of(hdl);
        if (!con) return;
        HttpRequest request;
        request.method = con->get_request().get_method();
        request.resource = con->get_resource();
        request.body = con->get_request_body();
        request.authorization = con->get_request_header("Authorization");
        // Always deferred: a reply may come later from another thread (control waits).
        con->defer_http_response();
        // A deferred connection has no pending operation that would keep it alive: the
        // reply closure holds it until the reply is written.
        std::weak_ptr<WsppTransport> weak = this->shared_from_this();
        auto respond = [weak, con](HttpReply reply) {
            auto self = weak.lock();
            if (!self || self->stopping_) return;
            asio::post(self->io_, [con, reply = std::move(reply)]() mutable {
                con->set_status(static_cast<websocketpp::http::status_code::value>(reply.status));
                con->replace_header("Content-Type", reply.content_type);
                // websocketpp closes the connection after every HTTP response: say so,
                // or a keep-alive client reuses a dead socket for its next request.
                con->replace_header("Connection", "close");
                const std::size_t length = reply.body.size();
                if (reply.head) reply.body.clear();
                con->set_body(std::move(reply.body));
                if (reply.head) con->replace_header("Content-Length", std::to_string(length));
                std::error_code ec;
                con->send_http_response(ec);
            });
        };
        try {
            handler_->on_http(request, respond);
        } catch (...) {
            respond(HttpReply{500, "internal error\n", "text/plain"});
        }
    }

    void on_open(const Hdl& hdl) {
        int id;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            id = ++next_id_;
            connections_[id] = hdl;
            ids_[hdl] = id;
        }
        try {
            handler_->on_open(id);
        } catch (...) {
            log("internal error in on_open");
        }
    }

    void on_closed(const Hdl& hdl) {
        int id = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = ids_.find(hdl);
            if (it == ids_.end()) return;  // failed before open: never announced
            id = it->second;
            ids_.erase(it);
            connections_.erase(id);
        }
        try {
            handler_->on_close(id);
        } catch (...) {
            log("internal error in on_close");
        }
    }

    void on_message(const Hdl& hdl, const MessagePtr& msg) {
        int id = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = ids_.find(hdl);
            if (it == ids_.end()) return;
            id = it->second;
        }
        try {
            handler_->on_message(id, std::move(msg->get_raw_payload()));
        } catch (const std::exception& e) {
            log(std::string("internal error handling a message: ") + e.what());
        } catch (...) {
            log("internal error handling a message");
        }
    }

    TransportOptions options_;
    std::shared_ptr<TransportHandler> handler_;
    asio::io_context io_;
    Endpoint endpoint_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::future<void> finished_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> answer_pings_{true};

    std::mutex mutex_;
    std::map<int, Hdl> connections_;
    std::map<Hdl, int, std::owner_less<Hdl>> ids_;
    int next_id_ = 0;
    std::set<std::shared_ptr<asio::steady_timer>> timers_;
    std::shared_ptr<WsppTransport> self_keep_;
};

}  // namespace

std::shared_ptr<Transport> make_transport(const TransportOptions& options, std::shared_ptr<TransportHandler> handler) {
    if (options.tls) {
        auto t = std::make_shared<WsppTransport<ivrapi::transport::TlsServerConfig>>(options, std::move(handler));
        t->start();
        return t;
    }
    auto t = std::make_shared<WsppTransport<ivrapi::transport::ServerConfig>>(options, std::move(handler));
    t->start();
    return t;
}

}  // namespace ivrapi::mock::detail
