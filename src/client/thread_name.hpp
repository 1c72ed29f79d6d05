// Names the SDK's threads ("ivrapi-io", "ivrapi-worker") so `top -H`, gdb and
// `perf report --comm` tell them from the application's own.
#pragma once

#include <pthread.h>

namespace ivrapi::detail {

inline void name_this_thread(const char* name) noexcept {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name);  // at most 15 characters
#else
    (void)name;
#endif
}

}  // namespace ivrapi::detail
