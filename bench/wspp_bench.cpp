// The only bench translation unit that includes websocketpp: the minimal bench server
// and the raw websocketpp baseline client, both on the SDK's own configs.
#include "wspp_bench.hpp"

#include "transport/wspp_config.hpp"

#include <websocketpp/client.hpp>
#include <websocketpp/server.hpp>

#include <asio/ssl.hpp>
#include <asio/ssl/host_name_verification.hpp>

#include <rapidjson/document.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace bench {

bool pin_this_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

namespace {

using ivrapi::transport::ClientConfig;
using ivrapi::transport::ServerConfig;
using ivrapi::transport::TlsClientConfig;
using ivrapi::transport::TlsServerConfig;

std::string qid_text(const rapidjson::Value& body) {
    auto it = body.FindMember("qid");
    if (it == body.MemberEnd()) return {};
    if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    return "0";
}

std::string qid_text_of(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) return "0";
    if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    return "0";
}

std::string str_member(const rapidjson::Value& body, const char* name, const char* fallback) {
    auto it = body.FindMember(name);
    if (it == body.MemberEnd() || !it->value.IsString()) return fallback;
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

// ------------------------------------------------------------------ server

class ServerBase {
public:
    virtual ~ServerBase() = default;
    virtual std::uint16_t port() const = 0;

    std::vector<double> take_reactions(std::size_t count, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(react_mutex_);
        if (!react_cv_.wait_for(lock, timeout, [&] { return reactions_.size() >= count; })) return {};
        std::vector<double> out;
        out.swap(reactions_);
        return out;
    }

protected:
    using Clock = std::chrono::steady_clock;
    // bench_react state (the server's thread; samples read by take_reactions).
    std::uint64_t react_left_ = 0;
    std::string react_ivrid_;
    Clock::time_point react_sent_;
    std::mutex react_mutex_;
    std::condition_variable react_cv_;
    std::vector<double> reactions_;
};

template <typename Config>
class Server final : public ServerBase {
public:
    using Endpoint = websocketpp::server<Config>;
    using Hdl = websocketpp::connection_hdl;
    using MessagePtr = typename Endpoint::message_ptr;

    Server(const std::string& cert, const std::string& key, int cpu) {
        endpoint_.clear_access_channels(websocketpp::log::alevel::all);
        endpoint_.clear_error_channels(websocketpp::log::elevel::all);
        endpoint_.init_asio();
        endpoint_.set_reuse_addr(true);
        endpoint_.set_tcp_pre_init_handler([this](Hdl hdl) {
            std::error_code ec;
            auto con = endpoint_.get_con_from_hdl(hdl, ec);
            if (!ec) con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ec);
        });
        configure_tls(cert, key);
        endpoint_.set_message_handler([this](Hdl hdl, MessagePtr msg) { on_message(hdl, msg->get_payload()); });
        std::error_code ec;
        endpoint_.listen(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), ec);
        if (ec) throw std::runtime_error("bench server: listen failed: " + ec.message());
        endpoint_.start_accept(ec);
        if (ec) throw std::runtime_error("bench server: accept failed: " + ec.message());
        asio::error_code aec;
        port_ = endpoint_.get_local_endpoint(aec).port();
        thread_ = std::thread([this, cpu] {
            pin_this_thread(cpu);
            endpoint_.run();
        });
    }

    ~Server() override {
        asio::post(endpoint_.get_io_service(), [this] {
            std::error_code ec;
            endpoint_.stop_listening(ec);
            endpoint_.stop();
        });
        if (thread_.joinable()) thread_.join();
    }

    std::uint16_t port() const override { return port_; }

