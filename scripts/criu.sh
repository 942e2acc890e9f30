#!/usr/bin/env bash
# Prints the path of a `criu` that works on this kernel, making one if needed.
#
#   bash scripts/criu.sh        (as root)
#
# The `criu` on PATH is used if `criu check` passes. Otherwise (Debian 12's CRIU 3.17 fails
# on kernels >= 6.13: "Unexpected rt vDSO area bounds") CRIU 4.2 is taken from Debian's
# unstable suite: the package and the libraries it needs are downloaded with a private apt
# configuration (the host's apt state is untouched), unpacked into a cache, and run through
# the cache's own dynamic loader by a wrapper named `criu` (the newer libc it needs is not
# the host's). 4.2, not 4.1: 4.1 cannot dump TCP or UDP sockets on kernels >= 6.16.
# podman and containerd look `criu` up on PATH: put the wrapper's directory first.
set -euo pipefail
cache=/var/cache/hull-criu
wrapper=$cache/bin/criu
say() { echo "criu.sh: $*" >&2; }

usable() { "$1" check >/dev/null 2>&1; }

if host=$(command -v criu) && [[ $host != "$wrapper" ]] && usable "$host"; then
    echo "$host"
    exit 0
fi
if [[ -x $wrapper ]] && usable "$wrapper"; then
    echo "$wrapper"
    exit 0
fi
[[ $(id -u) -eq 0 ]] || { say "run me as root"; exit 2; }

mirror=$(bash "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh")

say "fetching CRIU from Debian unstable"
work=$(mktemp -d "${TMPDIR:-/tmp}/hull-criu.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/parts" "$work/tree"
: >"$work/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror unstable main" >"$work/sources.list"
apt_opts=(
    -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts="$work/parts"
    -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts="$work/parts"
    -o Dir::State::lists="$work/lists" -o Dir::State::status="$work/status"
    -o Dir::Cache="$work" -o Dir::Cache::archives="$work/archives"
    -o APT::Install-Recommends=false -o APT::Sandbox::User=root -o Debug::NoLocking=1
)
if ! { apt-get "${apt_opts[@]}" -q update && apt-get "${apt_opts[@]}" -q -y --download-only install criu; } >"$work/log" 2>&1; then
    tail -20 "$work/log" >&2
    say "could not download CRIU"
    exit 1
fi
for deb in "$work"/archives/*.deb; do dpkg-deb -x "$deb" "$work/tree"; done

rm -rf "$cache.new"
mkdir -p "$cache.new/bin"
mv "$work/tree" "$cache.new/tree"
lib=usr/lib/x86_64-linux-gnu
cat >"$cache.new/bin/criu" <<EOF
#!/bin/sh
# CRIU from Debian unstable, run with its own loader and libraries (made by hull's
# scripts/criu.sh). No chroot: host paths and inherited descriptors stay as they are.
exec $cache/tree/$lib/ld-linux-x86-64.so.2 --library-path $cache/tree/$lib $cache/tree/usr/sbin/criu "\$@"
EOF
chmod 755 "$cache.new/bin/criu"
rm -rf "$cache"
mv "$cache.new" "$cache"
if ! usable "$wrapper"; then
    "$wrapper" check >&2 || true
    say "the CRIU made in $cache does not pass criu check"
    exit 1
fi
say "$("$wrapper" --version | head -1) in $cache"
echo "$wrapper"
