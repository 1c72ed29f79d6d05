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
    std::string ivrid{};  // addresses the dialog at run time
    std::string key{};    // must be echoed in every ivrapi request
    std::string callid{};
    std::string cid{};  // globally unique dialog id (may be empty)
    std::string sm_id{};
    std::string componentname{};  // documented as int, sent as string: kept as text
    std::optional<std::int64_t> componentid{};
    std::optional<std::int64_t> ivrts{};    // dialog start, Unix ms
    std::optional<std::int64_t> eventts{};  // event time, Unix ms
};

// ivrevents.api_start: a session offered for external control.
struct ApiStartEvent : SessionIdentity {
    CallState state = CallState::unknown;
    std::string state_text{};           // as received (empty when absent)
    std::string params{};               // raw, as sent by the script
    std::optional<Json> params_json{};  // params parsed, when they are JSON
    std::string raw{};                  // the whole frame, when ClientOptions::keep_raw_events
};

// ivrevents.api_stop: control is over.
struct ApiStopEvent : SessionIdentity {
    StopReason reason = StopReason::unknown;
    std::string reason_text{};
    std::string raw{};  // the whole frame, when ClientOptions::keep_raw_events
};

// ivrapi_component_stopped: a component applied through the API finished.
struct ComponentStopped {
    std::optional<std::int64_t> oid{};  // the oId the SDK set on apply
    std::string transfer_key{};         // exit taken: "transfer", "transferTimeout", ...
    Json results{};                     // output variables by property name (an object)
    std::optional<std::string> key{};   // present on some servers only
    std::optional<std::string> ivrid{};
    std::string raw{};

    // A result as text ("" when absent): strings as they are, other values as JSON.
    std::string result(std::string_view name) const {
        const Json* v = results.find(name);
        return v ? v->to_text() : std::string();
    }
};

// ivrapi_dtmf: a key the caller pressed while control is held.
struct DtmfEvent {
    std::string key{};
    std::string ivrid{};
    DtmfMode mode = DtmfMode::unknown;
    std::optional<std::int64_t> oid{};  // the running component (mode == component)
    std::string dtmf{};
};

// Any notify of another class/type (sm_start, callevents, ...).
struct NotifyEvent {
    std::string event_class{};
    std::string type{};
    std::optional<std::int64_t> eventts{};
    Json data{};
    std::string raw{};  // the whole frame, when ClientOptions::keep_raw_events
};

// A message with a name the SDK does not know (scripts and plugins may push any).
struct GenericMessage {
    std::string name{};
    Json body{};
    std::string raw{};
};

// connection_info_result, minus the token (the SDK never keeps the token in clear).
struct ConnectionInfo {
    std::string site, ownertype, domain, sessionid, connectionid, datetime{};
    std::string integration_point_id, integration_point_type{};
    std::vector<std::string> capabilities{};
    std::vector<std::string> roles{};
    std::optional<std::int64_t> timestamp{};
    Json body{};  // every field received except "token"

    bool has_capability(std::string_view name) const {
        for (const auto& c : capabilities) {
            if (c == name) return true;
        }
        return false;
    }
};

}  // namespace ivrapi
