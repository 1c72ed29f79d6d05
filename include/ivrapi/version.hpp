// The SDK's version. CMakeLists.txt reads these macros, so they are the only place the
// version is written down.
#pragma once

// Major version: 0 while the API may still change between minor versions.
#define IVRAPI_VERSION_MAJOR 0
// Minor version: in 0.x a new minor version may break the API (see README).
#define IVRAPI_VERSION_MINOR 1
// Patch version: fixes only; compatible within the same major.minor.
#define IVRAPI_VERSION_PATCH 0
// "MAJOR.MINOR.PATCH" of the headers being compiled.
#define IVRAPI_VERSION_STRING "0.1.0"
// One comparable number: MAJOR * 10000 + MINOR * 100 + PATCH.
#define IVRAPI_VERSION (IVRAPI_VERSION_MAJOR * 10000 + IVRAPI_VERSION_MINOR * 100 + IVRAPI_VERSION_PATCH)

namespace ivrapi {

// The version of the library actually linked ("MAJOR.MINOR.PATCH"). With a shared
// library it may differ from IVRAPI_VERSION_STRING, the headers' version.
const char* version() noexcept;

}  // namespace ivrapi
