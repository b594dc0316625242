#!/usr/bin/env bash
# A refresh wave of `inbound serve` at a real round trip (issue 19): SERVERS OAuth2 servers whose
# tokens are all due, refreshed by `inbound serve` against the fake of Microsoft's token endpoint,
# beside one due server in a store of the same size. Figures go to BENCHMARKS.md by hand;
# nothing here is asserted in tests.
#
# The delay sits in the kernel's path, so it covers the TCP handshake too (as in
# scripts/bench-net.sh): the script re-runs itself in a network namespace of its own
# (`unshare --net`, gone when the script ends), where iptables sends every loopback TCP packet
# to an NFQUEUE queue and `examples/net_delay.rs` holds each one RTT/2 before letting it
# through. Only serve and the fake token endpoint (`examples/wave_env.rs`) talk in there.
#
# A run: a fresh store (wave_env seeds it and serves the token endpoint), then `inbound serve`
# (scheduled tests pushed out) until every due server logged "token fresh" or a failure. The
# wave's time is serve's own log: from its first "refreshing the token ahead of expiry" to its
# last "token fresh" (process start and the store's first read are not in it, for one or many).
#
# Needs root, iptables (legacy), python3: `apt-get install iptables` on Debian.
# Usage: scripts/bench-serve-wave.sh [RUNS] [RTT_MS] [SERVERS]   (defaults: 5 50 1000)
# INBOUND_BIN=path measures another build of inbound; BENCH_SKIP_BUILD=1 builds nothing;
# TOOLS_PROFILE=debug builds the helpers in the dev profile (inbound is always release).
# BENCH_KEEP_LOGS=DIR keeps the serve log of every run in DIR; BENCH_TCPDUMP=FILE records the
# packets (tcpdump).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
rtt="${2:-50}"
servers="${3:-1000}"
queue=23
ipt=iptables-legacy
command -v "$ipt" >/dev/null || ipt=iptables

if [ "${BENCH_WAVE_INSIDE:-0}" != 1 ]; then
  for tool in python3 unshare "$ipt"; do
    command -v "$tool" >/dev/null || { echo "scripts/bench-serve-wave.sh needs $tool" >&2; exit 1; }
  done
  [ "$(id -u)" = 0 ] || { echo "scripts/bench-serve-wave.sh needs root (a network namespace)" >&2; exit 1; }
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    # The binary on its own: built together with the examples, it would get dev-dependency features.
    cargo build --release --quiet --bin inbound
    if [ "${TOOLS_PROFILE:-release}" = release ]; then
      cargo build --release --quiet --example wave_env --example net_delay
    else
      cargo build --quiet --example wave_env --example net_delay
    fi
  fi
  exec unshare --net env BENCH_WAVE_INSIDE=1 "$0" "$@"
fi

