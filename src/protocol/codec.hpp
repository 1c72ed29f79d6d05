// The wire protocol, pure: encode every client message, decode and validate every
// server message. No I/O, no threads, no exceptions past this API.
#pragma once

#include <ivrapi/error.hpp>
#include <ivrapi/events.hpp>
#include <ivrapi/json.hpp>
#include <ivrapi/result.hpp>

#include "protocol/json_bridge.hpp"
#include "protocol/text_match.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ivrapi::protocol {

using Qid = std::uint64_t;  // generated per connection, always below 2^53

// Request names.
inline constexpr std::string_view kConnectionInfo = "connection_info";
inline constexpr std::string_view kSubscribe = "subscribe";
inline constexpr std::string_view kAccept = "ivrapi_accept";
inline constexpr std::string_view kReaccept = "ivrapi_reaccept";
inline constexpr std::string_view kAbort = "ivrapi_abort";
inline constexpr std::string_view kApply = "ivrapi_component_apply";
inline constexpr std::string_view kTerminate = "ivrapi_component_terminate";
inline constexpr std::string_view kFileGetPath = "ivrapi_file_get_path";
inline constexpr std::string_view kFileUploadTemp = "ivrapi_file_upload_temp";
inline constexpr std::string_view kFileUploadStatic = "ivrapi_file_upload_static";
inline constexpr std::string_view kSessionlessUploadStatic = "file_upload_static";

// The key/ivrid pair every ivrapi request carries.
struct SessionRef {
    std::string_view key;
    std::string_view ivrid;
};

std::string encode_connection_info(Qid qid);
// Creates a subscription (objects "any").
std::string encode_subscribe(Qid qid, std::string_view id, const std::vector<std::string>& events,
                             std::int64_t expires_seconds);
// Renews it: same id, non-zero expires, nothing else.
std::string encode_subscribe_renew(Qid qid, std::string_view id, std::int64_t expires_seconds);
// Deletes it: same id, expires 0.
std::string encode_unsubscribe(Qid qid, std::string_view id);
// ivrapi_accept / ivrapi_reaccept / ivrapi_abort / ivrapi_component_terminate.
std::string encode_session_request(std::string_view name, Qid qid, SessionRef session);
// `component` must be an object with oType; oId is set (overriding any given).
std::string encode_component_apply(Qid qid, SessionRef session, const Json& component, std::int64_t oid);
std::string encode_file_get_path(Qid qid, SessionRef session, std::string_view path);
std::string encode_file_upload_temp(Qid qid, SessionRef session, std::string_view url);
std::string encode_file_upload_static(Qid qid, SessionRef session, std::string_view url, std::string_view destpath);
std::string encode_sessionless_upload_static(Qid qid, std::string_view url, std::string_view destpath);
// Any other request: `body` (an object, or null for none) with qid set first.
std::string encode_request(std::string_view name, Qid qid, const Json& body);

// How a reply's qid came back.
struct QidField {
    enum class State { absent, valid, invalid };
    State state = State::absent;
    Qid value = 0;
    std::string text;  // the qid as received (JSON), for reports
};
// Classify a qid value: integers, integral floats and decimal-digit strings in
// [0, 2^53] are valid.
QidField read_qid(const rapidjson::Value* v);
// Its parts: a qid that came as a non-negative integer; as a string (`json_text`: as received).
QidField qid_of_unsigned(std::uint64_t value);
QidField qid_of_string(std::string_view s, std::string json_text);

// Whether a request's success value is "ok" or a payload (path/link) in `result`.
bool result_carries_payload(std::string_view request_name) noexcept;

// <request>_result.
struct Reply {
    std::string request;  // name without "_result"
    QidField qid;
    bool success = false;
    std::string value;  // `result` as text ("ok", a path, a link), empty when absent
    Error error;        // when !success: server_error (or lost_race for accept)
    Json body;
};

// The Reply of `name` ("<request>_result") with body `body`. `fields`: the body's members
// it reads (the body itself, or only those reply_reads_field() names, which is the fast
// path's way); `frame`: the whole frame, kept in a failure's Error::raw_reply.
Reply decode_reply(std::string_view name, const rapidjson::Value& fields, Json body, std::string_view frame);
// How a reply's `result` came (null counts as absent).
enum class ResultShape { absent, string, boolean, other };
// Why a reply to `request` fails by its result ("" when it does not), its error fields
// aside: `value` is the result as text, `flag` a boolean result's value.
std::string reply_result_failure(std::string_view request, ResultShape shape, const std::string& value, bool flag);
// True for the members of a reply body decode_reply() looks at.
bool reply_reads_field(std::string_view key) noexcept;

using Inbound =
    std::variant<Reply, ApiStartEvent, ApiStopEvent, NotifyEvent, ComponentStopped, DtmfEvent, GenericMessage>;

// How many frames each stage read on this thread: the plain stage, the SAX pass
// (protocol/fast_decode.hpp) or the general path (which also reports every error). Tests
// check with it that the fast stages really take the frames they are for.
struct DecodePaths {
    std::uint64_t plain = 0;
    std::uint64_t sax = 0;
    std::uint64_t general = 0;
};
DecodePaths& decode_paths() noexcept;

// Decodes one frame. Errors are protocol_error (or message_too_large) with a message
// naming the offending field; nothing throws.
Result<Inbound> decode(std::string_view frame, const ParseLimits& limits = {});

// Typed view of a connection_info_result body (the token field dropped).
ConnectionInfo decode_connection_info(const Json& body);

CallState parse_call_state(std::string_view s) noexcept;
// ivrapi_dtmf's mode text: "idle", "component", anything else unknown. Inline: every
// DTMF frame asks.
inline DtmfMode parse_dtmf_mode(std::string_view s) noexcept {
    return is(s, "idle") ? DtmfMode::idle : is(s, "component") ? DtmfMode::component : DtmfMode::unknown;
}
// A notify that is an offer or its end (ivrevents api_start/api_stop): every decoding
// path gives these their own event types. Inline: asked twice per notify frame.
inline bool is_offer_or_end(std::string_view event_class, std::string_view type) noexcept {
    return is(event_class, "ivrevents") && (is(type, "api_start") || is(type, "api_stop"));
}
// api_start's params parsed, when they are JSON (the offer's params_json).
std::optional<Json> params_json_of(std::string_view params);
StopReason parse_stop_reason(std::string_view s) noexcept;

}  // namespace ivrapi::protocol
