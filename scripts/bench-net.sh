#!/usr/bin/env bash
# Test & Confirm and `test --all` at a round trip that covers the TCP handshake too (issue 22,
# items 3 and 4). Figures go to BENCHMARKS.md by hand; nothing here is asserted in tests.
#
# The delay is made in the kernel's path, not by a user-space proxy (which cannot delay the
# handshake): the script re-runs itself in a network namespace of its own (`unshare --net`,
# removed when the script ends), where iptables sends every loopback packet to or from the test
# Dovecot's port to an NFQUEUE queue, and `examples/net_delay.rs` holds each one RTT/2 before
# letting it through. (`tc qdisc … netem` would do the same; this machine's kernel is built
# without netem.) The token endpoint is not delayed: Dovecot checks each token there, and a
# real server's check is not on the client's link.
#
# Needs root, iptables (legacy), hyperfine, python3, dovecot: `apt-get install
# iptables hyperfine` on Debian (dovecot-imapd as in .ci/setup).
# Usage: scripts/bench-net.sh [RUNS] [RTT_MS] [SERVERS]   (defaults: 30 50 200)
# TOOLS_PROFILE=debug builds the helpers (the fake IdP and Dovecot runner, the delay) in the
# dev profile instead of release: minutes sooner on a busy machine; `inbound` is always release.
# BENCH_SKIP_BUILD=1 measures the builds already in target/; INBOUND_BIN=PATH measures another
# `inbound`; COMPARE_BIN=PATH measures a second `inbound` (e.g. the build of an earlier commit)
# beside the first, in the same run, stages and whole process alike.
# BENCH_AUTOCORK=1 leaves TCP autocorking on in the namespace (see below: an artefact of the delay).
# CAPTURE=PREFIX writes PREFIX-inbound.pcap (and PREFIX-compare.pcap) of one Test & Confirm
# at the delay, for `tcpdump -r FILE -ttt -n` (needs tcpdump).
# The test Dovecot runs in its high-performance login mode by default (long-lived
# imap-login and imap processes, no debug log; see below); BENCH_DOVECOT=tests runs it as the
# tests do (a new login process and TLS context per connection).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
rtt="${2:-50}"
servers="${3:-200}"
queue=22
ipt=iptables-legacy
command -v "$ipt" >/dev/null || ipt=iptables

if [ "${BENCH_NET_INSIDE:-0}" != 1 ]; then
  for tool in hyperfine python3 unshare "$ipt"; do
    command -v "$tool" >/dev/null || { echo "scripts/bench-net.sh needs $tool" >&2; exit 1; }
  done
  [ "$(id -u)" = 0 ] || { echo "scripts/bench-net.sh needs root (a network namespace)" >&2; exit 1; }
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then # 1: measure the release build already in target/
    # The binary on its own: built together with the examples, it would get dev-dependency features.
    cargo build --release --quiet --bin inbound
    if [ "${TOOLS_PROFILE:-release}" = release ]; then
      cargo build --release --quiet --example bench_env --example net_delay
    else
      cargo build --quiet --example bench_env --example net_delay
    fi
  fi
  exec unshare --net env BENCH_NET_INSIDE=1 "$0" "$@"
fi

bin="${INBOUND_BIN:-$PWD/target/release/inbound}" # INBOUND_BIN: measure another build
tools="$PWD/target/${TOOLS_PROFILE:-release}/examples"
dir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
hf() { hyperfine --shell=none --style basic "$@"; }
ip link set lo up
# The delay holds each packet in the sender's own kernel for RTT/2 (NFQUEUE keeps the socket's
# buffer charged until the verdict), which Linux's TCP autocorking takes for a busy device: a
# second small write waits until the first packet is let through, RTT/2 later, a wait a real
# link (whose packets leave the host in microseconds) never makes. Off in this namespace only;
# BENCH_AUTOCORK=1 keeps the kernel's default to show that artefact.
sysctl -qw net.ipv4.tcp_autocorking="${BENCH_AUTOCORK:-0}"

echo "== machine ($(date -u +%FT%TZ))"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $(stat -c %s "$bin") bytes; helpers: ${TOOLS_PROFILE:-release} build; Dovecot: ${BENCH_DOVECOT:-performance}; TCP autocorking: $(cat /proc/sys/net/ipv4/tcp_autocorking)"
compare="${COMPARE_BIN:-}"
[ -z "$compare" ] || echo "compared with: $compare ($(stat -c %s "$compare") bytes)"

