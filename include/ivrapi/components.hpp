// Typed IVR components for Session::apply(), one struct per platform oType.
//
// Property codes and numeric enum ids come from the platform's component catalog
// (protocol/README §8). Every optional property left unset is omitted on the wire,
// so the platform applies its own default. `extra` is merged last and overrides typed
// fields: use it for any property the struct does not model (codes marked "unknown"
// below could not be read from the platform's documentation). RawComponent sends a
// component's JSON as copied from a saved script.
//
// Switches are sent as 0/1 (as the spec's record example does: "abortOnSilence": 0).
#pragma once

#include <ivrapi/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace ivrapi {

using Properties = Json::Object;

// 103 pause (common). "clear events" switch: code unknown, pass it in `extra`.
struct Pause {
    static constexpr int o_type = 103;      // the platform's component type (oType)
    std::chrono::milliseconds duration{0};  // timeoutMs; negative = synchronous per docs
    Properties extra{};                     // more properties, merged last (they override typed fields)
    Json data() const;                      // the component's JSON, as ivrapi_component_apply sends it
};

// 201 bye: hang up. Fails on the platform if no 2xx was sent: use SipAnswer 4xx-6xx then.
struct Hangup {
    static constexpr int o_type = 201;  // the platform's component type (oType)
    Properties extra{};                 // more properties, merged last (they override typed fields)
    Json data() const;                  // the component's JSON, as ivrapi_component_apply sends it
};

// 202 answer: send a SIP response (1xx, 2xx, 3xx with redirect_to, 4xx-6xx) to the INVITE.
struct SipAnswer {
    static constexpr int o_type = 202;   // the platform's component type (oType)
    int sip_code = 200;                  // sipCode
    std::string phrase{};                // phrase
    std::string reason{};                // reason (Reason header)
    std::string remote_party_display{};  // remotePartyDisplay
    std::string redirect_to{};           // redirectTo (required for 3xx)
    Properties extra{};                  // more properties, merged last (they override typed fields)
    Json data() const;                   // the component's JSON, as ivrapi_component_apply sends it
};

// 203 refer: blind transfer. Output variables and extra exits: codes unknown.
enum class ReinviteMode { not_used = 0, automatic = 1, sendonly = 2, inactive = 3 };
// 203 refer: a blind transfer of the call to `number`.
struct Transfer {
    static constexpr int o_type = 203;            // the platform's component type (oType)
    std::string number{};                         // number
    std::optional<ReinviteMode> reinvite_mode{};  // reinviteMode
    Properties extra{};                           // more properties, merged last (they override typed fields)
    Json data() const;                            // the component's JSON, as ivrapi_component_apply sends it
};

// 204 play. Documented codes: playerId, mode, file (from the spec's examples), and
// interruptSymbols, clearDtmfBuffer, clearInterrupt as a stored 204 shows them
// (components-addendum §0). Codes of the time limit, the extra pause and the file list
// of syncPlayFiles are unknown: pass them in `extra`. A stored script keeps `file` as
// {"selectMode":0,"localFile":"x.wav"}: send that form through RawComponent or `extra`.
enum class PlayMode {
    sync_file = 0,        // syncPlayFile: play the whole file and wait
    sync_file_limit = 1,  // syncPlayFileLimit: with a time limit
    sync_file_extra = 2,  // syncPlayFileExtra: then wait an extra pause for DTMF
    async_start = 3,      // asyncPlayStart: background playback on a layer
    sync_files = 7,       // syncPlayFiles: a list, sequentially
};
// 204 play: plays a file (or, with `mode`, a list or background playback).
struct Play {
    static constexpr int o_type = 204;   // the platform's component type (oType)
    std::string file{};                  // file: ":GS_PUB/...", ":TEMP/...", a directory = random file
    std::optional<PlayMode> mode{};      // mode (platform default: sync_file)
    std::string player_id{};             // playerId (platform default "default")
    std::string interrupt_digits{};      // interruptSymbols, e.g. "#" or "123"
    std::optional<bool> clear_buffer{};  // clearDtmfBuffer: drop typed-ahead digits first
    // clearInterrupt: value 1 in the stored example, meaning not documented [unconfirmed:
    // probably "the interrupting digit leaves the DTMF buffer", as 206 documents].
    std::optional<bool> clear_interrupt{};
    Properties extra{};  // more properties, merged last (they override typed fields)
    Json data() const;   // the component's JSON, as ivrapi_component_apply sends it
};

