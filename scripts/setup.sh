#!/usr/bin/env bash
# Installs the Debian 12 packages the SDK builds with, when any is missing.
# Runs apt-get as root or through sudo; says clearly what to do when neither works.
set -euo pipefail

packages=(build-essential cmake pkg-config libwebsocketpp-dev libasio-dev rapidjson-dev
          catch2 libssl-dev openssl ccache python3
          # the optional cluster target (ivrapi::cluster) and its tests
          libhiredis-dev redis-server
          # checks, API reference and Debian packages (CI, scripts/docs.sh, scripts/package.sh)
          clang clang-format clang-tidy doxygen lintian dpkg-dev)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ivrapi-cpp: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "ivrapi-cpp: cannot install packages (not root and no password-less sudo)." >&2
  echo "  run as root:  apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >&2 || true
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
