#!/usr/bin/env bash
# Installs the built tree into a scratch prefix (or takes an unpacked package's prefix
# with --prefix) and checks it as a user would:
#   1. tests/consumer with CMake: find_package(ivrapi) + ivrapi::ivrapi, and ivrapi::mock;
#   2. the same sources with plain make and pkg-config (ivrapi.pc, ivrapi-mock.pc);
#   3. find_package rules: an unknown component and an incompatible version fail with a
#      clear reason; the config says which kind of library it holds.
#   run.sh <build dir> <tests/consumer dir> <work dir> [--prefix DIR]
set -euo pipefail
build=$1; src=$(cd "$2" && pwd); work=$3
prefix=${5:-}
rm -rf "$work"; mkdir -p "$work"
if [ -z "$prefix" ]; then
  prefix="$work/prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi
prefix=$(cd "$prefix" && pwd)
libdir=$(dirname "$(find "$prefix" -name 'libivrapi.*' -print -quit)")
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== CMake consumer"
cmake -S "$src" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
"$work/build/consumer" | grep -q '"oType":204'
[ -x "$work/build/consumer_mock" ] && "$work/build/consumer_mock"

echo "== pkg-config consumer (plain make)"
mkdir -p "$work/make"
cp "$src/Makefile" "$src/main.cpp" "$src/mock_main.cpp" "$work/make/"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --exists --print-errors ivrapi ivrapi-mock
[ "$(pkg-config --modversion ivrapi)" = "$(grep -o '"[0-9.]*"' "$prefix/include/ivrapi/version.hpp" | tr -d '"')" ]
make -s -C "$work/make" >/dev/null
"$work/make/consumer_pc" | grep -q '"oType":204'
"$work/make/consumer_mock_pc"

echo "== find_package rules"
probe() {  # probe <version> <components> -> configure output; status in $probe_status
  rm -rf "$work/probe"
  set +e
  probe_out=$(cmake -S "$src/probe" -B "$work/probe" -DCMAKE_PREFIX_PATH="$prefix" \
                    -DPROBE_VERSION="$1" -DPROBE_COMPONENTS="$2" 2>&1)
  probe_status=$?
  set -e
}
expect() {  # expect <ok|fail> <text> <what>
  if { [ "$1" = ok ] && [ $probe_status -ne 0 ]; } || { [ "$1" = fail ] && [ $probe_status -eq 0 ]; } \
     || ! grep -qF -- "$2" <<<"$probe_out"; then
    echo "FAIL: $3: expected $1 with '$2'; got:"; echo "$probe_out"; exit 1
  fi
  echo "ok   $3"
}
version=$(pkg-config --modversion ivrapi)
major=${version%%.*}; rest=${version#*.}; minor=${rest%%.*}
kind=STATIC; if ls "$libdir"/libivrapi.so* >/dev/null 2>&1; then kind=SHARED; fi
probe "" "mock";                    expect ok "probe: ivrapi $version $kind" "component mock, library type $kind"
probe "" "nosuch";                  expect fail 'ivrapi has no component "nosuch"' "unknown component"
if ls "$libdir"/libivrapi_cluster.* >/dev/null 2>&1; then
  probe "" "cluster";               expect ok "probe: ivrapi $version" "component cluster (built with hiredis)"
  pkg-config --exists --print-errors ivrapi-cluster
  printf '#include <ivrapi/cluster.hpp>\nint main() { ivrapi::cluster::RedisStats s; return s.redis_up ? 1 : 0; }\n' \
    >"$work/cluster_main.cpp"
  c++ -std=c++17 "$work/cluster_main.cpp" -o "$work/cluster_pc" $(pkg-config --cflags --libs ivrapi-cluster)
  "$work/cluster_pc"
  echo "ok   pkg-config ivrapi-cluster"
else
  probe "" "cluster";               expect fail 'the component "cluster" was not built' "known component not built"
fi
probe "$major.$minor" "";           expect ok "probe: ivrapi $version" "same major.minor accepted"
probe "$major.$((minor + 1))" "";   expect fail "with requested version" "a newer minor refused"
if [ "$major" -eq 0 ] && [ "$minor" -gt 0 ]; then
  probe "0.$((minor - 1))" "";      expect fail "with requested version" "an older 0.x minor refused (0.x minors may break)"
fi
echo "consumer built and ran against the installed package ($kind)"
