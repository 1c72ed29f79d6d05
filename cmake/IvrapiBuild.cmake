# Shared build settings for every target of this project.

# Our own code: strict warnings. Third-party headers come in as SYSTEM, so they stay quiet.
function(ivrapi_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(IVRAPI_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# websocketpp + standalone Asio + RapidJSON as private SYSTEM includes. Added as
# properties, not as a linked INTERFACE target, so nothing third-party leaks into the
# exported package (the library is static; these are header-only).
function(ivrapi_use_third_party target)
  target_include_directories(${target} SYSTEM PRIVATE
    ${asio_INCLUDE_DIR} ${WEBSOCKETPP_INCLUDE_DIR} ${RAPIDJSON_INCLUDE_DIRS})
  target_compile_definitions(${target} PRIVATE ASIO_STANDALONE
    RAPIDJSON_HAS_STDSTRING=1 _WEBSOCKETPP_CPP11_STL_)
  target_link_libraries(${target} PRIVATE OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endfunction()

option(IVRAPI_WERROR "Treat warnings in our code as errors" OFF)

if(IVRAPI_SANITIZE)
  add_compile_options(-fsanitize=${IVRAPI_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${IVRAPI_SANITIZE})
  if(IVRAPI_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(IVRAPI_SANITIZE MATCHES "thread")
    # TSan does not model std::atomic_thread_fence (GCC warns, -Wtsan); Asio's fenced
    # blocks only add fences on top of its mutex-protected queues, so use its null ones.
    add_compile_options(-Wno-tsan)
    add_compile_definitions(ASIO_DISABLE_FENCED_BLOCK)
  endif()
endif()

# Library settings shared by ivrapi and ivrapi_mock. As shared libraries they carry a
# SOVERSION of MAJOR.MINOR while the major version is 0 (a 0.x minor release may break
# the ABI), MAJOR after that; and a linker version script exports the ivrapi:: symbols
# only, so the websocketpp, Asio and RapidJSON code compiled into them stays private.
function(ivrapi_library target)
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(soversion "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")
  else()
    set(soversion "${PROJECT_VERSION_MAJOR}")
  endif()
  set_target_properties(${target} PROPERTIES
    VERSION ${PROJECT_VERSION} SOVERSION ${soversion}
    POSITION_INDEPENDENT_CODE ON
    VISIBILITY_INLINES_HIDDEN ON)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "SHARED_LIBRARY")
    set(map "${PROJECT_SOURCE_DIR}/cmake/ivrapi.map")
    target_link_options(${target} PRIVATE "LINKER:--version-script=${map}" "LINKER:--no-undefined")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map}")
  endif()
endfunction()