private:
    void configure_tls(const std::string& cert, const std::string& key);

    void send(Hdl hdl, const std::string& frame) {
        std::error_code ec;
        endpoint_.send(hdl, frame, websocketpp::frame::opcode::text, ec);
    }

    // `count` copies of one text frame, framed once: websocketpp queues a prepared
    // message as it is, so the server's cost per frame is a queue entry (and, on wss, the
    // encryption). The client is then the slower side of the dispatch benches, which is
    // what they measure; built per send, the frames cost the server about twice what they
    // cost a client, and events/s measured the server.
    MessagePtr prepared(Hdl hdl, const std::string& frame) {
        std::error_code ec;
        auto con = endpoint_.get_con_from_hdl(hdl, ec);
        if (ec) return nullptr;
        MessagePtr msg = con->get_message(websocketpp::frame::opcode::text, frame.size());
        std::string header(1, static_cast<char>(0x81));  // FIN + text; a server does not mask
        if (frame.size() < 126) {
            header += static_cast<char>(frame.size());
        } else if (frame.size() <= 0xffff) {
            header += static_cast<char>(126);
            header += static_cast<char>((frame.size() >> 8) & 0xff);
            header += static_cast<char>(frame.size() & 0xff);
        } else {
            return nullptr;  // the bench's frames are ~150 bytes
        }
        msg->set_header(header);
        msg->set_payload(frame);
        msg->set_prepared(true);
        return msg;
    }
    void push(Hdl hdl, const std::string& frame, std::uint64_t count) {
        MessagePtr msg = prepared(hdl, frame);
        std::error_code ec;
        for (std::uint64_t i = 0; msg && i < count; ++i) endpoint_.send(hdl, msg, ec);
    }

    // The same frames paced: `burst` of them every `interval` (deadlines from the start,
    // so a late tick does not lower the rate). Both clients then read the same batches,
    // whatever their speed; flat out, a faster client reads smaller ones, more often.
    void pace(Hdl hdl, const std::string& frame, std::uint64_t count, std::uint64_t burst,
              std::chrono::microseconds interval) {
        MessagePtr msg = prepared(hdl, frame);
        if (!msg) return;
        pace_timer_ = std::make_unique<asio::steady_timer>(endpoint_.get_io_service());
        pace_tick(hdl, msg, count, burst, interval, std::chrono::steady_clock::now());
    }
    void pace_tick(Hdl hdl, MessagePtr msg, std::uint64_t left, std::uint64_t burst, std::chrono::microseconds interval,
                   std::chrono::steady_clock::time_point due) {
        std::error_code ec;
        const std::uint64_t n = std::min(left, burst);
        for (std::uint64_t i = 0; i < n; ++i) endpoint_.send(hdl, msg, ec);
        if ((left -= n) == 0 || ec) return;
        pace_timer_->expires_at(due + interval);
        pace_timer_->async_wait([this, hdl, msg, left, burst, interval, due](const asio::error_code& error) {
            if (!error) pace_tick(hdl, msg, left, burst, interval, due + interval);
        });
    }

    void on_message(Hdl hdl, const std::string& payload) {
        rapidjson::Document doc;
        doc.Parse(payload.data(), payload.size());
        if (doc.HasParseError() || !doc.IsArray() || doc.Size() != 2 || !doc[0].IsString() || !doc[1].IsObject()) {
            return;
        }
        const std::string name(doc[0].GetString(), doc[0].GetStringLength());
        const rapidjson::Value& body = doc[1];
        const std::string qid = qid_text(body);
        if (name == "connection_info") {
            // ~150 bytes, like the platform's reply (token left out).
            send(hdl, "[\"connection_info_result\",{\"qid\":" + qid +
                          ",\"site\":\"main_site\",\"ownertype\":\"domain\",\"domain\":\"bench.local\","
                          "\"sessionid\":\"s-0001\",\"capabilities\":[\"ivrapi\",\"subscr\"]}]");
            return;
        }
        if (name == "ivrapi_component_apply" && react_left_ > 0) {
            const auto read_at = Clock::now();
            {
                std::lock_guard<std::mutex> lock(react_mutex_);
                reactions_.push_back(std::chrono::duration<double, std::micro>(read_at - react_sent_).count());
            }
            react_cv_.notify_all();
            auto data = body.FindMember("data");
            std::string oid = "0";
            if (data != body.MemberEnd() && data->value.IsObject()) oid = qid_text_of(data->value, "oId");
            send(hdl, "[\"ivrapi_component_apply_result\",{\"qid\":" + qid + ",\"result\":\"ok\"}]");
            send(hdl, "[\"ivrapi_component_stopped\",{\"key\":\"k-" + react_ivrid_ + "\",\"ivrid\":\"" + react_ivrid_ +
                          "\",\"oId\":" + oid + ",\"transferKey\":\"next\",\"results\":{}}]");
            if (--react_left_ > 0) send_react_dtmf(hdl);
            return;
        }
        send(hdl, "[\"" + name + "_result\",{\"qid\":" + qid + ",\"result\":\"ok\"}]");
        if (name == "bench_react") {
            auto c = body.FindMember("count");
            react_left_ = (c != body.MemberEnd() && c->value.IsUint64()) ? c->value.GetUint64() : 0;
            react_ivrid_ = str_member(body, "ivrid", "bench-1");
            {
                std::lock_guard<std::mutex> lock(react_mutex_);
                reactions_.clear();
            }
            if (react_left_ > 0) send_react_dtmf(hdl);
        } else if (name == "bench_offer") {
            const std::string ivrid = str_member(body, "ivrid", "bench-1");
            send(hdl,
                 "[\"notify\",{\"class\":\"ivrevents\",\"type\":\"api_start\",\"eventts\":1700000000000,"
                 "\"data\":{\"ivrid\":\"" +
                     ivrid + "\",\"key\":\"k-" + ivrid +
                     "\",\"callid\":\"c1@127.0.0.1\",\"state\":\"dialog\",\"componentid\":14}}]");
        } else if (name == "bench_push") {
            auto c = body.FindMember("count");
            const std::uint64_t count = (c != body.MemberEnd() && c->value.IsUint64()) ? c->value.GetUint64() : 0;
            const std::string kind = str_member(body, "kind", "dtmf");
            const std::string ivrid = str_member(body, "ivrid", "bench-1");
            // Both ~150 bytes.
            const std::string frame =
                kind == "notify"
                    ? "[\"notify\",{\"class\":\"callevents\",\"type\":\"sm_start\",\"eventts\":1700000000000,"
                      "\"data\":{\"ivrid\":\"" +
                          ivrid + "\",\"sm_id\":\"0b7c9d6e-5a4f-4e3b-9c2d-1a0f8e7d6c5b\"}}]"
                    : "[\"ivrapi_dtmf\",{\"key\":\"k-" + ivrid + "\",\"ivrid\":\"" + ivrid +
                          "\",\"mode\":\"component\",\"oId\":1,\"dtmf\":\"5\",\"callid\":\"c1@127.0.0.1-0000\"}]";
            const auto burst = body.FindMember("burst");
            const auto every = body.FindMember("interval_us");
            if (burst != body.MemberEnd() && burst->value.IsUint64() && burst->value.GetUint64() > 0 &&
                every != body.MemberEnd() && every->value.IsUint64()) {
                pace(hdl, frame, count, burst->value.GetUint64(), std::chrono::microseconds(every->value.GetUint64()));
            } else {
                push(hdl, frame, count);
            }
        }
    }

    // The sample starts when the frame is handed to the socket (websocketpp writes at
    // once when nothing is queued), like the raw client's clock starts at its send.
    void send_react_dtmf(Hdl hdl) {
        const std::string frame = "[\"ivrapi_dtmf\",{\"key\":\"k-" + react_ivrid_ + "\",\"ivrid\":\"" + react_ivrid_ +
                                  "\",\"mode\":\"idle\",\"dtmf\":\"5\",\"callid\":\"c1@127.0.0.1-0000\"}]";
        react_sent_ = Clock::now();
        send(hdl, frame);
    }

    Endpoint endpoint_;
    std::unique_ptr<asio::steady_timer> pace_timer_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

