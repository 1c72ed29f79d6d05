// Fast paths of the frame decoder for the frames a busy client sees most (ivrapi_dtmf,
// notify, replies): a SAX pass straight into the typed event, no DOM (open-ended parts
// go into ivrapi::Json through protocol/json_sax.hpp). A fast path only accepts the
// plain shape of its frame and declines anything else (nulls, numbers where text is
// expected, repeated keys, NUL bytes, ...); decode() then takes the general path, so
// both give the same result for every frame (tests/protocol/test_fast_decode.cpp checks
// that differentially).
#pragma once

#include "protocol/codec.hpp"
#include "protocol/json_bridge.hpp"

#include <ivrapi/events.hpp>

#include <optional>
#include <string_view>

namespace ivrapi::protocol {

// The frame is `["ivrapi_dtmf",{...}]` with a plain body: its event, read into `out` (a
// default DtmfEvent; after false it holds whatever was read); otherwise false. decode()
// reads into the event of the Result it returns: each move of a DtmfEvent (through an
// optional, the Inbound, the Result) cost ~60 instructions a frame. Optional forms below.
bool decode_dtmf_fast(std::string_view frame, const ParseLimits& limits, DtmfEvent& out);

// `["notify",{...}]` with class, type and eventts plain and data an object, other than
// ivrevents api_start/api_stop: its event, read into `out` as above; otherwise false.
bool decode_notify_fast(std::string_view frame, const ParseLimits& limits, NotifyEvent& out);

// Their first stage, tried before the SAX pass: the same frames when they are plain
// (protocol/plain_scanner.hpp), read where they lie (into `out`, a default event, as
// above); false (nullopt) for anything else, which the SAX pass or the general path then
// reads.
bool decode_dtmf_plain(std::string_view frame, const ParseLimits& limits, DtmfEvent& out);
// decode_notify_plain also sets `*offer_or_end` when it declined the frame because it is
// an offer or its end (ivrevents api_start/api_stop): the SAX pass would decline it too.
bool decode_notify_plain(std::string_view frame, const ParseLimits& limits, NotifyEvent& out,
                         bool* offer_or_end = nullptr);

// The optional forms of the readers (tests use them): a fresh event, kept when `read`
// took the frame.
template <typename Event, typename Read>
std::optional<Event> read_event(Read&& read) {
    std::optional<Event> e(std::in_place);
    if (!read(*e)) e.reset();
    return e;
}
inline std::optional<DtmfEvent> decode_dtmf_fast(std::string_view frame, const ParseLimits& limits) {
    return read_event<DtmfEvent>([&](DtmfEvent& e) { return decode_dtmf_fast(frame, limits, e); });
}
inline std::optional<NotifyEvent> decode_notify_fast(std::string_view frame, const ParseLimits& limits) {
    return read_event<NotifyEvent>([&](NotifyEvent& e) { return decode_notify_fast(frame, limits, e); });
}
inline std::optional<DtmfEvent> decode_dtmf_plain(std::string_view frame, const ParseLimits& limits) {
    return read_event<DtmfEvent>([&](DtmfEvent& e) { return decode_dtmf_plain(frame, limits, e); });
}
inline std::optional<NotifyEvent> decode_notify_plain(std::string_view frame, const ParseLimits& limits,
                                                      bool* offer_or_end = nullptr) {
    return read_event<NotifyEvent>([&](NotifyEvent& e) { return decode_notify_plain(frame, limits, e, offer_or_end); });
}

// "<request>_result" when the frame begins `["<request>_result",{` with the name free of
// escapes (decoded, it is the same text); otherwise empty.
std::string_view reply_name_of(std::string_view frame) noexcept;

// `["<request>_result",{...}]` (a name without escapes) with no repeated key in the body:
// its Reply, success or failure, read into `out` (true); otherwise false, with `out` partly
// written. `name`: reply_name_of(frame), which the caller has at hand.
bool decode_reply_fast(std::string_view frame, std::string_view name, const ParseLimits& limits, Reply& out);

// Its first stage: a plain reply that succeeds, its qid an integer or a string of digits
// (a failure, with its reason to find, is the SAX pass's), into `out`; otherwise false,
// with `out` partly written.
bool decode_reply_plain(std::string_view frame, std::string_view name, const ParseLimits& limits, Reply& out);

// Their optional forms (tests use them).
inline std::optional<Reply> decode_reply_fast(std::string_view frame, const ParseLimits& limits) {
    return read_event<Reply>([&](Reply& r) { return decode_reply_fast(frame, reply_name_of(frame), limits, r); });
}
inline std::optional<Reply> decode_reply_plain(std::string_view frame, const ParseLimits& limits) {
    return read_event<Reply>([&](Reply& r) { return decode_reply_plain(frame, reply_name_of(frame), limits, r); });
}

// `["ivrapi_component_stopped",{...}]` when plain (no SAX stage: the general path reads
// the rest): its event; otherwise nullopt.
std::optional<ComponentStopped> decode_stopped_plain(std::string_view frame, const ParseLimits& limits);

// An offer or its end (`["notify",{...}]`, ivrevents api_start/api_stop) when plain, its
// strings' escapes decoded (params is JSON in a string); otherwise nullopt. Not an Inbound:
// moving a whole Inbound in decode() made GCC call std::string's move out of line on every
// frame's path (+90 instructions a DTMF frame).
using OfferOrEnd = std::variant<ApiStartEvent, ApiStopEvent>;
std::optional<OfferOrEnd> decode_offer_plain(std::string_view frame, const ParseLimits& limits);

// JSON text that is one plain value (and whitespace), its Json; otherwise nullopt (not
// plain, or not JSON: the caller parses it in full).
std::optional<Json> parse_plain_value(std::string_view text, const ParseLimits& limits);

}  // namespace ivrapi::protocol
