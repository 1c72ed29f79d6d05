#include "client/client_core.hpp"

#include <algorithm>
#include <random>

namespace ivrapi::detail {
namespace {

constexpr std::size_t kDtmfBacklog = 64;
using std::chrono::milliseconds;

std::string hex_id(std::uint64_t v) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 12; ++i, v >>= 4) out += digits[v & 15];
    return out;
}

// The Error of a failed request: no reply (timeout, link lost, ...) or an error reply.
std::optional<Error> failure_of(const Result<protocol::Reply>& r) {
    if (!r) return r.error();
    if (!r->success) return r->error;
    return std::nullopt;
}

std::string join_url(const std::string& base, const std::string& path) {
    if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) return path;
    if (!path.empty() && path[0] == '/') return base + path;
    return base + "/" + path;
}

SubscriptionKeeper::Settings subscription_settings(const ClientOptions& o, std::uint64_t seed) {
    SubscriptionKeeper::Settings s;
    s.id = "ivrapi-cpp-" + hex_id(seed);
    s.events = o.events;
    s.lifetime = o.subscription_lifetime;
    s.request_timeout = o.request_timeout;
    return s;
}

std::uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

const char* to_string(SessionPhase p) noexcept {
    switch (p) {
        case SessionPhase::accepting: return "accepting";
        case SessionPhase::accept_unknown: return "accept_unknown";
        case SessionPhase::controlled: return "controlled";
        case SessionPhase::detached: return "detached";
        case SessionPhase::reclaiming: return "reclaiming";
        case SessionPhase::aborting: return "aborting";
        case SessionPhase::ended: return "ended";
    }
    return "unknown";
}

ClientCore::ClientCore(const ClientOptions& options, Loop& loop, Transport& transport, std::shared_ptr<ClientLink> link,
                       SharedStatus& status, LogFn log)
    : options_(options),
      status_(status),
      log_(std::move(log)),
      link_handle_(std::move(link)),
      deliveries_(status.callback_errors, [this](const std::string& what) { this->log(LogLevel::error, what); }),
      loop_(loop, deliveries_),
      transport_(transport),
      requests_(loop_, transport_,
                RequestCounters{&status.messages_out, &status.requests, &status.request_timeouts,
                                &status.latency_sum_us, &status.latency_max_us}),
      link_(options.reconnect, loop_, transport_,
            LinkEvents{[this] {
                           Entry e(deliveries_);
                           on_connecting();
                       },
                       [this] {
                           Entry e(deliveries_);
                           on_link_up();
                       },
                       [this](std::string&& frame) {
                           Entry e(deliveries_);
                           on_frame(std::move(frame));
                       },
                       [this](const Error& why, bool was_up, bool retry) {
                           Entry e(deliveries_);
                           on_link_down(why, was_up, retry);
                       },
                       [this](const Error& why, bool was_up) { return may_retry(why, was_up); }},
            random_seed()),
      subscription_(
          subscription_settings(options, random_seed()), loop_, requests_, [this] { on_ready(); },
          [this](LogLevel l, const std::string& line) { this->log(l, line); }),
      components_(loop_, [this](const std::shared_ptr<SessionState>& s, std::int64_t oid) {
          complete_component(*s, Error(Errc::timeout, "component oId " + std::to_string(oid) +
                                                          " did not stop within component_timeout"));
      }) {}

ClientCore::~ClientCore() {
    deliveries_.discard();
    // Destroyed without stop() (tests do): drop what a session holds that may hold the
    // session itself (held retries, the probe's held apply, waiters), so nothing leaks.
    auto release = [](const std::shared_ptr<SessionState>& s) {
        if (!s) return;
        s->held.reset();
        s->probe.reset();
        s->waiters.reset();
        s->running.reset();
        s->on_dtmf = nullptr;
        s->on_end = nullptr;
    };
    for (auto& [ivrid, s] : sessions_) release(s);
    for (auto& [ivrid, weak] : ending_) release(weak.lock());
}

SessionPhase ClientCore::phase_of(const std::string& ivrid) const {
    auto it = sessions_.find(ivrid);
    return it == sessions_.end() ? SessionPhase::ended : it->second->phase;
}

// ---------------------------------------------------------------- link life cycle

void ClientCore::start() {
    Entry e(deliveries_);
    if (started_ || stopped_) return;
    started_ = true;
    link_.start();
}

void ClientCore::on_connecting() { set_state(ConnectionState::connecting); }

