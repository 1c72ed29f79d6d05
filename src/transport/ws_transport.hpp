// Factories for the production loop (Asio) and transport (websocketpp, ws and wss).
// All websocketpp/Asio code of the client lives in ws_transport.cpp.
#pragma once

#include "transport/event_loop.hpp"
#include "transport/transport.hpp"

#include <ivrapi/options.hpp>  // LogLevel only

#include <chrono>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace asio {
class io_context;
}

namespace ivrapi::detail {

// A Loop the owner runs on a thread of its own, or one on the caller's io_context.
class RunnableLoop : public Loop {
public:
    virtual void run() = 0;    // until close(); tasks posted before close() still run
    virtual void close() = 0;  // any thread
    // Like close(); then, on the loop, `finished` once the last task ran. On the caller's
    // io_context (make_asio_loop_on) `keep_alive` (the owner) is held until websocketpp
    // has let go of every connection, whose handlers still reference the transport.
    virtual void close_then(std::function<void()> finished, std::shared_ptr<void> keep_alive) = 0;
};

std::unique_ptr<RunnableLoop> make_asio_loop();
// Frees OpenSSL's per-thread state (the masking RNG's DRBGs) of the calling thread now,
// for a loop thread whose last steps may outlive ~Client: left to thread exit, it races
// with the process's exit and LeakSanitizer reports it.
void release_thread_crypto_state() noexcept;
// The caller runs `io` (one thread). run() must not be called. Every handler of the
// client runs with `mark(loop)` set on its thread (Future::get's deadlock check).
using ThreadMark = void (*)(const void* loop) noexcept;
std::unique_ptr<RunnableLoop> make_asio_loop_on(asio::io_context& io, ThreadMark mark);
// ASIO_VERSION of the Asio this library was built with (<ivrapi/asio.hpp> checks it).
long built_asio_version() noexcept;

// Where and how to connect, from ClientOptions (validated by the client).
struct ConnectTarget {
    std::string uri;  // ws(s)://host:port/path (token in the path when chosen)
    bool tls = false;
    std::string host;
    std::uint16_t port = 0;
    std::string bearer_token;  // sent as Authorization when not in the path
};

// What the transport needs to know, and nothing of the client's options.
struct TransportConfig {
    ConnectTarget target;
    std::chrono::milliseconds connect_timeout{10000};  // DNS + TCP + TLS + upgrade, all of it
    std::chrono::milliseconds ping_interval{4000};     // 0 = no pings
    std::chrono::milliseconds pong_timeout{5000};
    std::size_t max_message_size = 16u * 1024u * 1024u;
    std::string ca_file;  // PEM bundle; empty: the system store
    bool verify_hostname = true;
    bool accept_invalid_certificates = false;
};

using WireLog = std::function<void(LogLevel, const std::string&)>;

// `loop` must be the RunnableLoop from make_asio_loop() or make_asio_loop_on().
std::unique_ptr<Transport> make_ws_transport(RunnableLoop& loop, TransportConfig config, WireLog log);

}  // namespace ivrapi::detail
