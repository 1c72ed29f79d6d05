// A raw WebSocket test peer for the mock platform's own tests: sends frames as text and
// collects every frame received, without the SDK client. websocketpp lives in
// raw_client.cpp only.
#pragma once

#include <ivrapi/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mocktest {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

struct Frame {
    std::string name;
    ivrapi::Json body;  // element 1
    std::string raw;
};

class RawClient {
public:
    RawClient();
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    // Opens the WebSocket (ws:// or wss://, verifying against ca_file for wss).
    // `bearer` non-empty adds "Authorization: Bearer <bearer>". False on failure, with
    // http_status() (refused upgrade) and error().
    bool connect(const std::string& url, const std::string& bearer = "", const std::string& ca_file = "",
                 ms timeout = 5000ms);
    int http_status() const;
    std::string error() const;

    void send(const std::string& text);
    // Sends ["name", body + {"qid": <next int>}] and returns the qid.
    std::int64_t request(const std::string& name, ivrapi::Json body = ivrapi::Json::object());
    // request() then waits for "<name>_result" with that qid.
    std::optional<Frame> call(const std::string& name, ivrapi::Json body = ivrapi::Json::object(), ms timeout = 3000ms);

    // Waits for the first not yet taken frame named `name` (and matching `pred`), takes it.
    std::optional<Frame> wait(const std::string& name, ms timeout = 3000ms,
                              std::function<bool(const Frame&)> pred = {});
    std::optional<Frame> wait_reply(const std::string& name, std::int64_t qid, ms timeout = 3000ms);
    // Waits until at least n frames named `name` arrived (taken or not).
    bool wait_count(const std::string& name, std::size_t n, ms timeout = 3000ms);
    std::size_t count(const std::string& name) const;
    std::vector<Frame> frames() const;  // everything received, in order

    bool wait_closed(ms timeout = 3000ms);
    bool closed() const;
    int close_code() const;  // 1006 when the link dropped without a close frame
    void close();

    struct Impl;  // defined in raw_client.cpp

private:
    std::shared_ptr<Impl> impl_;
};

struct HttpResult {
    int status = 0;
    std::string body;
    std::string content_type;
    std::string headers;        // the status line and headers as received
    ivrapi::Json json() const;  // the body parsed (null when it is not JSON)
};
// Plain HTTP/1.1 GET to 127.0.0.1:port (the mock's file links). status 0 on failure.
HttpResult http_get(std::uint16_t port, const std::string& path);
// A control command: POST /control/<command> with a JSON body and the bearer token
// ("" = no Authorization header).
HttpResult control(std::uint16_t port, const std::string& command, const ivrapi::Json& body,
                   const std::string& token = "test-token");
// Writes `request` as is to host:port and reads until the server closes (bounded);
// "" on failure.
std::string raw_http(std::uint16_t port, const std::string& request, const std::string& host = "127.0.0.1");

// Subscribes to api_start/api_stop with the given id and expires; the reply frame.
std::optional<Frame> subscribe(RawClient& c, const std::string& id = "s1", double expires = 3600);

}  // namespace mocktest