void ClientCore::on_link_up() {
    set_state(ConnectionState::connected);
    if (options_.tls.danger_accept_invalid_certificates) {
        log(LogLevel::warn, "TLS certificate verification is DISABLED (danger_accept_invalid_certificates)");
    }
    requests_.send(
        protocol::kConnectionInfo, [](protocol::Qid q) { return protocol::encode_connection_info(q); },
        options_.request_timeout,
        [this](protocol::Qid, Result<protocol::Reply>&& r) {
            if (!r || !r->success) {
                log(LogLevel::warn, "connection_info failed: " + (r ? r->error.message : r.error().message));
                return;
            }
            ConnectionInfo info = protocol::decode_connection_info(r->body);
            if (!info.has_capability("ivrapi")) {
                log(LogLevel::error,
                    "this token's capabilities lack 'ivrapi': the platform will refuse "
                    "accept and every ivrapi request (check the integration point's roles)");
            }
            std::lock_guard<std::mutex> lock(status_.mutex);
            status_.info = std::move(info);
        });
    subscription_.link_up();
    requests_.release_held();

    // Re-claim what is (or may be) ours. A copy: a failure ends a session, which
    // erases it from sessions_.
    std::vector<std::shared_ptr<SessionState>> waiting;
    for (auto& [ivrid, s] : sessions_) {
        if (s->phase == SessionPhase::detached || s->phase == SessionPhase::accept_unknown) waiting.push_back(s);
    }
    for (auto& s : waiting) {
        // Only a session known to be ours is re-claimed with ivrapi_reaccept: an accept
        // of unknown outcome is repeated as an accept, so that a session another
        // controller won is not taken from it.
        send_claim(s, s->phase == SessionPhase::detached ? protocol::kReaccept : protocol::kAccept);
    }
}

void ClientCore::on_ready() {
    set_state(ConnectionState::ready);
    link_.mark_ready();
}

bool ClientCore::may_retry(const Error& why, bool was_up) {
    const bool refused_login = why.is(Errc::handshake_failed) && (why.http_status == 401 || why.http_status == 403);
    if (!refused_login) {
        if (was_up) auth_failures_ = 0;
        return true;
    }
    ++auth_failures_;
    if (options_.max_auth_failures == 0 || auth_failures_ < options_.max_auth_failures) return true;
    log(LogLevel::error, "the platform refused the token " + std::to_string(auth_failures_) + " times in a row (HTTP " +
                             std::to_string(why.http_status) +
                             "): not retrying; check the token and the integration point");
    return false;
}

void ClientCore::on_link_down(const Error& why, bool was_up, bool will_retry) {
    subscription_.link_down();
    const bool refused_login = why.is(Errc::handshake_failed) && (why.http_status == 401 || why.http_status == 403);
    log(refused_login ? LogLevel::error
        : was_up      ? LogLevel::warn
                      : LogLevel::info,
        was_up ? "connection lost: " + why.message : why.message);
    // Every session first moves to its link-down phase; only then do the requests in
    // flight fail (their handlers see the new phase).
    std::vector<std::shared_ptr<SessionState>> probing;
    for (auto& [ivrid, s] : sessions_) {
        switch (s->phase) {
            case SessionPhase::accepting: set_phase(*s, SessionPhase::accept_unknown); break;
            case SessionPhase::controlled:
            case SessionPhase::reclaiming:
            case SessionPhase::aborting: set_phase(*s, SessionPhase::detached); break;
            case SessionPhase::accept_unknown:
            case SessionPhase::detached:
            case SessionPhase::ended: break;
        }
        s->claim_qid = 0;
        s->attempts = 0;
        if (s->probe) probing.push_back(s);
    }
    // A probe lost with the link is asked again after the next re-claim.
    for (auto& s : probing) end_probe(s, false, "link lost during the probe");
    requests_.fail_all(Error(Errc::connection_lost, "connection lost: " + why.message));
    if (!will_retry) {
        link_gone_ = true;
        end_all(Error(Errc::connection_lost, "connection lost and reconnects are off: " + why.message),
                "connection lost (reconnects are off)");
        set_state(ConnectionState::stopped, why);
        deliveries_.push([this] {
            if (handlers_.on_link_gone) handlers_.on_link_gone();
        });
        return;
    }
    status_.reconnects.fetch_add(1, std::memory_order_relaxed);
    set_state(ConnectionState::reconnecting, why);
    maybe_finish_stop();  // hand-backs cut by the drop: nothing more to wait for
}

void ClientCore::set_state(ConnectionState s, const Error& reason) {
    status_.state.store(s);
    {
        // Waiters check the state under this mutex: taking it here means none of them
        // can miss the notification between its check and its wait.
        std::lock_guard<std::mutex> lock(status_.mutex);
    }
    status_.state_cv.notify_all();
    deliveries_.push([this, s, reason] {
        if (handlers_.on_state) handlers_.on_state(s, reason);
    });
}

void ClientCore::end_all(const Error& why, const std::string& reason_text) {
    requests_.fail_all(why);
    requests_.fail_held(why);
    auto sessions = sessions_;
    for (auto& [ivrid, s] : sessions) {
        SessionEnd end;
        end.reason_text = reason_text;
        end_session(s, std::move(end), why);
    }
}

