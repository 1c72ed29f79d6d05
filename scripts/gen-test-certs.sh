#!/usr/bin/env bash
# Generates the TLS material the tests use, into $1:
#   ca.pem/ca.key            test CA
#   server.pem/server.key    signed by the CA, SAN localhost + 127.0.0.1
#   wronghost.pem/.key       signed by the CA, SAN wrong.invalid only (hostname check)
#   other-ca.pem             an unrelated CA (wrong CA check)
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
[ -f server.pem ] && [ -f wronghost.pem ] && [ -f other-ca.pem ] && exit 0
days=3650
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days \
  -subj "/CN=ivrapi test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days $days \
  -subj "/CN=ivrapi unrelated CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
issue() {  # name san
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days $days -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue server "DNS:localhost,IP:127.0.0.1"
issue wronghost "DNS:wrong.invalid"
