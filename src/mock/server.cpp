// Public API of the mock platform: Server and Call on top of Core + Transport.
#include <ivrapi/mock/server.hpp>

#include "mock/core.hpp"
#include "mock/files.hpp"

#include <stdexcept>

namespace ivrapi::mock {

const char* to_string(CallState state) noexcept {
    switch (state) {
        case CallState::dialog: return "dialog";
        case CallState::early: return "early";
        case CallState::ringing: return "ringing";
        case CallState::incoming: return "incoming";
    }
    return "dialog";
}

// ---------------------------------------------------------------------------- Call

using detail::CallData;

Call::Call(std::shared_ptr<detail::Core> core, std::shared_ptr<detail::CallData> data)
    : core_(std::move(core)), data_(std::move(data)) {
    if (!core_ || !data_) throw std::invalid_argument("ivrapi::mock::Call: null state");
}

const std::string& Call::ivrid() const { return data_->ivrid; }
const std::string& Call::key() const { return data_->key; }
const std::string& Call::callid() const { return data_->callid; }
const std::string& Call::cid() const { return data_->cid; }

bool Call::controlled() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->phase == CallData::Phase::controlled;
}

bool Call::ended() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->phase == CallData::Phase::ended;
}

std::string Call::end_reason() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->end_reason;
}

int Call::controller() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->controller;
}

std::vector<ComponentRecord> Call::components() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->records;
}

std::vector<std::string> Call::played_files() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->played;
}

std::string Call::state() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->sip_state;
}

std::vector<int> Call::sip_codes() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->sip_codes;
}

std::string Call::sent_dtmf() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->sent_dtmf;
}

std::string Call::transferred_to() const {
    std::lock_guard<std::mutex> lock(core_->mutex_);
    return data_->transferred_to;
}

bool Call::wait_ended(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto seen = core_->version();
        if (ended()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return ended();
        core_->wait_change(seen, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
    }
}

std::string Call::local_path(const std::string& platform_path) const {
    return core_->call_local_path(*data_, platform_path);
}

void Call::send_dtmf(const std::string& digits) { core_->caller_dtmf(data_, digits); }

void Call::hangup() { core_->caller_hangup(data_); }

// ---------------------------------------------------------------------------- Server

struct Server::Impl {
    std::shared_ptr<detail::Core> core;
    std::shared_ptr<detail::Transport> transport;
    std::uint16_t port = 0;
    std::mutex stop_mutex;
    bool stopped = false;
};

Server::Server(const ServerOptions& options) : impl_(std::make_unique<Impl>()) {
    if (options.tls && (options.cert_file.empty() || options.key_file.empty())) {
        throw std::invalid_argument("ivrapi::mock::Server: tls needs cert_file and key_file");
    }
    impl_->core = std::make_shared<detail::Core>(options);
    detail::TransportOptions t;
    t.address = options.listen_address;
    t.tls = options.tls;
    t.cert_file = options.cert_file;
    t.key_file = options.key_file;
    t.port = options.port;
    impl_->transport = detail::make_transport(t, impl_->core);
    impl_->port = impl_->transport->port();
    impl_->core->attach(impl_->transport);
}

Server::~Server() {
    stop();
    impl_->core->remove_temp_dir();
}

void Server::stop() {
    std::lock_guard<std::mutex> lock(impl_->stop_mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    auto t = impl_->core->shutdown();
    if (t) t->stop();
    impl_->core->join_workers();
    impl_->transport.reset();
}

namespace {
// Host for URLs: loopback for a wildcard or loopback listen address ("localhost" with
// TLS, so that the test certificate verifies), else the address itself.
std::string url_host(const ServerOptions& o) {
    const std::string& a = o.listen_address;
    if (a.empty() || a == "0.0.0.0" || a == "::" || a == "127.0.0.1" || a == "::1") {
        return o.tls ? "localhost" : "127.0.0.1";
    }
    return a.find(':') != std::string::npos ? "[" + a + "]" : a;
}
}  // namespace

std::string Server::url() const {
    const auto& o = impl_->core->options();
    return std::string(o.tls ? "wss://" : "ws://") + url_host(o) + ":" + std::to_string(impl_->port) + "/ws/token/v1";
}

std::string Server::url_with_token() const { return url() + "/" + impl_->core->options().token; }

std::uint16_t Server::port() const { return impl_->port; }

const ServerOptions& Server::options() const { return impl_->core->options(); }

std::string Server::http_url(const std::string& path) const {
    const auto& o = impl_->core->options();
    return std::string(o.tls ? "https://" : "http://") + url_host(o) + ":" + std::to_string(impl_->port) +
           (path.empty() || path[0] != '/' ? "/" : "") + path;
}

void Server::add_http_resource(const std::string& path, std::string body, std::string content_type) {
    impl_->core->add_http_resource(path, detail::HttpResource{std::move(body), std::move(content_type)});
}

std::string Server::local_path(const std::string& platform_path) const {
    return impl_->core->local_path(platform_path);
}

const std::string& Server::temp_dir() const { return impl_->core->root(); }

Call Server::start_call(const CallOptions& options) { return Call(impl_->core, impl_->core->start_call(options)); }

std::optional<Call> Server::find_call(const std::string& ivrid) const {
    auto c = impl_->core->find_call(ivrid);
    if (!c) return std::nullopt;
    return Call(impl_->core, c);
}

std::vector<Call> Server::calls() const {
    std::vector<Call> out;
    for (auto& c : impl_->core->calls()) out.emplace_back(impl_->core, c);
    return out;
}

std::vector<ReceivedRequest> Server::requests() const { return impl_->core->requests(); }

std::size_t Server::request_count(const std::string& name) const { return impl_->core->request_count(name); }

bool Server::wait_for(const std::function<bool(const Server&)>& predicate, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto seen = impl_->core->version();
        if (predicate(*this)) return true;
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        impl_->core->wait_change(seen, std::min(deadline, now + std::chrono::milliseconds(50)));
    }
}

bool Server::wait_for_request(const std::string& name, std::chrono::milliseconds timeout, std::size_t count) const {
    return wait_for([&](const Server& s) { return s.request_count(name) >= count; }, timeout);
}

std::size_t Server::connection_count() const { return impl_->core->connection_count(); }
std::size_t Server::subscription_count() const { return impl_->core->subscription_count(); }
std::vector<int> Server::connections() const { return impl_->core->connections(); }

void Server::drop_connections() { impl_->core->drop_connections(); }
void Server::drop_connection(int connection) { impl_->core->drop_connection(connection); }
void Server::close_connections(int code, const std::string& reason) { impl_->core->close_connections(code, reason); }
void Server::drop_after_messages(std::size_t n) { impl_->core->drop_after_messages(n); }
void Server::delay_reply(const std::string& name, std::chrono::milliseconds delay) {
    impl_->core->delay_reply(name, delay);
}
void Server::fail_reply(const std::string& name, std::string reason) {
    impl_->core->fail_reply(name, std::move(reason));
}
void Server::drop_reply(const std::string& name) { impl_->core->drop_reply(name); }
void Server::clear_faults() { impl_->core->clear_faults(); }
void Server::send_raw(const std::string& frame) { impl_->core->send_raw(frame); }
void Server::duplicate_notifications(bool on) { impl_->core->duplicate_notifications(on); }
void Server::stall(bool on) { impl_->core->stall(on); }
void Server::answer_pings(bool on) { impl_->core->answer_pings(on); }

}  // namespace ivrapi::mock
