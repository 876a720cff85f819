#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS each, default 60), seeded from
# fuzz/seeds. Installs cargo-fuzz when it is missing. Any crash fails the run; the crashing
# input is left in fuzz/artifacts/TARGET/ (turn it into a regression test).
# The stable toolchain is the only one here: RUSTC_BOOTSTRAP lets it take cargo-fuzz's
# sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi

targets=$(cargo fuzz list)
cargo fuzz build >/dev/null 2>&1 || cargo fuzz build
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  log=$(mktemp)
  if ! cargo fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $t FAILED"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz $t: $runs executions in ${SECONDS_EACH}s, no crash"
  rm -f "$log"
done
