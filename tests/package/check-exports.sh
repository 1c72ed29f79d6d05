#!/usr/bin/env bash
# Checks what a shared libivrapi (and libivrapi_mock) exports: a SONAME, and the public
# API only - nothing of websocketpp, Asio or RapidJSON (compiled in, private), nothing of
# the SDK's internal namespaces.
#   check-exports.sh <libivrapi.so> [<libivrapi_mock.so>]
set -euo pipefail
status=0
for lib in "$@"; do
  [ -n "$lib" ] || continue
  name=$(basename "$lib")
  soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
  if [ -z "$soname" ]; then
    echo "FAIL $name: no SONAME"; status=1
  else
    echo "ok   $name: SONAME $soname"
  fi
  # Defined dynamic symbols, demangled (undefined ones are what the library imports).
  exported=$(nm -D --defined-only -C "$lib" | cut -d' ' -f3-)
  count=$(printf '%s\n' "$exported" | grep -c . || true)
  third_party=$(printf '%s\n' "$exported" | grep -Ei 'websocketpp|asio|rapidjson' || true)
  if [ -n "$third_party" ]; then
    echo "FAIL $name exports third-party symbols:"; printf '%s\n' "$third_party" | head -20; status=1
  fi
  # Everything exported is public API (functions, vtables, type information): nothing
  # outside ivrapi::, nothing of its internal namespaces but detail::current_loop().
  others=$(printf '%s\n' "$exported" | grep -Ev '^((typeinfo|typeinfo name|vtable) for )?ivrapi::' || true)
  if [ -n "$others" ]; then
    echo "FAIL $name exports symbols outside ivrapi::"; printf '%s\n' "$others" | head -20; status=1
  fi
  # (A public template's own symbols may name an internal type, e.g. the static local
  # of Result<protocol::Reply>::error(): they belong to the template, not the internals.)
  internal=$(printf '%s\n' "$exported" | grep -E '^ivrapi::(protocol|transport|detail|mock::detail)::' \
             | grep -v '^ivrapi::detail::current_loop()$' || true)
  if [ -n "$internal" ]; then
    echo "FAIL $name exports internal symbols:"; printf '%s\n' "$internal" | head -20; status=1
  fi
  if [ "$count" -lt 20 ]; then
    echo "FAIL $name exports only $count symbols: is the API still exported?"; status=1
  fi
  [ $status -eq 0 ] && echo "ok   $name: $count symbols exported, all public ivrapi API"
done
exit $status
