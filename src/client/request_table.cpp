#include "client/request_table.hpp"

#include <algorithm>
#include <vector>

namespace ivrapi::detail {

using std::chrono::milliseconds;

RequestTable::~RequestTable() {
    // The deadline timer outlives the requests it served: it must not fire on a dead table.
    if (timer_) loop_.cancel(timer_);
    for (auto& [id, h] : held_) loop_.cancel(h.timer);
}

protocol::Qid RequestTable::try_send(std::string_view name, FrameRef frame_for, milliseconds timeout, Done& done) {
    const protocol::Qid qid = next_qid_++;
    if (!transport_.send(frame_for(qid))) return 0;
    if (counters_.messages_out) counters_.messages_out->fetch_add(1, std::memory_order_relaxed);
    Pending p;
    p.name = std::string(name);
    p.done = std::move(done);
    p.sent = loop_.now();
    p.timeout = timeout;
    pending_.emplace(qid, std::move(p));
    if (timeout.count() > 0) add_deadline(loop_.now() + timeout, qid);
    return qid;
}

void RequestTable::add_deadline(Loop::Clock::time_point at, protocol::Qid qid) {
    // Answered requests leave their entry behind: rebuild once they are the majority.
    if (deadlines_.size() > 2 * pending_.size() + 64) {
        deadlines_.erase(std::remove_if(deadlines_.begin(), deadlines_.end(),
                                        [this](const Deadline& d) { return pending_.count(d.second) == 0; }),
                         deadlines_.end());
        std::make_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
    }
    deadlines_.emplace_back(at, qid);
    std::push_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
    arm();
}

void RequestTable::arm() {
    // Skip entries of requests already answered.
    while (!deadlines_.empty() && pending_.count(deadlines_.front().second) == 0) {
        std::pop_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
        deadlines_.pop_back();
    }
    if (deadlines_.empty()) return;  // a timer still armed finds nothing and stays off
    const auto earliest = deadlines_.front().first;
    if (timer_ && armed_for_ <= earliest) return;
    if (timer_) loop_.cancel(timer_);
    armed_for_ = earliest;
    const auto delay = std::max(std::chrono::ceil<milliseconds>(earliest - loop_.now()), milliseconds(0));
    timer_ = loop_.schedule(delay, [this] {
        timer_ = 0;
        expire();
    });
}

void RequestTable::expire() {
    const auto now = loop_.now();
    std::vector<protocol::Qid> late;
    while (!deadlines_.empty() && deadlines_.front().first <= now) {
        const protocol::Qid qid = deadlines_.front().second;
        std::pop_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
        deadlines_.pop_back();
        if (pending_.count(qid)) late.push_back(qid);
    }
    // Failed after the heap is settled: their handlers may send new requests.
    for (const protocol::Qid qid : late) {
        auto it = pending_.find(qid);
        if (it == pending_.end()) continue;  // an earlier handler failed or forgot it
        if (counters_.request_timeouts) counters_.request_timeouts->fetch_add(1, std::memory_order_relaxed);
        fail(qid, Error(Errc::timeout, "no reply to " + it->second.name + " within " +
                                           std::to_string(it->second.timeout.count()) + " ms"));
    }
    arm();
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
        if (try_send(h.name, h.frame_for, h.timeout, h.done) == 0) {
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
    p.done(qid, e);
}

void RequestTable::fail_all(const Error& e) {
    std::vector<protocol::Qid> qids;
    qids.reserve(pending_.size());
    for (const auto& [qid, p] : pending_) qids.push_back(qid);
    std::sort(qids.begin(), qids.end());  // in the order they were sent
    for (auto qid : qids) fail(qid, e);
    if (pending_.empty()) {
        deadlines_.clear();
        if (timer_) loop_.cancel(std::exchange(timer_, 0));
    }
}

void RequestTable::forget(protocol::Qid qid) {
    auto it = pending_.find(qid);
    if (it == pending_.end()) return;
    pending_.erase(it);
}

}  // namespace ivrapi::detail
