#!/usr/bin/env bash
# Prints the Debian mirror the host's apt already uses (deb822 .sources first, then
# one-line .list files), for the scripts that fetch packages or sources with a private
# apt configuration (scripts/criu.sh, scripts/fast-build.sh). Fails if there is none.
set -euo pipefail
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\/\?\)\( .*\)\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $NF != "" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
[[ -n $mirror ]] || { echo "debian-mirror.sh: no Debian mirror in the apt sources" >&2; exit 1; }
echo "$mirror"
