#!/usr/bin/env bash
# Configures tests/consumer/subproject (the SDK under add_subdirectory) and checks that
# the SDK generates no install rules there (IVRAPI_INSTALL is off when not top level),
# and that -DIVRAPI_INSTALL=ON brings them back.
#   subproject.sh <SDK source dir> <work dir>
set -euo pipefail
src=$(cd "$1" && pwd); work=$2
rm -rf "$work"
cmake -S "$src/tests/consumer/subproject" -B "$work/off" -DIVRAPI_SOURCE_DIR="$src" >/dev/null
if grep -q 'ivrapiConfig.cmake\|libivrapi' "$work/off/ivrapi/cmake_install.cmake"; then
  echo "FAIL: install rules generated under add_subdirectory"; exit 1
fi
cmake -S "$src/tests/consumer/subproject" -B "$work/on" -DIVRAPI_SOURCE_DIR="$src" -DIVRAPI_INSTALL=ON >/dev/null
grep -q 'ivrapiConfig.cmake' "$work/on/ivrapi/cmake_install.cmake" || { echo "FAIL: IVRAPI_INSTALL=ON installs nothing"; exit 1; }
echo "subproject: no tests, examples or install rules by default; IVRAPI_INSTALL=ON installs"
