// The client's protocol state machine: connection life cycle, qid table and timeouts,
// subscription and renewal, offers, sessions, routing, reconnect + reaccept.
// Single-threaded: every method runs on the loop thread. No websocketpp, no Asio:
// it is driven by a Loop and a Transport, so unit tests run it on an in-memory
// transport with a controllable clock.
#pragma once

#include "client/client_link.hpp"
#include "client/loop.hpp"
#include "client/session_state.hpp"
#include "protocol/codec.hpp"
#include "transport/transport.hpp"

#include <ivrapi/client.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace ivrapi::detail {

// Readable from any thread.
struct SharedStatus {
    std::atomic<ConnectionState> state{ConnectionState::idle};
    std::atomic<std::uint64_t> messages_in{0}, messages_out{0}, dropped{0}, protocol_errors{0},
        duplicates{0}, reconnects{0}, offers{0}, active_sessions{0}, requests{0},
        request_timeouts{0};
    std::atomic<std::uint64_t> latency_sum_us{0}, latency_max_us{0};
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
};

class ClientCore {
public:
    ClientCore(const ClientOptions& options, Loop& loop, Transport& transport,
               std::shared_ptr<ClientLink> link, SharedStatus& status, LogFn log);
    ~ClientCore();

    CoreHandlers& handlers() { return handlers_; }

    void start();
    void stop();  // fails everything pending with Errc::stopped; no callbacks afterwards

    void accept(const std::shared_ptr<const ApiStartEvent>& info, Callback<Session> done);
    void apply(const std::shared_ptr<SessionState>& s, const Component& c, Callback<ComponentStopped> done);
    void terminate(const std::shared_ptr<SessionState>& s, Callback<void> done);
    void abort(const std::shared_ptr<SessionState>& s, Callback<void> done);
    void file_get_path(const std::shared_ptr<SessionState>& s, const std::string& path, Callback<FileLink> done);
    void upload_temp(const std::shared_ptr<SessionState>& s, const std::string& url, Callback<std::string> done);
    void upload_static(const std::shared_ptr<SessionState>& s, const std::string& url,
                       const std::string& destpath, Callback<std::string> done);
    void upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done);
    void request(const std::string& name, const Json& body, Callback<Json> done);
    void set_dtmf_handler(const std::shared_ptr<SessionState>& s, std::function<void(const DtmfEvent&)> h);
    void set_end_handler(const std::shared_ptr<SessionState>& s, std::function<void(const SessionEnd&)> h);

    static Session make_session(std::shared_ptr<SessionState> s) { return Session(std::move(s)); }

private:
    using ReplyDone = std::function<void(Result<protocol::Reply>)>;
    struct Pending {
        std::string name;
        std::weak_ptr<SessionState> session;
        ReplyDone done;
        Loop::TimerId timer = 0;
        Loop::Clock::time_point sent;
    };

    // Link life cycle.
    void connect();
    void on_open(std::uint64_t generation);
    void on_close(std::uint64_t generation, const Error& why);
    void on_frame(std::string&& frame);
    void set_state(ConnectionState s, const Error& reason = {});
    void schedule_reconnect(const Error& why);
    void subscribe();
    void renew_subscription();

    // Requests.
    // Sends `frame_for(qid)`; `done` gets the reply, or an Error (not_connected,
    // timeout, connection_lost, session_ended, stopped). timeout 0 = none.
    void send_request(std::string_view name, const std::function<std::string(protocol::Qid)>& frame_for,
                      const std::shared_ptr<SessionState>& session, std::chrono::milliseconds timeout,
                      ReplyDone done);
    void on_reply(protocol::Reply&& reply);
    void fail_pending(protocol::Qid qid, const Error& e);
    // Session request whose success value is the reply's `result` text.
    void value_request(const std::shared_ptr<SessionState>& s, std::string_view name,
                       const std::function<std::string(protocol::Qid)>& frame_for,
                       Callback<std::string> done);
    // Fails with an Error when the session cannot send now.
    std::optional<Error> check_usable(const SessionState& s) const;

    // Events.
    void on_api_start(ApiStartEvent&& e);
    void on_api_stop(ApiStopEvent&& e);
    void on_stopped(ComponentStopped&& e);
    void on_dtmf(DtmfEvent&& e);
    bool is_duplicate(const SessionIdentity& id, std::string_view type);
    std::shared_ptr<SessionState> route(const std::optional<std::string>& ivrid,
                                        const std::optional<std::int64_t>& oid);

    void complete_component(SessionState& s, Result<ComponentStopped> r);
    // Accept or reaccept succeeded: count it, complete a pending accept / send a pending abort.
    void became_controlling(const std::shared_ptr<SessionState>& s);
    void end_session(const std::shared_ptr<SessionState>& s, SessionEnd end, const Error& pending_error);
    void drop(const std::string& why, LogLevel level = LogLevel::debug);

    void log(LogLevel level, const std::string& line) const {
        if (log_) log_(level, line);
    }

    const ClientOptions& options_;
    Loop& loop_;
    Transport& transport_;
    std::shared_ptr<ClientLink> link_;
    SharedStatus& status_;
    LogFn log_;
    CoreHandlers handlers_;

    bool started_ = false;
    bool stopped_ = false;
    bool link_up_ = false;
    std::uint64_t generation_ = 0;  // ignores callbacks of links we gave up on
    unsigned attempt_ = 0;
    Loop::TimerId reconnect_timer_ = 0;
    Loop::TimerId renew_timer_ = 0;
    std::mt19937_64 rng_;

    protocol::Qid next_qid_ = 1;
    std::int64_t next_oid_ = 1;
    std::unordered_map<protocol::Qid, Pending> pending_;
    // Sessionless requests made while the link is (re)connecting: sent on open, failed
    // with timeout after their request timeout.
    struct Queued {
        std::string name;
        std::function<std::string(protocol::Qid)> frame_for;
        std::chrono::milliseconds timeout;
        ReplyDone done;
        Loop::TimerId timer = 0;
    };
    std::unordered_map<std::uint64_t, Queued> waiting_link_;
    std::uint64_t next_queued_ = 1;

    std::string subscription_id_;
    std::unordered_map<std::string, std::shared_ptr<SessionState>> sessions_;  // by ivrid
    std::unordered_map<std::int64_t, std::weak_ptr<SessionState>> by_oid_;
    // Component deadlines (component_timeout), earliest first, behind ONE loop timer:
    // a timer per running component costs ~300 bytes each at 10,000 sessions.
    std::set<std::pair<Loop::Clock::time_point, std::int64_t>> deadlines_;
    Loop::TimerId deadline_timer_ = 0;
    Loop::Clock::time_point deadline_armed_for_{};
    void arm_deadline_timer();
    void expire_components();
    // Recently seen notifications (dedupe) and recently ended ivrids.
    std::unordered_set<std::uint64_t> seen_;
    std::deque<std::uint64_t> seen_order_;
    std::unordered_set<std::string> ended_;
    std::deque<std::string> ended_order_;
};

}  // namespace ivrapi::detail
