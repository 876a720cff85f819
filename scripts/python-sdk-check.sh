#!/usr/bin/env bash
# Drives the emulator with the official Python SDK (smallestai==5.14.0): every webhook operation
# and its documented errors, the documented delivery examples through the SDK's pydantic models,
# and signatures made by Rust checked by Python's hmac. Installs the SDK into target/pyvenv.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/pyvenv
PY="$VENV/bin/python"
if ! "$PY" -c 'import smallestai, sys; sys.exit(0 if smallestai.__version__ == "5.14.0" else 1)' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check "smallestai==5.14.0"
fi

cargo build --quiet -p atoms-webhook-emulator
KEY="ci-key-$RANDOM$RANDOM"
LOG=$(mktemp)
target/debug/atoms-webhook-emulator --listen 127.0.0.1:0 --api-key "$KEY" >"$LOG" 2>/dev/null &
EMU=$!
trap 'kill $EMU 2>/dev/null || true; rm -f "$LOG"' EXIT
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$LOG" | head -n1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "emulator did not start"; exit 1; }
echo "emulator at $URL"

"$PY" scripts/python/sdk_check.py --base-url "$URL" --api-key "$KEY" \
  --events-dir crates/models/tests/fixtures/examples
