// The bench's websocketpp code, behind a small interface so that only wspp_bench.cpp
// includes websocketpp (heavy to compile):
//  * BenchServer: a minimal replying/pushing WebSocket server (ws or wss) for the
//    round-trip and event-dispatch benches;
//  * RawClient: the raw websocketpp baseline client, built on the SDK's own websocketpp
//    configs (OpenSSL masking RNG, TCP_NODELAY set in the tcp pre-init handler), so the
//    only difference with the SDK is the SDK itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// Pins the calling thread to one CPU (threads it creates afterwards inherit it).
// False when the kernel refuses (e.g. the CPU is not in the allowed set).
bool pin_this_thread(int cpu);

// Minimal server on 127.0.0.1 (ephemeral port), its own thread pinned to `cpu`.
// Protocol (frames are [name, {..}] like the Token API):
//   any request with a qid          -> ["<name>_result", {"qid": <qid>, "result": "ok", ...}]
//   connection_info                 -> a ~150-byte connection_info_result
//   bench_offer {"ivrid"}           -> reply, then an ivrevents.api_start notify for ivrid
//   bench_push {"count","kind","ivrid"} -> reply, then `count` frames of `kind`
//                                      ("dtmf": ivrapi_dtmf, "notify": a callevents notify);
//                                      with "burst" and "interval_us", `burst` frames every
//                                      `interval_us` µs instead of all at once
//   bench_react {"count","ivrid"}   -> reply, then an ivrapi_dtmf; each ivrapi_component_apply
//                                      that follows is answered (reply, then its
//                                      ivrapi_component_stopped) and the next ivrapi_dtmf sent,
//                                      `count` times; the time from writing each dtmf to
//                                      reading the apply is a reaction sample.
class BenchServer {
public:
    BenchServer(bool tls, const std::string& cert_file, const std::string& key_file, int cpu);
    ~BenchServer();
    BenchServer(const BenchServer&) = delete;
    BenchServer& operator=(const BenchServer&) = delete;
    std::uint16_t port() const;
    // ws://127.0.0.1:<port>/ws/token/v1 or wss://localhost:<port>/ws/token/v1
    std::string url() const;
    // Waits for the `count` reaction samples of the last bench_react (µs, in order);
    // empty on timeout. Clears them for the next run.
    std::vector<double> take_reactions(std::size_t count, std::chrono::milliseconds timeout);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Raw websocketpp client, one connection, its own I/O thread (created by start(), so it
// inherits the affinity of the thread calling start()). Handlers run on that thread.
class RawClient {
public:
    struct Options {
        std::string url;
        std::string bearer_token;  // "Authorization: Bearer" when not empty
        std::string ca_file;       // wss: trust this CA (verification on, like the SDK)
    };
    using OpenFn = std::function<void(RawClient&)>;
    using MessageFn = std::function<void(RawClient&, std::string& payload)>;

    RawClient(Options options, OpenFn on_open, MessageFn on_message);
    ~RawClient();  // stop()
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void start();
    // I/O thread only (from the handlers or a posted task).
    void send(std::string_view frame);
    void post(std::function<void()> task);  // any thread
    void stop();                            // any thread but the I/O thread; idempotent

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bench
