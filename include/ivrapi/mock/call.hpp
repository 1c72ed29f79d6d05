// ivrapi::mock::Call: one simulated IVR session of the mock Era platform, as seen by a
// test: how it was offered (CallOptions), what the caller does (scripted DTMF, hang-up),
// and what the controlling application made it do (components(), played_files()).
//
// Public header: includes no websocketpp / Asio / RapidJSON header.
#pragma once

#include <ivrapi/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ivrapi::mock {

namespace detail {
class Core;
struct CallData;
}  // namespace detail

// SIP state of the offered call, as in api_start.data.state.
enum class CallState { dialog, early, ringing, incoming };

// "dialog", "early", "ringing" or "incoming".
const char* to_string(CallState state) noexcept;

// A scripted caller key press: every character of `digits` is pressed one after the
// other, `at` after the call was first ACCEPTED, or, with `component` set, `at` after
// the start of the call's `component`-th (1-based) component, counting only components
// of `o_type` when it is not 0 ("press 1 two seconds after the first 204 starts":
// {2000ms, "1", 1, 204}).
struct DtmfAt {
    std::chrono::milliseconds at{0};  // after the first accept (or the component start, below)
    std::string digits;               // pressed one after the other
    std::optional<int> component{};   // relative to the start of this (1-based) component
    int o_type = 0;                   // ... counting only components of this oType (0: any)
};

// How a call is offered (api_start.data) and what its caller does.
struct CallOptions {
    std::string ivrid;                                  // empty -> a unique "rDlg-mock-<n>"
    std::string key = "key";                            // api_start.data.key, required in every request
    std::string callid;                                 // empty -> generated "mock-<n>@127.0.0.1"
    std::string cid;                                    // empty -> a generated UUID
    std::string componentname = "External management";  // api_start.data.componentname
    int componentid = 14;                               // api_start.data.componentid
    std::string sm_id;                                  // empty -> a generated UUID
    CallState state = CallState::dialog;                // api_start.data.state
    std::string params;                                 // api_start.data.params, sent as this raw string

    std::vector<DtmfAt> caller_dtmf;  // scripted caller keys (see DtmfAt)
    // The caller hangs up this long after the accept: api_stop reason "script".
    std::optional<std::chrono::milliseconds> hangup_after;
    // The caller hangs up this long after the offer, accepted or not (a caller who gives
    // up before anyone accepted): api_stop reason "script".
    std::optional<std::chrono::milliseconds> hangup_after_offer;
    // What the caller says to this call's speech recognition (223/227): the n-th ASR
    // component gets the n-th text, the last one repeats; empty -> ServerOptions::asr_text.
    std::vector<std::string> asr_texts;
};

// One component run by ivrapi_component_apply, as the mock saw it.
struct ComponentRecord {
    int o_type = 0;            // the component type
    ivrapi::Json data;         // the request's "data" object as received
    std::string transfer_key;  // exit reported in ivrapi_component_stopped ("" while running)
    ivrapi::Json results;      // results reported in ivrapi_component_stopped
    bool terminated = false;   // stopped by ivrapi_component_terminate, abort or hang-up
    ivrapi::Json oid;          // data.oId as sent (0 when absent)
    bool running = false;      // still running
};

// A shared, thread-safe handle on a call of a mock Server. Copies refer to the same call.
// A handle stays usable after its Server was destroyed (queries keep the last state,
// actions do nothing).
class Call {
public:
    // The call's identity, as offered.
    const std::string& ivrid() const;
    const std::string& key() const;
    const std::string& callid() const;
    const std::string& cid() const;

    bool controlled() const;  // accepted and not ended
    bool ended() const;       // api_stop was emitted
    // "script" | "timeout" | "abort", or "" while the call runs.
    std::string end_reason() const;
    // Connection id of the controller, -1 when nobody controls it or the controller's
    // connection is gone (the call then waits for an ivrapi_reaccept).
    int controller() const;

    std::vector<ComponentRecord> components() const;  // every component so far, in order
    std::vector<std::string> played_files() const;    // 204 files and TTS texts ("tts:<text>"), in order
    std::string state() const;                        // current SIP state string
    std::vector<int> sip_codes() const;               // every sipCode sent with 202, in order
    std::string sent_dtmf() const;                    // every digit sent to the caller with 207
    std::string transferred_to() const;               // number of a 203 transfer, "" if none
    // Local file behind a platform path as this call's script sees it: ":TEMP/..." in
    // the call's own temp folder (deleted when the call ends), static paths as
    // Server::local_path. "" when the path is unknown or unsafe.
    std::string local_path(const std::string& platform_path) const;

    // Blocks until the call ended (true) or the timeout passed (false).
    bool wait_ended(std::chrono::milliseconds timeout) const;

    // The caller presses keys now (each character one after the other).
    void send_dtmf(const std::string& digits);
    // The caller hangs up now: the running component is abandoned, api_stop "script".
    void hangup();

    // Made by the Server (Server::start_call, find_call, calls).
    Call(std::shared_ptr<detail::Core> core, std::shared_ptr<detail::CallData> data);

private:
    std::shared_ptr<detail::Core> core_;
    std::shared_ptr<detail::CallData> data_;
};

}  // namespace ivrapi::mock
