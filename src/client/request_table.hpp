// The request table: qids, replies matched to their request, per-request deadlines,
// and requests held until the link is usable. Every deadline sits behind ONE loop timer
// (a min-heap, entries of answered requests dropped lazily): arming and cancelling an
// Asio timer per request was the largest part of the SDK's round-trip overhead. Knows nothing of sessions: its
// completions go to the core, which decides what they mean; a completion may reach user
// code at once (a generic request's success, through DeliveryQueue::push_last), so the
// table touches nothing after calling one.
#pragma once

#include "protocol/codec.hpp"
#include "transport/event_loop.hpp"
#include "transport/transport.hpp"

#include <ivrapi/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ivrapi::detail {

struct RequestCounters {
    std::atomic<std::uint64_t>* messages_out = nullptr;
    std::atomic<std::uint64_t>* requests = nullptr;
    std::atomic<std::uint64_t>* request_timeouts = nullptr;
    std::atomic<std::uint64_t>* latency_sum_us = nullptr;
    std::atomic<std::uint64_t>* latency_max_us = nullptr;
};

class RequestTable {
public:
    using FrameFor = std::function<std::string(protocol::Qid)>;
    // A non-owning reference to a frame builder that send() calls at once: building a
    // std::function from a lambda (an allocation for most) would be wasted there.
    class FrameRef {
    public:
        template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FrameRef>>>
        FrameRef(const F& f)  // NOLINT(google-explicit-constructor): stands in for a callable
            : object_(&f), call_([](const void* o, protocol::Qid q) { return (*static_cast<const F*>(o))(q); }) {}
        std::string operator()(protocol::Qid q) const { return call_(object_, q); }

    private:
        const void* object_;
        std::string (*call_)(const void*, protocol::Qid);
    };
    // The reply, or an Error without one (timeout, connection_lost, stopped, ...).
    // Taken by reference: a Reply is big, and each hop of the chain would move it.
    using Done = std::function<void(protocol::Qid, Result<protocol::Reply>&&)>;

    RequestTable(Loop& loop, Transport& transport, RequestCounters counters)
        : loop_(loop), transport_(transport), counters_(counters) {}
    ~RequestTable();
    RequestTable(const RequestTable&) = delete;
    RequestTable& operator=(const RequestTable&) = delete;

    // Sends now. Returns the qid, or 0 when the frame could not be sent (done is then
    // NOT called: the caller handles the failure at once). timeout 0 = no deadline.
    protocol::Qid send(std::string_view name, FrameRef frame_for, std::chrono::milliseconds timeout, Done done) {
        return try_send(name, frame_for, timeout, done);
    }
    // As send(), but `done` is moved into the table only when the frame went out; on 0 it
    // is still the caller's, to fail (no copy of a completion just for that case).
    protocol::Qid try_send(std::string_view name, FrameRef frame_for, std::chrono::milliseconds timeout, Done& done);

    // Holds a request until release_held() (link usable), failing it with timeout after
    // `timeout`. Returns a hold id.
    std::uint64_t hold(std::string_view name, FrameFor frame_for, std::chrono::milliseconds timeout, Done done);
    // Sends every held request in the order they were held.
    void release_held();
    void fail_held(const Error& e);

    // Matches a reply. False when it matches no pending request (dropped by the caller).
    bool complete(protocol::Reply&& reply, std::string& why_not);
    void fail(protocol::Qid qid, const Error& e);
    void fail_all(const Error& e);
    // Forgets a request quietly (its reply, if it comes, is dropped).
    void forget(protocol::Qid qid);
    bool pending(protocol::Qid qid) const { return pending_.count(qid) != 0; }
    std::size_t size() const { return pending_.size(); }
    std::size_t held() const { return held_.size(); }

private:
    struct Pending {
        std::string name;
        Done done;
        Loop::Clock::time_point sent;
        std::chrono::milliseconds timeout{0};  // 0: no deadline
    };
    using Deadline = std::pair<Loop::Clock::time_point, protocol::Qid>;
    struct Held {
        std::string name;
        FrameFor frame_for;
        std::chrono::milliseconds timeout;
        Done done;
        Loop::TimerId timer = 0;
    };

    Loop& loop_;
    Transport& transport_;
    RequestCounters counters_;
    protocol::Qid next_qid_ = 1;
    void add_deadline(Loop::Clock::time_point at, protocol::Qid qid);
    void arm();
    void expire();

    std::unordered_map<protocol::Qid, Pending> pending_;
    // Min-heap of (deadline, qid); entries whose request is no longer pending are
    // skipped when they come up, and the heap is rebuilt when they outnumber the rest.
    std::vector<Deadline> deadlines_;
    Loop::TimerId timer_ = 0;
    Loop::Clock::time_point armed_for_{};
    std::map<std::uint64_t, Held> held_;  // ordered: sent in the order they were made
    std::uint64_t next_hold_ = 1;
};

}  // namespace ivrapi::detail