# The test Dovecot and the fake IdP, the servers pointing at Dovecot itself (no proxy).
BENCH_DIRECT=1 "$tools/bench_env" "$dir" "$servers" 0 >"$dir/env.log" 2>&1 &
env_pid=$!
pids+=("$env_pid")
for _ in $(seq 300); do [ -f "$dir/env.sh" ] && break; sleep 0.1; done
[ -f "$dir/env.sh" ] || { cat "$dir/env.log"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$dir/env.sh"
set +a
export PROXY_PORT="$DOVECOT_PORT" # the Python peer's port: Dovecot itself here

# BENCH_DOVECOT=performance (the default; BENCH_DOVECOT=tests leaves it as the tests run it): the test Dovecot switched to its high-performance login mode for
# this run only (its documentation's name: long-lived imap-login processes serving many
# connections each, started ahead, instead of a new process and TLS context per login), imap
# processes reused, no per-login debug log. The settings are appended to the configuration of
# the running instance, which is told to reload: the tests' configuration is left as it is.
if [ "${BENCH_DOVECOT:-performance}" = performance ]; then
  master=$(ps -o pid= --ppid "$env_pid" | head -n1 | tr -d ' ')
  conf=$(tr '\0' '\n' <"/proc/$master/cmdline" | sed -n '/^-c$/{n;p}')
  cat >>"$conf" <<'CONF'
service imap-login {
  service_count = 0
  process_min_avail = 2
}
service imap {
  service_count = 100
  process_min_avail = 2
}
auth_debug = no
auth_verbose = no
CONF
  # The oauth2 passdb's own debug log (one line per introspection field) goes too.
  sed -i 's/^debug = yes$/debug = no/' "$(dirname "$conf")"/dovecot-oauth2*.conf.ext
  # BENCH_AUTH_CACHE=1: Dovecot's auth cache on, as production servers run it, so a login with
  # a token it has seen is not checked at the fake IdP again (the check is the test server's
  # cost, not the client's; Exchange's own is behind its reply to AUTHENTICATE either way).
  if [ "${BENCH_AUTH_CACHE:-0}" = 1 ]; then
    printf 'auth_cache_size = 1M\nauth_cache_ttl = 1 hour\n' >>"$conf"
  fi
  kill -HUP "$master"
  # Ready when the login processes of the new configuration are up and waiting.
  for _ in $(seq 100); do
    [ "$(pgrep -c -P "$master" -x imap-login)" -ge 2 ] && break
    sleep 0.1
  done
  sleep 1 # the old generation's processes exit
  echo "Dovecot: high-performance login mode (imap-login service_count = $(doveconf -c "$conf" -h service/imap-login/service_count 2>/dev/null || echo '?'); auth cache: $(doveconf -c "$conf" -h auth_cache_size 2>/dev/null || echo '?'))"
fi
net="$bin --config-dir $dir/store"

echo "== ${rtt} ms round trip on Dovecot's port $DOVECOT_PORT (NFQUEUE, both directions)"
# Real-time priority: on a busy machine an ordinary thread wakes up milliseconds late.
chrt -f 50 "$tools/net_delay" "$queue" "$(awk "BEGIN {print $rtt / 2}")" >"$dir/delay.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/delay.log" ] && break; sleep 0.05; done
cat "$dir/delay.log"
for dir_flag in --dport --sport; do
  "$ipt" -A OUTPUT -o lo -p tcp "$dir_flag" "$DOVECOT_PORT" -j NFQUEUE --queue-num "$queue"
done
python3 - "$DOVECOT_PORT" <<'EOF'
import socket, statistics, sys, time
port = int(sys.argv[1])
times = []
for _ in range(10):
    t = time.perf_counter()
    socket.create_connection(("127.0.0.1", port)).close()
    times.append((time.perf_counter() - t) * 1000)
print(f"TCP connect (SYN → SYN-ACK), 10 runs: median {statistics.median(times):.1f} ms, "
      f"min {min(times):.1f}, max {max(times):.1f}")
EOF

stages() { # the elapsed time per stage, as the CLI prints them, of one Test & Confirm
  "$@" test server-0 2>&1 | sed -n 's/^ *✔ \([a-zA-Z]*\) .* \([0-9]* ms\).*/   \1 \2/p' | tr '\n' ' '
  echo
}
echo "-- stages of one Test & Confirm (elapsed per stage, as the CLI prints them), 3 runs"
# shellcheck disable=SC2086 # $net is words on purpose
for _ in 1 2 3; do stages $net; done
if [ -n "${CAPTURE:-}" ]; then # CAPTURE=PREFIX: one Test & Confirm of each build, captured
  for which in "inbound:$bin" ${compare:+"compare:$compare"}; do
    pcap="$CAPTURE-${which%%:*}.pcap"
    which="${which#*:}"
    tcpdump -U -i lo -n -s 200 -w "$pcap" "tcp port $DOVECOT_PORT" 2>"$dir/tcpdump.log" &
    dump=$!
    # Ready when it says it listens (a loaded machine takes seconds); its start is not measured.
    for _ in $(seq 200); do grep -q 'listening on' "$dir/tcpdump.log" && break; sleep 0.05; done
    stages "$which" --config-dir "$dir/store"
    sleep 0.2
    kill -INT "$dump"
    wait "$dump" || true
    echo "   captured: $pcap (tcpdump -r $pcap -ttt -n)"
  done
