# Debian packages through CPack (scripts/package.sh drives it):
#   libivrapi-dev  (libdevel) static libraries, headers, CMake and pkg-config files,
#                  example sources
#   ivrapi-tools   (net)      ivrapi-cli and ivrapi-mock-server
# With IVRAPI_DEBIAN_PACKAGE=ON the install also puts what Debian expects in each
# package's /usr/share/doc/<package>: copyright, changelog.Debian.gz, and the man pages.
option(IVRAPI_DEBIAN_PACKAGE "Install the Debian files (copyright, changelogs, man pages) for CPack" OFF)
set(IVRAPI_DEB_MAINTAINER "ivrapi-cpp maintainers <maintainers@ivrapi-cpp.invalid>" CACHE STRING
    "Maintainer field of the Debian packages")
set(IVRAPI_DEB_RELEASE "1" CACHE STRING "Debian revision of the packages")

set(_ivrapi_deb_packages dev libivrapi-dev tools ivrapi-tools)

if(IVRAPI_DEBIAN_PACKAGE)
  # changelog.Debian.gz: one entry per package, for this upstream version.
  string(TIMESTAMP _ivrapi_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  set(_i 0)
  list(LENGTH _ivrapi_deb_packages _n)
  while(_i LESS _n)
    list(GET _ivrapi_deb_packages ${_i} comp)
    math(EXPR _j "${_i} + 1")
    list(GET _ivrapi_deb_packages ${_j} pkg)
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/debian/${pkg}")
    file(WRITE "${dir}/changelog.Debian"
"${pkg} (${PROJECT_VERSION}-${IVRAPI_DEB_RELEASE}) unstable; urgency=medium

  * Upstream release ${PROJECT_VERSION}; see /usr/share/doc/libivrapi-dev/changelog.gz.

 -- ${IVRAPI_DEB_MAINTAINER}  ${_ivrapi_deb_date}
")
    install(CODE "execute_process(COMMAND gzip -9nc \"${dir}/changelog.Debian\"
                                  OUTPUT_FILE \"${dir}/changelog.Debian.gz\")" COMPONENT ${comp})
    configure_file(cmake/debian-copyright.in "${dir}/copyright" @ONLY)
    install(FILES "${dir}/copyright" "${dir}/changelog.Debian.gz"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${comp})
    math(EXPR _i "${_i} + 2")
  endwhile()
  # The upstream changelog as Debian names it; the README as it is.
  set(_ivrapi_changelog "${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.gz")
  install(CODE "execute_process(COMMAND gzip -9nc \"${PROJECT_SOURCE_DIR}/CHANGELOG.md\"
                                OUTPUT_FILE \"${_ivrapi_changelog}\")" COMPONENT dev)
  install(FILES "${_ivrapi_changelog}" README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libivrapi-dev COMPONENT dev)
  # Tags lintian reports that do not apply here, each with its reason.
  foreach(pkg libivrapi-dev ivrapi-tools)
    set(comp dev)
    if(pkg STREQUAL "ivrapi-tools")
      set(comp tools)
    endif()
    file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/${pkg}.lintian-overrides"
"# Built from the upstream tree with CPack, not uploaded to Debian: there is no ITP bug
# for the first changelog entry to close.
${pkg}: initial-upload-closes-no-bugs
")
    install(FILES "${CMAKE_CURRENT_BINARY_DIR}/debian/${pkg}.lintian-overrides"
            DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME ${pkg} COMPONENT ${comp})
  endforeach()
  # Man pages, compressed as Debian wants them.
  foreach(page ivrapi-cli.1 ivrapi-mock-server.1)
    set(gz "${CMAKE_CURRENT_BINARY_DIR}/debian/${page}.gz")
    install(CODE "execute_process(COMMAND gzip -9nc \"${PROJECT_SOURCE_DIR}/docs/man/${page}\"
                                  OUTPUT_FILE \"${gz}\")" COMPONENT tools)
    install(FILES "${gz}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
  endforeach()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ivrapi)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "ivrapi-cpp authors")
set(CPACK_PACKAGE_CONTACT "${IVRAPI_DEB_MAINTAINER}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${IVRAPI_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${IVRAPI_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libivrapi-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The static libraries link OpenSSL; the CMake and pkg-config files find it.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libssl-dev, pkg-config | pkgconf")
if(TARGET ivrapi_cluster)  # libivrapi_cluster.a links hiredis
  string(APPEND CPACK_DEBIAN_DEV_PACKAGE_DEPENDS ", libhiredis-dev")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "ivrapi-tools (= ${PROJECT_VERSION}-${IVRAPI_DEB_RELEASE}), catch2")
# First line: the synopsis; CPack indents the rest and turns empty lines into " .".
# CPackDeb puts CPACK_PACKAGE_DESCRIPTION_SUMMARY before it unless that is CPack's own
# default text (which it otherwise takes from the project's DESCRIPTION): keep the default.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_DEBIAN_DEV_DESCRIPTION
"C++17 client SDK for the Era platform's IVR control API
ivrapi-cpp drives IVR (phone call) sessions of the Era platform over its
WebSocket Token API (capability ivrapi): claim offered calls, play, record,
collect digits, transfer and hang up, with futures or callbacks.

This package holds the static libraries (libivrapi, and libivrapi_mock, a mock
platform for tests), the headers, CMake and pkg-config files, and example
sources that build on their own.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ivrapi-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)  # Depends from the binaries' shared libraries
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
"command-line client and mock server for the Era platform's IVR control API
ivrapi-cli connects to the Era platform's WebSocket Token API (capability
ivrapi) to watch IVR events, claim sessions and run flows of components,
printing NDJSON. ivrapi-mock-server runs a mock of the platform for testing
clients in any language.")

include(CPack)
