#!/usr/bin/env bash
# Installs the built tree into a scratch prefix and builds tests/consumer against it.
set -euo pipefail
build=$1; src=$2; work=$3
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
"$work/build/consumer" | grep -q '"oType":204'
if [ -x "$work/build/consumer_mock" ]; then "$work/build/consumer_mock"; fi
echo "consumer built and ran against the installed package"
