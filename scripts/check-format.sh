#!/usr/bin/env bash
# CI: fails when a tracked C++ file differs from .clang-format's output, and shows how.
# Paths listed in scripts/format-pending.txt are skipped (see that file).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format.sh: clang-format missing" >&2; exit 1; }
mapfile -t pending < <(grep -v -e '^#' -e '^$' scripts/format-pending.txt)
bad=0; checked=0
while IFS= read -r -d '' f; do
  skip=0
  for p in "${pending[@]}"; do [[ $f == "$p"* ]] && skip=1 && break; done
  [ $skip -eq 1 ] && continue
  checked=$((checked + 1))
  if ! out=$(clang-format --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" -); then
    printf '%s\n' "$out" | head -40
    bad=$((bad + 1))
  fi
done < <(git ls-files -z -- '*.cpp' '*.hpp')
if [ $bad -ne 0 ]; then
  echo "check-format: $bad of $checked files need scripts/format.sh" >&2
  exit 1
fi
echo "check-format: $checked files formatted (${#pending[@]} pending paths skipped)"
