#!/usr/bin/env bash
# Fuzzes config.json parsing, validation and conversion (fuzz/fuzz_targets/config_json.rs)
# with libFuzzer through cargo-fuzz, which needs a nightly toolchain.
#
#   bash scripts/fuzz.sh [SECONDS]     (default 600)
#
# New inputs go to fuzz/corpus-new (not committed); fuzz/corpus holds the small seeds.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-600}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
cd "$repo/fuzz"
mkdir -p corpus-new
exec cargo +nightly fuzz run config_json corpus-new corpus/config_json -- \
    -max_total_time="$seconds" -max_len=20000
