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
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);  // threads started later inherit it
    }
    // Blocks until Ctrl-C (or SIGTERM); returns the signal number.
    int wait() {
        int sig = 0;
        sigwait(&set_, &sig);
        return sig;
    }
    // Makes a pending wait() return (e.g. when the work is done).
    static void raise_now() { kill(getpid(), SIGTERM); }

private:
    sigset_t set_;
};

}  // namespace examples
