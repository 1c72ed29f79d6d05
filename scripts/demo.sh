#!/usr/bin/env bash
# The README's main command: installs what is missing, builds the voicemail bot and
# runs it against the embedded mock Era platform with a simulated caller.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target voicemail >/dev/null
exec "$build/examples/voicemail" --demo
