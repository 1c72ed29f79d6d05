#!/usr/bin/env bash
# CI: checks the Debian packages scripts/package.sh made, as a user of them would:
#   1. their metadata and contents (the files each must hold, and nothing misplaced);
#   2. the consumer of tests/consumer built against the unpacked libivrapi-dev, with
#      CMake and with pkg-config + make (tests/consumer/run.sh --prefix);
#   3. the installed example sources built on their own against it.
#   scripts/check-package.sh [dist dir]     WORK_DIR=build-pkgcheck
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:-dist}
work=${WORK_DIR:-build-pkgcheck}
version=$(sed -n 's/^#define IVRAPI_VERSION_STRING "\(.*\)"$/\1/p' include/ivrapi/version.hpp)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
dev="$dist/libivrapi-dev_${version}-1_${arch}.deb"
tools="$dist/ivrapi-tools_${version}-1_${arch}.deb"
rm -rf "$work"; mkdir -p "$work"; work=$(cd "$work" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
field() { dpkg-deb -f "$1" "$2"; }

echo "== metadata"
for deb in "$dev" "$tools"; do [ -f "$deb" ] || fail "$deb missing (run scripts/package.sh)"; done
[ "$(field "$dev" Package)" = libivrapi-dev ] || fail "dev package name"
[ "$(field "$dev" Section)" = libdevel ] || fail "libivrapi-dev section: $(field "$dev" Section)"
[ "$(field "$dev" Version)" = "${version}-1" ] || fail "libivrapi-dev version: $(field "$dev" Version)"
field "$dev" Depends | grep -q 'libssl-dev' || fail "libivrapi-dev must depend on libssl-dev"
[ "$(field "$tools" Section)" = net ] || fail "ivrapi-tools section: $(field "$tools" Section)"
field "$tools" Depends | grep -q 'libssl3' || fail "ivrapi-tools must depend on libssl3 (shlibdeps): $(field "$tools" Depends)"
if dpkg-deb -c "$dev" | grep -q 'libivrapi_cluster\.a'; then
  field "$dev" Depends | grep -q 'libhiredis-dev' || fail "libivrapi-dev holds the cluster library: it must depend on libhiredis-dev"
fi
echo "ok   names, sections, versions, dependencies"

echo "== contents"
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|' | sort; }
contents "$dev" > "$work/dev.txt"
contents "$tools" > "$work/tools.txt"
expect() {  # expect <list> <path regex>...
  local list=$1; shift
  for re in "$@"; do grep -Eq "^${re}\$" "$work/$list" || fail "$list: nothing matches ^${re}\$"; done
}
lib=/usr/lib/$multiarch
expect dev.txt "$lib/libivrapi\.a" "$lib/libivrapi_mock\.a" \
  /usr/include/ivrapi/ivrapi\.hpp /usr/include/ivrapi/version\.hpp /usr/include/ivrapi/mock/server\.hpp \
  "$lib/cmake/ivrapi/ivrapiConfig\.cmake" "$lib/cmake/ivrapi/ivrapiConfigVersion\.cmake" \
  "$lib/cmake/ivrapi/ivrapiTargets\.cmake" "$lib/cmake/ivrapi/ivrapi-mockTargets\.cmake" \
  "$lib/pkgconfig/ivrapi\.pc" "$lib/pkgconfig/ivrapi-mock\.pc" \
  /usr/share/doc/libivrapi-dev/copyright /usr/share/doc/libivrapi-dev/changelog\.Debian\.gz \
  /usr/share/doc/libivrapi-dev/examples/CMakeLists\.txt /usr/share/doc/libivrapi-dev/examples/common/client_from_url\.hpp \
  /usr/share/doc/libivrapi-dev/examples/hello/CMakeLists\.txt
expect tools.txt /usr/bin/ivrapi-cli /usr/bin/ivrapi-mock-server \
  /usr/share/man/man1/ivrapi-cli\.1\.gz /usr/share/man/man1/ivrapi-mock-server\.1\.gz \
  /usr/share/doc/ivrapi-tools/copyright /usr/share/doc/ivrapi-tools/changelog\.Debian\.gz
# Nothing outside /usr, no binaries in the dev package, no libraries or headers in tools,
# no websocketpp/Asio/RapidJSON header, no build-tree leftovers.
grep -Ev '^/usr(/|$)|^/$' "$work/dev.txt" "$work/tools.txt" && fail "files outside /usr"
grep -E '^/usr/bin/.' "$work/dev.txt" && fail "binaries in libivrapi-dev"
grep -E '^/usr/(include|lib)/.' "$work/tools.txt" && fail "library files in ivrapi-tools"
# ivrapi/asio.hpp is the one integration header DESIGN.md allows (the client on the
# caller's io_context); any other Asio/websocketpp/RapidJSON path is a leak.
grep -Ei 'websocketpp|asio|rapidjson|CMakeFiles|\.o$' "$work/dev.txt" "$work/tools.txt" \
  | grep -vx "$work/dev.txt:/usr/include/ivrapi/asio.hpp" && fail "stray files"
grep -qx /usr/include/ivrapi/asio.hpp "$work/dev.txt" || fail "dev.txt: the integration header ivrapi/asio.hpp is missing"
grep -E 'mock_server' "$work/dev.txt" && fail "the mock server's sources are not an example"
echo "ok   $(wc -l < "$work/dev.txt") entries in libivrapi-dev, $(wc -l < "$work/tools.txt") in ivrapi-tools"

echo "== unpacked libivrapi-dev"
dpkg-deb -x "$dev" "$work/root"
dpkg-deb -x "$tools" "$work/root"
"$work/root/usr/bin/ivrapi-cli" --version | grep -qx "ivrapi-cli $version" || fail "ivrapi-cli --version"
"$work/root/usr/bin/ivrapi-mock-server" --version | grep -qx "ivrapi-mock-server $version" || fail "ivrapi-mock-server --version"
tests/consumer/run.sh "" tests/consumer "$work/consumer" --prefix "$work/root/usr"

echo "== standalone examples against the unpacked package"
cp -r "$work/root/usr/share/doc/libivrapi-dev/examples" "$work/examples"
cmake -S "$work/examples" -B "$work/examples-build" -DCMAKE_PREFIX_PATH="$work/root/usr" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/examples-build" -j "${JOBS:-$(nproc)}" >/dev/null
for exe in hello menu voicemail ivrapi-cli; do
  [ -x "$work/examples-build/$exe" ] || fail "example $exe not built"
done
"$work/examples-build/ivrapi-cli" --version | grep -qx "ivrapi-cli $version" || fail "standalone ivrapi-cli --version"
(cd "$work/examples-build" && ctest --output-on-failure -j 2 >/dev/null) || fail "standalone testing_your_bot tests"
# One example alone, outside the examples tree's CMakeLists.txt (it needs ../common only).
cmake -S "$work/examples/hello" -B "$work/hello-build" -DCMAKE_PREFIX_PATH="$work/root/usr" >/dev/null
cmake --build "$work/hello-build" >/dev/null
[ -x "$work/hello-build/hello" ] || fail "hello alone"
echo "check-package: both packages pass"
