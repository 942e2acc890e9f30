#!/usr/bin/env bash
# Benchmark (not a test): `run` + `delete` of a busybox /bin/true container with hull,
# runc and crun, interleaved round-robin in one run, each runtime with its own --root.
#
#   bash scripts/bench.sh [-n ITERATIONS]     (default 100; run as root)
#
# One timed sample is a foreground `run` (which creates, starts, waits for and removes the
# container, as runc does without --keep) followed by `delete --force`, measured with
# CLOCK_MONOTONIC by a small python3 driver. Every runtime first runs a check container
# that must print a marker, so a runtime that does nothing is reported as failed rather
# than timed. A runtime that fails is reported and dropped; the others go on.
#
# crun refuses a hybrid cgroup host until a v1 hugetlb hierarchy is mounted: on a v1 or
# hybrid host without one, this script mounts it for the benchmark and unmounts it at the
# end. Everything else lives in a mktemp directory that is removed on exit.
set -euo pipefail

iterations=100
usage() { echo "usage: $0 [-n ITERATIONS]" >&2; exit 2; }
while getopts ":n:h" opt; do
    case $opt in
        n) iterations=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || usage
[[ $iterations =~ ^[1-9][0-9]*$ ]] || { echo "bench: -n wants a positive integer, got '$iterations'" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "bench: run me as root" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DEBIAN_FRONTEND=noninteractive

# --- packages ------------------------------------------------------------------------
apt_updated=
install_missing() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "bench: installing ${missing[*]}"
    if [[ -z $apt_updated ]]; then apt-get update -q </dev/null; apt_updated=1; fi
    apt-get install -y -q "${missing[@]}" </dev/null
}
install_missing busybox-static runc crun
command -v python3 >/dev/null || install_missing python3

# --- hull ----------------------------------------------------------------------------
hull=$repo/target/release/hull
if [[ ! -x $hull ]]; then
    echo "bench: building hull (cargo build --release)"
    cargo build --release || echo "bench: building hull failed; it will be reported as failed"
fi

# --- scratch space and clean-up --------------------------------------------------------
tmp=$(mktemp -d /tmp/hull-bench.XXXXXX)
id_prefix="hullbench-$$-"
hugetlb=/sys/fs/cgroup/hugetlb
hugetlb_mounted=
hugetlb_dir_made=

cleanup() {
    local rt id
    set +e
    for rt in hull runc crun; do
        [[ -d $tmp/state-$rt ]] || continue
        local bin=$rt
        [[ $rt == hull ]] && bin=$hull
        for id in $("$bin" --root "$tmp/state-$rt" list -q 2>/dev/null); do
            "$bin" --root "$tmp/state-$rt" delete --force "$id" >/dev/null 2>&1
        done
    done
    # Empty cgroups a failed runtime left behind (rmdir only removes empty ones).
    find /sys/fs/cgroup -depth -type d -name "${id_prefix}*" -exec rmdir {} + 2>/dev/null
    # Never rm -rf through a mount point: a leaked bind mount could point anywhere.
    if awk -v t="$tmp" '$5 == t || index($5, t "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        echo "bench: mounts remain under $tmp; not removing it" >&2
    else
        rm -rf "$tmp"
    fi
    if [[ -n $hugetlb_mounted ]]; then
        umount "$hugetlb" && echo "bench: unmounted $hugetlb"
        # The kernel keeps an unmounted v1 hierarchy alive while a child cgroup is still
        # being freed, and then every process lists a hugetlb line no mount backs
        # (containerd's metrics fail on it): mount and unmount once more to end it.
        sleep 0.5
        if awk '$1 == "hugetlb" && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups; then
            mount -t cgroup -o hugetlb cgroup "$hugetlb" && umount "$hugetlb"
        fi
        [[ -n $hugetlb_dir_made ]] && rmdir "$hugetlb"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_v1_hugetlb() {
    awk '{ for (i = 1; i <= NF; i++) if ($i == "-") {
               if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)hugetlb(,|$)/) found = 1
               break } }
         END { exit !found }' /proc/self/mountinfo
}
# Only on v1/hybrid hosts (a tmpfs at /sys/fs/cgroup): on a pure v2 host mkdir would
# create a cgroup, and crun needs no help there.
if [[ $(stat -f -c %T /sys/fs/cgroup) == tmpfs ]] && ! has_v1_hugetlb; then
    [[ -d $hugetlb ]] || { mkdir "$hugetlb" && hugetlb_dir_made=1; }
    if mount -t cgroup -o hugetlb cgroup "$hugetlb"; then
        hugetlb_mounted=1
        echo "bench: mounted a v1 hugetlb hierarchy at $hugetlb for crun (removed at the end)"
    else
        echo "bench: could not mount $hugetlb; crun may refuse this host" >&2
    fi
fi

# --- bundle ----------------------------------------------------------------------------
rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
done

