#!/usr/bin/env bash
# serve's kill test at full count: 1,000 SIGKILLs at random moments of refresh waves (CI runs
# 100). INBOUND_TEST_SEED=N repeats a printed run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${INBOUND_SERVE_KILL_ROUNDS:-1000}"
start=$(date +%s)
INBOUND_SERVE_KILL_ROUNDS="$rounds" cargo test --test testsuite serve::sigkill_during_refresh_waves -- --nocapture 2>&1 \
  | grep -E '^serve kill rounds|^test |test result|panicked'
echo "serve kill test: $rounds rounds in $(( $(date +%s) - start )) s"