template <>
void Server<ServerConfig>::configure_tls(const std::string&, const std::string&) {}

template <>
void Server<TlsServerConfig>::configure_tls(const std::string& cert, const std::string& key) {
    auto ctx = ivrapi::transport::new_tls_context(asio::ssl::context::tls_server);
    std::error_code ec;
    ctx->use_certificate_chain_file(cert, ec);
    if (ec) throw std::runtime_error("bench server: cannot read " + cert + ": " + ec.message());
    ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("bench server: cannot read " + key + ": " + ec.message());
    endpoint_.set_tls_init_handler([ctx](Hdl) { return ctx; });
}

// ------------------------------------------------------------------ raw client

class ClientBase {
public:
    virtual ~ClientBase() = default;
    virtual void start() = 0;
    virtual void send(std::string_view frame) = 0;
    virtual void post(std::function<void()> task) = 0;
    virtual void stop() = 0;
};

template <typename Config>
class Client final : public ClientBase {
public:
    using Endpoint = websocketpp::client<Config>;
    using Hdl = websocketpp::connection_hdl;
    using MessagePtr = typename Endpoint::message_ptr;

    Client(RawClient& owner, RawClient::Options options, RawClient::OpenFn on_open, RawClient::MessageFn on_message)
        : owner_(owner),
          options_(std::move(options)),
          on_open_(std::move(on_open)),
          on_message_(std::move(on_message)) {
        endpoint_.clear_access_channels(websocketpp::log::alevel::all);
        endpoint_.clear_error_channels(websocketpp::log::elevel::all);
        endpoint_.init_asio();
        // Same as the SDK: Nagle off before connect.
        endpoint_.set_tcp_pre_init_handler([this](Hdl hdl) {
            std::error_code ec;
            auto con = endpoint_.get_con_from_hdl(hdl, ec);
            if (!ec) con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ec);
        });
        configure_tls();
    }

    ~Client() override { stop(); }

    void start() override {
        std::error_code ec;
        auto con = endpoint_.get_connection(options_.url, ec);
        if (ec) throw std::runtime_error("raw client: bad url " + options_.url + ": " + ec.message());
        if (!options_.bearer_token.empty()) con->append_header("Authorization", "Bearer " + options_.bearer_token);
        con->set_open_handler([this](Hdl) {
            if (on_open_) on_open_(owner_);
        });
        con->set_message_handler([this](Hdl, MessagePtr msg) { on_message_(owner_, msg->get_raw_payload()); });
        con_ = con;
        endpoint_.connect(con);
        thread_ = std::thread([this] { endpoint_.run(); });
    }

    void send(std::string_view frame) override {
        std::error_code ec;
        endpoint_.send(con_->get_handle(), frame.data(), frame.size(), websocketpp::frame::opcode::text, ec);
    }

    void post(std::function<void()> task) override { asio::post(endpoint_.get_io_service(), std::move(task)); }

    void stop() override {
        if (!thread_.joinable()) return;
        asio::post(endpoint_.get_io_service(), [this] {
            std::error_code ec;
            if (con_ && con_->get_state() == websocketpp::session::state::open) {
                con_->close(websocketpp::close::status::going_away, "bye", ec);
            }
            endpoint_.stop_perpetual();
        });
        // The close handshake completes (bounded by the close timeout), then run() returns.
        thread_.join();
        con_.reset();
    }

