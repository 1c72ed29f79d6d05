#include "client/client_core.hpp"

#include <algorithm>
#include <cmath>

namespace ivrapi::detail {
namespace {

constexpr std::size_t kDedupeWindow = 4096;
constexpr std::size_t kDtmfBacklog = 64;
using std::chrono::milliseconds;

std::string hex_id(std::mt19937_64& rng) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    auto v = rng();
    for (int i = 0; i < 12; ++i, v >>= 4) out += digits[v & 15];
    return out;
}

// Remembers the last kDedupeWindow keys; true when `key` was already there.
template <typename Key>
bool remember(std::unordered_set<Key>& set, std::deque<Key>& order, const Key& key) {
    if (!set.insert(key).second) return true;
    order.push_back(key);
    if (order.size() > kDedupeWindow) {
        set.erase(order.front());
        order.pop_front();
    }
    return false;
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

}  // namespace

ClientCore::ClientCore(const ClientOptions& options, Loop& loop, Transport& transport,
                       std::shared_ptr<ClientLink> link, SharedStatus& status, LogFn log)
    : options_(options),
      loop_(loop),
      transport_(transport),
      link_(std::move(link)),
      status_(status),
      log_(std::move(log)),
      rng_(std::random_device{}()) {
    subscription_id_ = "ivrapi-cpp-" + hex_id(rng_);
}

ClientCore::~ClientCore() = default;

// ---------------------------------------------------------------- link life cycle

void ClientCore::start() {
    if (started_ || stopped_) return;
    started_ = true;
    connect();
}

void ClientCore::connect() {
    if (stopped_) return;
    reconnect_timer_ = 0;
    set_state(ConnectionState::connecting);
    const std::uint64_t generation = ++generation_;
    TransportHandlers h;
    h.on_open = [this, generation] { on_open(generation); };
    h.on_message = [this, generation](std::string&& frame) {
        if (generation == generation_) on_frame(std::move(frame));
    };
    h.on_close = [this, generation](const Error& why) { on_close(generation, why); };
    transport_.connect(std::move(h));
}

void ClientCore::on_open(std::uint64_t generation) {
    if (generation != generation_ || stopped_) return;
    link_up_ = true;
    attempt_ = 0;
    set_state(ConnectionState::connected);
    if (options_.tls.danger_accept_invalid_certificates) {
        log(LogLevel::warn, "TLS certificate verification is DISABLED (danger_accept_invalid_certificates)");
    }

    send_request(protocol::kConnectionInfo, protocol::encode_connection_info, nullptr,
                 options_.request_timeout, [this](Result<protocol::Reply> r) {
                     if (!r || !r->success) {
                         log(LogLevel::warn, "connection_info failed: " +
                                                 (r ? r->error.message : r.error().message));
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
    if (options_.events.empty()) {
        set_state(ConnectionState::ready);
    } else {
        subscribe();
    }

    // Requests made while connecting.
    std::vector<std::uint64_t> queued;
    for (const auto& [id, q] : waiting_link_) queued.push_back(id);
    std::sort(queued.begin(), queued.end());
    for (auto id : queued) {
        Queued q = std::move(waiting_link_.at(id));
        waiting_link_.erase(id);
        loop_.cancel(q.timer);
        send_request(q.name, q.frame_for, nullptr, q.timeout, std::move(q.done));
    }

    // Re-claim every session we still control (a copy: a failure ends a session, which
    // erases it from sessions_).
    std::vector<std::shared_ptr<SessionState>> detached;
    for (auto& [ivrid, s] : sessions_) {
        if (s->phase == SessionState::Phase::detached) detached.push_back(s);
    }
    for (auto& s : detached) {
        std::weak_ptr<SessionState> weak = s;
        const protocol::SessionRef ref{s->info->key, s->info->ivrid};
        send_request(
            protocol::kReaccept,
            [ref](protocol::Qid q) { return protocol::encode_session_request(protocol::kReaccept, q, ref); },
            s, options_.request_timeout, [this, weak](Result<protocol::Reply> r) {
                auto st = weak.lock();
                if (!st || st->phase == SessionState::Phase::ended) return;
                if (r && r->success) {
                    log(LogLevel::info, "session " + st->info->ivrid + " re-claimed after reconnect");
                    became_controlling(st);
                    return;
                }
                if (!r && (r.error().is(Errc::connection_lost) || r.error().is(Errc::stopped))) return;
                const Error why = r ? r->error : r.error();
                log(LogLevel::warn, "reaccept of " + st->info->ivrid + " failed: " + why.message);
                SessionEnd end;
                end.reason_text = "reaccept failed: " + why.message;
                end_session(st, std::move(end), Error(Errc::session_ended, end.reason_text, why.raw_reply));
            });
    }
}

void ClientCore::on_close(std::uint64_t generation, const Error& why) {
    if (generation != generation_) return;
    ++generation_;  // late frames of this link are ignored
    const bool was_up = link_up_;
    link_up_ = false;
    if (renew_timer_) loop_.cancel(std::exchange(renew_timer_, 0));

    // Requests in flight fail; a running component stays pending (its stopped event
    // can still come after the session is re-claimed).
    std::vector<protocol::Qid> qids;
    qids.reserve(pending_.size());
    for (const auto& [qid, p] : pending_) qids.push_back(qid);
    std::sort(qids.begin(), qids.end());
    const Error lost(Errc::connection_lost, "connection lost: " + why.message);
    for (auto qid : qids) fail_pending(qid, lost);
    for (auto& [ivrid, s] : sessions_) {
        if (s->phase == SessionState::Phase::controlling) s->phase = SessionState::Phase::detached;
    }
    if (stopped_) return;
    log(was_up ? LogLevel::warn : LogLevel::info,
        std::string(was_up ? "connection lost: " : "connect failed: ") + why.message);
    schedule_reconnect(why);
}

void ClientCore::schedule_reconnect(const Error& why) {
    if (!options_.reconnect.enabled) {
        set_state(ConnectionState::stopped, why);
        return;
    }
    const double base = static_cast<double>(options_.reconnect.initial_delay.count()) *
                        std::pow(2.0, std::min(attempt_, 20u));
    double delay = std::min(base, static_cast<double>(options_.reconnect.max_delay.count()));
    const double j = std::clamp(options_.reconnect.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> spread(1.0 - j, 1.0 + j);
    delay *= spread(rng_);
    ++attempt_;
    status_.reconnects.fetch_add(1, std::memory_order_relaxed);
    set_state(ConnectionState::reconnecting, why);
    reconnect_timer_ = loop_.schedule(milliseconds(static_cast<long long>(delay)), [this] { connect(); });
}

void ClientCore::set_state(ConnectionState s, const Error& reason) {
    status_.state.store(s);
    {
        // Waiters check the state under this mutex: taking it here means none of them
        // can miss the notification between its check and its wait.
        std::lock_guard<std::mutex> lock(status_.mutex);
    }
    status_.state_cv.notify_all();
    if (handlers_.on_state) handlers_.on_state(s, reason);
}

void ClientCore::subscribe() {
    const auto expires = static_cast<std::int64_t>(options_.subscription_lifetime.count());
    const std::string id = subscription_id_;
    const auto events = options_.events;
    send_request(
        protocol::kSubscribe,
        [id, events, expires](protocol::Qid q) { return protocol::encode_subscribe(q, id, events, expires); },
        nullptr, options_.request_timeout, [this](Result<protocol::Reply> r) {
            if (!r && (r.error().is(Errc::connection_lost) || r.error().is(Errc::stopped))) return;
            if (!r || !r->success) {
                const Error e = r ? r->error : r.error();
                log(LogLevel::error, "subscribe failed: " + e.message + "; retrying in 5 s");
                renew_timer_ = loop_.schedule(milliseconds(5000), [this] {
                    renew_timer_ = 0;
                    subscribe();
                });
                return;
            }
            set_state(ConnectionState::ready);
            const auto lifetime = std::chrono::duration_cast<milliseconds>(options_.subscription_lifetime);
            renew_timer_ = loop_.schedule(lifetime * 8 / 10, [this] {
                renew_timer_ = 0;
                renew_subscription();
            });
        });
}

void ClientCore::renew_subscription() {
    const auto expires = static_cast<std::int64_t>(options_.subscription_lifetime.count());
    const std::string id = subscription_id_;
    send_request(
        protocol::kSubscribe,
        [id, expires](protocol::Qid q) { return protocol::encode_subscribe_renew(q, id, expires); },
        nullptr, options_.request_timeout, [this](Result<protocol::Reply> r) {
            if (!r && (r.error().is(Errc::connection_lost) || r.error().is(Errc::stopped))) return;
            if (!r || !r->success) {
                // The subscription may be gone: create it again (same id).
                log(LogLevel::warn, "subscription renewal failed: " +
                                        (r ? r->error.message : r.error().message) + "; subscribing again");
                subscribe();
                return;
            }
            const auto lifetime = std::chrono::duration_cast<milliseconds>(options_.subscription_lifetime);
            renew_timer_ = loop_.schedule(lifetime * 8 / 10, [this] {
                renew_timer_ = 0;
                renew_subscription();
            });
        });
}

void ClientCore::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (reconnect_timer_) loop_.cancel(std::exchange(reconnect_timer_, 0));
    if (renew_timer_) loop_.cancel(std::exchange(renew_timer_, 0));
    if (deadline_timer_) loop_.cancel(std::exchange(deadline_timer_, 0));
    const Error stopped(Errc::stopped, "the client was stopped");
    std::vector<protocol::Qid> qids;
    for (const auto& [qid, p] : pending_) qids.push_back(qid);
    for (auto qid : qids) fail_pending(qid, stopped);
    auto queued = std::move(waiting_link_);
    waiting_link_.clear();
    for (auto& [id, q] : queued) {
        loop_.cancel(q.timer);
        q.done(stopped);
    }
    auto sessions = sessions_;
    for (auto& [ivrid, s] : sessions) {
        SessionEnd end;
        end.reason_text = "client stopped";
        end_session(s, std::move(end), stopped);
    }
    ++generation_;
    link_up_ = false;
    transport_.shutdown();
    set_state(ConnectionState::stopped);
    handlers_ = CoreHandlers{};
}

// ---------------------------------------------------------------- requests

void ClientCore::send_request(std::string_view name,
                              const std::function<std::string(protocol::Qid)>& frame_for,
                              const std::shared_ptr<SessionState>& session, milliseconds timeout,
                              ReplyDone done) {
    if (stopped_) {
        done(Error(Errc::stopped, "the client was stopped"));
        return;
    }
    if (!link_up_) {
        if (!started_ || session) {
            done(Error(Errc::not_connected, std::string(name) + " not sent: the client is " +
                                                (started_ ? "reconnecting" : "not started")));
            return;
        }
        // Connecting: hold it until the link is up (bounded by its timeout).
        const std::uint64_t id = next_queued_++;
        Queued q{std::string(name), frame_for, timeout, std::move(done), 0};
        const auto wait = timeout.count() > 0 ? timeout : options_.request_timeout;
        q.timer = loop_.schedule(wait, [this, id, wait] {
            auto it = waiting_link_.find(id);
            if (it == waiting_link_.end()) return;
            Queued late = std::move(it->second);
            waiting_link_.erase(it);
            status_.request_timeouts.fetch_add(1, std::memory_order_relaxed);
            late.done(Error(Errc::timeout, late.name + " not sent: no connection within " +
                                               std::to_string(wait.count()) + " ms"));
        });
        waiting_link_.emplace(id, std::move(q));
        return;
    }
    const protocol::Qid qid = next_qid_++;
    if (!transport_.send(frame_for(qid))) {
        done(Error(Errc::not_connected, std::string(name) + " not sent: the link is closing"));
        return;
    }
    status_.messages_out.fetch_add(1, std::memory_order_relaxed);
    Pending p;
    p.name = std::string(name);
    p.session = session;
    p.done = std::move(done);
    p.sent = loop_.now();
    if (timeout.count() > 0) {
        p.timer = loop_.schedule(timeout, [this, qid, timeout] {
            auto it = pending_.find(qid);
            if (it == pending_.end()) return;
            it->second.timer = 0;
            status_.request_timeouts.fetch_add(1, std::memory_order_relaxed);
            fail_pending(qid, Error(Errc::timeout, "no reply to " + it->second.name + " within " +
                                                       std::to_string(timeout.count()) + " ms"));
        });
    }
    if (session) session->requests.push_back(qid);
    pending_.emplace(qid, std::move(p));
}

void ClientCore::fail_pending(protocol::Qid qid, const Error& e) {
    auto it = pending_.find(qid);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.timer) loop_.cancel(p.timer);
    if (auto s = p.session.lock()) {
        auto& r = s->requests;
        r.erase(std::remove(r.begin(), r.end(), qid), r.end());
    }
    p.done(e);
}

void ClientCore::on_reply(protocol::Reply&& reply) {
    using State = protocol::QidField::State;
    if (reply.qid.state != State::valid) {
        drop(reply.request + "_result with " +
                 (reply.qid.state == State::absent ? std::string("no qid") : "qid " + reply.qid.text + " we never send"),
             LogLevel::warn);
        return;
    }
    auto it = pending_.find(reply.qid.value);
    if (it == pending_.end()) {
        drop(reply.request + "_result for qid " + reply.qid.text + " that is not pending (late or duplicate)");
        return;
    }
    if (it->second.name != reply.request) {
        drop(reply.request + "_result carries the qid of a pending " + it->second.name + " request",
             LogLevel::warn);
        return;
    }
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.timer) loop_.cancel(p.timer);
    if (auto s = p.session.lock()) {
        auto& r = s->requests;
        r.erase(std::remove(r.begin(), r.end(), reply.qid.value), r.end());
    }
    const auto us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(loop_.now() - p.sent).count());
    status_.requests.fetch_add(1, std::memory_order_relaxed);
    status_.latency_sum_us.fetch_add(us, std::memory_order_relaxed);
    if (us > status_.latency_max_us.load(std::memory_order_relaxed)) status_.latency_max_us.store(us);
    p.done(std::move(reply));
}

std::optional<Error> ClientCore::check_usable(const SessionState& s) const {
    if (stopped_) return Error(Errc::stopped, "the client was stopped");
    switch (s.phase) {
    case SessionState::Phase::ended:
        return Error(Errc::session_ended, "session " + s.info->ivrid + " has ended");
    case SessionState::Phase::detached:
        return Error(Errc::not_connected, "session " + s.info->ivrid + " is waiting for the link to come back");
    case SessionState::Phase::accepting:
        return Error(Errc::invalid_argument, "session " + s.info->ivrid + " is not accepted yet");
    case SessionState::Phase::controlling: break;
    }
    return std::nullopt;
}

void ClientCore::value_request(const std::shared_ptr<SessionState>& s, std::string_view name,
                               const std::function<std::string(protocol::Qid)>& frame_for,
                               Callback<std::string> done) {
    if (s) {
        if (auto e = check_usable(*s)) {
            done(*e);
            return;
        }
    }
    send_request(name, frame_for, s, options_.request_timeout, [done = std::move(done)](Result<protocol::Reply> r) {
        if (auto e = failure_of(r)) done(*e);
        else done(std::move(r->value));
    });
}

// ---------------------------------------------------------------- session operations

void ClientCore::accept(const std::shared_ptr<const ApiStartEvent>& info, Callback<Session> done) {
    if (stopped_) {
        done(Error(Errc::stopped, "the client was stopped"));
        return;
    }
    if (ended_.count(info->ivrid)) {
        done(Error(Errc::session_ended, "the offer of " + info->ivrid + " ended before accept"));
        return;
    }
    if (sessions_.count(info->ivrid)) {
        done(Error(Errc::invalid_argument, "session " + info->ivrid + " is already accepted (or being accepted) by this client"));
        return;
    }
    auto s = std::make_shared<SessionState>(info, link_);
    sessions_.emplace(info->ivrid, s);
    s->defer().accept = std::move(done);
    const protocol::SessionRef ref{info->key, info->ivrid};
    send_request(
        protocol::kAccept, [ref](protocol::Qid q) { return protocol::encode_session_request(protocol::kAccept, q, ref); },
        s, options_.request_timeout, [this, s](Result<protocol::Reply> r) {
            if (!s->deferred || !s->deferred->accept) return;
            if (s->phase == SessionState::Phase::ended) {
                s->take(&SessionState::Deferred::accept)(
                    r && !r->success ? r->error : Error(Errc::session_ended, "the offer ended before the accept completed"));
                return;
            }
            if (!r && r.error().is(Errc::connection_lost)) {
                // Granted or not, we cannot tell: re-claim it on reconnect (reaccept).
                s->phase = SessionState::Phase::detached;
                return;
            }
            if (auto e = failure_of(r)) {
                sessions_.erase(s->info->ivrid);
                s->phase = SessionState::Phase::ended;
                s->ended = true;
                s->take(&SessionState::Deferred::accept)(*e);
                return;
            }
            became_controlling(s);
        });
}

void ClientCore::became_controlling(const std::shared_ptr<SessionState>& s) {
    s->phase = SessionState::Phase::controlling;
    if (!s->counted_active) {
        s->counted_active = true;
        status_.active_sessions.fetch_add(1, std::memory_order_relaxed);
    }
    if (auto accepted = s->take(&SessionState::Deferred::accept)) accepted(make_session(s));
    if (auto abort_now = s->take(&SessionState::Deferred::abort); abort_now && s->phase == SessionState::Phase::controlling) {
        abort(s, std::move(abort_now));
    }
}

void ClientCore::apply(const std::shared_ptr<SessionState>& s, const Component& c,
                       Callback<ComponentStopped> done) {
    if (!c.valid()) {
        done(Error(Errc::invalid_argument, c.error()));
        return;
    }
    if (s->phase != SessionState::Phase::ended && s->running) {
        done(Error(Errc::component_busy, "component oId " + std::to_string(s->running->oid) +
                                             " is still running in " + s->info->ivrid +
                                             "; wait for it or terminate() it"));
        return;
    }
    if (auto e = check_usable(*s)) {
        done(*e);
        return;
    }
    const std::int64_t oid = next_oid_++;
    const protocol::SessionRef ref{s->info->key, s->info->ivrid};
    const Json data = c.data();
    protocol::Qid qid = 0;
    bool sent = false;
    std::weak_ptr<SessionState> weak = s;
    send_request(
        protocol::kApply,
        [&](protocol::Qid q) {
            qid = q;
            sent = true;
            return protocol::encode_component_apply(q, ref, data, oid);
        },
        s, milliseconds(0), [this, weak, oid](Result<protocol::Reply> r) {
            auto st = weak.lock();
            if (!st || !st->running || st->running->oid != oid) return;  // already completed
            st->running->apply_qid = 0;
            if (r && r->success) return;  // acknowledged; the stopped event completes it
            if (!r && r.error().is(Errc::connection_lost)) {
                log(LogLevel::info, "link lost while component oId " + std::to_string(oid) +
                                        " runs; waiting for its stopped event after reaccept");
                return;
            }
            complete_component(*st, r ? r->error : r.error());
        });
    if (!sent || pending_.count(qid) == 0) {
        // send_request already failed `done`'s twin; report through the caller's callback.
        done(Error(Errc::not_connected, "ivrapi_component_apply not sent: the client is not connected"));
        return;
    }
    SessionState::Running run;
    run.oid = oid;
    run.apply_qid = qid;
    run.done = std::move(done);
    run.deadline = loop_.now() + options_.component_timeout;
    deadlines_.emplace(run.deadline, oid);
    s->running = std::move(run);
    by_oid_[oid] = s;
    arm_deadline_timer();
}

void ClientCore::arm_deadline_timer() {
    if (deadlines_.empty()) return;  // a pending timer finds nothing and stays off
    const auto earliest = deadlines_.begin()->first;
    if (deadline_timer_ && deadline_armed_for_ <= earliest) return;
    if (deadline_timer_) loop_.cancel(deadline_timer_);
    deadline_armed_for_ = earliest;
    const auto delay = std::chrono::duration_cast<milliseconds>(earliest - loop_.now()) + milliseconds(1);
    deadline_timer_ = loop_.schedule(std::max(delay, milliseconds(1)), [this] {
        deadline_timer_ = 0;
        expire_components();
    });
}

void ClientCore::expire_components() {
    const auto now = loop_.now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const std::int64_t oid = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = by_oid_.find(oid);
        auto st = it == by_oid_.end() ? nullptr : it->second.lock();
        if (!st || !st->running || st->running->oid != oid) continue;
        complete_component(*st, Error(Errc::timeout, "component oId " + std::to_string(oid) +
                                                         " did not stop within component_timeout"));
    }
    arm_deadline_timer();
}

