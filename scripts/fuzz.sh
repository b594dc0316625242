#!/usr/bin/env bash
# Runs the cargo-fuzz targets (store files, pasted addresses, id_tokens) for SECONDS each
# (default 60). The stable toolchain is enough: RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the
# sanitizer flags. A crash input is kept under fuzz/artifacts/<target>/; copy it into a
# regression test (tests/testsuite/properties.rs) before fixing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in store_config paste_back id_token; do
  echo "== $target ($seconds s)"
  cargo fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096 2>&1 | tail -n 3
done
