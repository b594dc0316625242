#!/usr/bin/env bash
# The fault suite at full count: 1,000 kill rounds (CI runs 100), then the rest of the suite,
# printing the figures FAULTS.md quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${INBOUND_FAULT_ROUNDS:-1000}"
start=$(date +%s)
INBOUND_FAULT_ROUNDS="$rounds" cargo test --test testsuite faults:: -- --nocapture --test-threads 2 2>&1 \
  | grep -E '^faults:|^test |test result'
echo "fault suite: $rounds kill rounds in $(( $(date +%s) - start )) s"
