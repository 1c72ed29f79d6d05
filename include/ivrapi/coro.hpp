// C++20 coroutines over the SDK's callback forms (the library itself stays C++17).
//
//   ivrapi::co::Task<> greet(ivrapi::Session call) {
//       auto played = co_await ivrapi::co::play(call, ":GS_PUB/hello.wav");  // Result<ComponentStopped>
//       if (!played) co_return;
//       (void)co_await ivrapi::co::hangup(call);
//   }
//   ivrapi::co::serve(client, greet);
//
// Threading: a coroutine runs on the thread that starts it until its first co_await,
// then on the client's I/O thread, like a callback: never block there (no Future::get,
// which returns would_deadlock on that thread). Every operation completes, so no
// co_await hangs: when the session ends (api_stop) pending ones complete with
// Errc::session_ended, when the client stops with Errc::stopped.
#pragma once

#if !defined(__cpp_impl_coroutine) || __cplusplus < 202002L
#error "<ivrapi/coro.hpp> needs C++20 (-std=c++20); the rest of the SDK works with C++17"
#endif

#include <ivrapi/client.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace ivrapi::co {

// One operation, started when awaited; co_await gives its Result<T>.
template <typename T>
class [[nodiscard]] Async {
public:
    using Start = std::function<void(Callback<T>)>;            // starts the operation with a callback
    explicit Async(Start start) : start_(std::move(start)) {}  // not started yet

    bool await_ready() const noexcept { return false; }  // always starts on co_await

    bool await_suspend(std::coroutine_handle<> handle) {
        auto s = state_;
        s->handle = handle;
        start_([s](Result<T> r) {
            s->result.emplace(std::move(r));
            if (s->phase.exchange(kDone, std::memory_order_acq_rel) == kSuspended) s->handle.resume();
        });
        // The callback may already have run (a stopped client completes at once): then
        // the coroutine goes on without suspending.
        return state_->phase.exchange(kSuspended, std::memory_order_acq_rel) != kDone;
    }

    Result<T> await_resume() { return std::move(*state_->result); }  // the operation's Result

private:
    static constexpr int kStarting = 0, kSuspended = 1, kDone = 2;
    struct State {
        std::atomic<int> phase{kStarting};
        std::coroutine_handle<> handle;
        std::optional<Result<T>> result;
    };
    Start start_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

// The coroutine type of handlers: lazy (starts when awaited or driven by spawn /
// sync_wait / serve); an exception propagates to whoever awaits it.
template <typename T = void>
class [[nodiscard]] Task;

namespace detail {

template <typename T>
struct TaskPromiseBase {
    std::coroutine_handle<> continuation;
    std::exception_ptr error;

    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept {
        struct ResumeContinuation {
            bool await_ready() noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> self) noexcept {
                (void)self;
                return continuation ? continuation : std::noop_coroutine();
            }
            void await_resume() noexcept {}
            std::coroutine_handle<> continuation;
        };
        return ResumeContinuation{continuation};
    }
    void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename T>
struct TaskPromise : TaskPromiseBase<T> {
    std::optional<T> value;
    Task<T> get_return_object() noexcept;
    template <typename U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take() {
        if (this->error) std::rethrow_exception(this->error);
        return std::move(*value);
    }
};

template <>
struct TaskPromise<void> : TaskPromiseBase<void> {
    Task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() {
        if (this->error) std::rethrow_exception(this->error);
    }
};

// Runs to completion on its own (spawn, sync_wait): frees itself at the end.
struct Detached {
    struct promise_type {
        Detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept {}  // the drivers catch everything first
    };
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::TaskPromise<T>;         // the coroutine machinery
    using Handle = std::coroutine_handle<promise_type>;  // the coroutine frame

    Task() = default;
    explicit Task(Handle h) noexcept : h_(h) {}                       // owns the frame
    Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}  // takes the frame
    // Destroys its own frame and takes the other's.
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            if (h_) h_.destroy();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() {
        if (h_) h_.destroy();
    }

    bool valid() const noexcept { return static_cast<bool>(h_); }  // holds a coroutine

    // co_await task: starts it; the awaiting coroutine continues when it finished.
    auto operator co_await() && noexcept {
        struct Awaiter {
            Handle h;
            bool await_ready() const noexcept { return !h || h.done(); }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
                h.promise().continuation = awaiting;
                return h;
            }
            T await_resume() {
                if (!h) throw std::logic_error("ivrapi::co::Task: awaiting an empty task");
                return h.promise().take();
            }
        };
        return Awaiter{h_};
    }

private:
    Handle h_{};
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

template <typename T>
Detached drive(Task<T> task, std::function<void(std::exception_ptr)> done) {
    std::exception_ptr error;
    try {
        (void)co_await std::move(task);
    } catch (...) {
        error = std::current_exception();
    }
    done(error);
}
}  // namespace detail

// Starts `task` and lets it run on its own; `on_error` receives what it threw.
inline void spawn(Task<void> task, std::function<void(std::exception_ptr)> on_error = {}) {
    detail::drive(std::move(task), [on_error = std::move(on_error)](std::exception_ptr e) {
        if (e && on_error) on_error(e);
    });
}

