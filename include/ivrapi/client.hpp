// Client: one connection to the platform's Token API, kept up until stop().
//
// Threading: one I/O thread per client runs every callback (offer, session, state,
// log, unknown messages); callbacks are never called re-entrantly from inside a call
// of yours. Every method is thread-safe. stop() and the destructor may be called from
// any thread, including from inside one of the client's callbacks, and return in
// bounded time (from inside a callback they do not wait for the I/O thread).
#pragma once

#include <ivrapi/claim_coordinator.hpp>
#include <ivrapi/error.hpp>
#include <ivrapi/events.hpp>
#include <ivrapi/future.hpp>
#include <ivrapi/json.hpp>
#include <ivrapi/offer.hpp>
#include <ivrapi/options.hpp>
#include <ivrapi/session.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ivrapi {

class Client;

namespace detail {
class ClientRuntime;
// Builds a Client on the caller's event loop; use ivrapi::make_client(asio::io_context&,
// options) from <ivrapi/asio.hpp>, which checks the Asio version at compile time.
struct ClientFactory {
    static std::unique_ptr<Client> on_asio_context(void* io_context, ClientOptions options, long asio_version);
};
}  // namespace detail

enum class ConnectionState {
    idle,          // not started
    connecting,    // TCP/TLS/WebSocket handshake under way
    connected,     // link up; connection_info and subscribe in flight
    ready,         // subscribed: offers will arrive
    reconnecting,  // link lost; waiting for the next attempt (reason given)
    stopped,       // stop() was called
};
const char* to_string(ConnectionState s) noexcept;

// Counters, readable at any time (a consistent-enough snapshot, not a transaction).
struct ClientStats {
    std::uint64_t messages_in = 0;           // frames received
    std::uint64_t messages_out = 0;          // frames sent
    std::uint64_t dropped = 0;               // frames ignored: malformed, unmatched, for ended sessions
    std::uint64_t protocol_errors = 0;       // subset of dropped: frames that failed to decode
    std::uint64_t duplicates = 0;            // duplicate notifications dropped
    std::uint64_t reconnects = 0;            // links re-established
    std::uint64_t offers = 0;                // api_start offers received
    std::uint64_t active_sessions = 0;       // sessions controlled now
    std::uint64_t requests = 0;              // replies received to our requests
    std::uint64_t request_timeouts = 0;      // requests without a reply in time
    std::uint64_t callback_errors = 0;       // callbacks of yours that threw (caught and logged)
    std::uint64_t sessions_handed_back = 0;  // by stop()/drain() (ivrapi_abort answered)
    std::uint64_t components_lost = 0;       // applies completed with Errc::component_lost
    std::uint64_t takeovers = 0;             // sessions taken over from another replica (ServeOptions::cluster)
    double request_latency_avg_us = 0;       // request -> reply
    double request_latency_max_us = 0;       // the slowest reply
};

// What Client::drain() did.
struct DrainResult {
    std::size_t ended = 0;            // sessions that ended by themselves during the drain
    std::size_t handed_back = 0;      // still controlled at the deadline: handed back (abort)
    std::size_t not_handed_back = 0;  // still controlled but not handed back (link down, no reply)
};

// A session taken over from another replica (ServeOptions::on_takeover).
struct Takeover {
    std::string from{};  // the replica that controlled it (its coordinator's id)
};

// Claim policy and worker pool for Client::serve().
struct ServeOptions {
    std::size_t workers = 4;  // threads running session handlers
    // Sessions handled at once; 0 = workers. Above workers, the pool grows to match (a
    // claimed call never waits for a worker).
    std::size_t max_concurrent = 0;
    std::function<bool(const ApiStartEvent&)> filter;  // claim only offers it accepts
    std::uint32_t shard_index = 0;                     // claim only offers whose ivrid hash % shard_count
    std::uint32_t shard_count = 1;                     //   == shard_index (several processes, no races)
    // At capacity, an offer is left to other processes (0, the default), or held and
    // claimed when a slot frees within this time (keep it below the platform's 30 s
    // accept window).
    std::chrono::milliseconds wait_for_capacity{0};
    // Claims at most this many sessions in total (0 = no limit); later offers are left.
    std::size_t max_sessions = 0;
    // Several replicas of a bot: who claims which offer, and takeover of the sessions of
    // a replica that died (e.g. ivrapi::cluster::Redis from <ivrapi/cluster.hpp>). With
    // one set, shard_index/shard_count apply only when the coordinator falls back to them.
    std::shared_ptr<ClaimCoordinator> cluster{};
    // Runs on each session taken over from a dead replica (serve(): on a worker; claim():
    // on the I/O thread). Empty: the session is handed back to its script (ivrapi_abort),
    // so the caller goes on with the script instead of hearing silence. A session still
    // controlled when it returns is handed back too (serve()).
    std::function<void(Session&, const Takeover&)> on_takeover{};
};

