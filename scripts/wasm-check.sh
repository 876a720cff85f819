#!/usr/bin/env bash
# Builds atoms-webhook-models (default features: verify + parse) for wasm32-unknown-unknown, the
# target of edge runtimes (no threads, no clock), and runs verify-then-parse inside Node.js's
# WebAssembly engine. Fails loudly when the target or Node.js cannot be had: never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=wasm32-unknown-unknown

if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  echo "wasm-check: adding the $TARGET target"
  if ! rustup target add "$TARGET"; then
    echo "FAIL wasm-check: cannot install the $TARGET target (rustup target add $TARGET)" >&2
    exit 1
  fi
fi
if ! command -v node >/dev/null; then
  echo "FAIL wasm-check: Node.js (>= 20) is needed to run the module" >&2
  exit 1
fi

# The library itself, default features, as a receiver on the edge would build it.
cargo build --quiet -p atoms-webhook-models --target "$TARGET" --release
# The module the test runs.
cargo build --quiet -p atoms-webhook-wasm-check --target "$TARGET" --release
wasm="target/$TARGET/release/atoms_webhook_wasm_check.wasm"
[ -f "$wasm" ] || { echo "FAIL wasm-check: $wasm was not built" >&2; exit 1; }
echo "wasm-check: module $(wc -c <"$wasm") bytes"
node tests/wasm/check.mjs "$wasm" crates/models/tests/fixtures
