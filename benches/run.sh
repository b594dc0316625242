#!/usr/bin/env bash
# Speed and memory targets (PRODUCT §6), measured here rather than asserted in tests:
#   - `inbound token NAME` on a valid token with 1,000 servers stored: a few milliseconds
#   - its peak memory
#   - the TUI's first frame with 1,000 servers stored: under 50 ms
# Usage: benches/run.sh [RUNS]   (uses hyperfine when installed, else a timed loop)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"
cargo build --release --quiet --bin inbound --example seed_store --example tui_first_frame
bin=target/release/inbound
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
target/release/examples/seed_store "$dir/store" 1000
cmd="$bin --config-dir $dir/store token server-500"
echo "== inbound token (hot path, 1,000 servers stored), $runs runs"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 10 --runs "$runs" --shell=none "$cmd"
else
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do $cmd >/dev/null; done
  end=$(date +%s%N)
  echo "mean: $(( (end - start) / runs / 1000 )) µs per call (process start included)"
fi
echo "== TUI first frame with 1,000 servers (target: under 50 ms)"
target/release/examples/tui_first_frame "$dir/store" 20
echo "== peak memory of one call"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "max RSS %M KiB" $cmd >/dev/null
else
  echo "(install 'time' for the peak RSS)"
fi
