#!/usr/bin/env bash
# The store's whole-process figures (issue 22, targets 1 and 2), each beside its peers in one
# hyperfine run, on the release build: `list` and `check` at 1,000 and 10,000 servers beside
# the Python floor (benches/py/list_floor.py: the same config and every token file, one line
# per server), and `inbound token` beside `inbound --version` (process start, the physical
# floor), the Python floor of the same read and mutt_oauth2.py (neomutt's helper, from the
# Debian package `neomutt`, with `cat` in place of its gpg pipes so it runs unattended).
# Measured here, never asserted in tests. Needs hyperfine, python3 and jq.
#
# Usage: scripts/bench-store.sh [RUNS]     (default 30; `token` runs 5 × RUNS)
#        BIN=path/to/inbound scripts/bench-store.sh   (measure another build, e.g. before a change)
#        SEED=path/to/seed_store                       (a seeder already built; its profile does not matter)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
for tool in hyperfine python3 jq; do
  command -v "$tool" >/dev/null || { echo "scripts/bench-store.sh needs $tool" >&2; exit 1; }
done
if [ -z "${BIN:-}" ]; then
  # The binary on its own: built together with the examples, it would get dev-dependency features.
  cargo build --release --quiet --bin inbound
  BIN="$PWD/target/release/inbound"
fi
if [ -z "${SEED:-}" ]; then
  cargo build --release --quiet --example seed_store
  SEED="$PWD/target/release/examples/seed_store"
fi
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
# Medians, not means: the machine these figures come from is shared and noisy. Each block
# prints every command's median wall time and mean CPU (user + system), then each median
# divided by the first command's.
hf() {
  hyperfine --shell=none --style basic --export-json "$dir/hf.json" "$@" >"$dir/hf.log" 2>&1 ||
    { cat "$dir/hf.log"; return 1; }
  jq -r '.results[0].median as $first | .results[] |
    "  \(.median * 1000 * 100 | round / 100) ms median, CPU \((.user + .system) * 1000 * 100 | round / 100) ms, \(.median / $first * 1000 | round / 1000) of the first  \(.command)"' \
    "$dir/hf.json"
}

echo "== machine"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $BIN, $(stat -c %s "$BIN") bytes"

echo "== seeding stores of 1,000 and 10,000 servers"
"$SEED" "$dir/s1k" 1000
"$SEED" "$dir/s10k" 10000

# mutt_oauth2.py as shipped, with the decryption pipe `cat` (gpg would need a key and an agent;
# it would only make the peer slower) and a token file holding a valid access token.
mutt="$dir/mutt_oauth2.py"
if [ -f /usr/share/doc/neomutt/oauth2/mutt_oauth2.py.gz ]; then
  zcat /usr/share/doc/neomutt/oauth2/mutt_oauth2.py.gz |
    sed -e "s/^ENCRYPTION_PIPE = .*/ENCRYPTION_PIPE = ['cat']/" \
      -e "s/^DECRYPTION_PIPE = .*/DECRYPTION_PIPE = ['cat']/" >"$mutt"
  python3 - "$dir/mutt.token" <<'EOF'
import json, sys
from datetime import datetime, timedelta
json.dump({"registration": "microsoft", "authflow": "authcode", "email": "mailbox500@contoso.com",
           "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6Ij" + "0" * 1197 + "500",
           "access_token_expiration": (datetime.now() + timedelta(hours=2)).isoformat(),
           "refresh_token": "0.AR" + "0" * 800}, open(sys.argv[1], "w"))
EOF
  chmod 600 "$dir/mutt.token"
  mutt_cmd=("python3 $mutt $dir/mutt.token")
else
  echo "(mutt_oauth2.py not found: apt-get install neomutt; its row is left out)"
  mutt_cmd=()
fi

for n in 1k 10k; do
  # The first run of list builds the token summary; the runs measured read it.
  "$BIN" --config-dir "$dir/s$n" list >/dev/null
  sleep 0.2
  "$BIN" --config-dir "$dir/s$n" list >/dev/null
  echo "== list and check, $n servers, vs the Python floor"
  hf --warmup 3 --runs "$runs" --output=null \
    "python3 benches/py/list_floor.py $dir/s$n" \
    "$BIN --config-dir $dir/s$n list" \
    "$BIN --config-dir $dir/s$n list --json" \
    "$BIN --config-dir $dir/s$n check" \
    "$BIN --config-dir $dir/s$n check --json"
done

echo "== list, 1,000 servers, with the token summary removed before each run (every file read)"
hf --warmup 3 --runs "$runs" --output=null \
  --prepare "rm -f $dir/s1k/tokens.cache" \
  "python3 benches/py/list_floor.py $dir/s1k" \
  "$BIN --config-dir $dir/s1k list"

echo "== inbound token (1,000 servers stored) vs --version, the Python floor and mutt_oauth2.py"
hf --warmup 10 --runs "$((runs * 5))" --output=null \
  "${mutt_cmd[@]}" \
  "python3 benches/py/token_floor.py $dir/s1k server-500" \
  "$BIN --version" \
  "$BIN --config-dir $dir/s1k token server-500"

echo "== inbound token, 10,000 servers stored"
hf --warmup 10 --runs "$((runs * 5))" --output=null \
  "$BIN --version" \
  "$BIN --config-dir $dir/s10k token server-5000"

echo "== system calls of one run (strace -c -f), 1,000 servers, the token cache built and settled"
"$BIN" --config-dir "$dir/s1k" list >/dev/null
sleep 0.2
"$BIN" --config-dir "$dir/s1k" list >/dev/null
if command -v strace >/dev/null; then
  for args in "list" "token server-500"; do
    # shellcheck disable=SC2086
    strace -f -c -o "$dir/strace.txt" "$BIN" --config-dir "$dir/s1k" $args >/dev/null
    total=$(awk '$NF == "total" {print $4}' "$dir/strace.txt")
    # shellcheck disable=SC2086
    euid=$(strace -f -e trace=geteuid "$BIN" --config-dir "$dir/s1k" $args 2>&1 >/dev/null | grep -c geteuid || true)
    echo "$args: $total system calls, $euid geteuid"
  done
else
  echo "(strace not installed; skipped)"
fi
