#!/usr/bin/env bash
# `inbound proxy` and `inbound tunnel` beside direct XOAUTH2 and the peer emailproxy (PyPI), in
# one run against the test Dovecot (issue 18 §5). Figures go to BENCHMARKS.md by hand; nothing
# here is asserted in tests. Needs python3 (with venv), dovecot; pip fetches emailproxy into a
# venv under the temp dir unless EMAILPROXY_VENV points at one that has it.
#
# Usage: scripts/bench-proxy.sh [RUNS] [MAILBOX_MB] [IDLE_SESSIONS]   (defaults: 30 50 1000)
# Each idle session holds two descriptors in the proxy: raise `ulimit -n` above 2 × IDLE_SESSIONS.
# BENCH_SKIP_BUILD=1 measures the build already in target/; INBOUND_BIN=PATH measures another `inbound`.
# COMPARE_BIN=PATH runs a second `inbound proxy` of another build (e.g. an earlier commit's) on the
# same store and puts it in every FETCH round beside the first (way "compare").
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
mailbox_mb="${2:-50}"
idle="${3:-1000}"
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then # 1: measure the release build already in target/
  cargo build --release --quiet --bin inbound
  cargo build --release --quiet --example bench_env
fi
bin="${INBOUND_BIN:-$PWD/target/release/inbound}" # INBOUND_BIN: measure another build
dir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # until 127.0.0.1:$1 accepts, at most 10 s
  for _ in $(seq 100); do "$py" -c "import socket; socket.create_connection(('127.0.0.1', $1)).close()" 2>/dev/null && return; sleep 0.1; done
  echo "nothing listens on $1" >&2; exit 1
}

venv="${EMAILPROXY_VENV:-$dir/venv}"
if [ ! -x "$venv/bin/emailproxy" ]; then
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet emailproxy
fi

echo "== machine ($(date -u +%FT%TZ))"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "emailproxy $("$venv/bin/pip" show emailproxy | sed -n 's/^Version: //p'), $("$venv/bin/python" --version)"

BENCH_DIRECT=1 target/release/examples/bench_env "$dir" 1 0 >"$dir/env.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -f "$dir/env.sh" ] && break; sleep 0.1; done
[ -f "$dir/env.sh" ] || { cat "$dir/env.log"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$dir/env.sh"
set +a
export INBOUND_CONFIG_DIR="$dir/store"
bench() { "$py" benches/py/proxy_bench.py "$@"; }

echo "== seeding INBOX with ${mailbox_mb} MB"
bench seed "$mailbox_mb"

# inbound proxy, plain on loopback, with a local password for server-0.
INBOUND_PASSWORD="$("$bin" proxy password server-0 | tail -n 1)"
INBOUND_PORT="$(free_port)"
"$bin" proxy --listen "127.0.0.1:$INBOUND_PORT" >"$dir/proxy.log" 2>&1 &
inbound_pid=$!
pids+=("$inbound_pid")
wait_port "$INBOUND_PORT"

compare_pid=""
if [ -n "${COMPARE_BIN:-}" ]; then
  COMPARE_PORT="$(free_port)"
  "$COMPARE_BIN" --config-dir "$INBOUND_CONFIG_DIR" proxy --listen "127.0.0.1:$COMPARE_PORT" >"$dir/compare.log" 2>&1 &
  compare_pid=$!
  pids+=("$compare_pid")
  wait_port "$COMPARE_PORT"
  export COMPARE_PORT
  echo "compared with: $COMPARE_BIN ($(stat -c %s "$COMPARE_BIN") bytes) on port $COMPARE_PORT"
fi

# emailproxy with the same token cached (encrypted with its password, as after a first sign-in).
EMAILPROXY_PORT="$(free_port)"
EMAILPROXY_PASSWORD="bench-local-password"
"$venv/bin/python" - "$dir/emailproxy.config" <<EOF
import configparser, sys, time
path = sys.argv[1]
sys.argv = sys.argv[:1] + ["--no-gui"]  # emailproxy reads its arguments on import
import emailproxy
config = configparser.ConfigParser()
config["IMAP-$EMAILPROXY_PORT"] = {
    "local_address": "127.0.0.1",
    "server_address": "localhost",
    "server_port": "$DOVECOT_PORT",
}
config["$IMAP_USER"] = {
    "token_url": "http://127.0.0.1:9/token",
    "oauth2_scope": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
    "client_id": "bench",
}
crypto = emailproxy.Cryptographer(config, "$IMAP_USER", "$EMAILPROXY_PASSWORD")
config["$IMAP_USER"].update({
    "token_salt": crypto.salt,
    "token_iterations": str(crypto.iterations),
    "access_token": crypto.encrypt("$TOKEN"),
    "access_token_expiry": str(int(time.time()) + 5 * 3600),
})
with open(path, "w") as f:
    config.write(f)
EOF
# Its upstream TLS uses Python's default trust: the test CA.
SSL_CERT_FILE="$CA_FILE" "$venv/bin/emailproxy" --no-gui --config-file "$dir/emailproxy.config" \
  --log-file "$dir/emailproxy.log" >"$dir/emailproxy.out" 2>&1 &
emailproxy_pid=$!
pids+=("$emailproxy_pid")
wait_port "$EMAILPROXY_PORT"
export INBOUND_PORT INBOUND_PASSWORD EMAILPROXY_PORT EMAILPROXY_PASSWORD

echo "== login: connect → tagged OK, cached token"
for way in direct inbound emailproxy; do bench login "$way" "$runs"; done

fetch_runs="${FETCH_RUNS:-5}"
echo "== FETCH 1:* BODY.PEEK[] of the ${mailbox_mb} MB INBOX (${fetch_runs} rounds, the three ways interleaved; CPU of the relay process)"
for _ in $(seq "$fetch_runs"); do
  bench fetch direct 1
  bench fetch inbound 1 "$inbound_pid"
  [ -z "$compare_pid" ] || bench fetch compare 1 "$compare_pid"
  bench fetch emailproxy 1 "$emailproxy_pid"
done

echo "== tunnel start → PREAUTH beside inbound test"
bench tunnel "$runs" "$bin" server-0
bench test "$runs" "$bin" server-0

echo "== ${idle} idle logged-in sessions"
bench idle inbound "$idle" "$inbound_pid"
sleep 5 # Dovecot ends the closed sessions' processes (its process limit is 1,000)
echo "emailproxy, 100 sessions (each login costs it a key derivation):"
bench idle emailproxy 100 "$emailproxy_pid"
