// The client on your own asio::io_context (standalone Asio): the one public header that
// includes Asio. Use it to run the client's I/O and callbacks on the event loop your
// application already runs, next to your own timers and sockets.
//
//   asio::io_context io;
//   auto client = ivrapi::make_client(io, options);
//   client->on_offer(...);
//   client->start();
//   io.run();   // the client's I/O and every callback run here
//
// Threading rules in this mode:
//  * Run the io_context on ONE thread: every callback (offers, sessions, state, log,
//    Client::post/after, coroutine resumptions) runs inside io_context::run() on that
//    thread, never concurrently; the client creates no thread of its own (serve()
//    still runs handlers on its worker pool).
//  * The client keeps the context busy from construction until stop() (run() does not
//    return while the client lives); the client never calls io_context::stop().
//  * stop() from a handler on the context returns at once, and the shutdown completes as
//    the context goes on; from another thread it waits (at most 2 s) until the context
//    has run it. Keep running the context until then: the client's last handlers, and
//    the memory they use, are released there. Destroying the Client is stop() + release.
//  * Future::get() on the context's thread, inside a client handler, returns
//    Errc::would_deadlock: use callbacks or coroutines there.
//  * Everything else (thread-safe methods, Result, errors) is as in <ivrapi/client.hpp>.
#pragma once

#include <asio/io_context.hpp>
#include <asio/version.hpp>

#include <ivrapi/client.hpp>

#include <memory>

// The Asio the library was built with: the io_context's layout must be the same on
// both sides. (The library's build checks this number against its own Asio.)
#define IVRAPI_ASIO_VERSION 102201

static_assert(ASIO_VERSION == IVRAPI_ASIO_VERSION,
              "<ivrapi/asio.hpp>: this program uses another Asio version than the ivrapi library was built "
              "with (IVRAPI_ASIO_VERSION); rebuild the library against this Asio");

namespace ivrapi {

// A Client whose I/O and callbacks run on `io` (see the rules above). `io` must outlive
// the client. Throws std::invalid_argument on a bad option, as the Client constructor.
inline std::unique_ptr<Client> make_client(asio::io_context& io, ClientOptions options) {
    return detail::ClientFactory::on_asio_context(&io, std::move(options), ASIO_VERSION);
}

}  // namespace ivrapi
