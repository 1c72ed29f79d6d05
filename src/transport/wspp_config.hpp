// websocketpp configurations used by the SDK's transport and by the mock platform.
// Internal header: never include it from a public header.
//
// Why our own configs instead of the stock ones:
//  * masking keys come from OpenSSL's CSPRNG (buffered) instead of std::random_device,
//    which caps a client at ~43k messages/s on this machine (RDSEED per frame);
//  * websocketpp's own log lines go to the SDK's logging sink (LogBridge);
//  * short socket-shutdown timeout so a wss endpoint does not wait 5 s on exit.
#pragma once

#ifndef ASIO_STANDALONE
#error "ASIO_STANDALONE must be defined: websocketpp would silently use Boost.Asio"
#endif

#include <websocketpp/config/asio.hpp>
#include <websocketpp/config/asio_client.hpp>
#include <websocketpp/logger/levels.hpp>

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

namespace ivrapi::transport {

// Masking-key generator drawing from OpenSSL's RAND_bytes in 1 KiB batches.
template <typename Concurrency>
class OpenSslRng {
public:
    using result_type = std::uint32_t;
    result_type operator()() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (pos_ + sizeof(result_type) > buffer_.size()) {
            refill();
        }
        result_type value;
        std::memcpy(&value, buffer_.data() + pos_, sizeof value);
        pos_ += sizeof value;
        return value;
    }

private:
    void refill() {
        if (RAND_bytes(buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
            // RAND_bytes only fails when OpenSSL cannot seed; masking still must not
            // be predictable, so fall back to the OS generator per batch.
            std::random_device rd;
            for (auto& b : buffer_) b = static_cast<unsigned char>(rd());
        }
        pos_ = 0;
    }
    std::mutex mutex_;
    std::array<unsigned char, 1024> buffer_{};
    std::size_t pos_ = 1024;
};

// websocketpp logger that forwards every enabled line to a callback set at run time
// (the SDK's logging sink). Same interface as websocketpp::log::basic.
template <typename Concurrency, typename Names>
class LogBridge {
public:
    using level = websocketpp::log::level;
    using Sink = std::function<void(bool is_error_channel, level, const std::string&)>;

    explicit LogBridge(websocketpp::log::channel_type_hint::value hint = websocketpp::log::channel_type_hint::access)
        : error_channel_(hint == websocketpp::log::channel_type_hint::error) {}
    LogBridge(level channels, websocketpp::log::channel_type_hint::value hint) : LogBridge(hint) {
        channels_ = channels;
    }

    void set_sink(Sink sink) {
        std::lock_guard<std::mutex> lock(mutex_);
        sink_ = std::move(sink);
    }
    void set_ostream(std::ostream* = nullptr) {}
    void set_channels(level channels) {
        std::lock_guard<std::mutex> lock(mutex_);
        channels_ = channels == 0 ? 0 : (channels_ | channels);
    }
    void clear_channels(level channels) {
        std::lock_guard<std::mutex> lock(mutex_);
        channels_ &= ~channels;
    }
    void write(level channel, const std::string& msg) { write(channel, msg.c_str()); }
    void write(level channel, const char* msg) {
        std::lock_guard<std::mutex> lock(mutex_);
        if ((channel & channels_) == 0 || !sink_) return;
        sink_(error_channel_, channel, msg);
    }
    // websocketpp's compile-time filter: it formats a line only when this is true, BEFORE
    // asking dynamic_test. Its devel and frame channels hex-dump every read buffer (per
    // frame, so quadratic in the frames per read): ~70 % of a client's CPU when always on.
    // Those channels are never routed to a sink, so they are filtered out here.
    static constexpr level kStaticChannels =
        std::is_same<Names, websocketpp::log::alevel>::value
            ? websocketpp::log::alevel::all &
                  ~(websocketpp::log::alevel::devel | websocketpp::log::alevel::frame_header |
                    websocketpp::log::alevel::frame_payload)
            : websocketpp::log::elevel::all;
    constexpr bool static_test(level channel) const { return (channel & kStaticChannels) != 0; }
    bool dynamic_test(level channel) {
        std::lock_guard<std::mutex> lock(mutex_);
        return (channel & channels_) != 0 && sink_ != nullptr;
    }

private:
    std::mutex mutex_;
    Sink sink_;
    level channels_ = 0;
    bool error_channel_;
};

template <typename Base>
struct TunedConfig : Base {
    using type = TunedConfig;
    using concurrency_type = typename Base::concurrency_type;
    using alog_type = LogBridge<concurrency_type, websocketpp::log::alevel>;
    using elog_type = LogBridge<concurrency_type, websocketpp::log::elevel>;
    using rng_type = OpenSslRng<concurrency_type>;

    struct transport_config : Base::transport_config {
        using alog_type = TunedConfig::alog_type;
        using elog_type = TunedConfig::elog_type;
        static const long timeout_socket_shutdown = 200;
        static const long timeout_dns_resolve = 10000;
        static const long timeout_connect = 10000;
    };
    using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

    static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
    static const websocketpp::log::level elog_level = websocketpp::log::elevel::all;
};

// A TLS context with the protocol floor every endpoint here uses: TLS 1.2 or newer.
// (Verification, certificates and keys are each caller's business.)
inline std::shared_ptr<asio::ssl::context> new_tls_context(asio::ssl::context::method method) {
    auto ctx = std::make_shared<asio::ssl::context>(method);
    std::error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                         asio::ssl::context::single_dh_use,
                     ec);
    return ctx;
}

using ClientConfig = TunedConfig<websocketpp::config::asio_client>;
using TlsClientConfig = TunedConfig<websocketpp::config::asio_tls_client>;
using ServerConfig = TunedConfig<websocketpp::config::asio>;
using TlsServerConfig = TunedConfig<websocketpp::config::asio_tls>;

}  // namespace ivrapi::transport
