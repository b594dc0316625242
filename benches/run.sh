#!/usr/bin/env bash
# Whole-process figures (PRODUCT §6, issue "Speed at scale"), each beside a peer in the same
# hyperfine run; in-process figures are `cargo bench` (benches/tui.rs, benches/store.rs).
# Measured here, never asserted in tests. Needs hyperfine, python3, dovecot, tmux.
#
# Usage: benches/run.sh [RUNS] [RTT_MS]     (defaults: 30 runs, 50 ms round trip)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
rtt="${2:-50}"
for tool in hyperfine python3 tmux; do
  command -v "$tool" >/dev/null || { echo "benches/run.sh needs $tool" >&2; exit 1; }
done
# The binary on its own: built together with the examples, it would get dev-dependency features.
cargo build --release --quiet --bin inbound
cargo build --release --quiet --example seed_store --example bench_env
bin="$PWD/target/release/inbound"
dir="$(mktemp -d)"
env_pid=""
cleanup() {
  [ -n "$env_pid" ] && kill "$env_pid" 2>/dev/null && wait "$env_pid" 2>/dev/null
  tmux -L inbound-bench kill-server 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
hf() { hyperfine --shell=none --style basic "$@"; }

echo "== machine"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $(stat -c %s "$bin") bytes"

echo "== seeding stores of 1,000 and 10,000 servers"
target/release/examples/seed_store "$dir/s1k" 1000
target/release/examples/seed_store "$dir/s10k" 10000

# token, list and check beside --version, the Python floors and mutt_oauth2.py (own stores).
BIN="$bin" SEED=target/release/examples/seed_store scripts/bench-store.sh "$runs"

echo "== network: the test Dovecot behind a proxy adding ${rtt} ms per round trip"
mkdir -p "$dir/net"
target/release/examples/bench_env "$dir/net" 200 "$rtt" >"$dir/net/env.log" 2>&1 &
env_pid=$!
for _ in $(seq 300); do [ -f "$dir/net/env.sh" ] && break; sleep 0.1; done
[ -f "$dir/net/env.sh" ] || { cat "$dir/net/env.log"; exit 1; }
set -a; . "$dir/net/env.sh"; set +a
net="$bin --config-dir $dir/net/store"

turns() { # turns of the connections made by one run of "$@"
  : >"$dir/net/turns.log"
  "$@" >/dev/null 2>&1
  sleep 0.5 # the proxy logs a connection once both directions have closed
  sort -n "$dir/net/turns.log" | uniq -c | awk '{printf "%s×%s turns  ", $1, $2} END {print ""}'
}
echo "-- turns per connection (proxy count; the TCP handshake is one)"
echo "inbound test:   $(turns $net test server-0)"
echo "python imaplib: $(turns python3 benches/py/imap_floor.py)"

echo "-- stages of one Test & Confirm (the TLS stage includes building the connector: this proxy"
echo "   cannot delay the TCP handshake, so the build is not hidden behind it as on a real link)"
$net test server-0 2>&1 | sed -n 's/^ *✔ \([a-zA-Z]*\) .* \([0-9]* ms\).*/   \1 \2/p' | tr '\n' ' '; echo

echo "-- Test & Confirm of one server vs Python imaplib, RTT ${rtt} ms"
hf --warmup 2 --runs "$runs" \
  "$net test server-0" \
  "python3 benches/py/imap_floor.py"

echo "-- test --all over 200 servers vs testing one"
hf --warmup 1 --runs "$(( runs < 10 ? runs : 10 ))" \
  "$net test server-0" \
  "$net test --all"
echo "turns of test --all: $(turns $net test --all)"

echo "-- refresh --all over 200 servers of one app vs refreshing one (token endpoint behind the proxy)"
hf --warmup 1 --runs "$(( runs < 10 ? runs : 10 ))" --output=null \
  "$net refresh server-0" \
  "$net refresh --all"
: >"$dir/net/idp-turns.log"
$net refresh --all >/dev/null
sleep 0.5
echo "connections to the token endpoint for one refresh --all: $(wc -l <"$dir/net/idp-turns.log")"

echo "== the server's floor: the same 200 servers with no added delay, by concurrency"
kill "$env_pid"; wait "$env_pid" 2>/dev/null || true
mkdir -p "$dir/net0"
target/release/examples/bench_env "$dir/net0" 200 0 >"$dir/net0/env.log" 2>&1 &
env_pid=$!
for _ in $(seq 300); do [ -f "$dir/net0/env.sh" ] && break; sleep 0.1; done
net0="$bin --config-dir $dir/net0/store"
hf --warmup 1 --runs 5 \
  "$net0 test server-0" \
  "$net0 test --all --jobs 1" \
  "$net0 test --all --jobs 8" \
  "$net0 test --all"

echo "== idle TUI: resident memory and CPU"
for n in 1k 10k; do
  tmux -L inbound-bench new-session -d -s "tui$n" -x 100 -y 30 "$bin --config-dir $dir/s$n"
  sleep 3
  pid=$(tmux -L inbound-bench list-panes -t "tui$n" -F '#{pane_pid}')
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 10
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  echo "$n servers: $(grep VmRSS "/proc/$pid/status" | tr -s ' '), CPU over 10 s idle: $(( (t1 - t0) * 10 )) ms"
  tmux -L inbound-bench kill-session -t "tui$n"
done
