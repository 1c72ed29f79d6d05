#include <ivrapi/version.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("version: the macros, the string and the linked library agree") {
    const std::string parts = std::to_string(IVRAPI_VERSION_MAJOR) + "." + std::to_string(IVRAPI_VERSION_MINOR) + "." +
                              std::to_string(IVRAPI_VERSION_PATCH);
    CHECK(parts == IVRAPI_VERSION_STRING);
    CHECK(std::string(ivrapi::version()) == IVRAPI_VERSION_STRING);
    CHECK(IVRAPI_VERSION == IVRAPI_VERSION_MAJOR * 10000 + IVRAPI_VERSION_MINOR * 100 + IVRAPI_VERSION_PATCH);
}

// CMake reads the project version from version.hpp; the build passes it back here.
TEST_CASE("version: the CMake project version is the header's") {
    CHECK(std::string(IVRAPI_PROJECT_VERSION) == IVRAPI_VERSION_STRING);
}