void ClientCore::stop_claiming() {
    Entry e(deliveries_);
    if (claiming_) log(LogLevel::info, "no new claims from now on (draining)");
    claiming_ = false;
    status_.claiming = false;
}

void ClientCore::stop(std::function<void()> done) {
    Entry e(deliveries_);
    if (stopped_ || stopping_) {
        if (done) deliveries_.push(std::move(done));
        return;
    }
    stopping_ = true;
    claiming_ = false;
    status_.claiming = false;
    stop_done_ = std::move(done);
    // What was asked of the client fails now; the sessions it controls are handed back
    // to their scripts rather than left waiting for a reaccept that never comes.
    const Error stopped(Errc::stopped, "the client was stopped");
    requests_.fail_held(stopped);
    // Components of ended sessions still waiting for a late stopped event.
    auto ending = std::move(ending_);
    ending_.clear();
    for (auto& [ivrid, weak] : ending) {
        if (auto s = weak.lock()) {
            if (s->end_grace) loop_.cancel(std::exchange(s->end_grace, 0));
            complete_component(*s, stopped);
        }
    }
    auto sessions = sessions_;
    std::size_t handing_back = 0;
    for (auto& [ivrid, s] : sessions) {
        complete_component(*s, stopped);
        fail_held(*s, stopped);
        auto requests = s->requests;
        for (auto qid : requests) requests_.fail(qid, stopped);
        if (s->probe) end_probe(s, false, "stopping");
        if (s->phase == SessionPhase::controlled && link_.up()) {
            s->wait().hand_back = true;
            hand_back(s);
        }
        if (s->phase == SessionPhase::aborting) ++handing_back;
    }
    if (handing_back == 0) {
        finish_stop();
        return;
    }
    log(LogLevel::info, "stopping: handing " + std::to_string(handing_back) + " session(s) back to their scripts");
    hand_back_timer_ = loop_.schedule(options_.hand_back_timeout, [this] {
        hand_back_timer_ = 0;
        log(LogLevel::warn, "stopping: not every hand-back was answered within hand_back_timeout");
        finish_stop();
    });
}

void ClientCore::maybe_finish_stop() {
    if (!stopping_ || stopped_) return;
    for (auto& [ivrid, s] : sessions_) {
        if (s->phase == SessionPhase::aborting) return;
    }
    // Not from inside the reply being handled: the transport is shut down there.
    loop_.post([this] { finish_stop(); });
}

void ClientCore::finish_stop() {
    if (stopped_) return;
    stopped_ = true;
    stopping_ = false;
    if (hand_back_timer_) loop_.cancel(std::exchange(hand_back_timer_, 0));
    link_.stop();
    components_.stop();
    for (auto& [ivrid, timer] : accept_deadlines_) loop_.cancel(timer);
    accept_deadlines_.clear();
    end_all(Error(Errc::stopped, "the client was stopped"), "client stopped");
    set_state(ConnectionState::stopped);
    // Everything queued so far still runs; no handler runs after it.
    deliveries_.push([this] { handlers_ = CoreHandlers{}; });
    if (stop_done_) deliveries_.push(std::exchange(stop_done_, nullptr));
}

// ---------------------------------------------------------------- requests

namespace {

// A generic request's frame, built from the caller's name and body, which it refers to:
// owned() copies them, for a request that waits for the link.
struct RequestFrame {
    std::string_view name;
    const Json& body;
    std::string operator()(protocol::Qid q) const { return protocol::encode_request(name, q, body); }
    RequestTable::FrameFor owned() const {
        return [n = std::string(name), b = body](protocol::Qid q) { return protocol::encode_request(n, q, b); };
    }
};

template <typename MakeFrame>
RequestTable::FrameFor owned_frame(const MakeFrame& frame_for) {
    if constexpr (std::is_same_v<MakeFrame, RequestFrame>) {
        return frame_for.owned();
    } else {
        return RequestTable::FrameFor(frame_for);
    }
}

}  // namespace

template <typename MakeFrame>
void ClientCore::sessionless_request(std::string_view name, const MakeFrame& frame_for, RequestTable::Done done) {
    if (stopped_) {
        done(0, Error(Errc::stopped, "the client was stopped"));
        return;
    }
    if (link_gone_) {
        done(0, Error(Errc::not_connected, std::string(name) + " not sent: the link is gone and reconnects are off"));
        return;
    }
    if (!link_.up()) {
        if (!started_) {
            done(0, Error(Errc::not_connected, std::string(name) + " not sent: the client is not started"));
            return;
        }
        // (Re)connecting: hold it until the link is up (bounded by its timeout).
        requests_.hold(name, owned_frame(frame_for), options_.request_timeout, std::move(done));
        return;
    }
    if (requests_.try_send(name, RequestTable::FrameRef(frame_for), options_.request_timeout, done) == 0) {
        done(0, Error(Errc::not_connected, std::string(name) + " not sent: the link is closing"));
    }
}

