#!/usr/bin/env bash
# Benchmark (not a test): hull, runc and crun side by side in one run, each runtime with
# its own --root; every command is timed for all three in turn, interleaved round-robin
# (the order rotates each iteration), so background load falls on all of them alike.
#
#   bash scripts/bench.sh [-n ITERATIONS] [-s CONTAINERS] [-r]      (run as root)
#
#   -n  iterations of the per-command benchmark (default 100)
#   -s  containers of the scale run (default 1000; 0 skips it)
#   -r  the scale run also for runc (slow; by default only hull and crun) and EXTRA_RUNTIMES
#
# EXTRA_RUNTIMES="NAME=BINARY ..." adds further runtimes (an older hull build, say): timed
# like the others, in the per-runtime tables and as further columns of the summary.
#
# The hull binary is $HULL if set, else what `scripts/fast-build.sh` builds (the shipped
# static musl build); if that fails or is missing, `cargo build --release` and
# target/release/hull (a dynamic glibc build: not what ships, said so on the output).
#
# What is measured (times are wall clock, CLOCK_MONOTONIC around the runtime's process,
# taken by a small python3 driver; a sample includes starting the runtime's process):
#
#   run+delete      a foreground `run` of a /bin/true bundle (creates, starts, waits for and
#                   removes the container, as runc does without --keep) followed by
#                   `delete --force`, timed together.
#   create          `create` of a bundle whose process is `/bin/sleep 1000`.
#   start           `start` of that created container.
#   exec            `exec ID /bin/true` in that running container (waits for it to end).
#   delete --force  `delete --force` of that running container.
#   delete          `delete` of a stopped container: a /bin/true bundle is created, started,
#                   and `state` polled until it says stopped; then `delete` is timed.
#       Each of these: median, p90 (nearest rank) and min over the iterations, in ms.
#   create peak RSS the create process's maximum resident set (ru_maxrss of wait4, KiB),
#                   median, measured on the stopped-delete container's `create` (the same
#                   config but for its args). ru_maxrss counts the process and its
#                   waited-for descendants, and also the memory of the process it was
#                   forked from as it was at the exec: from the python driver that is the
#                   driver's ~13 MiB, hiding everything smaller. So this create is started
#                   by GNU time (`time -f %M`, a small program that forks the runtime and
#                   reads its wait4 rusage); its own share, the "launcher floor", is
#                   measured (time running a program that does not exist) and printed: a
#                   value at the floor means "at most this".
#   waiting init    the created container's init while it waits for `start`: its pid from
#                   `state` (JSON `pid`), then VmRSS, RssAnon and RssFile of
#                   /proc/<pid>/status, in KiB, median (on the `create` container above).
#   binary          size of the runtime's executable (the path resolved, os.stat) and
#                   whether it is static (no PT_INTERP program header, read from the ELF
#                   headers) and position-independent (ELF type), with its GNU build id (so
#                   a result names the exact build). Shared libraries a dynamic runtime
#                   loads are not counted.
#   scale (-s N)    per runtime, one after the other (hull and crun; with -r also runc and
#                   EXTRA_RUNTIMES): N containers of the /bin/sleep 1000 bundle, each with
#                   its own id in the runtime's state dir, created and started in turn,
#                   every `create` timed.
#                   Reported: median create time of containers 1..20 against N-19..N and
#                   their ratio; `state <first id>` and `list`, each the median of 10 calls
#                   with 1 container running and with N running, and their ratios; memory
#                   per running container = growth of MemTotal-MemAvailable over the N
#                   containers / N, and the same for Slab (/proc/meminfo; KiB, the kernel's
#                   and the runtime's share together; other load on the machine shows up in
#                   it, so the same is also taken from the other side: what the N deletes
#                   gave back, / N); the runtime's processes left running beside the
#                   containers (any process, not there before, whose /proc/<pid>/exe is the
#                   runtime's binary or a memfd copy of it, and which belongs to this run,
#                   by its command line or cgroup; for hull the goal is none); the time of
#                   `delete --force` of all N; then, after waiting for the kernel's
#                   asynchronous network namespace teardown, that no container, state
#                   directory or cgroup of them is left. A failed create or start ends that
#                   runtime's scale run (reported as failed), as does MemAvailable falling
#                   under 1 GiB; what was created is deleted either way.
#
# At the end a Markdown table (metric | hull | crun | runc | hull/crun | goal | met) sums
# it up, for a README, with the goals: run+delete <= 0.5x crun; create, start, exec,
# delete and delete --force each <= 0.7x crun; create peak RSS below crun's; waiting init
# <= 1 MiB RSS; binary <= 1.5 MiB; scale: late creates within 10% of early ones, state and
# list with N containers under 2x with 1, no hull process beside the containers.
#
# Every runtime first runs a check container that must print a marker (and in the
# untimed warm-up iteration an exec must print it too), so a runtime that does nothing is
# reported as failed rather than timed. A runtime that fails is reported and dropped; the
# others go on.
#
# crun refuses a hybrid cgroup host until a v1 hugetlb hierarchy is mounted: on a v1 or
# hybrid host without one, this script mounts it for the benchmark and unmounts it at the
# end. The mount is seen machine-wide: a hull test suite run meanwhile makes its cgroups in
# it too, and they keep the hierarchy alive after the unmount; the clean-up names them.
# Everything else (rootfs, bundles, every runtime's state) lives in one mktemp directory
# that is removed on exit.
set -euo pipefail

