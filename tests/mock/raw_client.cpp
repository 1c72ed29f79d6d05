#include "mock/raw_client.hpp"

#include "transport/wspp_config.hpp"

#include <websocketpp/client.hpp>

#include <asio/ssl.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace mocktest {

namespace {

struct Link {
    virtual ~Link() = default;
    virtual void send(const std::string& text) = 0;
    virtual void close() = 0;
};

}  // namespace

struct RawClient::Impl {
    mutable std::mutex m;
    std::condition_variable cv;
    bool open = false, failed = false, is_closed = false;
    int status = 0, code = 0;
    std::string err;
    std::vector<Frame> frames;
    std::vector<bool> taken;
    std::int64_t next_qid = 100;

    asio::io_context io;
    std::unique_ptr<Link> link;
    std::thread thread;

    void push(std::string raw) {
        Frame f;
        f.raw = std::move(raw);
        auto parsed = ivrapi::Json::parse(f.raw);
        if (parsed && parsed->is_array() && parsed->size() == 2) {
            f.name = parsed->as_array()[0].as_string();
            f.body = parsed->as_array()[1];
        }
        {
            std::lock_guard<std::mutex> lock(m);
            frames.push_back(std::move(f));
            taken.push_back(false);
        }
        cv.notify_all();
    }
    void set(std::function<void()> fn) {
        {
            std::lock_guard<std::mutex> lock(m);
            fn();
        }
        cv.notify_all();
    }
};

namespace {

template <typename Config>
struct LinkImpl : Link {
    using Client = websocketpp::client<Config>;
    Client client;
    websocketpp::connection_hdl hdl;
    RawClient::Impl* owner;

    explicit LinkImpl(RawClient::Impl* o) : owner(o) {}

    bool start(const std::string& url, const std::string& bearer, const std::string& ca_file) {
        client.init_asio(&owner->io);
        auto* o = owner;
        if constexpr (std::is_same_v<Config, ivrapi::transport::TlsClientConfig>) {
            std::string host = "localhost";
            client.set_tls_init_handler([ca_file, host](websocketpp::connection_hdl) {
                auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
                asio::error_code ec;
                ctx->set_verify_mode(asio::ssl::verify_peer, ec);
                if (!ca_file.empty()) ctx->load_verify_file(ca_file, ec);
                ctx->set_verify_callback(asio::ssl::host_name_verification(host), ec);
                return ctx;
            });
        }
        client.set_tcp_pre_init_handler([this](websocketpp::connection_hdl h) {
            std::error_code ec;
            auto con = client.get_con_from_hdl(h, ec);
            if (ec) return;
            asio::error_code aec;
            con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), aec);
        });
        client.set_open_handler([o](websocketpp::connection_hdl) { o->set([o] { o->open = true; }); });
        client.set_fail_handler([this, o](websocketpp::connection_hdl h) {
            std::error_code ec;
            auto con = client.get_con_from_hdl(h, ec);
            int status = con ? static_cast<int>(con->get_response_code()) : 0;
            std::string why = con ? con->get_ec().message() : "fail";
            o->set([o, status, why] {
                o->failed = true;
                o->is_closed = true;
                o->status = status;
                o->err = why;
            });
        });
        client.set_close_handler([this, o](websocketpp::connection_hdl h) {
            std::error_code ec;
            auto con = client.get_con_from_hdl(h, ec);
            int code = con ? static_cast<int>(con->get_remote_close_code()) : 0;
            o->set([o, code] {
                o->is_closed = true;
                o->code = code;
            });
        });
        client.set_message_handler(
            [o](websocketpp::connection_hdl, typename Client::message_ptr msg) { o->push(msg->get_payload()); });
        std::error_code ec;
        auto con = client.get_connection(url, ec);
        if (ec) {
            owner->err = ec.message();
            return false;
        }
        if (!bearer.empty()) con->append_header("Authorization", "Bearer " + bearer);
        hdl = con->get_handle();
        client.connect(con);
        return true;
    }
    // Both on the I/O thread: websocketpp's send()/close() from another thread race
    // with its own handling of an incoming close frame.
    void send(const std::string& text) override {
        asio::post(owner->io, [this, text] {
            std::error_code ec;
            client.send(hdl, text, websocketpp::frame::opcode::text, ec);
        });
    }
    void close() override {
        asio::post(owner->io, [this] {
            std::error_code ec;
            client.close(hdl, websocketpp::close::status::normal, "bye", ec);
        });
    }
};

}  // namespace

RawClient::RawClient() : impl_(std::make_shared<Impl>()) {}

RawClient::~RawClient() {
    if (impl_->link && !closed()) {
        impl_->link->close();
        wait_closed(1000ms);
    }
    impl_->io.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->link.reset();
}

bool RawClient::connect(const std::string& url, const std::string& bearer, const std::string& ca_file, ms timeout) {
    bool tls = url.compare(0, 6, "wss://") == 0;
    bool started;
    if (tls) {
        auto l = std::make_unique<LinkImpl<ivrapi::transport::TlsClientConfig>>(impl_.get());
        started = l->start(url, bearer, ca_file);
        impl_->link = std::move(l);
    } else {
        auto l = std::make_unique<LinkImpl<ivrapi::transport::ClientConfig>>(impl_.get());
        started = l->start(url, bearer, ca_file);
        impl_->link = std::move(l);
    }
    if (!started) return false;
    auto* io = &impl_->io;
    impl_->thread = std::thread([io] {
        try {
            io->run();
        } catch (...) {}
    });
    std::unique_lock<std::mutex> lock(impl_->m);
    impl_->cv.wait_for(lock, timeout, [&] { return impl_->open || impl_->failed; });
    return impl_->open;
}

