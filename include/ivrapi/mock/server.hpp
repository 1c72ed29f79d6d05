// ivrapi::mock::Server: a mock Era platform for the WebSocket Token API (`ivrapi`,
// `subscr`, `connection_info`), for unit tests of bots, the SDK's own tests and demos.
//
// A real WebSocket server (websocketpp) on 127.0.0.1 (listen_address), ephemeral port
// by default, ws or wss, running on its own thread. It parses what it receives itself (RapidJSON), never
// through the SDK's codec. Everything documented about the platform is imitated; where
// the platform is undocumented the mock makes a plausible choice, configurable when in
// doubt. Those choices are listed in docs/mock.md; the main ones:
//
//  * replies: `["<name>_result", {"qid": <qid as received>, "result": "ok"}]`; errors:
//    `{"qid": .., "result": "error", "reason": "<text>"}`; file requests carry the path
//    or link in "result"; a request without qid gets its reply without qid.
//  * a frame that is not a 2-element [string, object] array is logged and ignored
//    (it appears in requests() with an empty name).
//  * ivrapi requests need the right key + ivrid, the `ivrapi` capability, and (except
//    accept/reaccept) must come from the controlling connection; else an error reply.
//  * ivrapi_reaccept of a call not yet accepted takes control like an accept.
//  * when the controlling connection drops, the call keeps running (components continue,
//    scripted caller continues); ivrapi_component_stopped events produced meanwhile are
//    queued and delivered, in order, right after the reply to the next ivrapi_reaccept.
//    ivrapi_dtmf events produced meanwhile are dropped.
//  * terminate: stops the running component with transferKey "transfer" and the results
//    gathered so far, then replies ok (option terminate_reply_first flips the order);
//    with nothing running it replies ok.
//  * the caller hanging up abandons the running component without a stopped event
//    (option stopped_event_on_hangup) and emits api_stop "script".
//  * notify frames carry no subscription id; one notify per matching subscription.
//  * `:TEMP` belongs to one call and is deleted when it ends; a static path that does
//    not exist still plays unless any_path_plays = false (the binary's default).
//  * a key that interrupts a play stays in the DTMF buffer unless the 204 says
//    clearInterrupt: 1.
//
// Public header: includes no websocketpp / Asio / RapidJSON header.
#pragma once

#include <ivrapi/json.hpp>
#include <ivrapi/mock/call.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ivrapi::mock {

// When ivrapi_component_apply_result is sent.
enum class ApplyAck {
    immediate,       // as soon as the component starts (default)
    before_stopped,  // when the component ends, just before ivrapi_component_stopped
    after_stopped,   // when the component ends, just after ivrapi_component_stopped
};

// Clock used for subscription expiry and file-link expiry (not for component timing,
// which is real time). Tests inject a TestClock to expire things without waiting.
using Clock = std::function<std::chrono::steady_clock::time_point()>;

// A clock that runs with real time plus an offset that a test advances. Copies share it.
class TestClock {
public:
    TestClock() : offset_(std::make_shared<std::atomic<std::int64_t>>(0)) {}
    // Moves this clock (and every copy) forward by `d`.
    void advance(std::chrono::milliseconds d) { offset_->fetch_add(d.count()); }
    // Real time plus the offset.
    std::chrono::steady_clock::time_point now() const {
        return std::chrono::steady_clock::now() + std::chrono::milliseconds(offset_->load());
    }
    // This clock as a ServerOptions::clock.
    Clock clock() const {
        auto o = offset_;
        return [o] { return std::chrono::steady_clock::now() + std::chrono::milliseconds(o->load()); };
    }

private:
    std::shared_ptr<std::atomic<std::int64_t>> offset_;
};

