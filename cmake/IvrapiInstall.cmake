# Install rules (when IVRAPI_INSTALL is on): a relocatable CMake package with components,
# pkg-config files, the headers, and (with the examples) the tools and example sources.
#   find_package(ivrapi 0.1 CONFIG REQUIRED [COMPONENTS mock])
#   target_link_libraries(app PRIVATE ivrapi::ivrapi)   # and ivrapi::mock for tests
# Install components (used by CPack for the Debian packages): "dev" for the libraries,
# headers and package files, "tools" for ivrapi-cli and ivrapi-mock-server.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(IVRAPI_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/ivrapi")

# Components a consumer may ask for ("cluster" is built only when hiredis is found); the
# config explains when a known component was not built.
set(IVRAPI_KNOWN_COMPONENTS mock cluster)
set(IVRAPI_INSTALLED_COMPONENTS)

install(TARGETS ivrapi EXPORT ivrapiTargets COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ivrapiTargets NAMESPACE ivrapi:: DESTINATION ${IVRAPI_CMAKE_DIR} COMPONENT dev)
install(DIRECTORY include/ivrapi DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        PATTERN "mock" EXCLUDE PATTERN "cluster.hpp" EXCLUDE)

if(TARGET ivrapi_mock)
  list(APPEND IVRAPI_INSTALLED_COMPONENTS mock)
  install(TARGETS ivrapi_mock EXPORT ivrapi-mockTargets COMPONENT dev
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT ivrapi-mockTargets NAMESPACE ivrapi:: DESTINATION ${IVRAPI_CMAKE_DIR} COMPONENT dev)
  install(DIRECTORY include/ivrapi/mock DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ivrapi COMPONENT dev)
endif()

if(TARGET ivrapi_cluster)
  list(APPEND IVRAPI_INSTALLED_COMPONENTS cluster)
  install(TARGETS ivrapi_cluster EXPORT ivrapi-clusterTargets COMPONENT dev
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT ivrapi-clusterTargets NAMESPACE ivrapi:: DESTINATION ${IVRAPI_CMAKE_DIR} COMPONENT dev)
  install(FILES include/ivrapi/cluster.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ivrapi COMPONENT dev)
endif()

# Which kind of library this package holds, for the config and pkg-config.
if(BUILD_SHARED_LIBS)
  set(IVRAPI_LIBRARY_TYPE SHARED)
else()
  set(IVRAPI_LIBRARY_TYPE STATIC)
endif()

string(REPLACE ";" ", " IVRAPI_KNOWN_COMPONENTS_TEXT "${IVRAPI_KNOWN_COMPONENTS}")
string(REPLACE ";" ", " IVRAPI_INSTALLED_COMPONENTS_TEXT "${IVRAPI_INSTALLED_COMPONENTS}")
if(NOT IVRAPI_INSTALLED_COMPONENTS_TEXT)
  set(IVRAPI_INSTALLED_COMPONENTS_TEXT "none")
endif()
configure_package_config_file(cmake/ivrapiConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfig.cmake" INSTALL_DESTINATION ${IVRAPI_CMAKE_DIR})
# 0.x: a new minor version may break the API, so only the same MAJOR.MINOR (and a
# patch at least the one asked for) is compatible. From 1.0 on, the same MAJOR.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_ivrapi_compat SameMinorVersion)
else()
  set(_ivrapi_compat SameMajorVersion)
endif()
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfigVersion.cmake"
  COMPATIBILITY ${_ivrapi_compat})
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfigVersion.cmake"
        DESTINATION ${IVRAPI_CMAKE_DIR} COMPONENT dev)

# pkg-config: prefix relative to the .pc file, so an unpacked or moved tree works too.
file(RELATIVE_PATH IVRAPI_PC_PREFIX_FROM_PCDIR "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
if(BUILD_SHARED_LIBS)
  # The shared library records its own dependencies.
  set(IVRAPI_PC_REQUIRES "")
  set(IVRAPI_PC_REQUIRES_PRIVATE "openssl")
  set(IVRAPI_PC_LIBS_EXTRA "")
  set(IVRAPI_PC_LIBS_PRIVATE "-pthread")
else()
  # A static archive: the application links what it needs.
  set(IVRAPI_PC_REQUIRES "openssl")
  set(IVRAPI_PC_REQUIRES_PRIVATE "")
  set(IVRAPI_PC_LIBS_EXTRA " -pthread")
  set(IVRAPI_PC_LIBS_PRIVATE "")
endif()
configure_file(cmake/ivrapi.pc.in "${CMAKE_CURRENT_BINARY_DIR}/ivrapi.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ivrapi.pc"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
if(TARGET ivrapi_mock)
  configure_file(cmake/ivrapi-mock.pc.in "${CMAKE_CURRENT_BINARY_DIR}/ivrapi-mock.pc" @ONLY)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ivrapi-mock.pc"
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endif()

if(TARGET ivrapi_cluster)
  configure_file(cmake/ivrapi-cluster.pc.in "${CMAKE_CURRENT_BINARY_DIR}/ivrapi-cluster.pc" @ONLY)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ivrapi-cluster.pc"
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endif()

# The tools, and the examples as sources that build on their own against this package.
if(TARGET ivrapi-cli)
  install(TARGETS ivrapi-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endif()
if(IVRAPI_BUILD_EXAMPLES)
  install(DIRECTORY examples/ DESTINATION ${IVRAPI_EXAMPLES_INSTALL_DIR} COMPONENT dev
          PATTERN "mock_server" EXCLUDE)
endif()