// 206 dtmf: collect digits; the digits come back as results "dtmfBuffer".
// max_digits ("maxSymbolCount") and terminators ("interruptSymbols": comma-separated
// sequences ending the input) are the codes of the platform's 206 page (addendum).
// The keep-terminators switch and both exits: codes unknown.
enum class InbandDetector { disable = 0, enable = 1, turn = 2 };
// 206 dtmf: collects the caller's digits (results "dtmfBuffer").
struct CollectDigits {
    static constexpr int o_type = 206;                          // the platform's component type (oType)
    std::optional<std::chrono::seconds> timeout{};              // timeoutSec
    std::optional<std::chrono::seconds> inter_digit_timeout{};  // symbolTimeoutSec
    std::optional<int> max_digits{};                            // maxSymbolCount
    std::string terminators{};                                  // interruptSymbols: "#" or "#, *0"
    std::optional<bool> clear_buffer{};                         // clearDtmfBuffer (platform: yes)
    std::optional<InbandDetector> inband{};                     // inband
    Properties extra{};  // more properties, merged last (they override typed fields)
    Json data() const;   // the component's JSON, as ivrapi_component_apply sends it
};

// 207 senddtmf: send digits to the caller ("," = 1 s pause).
enum class DtmfProto { rfc2833 = 1, sip_info = 2, inband = 3 };
// 207 senddtmf: sends `digits` to the caller.
struct SendDtmf {
    static constexpr int o_type = 207;  // the platform's component type (oType)
    std::string digits{};               // dtmf
    std::optional<DtmfProto> proto{};   // proto (platform default SIP INFO)
    Properties extra{};                 // more properties, merged last (they override typed fields)
    Json data() const;                  // the component's JSON, as ivrapi_component_apply sends it
};

// 208 record: the recorded file's path comes back as results "nameVar" (:TEMP/...,
// deleted when the script ends; get a link with Session::file_get_path).
// recTimeSec/maxSymbolCount/interruptSymbols are sent as strings, exactly as in the
// spec's record example. Codec and WAV-header codes are unknown: use `extra`.
enum class RecordMode { sync_file = 0, growing_raw = 1 };
// 208 record: records the caller (results "nameVar": the file's platform path).
struct Record {
    static constexpr int o_type = 208;                   // the platform's component type (oType)
    std::optional<RecordMode> mode{};                    // mode
    std::optional<std::chrono::seconds> max_duration{};  // recTimeSec
    std::optional<int> max_digits{};                     // maxSymbolCount
    std::string stop_digits{};                           // interruptSymbols: "#" or "456" -> "4, 5, 6"
    std::optional<bool> abort_on_silence{};              // abortOnSilence
    std::optional<bool> path_to_var{};                   // pathToVarMode (platform: yes)
    std::string to_filepath{};                           // toFilepath (growing_raw mode)
    Properties extra{};                                  // more properties, merged last (they override typed fields)
    Json data() const;                                   // the component's JSON, as ivrapi_component_apply sends it
};

// 213 fax_send / 214 fax_receive.
enum class FaxProto { automatic = 0, t30 = 1, t38 = 2 };
enum class FaxPathMode { dont_save = 0, script_key_path = 1, only_file_name = 2 };
// 213 fax_send: sends a TIFF file as a fax.
struct FaxSend {
    static constexpr int o_type = 213;              // the platform's component type (oType)
    std::string file{};                             // file (TIFF)
    std::optional<FaxProto> proto{};                // proto
    std::optional<std::chrono::seconds> timeout{};  // timeoutSec
    Properties extra{};                             // more properties, merged last (they override typed fields)
    Json data() const;                              // the component's JSON, as ivrapi_component_apply sends it
};
// 214 fax_receive: receives a fax into a TIFF file.
struct FaxReceive {
    static constexpr int o_type = 214;              // the platform's component type (oType)
    std::optional<FaxProto> proto{};                // proto
    std::optional<std::chrono::seconds> timeout{};  // timeoutSec
    std::optional<FaxPathMode> path_mode{};         // pathToVarMode
    Properties extra{};                             // the TIFF path comes back as "nameVar"
    Json data() const;                              // the component's JSON, as ivrapi_component_apply sends it
};