int RawClient::http_status() const {
    std::lock_guard<std::mutex> lock(impl_->m);
    return impl_->status;
}

std::string RawClient::error() const {
    std::lock_guard<std::mutex> lock(impl_->m);
    return impl_->err;
}

void RawClient::send(const std::string& text) {
    if (impl_->link) impl_->link->send(text);
}

std::int64_t RawClient::request(const std::string& name, ivrapi::Json body) {
    std::int64_t qid;
    {
        std::lock_guard<std::mutex> lock(impl_->m);
        qid = ++impl_->next_qid;
    }
    body.set("qid", qid);
    send(ivrapi::Json::array({name, body}).dump());
    return qid;
}

std::optional<Frame> RawClient::call(const std::string& name, ivrapi::Json body, ms timeout) {
    auto qid = request(name, std::move(body));
    return wait_reply(name, qid, timeout);
}

std::optional<Frame> RawClient::wait(const std::string& name, ms timeout, std::function<bool(const Frame&)> pred) {
    std::unique_lock<std::mutex> lock(impl_->m);
    std::optional<Frame> out;
    impl_->cv.wait_for(lock, timeout, [&] {
        for (std::size_t i = 0; i < impl_->frames.size(); ++i) {
            if (impl_->taken[i] || impl_->frames[i].name != name) continue;
            if (pred && !pred(impl_->frames[i])) continue;
            impl_->taken[i] = true;
            out = impl_->frames[i];
            return true;
        }
        return false;
    });
    return out;
}

std::optional<Frame> RawClient::wait_reply(const std::string& name, std::int64_t qid, ms timeout) {
    return wait(name + "_result", timeout, [qid](const Frame& f) {
        const auto* q = f.body.find("qid");
        return q && q->as_int(-1) == qid;
    });
}

bool RawClient::wait_count(const std::string& name, std::size_t n, ms timeout) {
    std::unique_lock<std::mutex> lock(impl_->m);
    return impl_->cv.wait_for(lock, timeout, [&] {
        std::size_t c = 0;
        for (const auto& f : impl_->frames) c += f.name == name;
        return c >= n;
    });
}

std::size_t RawClient::count(const std::string& name) const {
    std::lock_guard<std::mutex> lock(impl_->m);
    std::size_t c = 0;
    for (const auto& f : impl_->frames) c += f.name == name;
    return c;
}

std::vector<Frame> RawClient::frames() const {
    std::lock_guard<std::mutex> lock(impl_->m);
    return impl_->frames;
}

bool RawClient::wait_closed(ms timeout) {
    std::unique_lock<std::mutex> lock(impl_->m);
    return impl_->cv.wait_for(lock, timeout, [&] { return impl_->is_closed; });
}

bool RawClient::closed() const {
    std::lock_guard<std::mutex> lock(impl_->m);
    return impl_->is_closed;
}

int RawClient::close_code() const {
    std::lock_guard<std::mutex> lock(impl_->m);
    return impl_->code;
}

void RawClient::close() {
    if (impl_->link) impl_->link->close();
}

std::string raw_http(std::uint16_t port, const std::string& request, const std::string& host) {
    try {
        asio::io_context io;
        asio::ip::tcp::socket s(io);
        s.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
        asio::write(s, asio::buffer(request));
        // Bounded: a reply that never ends fails the test instead of hanging it.
        std::string resp;
        std::thread guard;
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
        guard = std::thread([&] {
            std::unique_lock<std::mutex> lock(m);
            if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; })) {
                asio::error_code ec;
                s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
            }
        });
        asio::error_code ec;
        char buf[8192];
        for (;;) {
            auto n = s.read_some(asio::buffer(buf), ec);
            resp.append(buf, n);
            if (ec) break;
        }
        {
            std::lock_guard<std::mutex> lock(m);
            done = true;
        }
        cv.notify_all();
        guard.join();
        return resp;
    } catch (...) {
        return {};
    }
}

namespace {
HttpResult parse_http(const std::string& resp) {
    HttpResult r;
    auto end = resp.find("\r\n\r\n");
    if (end == std::string::npos) return r;
    r.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
    r.headers = resp.substr(0, end);
    auto ct = r.headers.find("Content-Type: ");
    if (ct != std::string::npos) r.content_type = r.headers.substr(ct + 14, r.headers.find("\r\n", ct) - ct - 14);
    r.body = resp.substr(end + 4);
    return r;
}
}  // namespace

ivrapi::Json HttpResult::json() const {
    auto parsed = ivrapi::Json::parse(body);
    return parsed ? *parsed : ivrapi::Json();
}

HttpResult http_get(std::uint16_t port, const std::string& path) {
    return parse_http(raw_http(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
}

HttpResult control(std::uint16_t port, const std::string& command, const ivrapi::Json& body, const std::string& token) {
    const std::string text = body.dump();
    std::string req = "POST /control/" + command + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text;
    return parse_http(raw_http(port, req));
}

std::optional<Frame> subscribe(RawClient& c, const std::string& id, double expires) {
    return c.call("subscribe",
                  ivrapi::Json::object({{"objects", "any"},
                                        {"events", ivrapi::Json::array({"ivrevents.api_start", "ivrevents.api_stop"})},
                                        {"expires", expires},
                                        {"id", id}}));
}

}  // namespace mocktest
