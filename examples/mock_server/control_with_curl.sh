#!/bin/sh
# Drives ivrapi-mock-server over its control channel with curl: what a test in any
# language does (docs/mock.md, "Control channel"). Run it as is; CTest runs it too.
#   MOCK=build/examples/mock_server/ivrapi-mock-server examples/mock_server/control_with_curl.sh
set -eu
MOCK=${MOCK:-ivrapi-mock-server}
TOKEN=secret

# Start the server on a free port and read the port from its banner.
fifo=$(mktemp -u)
mkfifo "$fifo"
"$MOCK" --port 0 --token "$TOKEN" >"$fifo" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
exec 3<"$fifo"
rm "$fifo"
PORT=
while read -r line <&3; do
  case $line in
    url:*) PORT=${line#*127.0.0.1:}; PORT=${PORT%%/*} ;;
    control:*) break ;;
  esac
done
[ -n "$PORT" ] || { echo "no banner from $MOCK" >&2; exit 1; }
cat <&3 >/dev/null &   # keep reading its log

# One command: POST /control/<command> with a JSON body; non-2xx fails the script.
ctl() {
  curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
       -d "$2" "http://127.0.0.1:$PORT/control/$1"
}

ctl status '{}'
# Offer a call (the same fields as a scenario file's calls) ...
ctl start_call '{"ivrid": "rDlg-curl-1", "key": "abc", "params": {"lang": "en"}}'
# ... a bot would now accept it and apply components; here the caller acts at once:
ctl dtmf '{"ivrid": "rDlg-curl-1", "digits": "42#"}'
ctl hangup '{"ivrid": "rDlg-curl-1"}'
ctl wait '{"for": "ended", "ivrid": "rDlg-curl-1", "timeout_ms": 5000}'
ctl call '{"ivrid": "rDlg-curl-1"}' | grep -q '"end_reason":"script"'
# Faults stay until cleared.
ctl fail_reply '{"name": "ivrapi_accept", "reason": "busy"}'
ctl clear_faults '{}'
# A wait that is not met answers 408 at its bound.
if ctl wait '{"for": "connections", "count": 1, "timeout_ms": 100}' >/dev/null 2>&1; then
  echo "expected a 408" >&2; exit 1
fi
echo "control channel OK"