// 222 / 226 / 230 text to speech. Common: accountKey, mode. The text property is
// documented as "text" for 222 only; 226/230 use the same code here [inferred].
// Output variables and exits: codes unknown.
enum class TtsMode { play = 0, file = 1 };
// 222 text to speech with Yandex SpeechKit.
struct TtsYandex {
    static constexpr int o_type = 222;  // the platform's component type (oType)
    std::string text{};                 // text
    std::string account_key{};          // accountKey (platform default "default")
    std::optional<TtsMode> mode{};      // mode
    Properties extra{};                 // more properties, merged last (they override typed fields)
    Json data() const;                  // the component's JSON, as ivrapi_component_apply sends it
};
// 226 text to speech with SberDevices SaluteSpeech.
struct TtsSber {
    static constexpr int o_type = 226;  // the platform's component type (oType)
    std::string text{};                 // text [inferred]
    std::string content_type{};         // contentType (platform default TEXT)
    std::string account_key{};          // accountKey (platform default "default")
    std::optional<TtsMode> mode{};      // mode
    Properties extra{};                 // more properties, merged last (they override typed fields)
    Json data() const;                  // the component's JSON, as ivrapi_component_apply sends it
};
// 230 text to speech with Microsoft Azure (plain text or SSML).
struct TtsAzure {
    static constexpr int o_type = 230;  // the platform's component type (oType)
    std::string text{};                 // text [inferred]: plain text or SSML body
    std::string content_type{};         // contentType (platform default SSML)
    std::string account_key{};          // accountKey (platform default "default")
    std::optional<TtsMode> mode{};      // mode
    Properties extra{};                 // more properties, merged last (they override typed fields)
    Json data() const;                  // the component's JSON, as ivrapi_component_apply sends it
};

// 223 / 227 speech recognition. The recognised text's variable and the exits: codes
// unknown (read them from ComponentStopped::results).
enum class AsrTopic { general = 0, maps = 1, dates = 2, names = 3, numbers = 4, custom = 100 };
enum class AsrYandexLang { ru_RU = 0, en_US = 1, de_DE = 2, automatic = 100 };
enum class AsrSberLang { ru_RU = 0, en_US = 1, kk_KZ = 2 };
// 223 speech recognition with Yandex SpeechKit.
struct AsrYandex {
    static constexpr int o_type = 223;    // the platform's component type (oType)
    std::string account_key{};            // accountKey
    std::optional<AsrTopic> topic{};      // topic
    std::string topic_custom{};           // topicCustom (topic == custom)
    std::optional<AsrYandexLang> lang{};  // lang
    Properties extra{};                   // more properties, merged last (they override typed fields)
    Json data() const;                    // the component's JSON, as ivrapi_component_apply sends it
};
// 227 speech recognition with SberDevices SaluteSpeech.
struct AsrSber {
    static constexpr int o_type = 227;       // the platform's component type (oType)
    std::string account_key{};               // accountKey
    std::string model{};                     // model (platform default "callcenter")
    std::optional<AsrSberLang> lang{};       // lang
    std::optional<bool> profanity_filter{};  // profanityFilter
    std::optional<bool> multi_utterance{};   // multiUtterance
    Properties extra{};                      // more properties, merged last (they override typed fields)
    Json data() const;                       // the component's JSON, as ivrapi_component_apply sends it
};

// Any component as JSON, e.g. copied from a saved script. `json` must be a JSON
// object; its "oType", when present, must be an integer equal to o_type (o_type 0
// takes it from the JSON). Validated when converted to a Component: an invalid one
// fails the apply with invalid_argument and nothing is sent.
struct RawComponent {
    int o_type = 0;           // the component type; 0 = the JSON's "oType"
    std::string json = "{}";  // the component's properties, as a JSON object
};

// What Session::apply() takes: any of the structs above, converted implicitly.
class Component {
public:
    template <typename T, typename = decltype(std::declval<const T&>().data()),
              typename = std::enable_if_t<!std::is_same_v<T, Component>>>
    // Any typed component struct (Play, Record, ...), converted implicitly.
    Component(const T& typed) : data_(typed.data()) {}  // NOLINT implicit by design
    // A raw component, validated (see RawComponent).
    Component(const RawComponent& raw);  // NOLINT implicit by design
    // Already-built component data (must hold an integer "oType").
    static Component from_json(Json data);

    // False when the component cannot be sent (see error()).
    bool valid() const noexcept { return error_.empty(); }
    const std::string& error() const noexcept { return error_; }  // why it is invalid
    int o_type() const noexcept;                                  // the component type (oType)
    const Json& data() const noexcept { return data_; }           // oType + properties, no oId yet

private:
    Component() = default;
    Json data_{};
    std::string error_{};
};

}  // namespace ivrapi
