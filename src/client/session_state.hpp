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
    // An accept whose link dropped before its reply: the platform may have granted it, so
    // the session is re-claimed (reaccept) on reconnect and this completes then.
    Callback<Session> pending_accept;
    // abort() asked while the link was down: sent once the session is re-claimed.
    Callback<void> pending_abort;

    std::function<void(const DtmfEvent&)> on_dtmf;
    // Until on_dtmf is set (bounded). A vector, not a deque: an empty std::deque
    // allocates ~0.5 KiB, per session.
    std::vector<DtmfEvent> dtmf_backlog;
    std::function<void(const SessionEnd&)> on_end;
    std::optional<SessionEnd> final_end;  // replayed to an on_end set after the end

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
