// The client core: composes the parts (link supervision, request table, subscription,
// component tracking, dedupe) and runs the session state machine on top of them.
// Single-threaded: every method runs on the loop thread. No websocketpp, no Asio: it
// is driven by a Loop and a Transport, so unit tests run it on an in-memory transport
// with a manual clock.
//
// Rule: a method first finishes updating state, and every call into user code
// (completions, handlers) is queued in `deliveries_` and run when the outermost entry
// into the core ends, each call guarded (see DeliveryQueue).
#pragma once

#include "client/client_link.hpp"
#include "client/component_tracker.hpp"
#include "client/delivery_queue.hpp"
#include "client/event_dedupe.hpp"
#include "client/guarded_loop.hpp"
#include "client/link_supervisor.hpp"
#include "client/request_table.hpp"
#include "client/session_state.hpp"
#include "client/subscription.hpp"
#include "protocol/codec.hpp"
#include "transport/transport.hpp"

#include <ivrapi/client.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace ivrapi::detail {

// Readable from any thread.
struct SharedStatus {
    std::atomic<ConnectionState> state{ConnectionState::idle};
    std::atomic<std::uint64_t> messages_in{0}, messages_out{0}, dropped{0}, protocol_errors{0}, duplicates{0},
        reconnects{0}, offers{0}, active_sessions{0}, requests{0}, request_timeouts{0}, callback_errors{0},
        handed_back{0}, components_lost{0}, takeovers{0};
    std::atomic<std::uint64_t> latency_sum_us{0}, latency_max_us{0};
    // False once draining or stopping: a claim coordinator then publishes no free capacity.
    std::atomic<bool> claiming{true};
    mutable std::mutex mutex;
    std::condition_variable state_cv;
    ConnectionInfo info;  // under mutex
};

// Writes one log line (level-filtered and token-redacted by the owner).
using LogFn = std::function<void(LogLevel, const std::string&)>;

struct CoreHandlers {
    std::function<void(Offer)> on_offer;
    std::function<void(const ApiStopEvent&)> on_api_stop;
    std::function<void(ConnectionState, const Error&)> on_state;
    std::function<void(const NotifyEvent&)> on_notify;
    std::function<void(const GenericMessage&)> on_unknown;
    // The link is gone and reconnects are off: the owner stops the client.
    std::function<void()> on_link_gone;
    // A session of this client ended (the claim policy frees its slot).
    std::function<void(const std::string& ivrid)> on_session_ended;
};

class ClientCore {
public:
    ClientCore(const ClientOptions& options, Loop& loop, Transport& transport, std::shared_ptr<ClientLink> link,
               SharedStatus& status, LogFn log);
    ~ClientCore();

    CoreHandlers& handlers() { return handlers_; }

    void start();
    // Fails everything pending with Errc::stopped, hands every controlled session back
    // (ivrapi_abort, waiting at most hand_back_timeout for the replies), then closes.
    // `done` runs (on the loop) once all that is over; no handler runs afterwards.
    void stop(std::function<void()> done = {});
    // No new claims from now on (offers are not delivered, accept fails): for drain().
    void stop_claiming();

    void accept(const std::shared_ptr<const ApiStartEvent>& info, Callback<Session> done);
    // Takes control of a session another connection holds (ivrapi_reaccept).
    void take_over(const std::shared_ptr<const ApiStartEvent>& info, Callback<Session> done);
    void apply(const std::shared_ptr<SessionState>& s, const Component& c, Callback<ComponentStopped> done);
    void terminate(const std::shared_ptr<SessionState>& s, Callback<void> done);
    void abort(const std::shared_ptr<SessionState>& s, Callback<void> done);
    void file_get_path(const std::shared_ptr<SessionState>& s, const std::string& path, Callback<FileLink> done);
    void upload_temp(const std::shared_ptr<SessionState>& s, const std::string& url, Callback<std::string> done);
    void upload_static(const std::shared_ptr<SessionState>& s, const std::string& url, const std::string& destpath,
                       Callback<std::string> done);
    void upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done);
    void request(const std::string& name, const Json& body, Callback<Json> done);
    void set_dtmf_handler(const std::shared_ptr<SessionState>& s, std::function<void(const DtmfEvent&)> h);
    void set_end_handler(const std::shared_ptr<SessionState>& s, std::function<void(const SessionEnd&)> h);

    static Session make_session(std::shared_ptr<SessionState> s) { return Session(std::move(s)); }
    static const std::shared_ptr<SessionState>& state_of(const Session& s) { return s.state_; }
    // For tests: the phase of the session of `ivrid` (ended when unknown).
    SessionPhase phase_of(const std::string& ivrid) const;