fi
if [ -n "$compare" ]; then
  echo "-- the same with $compare"
  for _ in 1 2 3; do stages "$compare" --config-dir "$dir/store"; done
fi

echo "-- Test & Confirm of one server (whole process) vs process start vs Python imaplib, RTT ${rtt} ms"
one_cmds=(-n "inbound test server-0" "$net test server-0" -n "inbound --version" "$bin --version"
  -n "Python imaplib (benches/py/imap_floor.py)" "python3 benches/py/imap_floor.py")
[ -z "$compare" ] || one_cmds+=(-n "COMPARE_BIN test server-0" "$compare --config-dir $dir/store test server-0")
hf --warmup 3 --runs "$runs" --export-json "$dir/one.json" "${one_cmds[@]}"
python3 - "$dir/one.json" "$rtt" <<'EOF'
import json, sys
rtt = float(sys.argv[2])
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"   {r['command'][:60]:60s} median {r['median'] * 1000:7.1f} ms "
          f"= {r['median'] * 1000 / rtt:.2f} RTT   (min {r['min'] * 1000:.1f})")
EOF

# CPU ticks (1/100 s) of a process and its live descendants, their reaped children included.
tree_ticks() {
  python3 - "$1" <<'EOF'
import os, sys
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
kids = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            kids.setdefault(stat(p)[1], []).append(p)
        except OSError:
            pass
total, todo = 0, [sys.argv[1]]
while todo:
    p = todo.pop()
    try:
        s = stat(p)
    except OSError:
        continue
    total += sum(int(x) for x in s[11:15])  # utime stime cutime cstime
    todo += kids.get(p, [])
print(total)
EOF
}

echo "-- test --all over $servers servers vs testing one, RTT ${rtt} ms"
# -i: on a loaded machine a login can time out and `test --all` then exits 1 (its table names
# the server); the run is still timed, and the count of such runs is printed.
hf -i --warmup 1 --runs "$((runs < 10 ? runs : 10))" --export-json "$dir/all.json" \
  "$net test server-0" \
  "$net test --all"
python3 - "$dir/all.json" <<'EOF'
import json, sys
one, every = json.load(open(sys.argv[1]))["results"]
failed = sum(1 for c in every.get("exit_codes", []) if c != 0)
if failed:
    print(f"   test --all exited non-zero in {failed} of {len(every['exit_codes'])} runs")
print(f"   test --all ÷ one (medians): {every['median'] / one['median']:.2f}× "
      f"({every['median'] * 1000:.0f} ms ÷ {one['median'] * 1000:.0f} ms)")
EOF

echo "-- where the time of one test --all goes: client CPU and server CPU in the same run"
for jobs in "" "--jobs 8"; do
  server_before=$(tree_ticks "$env_pid")
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # $net and $jobs are words on purpose
  /usr/bin/time -f "%U %S" -o "$dir/client.cpu" $net test --all $jobs >/dev/null 2>&1 || true
  wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  server_after=$(tree_ticks "$env_pid")
  # The last line: a failed run's first line says "Command exited with non-zero status".
  read -r cu cs < <(tail -n1 "$dir/client.cpu")
  awk -v w="$wall_ms" -v cu="$cu" -v cs="$cs" -v sv="$((server_after - server_before))" -v j="${jobs:-default jobs}" \
    'BEGIN {printf "   test --all (%s): wall %d ms · client (inbound) CPU %.0f ms · server (Dovecot + token check) CPU %d ms · both on %d cores = %.0f%% of %d ms\n",
      j, w, (cu + cs) * 1000, sv * 10, 2, ((cu + cs) * 1000 + sv * 10) / (2 * w) * 100, w}'
done

echo "== the same $servers servers with no added delay (the server's floor), by concurrency"
for dir_flag in --dport --sport; do
  "$ipt" -D OUTPUT -o lo -p tcp "$dir_flag" "$DOVECOT_PORT" -j NFQUEUE --queue-num "$queue"
done
echo "-- stages of one Test & Confirm with no added delay (the server's own time per step)"
# shellcheck disable=SC2086
stages $net
hf -i --warmup 1 --runs 5 --export-json "$dir/zero.json" \
  "$net test server-0" \
  "$net test --all --jobs 1" \
  "$net test --all --jobs 8" \
  "$net test --all"
python3 - "$dir/one.json" "$dir/zero.json" "$rtt" <<'EOF'
import json, sys
delayed = json.load(open(sys.argv[1]))["results"][0]["median"] * 1000
zero = json.load(open(sys.argv[2]))["results"][0]["median"] * 1000
rtt = float(sys.argv[3])
print(f"   Test & Confirm: {delayed:.0f} ms at {rtt:.0f} ms RTT, {zero:.0f} ms with no delay (process, "
      f"Dovecot and the token check): the delay added {delayed - zero:.0f} ms = {(delayed - zero) / rtt:.2f} RTT")
EOF
