// ClientOptions validation: turns options into a ConnectTarget or throws
// std::invalid_argument with a message that never contains the token.
#pragma once

#include "transport/ws_transport.hpp"

#include <ivrapi/options.hpp>

#include <string>

namespace ivrapi::detail {

ConnectTarget make_connect_target(const ClientOptions& options);

// Replaces every occurrence of `secret` in `text` with "***".
std::string redact(std::string text, const std::string& secret);

}  // namespace ivrapi::detail