private:
    using Entry = DeliveryQueue::Entry;
    using ReplyHandler = std::function<void(Result<protocol::Reply>&&)>;

    // ---- delivery (the only way user code is called)
    template <typename T>
    void deliver(Callback<T> done, Result<T> r) {
        if (!done) return;
        deliveries_.push([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    }
    // deliver() as the last thing the core does in its entry (DeliveryQueue::push_last):
    // nothing queued, `done` runs at once, without a closure.
    template <typename T>
    void deliver_last(Callback<T>&& done, Result<T>&& r) {
        if (!done) return;
        deliveries_.push_last([](Callback<T>& d, Result<T>& result) { d(std::move(result)); }, std::move(done),
                              std::move(r));
    }
    void set_state(ConnectionState s, const Error& reason = {});

    // ---- link
    void on_connecting();
    void on_link_up();
    void on_link_down(const Error& why, bool was_up, bool will_retry);
    bool may_retry(const Error& why, bool was_up);
    void on_ready();
    void on_frame(std::string&& frame);
    // Ends everything: the client stopped, or the link is gone for good.
    void end_all(const Error& why, const std::string& reason_text);

    // ---- requests of the core
    // Sends, or holds until the link is up (sessionless only) — `done` always runs once.
    // `done` is the table's own completion type: no wrapper per request (the qid is 0 when
    // the request failed before it was sent). `frame_for(qid)` builds the frame; it is
    // copied into an owning FrameFor only when the request is held (defined, and used,
    // in client_core.cpp).
    template <typename MakeFrame>
    void sessionless_request(std::string_view name, const MakeFrame& frame_for, RequestTable::Done done);
    // A request of a controlled session, tracked in s->requests. `done` always runs once.
    void session_request(const std::shared_ptr<SessionState>& s, std::string_view name,
                         RequestTable::FrameRef frame_for, std::chrono::milliseconds timeout, ReplyHandler done);
    void value_request(const std::shared_ptr<SessionState>& s, std::string_view name,
                       const RequestTable::FrameFor& frame_for, Callback<std::string> done);
    std::optional<Error> check_usable(const SessionState& s) const;

    // ---- the session state machine (session_machine.cpp)
    void send_claim(const std::shared_ptr<SessionState>& s, std::string_view name);
    void on_claim_reply(const std::shared_ptr<SessionState>& s, std::string_view name, protocol::Qid qid,
                        Result<protocol::Reply>&& r);
    void on_accept_deadline(const std::shared_ptr<SessionState>& s);
    void became_controlled(const std::shared_ptr<SessionState>& s, bool after_reclaim);
    void set_phase(SessionState& s, SessionPhase p);
    // True when the session can send now. While it waits for its re-claim, the
    // operation is held and run once it is controlled (bounded by request_timeout):
    // make_held() builds its (retry, fail) closures, only then — not on the hot path.
    // Otherwise the reason is given to fail_now.
    template <typename MakeHeld, typename FailNow>
    bool usable_or_hold(const std::shared_ptr<SessionState>& s, MakeHeld&& make_held, FailNow&& fail_now);
    using HeldPair = std::pair<std::function<void()>, std::function<void(const Error&)>>;
    static HeldPair held_pair(std::function<void()> retry, std::function<void(const Error&)> fail) {
        return {std::move(retry), std::move(fail)};
    }
    // An owning closure that delivers a failure to `done`.
    template <typename T>
    std::function<void(const Error&)> failure_to(const Callback<T>& done) {
        return [this, done](const Error& e) { deliver<T>(Callback<T>(done), e); };
    }
    void hold(const std::shared_ptr<SessionState>& s, std::function<void()> retry,
              std::function<void(const Error&)> fail);
    void release_held(const std::shared_ptr<SessionState>& s);
    void fail_held(SessionState& s, const Error& e);
    void start_probe(const std::shared_ptr<SessionState>& s);
    void end_probe(const std::shared_ptr<SessionState>& s, bool component_gone, const std::string& why);
    void finish_stop();
    void maybe_finish_stop();
    void hand_back(const std::shared_ptr<SessionState>& s);
    void end_session(const std::shared_ptr<SessionState>& s, SessionEnd end, const Error& pending_error);
    void complete_component(SessionState& s, Result<ComponentStopped> r);

    // ---- inbound events
    void on_api_start(ApiStartEvent&& e);
    void on_api_stop(ApiStopEvent&& e);
    void on_stopped(ComponentStopped&& e);
    void on_dtmf(DtmfEvent&& e);
    void drop(const std::string& why, LogLevel level = LogLevel::debug);
    void log(LogLevel level, const std::string& line) const {
        if (log_) log_(level, line);
    }

    const ClientOptions& options_;
    SharedStatus& status_;
    LogFn log_;
    std::shared_ptr<ClientLink> link_handle_;
    DeliveryQueue deliveries_;
    GuardedLoop loop_;
    Transport& transport_;
    RequestTable requests_;
    LinkSupervisor link_;
    SubscriptionKeeper subscription_;
    ComponentTracker components_;
    EventDedupe dedupe_;
    CoreHandlers handlers_;

    bool started_ = false;
    bool stopped_ = false;
    bool link_gone_ = false;  // lost with reconnects off: nothing will be sent again
    bool stopping_ = false;   // stop(): handing sessions back before closing
    bool claiming_ = true;    // false once draining or stopping: no new accepts
    Loop::TimerId hand_back_timer_ = 0;
    std::function<void()> stop_done_;
    std::uint64_t next_held_ = 1;
    // Sessions ended by api_stop while a component still ran: its stopped event may follow.
    std::unordered_map<std::string, std::weak_ptr<SessionState>> ending_;
    unsigned auth_failures_ = 0;  // refused logins in a row
    // By ivrid; the key views the session's own info->ivrid (no second copy per session).
    SessionMap<std::string_view, std::shared_ptr<SessionState>> sessions_;
    // Accepts waiting for their outcome: their deadline timers (few at a time, so
    // not in SessionState).
    std::unordered_map<std::string, Loop::TimerId> accept_deadlines_;
};

}  // namespace ivrapi::detail
