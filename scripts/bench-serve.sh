#!/usr/bin/env bash
# inbound serve at 1,000 servers: idle memory (VmRSS) and CPU between timers, and how soon a
# change to the store made by the CLI is picked up. Figures for BENCHMARKS.md; never asserted
# in tests. PROFILE=release for the shipped build (default: dev, quicker to build).
#
# Usage: scripts/bench-serve.sh [SERVERS]     (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
servers="${1:-1000}"
profile="${PROFILE:-dev}"
cargo build --profile "$profile" --quiet --bin inbound
cargo build --profile "$profile" --quiet --example seed_store
out="target/debug"
[ "$profile" = dev ] || out="target/$profile"
bin="$PWD/$out/inbound"
dir="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
"$out/examples/seed_store" "$dir/s" "$servers"
log="$dir/s/logs/inbound.log"
# Tests far out: the seeded servers point at Microsoft, and this measures the idle process.
RUST_LOG=inbound=debug "$bin" --config-dir "$dir/s" serve --test-every 8640000 2>/dev/null &
pid=$!
for _ in $(seq 600); do [ -f "$dir/s/serve.json" ] && break; sleep 0.05; done
[ -f "$dir/s/serve.json" ] || { echo "serve did not start" >&2; exit 1; }
sleep 3
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(ticks)
sleep 10
c1=$(ticks)
echo "$servers servers ($profile build): idle $(grep VmRSS "/proc/$pid/status" | awk '{print $2/1024 " MB"}') RSS, $((c1 - c0)) CPU ticks (1/$(getconf CLK_TCK) s) in 10 s"
total=0
for i in $(seq 1 10); do
  before=$(grep -c "store changed" "$log" || true)
  t0=$(date +%s%N)
  "$bin" --config-dir "$dir/s" edit "server-$i" --host "h$i.example.com" >/dev/null 2>&1
  t1=$(date +%s%N)
  while [ "$(grep -c "store changed" "$log" || true)" -le "$before" ]; do sleep 0.005; done
  t2=$(date +%s%N)
  ms=$(((t2 - t1) / 1000000))
  total=$((total + ms))
  echo "change $i: edit took $(((t1 - t0) / 1000000)) ms, picked up $ms ms after it returned"
done
echo "store change pickup: $((total / 10)) ms on average (debounce $((150)) ms included)"