void ClientCore::complete_component(SessionState& s, Result<ComponentStopped> r) {
    if (!s.running) return;
    SessionState::Running run = std::move(*s.running);
    s.running.reset();
    by_oid_.erase(run.oid);
    deadlines_.erase({run.deadline, run.oid});
    if (run.grace) loop_.cancel(run.grace);
    if (run.apply_qid) {
        // The ack may still come: forget the request quietly.
        auto it = pending_.find(run.apply_qid);
        if (it != pending_.end()) {
            if (it->second.timer) loop_.cancel(it->second.timer);
            pending_.erase(it);
            s.requests.erase(std::remove(s.requests.begin(), s.requests.end(), run.apply_qid), s.requests.end());
        }
    }
    if (run.done) run.done(std::move(r));
}

void ClientCore::terminate(const std::shared_ptr<SessionState>& s, Callback<void> done) {
    if (auto e = check_usable(*s)) {
        done(*e);
        return;
    }
    const protocol::SessionRef ref{s->info->key, s->info->ivrid};
    const std::optional<std::int64_t> oid = s->running ? std::optional<std::int64_t>(s->running->oid) : std::nullopt;
    std::weak_ptr<SessionState> weak = s;
    send_request(
        protocol::kTerminate,
        [ref](protocol::Qid q) { return protocol::encode_session_request(protocol::kTerminate, q, ref); }, s,
        options_.request_timeout, [this, weak, oid, done = std::move(done)](Result<protocol::Reply> r) {
            if (auto e = failure_of(r)) {
                done(*e);
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
                    complete_component(*s2, Error(Errc::cancelled, "component oId " + std::to_string(id) +
                                                                      " was terminated and no stopped event followed"));
                });
            }
            done(Result<void>());
        });
}