void ClientCore::session_request(const std::shared_ptr<SessionState>& s, std::string_view name,
                                 RequestTable::FrameRef frame_for, milliseconds timeout, ReplyHandler done) {
    std::weak_ptr<SessionState> weak = s;
    RequestTable::Done finish = [weak, done = std::move(done)](protocol::Qid q, Result<protocol::Reply>&& r) {
        if (auto st = weak.lock()) {
            auto& list = st->requests;
            list.erase(std::remove(list.begin(), list.end(), q), list.end());
            // Most sessions are idle most of the time: an empty list keeps no buffer.
            if (list.empty()) std::vector<protocol::Qid>().swap(list);
        }
        done(std::move(r));
    };
    const auto qid = requests_.try_send(name, frame_for, timeout, finish);
    if (qid == 0) {
        finish(0, Error(Errc::not_connected, std::string(name) + " not sent: the link is closing"));
        return;
    }
    s->requests.push_back(qid);
}

std::optional<Error> ClientCore::check_usable(const SessionState& s) const {
    if (stopped_) return Error(Errc::stopped, "the client was stopped");
    switch (s.phase) {
        case SessionPhase::ended: return Error(Errc::session_ended, "session " + s.offer.ivrid() + " has ended");
        case SessionPhase::detached:
        case SessionPhase::reclaiming:
            return Error(Errc::not_connected, "session " + s.offer.ivrid() + " is waiting for the link to come back");
        case SessionPhase::accepting:
        case SessionPhase::accept_unknown:
            return Error(Errc::invalid_argument, "session " + s.offer.ivrid() + " is not accepted yet");
        case SessionPhase::aborting:
            return Error(Errc::session_ended, "session " + s.offer.ivrid() + " is being handed back (abort)");
        case SessionPhase::controlled: break;
    }
    return std::nullopt;
}

template <typename MakeHeld, typename FailNow>
bool ClientCore::usable_or_hold(const std::shared_ptr<SessionState>& s, MakeHeld&& make_held, FailNow&& fail_now) {
    if (!stopped_ && !stopping_ && (s->phase == SessionPhase::detached || s->phase == SessionPhase::reclaiming)) {
        auto [retry, fail] = make_held();
        hold(s, std::move(retry), std::move(fail));
        return false;
    }
    if (auto e = check_usable(*s)) {
        fail_now(*e);
        return false;
    }
    return true;
}

void ClientCore::hold(const std::shared_ptr<SessionState>& s, std::function<void()> retry,
                      std::function<void(const Error&)> fail) {
    if (!s->held) s->held = std::make_unique<std::vector<SessionState::Held>>();
    const std::uint64_t id = next_held_++;
    std::weak_ptr<SessionState> weak = s;
    SessionState::Held h;
    h.id = id;
    h.retry = std::move(retry);
    h.fail = std::move(fail);
    h.timer = loop_.schedule(options_.request_timeout, [this, weak, id] {
        auto st = weak.lock();
        if (!st || !st->held) return;
        auto& list = *st->held;
        auto it = std::find_if(list.begin(), list.end(), [id](const SessionState::Held& x) { return x.id == id; });
        if (it == list.end()) return;
        auto fail = std::move(it->fail);
        list.erase(it);
        fail(Error(Errc::not_connected, "session " + st->offer.ivrid() + " was not re-claimed within " +
                                            std::to_string(options_.request_timeout.count()) + " ms"));
    });
    s->held->push_back(std::move(h));
}

void ClientCore::release_held(const std::shared_ptr<SessionState>& s) {
    if (!s->held) return;
    auto list = std::move(*s->held);
    s->held.reset();
    for (auto& h : list) {
        loop_.cancel(h.timer);
        h.retry();
    }
}

void ClientCore::fail_held(SessionState& s, const Error& e) {
    if (!s.held) return;
    auto list = std::move(*s.held);
    s.held.reset();
    for (auto& h : list) {
        loop_.cancel(h.timer);
        h.fail(e);
    }
}

