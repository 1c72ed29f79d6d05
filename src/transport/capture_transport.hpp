// A Transport decorator that records the link into a cassette (docs/cassette.md): one
// JSON object per line, both directions, open/close events, the connection generation
// and a monotonic timestamp. Wraps any Transport, so the client core never knows.
#pragma once

#include "transport/event_loop.hpp"
#include "transport/transport.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ivrapi::detail {

inline constexpr int kCassetteVersion = 1;

struct CaptureConfig {
    // Receives each line (without the newline), on the loop thread.
    std::function<void(const std::string& line)> write;
    // Applied to every line before it is written: removes the token.
    std::function<std::string(std::string)> redact;
    std::string url;                                           // where connect() goes
    std::vector<std::pair<std::string, std::string>> headers;  // sent with the upgrade
    std::string token_placement;                               // "header" or "path"
};

// Writes the cassette's header line at once; `loop` gives the timestamps.
std::unique_ptr<Transport> make_capture_transport(std::unique_ptr<Transport> inner, Loop& loop, CaptureConfig config);

}  // namespace ivrapi::detail
