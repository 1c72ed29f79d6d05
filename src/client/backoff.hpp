// Reconnect delays: exponential from initial_delay, capped at max_delay, with jitter.
// The attempt count resets only once a link has stayed ready for `reset_after`, so a
// server that upgrades and then closes at once is not retried at initial_delay forever.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace ivrapi::detail {

class Backoff {
public:
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter, std::uint64_t seed)
        : initial_(initial), max_(max), jitter_(std::clamp(jitter, 0.0, 1.0)), rng_(seed) {}

    // The delay before the next attempt; counts the attempt.
    std::chrono::milliseconds next() {
        const double base = static_cast<double>(initial_.count()) * std::pow(2.0, std::min(attempt_, 30u));
        double delay = std::min(base, static_cast<double>(max_.count()));
        std::uniform_real_distribution<double> spread(1.0 - jitter_, 1.0 + jitter_);
        delay *= spread(rng_);
        ++attempt_;
        return std::chrono::milliseconds(static_cast<long long>(std::max(delay, 1.0)));
    }
    void reset() { attempt_ = 0; }
    unsigned attempts() const { return attempt_; }

private:
    std::chrono::milliseconds initial_, max_;
    double jitter_;
    std::mt19937_64 rng_;
    unsigned attempt_ = 0;
};

}  // namespace ivrapi::detail
