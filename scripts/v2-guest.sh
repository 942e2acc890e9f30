#!/usr/bin/env bash
# Runs a command in a throwaway QEMU guest whose kernel has pure cgroup v2, as on current
# production hosts: Debian's own kernel package (downloaded and unpacked into a cache,
# never installed on the host) booted with cgroup_no_v1=all, cgroup2 mounted at
# /sys/fs/cgroup with every controller enabled for the root's children.
#
#   bash scripts/v2-guest.sh [--timeout SECONDS] [--disk] [--hybrid] -- CMD ARGS...   (as root)
#
# With --hybrid the same kernel keeps its v1 controllers and the guest has the hybrid
# layout systemd makes (v1 hierarchies, name=systemd, an empty cgroup2 at unified).
# Inside the guest: the host's / read-only (9p) under a tmpfs overlay (writes succeed and
# are thrown away), the current directory shared read-write at its own path, private
# /proc /sys /dev /run /tmp, bpffs, loopback only, uid 0. With --disk, a 64 MiB scratch
# disk is /dev/vda (for the io controller). CMD's stdout and stderr come back when the
# guest powers off; the exit status is CMD's (124 on timeout, 125 if the guest failed).
#
# This host has no usable KVM for a standard guest, so QEMU emulates the CPU (TCG): a boot
# takes a few seconds and code inside runs 10-50x slower. The cache
# (/var/cache/hull-v2-guest) keeps the kernel between runs.
set -euo pipefail

cache=/var/cache/hull-v2-guest
timeout=0
disk=
hybrid=
while [[ $# -gt 0 ]]; do
    case $1 in
        --timeout) timeout=$2; shift 2 ;;
        --disk) disk=1; shift ;;
        --hybrid) hybrid=1; shift ;;
        --) shift; break ;;
        *) echo "usage: $0 [--timeout S] [--disk] [--hybrid] -- CMD ARGS..." >&2; exit 2 ;;
    esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--timeout S] [--disk] [--hybrid] -- CMD ARGS..." >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "v2-guest: run me as root" >&2; exit 2; }
say() { echo "v2-guest: $*" >&2; }

