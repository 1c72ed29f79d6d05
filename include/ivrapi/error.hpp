// Errors are values: every operation that can fail completes with an ivrapi::Error.
#pragma once

#include <string>
#include <system_error>

namespace ivrapi {

// Error codes of the SDK (category "ivrapi"). Stable numeric values: they are printed
// by the CLI and may be logged by applications.
enum class Errc {
    ok = 0,
    timeout = 1,              // no reply within the request timeout
    connection_lost = 2,      // the link dropped while the request was in flight
    not_connected = 3,        // nothing sent: the client is not connected
    session_ended = 4,        // api_stop arrived (or the session was aborted) first
    component_busy = 5,       // a component is already running in this session; nothing sent
    server_error = 6,         // the platform answered with an error reply (raw reply kept)
    protocol_error = 7,       // a frame that does not follow the protocol
    invalid_argument = 8,     // the caller passed something unusable; nothing sent
    would_deadlock = 9,       // Future::get() on the client's I/O thread while not ready
    stopped = 10,             // the client was stopped or destroyed
    handshake_failed = 11,    // WebSocket upgrade refused (HTTP status in the message)
    tls_error = 12,           // TLS handshake or certificate verification failed
    closed_by_peer = 13,      // the server closed the link (close code and reason in message)
    lost_race = 14,           // another connection claimed the session first
    cancelled = 15,           // the operation was cancelled (e.g. a reconnect dropped it)
    message_too_large = 16,   // a frame over the configured size limit
    component_lost = 17,      // after a re-claim the platform no longer runs the component
    connection_refused = 18,  // nobody listens at the URL's host:port
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), error_category()}; }

// One failure: a code, a human-readable message, and, when the platform answered,
// the raw reply frame exactly as received (so nothing the server said is lost).
// Compares with std::errc conditions too: e.code == std::errc::timed_out holds for
// Errc::timeout (see error.cpp for the whole mapping).
struct Error {
    std::error_code code;   // an Errc (category "ivrapi"); empty (0) for no error
    std::string message;    // human-readable, never contains the token
    std::string raw_reply;  // the platform's reply frame, when it answered
    int http_status = 0;    // a refused WebSocket upgrade's HTTP status (401, 403, 503, ...)

    Error() = default;  // no error
    // An error of code `c`.
    Error(Errc c, std::string msg, std::string raw = {})
        : code(make_error_code(c)), message(std::move(msg)), raw_reply(std::move(raw)) {}

    // True when the code is `c`.
    bool is(Errc c) const noexcept { return code == make_error_code(c); }
    // True when trying again later may succeed (a timeout, a lost or refused link, a
    // 5xx at the upgrade); false for what repeating cannot fix (a refused token, a bad
    // argument, a session that ended).
    bool transient() const noexcept;
    // "ivrapi.<code name>: <message>"
    std::string to_string() const;
};

// Name of a code as used in logs and the CLI's JSON output, e.g. "component_busy".
const char* errc_name(Errc e) noexcept;

}  // namespace ivrapi

namespace std {
template <>
struct is_error_code_enum<ivrapi::Errc> : true_type {};
}  // namespace std
