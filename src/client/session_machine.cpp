// The session state machine: claiming (accept, reaccept), handing back (abort) and
// ending. docs/design.md has the table; tests/client/test_session_table.cpp walks it.
#include "client/client_core.hpp"

#include <algorithm>

namespace ivrapi::detail {

using std::chrono::milliseconds;

namespace {
constexpr std::uint8_t kMaxClaimAttempts = 3;  // unanswered reaccepts / aborts before giving up
}

void ClientCore::accept(const std::shared_ptr<const ApiStartEvent>& info, Callback<Session> done) {
    Entry entry(deliveries_);
    if (stopped_ || stopping_ || link_gone_ || !claiming_) {
        deliver<Session>(std::move(done), stopped_ || stopping_ ? Error(Errc::stopped, "the client was stopped")
                                          : link_gone_
                                              ? Error(Errc::not_connected, "the link is gone and reconnects are off")
                                              : Error(Errc::cancelled, "draining: no new claims"));
        return;
    }
    if (dedupe_.recently_ended(info->ivrid)) {
        deliver<Session>(std::move(done),
                         Error(Errc::session_ended, "the offer of " + info->ivrid + " ended before accept"));
        return;
    }
    if (sessions_.count(info->ivrid)) {
        deliver<Session>(std::move(done),
                         Error(Errc::invalid_argument,
                               "session " + info->ivrid + " is already accepted (or being accepted) by this client"));
        return;
    }
    auto s = std::allocate_shared<SessionState>(SessionAllocator<SessionState>(), *info, link_handle_);
    sessions_.emplace(s->offer.ivrid(), s);  // the key views the session's own ivrid
    dedupe_.offer_closed(info->ivrid);
    s->wait().accept = std::move(done);
    // One deadline for the caller, whatever happens to the link meanwhile.
    std::weak_ptr<SessionState> weak = s;
    accept_deadlines_[info->ivrid] = loop_.schedule(options_.request_timeout, [this, weak] {
        if (auto st = weak.lock()) on_accept_deadline(st);
    });
    if (link_.up()) {
        send_claim(s, protocol::kAccept);
    } else {
        set_phase(*s, SessionPhase::accept_unknown);  // sent once the link is up
    }
}

void ClientCore::take_over(const std::shared_ptr<const ApiStartEvent>& info, Callback<Session> done) {
    Entry entry(deliveries_);
    if (stopped_ || stopping_ || link_gone_ || !claiming_) {
        deliver<Session>(std::move(done), Error(stopped_ || stopping_ ? Errc::stopped : Errc::cancelled,
                                                "no takeover: the client is stopping or draining"));
        return;
    }
    if (!link_.up()) {
        // Not held for the link: the caller (a coordinator) retries or lets another take it.
        deliver<Session>(std::move(done), Error(Errc::not_connected, "no takeover of " + info->ivrid + ": link down"));
        return;
    }
    // No recently_ended() check, unlike accept: a lost accept race marks the dialog ended
    // here too, and this replica may be the one to take that session over later. A
    // session that did end is refused by the platform.
    if (sessions_.count(info->ivrid)) {
        deliver<Session>(std::move(done),
                         Error(Errc::invalid_argument, "session " + info->ivrid + " is already this client's"));
        return;
    }
    auto s = std::allocate_shared<SessionState>(SessionAllocator<SessionState>(), *info, link_handle_);
    sessions_.emplace(s->offer.ivrid(), s);  // the key views the session's own ivrid
    dedupe_.offer_closed(info->ivrid);
    s->wait().accept = std::move(done);
    // From here it is the reconnect path: reclaiming -> controlled, retried when
    // unanswered, re-sent after a link drop; a refusal ends it (and fails `done`).
    set_phase(*s, SessionPhase::reclaiming);
    send_claim(s, protocol::kReaccept);
}

void ClientCore::send_claim(const std::shared_ptr<SessionState>& s, std::string_view name) {
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    std::weak_ptr<SessionState> weak = s;
    const std::string request(name);
    // The accept's deadline is the session's own (accept_deadlines_): a late grant must
    // still reach on_claim_reply to be handed back. Reaccept and abort use the table's.
    const milliseconds timeout = name == protocol::kAccept ? milliseconds(0) : options_.request_timeout;
    const protocol::Qid qid = requests_.send(
        name, [ref, request](protocol::Qid q) { return protocol::encode_session_request(request, q, ref); }, timeout,
        [this, weak, request](protocol::Qid q, Result<protocol::Reply>&& r) {
            if (auto st = weak.lock()) on_claim_reply(st, request, q, std::move(r));
        });
    if (qid == 0) return;  // the link is closing: on_link_down moves the session on
    s->claim_qid = qid;
    if (name == protocol::kAccept) set_phase(*s, SessionPhase::accepting);
    else if (name == protocol::kReaccept) set_phase(*s, SessionPhase::reclaiming);
    else set_phase(*s, SessionPhase::aborting);
}

void ClientCore::on_claim_reply(const std::shared_ptr<SessionState>& s, std::string_view name, protocol::Qid qid,
                                Result<protocol::Reply>&& r) {
    // Only the claim in flight counts: a link loss already moved the session on.
    if (s->phase == SessionPhase::ended || qid != s->claim_qid) return;
    s->claim_qid = 0;
    const std::string& ivrid = s->offer.ivrid();

    if (name == protocol::kAccept) {
        if (r && r->success) {
            became_controlled(s, false);
            return;
        }
        const Error why = r ? r->error : r.error();
        SessionEnd end;
        end.reason_text = "accept failed: " + why.message;
        if (!s->awaits_accept()) log(LogLevel::info, "late accept of " + ivrid + " failed: " + why.message);
        end_session(s, std::move(end), why);
        return;
    }

    if (name == protocol::kReaccept) {
        if (r && r->success) {
            s->attempts = 0;
            log(LogLevel::info,
                "session " + ivrid + (s->counted_active ? " re-claimed after reconnect" : " taken over"));
            became_controlled(s, true);
            return;
        }
        if (!r && r.error().is(Errc::timeout) && ++s->attempts < kMaxClaimAttempts) {
            // The platform may have granted it: ask again rather than walk away.
            log(LogLevel::warn, "reaccept of " + ivrid + " unanswered; asking again");
            send_claim(s, protocol::kReaccept);
            return;
        }
        const Error why = r ? r->error : r.error();
        log(LogLevel::warn, "reaccept of " + ivrid + " failed: " + why.message);
        SessionEnd end;
        end.reason_text = "reaccept failed: " + why.message;
        const Errc code = why.is(Errc::lost_race) ? Errc::lost_race : Errc::session_ended;
        Error error(code, end.reason_text, why.raw_reply);  // before `end` is moved from
        end_session(s, std::move(end), error);
        return;
    }

    // abort
    if (r && r->success) {
        if (stopping_) status_.handed_back.fetch_add(1, std::memory_order_relaxed);
        SessionEnd end;
        end.reason = StopReason::abort;
        end.reason_text = "abort";
        end_session(s, std::move(end), Error(Errc::session_ended, "control was handed back (abort)"));
        return;
    }
    if (!r && r.error().is(Errc::timeout) && ++s->attempts < kMaxClaimAttempts) {
        log(LogLevel::warn, "abort of " + ivrid + " unanswered; asking again");
        send_claim(s, protocol::kAbort);
        return;
    }
    // Refused: the session stays ours (the platform said no); callers learn why.
    s->attempts = 0;
    set_phase(*s, SessionPhase::controlled);
    const Error why = r ? r->error : r.error();
    for (auto& done : s->take_aborts()) deliver<void>(std::move(done), why);
    maybe_finish_stop();
}

void ClientCore::on_accept_deadline(const std::shared_ptr<SessionState>& s) {
    accept_deadlines_.erase(s->offer.ivrid());
    if (!s->awaits_accept()) return;
    if (s->phase != SessionPhase::accepting && s->phase != SessionPhase::accept_unknown) return;
    const bool unknown = s->phase == SessionPhase::accept_unknown;
    auto done = s->take_accept();
    // The platform may still grant it (or have granted it): whoever gets the grant now
    // hands it straight back, so no call sits with a controller nobody drives.
    s->wait().hand_back = true;
    deliver<Session>(std::move(done),
                     Error(unknown ? Errc::connection_lost : Errc::timeout,
                           unknown ? "no link to learn the outcome of the accept of " + s->offer.ivrid() + " within " +
                                         std::to_string(options_.request_timeout.count()) + " ms"
                                   : "no reply to ivrapi_accept within " +
                                         std::to_string(options_.request_timeout.count()) + " ms"));
    // Bound the wait for a late reply: then forget the offer.
    std::weak_ptr<SessionState> weak = s;
    accept_deadlines_[s->offer.ivrid()] = loop_.schedule(options_.request_timeout * 3, [this, weak] {
        auto st = weak.lock();
        if (!st) return;
        accept_deadlines_.erase(st->offer.ivrid());
        if (st->phase != SessionPhase::accepting && st->phase != SessionPhase::accept_unknown) return;
        requests_.forget(st->claim_qid);
        SessionEnd end;
        end.reason_text = "accept unanswered";
        end_session(st, std::move(end), Error(Errc::timeout, "accept unanswered"));
    });
}

void ClientCore::set_phase(SessionState& s, SessionPhase p) {
    s.phase = p;
    const bool controlled = p == SessionPhase::controlled;
    if (s.controlled.load(std::memory_order_relaxed) == controlled) return;
    {
        auto& signal = SessionEndSignal::instance();
        std::lock_guard<std::mutex> lock(signal.mutex);
        s.controlled = controlled;
    }
    SessionEndSignal::instance().cv.notify_all();
}

void ClientCore::became_controlled(const std::shared_ptr<SessionState>& s, bool after_reclaim) {
    set_phase(*s, SessionPhase::controlled);
    if (auto it = accept_deadlines_.find(s->offer.ivrid()); it != accept_deadlines_.end()) {
        loop_.cancel(it->second);
        accept_deadlines_.erase(it);
    }
    if (!s->counted_active) {
        s->counted_active = true;
        status_.active_sessions.fetch_add(1, std::memory_order_relaxed);
    }
    if (auto done = s->take_accept()) deliver<Session>(std::move(done), make_session(s));
    if (s->wants_hand_back()) {
        if (s->waiters && s->waiters->abort.empty()) {
            log(LogLevel::info,
                "session " + s->offer.ivrid() + " granted after its accept was given up: handing it back");
        }
        fail_held(*s, Error(Errc::session_ended, "session " + s->offer.ivrid() + " is being handed back (abort)"));
        hand_back(s);
        return;
    }
    if (after_reclaim && s->running && !s->probe) start_probe(s);
    release_held(s);
}

void ClientCore::start_probe(const std::shared_ptr<SessionState>& s) {
    auto probe = std::make_unique<SessionState::Probe>();
    probe->oid = components_.next_oid();
    probe->for_oid = s->running->oid;
    const protocol::SessionRef ref{s->offer.key(), s->offer.ivrid()};
    const std::int64_t oid = probe->oid;
    Pause pause;  // 0 ms: inaudible if it runs
    const Json data = pause.data();
    std::weak_ptr<SessionState> weak = s;
    const auto qid = requests_.send(
        protocol::kApply,
        [ref, data, oid](protocol::Qid q) { return protocol::encode_component_apply(q, ref, data, oid); },
        milliseconds(0),
        [this, weak, oid](protocol::Qid, Result<protocol::Reply>&& r) {
            auto st = weak.lock();
            if (!st || !st->probe || st->probe->oid != oid) return;
            if (r && r->success) return;  // it runs: its stopped event ends the probe
            if (!r) return;               // the link went: on_link_down dropped the probe
            // Refused: the platform is busy with our component, whose stopped event will
            // come on this link.
            end_probe(st, false, "the platform refused the probe: the component still runs");
        });
    if (qid == 0) return;
    probe->timer = loop_.schedule(options_.component_probe_timeout, [this, weak, oid] {
        auto st = weak.lock();
        if (!st || !st->probe || st->probe->oid != oid) return;
        st->probe->timer = 0;
        end_probe(st, true, "no answer to the probe within component_probe_timeout");
    });
    components_.index(oid, s);
    log(LogLevel::info, "session " + s->offer.ivrid() + " re-claimed with component oId " +
                            std::to_string(probe->for_oid) + " running: probing whether the platform still runs it");
    s->probe = std::move(probe);
}

void ClientCore::end_probe(const std::shared_ptr<SessionState>& s, bool component_gone, const std::string& why) {
    auto probe = std::move(s->probe);
    if (!probe) return;
    if (probe->timer) loop_.cancel(probe->timer);
    components_.unindex(probe->oid);
    log(LogLevel::info, "session " + s->offer.ivrid() + ": " + why);
    if (component_gone && s->running && s->running->oid == probe->for_oid) {
        status_.components_lost.fetch_add(1, std::memory_order_relaxed);
        complete_component(
            *s, Error(Errc::component_lost, "component oId " + std::to_string(probe->for_oid) +
                                                " is no longer running on the platform after the re-claim (" + why +
                                                "): its result was lost with the link"));
    }
    if (probe->held_apply) {
        if (s->phase == SessionPhase::ended || stopping_) {
            probe->held_apply();  // fails with the session's state
        } else {
            loop_.post([held = std::move(probe->held_apply)] { held(); });
        }
    }
}

void ClientCore::hand_back(const std::shared_ptr<SessionState>& s) {
    s->attempts = 0;
    send_claim(s, protocol::kAbort);
}

void ClientCore::abort(const std::shared_ptr<SessionState>& s, Callback<void> done) {
    Entry entry(deliveries_);
    if (stopped_) {
        deliver<void>(std::move(done), Error(Errc::stopped, "the client was stopped"));
        return;
    }
    if (stopping_) {
        deliver<void>(std::move(done), Error(Errc::stopped, "the client is stopping (it hands sessions back itself)"));
        return;
    }
    switch (s->phase) {
        case SessionPhase::ended:
            deliver<void>(std::move(done), Error(Errc::session_ended, "session " + s->offer.ivrid() + " has ended"));
            return;
        case SessionPhase::accepting:
        case SessionPhase::accept_unknown:
            deliver<void>(std::move(done),
                          Error(Errc::invalid_argument, "session " + s->offer.ivrid() + " is not accepted yet"));
            return;
        case SessionPhase::aborting:
        case SessionPhase::detached:
        case SessionPhase::reclaiming:
            // Sent (again) once the session is re-claimed; the one in flight completes all.
            s->wait().abort.push_back(std::move(done));
            return;
        case SessionPhase::controlled:
            s->wait().abort.push_back(std::move(done));
            hand_back(s);
            return;
    }
}

void ClientCore::end_session(const std::shared_ptr<SessionState>& s, SessionEnd end, const Error& pending_error) {
    if (s->phase == SessionPhase::ended) return;
    set_phase(*s, SessionPhase::ended);
    sessions_.erase(s->offer.ivrid());
    dedupe_.ended(s->offer.ivrid());
    if (auto it = accept_deadlines_.find(s->offer.ivrid()); it != accept_deadlines_.end()) {
        loop_.cancel(it->second);
        accept_deadlines_.erase(it);
    }
    if (s->claim_qid) requests_.forget(std::exchange(s->claim_qid, 0));
    if (std::exchange(s->counted_active, false)) status_.active_sessions.fetch_sub(1, std::memory_order_relaxed);

    // Publish the end before anything completes: a waiter woken by a completion must
    // already see Session::ended() and Session::end().
    auto published = std::make_shared<const SessionEnd>(end);
    {
        auto& signal = SessionEndSignal::instance();
        std::lock_guard<std::mutex> lock(signal.mutex);
        s->ended = true;
        s->published_end = published;
    }
    SessionEndSignal::instance().cv.notify_all();

    if (s->probe) end_probe(s, false, "session ended");
    fail_held(*s, pending_error);
    if (s->running && end.event && !stopped_) {
        // The platform may still report the component's results (a recording cut by
        // the hang-up): wait a little for its stopped event before failing it.
        ending_[s->offer.ivrid()] = s;
        if (const auto qid = std::exchange(s->running->apply_qid, 0)) {
            requests_.forget(qid);  // its failure must not complete the component now
            s->requests.erase(std::remove(s->requests.begin(), s->requests.end(), qid), s->requests.end());
        }
        std::weak_ptr<SessionState> weak = s;
        s->end_grace =
            loop_.schedule(std::min(options_.request_timeout, milliseconds(1000)), [this, weak, late = pending_error] {
                auto st = weak.lock();
                if (!st) return;
                st->end_grace = 0;
                ending_.erase(st->offer.ivrid());
                complete_component(*st, late);
            });
    } else {
        complete_component(*s, pending_error);
    }
    auto requests = s->requests;
    for (auto qid : requests) requests_.fail(qid, pending_error);
    s->requests.clear();
    s->dtmf_backlog.clear();
    s->on_dtmf = nullptr;
    if (auto done = s->take_accept()) deliver<Session>(std::move(done), pending_error);
    // Control is back with the script when the platform ended it or took our abort.
    const bool handed_back = end.event.has_value() || end.reason == StopReason::abort;
    for (auto& done : s->take_aborts()) {
        deliver<void>(std::move(done), handed_back ? Result<void>() : Result<void>(pending_error));
    }
    s->final_end = std::make_unique<const SessionEnd>(std::move(end));
    if (auto h = std::move(s->on_end)) {
        s->on_end = nullptr;
        deliveries_.push([s, h = std::move(h)] { h(*s->final_end); });
    }
    if (handlers_.on_session_ended) {
        deliveries_.push([this, ivrid = s->offer.ivrid()] {
            if (handlers_.on_session_ended) handlers_.on_session_ended(ivrid);
        });
    }
    maybe_finish_stop();
}

}  // namespace ivrapi::detail