bin="${INBOUND_BIN:-$PWD/target/release/inbound}"
# The system's interpreter where there is one: a version manager's shim (pyenv) runs shell
# scripts worth ~90 ms of CPU at every start.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
tools="$PWD/target/${TOOLS_PROFILE:-release}/examples"
dir="$(mktemp -d)"
pids=()
cleanup() {
  [ -n "${tcpdump_pid:-}" ] && kill -KILL "$tcpdump_pid" 2>/dev/null
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
ip link set lo up
# TCP autocorking off in this namespace only, as in scripts/bench-net.sh: the delay holds each
# packet in the sender's own kernel, which autocorking takes for a busy device, so a second small
# write (an HTTP body after its headers) waited RTT/2 for the first, a wait a real link never
# makes. BENCH_AUTOCORK=1 keeps the kernel's default.
sysctl -qw net.ipv4.tcp_autocorking="${BENCH_AUTOCORK:-0}"

echo "== machine ($(date -u +%FT%TZ))"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "TCP autocorking: $(cat /proc/sys/net/ipv4/tcp_autocorking)"
echo "binary: $bin, $(stat -c %s "$bin") bytes; helpers: ${TOOLS_PROFILE:-release} build; open-file limit $(ulimit -Sn)/$(ulimit -Hn)"

echo "== ${rtt} ms round trip on every loopback TCP packet (NFQUEUE, both directions)"
chrt -f 50 "$tools/net_delay" "$queue" "$(awk "BEGIN {print $rtt / 2}")" >"$dir/delay.log" 2>&1 &
pids+=($!)
delay_pid=$!
for _ in $(seq 100); do [ -s "$dir/delay.log" ] && break; sleep 0.05; done
cat "$dir/delay.log"
"$ipt" -A OUTPUT -o lo -p tcp -j NFQUEUE --queue-num "$queue"
# BENCH_TCPDUMP=FILE records the namespace's packets (headers only) for a timeline of the waves.
if [ -n "${BENCH_TCPDUMP:-}" ]; then
  tcpdump -i lo -s 96 -U -w "$BENCH_TCPDUMP" tcp >/dev/null 2>&1 &
  # SIGKILL at the end: waiting for packets, tcpdump may never see a gentler signal, and -U has
  # written every packet already.
  tcpdump_pid=$!
  sleep 1
fi

# CPU ticks (user + system, threads that ended included) of process $1.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Idle and all CPU ticks of the whole machine: "idle total".
machine() { awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

# One run: $1 due servers in a store of $servers. Prints "wave_ms serve_cpu_ms fresh failed
# idp_refreshes fake_cpu_ms delay_cpu_ms"; serve's CPU is the whole process's, from its start
# to the end of the wave; the fake token endpoint's and the delay's, from the wave's first log
# line (polled every 10 ms) to its end.
run() {
  local due="$1" run_dir env_pid serve_pid log ticks0 ticks1 fake0 fake1 delay0 delay1
  run_dir="$(mktemp -d -p "$dir")"
  # The fake answers up to $servers connections at once: its soft open-file limit goes up to
  # the hard one (serve raises its own).
  (ulimit -Sn "$(ulimit -Hn)" && exec "$tools/wave_env" "$run_dir" "$servers" "$due") >"$run_dir/env.log" 2>&1 &
  env_pid=$!
  for _ in $(seq 1200); do [ -f "$run_dir/env.sh" ] && break; sleep 0.05; done
  [ -f "$run_dir/env.sh" ] || { cat "$run_dir/env.log" >&2; exit 1; }
  log="$run_dir/store/logs/inbound.log"
  # The seeded store (and the last run's files) on disk first: else their writeback and
  # journal commits land inside the next measurement.
  sync
  ticks0=0
  # One waiting process that reads the log as it grows (a `grep` every 10 ms cost a fifth of a
  # core, taken from the wave it measured), started and ready before serve so that its own
  # start takes nothing from the wave. It prints the fake's and the delay's CPU ticks and the
  # machine's idle/all ticks at the wave's first log line.
  "$py" - "$log" "$due" "$run_dir/waiter.ready" "$env_pid" "$delay_pid" >"$run_dir/waiter.txt" <<'EOF' &
import sys, time
log, due, ready, pids = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
open(ready, "w").close()
def ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def machine():
    cpu = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return cpu[3] + cpu[4], sum(cpu)
start, done, rest, at = None, 0, b"", 0
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        with open(log, "rb") as f:
            f.seek(at)
            chunk = f.read()
    except FileNotFoundError:
        chunk = b""
    at += len(chunk)
    lines = (rest + chunk).split(b"\n")
    rest = lines.pop()
    for line in lines:
        if start is None and b"refreshing the token ahead of expiry" in line:
            start = [ticks(p) for p in pids] + list(machine())
        if b"token fresh" in line or b"refresh failed; the next try" in line:
            done += 1
    if done >= due:
        break
    time.sleep(0.005)
print(*(start or ["", "", "", ""]))
EOF
  waiter_pid=$!
  for _ in $(seq 1000); do [ -f "$run_dir/waiter.ready" ] && break; sleep 0.01; done
  RUST_LOG=inbound=info "$bin" --config-dir "$run_dir/store" serve --test-every 8640000 ${SERVE_ARGS:-} >"$run_dir/serve.out" 2>&1 &
  serve_pid=$!
  wait "$waiter_pid" || true
  read -r fake0 delay0 idle0 all0 <"$run_dir/waiter.txt" || true
  ticks1=$(ticks "$serve_pid")
  fake1=$(ticks "$env_pid")
  delay1=$(ticks "$delay_pid")
  read -r idle1 all1 < <(machine)
  kill -TERM "$serve_pid"
  wait "$serve_pid" || true
  kill -TERM "$env_pid"
  wait "$env_pid" || true
  "$py" - "$log" "$((ticks1 - ticks0))" "$(getconf CLK_TCK)" "$(cat "$run_dir/idp.txt" 2>/dev/null || echo '?')" \
    "$((fake1 - ${fake0:-$fake1}))" "$((delay1 - ${delay0:-$delay1}))" \
    "$((idle1 - ${idle0:-$idle1}))" "$((all1 - ${all0:-$all1}))" <<'EOF'
import re, sys
from datetime import datetime
log, ticks, hz, idp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fake, delay = int(sys.argv[5]) * 1000 // hz, int(sys.argv[6]) * 1000 // hz
idle, total = int(sys.argv[7]), int(sys.argv[8])
busy = 100 * (total - idle) / total if total else float("nan")
stamp = re.compile(r"^(\S+)Z\s")
def ts(line):
    m = stamp.match(line)
    return datetime.fromisoformat(m.group(1)) if m else None
first = last = None
fresh = failed = 0
for line in open(log, errors="replace"):
    if "refreshing the token ahead of expiry" in line and first is None:
        first = ts(line)
    elif "token fresh" in line:
        fresh += 1
        last = ts(line)
    elif "refresh failed; the next try" in line:
        failed += 1
        last = ts(line)
wave = (last - first).total_seconds() * 1000 if first and last else float("nan")
print(f"{wave:.1f} {ticks * 1000 / hz:.0f} {fresh} {failed} {idp} {fake} {delay} {busy:.0f}")
EOF
  # BENCH_KEEP_LOGS=DIR keeps each run's serve log there (for the timeline of a wave).
  if [ -n "${BENCH_KEEP_LOGS:-}" ]; then cp "$log" "$BENCH_KEEP_LOGS/serve-$due-$(date +%s%N).log"; fi
  rm -rf "$run_dir"
}

echo "== one due server vs all $servers due, each in a store of $servers servers; $runs runs each, alternated"
: >"$dir/one.txt"
: >"$dir/wave.txt"
for i in $(seq "$runs"); do
  read -r ms cpu fresh failed idp fake delay busy < <(run 1)
  echo "   run $i, one:  ${ms} ms (serve CPU ${cpu} ms; fresh ${fresh}, failed ${failed}; refreshes at the IdP ${idp}; during the wave CPU of the fake ${fake} ms, of the delay ${delay} ms; machine busy ${busy} %)"
  echo "$ms" >>"$dir/one.txt"
  read -r ms cpu fresh failed idp fake delay busy < <(run "$servers")
  echo "   run $i, wave: ${ms} ms (serve CPU ${cpu} ms; fresh ${fresh}, failed ${failed}; refreshes at the IdP ${idp}; during the wave CPU of the fake ${fake} ms, of the delay ${delay} ms; machine busy ${busy} %)"
  echo "$ms" >>"$dir/wave.txt"
done
python3 - "$dir/one.txt" "$dir/wave.txt" "$rtt" "$servers" <<'EOF'
import statistics, sys
one = [float(x) for x in open(sys.argv[1])]
wave = [float(x) for x in open(sys.argv[2])]
rtt, n = float(sys.argv[3]), sys.argv[4]
o, w = statistics.median(one), statistics.median(wave)
print(f"   one refresh: median {o:.1f} ms = {o / rtt:.2f} RTT (min {min(one):.1f}, max {max(one):.1f})")
print(f"   wave of {n}: median {w:.1f} ms = {w / rtt:.2f} RTT (min {min(wave):.1f}, max {max(wave):.1f})")
print(f"   wave ÷ one (medians): {w / o:.2f}×")
EOF
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
