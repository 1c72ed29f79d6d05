// What the platform tells the application: offers (api_start), end of control
// (api_stop), component completion, DTMF, other notifications and messages.
// Every field the protocol documents is here; every field is optional on the wire,
// so strings default to empty and numbers are std::optional.
#pragma once

#include <ivrapi/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ivrapi {

// SIP state of the call when control was offered (api_start.data.state).
enum class CallState { unknown, dialog, early, ringing, incoming };
// Why control ended (api_stop.data.reason).
enum class StopReason { unknown, script, timeout, abort };
// ivrapi_dtmf.mode: no component running, or pressed during a component.
enum class DtmfMode { unknown, idle, component };

const char* to_string(CallState s) noexcept;
const char* to_string(StopReason r) noexcept;
const char* to_string(DtmfMode m) noexcept;

// Identity of an IVR session, shared by api_start and api_stop.
struct SessionIdentity {
    std::string ivrid{};                        // addresses the dialog at run time
    std::string key{};                          // must be echoed in every ivrapi request
    std::string callid{};                       // the SIP Call-ID
    std::string cid{};                          // globally unique dialog id (may be empty)
    std::string sm_id{};                        // the script (state machine) instance
    std::string componentname{};                // documented as int, sent as string: kept as text
    std::optional<std::int64_t> componentid{};  // the script component that offered control
    std::optional<std::int64_t> ivrts{};        // dialog start, Unix ms
    std::optional<std::int64_t> eventts{};      // event time, Unix ms
};

// ivrevents.api_start: a session offered for external control.
struct ApiStartEvent : SessionIdentity {
    CallState state = CallState::unknown;  // SIP state of the call
    std::string state_text{};              // as received (empty when absent)
    std::string params{};                  // raw, as sent by the script
    std::optional<Json> params_json{};     // params parsed, when they are JSON
    std::string raw{};                     // the whole frame, when ClientOptions::keep_raw_events
};

// ivrevents.api_stop: control is over.
struct ApiStopEvent : SessionIdentity {
    StopReason reason = StopReason::unknown;  // why control ended
    std::string reason_text{};                // as received
    std::string raw{};                        // the whole frame, when ClientOptions::keep_raw_events
};

// ivrapi_component_stopped: a component applied through the API finished.
struct ComponentStopped {
    std::optional<std::int64_t> oid{};   // the oId the SDK set on apply
    std::string transfer_key{};          // exit taken: "transfer", "transferTimeout", ...
    Json results{};                      // output variables by property name (an object)
    std::optional<std::string> key{};    // present on some servers only
    std::optional<std::string> ivrid{};  // present on some servers only
    std::string raw{};                   // the whole frame, when ClientOptions::keep_raw_events

    // A result as text ("" when absent): strings as they are, other values as JSON.
    std::string result(std::string_view name) const {
        const Json* v = results.find(name);
        return v ? v->to_text() : std::string();
    }
};

// ivrapi_dtmf: a key the caller pressed while control is held.
struct DtmfEvent {
    std::string key{};                  // the session's key
    std::string ivrid{};                // the session
    DtmfMode mode = DtmfMode::unknown;  // during a component or not
    std::optional<std::int64_t> oid{};  // the running component (mode == component)
    std::string dtmf{};                 // the key: 0-9, *, #, A-D
};

// Any notify of another class/type (sm_start, callevents, ...).
struct NotifyEvent {
    std::string event_class{};              // the notification's class, e.g. "ivrevents"
    std::string type{};                     // its type, e.g. "sm_start"
    std::optional<std::int64_t> eventts{};  // event time, Unix ms
    Json data{};                            // the notification's data
    std::string raw{};                      // the whole frame, when ClientOptions::keep_raw_events
};

// A message with a name the SDK does not know (scripts and plugins may push any).
struct GenericMessage {
    std::string name{};  // the message name (first element of the frame)
    Json body{};         // the message body (second element)
    std::string raw{};   // the whole frame
};

// connection_info_result, minus the token (the SDK never keeps the token in clear).
struct ConnectionInfo {
    std::string site{};                       // the platform site
    std::string ownertype{};                  // owner of the token
    std::string domain{};                     // the platform domain
    std::string sessionid{};                  // this WebSocket session
    std::string connectionid{};               // this connection
    std::string datetime{};                   // server time, as text
    std::string integration_point_id{};       // the integration point the token belongs to
    std::string integration_point_type{};     // its type
    std::vector<std::string> capabilities{};  // e.g. "ivrapi"
    std::vector<std::string> roles{};         // the token's roles
    std::optional<std::int64_t> timestamp{};  // server time, Unix ms
    Json body{};                              // every field received except "token"

    // True when the token grants capability `name` (e.g. "ivrapi").
    bool has_capability(std::string_view name) const {
        for (const auto& c : capabilities) {
            if (c == name) return true;
        }
        return false;
    }
};

}  // namespace ivrapi
