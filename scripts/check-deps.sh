#!/usr/bin/env bash
# The layering rules that show in dependency trees: the models crate has no HTTP client or
# runtime, the blocking client has no tokio, no default tree links OpenSSL, and the library
# crates turn on no serde_json feature that changes JSON parsing for the whole program.
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
# Reconciliation reads the API through the async client only: never ureq.
found=$(cargo tree -p atoms-webhook-receiver --features reconcile,postgres,axum -e normal --prefix none 2>/dev/null | grep -E "^(ureq|openssl|openssl-sys|native-tls) v" | sort -u || true)
if [ -n "$found" ]; then echo "FAIL atoms-webhook-receiver --features reconcile: $(echo "$found" | tr '\n' ' ')"; fail=1
else echo "ok   atoms-webhook-receiver --features reconcile: no ureq, no OpenSSL"; fi
forbid atoms-webhook-cli 'openssl|openssl-sys|native-tls' "no OpenSSL by default"
# Cargo unifies features: a library that enables one of these changes every serde_json user in
# the program (an IndexMap-backed Map, different float parsing, numbers as strings).
forbid_feature() { # package, why
  local found
  found=$(cargo tree -p "$1" -e features --prefix none 2>/dev/null \
    | grep -oE 'serde_json feature "(preserve_order|float_roundtrip|arbitrary_precision)"' | sort -u || true)
  if [ -n "$found" ]; then
    echo "FAIL $1: $2: $(echo "$found" | tr '\n' ' ')"
    fail=1
  else
    echo "ok   $1: $2"
  fi
}
for p in atoms-webhook-models atoms-webhook-transport atoms-webhook-blocking atoms-webhook-async; do
  forbid_feature "$p" "no serde_json preserve_order/float_roundtrip/arbitrary_precision"
done
# The same, with every optional feature of the models crate on.
found=$(cargo tree -p atoms-webhook-models --all-features -e features --prefix none 2>/dev/null \
  | grep -oE 'serde_json feature "(preserve_order|float_roundtrip|arbitrary_precision)"' | sort -u || true)
if [ -n "$found" ]; then echo "FAIL atoms-webhook-models --all-features: $found"; fail=1
else echo "ok   atoms-webhook-models --all-features: no behaviour-changing serde_json feature"; fi
# The models crate's http dependency comes only with its `http` feature; no clock by default.
forbid atoms-webhook-models 'http' "no http crate without the http feature"
if cargo tree -p atoms-webhook-models -e normal,features --prefix none 2>/dev/null | grep -q 'chrono feature "clock"'; then
  echo "FAIL atoms-webhook-models: chrono's clock is on by default"; fail=1
else echo "ok   atoms-webhook-models: no chrono clock by default"; fi
# Where we choose rand, one major only.
rand_majors=$(cargo tree --workspace -e normal,dev --prefix none 2>/dev/null | grep -oE '^rand v[0-9]+\.[0-9]+' | sort -u)
if [ "$(echo "$rand_majors" | grep -c .)" -gt 1 ]; then
  echo "FAIL workspace: several rand versions: $(echo "$rand_majors" | tr '\n' ' ')"; fail=1
else echo "ok   workspace: one rand ($rand_majors)"; fi
# No deprecated crates.
forbid xtask 'serde_yaml' "no deprecated serde_yaml"
exit $fail
