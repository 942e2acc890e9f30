#!/usr/bin/env bash
# The whole test suite: the README's test command, and what .ci/run executes.
#
#   bash scripts/test.sh        (as root on Debian; needs cargo with rustfmt and clippy)
#
# Installs what the tests need if it is missing (apt-get update at most once), mounts
# nothing, then runs, stopping at the first failure:
#   cargo fmt --all -- --check
#   cargo clippy --workspace --all-targets -- -D warnings
#   cargo test --workspace, on the shipped static build (scripts/fast-build.sh), with the
#   CRIU of scripts/criu.sh for the checkpoint tests
#   the library's example program (crates/hull/examples/parallel.rs)
#   the library's tokio face (feature `tokio`): clippy, its test, its doc example
#   the cgroup tests again in a pure cgroup v2 QEMU guest (scripts/v2-guest.sh),
#   and the systemd cgroup driver's there under systemd
# Needs no terminal and no stdin (works under CI=true).
set -euo pipefail

die() { echo "test.sh: $*" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DEBIAN_FRONTEND=noninteractive

# --- what the tests need -----------------------------------------------------------------
# busybox-static: the containers' rootfs; runc, crun: the reference runtimes; libseccomp-dev:
# what hull links for seccomp; golang-github-containers-common: a real seccomp profile (and
# podman's policy.json); jq, iproute2, procps: tools the tests use to look at containers
# from the host; containerd, podman, docker.io, containernetworking-plugins: the engines
# crates/engine-tests drives with hull (CNI for the CRI pods); protobuf-compiler: protoc,
# which the CRI client's build needs.
packages=(busybox-static runc crun jq iproute2 procps libseccomp-dev golang-github-containers-common
          containerd podman docker.io containernetworking-plugins protobuf-compiler)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) -eq 0 ]] || die "missing packages ${missing[*]}; run me as root to install them"
    echo "test.sh: installing ${missing[*]}"
    apt-get update -q </dev/null || die "apt-get update failed"
    apt-get install -y -q "${missing[@]}" </dev/null || die "apt-get install ${missing[*]} failed"
fi
[[ $(id -u) -eq 0 ]] || die "the tests create real containers: run me as root"

if ! command -v cargo >/dev/null && [[ -f $HOME/.cargo/env ]]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null || die "cargo $component is missing and rustup is not installed"
        echo "test.sh: adding the $component component"
        rustup component add "$component" </dev/null || die "rustup component add $component failed"
    fi
done

# CRIU for checkpoint and restore: the host's if it works on this kernel, else the one
# scripts/criu.sh makes (Debian 12's 3.17 fails on kernels >= 6.13). First on PATH too,
# where podman and containerd look for `criu`.
criu=$(bash scripts/criu.sh) || die "no CRIU that works on this kernel (scripts/criu.sh)"
export HULL_TEST_CRIU=$criu
PATH="$(dirname "$criu"):$PATH"

# The hull the CLI's and the engines' tests run is the one that ships: the static musl
# build of scripts/fast-build.sh (the library's own tests link the library).
hull_bin=$(bash scripts/fast-build.sh) || die "building the shipped hull failed (scripts/fast-build.sh)"
export HULL_TEST_RUNTIME=$hull_bin
echo "test.sh: testing $hull_bin"

# --- the suite -----------------------------------------------------------------------------
step() {
    local name=$1
    shift
    printf '\n===== %s: %s =====\n' "$name" "$*"
    "$@" </dev/null || {
        local rc=$?
        printf '\ntest.sh: FAILED at %s (exit %d): %s\n' "$name" "$rc" "$*" >&2
        exit "$rc"
    }
}
step format cargo fmt --all -- --check
step lint cargo clippy --workspace --all-targets -- -D warnings
step tests cargo test --workspace

# The library's example program, run as its docs say: one container per thread, each
# one's output read back through a pipe and its exit code checked.
example() {
    local rootfs out
    rootfs=$(mktemp -d)
    mkdir -p "$rootfs/bin" && cp /bin/busybox "$rootfs/bin/" && ln -s busybox "$rootfs/bin/sh"
    out=$(cargo run -q -p hull --example parallel -- "$rootfs" 4) || { rm -rf "$rootfs"; return 1; }
    rm -rf "$rootfs"
    echo "$out"
    [[ $(grep -c 'said "hello from container' <<<"$out") -eq 4 ]] && grep -q '^container 3: exit code 3,' <<<"$out"
}
step example example

