// Running components: the oId index that routes stopped/DTMF events without ivrid,
// and every component's deadline (component_timeout) behind ONE loop timer: a timer per
// running component costs ~300 bytes each at 10,000 sessions.
#pragma once

#include "client/session_state.hpp"

#include <functional>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

namespace ivrapi::detail {

class ComponentTracker {
public:
    // Called for each component whose deadline passed (its session, its oId).
    using Expired = std::function<void(const std::shared_ptr<SessionState>&, std::int64_t oid)>;

    ComponentTracker(Loop& loop, Expired expired) : loop_(loop), expired_(std::move(expired)) {}

    std::int64_t next_oid() { return next_oid_++; }
    void started(const std::shared_ptr<SessionState>& s, std::int64_t oid, Loop::Clock::time_point deadline) {
        by_oid_[oid] = s;
        deadlines_.emplace(deadline, oid);
        arm();
    }
    void finished(std::int64_t oid, Loop::Clock::time_point deadline) {
        by_oid_.erase(oid);
        deadlines_.erase({deadline, oid});
    }
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
    void arm() {
        if (deadlines_.empty()) return;  // a pending timer finds nothing and stays off
        const auto earliest = deadlines_.begin()->first;
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
        while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
            const std::int64_t oid = deadlines_.begin()->second;
            deadlines_.erase(deadlines_.begin());
            auto s = find(oid);
            if (s && s->running && s->running->oid == oid) expired_(s, oid);
        }
        arm();
    }

    Loop& loop_;
    Expired expired_;
    std::int64_t next_oid_ = 1;
    std::unordered_map<std::int64_t, std::weak_ptr<SessionState>> by_oid_;
    std::set<std::pair<Loop::Clock::time_point, std::int64_t>> deadlines_;
    Loop::TimerId timer_ = 0;
    Loop::Clock::time_point armed_for_{};
};

}  // namespace ivrapi::detail
