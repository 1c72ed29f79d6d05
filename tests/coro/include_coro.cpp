// Compiled as C++17 by a test that expects the #error of <ivrapi/coro.hpp>.
#include <ivrapi/coro.hpp>
