# `cmake --install` produces a relocatable CMake package:
#   find_package(ivrapi CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE ivrapi::ivrapi)   # and ivrapi::mock for tests
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(IVRAPI_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/ivrapi")
set(_ivrapi_targets ivrapi)
if(TARGET ivrapi_mock)
  list(APPEND _ivrapi_targets ivrapi_mock)
endif()
install(TARGETS ${_ivrapi_targets} EXPORT ivrapiTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ivrapi DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ivrapiTargets NAMESPACE ivrapi:: DESTINATION ${IVRAPI_CMAKE_DIR})
configure_package_config_file(cmake/ivrapiConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfig.cmake" INSTALL_DESTINATION ${IVRAPI_CMAKE_DIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/ivrapiConfigVersion.cmake"
        DESTINATION ${IVRAPI_CMAKE_DIR})