// Runs `task` and blocks this thread until it finished; rethrows what it threw. Not on
// the client's I/O thread (the task's operations complete there: it would never end).
inline void sync_wait(Task<void> task) {
    struct Latch {
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;
        std::exception_ptr error;
    };
    auto latch = std::make_shared<Latch>();
    detail::drive(std::move(task), [latch](std::exception_ptr e) {
        {
            std::lock_guard<std::mutex> lock(latch->mutex);
            latch->done = true;
            latch->error = e;
        }
        latch->cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(latch->mutex);
    latch->cv.wait(lock, [&] { return latch->done; });
    if (latch->error) std::rethrow_exception(latch->error);
}

// Client::serve with a coroutine handler: claims offers under `options`; each claimed
// session runs handler(session) to its end (holding one of the serve workers, as a
// blocking handler would), then is handed back if still controlled.
inline void serve(Client& client, std::function<Task<void>(Session)> handler, ServeOptions options = {}) {
    client.serve([handler = std::move(handler)](Session& session) { sync_wait(handler(session)); }, std::move(options));
}

// ---- the operations, as awaitables (each mirrors the Session / Offer / Client method)

inline Async<Session> accept(Offer offer) {
    return Async<Session>([offer](Callback<Session> done) mutable { offer.accept(std::move(done)); });
}
inline Async<ComponentStopped> apply(Session session, Component component) {
    return Async<ComponentStopped>(
        [session, component](Callback<ComponentStopped> done) mutable { session.apply(component, std::move(done)); });
}
inline Async<ComponentStopped> play(Session session, const std::string& file,
                                    const std::string& interrupt_digits = {}) {
    Play p;
    p.file = file;
    p.interrupt_digits = interrupt_digits;
    return apply(std::move(session), p);
}
inline Async<ComponentStopped> record(Session session, std::chrono::seconds max_duration,
                                      const std::string& stop_digits = "#") {
    Record r;
    r.max_duration = max_duration;
    r.stop_digits = stop_digits;
    return apply(std::move(session), r);
}
inline Async<ComponentStopped> collect_digits(Session session, int max_digits, std::chrono::seconds timeout,
                                              std::chrono::seconds inter_digit_timeout = std::chrono::seconds(3)) {
    CollectDigits c;
    c.max_digits = max_digits;
    c.timeout = timeout;
    c.inter_digit_timeout = inter_digit_timeout;
    return apply(std::move(session), c);
}
inline Async<ComponentStopped> transfer(Session session, const std::string& number) {
    Transfer t;
    t.number = number;
    return apply(std::move(session), t);
}
inline Async<ComponentStopped> answer(Session session, int sip_code = 200) {
    SipAnswer a;
    a.sip_code = sip_code;
    return apply(std::move(session), a);
}
inline Async<ComponentStopped> hangup(Session session) { return apply(std::move(session), Hangup{}); }
inline Async<void> terminate(Session session) {
    return Async<void>([session](Callback<void> done) mutable { session.terminate(std::move(done)); });
}
inline Async<void> abort(Session session) {
    return Async<void>([session](Callback<void> done) mutable { session.abort(std::move(done)); });
}
inline Async<FileLink> file_get_path(Session session, const std::string& path) {
    return Async<FileLink>(
        [session, path](Callback<FileLink> done) mutable { session.file_get_path(path, std::move(done)); });
}
inline Async<std::string> upload_temp(Session session, const std::string& url) {
    return Async<std::string>(
        [session, url](Callback<std::string> done) mutable { session.upload_temp(url, std::move(done)); });
}
inline Async<std::string> upload_static(Session session, const std::string& url, const std::string& destpath) {
    return Async<std::string>([session, url, destpath](Callback<std::string> done) mutable {
        session.upload_static(url, destpath, std::move(done));
    });
}
// Client operations: the client must outlive the await (as for the callback forms).
inline Async<std::string> upload_static(Client& client, const std::string& url, const std::string& destpath) {
    return Async<std::string>(
        [&client, url, destpath](Callback<std::string> done) { client.upload_static(url, destpath, std::move(done)); });
}
inline Async<Json> request(Client& client, const std::string& name, const Json& body = Json::object()) {
    return Async<Json>([&client, name, body](Callback<Json> done) { client.request(name, body, std::move(done)); });
}
// Resumes after `delay` on the I/O thread (Client::after); Errc::stopped when the client
// stops first.
inline Async<void> sleep(Client& client, std::chrono::milliseconds delay) {
    return Async<void>([&client, delay](Callback<void> done) {
        // Completes when the timer fires, or with Errc::stopped when the client drops
        // the timer unrun (stop): the last copy of the task completes it then.
        struct Once {
            Callback<void> done;
            bool fired = false;
            ~Once() {
                if (!fired) done(Error(Errc::stopped, "the client stopped before the delay passed"));
            }
        };
        auto once = std::make_shared<Once>();
        once->done = std::move(done);
        (void)client.after(delay, [once] {
            once->fired = true;
            once->done(Result<void>());
        });
    });
}

}  // namespace ivrapi::co
