// Fast paths of the frame decoder for the frames a busy client sees most (ivrapi_dtmf):
// a SAX pass straight into the typed event, no DOM and no member lookups. A fast path
// only accepts the plain shape of its frame and declines anything else (nulls, numbers
// where text is expected, nested values, repeated keys, NUL bytes, ...); decode() then
// takes the general path, so both give the same result for every frame
// (tests/protocol/test_fast_decode.cpp checks that differentially).
#pragma once

#include "protocol/json_bridge.hpp"

#include <ivrapi/events.hpp>

#include <optional>
#include <string_view>

namespace ivrapi::protocol {

// The frame is `["ivrapi_dtmf",{...}]` with a plain body: its event; otherwise nullopt.
std::optional<DtmfEvent> decode_dtmf_fast(std::string_view frame, const ParseLimits& limits);

}  // namespace ivrapi::protocol
