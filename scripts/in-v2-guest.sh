#!/usr/bin/env bash
# Runs inside the pure cgroup v2 guest (scripts/v2-guest.sh): each test binary given,
# ignored tests included (the v2-only ones are ignored on the hybrid host), two at a
# time. Exits non-zero if any failed.
set -uo pipefail
echo "in-v2-guest: kernel $(uname -r), cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
failed=()
for bin in "$@"; do
    echo "===== $(basename "$bin")"
    "$bin" --include-ignored --test-threads=2 2>&1 | grep -vE '^test .* ok$'
    [[ ${PIPESTATUS[0]} -eq 0 ]] || failed+=("$(basename "$bin")")
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "in-v2-guest: FAILED: ${failed[*]}"
    exit 1
fi
echo "in-v2-guest: all passed"
