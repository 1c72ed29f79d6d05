// Ctrl-C handling for the examples: block SIGINT/SIGTERM in every thread (call this
// first in main, before any thread starts), then wait for one in main.
#pragma once

#include <pthread.h>
#include <csignal>

namespace examples {

class ShutdownSignal {
public:
    ShutdownSignal() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGUSR1);                   // raise_now(): the program's own wake-up, not a user's signal
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);  // threads started later inherit it
    }
    // Blocks until Ctrl-C, SIGTERM or raise_now(); returns the signal number (SIGUSR1
    // for raise_now()).
    int wait() {
        int sig = 0;
        sigwait(&set_, &sig);
        return sig;
    }
    // Makes a pending wait() return (e.g. when the work is done).
    static void raise_now() { kill(getpid(), SIGUSR1); }

private:
    sigset_t set_;
};

}  // namespace examples
