// The link to the platform as the client core sees it. Production: websocketpp
// (ws_transport.cpp); unit tests: an in-memory transport.
#pragma once

#include <ivrapi/error.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace ivrapi::detail {

struct TransportHandlers {
    std::function<void()> on_open;
    std::function<void(std::string&& frame)> on_message;
    // Exactly once per connect(): the upgrade failed, or the open link ended.
    std::function<void(const Error& why)> on_close;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Loop thread. Opens a new link; the handlers of an earlier link are dropped.
    virtual void connect(TransportHandlers handlers) = 0;
    // Loop thread. False when no link is open.
    virtual bool send(std::string_view frame) = 0;
    // Loop thread. Closes the current link (on_close follows).
    virtual void close(std::string_view reason) = 0;
    // Loop thread. Drops every handler and closes: nothing is called afterwards.
    virtual void shutdown() = 0;
    // "http://host:port" / "https://host:port": where relative file links point.
    virtual std::string http_base() const = 0;
};

}  // namespace ivrapi::detail