iterations=100
scale=1000
scale_runc=0
usage() { echo "usage: $0 [-n ITERATIONS] [-s CONTAINERS] [-r]" >&2; exit 2; }
while getopts ":n:s:rh" opt; do
    case $opt in
        n) iterations=$OPTARG ;;
        s) scale=$OPTARG ;;
        r) scale_runc=1 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || usage
[[ $iterations =~ ^[1-9][0-9]*$ ]] || { echo "bench: -n wants a positive integer, got '$iterations'" >&2; exit 2; }
[[ $scale =~ ^(0|[1-9][0-9]*)$ ]] || { echo "bench: -s wants a number of containers (0 skips), got '$scale'" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "bench: run me as root" >&2; exit 1; }

# $HULL as given on the command line, relative to where we were started.
hull=${HULL:-}
if [[ -n $hull && $hull == */* ]]; then
    hull=$(realpath -- "$hull") || { echo "bench: HULL=$HULL does not exist" >&2; exit 1; }
fi

read -ra extra_runtimes <<<"${EXTRA_RUNTIMES:-}"
for spec in "${extra_runtimes[@]}"; do
    [[ $spec =~ ^[a-z0-9_-]+=.+$ && ! $spec =~ ^(hull|runc|crun)= ]] ||
        { echo "bench: EXTRA_RUNTIMES wants NAME=BINARY words (not hull, runc, crun), got '$spec'" >&2; exit 2; }
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DEBIAN_FRONTEND=noninteractive

# --- packages -------------------------------------------------------------------------
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
# time: GNU time, the small launcher of the create whose peak RSS is measured.
install_missing busybox-static runc crun time
command -v python3 >/dev/null || install_missing python3

# --- hull -----------------------------------------------------------------------------
if [[ -n $hull ]]; then
    echo "bench: hull is \$HULL: $hull"
else
    if [[ -f scripts/fast-build.sh ]] && hull=$(bash scripts/fast-build.sh) && [[ -x $hull ]]; then
        echo "bench: hull from scripts/fast-build.sh: $hull"
    else
        echo "bench: scripts/fast-build.sh failed or is missing; falling back to cargo build --release" \
            "(a dynamic glibc build, not the static one that ships)"
        hull=$repo/target/release/hull
        cargo build --release || echo "bench: building hull failed; it will be reported as failed"
    fi
fi

# --- scratch space and clean-up --------------------------------------------------------
runtime_args=("hull=$hull" "${extra_runtimes[@]}" runc=runc crun=crun)
tmp=$(mktemp -d /tmp/hull-bench.XXXXXX)
id_prefix="hullbench-$$-"
hugetlb=/sys/fs/cgroup/hugetlb
hugetlb_mounted=
hugetlb_dir_made=

cleanup() {
    local spec rt bin id
    set +e
    for spec in "${runtime_args[@]}"; do
        rt=${spec%%=*} bin=${spec#*=}
        [[ -d $tmp/state-$rt ]] || continue
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
    if [[ -n $hugetlb_mounted ]] && ! umount "$hugetlb"; then
        # Busy: while it was mounted, something else on the machine (a test suite running
        # beside the bench) took to it. Pulling it away now would strand their cgroups.
        echo "bench: could not unmount $hugetlb, something else uses it now; unmount it" \
            "(and rmdir what is left in it, then the directory) once that is done" >&2
    elif [[ -n $hugetlb_mounted ]]; then
        echo "bench: unmounted $hugetlb"
        # The kernel keeps an unmounted v1 hierarchy alive while a child cgroup is still
        # being freed, and then every process lists a hugetlb line no mount backs
        # (containerd's metrics fail on it): mount and unmount once more to end it.
        sleep 0.5
        if awk '$1 == "hugetlb" && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups; then
            mount -t cgroup -o hugetlb cgroup "$hugetlb" && umount "$hugetlb"
        fi
        # Still alive: cgroups someone else made in it while it was mounted (a test suite
        # running beside the bench) keep it; say which, they are not ours to remove.
        sleep 0.5
        if awk '$1 == "hugetlb" && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups &&
            mount -t cgroup -o hugetlb cgroup "$hugetlb"; then
            local held
            held=$(find "$hugetlb" -mindepth 1 -type d)
            umount "$hugetlb"
            if [[ -n $held ]]; then
                echo "bench: the v1 hugetlb hierarchy stays alive, held by cgroups made in it while it was" \
                    "mounted (not by this bench; once their owner is done: mount it, rmdir them, unmount):"
                echo "$held"
            fi >&2
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

# --- bundle ---------------------------------------------------------------------------
rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
done

# --- driver ---------------------------------------------------------------------------
python3 - "$iterations" "$scale" "$scale_runc" "$tmp" "$id_prefix" "${runtime_args[@]}" <<'PY'
import json, os, platform, shutil, struct, subprocess, sys, time

iterations, scale_n, scale_runc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
tmp, prefix = sys.argv[4], sys.argv[5]
runtimes = dict(arg.split("=", 1) for arg in sys.argv[6:])
rootfs = os.path.join(tmp, "rootfs")
MARKER = "hull-bench-marker"


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
check_bundle = write_bundle("check", ["/bin/echo", MARKER])
sleep_bundle = write_bundle("sleep", ["/bin/sleep", "1000"])
time_bin = shutil.which("time")  # GNU time


def argv(rt, *args):
    return [runtimes[rt], "--root", os.path.join(tmp, "state-" + rt), *args]


def call(rt, *args):
    return subprocess.run(argv(rt, *args), stdin=subprocess.DEVNULL, capture_output=True, text=True)


def timed(rt, *args):
    t0 = time.perf_counter_ns()
    proc = call(rt, *args)
    return (time.perf_counter_ns() - t0) / 1e6, proc


def short(proc):
    text = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
    return f"exit {proc.returncode}: " + " | ".join(text[-3:])


def create(rt, cid, bundle, rss=False):
    """`create`, with the container's stdio on /dev/null and a file (a pipe would stay open
    in the container's process). Returns (ms, error or None, peak RSS KiB or None); with
    rss the runtime is started by GNU time, and the time is not worth keeping."""
    errpath = os.path.join(tmp, f"create-{rt}.err")
    rsspath = os.path.join(tmp, f"create-{rt}.rss")
    cmd = argv(rt, "create", "--bundle", bundle, cid)
    if rss:
        cmd = [time_bin, "-f", "%M", "-o", rsspath, *cmd]
    with open(errpath, "w+") as err:
        t0 = time.perf_counter_ns()
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        ms = (time.perf_counter_ns() - t0) / 1e6
        err.seek(0)
        text = err.read().strip()
    if proc.returncode != 0:
        lines = (text or "no output").splitlines()
        return ms, f"create {cid}: exit {proc.returncode}: " + " | ".join(lines[-3:]), None
    peak = None
    if rss:
        with open(rsspath) as f:
            peak = int(f.read().split()[-1])
    return ms, None, peak


def launcher_floor():
    """GNU time's own share of ru_maxrss: its forked child failing to exec."""
    path = os.path.join(tmp, "floor.rss")
    subprocess.run([time_bin, "-f", "%M", "-o", path, os.path.join(tmp, "no-such-program")],
                   stdin=subprocess.DEVNULL, capture_output=True)
    with open(path) as f:
        return int(f.read().split()[-1])


def state(rt, cid):
    proc = call(rt, "state", cid)
    if proc.returncode != 0:
        return None, f"state {cid}: {short(proc)}"
    try:
        return json.loads(proc.stdout), None
    except ValueError:
        return None, f"state {cid}: not JSON: {proc.stdout.strip()[:200]!r}"


def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                values[key] = int(rest.split()[0])
    return values


def meminfo():
    values = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0])
    return values


def elf_info(path):
    """(static, pie, GNU build id or None) from the ELF header, program headers and notes;
    None if not a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return None
        e_type = struct.unpack_from("<H", head, 16)[0]
        e_phoff = struct.unpack_from("<Q", head, 32)[0]
        e_phentsize, e_phnum = struct.unpack_from("<HH", head, 54)
        f.seek(e_phoff)
        table = f.read(e_phentsize * e_phnum)
        headers = [struct.unpack_from("<I4xQ16xQ", table, i * e_phentsize) for i in range(e_phnum)]
        build_id = None
        for p_type, p_offset, p_filesz in headers:
            if p_type != 4:  # PT_NOTE
                continue
            f.seek(p_offset)
            notes, at = f.read(p_filesz), 0
            while at + 12 <= len(notes):
                namesz, descsz, n_type = struct.unpack_from("<III", notes, at)
                name_at = at + 12
                desc_at = name_at + (namesz + 3) // 4 * 4
                if n_type == 3 and notes[name_at:name_at + namesz] == b"GNU\0":  # NT_GNU_BUILD_ID
                    build_id = notes[desc_at:desc_at + descsz].hex()
                at = desc_at + (descsz + 3) // 4 * 4
    types = [h[0] for h in headers]
    return 3 not in types, e_type == 3, build_id  # PT_INTERP; ET_DYN


def median(xs):
    s, n = sorted(xs), len(xs)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def p90(xs):
    s = sorted(xs)
    return s[max(0, -(-9 * len(s) // 10) - 1)]  # nearest rank


failed = {}  # runtime -> reason


def fail(rt, reason):
    failed.setdefault(rt, reason)


def run_delete(rt, cid, bundle):
    """One run+delete pair; returns the elapsed ms, or None after recording a failure."""
    t0 = time.perf_counter_ns()
    run = call(rt, "run", "--bundle", bundle, cid)
    delete = call(rt, "delete", "--force", cid)
    elapsed = (time.perf_counter_ns() - t0) / 1e6
    if run.returncode != 0:
        fail(rt, f"run {cid}: {short(run)}")
    elif delete.returncode != 0:
        fail(rt, f"delete {cid}: {short(delete)}")
    else:
        return elapsed, run
    return None, run


TIMES = ["run+delete", "create", "start", "exec", "delete --force", "delete"]
MEMORY = ["create peak RSS", "init VmRSS", "init RssAnon", "init RssFile"]
samples = {m: {rt: [] for rt in runtimes} for m in TIMES + MEMORY}


def iteration(i, record):
    """Every command once for every runtime still in, command by command, the runtimes'
    order rotated by i. With record false: the untimed warm-up, whose exec must print."""
    alive = [rt for rt in runtimes if rt not in failed]
    if not alive:
        return False
    shift = i % len(alive)
    order = alive[shift:] + alive[:shift]
    tag = str(i) if record else "warmup"
    sleeper = {rt: f"{prefix}{rt}-{tag}-s" for rt in order}
    stopped = {rt: f"{prefix}{rt}-{tag}-t" for rt in order}

    def each():
        return [rt for rt in order if rt not in failed]

    def keep(metric, rt, value):
        if record:
            samples[metric][rt].append(value)

    def timed_ok(metric, rt, *args):
        ms, proc = timed(rt, *args)
        if proc.returncode != 0:
            fail(rt, f"{' '.join(args)}: {short(proc)}")
        else:
            keep(metric, rt, ms)
        return proc

    for rt in each():
        ms, _ = run_delete(rt, f"{prefix}{rt}-{tag}", bench_bundle)
        if ms is not None:
            keep("run+delete", rt, ms)
    # A running container: create, (its waiting init's memory), start, exec, delete --force.
    for rt in each():
        ms, error, _ = create(rt, sleeper[rt], sleep_bundle)
        if error:
            fail(rt, error)
        else:
            keep("create", rt, ms)
    for rt in each():
        st, error = state(rt, sleeper[rt])
        if error:
            fail(rt, error)
        elif st.get("status") != "created" or not st.get("pid"):
            fail(rt, f"state {sleeper[rt]} after create: status {st.get('status')!r}, pid {st.get('pid')!r}")
        else:
            try:
                for key, kib in proc_status(st["pid"]).items():
                    keep("init " + key, rt, kib)
            except OSError as e:
                fail(rt, f"/proc/{st['pid']}/status of {sleeper[rt]}'s init: {e}")
    for rt in each():
        timed_ok("start", rt, "start", sleeper[rt])
    for rt in each():
        args = ["/bin/true"] if record else ["/bin/echo", MARKER]
        proc = timed_ok("exec", rt, "exec", sleeper[rt], *args)
        if not record and proc.returncode == 0 and MARKER not in proc.stdout:
            fail(rt, f"exec printed {proc.stdout.strip()!r}, not the marker")
    for rt in each():
        timed_ok("delete --force", rt, "delete", "--force", sleeper[rt])
    # A stopped container: create (its peak RSS), start, wait for stopped, delete.
    for rt in each():
        _, error, peak = create(rt, stopped[rt], bench_bundle, rss=True)
        if error:
            fail(rt, error)
        else:
            keep("create peak RSS", rt, peak)
    for rt in each():
        proc = call(rt, "start", stopped[rt])
        if proc.returncode != 0:
            fail(rt, f"start {stopped[rt]}: {short(proc)}")
    for rt in each():
        deadline = time.monotonic() + 10
        while True:
            st, error = state(rt, stopped[rt])
            if error or st.get("status") == "stopped":
                break
            if time.monotonic() > deadline:
                error = f"{stopped[rt]} (/bin/true) not stopped after 10 s: {st.get('status')!r}"
                break
            time.sleep(0.005)
        if error:
            fail(rt, error)
    for rt in each():
        timed_ok("delete", rt, "delete", stopped[rt])
    # What a runtime that failed now left of this iteration.
    for rt in order:
        if rt in failed:
            for cid in (sleeper[rt], stopped[rt]):
                call(rt, "delete", "--force", cid)
    return True


# --- versions, binaries, check containers ---------------------------------------------
print(f"kernel {platform.release()}, {iterations} iterations, interleaved round-robin")
binaries = {}  # runtime -> (path, size, static, pie)
for rt, binary in runtimes.items():
    found = shutil.which(binary)
    if found is None:
        failed[rt] = f"{binary} not found"
        continue
    path = os.path.realpath(found)
    info = elf_info(path)
    binaries[rt] = (path, os.stat(path).st_size, *(info or (None, None, None)))
    version = call(rt, "--version")
    first = version.stdout.strip().splitlines()[:1] if version.returncode == 0 else []
    print(f"  {rt:5} {binary}: {first[0] if first else '(no --version)'}")
    # The check container must really run: a runtime that exits 0 doing nothing fails here.
    elapsed, run = run_delete(rt, f"{prefix}{rt}-check", check_bundle)
    if elapsed is not None and MARKER not in run.stdout:
        failed[rt] = f"check container printed {run.stdout.strip()!r}, not the marker"
floor = launcher_floor()

# One untimed warm-up iteration, then the timed ones.
iteration(0, record=False)
for i in range(iterations):
    if not iteration(i, record=True):
        break


# --- scale ----------------------------------------------------------------------------
LOW_MEMORY_KIB = 1 << 20
scale = {}  # runtime -> results


def runtime_processes(rt, before=()):
    """Processes, not in `before`, running the runtime's binary or a memfd copy of it."""
    path = binaries[rt][0]
    st = os.stat(path)
    name = os.path.basename(path)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid() or entry in before:
            continue
        try:
            exe = os.stat(f"/proc/{entry}/exe")
            link = os.readlink(f"/proc/{entry}/exe")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{entry}/cgroup") as f:
                cgroup = f.read()
        except OSError:
            continue
        if (exe.st_dev, exe.st_ino) == (st.st_dev, st.st_ino) or (
                link.startswith("/memfd:") and name in link):
            found.append((entry, link, cmdline, tmp in cmdline or prefix in cmdline or prefix in cgroup))
    return found


def our_cgroups(start):
    left = []
    for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
        left += [os.path.join(dirpath, d) for d in dirnames if d.startswith(start)]
    return left


def used(m):
    return m["MemTotal"] - m["MemAvailable"]


def scale_run(rt):
    n = scale_n
    res = {"n": n, "creates": [], "error": None}
    ids = [f"{prefix}{rt}-n{j}" for j in range(1, n + 1)]
    before_procs = {p[0] for p in runtime_processes(rt)}
    before = meminfo()
    created = []
    t_start = time.monotonic()
    for j, cid in enumerate(ids, 1):
        avail = meminfo()["MemAvailable"]
        if avail < LOW_MEMORY_KIB:
            res["error"] = f"stopped at container {j}: MemAvailable {avail // 1024} MiB < 1 GiB"
            break
        ms, error, _ = create(rt, cid, sleep_bundle)
        if error:
            res["error"] = f"container {j}: {error}"
            break
        created.append(cid)
        res["creates"].append(ms)
        proc = call(rt, "start", cid)
        if proc.returncode != 0:
            res["error"] = f"container {j}: start: {short(proc)}"
            break
        if j == 1:
            res["state1"] = median([timed(rt, "state", ids[0])[0] for _ in range(10)])
            res["list1"] = median([timed(rt, "list")[0] for _ in range(10)])
    res["up_s"] = time.monotonic() - t_start
    if res["error"] is None:
        time.sleep(1)
        after = meminfo()
        res["mem_kib"] = (used(after) - used(before)) / n
        res["slab_kib"] = (after["Slab"] - before["Slab"]) / n
        procs = runtime_processes(rt, before_procs)
        res["procs"] = [p for p in procs if p[3]]
        res["other_procs"] = [p for p in procs if not p[3]]
        res["stateN"] = median([timed(rt, "state", ids[0])[0] for _ in range(10)])
        res["listN"] = median([timed(rt, "list")[0] for _ in range(10)])
    pre_delete = meminfo()
    t0 = time.perf_counter_ns()
    delete_failures = []
    for cid in created:
        proc = call(rt, "delete", "--force", cid)
        if proc.returncode != 0:
            delete_failures.append(f"{cid}: {short(proc)}")
    res["delete_s"] = (time.perf_counter_ns() - t0) / 1e9
    res["delete_failures"] = delete_failures
    # Network namespaces go away asynchronously: wait until Slab stops shrinking (<= 15 s).
    last, waited = meminfo()["Slab"], 0
    while waited < 15:
        time.sleep(1)
        waited += 1
        now = meminfo()["Slab"]
        if waited >= 2 and last - now < 1024:
            break
        last = now
    res["settle_s"] = waited
    final = meminfo()
    res["residual_mib"] = (used(final) - used(before)) / 1024
    if res["error"] is None:
        # The same from the other side: what deleting them gave back.
        res["freed_kib"] = (used(pre_delete) - used(final)) / n
        res["slab_freed_kib"] = (pre_delete["Slab"] - final["Slab"]) / n
    leaks = []
    listed = call(rt, "list", "-q")
    if listed.returncode != 0:
        leaks.append(f"list: {short(listed)}")
    else:
        leaks += [f"container {c}" for c in listed.stdout.split() if c.startswith(f"{prefix}{rt}-n")]
    state_dir = os.path.join(tmp, "state-" + rt)
    if os.path.isdir(state_dir):
        leaks += [f"state {e}" for e in os.listdir(state_dir) if e.startswith(f"{prefix}{rt}-n")]
    leaks += [f"cgroup {c}" for c in our_cgroups(f"{prefix}{rt}-n")]
    leaks += [f"process {p[0]} {p[2]}" for p in runtime_processes(rt, before_procs) if p[3]]
    res["leaks"] = leaks
    return res


if scale_n:
    for rt in runtimes:
        if rt not in ("hull", "crun") and not scale_runc:
            continue
        if rt in failed:
            scale[rt] = {"n": scale_n, "error": "skipped: failed above", "creates": []}
            continue
        print(f"scale: {rt}, {scale_n} containers ...", flush=True)
        scale[rt] = scale_run(rt)

# Leak check: every runtime's list must be empty and no cgroup of ours may remain.
for rt in runtimes:
    if shutil.which(runtimes[rt]) is None:
        continue
    left = call(rt, "list", "-q")
    if left.returncode == 0 and left.stdout.split():
        print(f"bench: {rt} left containers: {' '.join(left.stdout.split())}")
for path in our_cgroups(prefix):
    print(f"bench: leaked cgroup {path}")


# --- per-runtime output ---------------------------------------------------------------
def ms_table(metric):
    vals = samples[metric]
    medians = {rt: median(v) for rt, v in vals.items() if v and rt not in failed}
    base = medians.get("hull")
    print()
    print(f"{metric}:")
    print(f"{'runtime':8} {'runs':>5} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'median/hull':>12}")
    for rt, v in vals.items():
        if rt in failed:
            done = f" after {len(v)} timed runs" if v else ""
            print(f"{rt:8} FAILED{done}: {failed[rt]}")
            continue
        if not v:
            print(f"{rt:8} no samples")
            continue
        ratio = f"{medians[rt] / base:.2f}x" if base else "n/a"
        print(f"{rt:8} {len(v):5} {medians[rt]:10.2f} {p90(v):8.2f} {min(v):8.2f} {ratio:>12}")
    return medians


def at_floor(kib):
    return kib <= floor * 1.02


print()
print("=" * 78)
for metric in TIMES:
    ms_table(metric)

print()
print(f"memory, KiB, median (create peak RSS: launcher floor {floor} KiB, values at it mean 'at most'):")
print(f"{'runtime':8} {'create peak':>12} {'init VmRSS':>11} {'RssAnon':>8} {'RssFile':>8}")
for rt in runtimes:
    if rt in failed:
        print(f"{rt:8} FAILED: {failed[rt]}")
        continue
    cols = []
    for m in MEMORY:
        v = samples[m][rt]
        cols.append(f"{median(v):.0f}" if v else "-")
    if samples["create peak RSS"][rt] and at_floor(median(samples["create peak RSS"][rt])):
        cols[0] = "<=" + cols[0]
    print(f"{rt:8} {cols[0]:>12} {cols[1]:>11} {cols[2]:>8} {cols[3]:>8}")

print()
print("binaries:")
for rt, (path, size, static, pie, build_id) in binaries.items():
    kind = "not a 64-bit ELF" if static is None else (
        ("static" if static else "dynamic") + (", PIE" if pie else ", non-PIE"))
    print(f"  {rt:5} {path}: {size} bytes ({size / 2**20:.2f} MiB), {kind}"
          + (f", build id {build_id}" if build_id else ""))

for rt, r in scale.items():
    print()
    n, c = r["n"], r["creates"]
    print(f"scale {rt}: {n} containers" + (f", {len(c)} created and started in {r['up_s']:.1f} s" if c else ""))
    if r["error"]:
        print(f"  FAILED: {r['error']}")
    if c:
        k = min(20, len(c))
        first, last = median(c[:k]), median(c[-k:])
        r["first"], r["last"] = first, last
        overlap = " (the ranges overlap: fewer than 40 containers)" if len(c) < 40 else ""
        print(f"  create: containers 1..{k} median {first:.2f} ms, {len(c) - k + 1}..{len(c)} median "
              f"{last:.2f} ms ({last / first:.2f}x){overlap}; all: median {median(c):.2f}, "
              f"p90 {p90(c):.2f}, max {max(c):.2f} ms")
    if "stateN" in r:
        print(f"  state: 1 running {r['state1']:.2f} ms, {n} running {r['stateN']:.2f} ms "
              f"({r['stateN'] / r['state1']:.2f}x)")
        print(f"  list:  1 running {r['list1']:.2f} ms, {n} running {r['listN']:.2f} ms "
              f"({r['listN'] / r['list1']:.2f}x)")
        print(f"  memory per running container: {r['mem_kib']:.0f} KiB (MemTotal-MemAvailable), "
              f"Slab {r['slab_kib']:.0f} KiB; given back per container by the deletes: "
              f"{r['freed_kib']:.0f} KiB, Slab {r['slab_freed_kib']:.0f} KiB (where these two differ, "
              f"other load on the machine moved the numbers)")
        print(f"  {rt} processes beside the containers: {len(r['procs'])}")
        for pid, link, cmdline, _ in r["procs"]:
            print(f"    {pid} {link}: {cmdline[:200]}")
        if r["other_procs"]:
            print(f"  (not counted: {len(r['other_procs'])} other processes of that binary, "
                  f"not of this bench: {', '.join(p[0] for p in r['other_procs'][:10])})")
    if "delete_s" in r:
        print(f"  delete --force of all {len(c)}: {r['delete_s']:.1f} s"
              + (f", {len(r['delete_failures'])} FAILED: {r['delete_failures'][0]}" if r["delete_failures"] else ""))
        print(f"  after {r['settle_s']} s: the machine's memory in use {r['residual_mib']:+.0f} MiB against before; "
              f"left behind: {', '.join(r['leaks'][:10]) if r['leaks'] else 'nothing'}"
              + (f" (+{len(r['leaks']) - 10} more)" if len(r["leaks"]) > 10 else ""))


# --- summary --------------------------------------------------------------------------
def med(metric, rt):
    v = samples[metric].get(rt)
    return median(v) if v and rt not in failed else None


cols = ["hull", "crun", "runc"] + [rt for rt in runtimes if rt not in ("hull", "crun", "runc")]
rows = []  # (metric, {rt: text}, ratio text, goal, met)


def ratio_of(values):
    h, c = values.get("hull"), values.get("crun")
    return h / c if h is not None and c else None


def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def add(metric, values, fmt, goal="", check=None, ratio=True):
    r = ratio_of(values) if ratio else None
    ok = check(values, r) if check else None
    texts = {rt: ("-" if values.get(rt) is None else fmt(values[rt])) for rt in cols}
    rows.append((metric, texts, f"{r:.2f}x" if r is not None else "-", goal, verdict(ok) if goal else ""))


def ratio_at_most(limit):
    return lambda values, r: None if r is None else r <= limit


ms = lambda v: f"{v:.2f} ms"
kib = lambda v: f"{v:.0f} KiB"
add("run + delete (/bin/true)", {rt: med("run+delete", rt) for rt in cols}, ms, "<= 0.5x crun", ratio_at_most(0.5))
for metric, label in [("create", "create"), ("start", "start"), ("exec", "exec /bin/true"),
                      ("delete", "delete (stopped)"), ("delete --force", "delete --force (running)")]:
    add(label, {rt: med(metric, rt) for rt in cols}, ms, "<= 0.7x crun", ratio_at_most(0.7))
peaks = {rt: med("create peak RSS", rt) for rt in cols}
add("create peak RSS", peaks,
    lambda v: ("<= " if at_floor(v) else "") + kib(v), "below crun",
    lambda values, r: None if r is None else values["hull"] < values["crun"])
add("waiting init VmRSS", {rt: med("init VmRSS", rt) for rt in cols}, kib, "<= 1 MiB",
    lambda values, r: None if values.get("hull") is None else values["hull"] <= 1024)
add("waiting init RssAnon / RssFile",
    {rt: (med("init RssAnon", rt), med("init RssFile", rt)) for rt in cols if med("init VmRSS", rt) is not None},
    lambda v: f"{v[0]:.0f} / {v[1]:.0f} KiB", ratio=False)
sizes = {rt: binaries[rt][1] for rt in cols if rt in binaries}
add("binary size", sizes, lambda v: f"{v / 2**20:.2f} MiB", "<= 1.5 MiB",
    lambda values, r: None if values.get("hull") is None else values["hull"] <= 1.5 * 2**20)
add("binary static", {rt: binaries[rt][2] for rt in cols if rt in binaries},
    lambda v: "?" if v is None else ("yes" if v else "no"), ratio=False)
if scale:
    N = scale_n
    got = lambda key: {rt: scale[rt].get(key) for rt in cols if rt in scale and scale[rt]["error"] is None}
    first, last = got("first"), got("last")
    k = min(20, N)
    add(f"scale: create, containers 1..{k}", first, ms)
    add(f"scale: create, containers {N - k + 1}..{N}", last, ms)
    add(f"scale: create {N - k + 1}..{N} / 1..{k}",
        {rt: last[rt] / first[rt] for rt in first if first[rt] and last.get(rt)},
        lambda v: f"{v:.2f}x", "<= 1.10 (within 10%)",
        lambda values, r: None if values.get("hull") is None else values["hull"] <= 1.10, ratio=False)
    for what in ("state", "list"):
        one, many = got(what + "1"), got(what + "N")
        add(f"scale: {what}, 1 running", one, ms)
        add(f"scale: {what}, {N} running", many, ms)
        add(f"scale: {what} {N} / 1",
            {rt: many[rt] / one[rt] for rt in one if one[rt] and many.get(rt)},
            lambda v: f"{v:.2f}x", "< 2x",
            lambda values, r: None if values.get("hull") is None else values["hull"] < 2, ratio=False)
    add("scale: memory per container", got("mem_kib"), kib)
    add("scale: Slab per container", got("slab_kib"), kib)
    add("scale: memory given back per container by delete", got("freed_kib"), kib)
    add("scale: Slab given back per container by delete", got("slab_freed_kib"), kib)
    add(f"scale: {N} x delete --force, total", got("delete_s"), lambda v: f"{v:.2f} s")
    add("scale: runtime processes beside containers",
        {rt: len(v) for rt, v in got("procs").items() if v is not None}, str, "0 for hull",
        lambda values, r: None if values.get("hull") is None else values["hull"] == 0, ratio=False)
    failures = {rt: scale[rt]["error"] for rt in scale if scale[rt]["error"]}
    leaked = {rt: len(scale[rt]["leaks"]) for rt in scale if "leaks" in scale[rt]}
    add("scale: left after delete", leaked, lambda v: "nothing" if v == 0 else f"{v} items",
        "nothing", lambda values, r: None if values.get("hull") is None else values["hull"] == 0, ratio=False)

print()
print("=" * 78)
print(f"summary ({iterations} iterations" + (f", scale run {scale_n} containers" if scale else "")
      + f"; medians; create peak RSS launcher floor {floor} KiB"
      + (f"; the scale goals are stated for 1000 containers" if scale and scale_n != 1000 else "") + "):")
print()
print("| metric | " + " | ".join(cols) + " | hull/crun | goal | met |")
print("|---|" + "---:|" * len(cols) + "---:|---|---|")
for metric, texts, r, goal, met in rows:
    print(f"| {metric} | " + " | ".join(texts[rt] for rt in cols) + f" | {r} | {goal} | {met} |")
for rt, reason in failed.items():
    print(f"\n{rt} FAILED: {reason}")
if scale:
    for rt, reason in failures.items():
        print(f"\nscale run of {rt} FAILED: {reason}")
sys.exit(0 if any(samples["run+delete"][rt] for rt in runtimes if rt not in failed) else 1)
PY
