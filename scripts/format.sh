#!/usr/bin/env bash
# Formats tracked C++ files in place with .clang-format (clang-format 14, Debian 12).
#   scripts/format.sh              # every tracked .cpp/.hpp
#   scripts/format.sh src/client   # only under these paths
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format.sh: clang-format missing (apt-get install clang-format)" >&2; exit 1; }
git ls-files -z -- "${@:-.}" | grep -z -E '\.(cpp|hpp)$' | xargs -0 -r clang-format -i --style=file