private:
    void configure_tls();

    RawClient& owner_;
    RawClient::Options options_;
    RawClient::OpenFn on_open_;
    RawClient::MessageFn on_message_;
    Endpoint endpoint_;
    typename Endpoint::connection_ptr con_;
    std::thread thread_;
};

template <>
void Client<ClientConfig>::configure_tls() {}

template <>
void Client<TlsClientConfig>::configure_tls() {
    endpoint_.set_tls_init_handler([this](Hdl) {
        // Same context as the SDK's: TLS 1.2+, peer and host name verified.
        auto ctx = ivrapi::transport::new_tls_context(asio::ssl::context::tls_client);
        std::error_code ec;
        ctx->set_verify_mode(asio::ssl::verify_peer, ec);
        ctx->load_verify_file(options_.ca_file, ec);
        ctx->set_verify_callback(asio::ssl::host_name_verification("localhost"), ec);
        return ctx;
    });
}

}  // namespace

// ------------------------------------------------------------------ public wrappers

struct BenchServer::Impl {
    std::unique_ptr<ServerBase> server;
    bool tls = false;
};

BenchServer::BenchServer(bool tls, const std::string& cert_file, const std::string& key_file, int cpu)
    : impl_(std::make_unique<Impl>()) {
    impl_->tls = tls;
    if (tls) impl_->server = std::make_unique<Server<TlsServerConfig>>(cert_file, key_file, cpu);
    else impl_->server = std::make_unique<Server<ServerConfig>>(cert_file, key_file, cpu);
}

BenchServer::~BenchServer() = default;

std::uint16_t BenchServer::port() const { return impl_->server->port(); }

std::vector<double> BenchServer::take_reactions(std::size_t count, std::chrono::milliseconds timeout) {
    return impl_->server->take_reactions(count, timeout);
}

std::string BenchServer::url() const {
    return std::string(impl_->tls ? "wss://localhost:" : "ws://127.0.0.1:") + std::to_string(port()) + "/ws/token/v1";
}

struct RawClient::Impl {
    std::unique_ptr<ClientBase> client;
};

RawClient::RawClient(Options options, OpenFn on_open, MessageFn on_message) : impl_(std::make_unique<Impl>()) {
    const bool tls = options.url.rfind("wss://", 0) == 0;
    if (tls) {
        impl_->client = std::make_unique<Client<TlsClientConfig>>(*this, std::move(options), std::move(on_open),
                                                                  std::move(on_message));
    } else {
        impl_->client = std::make_unique<Client<ClientConfig>>(*this, std::move(options), std::move(on_open),
                                                               std::move(on_message));
    }
}

RawClient::~RawClient() { stop(); }
void RawClient::start() { impl_->client->start(); }
void RawClient::send(std::string_view frame) { impl_->client->send(frame); }
void RawClient::post(std::function<void()> task) { impl_->client->post(std::move(task)); }
void RawClient::stop() { impl_->client->stop(); }

}  // namespace bench