void ClientCore::value_request(const std::shared_ptr<SessionState>& s, std::string_view name,
                               const RequestTable::FrameFor& frame_for, Callback<std::string> done) {
    if (!s) {
        sessionless_request(name, frame_for,
                            [this, done = std::move(done)](protocol::Qid, Result<protocol::Reply>&& r) mutable {
                                if (auto e = failure_of(r)) deliver<std::string>(std::move(done), *e);
                                else deliver<std::string>(std::move(done), std::move(r->value));
                            });
        return;
    }
    // The retry closure (a copy of the frame builder and of `done`) is built only when
    // the request is held or lost with the link, not for every request.
    auto make_held = [this, &s, name, &frame_for, &done] {
        return held_pair(
            [this, s, request = std::string(name), frame_for, done] { value_request(s, request, frame_for, done); },
            failure_to(done));
    };
    auto fail = [this, &done](const Error& e) { deliver<std::string>(std::move(done), e); };
    // A link may be asked for after the end (links live 5 minutes): the platform answers.
    const bool after_end_ok = name == protocol::kFileGetPath && s->phase == SessionPhase::ended && !stopped_;
    if (!after_end_ok && !usable_or_hold(s, make_held, fail)) return;
    std::weak_ptr<SessionState> weak = s;
    auto finish = [this, weak, request = std::string(name), frame_for, done](Result<protocol::Reply>&& r) mutable {
        auto st = weak.lock();
        // In flight when the link dropped: these requests are safe to repeat, so they
        // wait for the re-claim and go again.
        if (!r && r.error().is(Errc::connection_lost) && st &&
            (st->phase == SessionPhase::detached || st->phase == SessionPhase::reclaiming) && !stopping_) {
            hold(
                st, [this, st, request, frame_for, done] { value_request(st, request, frame_for, done); },
                failure_to(done));
            return;
        }
        if (auto e = failure_of(r)) deliver<std::string>(std::move(done), *e);
        else deliver<std::string>(std::move(done), std::move(r->value));
    };
    if (after_end_ok) {
        if (!link_.up()) {
            deliver<std::string>(std::move(done), Error(Errc::not_connected, std::string(name) + " not sent: no link"));
            return;
        }
        const auto qid =
            requests_.send(name, frame_for, options_.request_timeout,
                           [finish](protocol::Qid, Result<protocol::Reply>&& r) mutable { finish(std::move(r)); });
        if (qid == 0)
            deliver<std::string>(std::move(done), Error(Errc::not_connected, std::string(name) + " not sent"));
        return;
    }
    session_request(s, name, frame_for, options_.request_timeout, std::move(finish));
}

// ---------------------------------------------------------------- operations

void ClientCore::apply(const std::shared_ptr<SessionState>& s, const Component& c, Callback<ComponentStopped> done) {
    Entry entry(deliveries_);
    if (!c.valid()) {
        deliver<ComponentStopped>(std::move(done), Error(Errc::invalid_argument, c.error()));
        return;
    }
    if (s->phase != SessionPhase::ended && s->running) {
        deliver<ComponentStopped>(
            std::move(done),
            Error(Errc::component_busy, "component oId " + std::to_string(s->running->oid) + " is still running in " +
                                            s->offer.ivrid() + "; wait for it or terminate() it"));
        return;
    }
    if (s->probe && s->phase == SessionPhase::controlled) {
        // The re-claim probe still runs on the platform: this apply goes after it.
        if (s->probe->held_apply) {
            deliver<ComponentStopped>(std::move(done),
                                      Error(Errc::component_busy, "an apply already waits in " + s->offer.ivrid()));
            return;
        }
        s->probe->held_apply = [this, s, c, done] { apply(s, c, done); };
        return;
    }
    // Closures built only when needed (a held apply), not on the hot path.
    auto fail = [this, &done](const Error& e) { deliver<ComponentStopped>(std::move(done), e); };
    if (!usable_or_hold(
            s, [&] { return held_pair([this, s, c, done] { apply(s, c, done); }, failure_to(done)); }, fail))
        return;
    s->last_otype.store(c.o_type(), std::memory_order_relaxed);
    const std::int64_t oid = components_.next_oid();
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    const Json& data = c.data();
    std::weak_ptr<SessionState> weak = s;
    protocol::Qid sent_qid = 0;
    session_request(
        s, protocol::kApply,
        [&](protocol::Qid q) {
            sent_qid = q;
            return protocol::encode_component_apply(q, ref, data, oid);
        },
        milliseconds(0),
        [this, weak, oid](Result<protocol::Reply>&& r) {
            auto st = weak.lock();
            if (!st || !st->running || st->running->oid != oid) return;  // completed, or never sent
            st->running->apply_qid = 0;
            if (r && r->success) return;  // acknowledged; the stopped event completes it
            if (!r && r.error().is(Errc::connection_lost)) {
                log(LogLevel::info, "link lost while component oId " + std::to_string(oid) +
                                        " runs; waiting for its stopped event after reaccept");
                return;
            }
            complete_component(*st, r ? r->error : r.error());
        });
    if (sent_qid == 0 || !requests_.pending(sent_qid)) {
        deliver<ComponentStopped>(std::move(done),
                                  Error(Errc::not_connected, "ivrapi_component_apply not sent: the link is closing"));
        return;
    }
    SessionState::Running run;
    run.oid = oid;
    run.apply_qid = sent_qid;
    run.done = std::move(done);
    run.deadline = loop_.now() + options_.component_timeout;
    s->running = std::move(run);
    components_.started(s, oid, s->running->deadline);
}

