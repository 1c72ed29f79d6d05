#!/usr/bin/env bash
# The reliability soak (docs/reliability.md): calls through the mock platform while its
# connections drop every 2-5 s, then the same with a platform that loses the events of
# detached calls. Prints the figures.
#   scripts/soak.sh                 # 1,000 + 300 calls at 40 calls/s
#   CALLS=5000 RATE=50 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target test_soak
IVRAPI_SOAK_CALLS=${CALLS:-1000} IVRAPI_SOAK_LOST_CALLS=${LOST_CALLS:-300} IVRAPI_SOAK_RATE=${RATE:-40} \
  "$build/tests/test_soak" --durations yes