# --- driver ----------------------------------------------------------------------------
python3 - "$iterations" "$tmp" "$id_prefix" "hull=$hull" ${EXTRA_RUNTIMES:-} runc=runc crun=crun <<'PY'
import json, os, platform, shutil, subprocess, sys, time

iterations = int(sys.argv[1])
tmp, prefix = sys.argv[2], sys.argv[3]
runtimes = dict(arg.split("=", 1) for arg in sys.argv[4:])
rootfs = os.path.join(tmp, "rootfs")


def write_bundle(name, args):
    """A bundle from `runc spec`'s defaults: no terminal, the given args, shared rootfs."""
    bundle = os.path.join(tmp, name)
    os.mkdir(bundle)
    out = subprocess.run(["runc", "spec", "--bundle", bundle], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench: runc spec failed: {out.stderr.strip()}")
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = args
    spec["root"]["path"] = rootfs
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)
    return bundle


bench_bundle = write_bundle("bundle", ["/bin/true"])
check_bundle = write_bundle("check", ["/bin/echo", "hull-bench-marker"])


def call(rt, *args):
    cmd = [runtimes[rt], "--root", os.path.join(tmp, "state-" + rt), *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)


def short(proc):
    text = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
    return f"exit {proc.returncode}: " + " | ".join(text[-3:])


failed = {}  # runtime -> reason


def run_delete(rt, cid, bundle):
    """One run+delete pair; returns the elapsed ns, or None after recording a failure."""
    t0 = time.perf_counter_ns()
    run = call(rt, "run", "--bundle", bundle, cid)
    delete = call(rt, "delete", "--force", cid)
    elapsed = time.perf_counter_ns() - t0
    if run.returncode != 0:
        failed[rt] = f"run {cid}: {short(run)}"
    elif delete.returncode != 0:
        failed[rt] = f"delete {cid}: {short(delete)}"
    else:
        return elapsed, run
    return None, run


print(f"kernel {platform.release()}, {iterations} iterations, interleaved round-robin")
for rt, binary in runtimes.items():
    if shutil.which(binary) is None:
        failed[rt] = f"{binary} not found"
        continue
    version = call(rt, "--version")
    first = version.stdout.strip().splitlines()[:1] if version.returncode == 0 else []
    print(f"  {rt:5} {binary}: {first[0] if first else '(no --version)'}")
    # The check container must really run: a runtime that exits 0 doing nothing fails here.
    elapsed, run = run_delete(rt, f"{prefix}{rt}-check", check_bundle)
    if elapsed is not None and "hull-bench-marker" not in run.stdout:
        failed[rt] = f"check container printed {run.stdout.strip()!r}, not the marker"
    # One untimed warm-up pair.
    if rt not in failed:
        run_delete(rt, f"{prefix}{rt}-warmup", bench_bundle)

samples = {rt: [] for rt in runtimes}
for i in range(iterations):
    alive = [rt for rt in runtimes if rt not in failed]
    if not alive:
        break
    shift = i % len(alive)
    for rt in alive[shift:] + alive[:shift]:
        elapsed, _ = run_delete(rt, f"{prefix}{rt}-{i}", bench_bundle)
        if elapsed is not None:
            samples[rt].append(elapsed / 1e6)

# Leak check: every runtime's list must be empty and no cgroup of ours may remain.
for rt in runtimes:
    if shutil.which(runtimes[rt]) is None:
        continue
    left = call(rt, "list", "-q")
    if left.returncode == 0 and left.stdout.split():
        print(f"bench: {rt} left containers: {' '.join(left.stdout.split())}")
for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
    for d in dirnames:
        if d.startswith(prefix):
            print(f"bench: leaked cgroup {os.path.join(dirpath, d)}")


def median(xs):
    s, n = sorted(xs), len(xs)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def p90(xs):
    s = sorted(xs)
    return s[max(0, -(-9 * len(s) // 10) - 1)]  # nearest rank


medians = {rt: median(v) for rt, v in samples.items() if v and rt not in failed}
base = medians.get("hull")
print()
print(f"{'runtime':8} {'runs':>5} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'median/hull':>12}")
for rt, v in samples.items():
    if rt in failed:
        done = f" after {len(v)} timed runs" if v else ""
        print(f"{rt:8} FAILED{done}: {failed[rt]}")
        continue
    ratio = f"{medians[rt] / base:.2f}x" if base else "n/a"
    print(f"{rt:8} {len(v):5} {medians[rt]:10.2f} {p90(v):8.2f} {min(v):8.2f} {ratio:>12}")
if base is None and medians:
    fastest = min(medians, key=medians.get)
    print(f"(hull has no result; relative to {fastest}: "
          + ", ".join(f"{rt} {m / medians[fastest]:.2f}x" for rt, m in medians.items()) + ")")
sys.exit(0 if medians else 1)
PY
