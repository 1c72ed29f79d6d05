#include "client/request_table.hpp"

#include <algorithm>
#include <vector>

namespace ivrapi::detail {

using std::chrono::milliseconds;

protocol::Qid RequestTable::send(std::string_view name, const FrameFor& frame_for, milliseconds timeout, Done done) {
    const protocol::Qid qid = next_qid_++;
    if (!transport_.send(frame_for(qid))) return 0;
    if (counters_.messages_out) counters_.messages_out->fetch_add(1, std::memory_order_relaxed);
    Pending p;
    p.name = std::string(name);
    p.done = std::move(done);
    p.sent = loop_.now();
    if (timeout.count() > 0) {
        p.timer = loop_.schedule(timeout, [this, qid, timeout] {
            auto it = pending_.find(qid);
            if (it == pending_.end()) return;
            it->second.timer = 0;
            if (counters_.request_timeouts) counters_.request_timeouts->fetch_add(1, std::memory_order_relaxed);
            fail(qid, Error(Errc::timeout,
                            "no reply to " + it->second.name + " within " + std::to_string(timeout.count()) + " ms"));
        });
    }
    pending_.emplace(qid, std::move(p));
    return qid;
}

std::uint64_t RequestTable::hold(std::string_view name, FrameFor frame_for, milliseconds timeout, Done done) {
    const std::uint64_t id = next_hold_++;
    Held h{std::string(name), std::move(frame_for), timeout, std::move(done), 0};
    h.timer = loop_.schedule(timeout, [this, id, timeout] {
        auto it = held_.find(id);
        if (it == held_.end()) return;
        Held late = std::move(it->second);
        held_.erase(it);
        if (counters_.request_timeouts) counters_.request_timeouts->fetch_add(1, std::memory_order_relaxed);
        late.done(0, Error(Errc::timeout,
                           late.name + " not sent: no connection within " + std::to_string(timeout.count()) + " ms"));
    });
    held_.emplace(id, std::move(h));
    return id;
}

void RequestTable::release_held() {
    auto batch = std::move(held_);
    held_.clear();
    for (auto& [id, h] : batch) {
        loop_.cancel(h.timer);
        if (send(h.name, h.frame_for, h.timeout, h.done) == 0) {
            h.done(0, Error(Errc::not_connected, h.name + " not sent: the link is closing"));
        }
    }
}

void RequestTable::fail_held(const Error& e) {
    auto batch = std::move(held_);
    held_.clear();
    for (auto& [id, h] : batch) {
        loop_.cancel(h.timer);
        h.done(0, e);
    }
}

bool RequestTable::complete(protocol::Reply&& reply, std::string& why_not) {
    using State = protocol::QidField::State;
    if (reply.qid.state != State::valid) {
        why_not =
            reply.request + "_result with " +
            (reply.qid.state == State::absent ? std::string("no qid") : "qid " + reply.qid.text + " we never send");
        return false;
    }
    auto it = pending_.find(reply.qid.value);
    if (it == pending_.end()) {
        why_not = reply.request + "_result for qid " + reply.qid.text + " that is not pending (late or duplicate)";
        return false;
    }
    if (it->second.name != reply.request) {
        why_not = reply.request + "_result carries the qid of a pending " + it->second.name + " request";
        return false;
    }
    Pending p = std::move(it->second);
    const protocol::Qid qid = it->first;
    pending_.erase(it);
    if (p.timer) loop_.cancel(p.timer);
    const auto us =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(loop_.now() - p.sent).count());
    if (counters_.requests) counters_.requests->fetch_add(1, std::memory_order_relaxed);
    if (counters_.latency_sum_us) counters_.latency_sum_us->fetch_add(us, std::memory_order_relaxed);
    if (counters_.latency_max_us && us > counters_.latency_max_us->load(std::memory_order_relaxed)) {
        counters_.latency_max_us->store(us);
    }
    p.done(qid, std::move(reply));
    return true;
}

void RequestTable::fail(protocol::Qid qid, const Error& e) {
    auto it = pending_.find(qid);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.timer) loop_.cancel(p.timer);
    p.done(qid, e);
}

void RequestTable::fail_all(const Error& e) {
    std::vector<protocol::Qid> qids;
    qids.reserve(pending_.size());
    for (const auto& [qid, p] : pending_) qids.push_back(qid);
    std::sort(qids.begin(), qids.end());  // in the order they were sent
    for (auto qid : qids) fail(qid, e);
}

void RequestTable::forget(protocol::Qid qid) {
    auto it = pending_.find(qid);
    if (it == pending_.end()) return;
    if (it->second.timer) loop_.cancel(it->second.timer);
    pending_.erase(it);
}

}  // namespace ivrapi::detail