// Everything a mock Server can be configured with: connection, control life cycle,
// simulated components and files.
struct ServerOptions {
    // --- connection ---
    std::string token = "test-token";  // accepted in the path or as "Authorization: Bearer"
    bool tls = false;                  // wss with cert_file/key_file (PEM)
    // PEM certificate chain and private key, for tls.
    std::string cert_file, key_file;
    std::uint16_t port = 0;  // 0 = ephemeral
    // Address to listen on: loopback by default; "0.0.0.0" or "::" for bots in containers.
    std::string listen_address = "127.0.0.1";
    int refuse_status = 401;  // HTTP status of a refused upgrade (wrong/no token)
    std::vector<std::string> capabilities = {"ivrapi", "subscr", "rest"};  // in connection_info_result
    // connection_info_result fields
    std::string site = "main_site", domain = "mock.era.local", integration_point_type = "public";
    std::vector<std::string> roles = {"admin"};

    // --- control life cycle ---
    std::chrono::milliseconds accept_timeout{30000};  // no accept -> api_stop "timeout"
    // A controlled call whose controller connection is gone for this long ends with
    // api_stop "timeout". Empty (default): it waits for a reaccept forever.
    std::optional<std::chrono::milliseconds> detached_timeout;
    // Fault: events for a call whose controller's link is gone (a component's stopped
    // event, DTMF) are lost instead of queued and delivered after the reaccept: a
    // platform that loses an event.
    bool lose_events_while_detached = false;
    // false: ivrapi_component_stopped without key/ivrid (as in the spec's example).
    bool stopped_event_carries_ids = true;
    ApplyAck apply_ack = ApplyAck::immediate;
    bool terminate_reply_first = false;    // reply to terminate before the stopped event
    bool stopped_event_on_hangup = false;  // caller hang-up also sends the stopped event
    // Refuse media components (204/206/208/TTS/ASR/fax) with an error reply while the
    // state is "incoming" or "ringing" (the platform's documented rule); off by default.
    bool strict_sip_rules = false;

    // --- simulated components ---
    std::chrono::milliseconds default_play_duration{1000};
    std::map<std::string, std::chrono::milliseconds> play_durations;  // per file
    std::chrono::milliseconds record_duration{1000};  // how long the caller speaks (capped by recTimeSec)
    std::chrono::milliseconds tts_duration{1000};     // 222/226/230 speaking time
    std::chrono::milliseconds asr_duration{1000};     // 223/227 listening time
    std::string asr_text =
        "mock recognition result";                 // 223/227 results {"text": ...} (CallOptions::asr_texts per call)
    std::chrono::milliseconds fax_duration{1000};  // 213/214
    std::chrono::milliseconds dtmf_send_duration{100};  // 207: per digit (',' = 1 s pause)
    // Per oType: members merged over (and replacing) the simulated results.
    std::map<int, ivrapi::Json> component_results;
    // Per oType: transferKey forced for a normally ending component.
    std::map<int, std::string> component_transfer_keys;

    // --- files ---
    std::string temp_dir;  // empty -> a fresh dir under /tmp, removed on destruction
    // Static storage seeded from local folders: {":GS_PUB", "/srv/prompts"} makes
    // ":GS_PUB/menu.wav" the file /srv/prompts/menu.wav (any alias of a storage; uploads
    // to that storage land there too). Unmapped storages live under temp_dir.
    std::map<std::string, std::string> static_dirs;
    // Files named without a storage prefix ("hello.wav", a file attached to the script).
    std::string script_dir;
    // true (default): a 204 play / 213 fax of a static or script file that does not
    // exist still "plays" (quick demos). false: refused with an error reply, as the
    // platform does. ":TEMP/..." paths are always checked against the call's own temp
    // folder.
    bool any_path_plays = true;
    // CA file (PEM) to verify https:// upload URLs with; empty: the system's CAs.
    std::string upload_ca_file;
    std::chrono::milliseconds file_link_ttl{std::chrono::minutes(5)};
    Clock clock;                                     // empty -> std::chrono::steady_clock::now
    std::chrono::milliseconds upload_timeout{5000};  // connect+read bound of an upload fetch

    // --- output ---
    // One line per event. Called from the server's threads, serialized; it must not call
    // back into the Server.
    std::function<void(const std::string&)> log;
    bool log_frames = false;                 // also log every frame received and sent
    std::size_t request_log_limit = 100000;  // requests() keeps the newest this many