void ClientCore::complete_component(SessionState& s, Result<ComponentStopped> r) {
    if (!s.running) return;
    SessionState::Running run = std::move(*s.running);
    s.running.reset();
    components_.finished(run.oid, run.deadline);
    if (run.grace) loop_.cancel(run.grace);
    if (run.apply_qid) {
        // The ack may still come: forget the request quietly.
        requests_.forget(run.apply_qid);
        s.requests.erase(std::remove(s.requests.begin(), s.requests.end(), run.apply_qid), s.requests.end());
    }
    deliver<ComponentStopped>(std::move(run.done), std::move(r));
}

void ClientCore::terminate(const std::shared_ptr<SessionState>& s, Callback<void> done) {
    Entry entry(deliveries_);
    auto fail = [this, &done](const Error& e) { deliver<void>(std::move(done), e); };
    if (!usable_or_hold(
            s, [&] { return held_pair([this, s, done] { terminate(s, done); }, failure_to(done)); }, fail))
        return;
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    const std::optional<std::int64_t> oid = s->running ? std::optional<std::int64_t>(s->running->oid) : std::nullopt;
    std::weak_ptr<SessionState> weak = s;
    session_request(
        s, protocol::kTerminate,
        [ref](protocol::Qid q) { return protocol::encode_session_request(protocol::kTerminate, q, ref); },
        options_.request_timeout,
        [this, weak, oid, done = std::move(done)](const Result<protocol::Reply>& r) mutable {
            if (auto e = failure_of(r)) {
                deliver<void>(std::move(done), *e);
                return;
            }
            // The stopped event should follow; bound the wait so the session never
            // stays busy forever if the platform sends none.
            auto st = weak.lock();
            if (st && oid && st->running && st->running->oid == *oid && !st->running->grace) {
                const auto id = *oid;
                st->running->grace = loop_.schedule(options_.request_timeout, [this, weak, id] {
                    auto s2 = weak.lock();
                    if (!s2 || !s2->running || s2->running->oid != id) return;
                    s2->running->grace = 0;
                    complete_component(*s2,
                                       Error(Errc::cancelled, "component oId " + std::to_string(id) +
                                                                  " was terminated and no stopped event followed"));
                });
            }
            deliver<void>(std::move(done), Result<void>());
        });
}

void ClientCore::file_get_path(const std::shared_ptr<SessionState>& s, const std::string& path,
                               Callback<FileLink> done) {
    Entry entry(deliveries_);
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    const std::string base = transport_.http_base();
    value_request(
        s, protocol::kFileGetPath,
        [ref, path](protocol::Qid q) { return protocol::encode_file_get_path(q, ref, path); },
        [base, done = std::move(done)](Result<std::string> r) {
            if (!r) {
                done(r.error());
                return;
            }
            FileLink link;
            link.url = join_url(base, *r);
            link.path = std::move(*r);
            done(std::move(link));
        });
}

void ClientCore::upload_temp(const std::shared_ptr<SessionState>& s, const std::string& url,
                             Callback<std::string> done) {
    Entry entry(deliveries_);
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    value_request(
        s, protocol::kFileUploadTemp,
        [ref, url](protocol::Qid q) { return protocol::encode_file_upload_temp(q, ref, url); }, std::move(done));
}

void ClientCore::upload_static(const std::shared_ptr<SessionState>& s, const std::string& url,
                               const std::string& destpath, Callback<std::string> done) {
    Entry entry(deliveries_);
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    value_request(
        s, protocol::kFileUploadStatic,
        [ref, url, destpath](protocol::Qid q) { return protocol::encode_file_upload_static(q, ref, url, destpath); },
        std::move(done));
}

void ClientCore::upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done) {
    Entry entry(deliveries_);
    value_request(
        nullptr, protocol::kSessionlessUploadStatic,
        [url, destpath](protocol::Qid q) { return protocol::encode_sessionless_upload_static(q, url, destpath); },
        std::move(done));
}

void ClientCore::request(const std::string& name, const Json& body, Callback<Json> done) {
    Entry entry(deliveries_);
    if (name.empty() || (!body.is_object() && !body.is_null())) {
        deliver<Json>(std::move(done), Error(Errc::invalid_argument, "request needs a name and an object body"));
        return;
    }
    sessionless_request(name, RequestFrame{name, body},
                        [this, done = std::move(done)](protocol::Qid, Result<protocol::Reply>&& r) mutable {
                            // A success comes only from RequestTable::complete(), as its last act.
                            if (auto e = failure_of(r)) deliver<Json>(std::move(done), *e);
                            else deliver_last<Json>(std::move(done), std::move(r->body));
                        });
}

