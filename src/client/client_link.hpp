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
    Loop* loop = nullptr;       // cleared when the client shuts down
    ClientCore* core = nullptr;

    // Runs fn(core) on the loop. False when the client is gone (fn never runs).
    template <typename Fn>
    bool post(Fn fn) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!loop) return false;
        ClientCore* c = core;
        return loop->post([c, fn = std::move(fn)]() mutable { fn(*c); });
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

// Future form of a core operation: op(core, callback) runs on the loop.
template <typename T, typename Op>
Future<T> run_as_future(const std::shared_ptr<ClientLink>& link, Op op) {
    if (!link) return Future<T>::ready_with(Error(Errc::invalid_argument, "empty handle"));
    auto state = std::make_shared<FutureState<T>>();
    state->loop = link->loop_id();
    Callback<T> done = [state](Result<T> r) { state->set(std::move(r)); };
    if (!link->post([op = std::move(op), done](ClientCore& core) mutable { op(core, std::move(done)); })) {
        state->set(client_gone());
    }
    return Future<T>(state);
}

// Callback form: when the client is gone the callback runs at once, on this thread.
template <typename T, typename Op>
void run_with_callback(const std::shared_ptr<ClientLink>& link, Callback<T> done, Op op) {
    if (!link) {
        if (done) done(Error(Errc::invalid_argument, "empty handle"));
        return;
    }
    if (!done) done = [](Result<T>) {};
    auto shared_done = std::make_shared<Callback<T>>(std::move(done));
    if (!link->post([op = std::move(op), shared_done](ClientCore& core) mutable {
            op(core, std::move(*shared_done));
        })) {
        (*shared_done)(client_gone());
    }
}

}  // namespace ivrapi::detail
