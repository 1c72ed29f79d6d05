// A Loop decorator: every posted task and every timer the core schedules runs as one
// entry into the core, so user calls queued during it are delivered when it ends.
#pragma once

#include "client/delivery_queue.hpp"
#include "transport/event_loop.hpp"

namespace ivrapi::detail {

class GuardedLoop final : public Loop {
public:
    GuardedLoop(Loop& inner, DeliveryQueue& deliveries) : inner_(inner), deliveries_(deliveries) {}

    bool post(std::function<void()> task) override {
        return inner_.post([this, task = std::move(task)] {
            DeliveryQueue::Entry entry(deliveries_);
            task();
        });
    }
    TimerId schedule(std::chrono::milliseconds delay, std::function<void()> task) override {
        return inner_.schedule(delay, [this, task = std::move(task)] {
            DeliveryQueue::Entry entry(deliveries_);
            task();
        });
    }
    void cancel(TimerId id) override { inner_.cancel(id); }
    Clock::time_point now() const override { return inner_.now(); }
    Loop& inner() { return inner_; }

private:
    Loop& inner_;
    DeliveryQueue& deliveries_;
};

}  // namespace ivrapi::detail