void ClientCore::set_dtmf_handler(const std::shared_ptr<SessionState>& s, std::function<void(const DtmfEvent&)> h) {
    Entry entry(deliveries_);
    // After the end nothing will ever call it: keeping it would only keep alive what it
    // captures (often the Session itself).
    if (s->phase == SessionPhase::ended) return;
    s->on_dtmf = std::move(h);
    if (!s->on_dtmf || s->dtmf_backlog.empty()) return;
    auto backlog = std::move(s->dtmf_backlog);
    s->dtmf_backlog.clear();
    for (auto& e : backlog) {
        deliveries_.push([s, e = std::move(e)] {
            if (s->on_dtmf) s->on_dtmf(e);
        });
    }
}

void ClientCore::set_end_handler(const std::shared_ptr<SessionState>& s, std::function<void(const SessionEnd&)> h) {
    Entry entry(deliveries_);
    if (s->phase == SessionPhase::ended) {
        if (!h) return;
        deliveries_.push([s, h = std::move(h)] { h(s->final_end ? *s->final_end : SessionEnd{}); });
        return;
    }
    s->on_end = std::move(h);
}

// ---------------------------------------------------------------- inbound

void ClientCore::on_frame(std::string&& frame) {
    // Only this thread writes the count: a plain add, not a locked one, per frame.
    status_.messages_in.store(status_.messages_in.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    protocol::ParseLimits limits;
    limits.max_bytes = options_.max_message_size;
    limits.validate_utf8 = false;  // websocketpp validated the text frame already
    limits.keep_raw_events = options_.keep_raw_events;
    auto decoded = protocol::decode(frame, limits);
    if (!decoded) {
        status_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        drop("undecodable frame: " + decoded.error().message, LogLevel::warn);
        return;
    }
    std::visit(
        [this](auto& msg) {  // the decoded variant is ours: its alternative may be moved from
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, protocol::Reply>) {
                std::string why_not;
                if (!requests_.complete(std::move(msg), why_not)) {
                    drop(why_not, why_not.find("not pending") != std::string::npos ? LogLevel::debug : LogLevel::warn);
                }
            } else if constexpr (std::is_same_v<T, ApiStartEvent>) {
                on_api_start(std::move(msg));
            } else if constexpr (std::is_same_v<T, ApiStopEvent>) {
                on_api_stop(std::move(msg));
            } else if constexpr (std::is_same_v<T, ComponentStopped>) {
                on_stopped(std::move(msg));
            } else if constexpr (std::is_same_v<T, DtmfEvent>) {
                on_dtmf(std::move(msg));
            } else if constexpr (std::is_same_v<T, NotifyEvent>) {
                if (!handlers_.on_notify) {
                    drop("notify " + msg.event_class + "." + msg.type + " without a handler");
                    return;
                }
                deliveries_.push_last(
                    [this](const NotifyEvent& m) {
                        if (handlers_.on_notify) handlers_.on_notify(m);
                    },
                    std::move(msg));
            } else {
                if (!handlers_.on_unknown) {
                    drop("message '" + msg.name + "' without a handler");
                    return;
                }
                deliveries_.push([this, m = std::move(msg)] {
                    if (handlers_.on_unknown) handlers_.on_unknown(m);
                });
            }
        },
        *decoded);
}

void ClientCore::on_api_start(ApiStartEvent&& e) {
    if (e.ivrid.empty()) {
        drop("api_start without ivrid", LogLevel::warn);
        return;
    }
    // Without eventts a repeat cannot be told from a re-offer by its fields: an offer
    // still open (or a session held) makes it a repeat.
    if (dedupe_.seen("api_start", e.ivrid, e.eventts, e.componentid) || (!e.eventts && dedupe_.offer_open(e.ivrid))) {
        status_.duplicates.fetch_add(1, std::memory_order_relaxed);
        drop("duplicate api_start for " + e.ivrid);
        return;
    }
    if (sessions_.count(e.ivrid)) {
        drop("api_start for " + e.ivrid + " which this client already holds");
        return;
    }
    // The script may reach an API component again after an earlier control ended.
    dedupe_.reoffered(e.ivrid);
    dedupe_.offer_opened(e.ivrid);
    status_.offers.fetch_add(1, std::memory_order_relaxed);
    if (!claiming_) {
        drop("offer " + e.ivrid + ": draining, no new claims", LogLevel::info);
        return;
    }
    if (!handlers_.on_offer) {
        drop("offer " + e.ivrid + " without an on_offer handler");
        return;
    }
    deliveries_.push([this, offer = Offer(link_handle_, std::make_shared<const ApiStartEvent>(std::move(e)))] {
        if (handlers_.on_offer) handlers_.on_offer(offer);
    });
}