void ClientCore::abort(const std::shared_ptr<SessionState>& s, Callback<void> done) {
    if (s->phase == SessionState::Phase::detached && !stopped_) {
        // Sent once the session is re-claimed; otherwise it would stay ours unattended.
        if (auto previous = s->take(&SessionState::Deferred::abort)) {
            s->defer().abort = [previous, done](Result<void> r) {
                previous(r);
                done(r);
            };
        } else {
            s->defer().abort = std::move(done);
        }
        return;
    }
    if (auto e = check_usable(*s)) {
        done(*e);
        return;
    }
    const protocol::SessionRef ref{s->info->key, s->info->ivrid};
    std::weak_ptr<SessionState> weak = s;
    send_request(
        protocol::kAbort, [ref](protocol::Qid q) { return protocol::encode_session_request(protocol::kAbort, q, ref); },
        s, options_.request_timeout, [this, weak, done = std::move(done)](Result<protocol::Reply> r) {
            // api_stop(abort) overtaking the reply means the abort worked.
            if (!r && r.error().is(Errc::session_ended)) {
                done(Result<void>());
                return;
            }
            if (auto e = failure_of(r)) {
                done(*e);
                return;
            }
            if (auto st = weak.lock(); st && st->phase != SessionState::Phase::ended) {
                SessionEnd end;
                end.reason = StopReason::abort;
                end.reason_text = "abort";
                end_session(st, std::move(end), Error(Errc::session_ended, "control was handed back (abort)"));
            }
            done(Result<void>());
        });
}

