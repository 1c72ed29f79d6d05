#!/usr/bin/env bash
# The benchmarks, in one command: builds ivrapi_bench in Release (build-bench/), runs every
# bench (SDK next to raw websocketpp, same run, same core placement), prints the table and
# writes docs/performance.md (machine, compiler, date, figures, baselines, ratios, targets),
# followed by the analysis in bench/notes.md.
#
#   scripts/bench.sh            full run (~2 minutes on 2 cores)
#   scripts/bench.sh --smoke    tiny counts, no report (what CTest's bench_smoke runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
jobs=${BENCH_JOBS:-1}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DIVRAPI_BUILD_TESTS=ON \
      -DIVRAPI_BUILD_EXAMPLES=OFF -DIVRAPI_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$jobs" --target ivrapi_bench

if [ "${1:-}" = "--smoke" ]; then
  exec "$build/bench/ivrapi_bench" --smoke
fi

model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
cpus=$(nproc)
machine="$model, $cpus CPUs ($(uname -sr))"
report="$root/docs/performance.md"
mkdir -p "$root/docs"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$build/bench/ivrapi_bench" --report "$tmp" --machine "$machine" "$@"
{
  cat "$tmp"
  if [ -f "$root/bench/notes.md" ]; then echo; cat "$root/bench/notes.md"; fi
} > "$report"
echo "wrote $report"
