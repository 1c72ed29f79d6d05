#include <ivrapi/version.hpp>

namespace ivrapi {

const char* version() noexcept { return IVRAPI_VERSION_STRING; }

}  // namespace ivrapi
