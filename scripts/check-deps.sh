#!/usr/bin/env bash
# The layering rules that show in dependency trees: the models crate has no HTTP client or
# runtime, the blocking client has no tokio, and no default tree links OpenSSL.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
forbid() { # package, pattern, why
  local found
  found=$(cargo tree -p "$1" -e normal --prefix none 2>/dev/null | grep -E "^($2) v" | sort -u || true)
  if [ -n "$found" ]; then
    echo "FAIL $1: $3: $(echo "$found" | tr '\n' ' ')"
    fail=1
  else
    echo "ok   $1: $3"
  fi
}
forbid atoms-webhook-models 'tokio|reqwest|ureq|hyper|openssl|openssl-sys|native-tls' "no HTTP client, runtime or OpenSSL"
forbid atoms-webhook-transport 'tokio|reqwest|ureq|hyper|openssl|openssl-sys' "no HTTP client or runtime"
forbid atoms-webhook-blocking 'tokio|openssl|openssl-sys|native-tls' "no tokio, no OpenSSL by default"
forbid atoms-webhook-async 'openssl|openssl-sys|native-tls' "no OpenSSL by default"
forbid atoms-webhook-receiver 'ureq|reqwest|openssl|openssl-sys|native-tls' "no HTTP client, no OpenSSL by default"
forbid atoms-webhook-cli 'openssl|openssl-sys|native-tls' "no OpenSSL by default"
exit $fail