# --- what the guest needs on the host ----------------------------------------------------
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v modprobe >/dev/null || missing+=(kmod)
command -v xz >/dev/null || missing+=(xz-utils)
[[ -x /bin/busybox ]] || missing+=(busybox-static)
if [[ ${#missing[@]} -gt 0 ]]; then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi

# --- the kernel: Debian's, unpacked into the cache once ----------------------------------
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [[ -z $package ]]; then
    apt-get update -q >&2
    package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
kver=${package#linux-image-}
kdir=$cache/$kver
initrd_version=7   # bump when the initramfs below changes
if [[ ! -e $kdir/ready ]] || [[ $(cat "$kdir/ready") != "$initrd_version" ]]; then
    rm -rf "$kdir"
    mkdir -p "$kdir/dl"
    say "preparing kernel $kver"
    (cd "$kdir/dl" && apt-get download -q "$package" >&2 2>/dev/null) || (cd "$kdir/dl" && apt-get download -q "$package" >&2)
    dpkg-deb -x "$kdir"/dl/*.deb "$kdir/root"
    rm -rf "$kdir/dl"
    [[ -d $kdir/root/usr/lib/modules ]] && mkdir -p "$kdir/root/lib" && mv "$kdir/root/usr/lib/modules" "$kdir/root/lib/"
    depmod -b "$kdir/root" "$kver"
    # The ELF kernel inside the compressed image boots through PVH, about twice as fast
    # under emulation as the bzImage.
    image=$kdir/root/boot/vmlinuz-$kver
    offset=$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$image" | head -1 | cut -d: -f1 || true)
    if [[ -n $offset ]]; then
        tail -c +$((offset + 1)) "$image" | xz -dcq >"$kdir/vmlinux" 2>/dev/null || true
    fi
    if [[ $(head -c4 "$kdir/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ') != 7f454c46 ]]; then
        cp "$image" "$kdir/vmlinux"
    fi

    # The initramfs: busybox, the modules for 9p, overlay and the disk, the ones CRIU
    # probes for (veth, tun, nftables, the socket diag modules) and locks the network with
    # (iptables), and /init.
    staging=$(mktemp -d)
    mkdir -p "$staging"/{bin,dev,proc,sys,newroot,lower,upper,mods}
    cp /bin/busybox "$staging/bin/busybox"
    for module in virtio_pci 9pnet_virtio 9p overlay virtio_blk veth tun nf_tables nft_compat \
                  iptable_filter ip6table_filter unix_diag inet_diag tcp_diag udp_diag \
                  netlink_diag af_packet_diag; do
        modprobe -d "$kdir/root" -S "$kver" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'
    done | awk '!seen[$0]++' | while read -r path; do
        name=$(basename "$path"); name=${name%.xz}
        case $path in
            *.xz) xz -dc "$path" >"$staging/mods/$name" ;;
            *) cp "$path" "$staging/mods/$name" ;;
        esac
        echo "$name" >>"$staging/mods/order"
    done
    cat >"$staging/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
halt() { echo "hull-v2-guest: $*" >/dev/console; echo o >/proc/sysrq-trigger; sleep 60; }
for m in $(cat /mods/order); do insmod "/mods/$m" || halt "insmod $m failed"; done
run=$(sed -n 's/.*hullg.run=\([^ ]*\).*/\1/p' /proc/cmdline)
p9=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $p9,ro,cache=loose host /lower || halt "no host root"
mount -t tmpfs -o mode=755 upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot \
    || halt "no overlay"
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts $R/dev/pts
ln -sf pts/ptmx $R/dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev shm $R/dev/shm
mount -t mqueue mqueue $R/dev/mqueue
if grep -q hullg.hybrid /proc/cmdline; then
    # A hybrid host as systemd lays it out: v1 controllers, its own name=systemd
    # hierarchy, and cgroup2 (no controllers) at unified.
    mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup $R/sys/fs/cgroup
    for c in cpu,cpuacct memory pids devices freezer blkio cpuset hugetlb perf_event \
             net_cls,net_prio rdma misc none,name=systemd; do
        d=$R/sys/fs/cgroup/${c#none,name=}
        mkdir -p "$d"
        mount -t cgroup -o "nosuid,nodev,noexec,$c" cgroup "$d" || halt "no cgroup $c"
    done
    mkdir -p $R/sys/fs/cgroup/unified
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 $R/sys/fs/cgroup/unified || halt "no cgroup2"
else
    mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup || halt "no cgroup2"
fi
mount -t bpf bpf $R/sys/fs/bpf
# /tmp as on the host (a disk, not nodev): tests make device nodes below it.
mount -t tmpfs -o mode=755,nosuid,nodev run $R/run
mount -t tmpfs -o mode=1777 tmp $R/tmp
mkdir -p $R/run/hullg
mount -t 9p -o $p9,cache=none run $R/run/hullg || halt "no run directory"
while read -r tag path; do
    mkdir -p "$R$path"
    mount -t 9p -o $p9,cache=loose "$tag" "$R$path" || halt "no share $path"
done <$R/run/hullg/shares
# Every controller for the root's children, as systemd enables them.
if [[ -e $R/sys/fs/cgroup/cgroup.controllers ]]; then
    enable=; for c in $(cat $R/sys/fs/cgroup/cgroup.controllers); do enable="$enable +$c"; done
    echo "$enable" >$R/sys/fs/cgroup/cgroup.subtree_control
fi
hostname hull-v2-guest
ip link set lo up
umount /proc /sys 2>/dev/null
exec switch_root $R /bin/bash /run/hullg/stage2
INIT
    chmod 755 "$staging/init"
    (cd "$staging" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$kdir/initrd.img"
    rm -rf "$staging"
    echo "$initrd_version" >"$kdir/ready"
fi
exec 9>&-

# --- one run ------------------------------------------------------------------------------
run=$(mktemp -d "$cache/run.XXXXXX")
qemu_pid=
cleanup() {
    [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
    rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cwd=$(pwd -P)
printf '%s\0' "$@" >"$run/argv"
env -0 >"$run/env"
printf '%s' "$cwd" >"$run/cwd"
echo "share0 $cwd" >"$run/shares"
cat >"$run/stage2" <<'STAGE2'
#!/bin/bash
r=/run/hullg
while IFS= read -r -d '' kv; do
    case ${kv%%=*} in PWD|OLDPWD|SHLVL|_|'') ;; *) export "$kv" 2>/dev/null ;; esac
done <$r/env
mapfile -d '' -t argv <$r/argv
status=125
if cd "$(cat $r/cwd)"; then
    "${argv[@]}" </dev/null >$r/stdout 2>$r/stderr
    status=$?
fi
echo "$status" >$r/status
sync
echo o >/proc/sysrq-trigger
sleep 60
STAGE2
disk_args=()
if [[ -n $disk ]]; then
    truncate -s 64M "$run/disk.img"
    disk_args=(-drive "file=$run/disk.img,if=virtio,format=raw,cache=unsafe")
fi
append="console=ttyS0 quiet loglevel=3 panic=-1 hullg.run=$run"
if [[ -n $hybrid ]]; then append+=" hullg.hybrid"; else append+=" cgroup_no_v1=all"; fi
# Time savers under emulation: no crypto self-tests, two slow initcalls skipped, the TSC
# trusted, no Spectre mitigations.
append+=" cryptomgr.notests initcall_blacklist=init_kprobe_trace,crypto_kdf108_init tsc=reliable no_timer_check mitigations=off"
limit=()
[[ $timeout -gt 0 ]] && limit=(timeout -k 5 "$timeout")
"${limit[@]}" qemu-system-x86_64 -nodefaults -no-user-config \
    -accel tcg,thread=multi -cpu max -m 2G -smp "$(nproc)" \
    -display none -no-reboot -nic none -serial "file:$run/console.log" \
    -kernel "$kdir/vmlinux" -initrd "$kdir/initrd.img" -append "$append" \
    -virtfs "local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap" \
    -virtfs "local,path=$run,mount_tag=run,security_model=passthrough,multidevs=remap" \
    -virtfs "local,path=$cwd,mount_tag=share0,security_model=passthrough,multidevs=remap" \
    "${disk_args[@]}" </dev/null >"$run/qemu.log" 2>&1 &
qemu_pid=$!
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
cat "$run/stdout" 2>/dev/null || true
cat "$run/stderr" >&2 2>/dev/null || true
if [[ -s $run/status ]]; then
    exit "$(cat "$run/status")"
fi
[[ $rc -eq 124 ]] && { say "timed out after ${timeout}s"; exit 124; }
say "the guest reported no status (qemu exit $rc):"
tail -n 30 "$run/qemu.log" "$run/console.log" >&2 2>/dev/null || true
exit 125
