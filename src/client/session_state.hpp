// The state behind a Session handle. Fields under "loop thread" are touched only by
// the client core on its loop; the rest is safe from any thread.
#pragma once

#include "client/client_link.hpp"
#include "client/offer_record.hpp"
#include "client/slab_pool.hpp"
#include "protocol/codec.hpp"
#include "transport/event_loop.hpp"

#include <ivrapi/session.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace ivrapi::detail {

// The life cycle of one session; docs/design.md has the transition table that
// tests/client/test_session_table.cpp walks.
enum class SessionPhase : std::uint8_t {
    accepting,       // ivrapi_accept sent, reply awaited
    accept_unknown,  // the link dropped before the accept's reply: granted or not, unknown
    controlled,      // ours, link up
    detached,        // ours, link down: re-claimed (ivrapi_reaccept) when it is back
    reclaiming,      // ivrapi_reaccept sent, reply awaited
    aborting,        // ivrapi_abort sent, reply awaited
    ended,           // over: api_stop, abort done, lost race, client stopped
};
const char* to_string(SessionPhase p) noexcept;

struct SessionState {
    SessionState(const ApiStartEvent& o, std::weak_ptr<ClientLink> l) : offer(o), link(std::move(l)) {}

    const OfferRecord offer;
    const std::weak_ptr<ClientLink> link;

    // ---- loop thread ----
    SessionPhase phase = SessionPhase::accepting;
    protocol::Qid claim_qid = 0;  // the accept / reaccept / abort in flight (0: none)
    std::uint8_t attempts = 0;    // unanswered reaccepts / aborts in a row

    struct Running {
        std::int64_t oid = 0;
        protocol::Qid apply_qid = 0;  // 0 once the apply's reply was handled
        Callback<ComponentStopped> done;
        Loop::Clock::time_point deadline;  // component_timeout (see ComponentTracker)
        Loop::TimerId grace = 0;           // after a terminate reply, wait this long for stopped
    };
    std::optional<Running> running;
    std::vector<protocol::Qid> requests;  // other requests in flight for this session
    bool counted_active = false;          // in SharedStatus::active_sessions

    // Waiters on the heap because a session rarely has any (memory per session is a
    // target):
    //  * accept: the user's accept completion, until the claim's outcome is known;
    //  * abort: abort() callers; while any is here (or hand_back is set) the session is
    //    handed back as soon as it is ours and the link is up.
    struct Waiters {
        Callback<Session> accept;
        std::vector<Callback<void>> abort;
        bool hand_back = false;  // hand back without a caller (a late grant nobody awaits)
    };
    std::unique_ptr<Waiters> waiters;
    Waiters& wait() {
        if (!waiters) waiters = std::make_unique<Waiters>();
        return *waiters;
    }
    bool wants_hand_back() const { return waiters && (waiters->hand_back || !waiters->abort.empty()); }
    bool awaits_accept() const { return waiters && waiters->accept; }
    Callback<Session> take_accept() {
        if (!waiters) return nullptr;
        auto out = std::move(waiters->accept);
        waiters->accept = nullptr;
        trim();
        return out;
    }
    std::vector<Callback<void>> take_aborts() {
        if (!waiters) return {};
        auto out = std::move(waiters->abort);
        waiters->abort.clear();
        waiters->hand_back = false;
        trim();
        return out;
    }
    void trim() {
        if (waiters && !waiters->accept && waiters->abort.empty() && !waiters->hand_back) waiters.reset();
    }

    // Operations asked while the session waits for its re-claim (or in flight when the
    // link dropped and safe to repeat): run again once it is controlled, failed at their
    // deadline or at the end. On the heap: a session rarely has any.
    struct Held {
        std::uint64_t id = 0;
        std::function<void()> retry;
        std::function<void(const Error&)> fail;
        Loop::TimerId timer = 0;
    };
    std::unique_ptr<std::vector<Held>> held;

    // After a re-claim with a component still "running" here: a harmless probe
    // (103 pause of 0 ms, its own oId) tells whether the platform still runs it (the
    // probe is refused: busy) or not (the probe runs) — docs/design.md "component probe".
    struct Probe {
        std::int64_t oid = 0;
        std::int64_t for_oid = 0;          // the component it asks about
        Loop::TimerId timer = 0;           // component_probe_timeout
        std::function<void()> held_apply;  // an apply asked while the probe runs
    };
    std::unique_ptr<Probe> probe;
    // A component still running when api_stop came: its stopped event (results of a
    // recording cut by the hang-up) may follow; this timer bounds the wait.
    Loop::TimerId end_grace = 0;

    std::function<void(const DtmfEvent&)> on_dtmf;
    // Until on_dtmf is set (bounded). A vector, not a deque: an empty std::deque
    // allocates ~0.5 KiB, per session.
    std::vector<DtmfEvent> dtmf_backlog;
    std::function<void(const SessionEnd&)> on_end;
    // Replayed to an on_end set after the end (on the heap: SessionEnd carries the whole
    // api_stop event and most sessions never need it).
    std::unique_ptr<const SessionEnd> final_end;

    // ---- any thread ----
    std::atomic<bool> ended{false};
    std::atomic<bool> controlled{false};  // phase == controlled (Session::wait_controlled)
    std::atomic<int> last_otype{0};       // the last component applied (serve's end of handler)
    // The end, published for Session::end() (under SessionEndSignal's mutex).
    std::shared_ptr<const SessionEnd> published_end;
};

// Long-lived per-session maps keep their nodes in the session pool (slab_pool.hpp).
template <typename Key, typename Value, typename Hash = std::hash<Key>>
using SessionMap =
    std::unordered_map<Key, Value, Hash, std::equal_to<Key>, SessionAllocator<std::pair<const Key, Value>>>;

// Session::wait_ended() waiters, shared by every session (few threads ever wait, and a
// mutex + condition variable per session would cost ~90 bytes each).
struct SessionEndSignal {
    std::mutex mutex;
    std::condition_variable cv;
    static SessionEndSignal& instance() {
        static SessionEndSignal signal;
        return signal;
    }
};

}  // namespace ivrapi::detail
