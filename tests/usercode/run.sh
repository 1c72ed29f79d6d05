#!/usr/bin/env bash
# Compiles tests/usercode/user_code.cpp like a user's warning-clean -O2 build would:
# our headers through -I (not -isystem), so any warning from them counts.
#   run.sh <compiler> <source dir> <include dir>
set -euo pipefail
cxx=$1; src=$2; inc=$3
"$cxx" -std=c++17 -O2 -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$src/user_code.cpp" -o /dev/null
echo "$cxx: no warnings at -O2 -Wall -Wextra -Wpedantic"
