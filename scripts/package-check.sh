#!/usr/bin/env bash
# `cargo package` for every publishable crate of the workspace, verified: each .crate is unpacked
# and built on its own. The crates are packaged together, so a crate's dependency on another
# workspace crate resolves to the packaged one (nothing needs to be on crates.io yet).
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(
  atoms-webhook-models
  atoms-webhook-transport
  atoms-webhook-blocking
  atoms-webhook-async
  atoms-webhook-emulator
  atoms-webhook-receiver
  atoms-webhook-cli
)
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
# --allow-dirty: CI runs on a checkout that may carry generated files; the check is that the
# packages build, not that the tree is clean.
cargo package --allow-dirty "${args[@]}" "$@"
for c in "${crates[@]}"; do
  ls target/package/"$c"-*.crate >/dev/null || { echo "FAIL package: no .crate for $c" >&2; exit 1; }
done
echo "ok   cargo package: ${crates[*]}"
