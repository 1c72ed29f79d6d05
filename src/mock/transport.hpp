// The mock platform's network side, behind an interface so that the platform logic
// (core.cpp) does not include websocketpp: all websocketpp code is in wspp_server.cpp,
// one translation unit compiled once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ivrapi::mock::detail {

struct HttpRequest {
    std::string method, resource, body, authorization;
};

struct HttpReply {
    int status = 404;
    std::string body;
    std::string content_type = "text/plain";
    bool head = false;  // a HEAD request: headers (with the body's length) only
};

// Sends the reply to one HTTP request; callable once, from any thread (also after the
// transport stopped: then it does nothing).
using HttpRespond = std::function<void(HttpReply)>;

// Implemented by the platform logic. Called on the transport's I/O thread.
class TransportHandler {
public:
    virtual ~TransportHandler() = default;
    // Upgrade request: return 0 to accept, or an HTTP status to refuse with.
    virtual int on_validate(const std::string& resource, const std::string& authorization) = 0;
    virtual void on_open(int connection) = 0;
    // `client_close_code`: the code of the close frame the client sent, 0 when the
    // connection ended without one (dropped, failed, or closed by the server).
    virtual void on_close(int connection, int client_close_code) = 0;
    virtual void on_message(int connection, std::string text) = 0;
    // A plain HTTP request on the WebSocket port; `respond` must be called exactly once,
    // now or later from any thread.
    virtual void on_http(const HttpRequest& request, HttpRespond respond) = 0;
    virtual void on_log(const std::string& line) = 0;
};

struct TransportOptions {
    std::string address = "127.0.0.1";
    bool tls = false;
    std::string cert_file, key_file;
    std::uint16_t port = 0;
};

// Thread-safe: every method may be called from any thread, including from inside a
// TransportHandler callback.
class Transport {
public:
    virtual ~Transport() = default;
    virtual std::uint16_t port() const = 0;
    virtual void send(int connection, const std::string& text) = 0;
    virtual void drop(int connection) = 0;  // abnormal close: no close frame
    // A clean WebSocket close with this code and reason.
    virtual void close(int connection, int code, const std::string& reason) = 0;
    // false: WebSocket pings are not answered (a dead peer, as a client's pong timeout sees it).
    virtual void answer_pings(bool on) = 0;
    // Runs fn on the I/O thread after `delay` (0: as soon as possible). Dropped on stop().
    virtual void schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
    // Closes every connection, stops listening and joins the I/O thread (bounded).
    // From the I/O thread itself it stops without joining.
    virtual void stop() = 0;
};

// Starts listening on options.address and runs the I/O thread. Throws std::runtime_error.
std::shared_ptr<Transport> make_transport(const TransportOptions& options, std::shared_ptr<TransportHandler> handler);

}  // namespace ivrapi::mock::detail
