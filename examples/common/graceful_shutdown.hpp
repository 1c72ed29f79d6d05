// The examples' Ctrl-C contract: the first signal drains (no new calls; running ones go
// on until they end or `timeout` passes, then what is still controlled is handed back),
// a second one stops at once (still handing every controlled call back).
#pragma once

#include "common/shutdown_signal.hpp"

#include <ivrapi/client.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

namespace examples {

struct ShutdownOutcome {
    bool interrupted_twice = false;  // exit with 130
    ivrapi::DrainResult drained;
};

// Call after the first signal arrived. Blocks until the drain is over or a second
// signal came.
inline ShutdownOutcome drain_or_stop(ivrapi::Client& client, ShutdownSignal& signal, std::chrono::seconds timeout,
                                     const char* program) {
    std::cerr << program << ": draining (up to " << timeout.count()
              << " s): no new calls; Ctrl-C again to hand every call back now\n";
    ShutdownOutcome out;
    std::atomic<bool> drained{false};
    std::thread drainer([&] {
        out.drained = client.drain(timeout);
        drained = true;
        ShutdownSignal::raise_now();  // wakes the wait below
    });
    // raise_now() from elsewhere (the work finished meanwhile) is not a second Ctrl-C.
    while (!drained && signal.wait() == SIGUSR1) {}
    if (!drained) {
        client.stop();  // hands back what is still controlled
        out.interrupted_twice = true;
    }
    drainer.join();
    if (out.drained.handed_back + out.drained.not_handed_back > 0) {
        std::cerr << program << ": " << out.drained.handed_back << " call(s) handed back to their scripts\n";
    }
    return out;
}

}  // namespace examples
