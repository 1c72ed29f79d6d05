#!/usr/bin/env bash
# CI: clang-tidy with .clang-tidy over the SDK's sources in src/ (findings are errors).
# Needs a build directory with compile_commands.json (scripts/test.sh makes build/).
# Paths listed in scripts/format-pending.txt and scripts/tidy-pending.txt are skipped.
#   scripts/check-tidy.sh [build dir]      JOBS=2 by default
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
command -v clang-tidy >/dev/null || { echo "check-tidy.sh: clang-tidy missing (apt-get install clang-tidy)" >&2; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "check-tidy.sh: no $build/compile_commands.json (configure first)" >&2; exit 1; }
mapfile -t pending < <(grep -h -v -e '^#' -e '^$' scripts/format-pending.txt scripts/tidy-pending.txt)
files=()
while IFS= read -r f; do
  skip=0
  for p in "${pending[@]}"; do [[ $f == "$p"* ]] && skip=1 && break; done
  [ $skip -eq 0 ] && files+=("$f")
done < <(git ls-files -- 'src/*.cpp')
echo "check-tidy: ${#files[@]} files (${#pending[@]} pending paths skipped)"
# GCC-only flags in the compile commands are unknown to clang: ignore them.
printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "${JOBS:-2}" \
  clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument --extra-arg=-Wno-error
echo "check-tidy: clean"
