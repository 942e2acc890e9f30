#!/usr/bin/env bash
# Runs inside the cgroup v2 guest (scripts/v2-guest.sh, pure v2 or --hybrid): boots the
# host's systemd as PID 1 of new pid, mount, cgroup, uts and ipc namespaces (as in a
# system container), with its cgroup root at sd in every hierarchy, waits until it runs,
# then runs each test binary given inside systemd's namespaces (from a cgroup of
# systemd's tree, so that systemd may move processes the tests start), ignored tests
# included. Powers systemd off at the end; exits non-zero if a test failed or systemd
# did not come up.
set -uo pipefail
cg=/sys/fs/cgroup
say() { echo "in-v2-guest-systemd: $*"; }
# The hierarchies: cgroup2 alone, or (v2-guest.sh --hybrid) each v1 one and unified.
if [[ -e $cg/cgroup.controllers ]]; then
    hierarchies=("$cg")
else
    mapfile -t hierarchies <<<"$(awk '$5 ~ "^/sys/fs/cgroup/" {print $5}' /proc/self/mountinfo)"
fi
# Puts process $1 in cgroup $2 (relative) of every hierarchy, or in its parent if absent.
move() {
    local h
    for h in "${hierarchies[@]}"; do
        { echo "$1" >"$h/$2/cgroup.procs"; } 2>/dev/null || echo "$1" >"$h/$(dirname "$2")/cgroup.procs"
    done
}

# A boot target with nothing in it: systemd only needs to be up and reachable.
units=/etc/systemd/system
printf '[Unit]\nDescription=hull systemd-driver tests\nAllowIsolate=yes\n' >$units/hull-tests.target

mkfifo /run/hull-sd-go
cat >/run/hull-sd-init <<'INIT'
#!/bin/bash
# Waits until the unshare parent has left systemd's cgroup (systemd's root must hold
# no process but systemd's own), then sets up a container's view and execs systemd.
read -r _ </run/hull-sd-go
set -e
if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
    umount -l /sys/fs/cgroup
    mount -o remount,bind,ro /sys
    mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
else
    # Hybrid: the same hierarchies again, each rooted at this cgroup namespace.
    mapfile -t v1 <<<"$(awk '$5 ~ "^/sys/fs/cgroup/" {
        for (i = 7; $i != "-"; i++) {}
        if ($(i + 1) == "cgroup") print $5 " " $NF }' /proc/self/mountinfo)"
    umount -l /sys/fs/cgroup
    mount -o remount,bind,ro /sys
    mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
    for line in "${v1[@]}"; do
        dir=${line%% *} opts=${line#* }
        opts=${opts#rw,}
        [[ $opts == name=* ]] && opts=none,$opts
        mkdir -p "$dir"
        mount -t cgroup -o "nosuid,nodev,noexec,$opts" cgroup "$dir"
    done
    mkdir -p /sys/fs/cgroup/unified
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup/unified
fi
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
exec env -i container=other PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    /lib/systemd/systemd --system --unit=hull-tests.target --show-status=no
INIT
chmod 755 /run/hull-sd-init
for h in "${hierarchies[@]}"; do
    mkdir "$h/sd"
    # A v1 cpuset starts empty: it gets its parent's.
    for f in cpuset.cpus cpuset.mems; do
        [[ -e $h/$f ]] && cat "$h/$f" >"$h/sd/$f"
    done
done
(move $BASHPID sd
 exec unshare --cgroup --pid --mount --uts --ipc --fork --mount-proc /run/hull-sd-init) \
    >/run/hull-sd.log 2>&1 &
unshare_pid=$!
systemd_pid=
for _ in $(seq 400); do
    systemd_pid=$(cut -d' ' -f1 /proc/$unshare_pid/task/$unshare_pid/children 2>/dev/null)
    [[ -n $systemd_pid ]] && break
    sleep 0.05
done
[[ -n $systemd_pid ]] || { say "unshare did not fork"; cat /run/hull-sd.log; exit 1; }
move "$unshare_pid" .
echo go >/run/hull-sd-go

inside() {
    (move $BASHPID sd/init.scope
     exec nsenter -t "$systemd_pid" -a "$@")
}
state=
for _ in $(seq 1200); do
    kill -0 "$systemd_pid" 2>/dev/null || { say "systemd died"; cat /run/hull-sd.log; exit 1; }
    if [[ -S /proc/$systemd_pid/root/run/systemd/private ]]; then
        state=$(inside systemctl is-system-running 2>/dev/null)
        [[ $state == running || $state == degraded ]] && break
    fi
    sleep 0.25
done
say "systemd $(inside systemctl --version | head -1 | cut -d' ' -f2) is $state"
# The system bus, as on every systemd host: a user's systemd asks the system's over it
# to move processes it may not move itself.
inside systemctl start dbus.service || say "no system bus"
failed=()
if [[ $state == running || $state == degraded ]]; then
    for bin in "$@"; do
        echo "===== $(basename "$bin") (under systemd)"
        inside "$bin" --include-ignored --test-threads=1 2>&1 | grep -vE '^test .* ok$'
        [[ ${PIPESTATUS[0]} -eq 0 ]] || failed+=("$(basename "$bin")")
    done
else
    failed+=("systemd did not start")
fi
inside systemctl poweroff >/dev/null 2>&1
for _ in $(seq 240); do kill -0 $unshare_pid 2>/dev/null || break; sleep 0.25; done
kill -9 "$systemd_pid" 2>/dev/null
if [[ ${#failed[@]} -gt 0 ]]; then
    say "FAILED: ${failed[*]}"
    exit 1
fi
say "all passed"
