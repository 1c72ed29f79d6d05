#!/usr/bin/env bash
# Builds everything and runs the whole test suite (the README's test command).
#   scripts/test.sh                      # RelWithDebInfo in build/
#   BUILD_DIR=build-asan SANITIZE=address,undefined scripts/test.sh
#   TEST_REGEX=integration scripts/test.sh   # a subset (ctest -R)
#   CMAKE_ARGS='-DIVRAPI_BUILD_BENCH=OFF' scripts/test.sh   # extra configure options
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
      -DIVRAPI_SANITIZE="${SANITIZE:-}" -DIVRAPI_WERROR=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$jobs"
args=(--output-on-failure -j "$jobs" --timeout 300)
if [ -n "${TEST_REGEX:-}" ]; then args+=(-R "$TEST_REGEX"); fi
if [ -n "${TEST_EXCLUDE:-}" ]; then args+=(-E "$TEST_EXCLUDE"); fi
(cd "$build" && ctest "${args[@]}")
