# Finds standalone Asio (Debian: libasio-dev), which ships no CMake config.
# Defines asio_FOUND, asio_VERSION and the imported target asio::asio
# (header-only, ASIO_STANDALONE defined so websocketpp does not fall back to Boost).
find_path(asio_INCLUDE_DIR NAMES asio.hpp asio/version.hpp)
if(asio_INCLUDE_DIR AND EXISTS "${asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${asio_INCLUDE_DIR}/asio/version.hpp" _asio_ver REGEX "^#define ASIO_VERSION [0-9]+")
  string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" _asio_num "${_asio_ver}")
  math(EXPR _asio_major "${_asio_num} / 100000")
  math(EXPR _asio_minor "${_asio_num} / 100 % 1000")
  math(EXPR _asio_patch "${_asio_num} % 100")
  set(asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(asio REQUIRED_VARS asio_INCLUDE_DIR VERSION_VAR asio_VERSION)
if(asio_FOUND AND NOT TARGET asio::asio)
  add_library(asio::asio INTERFACE IMPORTED)
  set_target_properties(asio::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${asio_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE")
endif()
mark_as_advanced(asio_INCLUDE_DIR)
