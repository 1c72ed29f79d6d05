#!/usr/bin/env bash
# Builds the Debian packages with CPack into dist/:
#   libivrapi-dev_<version>-1_<arch>.deb   static libraries, headers, CMake and pkg-config
#                                          files, example sources
#   ivrapi-tools_<version>-1_<arch>.deb    ivrapi-cli, ivrapi-mock-server, man pages
# then runs lintian on them (fails on any error or warning it reports; the overrides
# shipped in each package explain the remaining tags).
#   scripts/package.sh                 BUILD_DIR=build-pkg, DIST_DIR=dist
#   DEB_MAINTAINER="Name <mail>" scripts/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build=${BUILD_DIR:-build-pkg}
dist=${DIST_DIR:-dist}
jobs=${JOBS:-$(nproc)}
# Debian's build flags (hardening: stack protector, fortify, relro/now), as
# dh_auto_configure passes them, without -g (no -dbgsym packages here).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
cxxflags=$(sed -e 's/\(^\| \)-g\( \|$\)/ /g' <<<"$cxxflags")
ldflags=$(dpkg-buildflags --get LDFLAGS)
args=(-DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr
      -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags"
      -DIVRAPI_BUILD_TESTS=OFF -DIVRAPI_BUILD_BENCH=OFF -DIVRAPI_BUILD_EXAMPLES=ON
      -DIVRAPI_DEBIAN_PACKAGE=ON -DIVRAPI_WERROR=ON
      -DIVRAPI_EXAMPLES_INSTALL_DIR=share/doc/libivrapi-dev/examples)
if [ -n "${DEB_MAINTAINER:-}" ]; then args+=(-DIVRAPI_DEB_MAINTAINER="$DEB_MAINTAINER"); fi
cmake -S . -B "$build" "${args[@]}" >/dev/null
cmake --build "$build" -j "$jobs"
rm -rf "$dist"; mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
(cd "$build" && cpack -G DEB -B "$dist" >/dev/null)
rm -rf "$dist/_CPack_Packages"
ls -1 "$dist"/*.deb
if command -v lintian >/dev/null 2>&1; then
  echo "== lintian"
  lintian --fail-on error,warning --info "$dist"/*.deb
  echo "lintian: clean"
else
  echo "lintian not installed: skipped (apt-get install lintian)"
fi
