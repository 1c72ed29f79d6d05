#include <ivrapi/error.hpp>

namespace ivrapi {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ivrapi"; }
    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
            case Errc::ok: return "success";
            case Errc::timeout: return "no reply within the request timeout";
            case Errc::connection_lost: return "the connection was lost while the request was in flight";
            case Errc::not_connected: return "the client is not connected";
            case Errc::session_ended: return "the session has ended";
            case Errc::component_busy: return "a component is already running in this session";
            case Errc::server_error: return "the platform answered with an error";
            case Errc::protocol_error: return "a message violates the protocol";
            case Errc::invalid_argument: return "invalid argument";
            case Errc::would_deadlock: return "waiting on the client's I/O thread would deadlock";
            case Errc::stopped: return "the client was stopped";
            case Errc::handshake_failed: return "the WebSocket handshake failed";
            case Errc::tls_error: return "TLS error";
            case Errc::closed_by_peer: return "the server closed the connection";
            case Errc::lost_race: return "another connection claimed the session first";
            case Errc::cancelled: return "the operation was cancelled";
            case Errc::message_too_large: return "message too large";
            case Errc::component_lost: return "the platform no longer runs the component";
            case Errc::connection_refused: return "the connection was refused";
        }
        return "unknown ivrapi error " + std::to_string(ev);
    }
    // So that an Error compares with the portable std::errc conditions.
    std::error_condition default_error_condition(int ev) const noexcept override {
        switch (static_cast<Errc>(ev)) {
            case Errc::timeout: return std::errc::timed_out;
            case Errc::connection_lost: return std::errc::connection_reset;
            case Errc::not_connected: return std::errc::not_connected;
            case Errc::component_busy: return std::errc::device_or_resource_busy;
            case Errc::protocol_error: return std::errc::protocol_error;
            case Errc::invalid_argument: return std::errc::invalid_argument;
            case Errc::would_deadlock: return std::errc::resource_deadlock_would_occur;
            case Errc::stopped:
            case Errc::cancelled: return std::errc::operation_canceled;
            case Errc::closed_by_peer: return std::errc::connection_aborted;
            case Errc::message_too_large: return std::errc::message_size;
            case Errc::connection_refused: return std::errc::connection_refused;
            default: return std::error_condition(ev, *this);
        }
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const Category category;
    return category;
}

const char* errc_name(Errc e) noexcept {
    switch (e) {
        case Errc::ok: return "ok";
        case Errc::timeout: return "timeout";
        case Errc::connection_lost: return "connection_lost";
        case Errc::not_connected: return "not_connected";
        case Errc::session_ended: return "session_ended";
        case Errc::component_busy: return "component_busy";
        case Errc::server_error: return "server_error";
        case Errc::protocol_error: return "protocol_error";
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::would_deadlock: return "would_deadlock";
        case Errc::stopped: return "stopped";
        case Errc::handshake_failed: return "handshake_failed";
        case Errc::tls_error: return "tls_error";
        case Errc::closed_by_peer: return "closed_by_peer";
        case Errc::lost_race: return "lost_race";
        case Errc::cancelled: return "cancelled";
        case Errc::message_too_large: return "message_too_large";
        case Errc::component_lost: return "component_lost";
        case Errc::connection_refused: return "connection_refused";
    }
    return "unknown";
}

bool Error::transient() const noexcept {
    if (code.category() != error_category()) return false;
    switch (static_cast<Errc>(code.value())) {
        case Errc::timeout:
        case Errc::connection_lost:
        case Errc::not_connected:
        case Errc::closed_by_peer:
        case Errc::connection_refused:
        case Errc::component_busy: return true;
        case Errc::handshake_failed: return http_status == 0 || http_status >= 500 || http_status == 429;
        default: return false;
    }
}

std::string Error::to_string() const {
    std::string name = code.category() == error_category()
                           ? errc_name(static_cast<Errc>(code.value()))
                           : code.category().name() + std::string(":") + std::to_string(code.value());
    return "ivrapi." + name + ": " + (message.empty() ? code.message() : message);
}

}  // namespace ivrapi
