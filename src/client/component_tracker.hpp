// Running components: the oId index that routes stopped/DTMF events without ivrid,
// and every component's deadline (component_timeout) behind ONE loop timer: a timer per
// running component costs ~300 bytes each at 10,000 sessions. The deadlines are a
// min-heap in a vector (16 bytes each, an std::set node costs 64); entries of finished
// components are skipped when they come up and dropped when they are the majority.
#pragma once

#include "client/session_state.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ivrapi::detail {

class ComponentTracker {
public:
    // Called for each component whose deadline passed (its session, its oId).
    using Expired = std::function<void(const std::shared_ptr<SessionState>&, std::int64_t oid)>;

    ComponentTracker(Loop& loop, Expired expired) : loop_(loop), expired_(std::move(expired)) {}

    std::int64_t next_oid() { return next_oid_++; }
    void started(const std::shared_ptr<SessionState>& s, std::int64_t oid, Loop::Clock::time_point deadline) {
        by_oid_[oid] = s;
        if (deadlines_.size() > 2 * by_oid_.size() + 64) {
            deadlines_.erase(std::remove_if(deadlines_.begin(), deadlines_.end(),
                                            [this](const Deadline& d) { return !live(d.second); }),
                             deadlines_.end());
            std::make_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
        }
        deadlines_.emplace_back(deadline, oid);
        std::push_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
        arm();
    }
    void finished(std::int64_t oid, Loop::Clock::time_point /*deadline*/) { by_oid_.erase(oid); }
    // Routes events of an oId that is not the running component (the re-claim probe).
    void index(std::int64_t oid, const std::shared_ptr<SessionState>& s) { by_oid_[oid] = s; }
    void unindex(std::int64_t oid) { by_oid_.erase(oid); }
    std::shared_ptr<SessionState> find(std::int64_t oid) const {
        auto it = by_oid_.find(oid);
        return it == by_oid_.end() ? nullptr : it->second.lock();
    }
    // The session of the only running component, when exactly one runs.
    std::shared_ptr<SessionState> only() const {
        if (by_oid_.size() != 1) return nullptr;
        auto s = by_oid_.begin()->second.lock();
        return s && s->running && s->running->oid == by_oid_.begin()->first ? s : nullptr;
    }
    std::size_t running() const { return by_oid_.size(); }
    void stop() {
        if (timer_) loop_.cancel(std::exchange(timer_, 0));
    }

private:
    using Deadline = std::pair<Loop::Clock::time_point, std::int64_t>;
    // The oId still runs (the probe's oId is indexed but has no deadline here).
    bool live(std::int64_t oid) const {
        auto s = find(oid);
        return s && s->running && s->running->oid == oid;
    }
    void pop() {
        std::pop_heap(deadlines_.begin(), deadlines_.end(), std::greater<>());
        deadlines_.pop_back();
    }
    void arm() {
        while (!deadlines_.empty() && !live(deadlines_.front().second)) pop();
        if (deadlines_.empty()) return;  // a pending timer finds nothing and stays off
        const auto earliest = deadlines_.front().first;
        if (timer_ && armed_for_ <= earliest) return;
        if (timer_) loop_.cancel(timer_);
        armed_for_ = earliest;
        const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - loop_.now()) +
                           std::chrono::milliseconds(1);
        timer_ = loop_.schedule(std::max(delay, std::chrono::milliseconds(1)), [this] {
            timer_ = 0;
            expire();
        });
    }
    void expire() {
        const auto now = loop_.now();
        while (!deadlines_.empty() && deadlines_.front().first <= now) {
            const std::int64_t oid = deadlines_.front().second;
            pop();
            auto s = find(oid);
            if (s && s->running && s->running->oid == oid) expired_(s, oid);
        }
        arm();
    }

    Loop& loop_;
    Expired expired_;
    std::int64_t next_oid_ = 1;
    SessionMap<std::int64_t, std::weak_ptr<SessionState>> by_oid_;
    std::vector<Deadline> deadlines_;  // min-heap
    Loop::TimerId timer_ = 0;
    Loop::Clock::time_point armed_for_{};
};

}  // namespace ivrapi::detail
