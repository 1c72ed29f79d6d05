// ClientOptions: everything a Client can be configured with. Checked when the Client
// is constructed (std::invalid_argument with a clear message on a mistake).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace ivrapi {

enum class LogLevel { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };
const char* to_string(LogLevel level) noexcept;

// Receives the SDK's log lines and websocketpp's own (prefixed "websocketpp: ").
// Called from the client's I/O thread, from serve() worker threads (their claim/handler
// messages) and, rarely, from the thread calling stop(): make it thread-safe.
// The token never appears in a line.
using LogSink = std::function<void(LogLevel, const std::string& line)>;

// TLS settings for wss:// URLs.
struct TlsOptions {
    // Verification is ON by default, against the system trust store.
    std::string ca_file{};        // PEM bundle to trust instead of the system store
    bool verify_hostname = true;  // check the certificate names the URL's host
    // Accept ANY certificate: anyone on the path can read and alter the traffic.
    // Only for local experiments; the client logs a warning on every connect.
    bool danger_accept_invalid_certificates = false;
};

// When and how fast the client reconnects after losing the link.
struct ReconnectOptions {
    bool enabled = true;                           // retry until stop()
    std::chrono::milliseconds initial_delay{250};  // first retry
    std::chrono::milliseconds max_delay{30000};    // cap of the exponential backoff
    double jitter = 0.3;                           // +-30 % random spread per delay
    // The backoff starts again from initial_delay only after a link stayed ready this
    // long (a server that accepts the upgrade and closes at once is backed off too).
    std::chrono::milliseconds reset_after{10000};
};

// Records the connection into a cassette (docs/cassette.md): every frame both ways, open
// and close events, one JSON object per line, the token redacted. Replay it with
// ivrapi::mock::Replay or `ivrapi-mock-server --replay`.
struct CaptureOptions {
    std::string file{};  // created (truncated) by the Client's constructor
    // Receives each line (no newline) on the I/O thread; with `file` too, both get it.
    std::function<void(const std::string& line)> sink{};
    bool enabled() const { return !file.empty() || static_cast<bool>(sink); }
};

struct ClientOptions {
    // "wss://host[:port]/ws/token/v1" (token sent as "Authorization: Bearer") or
    // "wss://host[:port]/ws/token/v1/<TOKEN>" (token in the path). ws:// for plain HTTP.
    std::string url{};
    std::string token{};  // required unless the URL carries it

    TlsOptions tls{};              // wss:// certificate checks
    ReconnectOptions reconnect{};  // backoff after a lost link

    std::chrono::milliseconds request_timeout{10000};  // every request but a component's run
    std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS + upgrade
    // Bounds a component's run (apply -> stopped), across reconnects too.
    std::chrono::milliseconds component_timeout{std::chrono::minutes(15)};
    // WebSocket pings: a dead (half-open) link is noticed within ping_interval +
    // pong_timeout (9 s by default).
    std::chrono::milliseconds ping_interval{4000};  // 0 = off
    std::chrono::milliseconds pong_timeout{5000};   // no pong in time = dead link
    // After a re-claim, how long the SDK may take to learn whether the platform still
    // runs a component that was running when the link dropped; if not, the apply
    // completes with Errc::component_lost (see docs/design.md, "component probe").
    std::chrono::milliseconds component_probe_timeout{10000};
    // stop() hands every controlled session back (ivrapi_abort) before it closes,
    // waiting at most this long for the replies.
    std::chrono::milliseconds hand_back_timeout{3000};
    // Consecutive refused logins (HTTP 401/403 at the upgrade) after which the client
    // stops retrying (a wrong token does not fix itself); 0 = retry forever.
    unsigned max_auth_failures = 3;
    std::chrono::seconds subscription_lifetime{3600};    // renewed at 80 %
    std::size_t max_message_size = 16u * 1024u * 1024u;  // larger frames are dropped and counted

    // Events to subscribe to after every connect. Empty: no subscription (request-only use).
    std::vector<std::string> events{"ivrevents.api_start", "ivrevents.api_stop"};

    // Keep the raw frame of notifications in ApiStartEvent::raw, ApiStopEvent::raw and
    // NotifyEvent::raw: ~0.5 KiB per session and a copy per event, so off unless you
    // need every byte.
    bool keep_raw_events = false;

    CaptureOptions capture{};  // off unless a file or a sink is set

    LogSink log{};                        // none: silent
    LogLevel log_level = LogLevel::info;  // lines below this level are not produced
};

}  // namespace ivrapi