class Client {
public:
    explicit Client(ClientOptions options);  // throws std::invalid_argument on a bad option
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Connects (asynchronously), then keeps the link up with backoff until stop().
    void start();
    // Pending operations complete with Errc::stopped; every session this client controls
    // is handed back to its script (ivrapi_abort, waiting at most
    // options.hand_back_timeout for the replies); then the link closes. Idempotent.
    void stop();
    // Graceful shutdown: no new claims from now on (no ivrapi_accept is sent), running
    // sessions go on until they end or `timeout` passes, then stop() hands back what is
    // still controlled and closes. Blocks (off the I/O thread; on it, it is stop()).
    DrainResult drain(std::chrono::milliseconds timeout);
    // Blocks until stop() (from another thread or a callback). False on timeout.
    bool wait_stopped(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

    // Handlers (set them before start(); they run on the I/O thread).
    void on_offer(std::function<void(Offer)> handler);
    void on_state(std::function<void(ConnectionState, const Error& reason)> handler);
    // Every api_stop (after dedupe), for sessions of this client or not; a session's
    // own end is also reported to its Session::on_end.
    void on_api_stop(std::function<void(const ApiStopEvent&)> handler);
    // Notifications other than api_start/api_stop (sm_start, other classes).
    void on_notify(std::function<void(const NotifyEvent&)> handler);
    // Messages with names the SDK does not know (scripts may push any).
    void on_unknown_message(std::function<void(const GenericMessage&)> handler);

    // Claims offers under `options` and runs `handler` for each claimed session on a
    // worker pool, where blocking calls (Future::get) are fine. When the handler
    // returns and the session is still controlled, control is handed back (abort).
    // Starts the client if it is not started.
    void serve(std::function<void(Session&)> handler, ServeOptions options = {});
    // The same claim policy without the worker pool, for callback-style apps: offers
    // are claimed under `options` (filter, shards, max_concurrent, max_sessions,
    // wait_for_capacity; workers is ignored; max_concurrent 0 = no limit) and each
    // claimed session is handed to `on_session` on the I/O thread (use the callback
    // forms there). A slot frees when its session ends. Replaces on_offer.
    void claim(std::function<void(Session)> on_session, ServeOptions options = {});
    // Takes control of a session that another connection controls (ivrapi_reaccept with
    // the offer's ivrid and key), e.g. one of a crashed replica. Completes with the
    // session, now ours, or with the platform's refusal / session_ended.
    Future<Session> take_over(const std::string& ivrid, const std::string& key);
    void take_over(const std::string& ivrid, const std::string& key, Callback<Session> done);

    // The sessionless file_upload_static: returns the stored path.
    Future<std::string> upload_static(const std::string& url, const std::string& destpath);
    void upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done);
    // Any request of any capability: `body` is an object (qid is added). Completes
    // with the reply body; an error-like reply fails with server_error.
    Future<Json> request(const std::string& name, const Json& body = Json::object());
    void request(const std::string& name, const Json& body, Callback<Json> done);

    // Runs `fn` on the client's I/O thread, after the work queued before it: how code
    // on another thread hands work to a callback-style bot. False once the client is
    // stopped (fn never runs). A throwing fn is logged and counted (callback_errors).
    bool post(std::function<void()> fn);
    // Runs `fn` on the I/O thread once `delay` has passed (to wait or retry without a
    // thread of your own). It does not run if the client stops first. False once stopped.
    bool after(std::chrono::milliseconds delay, std::function<void()> fn);

    ConnectionState state() const;  // the link's state now
    // The last connection_info reply (empty until the first connect).
    ConnectionInfo connection_info() const;
    ClientStats stats() const;
    // Blocks until the client is `ready` (subscribed) or the timeout passes.
    bool wait_ready(std::chrono::milliseconds timeout) const;

private:
    friend struct detail::ClientFactory;
    explicit Client(std::shared_ptr<detail::ClientRuntime> runtime);
    std::shared_ptr<detail::ClientRuntime> runtime_{};
};

}  // namespace ivrapi
