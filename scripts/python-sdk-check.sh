#!/usr/bin/env bash
# Drives the emulator with the official Python SDK (smallestai==5.14.0): every webhook operation
# and its documented errors, the documented delivery examples through the SDK's pydantic models,
# and the cross-check with the Rust models crate (1,000 generated events parsed by the SDK and
# compared field by field with Rust's JSON, the examples parsed by both, signatures made by each
# side verified by the other). Installs the SDK into target/pyvenv. The last line of the output
# is `N passed, M failed`; the exit status is 1 when anything failed.
#
# CROSSCHECK_COUNT and CROSSCHECK_SEED change the generated events (defaults 1000, 20261128).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/pyvenv
PY="$VENV/bin/python"
if ! "$PY" -c 'import smallestai, sys; sys.exit(0 if smallestai.__version__ == "5.14.0" else 1)' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check "smallestai==5.14.0"
fi

cargo build --quiet -p atoms-webhook-emulator
cargo build --quiet -p atoms-webhook-tests --example crosscheck
EXAMPLES=crates/models/tests/fixtures/examples
CROSS=$(mktemp -d)
target/debug/examples/crosscheck export --out "$CROSS" --examples "$EXAMPLES" \
  --count "${CROSSCHECK_COUNT:-1000}" --seed "${CROSSCHECK_SEED:-20261128}"

KEY="ci-key-$RANDOM$RANDOM"
LOG=$(mktemp)
target/debug/atoms-webhook-emulator --listen 127.0.0.1:0 --api-key "$KEY" >"$LOG" 2>/dev/null &
EMU=$!
trap 'kill $EMU 2>/dev/null || true; rm -rf "$LOG" "$CROSS"' EXIT
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$LOG" | head -n1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "emulator did not start"; exit 1; }
echo "emulator at $URL"

"$PY" scripts/python/sdk_check.py --base-url "$URL" --api-key "$KEY" \
  --events-dir "$EXAMPLES" \
  --crosscheck "$CROSS" --rust-tool target/debug/examples/crosscheck