void ClientCore::file_get_path(const std::shared_ptr<SessionState>& s, const std::string& path,
                               Callback<FileLink> done) {
    const protocol::SessionRef ref{s->info->key, s->info->ivrid};
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
    const protocol::SessionRef ref{s->info->key, s->info->ivrid};
    value_request(s, protocol::kFileUploadTemp,
                  [ref, url](protocol::Qid q) { return protocol::encode_file_upload_temp(q, ref, url); },
                  std::move(done));
}

void ClientCore::upload_static(const std::shared_ptr<SessionState>& s, const std::string& url,
                               const std::string& destpath, Callback<std::string> done) {
    const protocol::SessionRef ref{s->info->key, s->info->ivrid};
    value_request(s, protocol::kFileUploadStatic,
                  [ref, url, destpath](protocol::Qid q) {
                      return protocol::encode_file_upload_static(q, ref, url, destpath);
                  },
                  std::move(done));
}

void ClientCore::upload_static(const std::string& url, const std::string& destpath, Callback<std::string> done) {
    value_request(nullptr, protocol::kSessionlessUploadStatic,
                  [url, destpath](protocol::Qid q) {
                      return protocol::encode_sessionless_upload_static(q, url, destpath);
                  },
                  std::move(done));
}

void ClientCore::request(const std::string& name, const Json& body, Callback<Json> done) {
    if (name.empty() || (!body.is_object() && !body.is_null())) {
        done(Error(Errc::invalid_argument, "request needs a name and an object body"));
        return;
    }
    send_request(name, [name, body](protocol::Qid q) { return protocol::encode_request(name, q, body); },
                 nullptr, options_.request_timeout, [done = std::move(done)](Result<protocol::Reply> r) {
                     if (auto e = failure_of(r)) done(*e);
                     else done(std::move(r->body));
                 });
}

