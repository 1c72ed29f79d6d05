// What Session/Offer handles hold to reach their client: a way to run work on the
// client's loop, which fails cleanly once the client is gone.
#pragma once

#include "client/loop.hpp"

#include <ivrapi/future.hpp>

#include <memory>
#include <mutex>

namespace ivrapi::detail {

class ClientCore;

struct ClientLink {
    std::mutex mutex;
    Loop* loop = nullptr;  // cleared when the client shuts down
    ClientCore* core = nullptr;

    // Runs fn(core) on the loop. False when the client is gone (fn never runs).
    template <typename Fn>
    bool post(Fn fn) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!loop) return false;
        ClientCore* c = core;
        return loop->post([c, fn = std::move(fn)]() mutable { fn(*c); });
    }
    // The core when called on the loop's own thread (from a handler or a completion: the
    // core is between entries or delivering, where it may be entered again), so that an
    // operation runs there and then; null elsewhere (post it) or when the client is gone.
    // A bot reacting in its handlers saves a post and a loop turn per operation. Only for
    // operations: they never end a session synchronously, so they cannot reset the
    // handler that is running them.
    ClientCore* core_here() {
        std::lock_guard<std::mutex> lock(mutex);
        return loop && current_loop() == static_cast<const void*>(loop) ? core : nullptr;
    }
    const void* loop_id() {
        std::lock_guard<std::mutex> lock(mutex);
        return loop;
    }
    void detach() {
        std::lock_guard<std::mutex> lock(mutex);
        loop = nullptr;
        core = nullptr;
    }
};

inline Error client_gone() { return Error(Errc::stopped, "the client is stopped"); }

// Where an operation is started from: the client's link, or why there is none.
struct OpTarget {
    std::shared_ptr<ClientLink> link;  // null: `missing` says why
    Error missing;
};
inline OpTarget no_handle() { return {nullptr, Error(Errc::invalid_argument, "empty handle")}; }
inline OpTarget gone() { return {nullptr, client_gone()}; }

// Every operation is written once, as op(core, Callback<T>) run on the loop; these
// adapters give it its calling styles (a coroutine adapter can be a third).
//
// Completion with a callback: runs on the I/O thread; when the client is gone it runs
// at once, on this thread, with Errc::stopped.
template <typename T, typename Op>
void start_op(const OpTarget& target, Op op, Callback<T> done) {
    if (!done) done = [](Result<T>) {};
    if (!target.link) {
        done(target.missing);
        return;
    }
    if (ClientCore* core = target.link->core_here()) {
        op(*core, std::move(done));
        return;
    }
    // Shared: when the client is gone the closure is dropped unrun, and `done` still fails.
    auto shared_done = std::make_shared<Callback<T>>(std::move(done));
    if (!target.link->post(
            [op = std::move(op), shared_done](ClientCore& core) mutable { op(core, std::move(*shared_done)); })) {
        (*shared_done)(client_gone());
    }
}

// Completion into a Future.
template <typename T, typename Op>
Future<T> start_op(const OpTarget& target, Op op) {
    if (!target.link) return Future<T>::ready_with(target.missing);
    auto state = std::make_shared<FutureState<T>>();
    state->loop = target.link->loop_id();
    start_op<T>(target, std::move(op), Callback<T>([state](Result<T> r) { state->set(std::move(r)); }));
    return Future<T>(state);
}

}  // namespace ivrapi::detail
