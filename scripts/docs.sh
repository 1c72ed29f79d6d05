#!/usr/bin/env bash
# Builds the API reference (Doxygen, over include/ivrapi) into build-docs/api/html.
# Fails, listing them, on any warning: an undocumented public name or a broken doc comment.
#   scripts/docs.sh [output dir]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || { echo "docs.sh: doxygen missing (apt-get install doxygen)" >&2; exit 1; }
out=$(mkdir -p "${1:-build-docs/api}" && cd "${1:-build-docs/api}" && pwd)
rm -rf "$out/html" "$out/warnings.log"
version=$(sed -n 's/^#define IVRAPI_VERSION_STRING "\(.*\)"$/\1/p' include/ivrapi/version.hpp)
if ! IVRAPI_VERSION="$version" IVRAPI_DOCS_OUT="$out" doxygen docs/Doxyfile || [ -s "$out/warnings.log" ]; then
  echo "docs.sh: doxygen warnings (every public name needs a comment, see docs/doxygen-filter.py):" >&2
  cat "$out/warnings.log" >&2
  exit 1
fi
echo "docs.sh: API reference in $out/html/index.html"