void ClientCore::set_dtmf_handler(const std::shared_ptr<SessionState>& s,
                                  std::function<void(const DtmfEvent&)> h) {
    s->on_dtmf = std::move(h);
    if (!s->on_dtmf) return;
    auto backlog = std::move(s->dtmf_backlog);
    s->dtmf_backlog.clear();
    for (const auto& e : backlog) s->on_dtmf(e);
}

void ClientCore::set_end_handler(const std::shared_ptr<SessionState>& s,
                                 std::function<void(const SessionEnd&)> h) {
    if (s->phase == SessionState::Phase::ended) {
        if (h) h(s->final_end ? *s->final_end : SessionEnd{});
        return;
    }
    s->on_end = std::move(h);
}

// ---------------------------------------------------------------- inbound

void ClientCore::on_frame(std::string&& frame) {
    status_.messages_in.fetch_add(1, std::memory_order_relaxed);
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
        [this](auto&& msg) {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, protocol::Reply>) on_reply(std::move(msg));
            else if constexpr (std::is_same_v<T, ApiStartEvent>) on_api_start(std::move(msg));
            else if constexpr (std::is_same_v<T, ApiStopEvent>) on_api_stop(std::move(msg));
            else if constexpr (std::is_same_v<T, ComponentStopped>) on_stopped(std::move(msg));
            else if constexpr (std::is_same_v<T, DtmfEvent>) on_dtmf(std::move(msg));
            else if constexpr (std::is_same_v<T, NotifyEvent>) {
                if (handlers_.on_notify) handlers_.on_notify(msg);
                else drop("notify " + msg.event_class + "." + msg.type + " without a handler");
            } else {
                if (handlers_.on_unknown) handlers_.on_unknown(msg);
                else drop("message '" + msg.name + "' without a handler");
            }
        },
        std::move(*decoded));
}