void ClientCore::on_api_stop(ApiStopEvent&& e) {
    if (dedupe_.seen("api_stop", e.ivrid, e.eventts, e.componentid)) {
        status_.duplicates.fetch_add(1, std::memory_order_relaxed);
        drop("duplicate api_stop for " + e.ivrid);
        return;
    }
    dedupe_.ended(e.ivrid);
    auto it = sessions_.find(e.ivrid);
    std::shared_ptr<SessionState> s = it == sessions_.end() ? nullptr : it->second;
    if (handlers_.on_api_stop) {
        deliveries_.push([this, ev = e] {
            if (handlers_.on_api_stop) handlers_.on_api_stop(ev);
        });
    }
    if (!s) {
        log(LogLevel::debug, "api_stop for " + e.ivrid + " (not ours)");
        return;
    }
    SessionEnd end;
    end.reason = e.reason;
    end.reason_text = e.reason_text;
    const std::string why = "session " + e.ivrid + " ended (api_stop, reason " +
                            (e.reason_text.empty() ? std::string("unknown") : e.reason_text) + ")";
    end.event = std::move(e);
    end_session(s, std::move(end), Error(Errc::session_ended, why));
}

void ClientCore::on_stopped(ComponentStopped&& e) {
    const bool names_session = e.ivrid && !e.ivrid->empty();
    std::shared_ptr<SessionState> s;
    if (names_session) {
        auto it = sessions_.find(*e.ivrid);
        if (it != sessions_.end()) s = it->second;
        if (!s) {
            auto late = ending_.find(*e.ivrid);
            if (late != ending_.end()) s = late->second.lock();
        }
    } else if (e.oid) {
        s = components_.find(*e.oid);
    }
    if (s && s->probe && e.oid && *e.oid == s->probe->oid) {
        // The probe ran: the session was idle, so the component it asked about is gone.
        end_probe(s, true, "the platform ran the probe: nothing was running");
        return;
    }
    if (!s && !e.oid && !names_session) {
        // Neither ivrid nor oId (a platform that does not echo the oId we set): the
        // only running component here is the one that stopped.
        s = components_.only();
    }
    if (!s) {
        drop("ivrapi_component_stopped for " + (e.ivrid ? *e.ivrid : "oId " + std::to_string(e.oid.value_or(-1))) +
             ": no such session or component here");
        return;
    }
    if (!s->running) {
        drop("ivrapi_component_stopped for " + s->offer.ivrid() + ": no component runs there");
        return;
    }
    if (e.oid && *e.oid != s->running->oid) {
        if (!names_session) {
            drop("ivrapi_component_stopped for oId " + std::to_string(*e.oid) + ": not the running component");
            return;
        }
        // The event names the session but not our oId (the spec's own example carries
        // "oId": 0): one component runs at a time, so it is the one that stopped.
        log(LogLevel::debug, "ivrapi_component_stopped for " + s->offer.ivrid() + " with oId " +
                                 std::to_string(*e.oid) + " (ours is " + std::to_string(s->running->oid) +
                                 "): completing the running component");
    }
    e.oid = s->running->oid;
    complete_component(*s, std::move(e));
    if (s->phase == SessionPhase::ended) ending_.erase(s->offer.ivrid());
}

void ClientCore::on_dtmf(DtmfEvent&& e) {
    std::shared_ptr<SessionState> s;
    if (!e.ivrid.empty()) {
        auto it = sessions_.find(e.ivrid);
        if (it != sessions_.end()) s = it->second;
    } else if (e.oid) {
        s = components_.find(*e.oid);
    }
    if (!s) {
        drop("ivrapi_dtmf for " + (e.ivrid.empty() ? "an unknown session" : e.ivrid));
        return;
    }
    if (s->on_dtmf) {
        // `s` keeps the session's state alive while its callback runs. Its handler itself
        // stays: what a callback asks of the session becomes a request (run at once on
        // this thread), and none ends the session (or clears on_dtmf) inside the call.
        deliveries_.push_last(
            [](const std::shared_ptr<SessionState>& st, const DtmfEvent& ev) {
                if (st->on_dtmf) st->on_dtmf(ev);
            },
            std::move(s), std::move(e));
        return;
    }
    if (s->dtmf_backlog.size() >= kDtmfBacklog) {
        s->dtmf_backlog.erase(s->dtmf_backlog.begin());
        status_.dropped.fetch_add(1, std::memory_order_relaxed);
    }
    s->dtmf_backlog.push_back(std::move(e));
}

void ClientCore::drop(const std::string& why, LogLevel level) {
    status_.dropped.fetch_add(1, std::memory_order_relaxed);
    log(level, "dropped: " + why);
}

}  // namespace ivrapi::detail