# The tokio face of the library (hull's feature `tokio`, which the CLI does not enable):
# its lint, its test and the crate docs' async example, built on their own so that the
# CLI above is tested as it ships.
tokio_face() {
    cargo clippy -p hull --all-targets --features tokio -- -D warnings &&
        cargo test -p hull --features tokio --test async_wait &&
        cargo test -p hull --features tokio --doc
}
step tokio tokio_face

# This host is hybrid (cgroup v1 controllers): the cgroup part of the suite runs again on
# pure cgroup v2, in a QEMU guest of Debian's own kernel booted with cgroup_no_v1=all
# (scripts/v2-guest.sh), with the v2-only tests that are ignored here.
v2_guest() {
    local bins
    mapfile -t bins < <(cargo test --workspace --no-run --message-format=json 2>/dev/null \
        | jq -r 'select(.executable != null and .profile.test == true) | .executable' \
        | grep -E '/(cgroups|kill|lifecycle|exec|host_boundary|rootless|v2_host|cgroup_v2|library)-[0-9a-f]+$')
    [[ ${#bins[@]} -ge 9 ]] || { echo "test.sh: found only ${#bins[@]} of the 9 test binaries for the v2 guest" >&2; return 1; }
    # And the async OOM events on v2's memory.events (built with the feature `tokio`).
    local async
    async=$(cargo test -p hull --features tokio --test async_wait --no-run --message-format=json 2>/dev/null \
        | jq -r 'select(.executable != null and .profile.test == true) | .executable')
    [[ -n $async ]] || { echo "test.sh: no async_wait test binary for the v2 guest" >&2; return 1; }
    bins+=("$async")
    bash scripts/v2-guest.sh --disk --timeout 1500 -- bash scripts/in-v2-guest.sh "${bins[@]}"
}
step cgroup-v2 v2_guest

# The systemd cgroup driver, in the same guest with systemd as PID 1 of a container's
# namespaces (this host runs no systemd): once on pure cgroup v2, once on a hybrid host
# as systemd lays it out.
systemd_guest() {
    local bin
    bin=$(cargo test --workspace --no-run --message-format=json 2>/dev/null \
        | jq -r 'select(.executable != null and .profile.test == true) | .executable' \
        | grep -E '/systemd-[0-9a-f]+$')
    [[ -n $bin ]] || { echo "test.sh: no systemd test binary" >&2; return 1; }
    bash scripts/v2-guest.sh --timeout 900 -- bash scripts/in-v2-guest-systemd.sh "$bin" &&
        bash scripts/v2-guest.sh --hybrid --timeout 900 -- bash scripts/in-v2-guest-systemd.sh "$bin"
}
step systemd-driver systemd_guest

# Each test checks its own containers; this is the suite-wide check that nothing at all
# was left behind: no container cgroup, no state, no process running from a test bundle.
leaks() {
    local left
    left=$(find /sys/fs/cgroup -mindepth 3 -maxdepth 3 -type d \
        \( -path '*/hull-test/*' -o -path '*/hull-lib-test/*' -o -path '*/hull-engine-tests/*' \
           -o -path '*/hull-example/*' \) 2>/dev/null || true)
    left+=$(find "${TMPDIR:-/tmp}/hull-tests" "${TMPDIR:-/tmp}/hull-lib-tests" -mindepth 2 -maxdepth 2 \
        -name state -newer "$repo/Cargo.toml" -exec find {} -mindepth 1 \; 2>/dev/null || true)
    # The engine tests' own directories (the image cache stays for the next run).
    left+=$(find "${TMPDIR:-/tmp}/hull-engine-tests" -mindepth 1 -maxdepth 1 ! -name images 2>/dev/null || true)
    left+=$(pgrep -af 'hull-(lib-|engine-)?tests/' || true)
    if [[ -n $left ]]; then
        printf 'left behind by the tests:\n%s\n' "$left" >&2
        return 1
    fi
    echo "nothing left behind"
}
step leaks leaks
printf '\ntest.sh: all passed (format, lint, tests, example, tokio, cgroup v2, systemd, leaks)\n'
