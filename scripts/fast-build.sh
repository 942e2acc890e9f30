#!/usr/bin/env bash
# Builds the hull binary as it ships, and prints its path.
#
#   bash scripts/fast-build.sh        (as root on Debian the first time: installs what it needs)
#
# The shipped hull is a static, non-PIE musl executable (cargo's release profile: LTO,
# opt-level "s", panic=abort, stripped). Static and non-PIE because hull starts twice per
# command (the sealed re-exec), and a dynamic PIE binary pays for its loader, three
# libraries, ~8,000 relocations and glibc's CPUID probing each time (`hull --version`:
# 1.3 ms dynamic, 0.8 ms static non-PIE here). musl, not static glibc: no CPUID probing
# at start-up, and a smaller binary.
#
# libseccomp must then be linked statically against musl: Debian ships it only for
# glibc, so it is built once from the Debian source of the host's own libseccomp version
# (with musl-gcc) into /var/cache/hull-musl-seccomp/<version>. Nothing of the host's apt
# configuration is changed: the source is fetched with a private apt setup.
#
# The standard library is built with hull (cargo's build-std), not linked precompiled:
# without its `backtrace` feature (a DWARF symbolizer, ~150 KiB, useless in a stripped
# binary: a panic still prints its message), with `optimize_for_size`, and without
# unwind tables (panic=abort never unwinds). 1.90 -> 1.40 MB. build-std is an unstable
# cargo feature: RUSTC_BOOTSTRAP=1 lets the stable toolchain use it, rather than tying
# the build to a nightly compiler; the test suite runs this very binary, so a toolchain
# that breaks it fails CI before it ships. RUSTC_BOOTSTRAP also lets dependencies whose
# build scripts probe for nightly features take them (thiserror, proc-macro2): again the
# very binary tested. It builds in target/shipped, so that `cargo build` and `cargo
# test` beside it (without RUSTC_BOOTSTRAP) do not rebuild those dependencies each time.
# The binary keeps no unwind tables: a debugger cannot unwind a core of it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DEBIAN_FRONTEND=noninteractive
target=x86_64-unknown-linux-musl
say() { echo "fast-build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# --- tools ---------------------------------------------------------------------------------
missing=()
for pkg in musl-tools gperf dpkg-dev libseccomp-dev linux-libc-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) -eq 0 ]] || die "missing packages ${missing[*]}; run me as root to install them"
    say "installing ${missing[*]}"
    { apt-get update -q && apt-get install -y -q "${missing[@]}"; } </dev/null >&2 || die "apt-get install failed"
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    say "adding the Rust target $target"
    rustup target add "$target" </dev/null >&2 || die "rustup target add $target failed"
fi
if ! rustup component list --installed 2>/dev/null | grep -qx "rust-src"; then
    say "adding the Rust component rust-src (for build-std)"
    rustup component add rust-src </dev/null >&2 || die "rustup component add rust-src failed"
fi

# --- libseccomp for musl -------------------------------------------------------------------
version=$(dpkg-query -W -f='${Version}' libseccomp-dev)
seccomp=/var/cache/hull-musl-seccomp/$version
if [[ ! -f $seccomp/lib/libseccomp.a ]]; then
    [[ $(id -u) -eq 0 ]] || die "libseccomp for musl is not built yet; run me as root once"
    say "building libseccomp $version for musl"
    mirror=$(bash scripts/debian-mirror.sh)
    suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
    work=$(mktemp -d "${TMPDIR:-/tmp}/hull-seccomp.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/parts" "$work/src" "$work/headers"
    : >"$work/status"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$work/sources.list"
    apt_opts=(
        -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts="$work/parts"
        -o Dir::State::lists="$work/lists" -o Dir::State::status="$work/status"
        -o Dir::Cache="$work" -o APT::Sandbox::User=root -o Debug::NoLocking=1
    )
    (cd "$work/src" && apt-get "${apt_opts[@]}" -q update && apt-get "${apt_opts[@]}" -q source --download-only "libseccomp=$version") \
        >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; die "could not fetch the libseccomp source"; }
    dpkg-source -x "$work"/src/libseccomp_*.dsc "$work/src/libseccomp" >>"$work/log" 2>&1 \
        || { tail -20 "$work/log" >&2; die "could not unpack the libseccomp source"; }
    # musl-gcc sees no kernel headers: give it the host's uapi ones, and only those.
    cp -r /usr/include/linux /usr/include/asm-generic "$work/headers/"
    cp -r "/usr/include/$(gcc -print-multiarch)/asm" "$work/headers/asm"
    rm -rf "$seccomp.new"
    (cd "$work/src/libseccomp" &&
        CC=musl-gcc CFLAGS="-Os -isystem $work/headers" ./configure --enable-static --disable-shared \
            --prefix="$seccomp.new" &&
        make -j"$(nproc)" -C src && make -C src install && make -C include install) >>"$work/log" 2>&1 \
        || { tail -20 "$work/log" >&2; die "building libseccomp for musl failed"; }
    rm -rf "$seccomp"
    mv "$seccomp.new" "$seccomp"
fi

# --- hull ----------------------------------------------------------------------------------
# Non-PIE: the whole binary at its link address, no relocations to apply at start.
RUSTC_BOOTSTRAP=1 LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=$seccomp/lib \
    RUSTFLAGS="-C relocation-model=static -C target-feature=+crt-static -C force-unwind-tables=no" \
    cargo build -q --release --target "$target" -p hull-cli --target-dir "$repo/target/shipped" \
    -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size </dev/null >&2 \
    || die "cargo build failed"
echo "$repo/target/shipped/$target/release/hull"
