#!/usr/bin/env bash
# The README's demo: run one real, isolated container with hull and show what it sees.
#
#   bash scripts/demo.sh        (as root on Debian; builds hull if target/release/hull is missing)
#
# It makes a throwaway bundle in a mktemp directory. The root filesystem is the host's
# static busybox (the binary plus one symlink per applet) when /bin/busybox is a static
# binary; otherwise it is empty directories onto which config.json bind-mounts the host's
# /usr, /lib, /lib64, /bin and /sbin read-only (on merged-/usr hosts, where /bin and the
# others are symlinks into usr/, the rootfs gets the same symlinks instead of mounts).
# The config comes from `hull spec` and is edited with jq (installed if missing) or python3.
# The container runs in the foreground; everything is removed on exit, even on failure.
#
# HULL=/path/to/runtime runs the same demo with another runc-compatible runtime;
# DEMO_ROOTFS=host forces the bind-mount root filesystem even where busybox is present.
set -euo pipefail

section() { printf '\n===== %s =====\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run me as root"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

section "hull"
hull=${HULL:-$repo/target/release/hull}
if [[ ! -x $hull ]]; then
    # hull links libseccomp.
    if ! dpkg-query -W -f='${Status}' libseccomp-dev 2>/dev/null | grep -q 'install ok installed'; then
        echo "installing libseccomp-dev (needed to build hull)"
        { apt-get update -q && apt-get install -y -q libseccomp-dev; } </dev/null >/dev/null ||
            die "could not install libseccomp-dev"
    fi
    echo "building hull: cargo build --release"
    (cd "$repo" && cargo build --release) || die "cargo build --release failed"
fi
echo "runtime: $hull"

# --- scratch space and clean-up --------------------------------------------------------
tmp=$(mktemp -d /tmp/hull-demo.XXXXXX)
bundle=$tmp/bundle
rootfs=$bundle/rootfs
state=$tmp/state
id=hull-demo-$$

cleanup() {
    local rc=$?
    set +e
    "$hull" --root "$state" delete --force "$id" >/dev/null 2>&1
    # The container's mounts live in its own mount namespace. Should any have leaked into
    # ours, refuse to rm -rf through them: a rw bind of /usr would be emptied.
    if awk -v t="$tmp" '$5 == t || index($5, t "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        echo "demo: mounts remain under $tmp; left it in place" >&2
        rc=1
    else
        rm -rf "$tmp"
    fi
    section "cleaned up"
    echo "removed $tmp (bundle and state); demo exit status $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- root filesystem -------------------------------------------------------------------
section "bundle"
mkdir -p "$rootfs"/{proc,sys,dev,tmp,etc,root}
binds=()
if [[ ${DEMO_ROOTFS:-} != host && -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; then
    echo "rootfs: the host's static /bin/busybox and its applets"
    mkdir -p "$rootfs/bin"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
        [[ $applet == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
    done
else
    echo "rootfs: read-only binds of the host's /usr and libraries (no static busybox)"
    for dir in /usr /lib /lib32 /lib64 /libx32 /bin /sbin; do
        if [[ -L $dir ]]; then
            ln -s "$(readlink "$dir")" "$rootfs$dir"
            echo "  $dir -> $(readlink "$dir") (symlink)"
        elif [[ -d $dir ]]; then
            mkdir -p "$rootfs$dir"
            binds+=("$dir")
            echo "  $dir (read-only bind mount)"
        fi
    done
fi
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
echo "bundle: $bundle"

# --- what the container runs -------------------------------------------------------------
# Plain POSIX sh: it runs under busybox ash or the host's dash.
read -r -d '' inside <<'EOF' || true
section() { printf '\n----- %s -----\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
# Names of the capability bits set in a hex mask, e.g. "0000000020000420".
capnames() {
    mask=$((0x$1)); bit=0; out=
    for name in chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap \
        linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner \
        sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice \
        sys_resource sys_time sys_tty_config mknod lease audit_write audit_control setfcap \
        mac_override mac_admin syslog wake_alarm block_suspend audit_read perfmon bpf \
        checkpoint_restore; do
        [ $(( (mask >> bit) & 1 )) -eq 1 ] && out="$out${out:+,}cap_$name"
        bit=$((bit + 1))
    done
    echo "${out:-(none)}"
}

section "hostname"
if have hostname; then hostname; else cat /proc/sys/kernel/hostname; fi

section "process ids (a new pid namespace: this shell is pid 1)"
echo "my pid (\$\$): $$"
if have ps; then ps -o pid,ppid,comm 2>/dev/null || ps; fi
echo "processes in /proc:"
for p in /proc/[0-9]*; do echo "  ${p#/proc/} $(cat "$p/comm" 2>/dev/null)"; done

section "user"
if have id; then id; else grep -E '^(Uid|Gid|Groups):' /proc/self/status; fi

section "network (a new network namespace: only lo)"
if have ip; then ip -o link show | cut -d' ' -f2-3; else tail -n +3 /proc/net/dev | cut -d: -f1; fi

section "mounts (/proc/self/mountinfo)"
cat /proc/self/mountinfo

section "capabilities (/proc/self/status)"
grep -E '^(Cap|NoNewPrivs)' /proc/self/status | while read -r key value; do
    case $key in
        Cap*) echo "$key $value $(capnames "$value")" ;;
        *) echo "$key $value" ;;
    esac
done
EOF

# --- config.json -------------------------------------------------------------------------
section "config.json"
(cd "$bundle" && "$hull" spec) || die "'hull spec' failed"
[[ -s $bundle/config.json ]] || die "'hull spec' wrote no config.json in $bundle"
if ! command -v jq >/dev/null; then
    echo "installing jq"
    { apt-get update -q && apt-get install -y -q jq; } </dev/null >/dev/null || echo "could not install jq; using python3"
fi
if command -v jq >/dev/null; then
    jq --arg script "$inside" '
        .process.terminal = false
        | .process.args = ["sh", "-c", $script]
        | .mounts += [$ARGS.positional[]
                      | {destination: ., type: "bind", source: .,
                         options: ["bind", "ro", "nosuid", "nodev"]}]
    ' "$bundle/config.json" --args "${binds[@]}" >"$bundle/config.json.new"
else
    python3 - "$bundle/config.json" "$inside" "${binds[@]}" >"$bundle/config.json.new" <<'PY'
import json, sys
path, script, binds = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path) as f:
    spec = json.load(f)
spec["process"]["terminal"] = False
spec["process"]["args"] = ["sh", "-c", script]
spec["mounts"] += [{"destination": d, "type": "bind", "source": d,
                    "options": ["bind", "ro", "nosuid", "nodev"]} for d in binds]
json.dump(spec, sys.stdout, indent=2)
PY
fi
mv "$bundle/config.json.new" "$bundle/config.json"
echo "from 'hull spec', with: terminal false, args [sh -c <script>], ${#binds[@]} extra bind mount(s)"
if command -v jq >/dev/null; then
    echo "namespaces: $(jq -r '[.linux.namespaces[].type] | join(" ")' "$bundle/config.json")"
fi

# --- run -----------------------------------------------------------------------------------
section "inside the container: $hull --root $state run $id"
set +e
"$hull" --root "$state" run --bundle "$bundle" "$id"
status=$?
set -e
section "container exited with status $status"
[[ $status -eq 0 ]] || die "the container failed (exit status $status)"