bool ClientCore::is_duplicate(const SessionIdentity& id, std::string_view type) {
    std::string key(type);
    key += '|';
    key += id.ivrid;
    key += '|';
    key += std::to_string(id.eventts.value_or(-1));
    key += '|';
    key += std::to_string(id.componentid.value_or(-1));
    // A 64-bit hash of the key: ~30 bytes per remembered event instead of ~100.
    if (remember(seen_, seen_order_, static_cast<std::uint64_t>(std::hash<std::string>{}(key)))) {
        status_.duplicates.fetch_add(1, std::memory_order_relaxed);
        drop("duplicate " + std::string(type) + " for " + id.ivrid);
        return true;
    }
    return false;
}

void ClientCore::on_api_start(ApiStartEvent&& e) {
    if (e.ivrid.empty()) {
        drop("api_start without ivrid", LogLevel::warn);
        return;
    }
    if (is_duplicate(e, "api_start")) return;
    // The script may reach an API component again after an earlier control ended.
    ended_.erase(e.ivrid);
    if (sessions_.count(e.ivrid)) {
        drop("api_start for " + e.ivrid + " which this client already holds");
        return;
    }
    status_.offers.fetch_add(1, std::memory_order_relaxed);
    if (!handlers_.on_offer) {
        drop("offer " + e.ivrid + " without an on_offer handler");
        return;
    }
    handlers_.on_offer(Offer(link_, std::make_shared<const ApiStartEvent>(std::move(e))));
}

