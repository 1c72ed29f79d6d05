#!/usr/bin/env bash
# The benchmarks, in one command: builds ivrapi_bench in Release (build-bench/), runs every
# bench (SDK next to raw websocketpp, same run, same core placement), prints the table and
# writes docs/performance.md (machine, compiler, date, figures, baselines, ratios, targets),
# followed by the analysis in bench/notes.md.
#
#   scripts/bench.sh            full run (~7 minutes on 2 cores)
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

# Instructions per event on the client thread, counted by callgrind: unlike events/s and
# CPU time, the count does not move with the host's noise, so it shows which client does
# less work per event even when the timed ratios sit within their spread of 1.00.
instructions=$(mktemp)
trap 'rm -f "$tmp" "$instructions"' EXIT
if command -v valgrind >/dev/null && [ $# -eq 0 ]; then
  events=20000
  work=$(mktemp -d)
  # Prints "SDK raw": the instructions of each client's event thread in one run of N events.
  count() {
    rm -f "$work"/callgrind.out.*
    (cd "$work" && valgrind --tool=callgrind --separate-threads=yes \
      "$build/bench/ivrapi_bench" --only dispatch --case "$1" --reps 1 --push "$2" --flat-only >/dev/null 2>&1)
    local sdk="" raw="" f total
    for f in "$work"/callgrind.out.*-*; do
      total=$(callgrind_annotate "$f" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
      # The SDK's I/O thread runs ClientCore; of the threads that run RawDispatch's
      # code (its handler, and main, which starts it) the raw client's is the busiest.
      if grep -q 'ClientCore::on_frame' "$f"; then
        sdk=$total
      elif grep -q 'RawDispatch' "$f" && [ "$total" -gt "${raw:-0}" ]; then
        raw=$total
      fi
    done
    echo "$sdk $raw"
  }
  {
    echo "### Instructions per event on the client thread (callgrind)"
    echo
    echo "\`valgrind --tool=callgrind --separate-threads=yes ivrapi_bench --only dispatch --case CASE --reps 1 --push N --flat-only\`"
    echo "for N = $events and $((2 * events)): the instructions of the thread that runs the event callbacks (the"
    echo "SDK's I/O thread, the raw client's thread), the difference of the two runs divided by the"
    echo "$events events between them: what one more event costs, without connecting and the"
    echo "process's one-time set-up (OpenSSL's random generator, seeded at the first handshake: ~8 M"
    echo "instructions on whichever client connects first). Repeatable to ~1 %; lower is better."
    echo
    echo "| Case | SDK | raw websocketpp | SDK/raw |"
    echo "|---|---|---|---|"
    for c in ws-dtmf ws-notify wss-dtmf wss-notify; do
      read -r sdk1 raw1 < <(count "$c" "$events") || true  # a failed count leaves the row out
      read -r sdk2 raw2 < <(count "$c" "$((2 * events))") || true
      if [ -n "$sdk1" ] && [ -n "$raw1" ] && [ -n "$sdk2" ] && [ -n "$raw2" ]; then
        awk -v c="$c" -v s1="$sdk1" -v r1="$raw1" -v s2="$sdk2" -v r2="$raw2" -v n="$events" \
          'BEGIN { s = (s2 - s1) / n; r = (r2 - r1) / n; printf "| %s | %d | %d | %.2f |\n", c, s, r, s / r }'
      fi
    done
  } > "$instructions"
  rm -rf "$work"
  cat "$instructions"
fi
{
  cat "$tmp"
  if [ -s "$instructions" ]; then echo; cat "$instructions"; fi
  if [ -f "$root/bench/notes.md" ]; then echo; cat "$root/bench/notes.md"; fi
} > "$report"
echo "wrote $report"