    // --- control channel ---
    // true: JSON commands over HTTP on the same port (POST /control/COMMAND with
    // "Authorization: Bearer <token>"), so tests in any language drive the server as C++
    // tests drive this class. Commands: docs/mock.md.
    bool control_channel = false;
};

// One frame received by the server (malformed frames too, with an empty name).
struct ReceivedRequest {
    std::string name;    // element 0, "" when the frame was not a [string, object] array
    ivrapi::Json body;   // element 1 (null when malformed)
    std::string raw;     // the frame as received
    int connection = 0;  // id of the connection it came on (1, 2, ...)
};

// The mock Era platform: a real WebSocket server on 127.0.0.1 that behaves like the
// platform's Token API (see docs/mock.md). Not copyable; every method is thread-safe.
class Server {
public:
    // Starts listening on its own thread. Throws std::runtime_error when it cannot
    // (port in use, unreadable certificate).
    explicit Server(const ServerOptions& options = {});
    ~Server();  // clean shutdown; safe from any thread, idempotent with stop()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // "ws://127.0.0.1:<port>/ws/token/v1" or "wss://localhost:<port>/ws/token/v1" (the
    // listen address instead of 127.0.0.1 when it is a specific one),
    // without the token (send it as "Authorization: Bearer <token>").
    std::string url() const;
    std::string url_with_token() const;    // token as the last path segment
    std::uint16_t port() const;            // the port it listens on
    const ServerOptions& options() const;  // the options it runs with
    // "http(s)://<host>:<port><path>": for links returned by ivrapi_file_get_path and
    // resources added with add_http_resource.
    std::string http_url(const std::string& path) const;
    // Serve `body` at `path` (e.g. "/files/hello.wav") over plain HTTP GET, for upload tests.
    void add_http_resource(const std::string& path, std::string body,
                           std::string content_type = "application/octet-stream");
    // Local file behind a static platform path (":GS_PUB/...", ...), "" if none; a
    // ":TEMP/..." path belongs to one call: use Call::local_path.
    std::string local_path(const std::string& platform_path) const;
    const std::string& temp_dir() const;

    // Offers a call: api_start to every matching subscription; the accept timer starts.
    Call start_call(const CallOptions& options = {});
    std::optional<Call> find_call(const std::string& ivrid) const;
    std::vector<Call> calls() const;

    // --- inspection ---
    std::vector<ReceivedRequest> requests() const;  // every frame received, in order
    std::size_t request_count(const std::string& name) const;
    // Waits until predicate(*this) is true, re-evaluating it on every change of the
    // server's state (and at least every 50 ms); false on timeout.
    bool wait_for(const std::function<bool(const Server&)>& predicate, std::chrono::milliseconds timeout) const;
    bool wait_for_request(const std::string& name, std::chrono::milliseconds timeout, std::size_t count = 1) const;
    std::size_t connection_count() const;    // open WebSocket connections
    std::size_t subscription_count() const;  // live (not expired) subscriptions, all connections
    std::vector<int> connections() const;    // ids of open connections

    // --- fault injection (each stays in force until changed or clear_faults()) ---
    void drop_connections();  // every connection closed now, no close frame
    void drop_connection(int connection);
    // A clean close frame with `code` (e.g. 1001, 4000-4999) and `reason` to every connection.
    void close_connections(int code, const std::string& reason);
    // The connection that delivers the n-th message from now is dropped right after that
    // message was processed; its reply is not sent. One-shot.
    void drop_after_messages(std::size_t n);
    void delay_reply(const std::string& request_name, std::chrono::milliseconds delay);
    // Replies with an error with this reason instead; the request is not processed.
    void fail_reply(const std::string& request_name, std::string reason);
    // The request is processed but never answered.
    void drop_reply(const std::string& request_name);
    void clear_faults();
    void send_raw(const std::string& frame);  // to every open connection, as is
    void duplicate_notifications(bool on);    // every notify frame sent twice
    void stall(bool on);                      // stop (or resume) reading every connection
    // false: WebSocket pings go unanswered (frames still flow), so a client's pong
    // timeout sees a dead link. Default true.
    void answer_pings(bool on);

    // Stops the server (closes connections, joins its threads). Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ivrapi::mock
