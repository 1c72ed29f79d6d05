#include "client/loop.hpp"

#include <ivrapi/future.hpp>

namespace ivrapi::detail {
namespace {
thread_local const void* tls_current_loop = nullptr;
}

void set_current_loop(const void* loop) noexcept { tls_current_loop = loop; }
const void* current_loop() noexcept { return tls_current_loop; }

}  // namespace ivrapi::detail
