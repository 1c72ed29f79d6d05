// The state behind a Session handle. Fields under "loop thread" are touched only by
// the client core on its loop; the rest is safe from any thread.
#pragma once

#include "client/client_link.hpp"
#include "client/loop.hpp"
#include "protocol/codec.hpp"

#include <ivrapi/session.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace ivrapi::detail {

struct SessionState {
    SessionState(std::shared_ptr<const ApiStartEvent> i, std::weak_ptr<ClientLink> l)
        : info(std::move(i)), link(std::move(l)) {}

    const std::shared_ptr<const ApiStartEvent> info;
    const std::weak_ptr<ClientLink> link;

    // ---- loop thread ----
    enum class Phase { accepting, controlling, detached, ended };
    Phase phase = Phase::accepting;

    struct Running {
        std::int64_t oid = 0;
        protocol::Qid apply_qid = 0;   // 0 once the apply's reply was handled
        Callback<ComponentStopped> done;
        Loop::Clock::time_point deadline;  // component_timeout (see ClientCore::deadlines_)
        Loop::TimerId grace = 0;       // after a terminate reply, wait this long for stopped
    };
    std::optional<Running> running;
    std::vector<protocol::Qid> requests;  // requests in flight for this session
    bool counted_active = false;          // in SharedStatus::active_sessions
    // Completions waiting for the session to be (re-)claimed, on the heap because a
    // session rarely has any (memory per session is a target):
    //  * accept: the accept's callback; if the link drops before its reply the platform
    //    may have granted it, so the session is re-claimed (reaccept) and it completes then;
    //  * abort: abort() asked while the link was down, sent once the session is re-claimed.
    struct Deferred {
        Callback<Session> accept;
        Callback<void> abort;
    };
    std::unique_ptr<Deferred> deferred;
    Deferred& defer() {
        if (!deferred) deferred = std::make_unique<Deferred>();
        return *deferred;
    }
    // Takes a deferred callback out (empty when none).
    template <typename T>
    T take(T Deferred::*member) {
        if (!deferred) return T();
        T out = std::move((*deferred).*member);
        (*deferred).*member = nullptr;
        if (!deferred->accept && !deferred->abort) deferred.reset();
        return out;
    }

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
};

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
