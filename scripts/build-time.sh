#!/usr/bin/env bash
# Cold release build time of a one-line crate that depends on each webhook crate, and the size
# of its dependency tree. Dependencies are fetched first (not timed); each build has its own
# empty target directory, so nothing is shared between them.
#
# usage: scripts/build-time.sh [models|svix|stripe|standardwebhooks ...]   (default: all four)
# Prints a Markdown table (the one in BENCHMARKS.md). Needs crates.io for the three others.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dep_line() {
  case "$1" in
    models) echo "atoms-webhook-models = { path = \"$root/crates/models\" }" ;;
    svix) echo 'svix = { version = "1", default-features = false }' ;;
    stripe) echo 'async-stripe-webhook = "=1.0.0-rc.10"' ;;
    standardwebhooks) echo 'standardwebhooks = "1"' ;;
    *) echo "unknown crate '$1' (models, svix, stripe, standardwebhooks)" >&2; exit 2 ;;
  esac
}

crates=("$@")
[ ${#crates[@]} -gt 0 ] || crates=(models svix stripe standardwebhooks)

echo "| crate | cold release build | lines in \`cargo tree\` |"
echo "|---|---:|---:|"
for c in "${crates[@]}"; do
  dir="$work/$c"
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<TOML
[package]
name = "build-time-$c"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$(dep_line "$c")

[workspace]
TOML
  echo 'pub fn touch() {}' >"$dir/src/lib.rs"
  (cd "$dir" && cargo fetch --quiet)
  lines=$(cd "$dir" && cargo tree -e normal --prefix none | wc -l)
  name=$(cd "$dir" && cargo tree -e normal --depth 1 --prefix none | sed -n 2p)
  start=$(date +%s.%N)
  if (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --release --quiet 2>"$dir/build.log"); then
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f s", b - a }')
  else
    secs="does not build ($(grep -m1 -oE 'error(\[E[0-9]+\])?: [^`]*' "$dir/build.log" | head -c 60))"
  fi
  echo "| $name | $secs | $lines |"
done
echo
echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(rustc --version))"
