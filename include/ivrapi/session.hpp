// Session: one IVR session this application controls (after a successful accept).
//
// A cheap, copyable handle; every method may be called from any thread. Each
// operation comes in two forms:
//   * Future form (returns Future<T>): wait with .get() from any thread but the
//     client's I/O thread (there .get() returns Errc::would_deadlock);
//   * callback form (last argument a Callback<T>): the callback runs on the client's
//     I/O thread, never inside the call that started the operation — except once the
//     client is stopped/destroyed: then it runs at once, on the calling thread, with
//     Errc::stopped (there is no I/O thread left to run it).
// After api_stop every pending operation completes with Errc::session_ended and new
// ones fail the same way without touching the wire.
#pragma once

#include <ivrapi/components.hpp>
#include <ivrapi/events.hpp>
#include <ivrapi/future.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ivrapi {

namespace detail {
struct SessionState;
class ClientCore;
}  // namespace detail

// A link from ivrapi_file_get_path: valid 5 minutes, downloadable without auth.
struct FileLink {
    std::string url{};   // absolute: the connection's host + the returned path
    std::string path{};  // as the platform returned it ("/temp/...")
};

// How control ended.
struct SessionEnd {
    StopReason reason = StopReason::unknown;  // from api_stop (abort after our abort())
    std::string reason_text{};                // as received, or why the SDK ended it
    std::optional<ApiStopEvent> event{};      // the api_stop notification, when one came
};

class Session {
public:
    Session() = default;  // an empty handle: every call fails with invalid_argument

    // Offer data (immutable, readable from any thread). info() builds the whole offer
    // on its first call: a session keeps only a compact copy of it.
    const ApiStartEvent& info() const;
    const std::string& ivrid() const;
    const std::string& key() const;
    CallState initial_state() const;
    bool ended() const;
    explicit operator bool() const noexcept { return state_ != nullptr; }

    // Runs one component; completes when the platform reports it stopped
    // (ComponentStopped: exit + results), not when it acknowledges the apply.
    // A second apply while one runs fails with component_busy and sends nothing.
    Future<ComponentStopped> apply(const Component& component);
    void apply(const Component& component, Callback<ComponentStopped> done);

    // Shortcuts for the common components.
    Future<ComponentStopped> play(const std::string& file, const std::string& interrupt_digits = {});
    Future<ComponentStopped> record(std::chrono::seconds max_duration, const std::string& stop_digits = "#");
    Future<ComponentStopped> collect_digits(int max_digits, std::chrono::seconds timeout,
                                            std::chrono::seconds inter_digit_timeout = std::chrono::seconds(3));
    Future<ComponentStopped> transfer(const std::string& number);
    Future<ComponentStopped> answer(int sip_code = 200);
    Future<ComponentStopped> hangup();

    // Stops the running component; completes on the platform's reply. The apply it
    // stopped completes with its stopped event.
    Future<void> terminate();
    void terminate(Callback<void> done);
    // Hands control back to the script (api_stop "abort" follows). While the link is
    // down it is held and sent once the session is re-claimed.
    // If a component's stopped event was lost with the link, terminate() frees the
    // session (the apply then completes with Errc::cancelled); component_timeout bounds it
    // otherwise.
    Future<void> abort();
    void abort(Callback<void> done);

    // A 5-minute download link for a platform path (e.g. a recording's "nameVar").
    Future<FileLink> file_get_path(const std::string& path);
    void file_get_path(const std::string& path, Callback<FileLink> done);
    // The platform downloads `url` into the script's temp folder; returns ":TEMP/...".
    Future<std::string> upload_temp(const std::string& url);
    void upload_temp(const std::string& url, Callback<std::string> done);
    // The platform downloads `url` into static storage under `destpath`.
    Future<std::string> upload_static(const std::string& url, const std::string& destpath);
    void upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done);

    // Handlers run on the client's I/O thread. DTMF that arrives before on_dtmf is set
    // is buffered (up to 64 events) and delivered when it is set. on_end runs once;
    // set after the end, it runs at once (posted to the I/O thread).
    void on_dtmf(std::function<void(const DtmfEvent&)> handler);
    void on_end(std::function<void(const SessionEnd&)> handler);

    // Blocks until the session ends (not on the I/O thread); false on timeout.
    bool wait_ended(std::chrono::milliseconds timeout) const;
    // Blocks until the session is controlled (true), e.g. re-claimed after a link drop,
    // or has ended / the timeout passed (false). On the I/O thread it answers at once.
    bool wait_controlled(std::chrono::milliseconds timeout) const;
    // How control ended, once it has (set before pending operations fail with
    // session_ended); empty while the session goes on.
    std::optional<SessionEnd> end() const;

private:
    friend class detail::ClientCore;
    explicit Session(std::shared_ptr<detail::SessionState> state) : state_(std::move(state)) {}
    std::shared_ptr<detail::SessionState> state_{};
};

}  // namespace ivrapi