void ClientCore::on_api_stop(ApiStopEvent&& e) {
    if (is_duplicate(e, "api_stop")) return;
    remember(ended_, ended_order_, e.ivrid);
    if (handlers_.on_api_stop) handlers_.on_api_stop(e);
    auto it = sessions_.find(e.ivrid);
    if (it == sessions_.end()) {
        log(LogLevel::debug, "api_stop for " + e.ivrid + " (not ours)");
        return;
    }
    auto s = it->second;
    SessionEnd end;
    end.reason = e.reason;
    end.reason_text = e.reason_text;
    const std::string why = "session " + e.ivrid + " ended (api_stop, reason " +
                            (e.reason_text.empty() ? std::string("unknown") : e.reason_text) + ")";
    end.event = std::move(e);
    end_session(s, std::move(end), Error(Errc::session_ended, why));
}

void ClientCore::end_session(const std::shared_ptr<SessionState>& s, SessionEnd end, const Error& pending_error) {
    if (s->phase == SessionState::Phase::ended) return;
    s->phase = SessionState::Phase::ended;
    sessions_.erase(s->info->ivrid);
    remember(ended_, ended_order_, s->info->ivrid);
    if (std::exchange(s->counted_active, false)) status_.active_sessions.fetch_sub(1, std::memory_order_relaxed);

    // Mark ended before completing anything: a waiter woken by a completion must
    // already see Session::ended().
    {
        auto& signal = SessionEndSignal::instance();
        std::lock_guard<std::mutex> lock(signal.mutex);
        s->ended = true;
    }
    SessionEndSignal::instance().cv.notify_all();
    complete_component(*s, pending_error);
    auto requests = s->requests;
    for (auto qid : requests) fail_pending(qid, pending_error);
    s->dtmf_backlog.clear();
    s->on_dtmf = nullptr;
    if (auto accepted = s->take(&SessionState::Deferred::accept)) accepted(pending_error);
    if (auto aborted = s->take(&SessionState::Deferred::abort)) aborted(Result<void>());  // control is back anyway
    s->final_end = std::make_unique<const SessionEnd>(end);
    if (auto h = std::move(s->on_end)) {
        s->on_end = nullptr;
        h(end);
    }
}

std::shared_ptr<SessionState> ClientCore::route(const std::optional<std::string>& ivrid,
                                                const std::optional<std::int64_t>& oid) {
    if (ivrid && !ivrid->empty()) {
        auto it = sessions_.find(*ivrid);
        return it == sessions_.end() ? nullptr : it->second;
    }
    if (oid) {
        auto it = by_oid_.find(*oid);
        if (it != by_oid_.end()) return it->second.lock();
    }
    return nullptr;
}

void ClientCore::on_stopped(ComponentStopped&& e) {
    auto s = route(e.ivrid, e.oid);
    if (!s && !e.oid && !(e.ivrid && !e.ivrid->empty()) && by_oid_.size() == 1) {
        // Neither ivrid nor oId (a platform that does not echo the oId we set): the
        // only running component here is the one that stopped.
        s = by_oid_.begin()->second.lock();
        if (s && s->running) e.oid = s->running->oid;
    }
    if (!s) {
        drop("ivrapi_component_stopped for " + (e.ivrid ? *e.ivrid : "oId " + std::to_string(e.oid.value_or(-1))) +
             ": no such session or component here");
        return;
    }
    if (!s->running || (e.oid && *e.oid != s->running->oid)) {
        drop("ivrapi_component_stopped for oId " + std::to_string(e.oid.value_or(-1)) + " in " + s->info->ivrid +
             ": not the running component");
        return;
    }
    complete_component(*s, std::move(e));
}

void ClientCore::on_dtmf(DtmfEvent&& e) {
    std::optional<std::string> ivrid;
    if (!e.ivrid.empty()) ivrid = e.ivrid;
    auto s = route(ivrid, e.oid);
    if (!s) {
        drop("ivrapi_dtmf for " + (e.ivrid.empty() ? "an unknown session" : e.ivrid));
        return;
    }
    if (s->on_dtmf) {
        s->on_dtmf(e);
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
