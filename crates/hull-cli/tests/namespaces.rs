//! Namespaces, read from inside the container: new ones differ from the host's, absent ones
//! are shared with the host, and `path` joins an existing one.

mod common;

use common::*;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

/// (config type, name under /proc/<pid>/ns)
const KINDS: &[(&str, &str)] = &[
    ("pid", "pid"),
    ("network", "net"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("mount", "mnt"),
    ("cgroup", "cgroup"),
];

/// A script printing `<ns>=<readlink /proc/self/ns/<ns>>` for every kind.
fn print_ns_script() -> String {
    KINDS
        .iter()
        .map(|(_, p)| format!("echo {p}=$(readlink /proc/self/ns/{p});"))
        .collect()
}

#[test]
fn new_namespaces_differ_from_host() {
    let case = Case::new("ns_new");
    let mut b = case.bundle("nsnew");
    for (kind, _) in KINDS {
        b.add_namespace(kind);
    }
    b.sh(&print_ns_script());
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    for (_, p) in KINDS {
        let inside = kv.get(*p).unwrap_or_else(|| panic!("no {p} in:\n{out}"));
        assert!(inside.starts_with(&format!("{p}:[")), "{p}: {inside}");
        assert_ne!(inside, &host_ns(p), "{p} namespace is the host's");
    }
    case.finish();
}

/// A bundle without any namespace entry, in the host's own `/`: all a container
/// without a mount namespace may ask for (see host_boundary.rs for the refusals).
fn host_everything(case: &Case, label: &str) -> Bundle {
    let mut b = case.bundle(label);
    for (kind, _) in KINDS {
        b.remove_namespace(kind);
    }
    b.unset("/hostname")
        .masked_paths(&[])
        .readonly_paths(&[])
        .readonly_root(false)
        .set("/mounts", serde_json::json!([]))
        .set("/root/path", serde_json::json!("/"));
    b
}

/// Without a namespace entry, the container shares the host's namespace, the mount
/// namespace too (runtime-tools' linux_ns_itype): it runs in the host's `/` as it is,
/// and so does an exec'd process. Seen failing before: "linux.namespaces: a mount
/// namespace is required"; then, before issue 9, such a container ran chrooted into
/// its rootfs, which is no isolation.
#[test]
fn no_namespaces_at_all_share_every_one_with_the_host() {
    let case = Case::new("ns_none");
    let marker = case.dir.join("on-the-host");
    std::fs::write(&marker, "").unwrap();
    let mut b = host_everything(&case, "nsnone");
    let script = format!("{} ls {}", print_ns_script(), marker.display());
    b.args(&[BUSYBOX, "sh", "-c", &script]);
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    for (_, p) in KINDS {
        assert_eq!(
            kv[*p],
            host_ns(p),
            "{p} namespace is not the host's:\n{out}"
        );
    }
    assert_eq!(out.out().lines().last(), marker.to_str(), "{out}");

    let mut held = host_everything(&case, "nsnoneexec");
    held.args(&[BUSYBOX, "sleep", "30"]);
    case.create(&held);
    case.start(&held.id);
    let exec = case.run(&["exec", &held.id, BUSYBOX, "ls", marker.to_str().unwrap()]);
    exec.ok();
    assert_eq!(exec.out(), marker.to_str().unwrap());
    case.run(&["delete", "--force", &held.id]).ok();
    case.finish();
}

/// Without a namespace entry, the container shares the host's namespace (here all but
/// mount).
#[test]
fn absent_namespaces_are_shared_with_host() {
    let case = Case::new("ns_shared");
    let mut b = case.bundle("nsshared");
    for (kind, _) in KINDS {
        if *kind != "mount" {
            b.remove_namespace(kind);
        }
    }
    // A hostname needs a private uts namespace (runc refuses it otherwise).
    b.unset("/hostname");
    b.sh(&print_ns_script());
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    for (kind, p) in KINDS {
        let inside = &kv[*p];
        if *kind == "mount" {
            assert_ne!(inside, &host_ns(p));
        } else {
            assert_eq!(inside, &host_ns(p), "{p} namespace should be the host's");
        }
    }
    case.finish();
}

#[test]
fn pid_namespace_init_is_pid_1() {
    let case = Case::new("ns_pid");
    let mut b = case.bundle("nspid");
    b.sh("echo $$; ls /proc | grep -c '^[0-9]'");
    let out = case.run_container(&b);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "1", "{out}");
    // Only sh, ls and grep (and maybe the pipeline's subshell) are visible.
    let n: u32 = lines[1].parse().unwrap();
    assert!(n <= 4, "the container sees {n} processes:\n{out}");
    case.finish();
}

#[test]
fn uts_namespace_hostname() {
    let case = Case::new("ns_uts");
    let mut b = case.bundle("nsuts");
    b.hostname("inside-uts")
        .sh("hostname; cat /proc/sys/kernel/hostname");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.stdout, "inside-uts\ninside-uts\n");
    case.finish();
}

#[test]
fn network_namespace_has_only_loopback() {
    let case = Case::new("ns_net");
    let mut b = case.bundle("nsnet");
    b.sh("ls /sys/class/net; echo ---; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.stdout, "lo\n---\nlo\n");
    case.finish();
}

/// IPC objects made in the container's ipc namespace are not the host's: the new namespace
/// starts with no SysV message queues (read from /proc/sysvipc/msg, which lists them).
#[test]
fn ipc_namespace_is_empty() {
    let case = Case::new("ns_ipc");
    let mut b = case.bundle("nsipc");
    b.sh("tail -n +2 /proc/sysvipc/msg | wc -l; tail -n +2 /proc/sysvipc/shm | wc -l");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.stdout, "0\n0\n");
    case.finish();
}

/// In a new cgroup namespace the container's cgroups are its root.
#[test]
fn cgroup_namespace_root() {
    let case = Case::new("ns_cgroup");
    let mut b = case.bundle("nscgroup");
    b.add_namespace("cgroup").sh("cat /proc/self/cgroup");
    let out = case.run_container(&b);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(!lines.is_empty(), "{out}");
    for l in &lines {
        let path = l.splitn(3, ':').nth(2).unwrap_or("?");
        assert_eq!(
            path, "/",
            "cgroup line not at the namespace root: {l}\n{out}"
        );
    }
    if cgroup_v2_mounted() {
        assert!(
            lines.iter().any(|l| l.starts_with("0::")),
            "no v2 line:\n{out}"
        );
    }
    case.finish();
}

/// Without a cgroup namespace, /proc/self/cgroup shows the container's cgroupsPath.
#[test]
fn cgroup_path_without_cgroup_namespace() {
    let case = Case::new("ns_nocgroup");
    let mut b = case.bundle("nsnocgroup");
    b.sh("cat /proc/self/cgroup");
    let out = case.run_container(&b);
    out.ok();
    let want = format!("/hull-test/{}", b.id);
    // Every mounted hierarchy: the v1 controllers (pure v1 or hybrid host, like this one) and
    // the v2 one ("0::"); hierarchies not mounted here show their root and are skipped.
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| cgroup_line_is_mounted(l))
        .collect();
    if cgroup_v2_mounted() {
        assert!(
            lines.iter().any(|l| l.starts_with("0::")),
            "no v2 line:\n{out}"
        );
    }
    if cgroup_v1_present() {
        assert!(
            lines.iter().any(|l| !l.starts_with("0::")),
            "no v1 line:\n{out}"
        );
    }
    for l in lines {
        let path = l.splitn(3, ':').nth(2).unwrap_or("?");
        assert_eq!(path, want, "{l}\n{out}");
    }
    case.finish();
}

#[test]
fn user_namespace_mappings() {
    let case = Case::new("ns_user");
    let mut b = case.bundle("nsuser");
    b.user_namespace(0, 100000, 65536);
    // All default mounts stay: sysfs works because the network namespace is new too (owned
    // by the user namespace), and runc sets the cgroup tree up with bind mounts here.
    b.sh(
        "echo uid_map=$(cat /proc/self/uid_map); echo gid_map=$(cat /proc/self/gid_map); \
         echo user=$(readlink /proc/self/ns/user); echo id=$(id -u):$(id -g); \
         echo owner=$(stat -c %u /bin/busybox)",
    );
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["uid_map"], "0 100000 65536", "{out}");
    assert_eq!(kv["gid_map"], "0 100000 65536", "{out}");
    assert_ne!(kv["user"], host_ns("user"));
    assert_eq!(kv["id"], "0:0");
    // Host root is not mapped: its files show as the overflow uid.
    assert_eq!(kv["owner"], "65534");
    case.finish();
}

/// A time namespace with offsets: /proc/self/timens_offsets shows them and the boottime
/// clock (/proc/uptime) is shifted.
///
/// runc 1.1.5 (this host's reference) has no time namespace support (it came in runc 1.2): it
/// rejects the config with `namespace {"time" ""} does not exist` (exit 1, nothing left
/// behind).
/// The test asserts that for runc and the real behaviour for every other runtime.
#[test]
fn time_namespace_offsets() {
    let case = Case::new("ns_time");
    let mut b = case.bundle("nstime");
    b.time_offsets(86400 * 365, 86400 * 365 * 2);
    b.sh(
        "echo time=$(readlink /proc/self/ns/time); cat /proc/self/timens_offsets; \
         echo uptime=$(cut -d. -f1 /proc/uptime)",
    );
    let out = case.run_container(&b);
    if is_runc() {
        out.assert_bad_input(&["time"]);
        case.assert_no_leaks();
    } else {
        out.ok();
        let kv = out.kv();
        assert_ne!(kv["time"], host_ns("time"));
        let offsets: Vec<Vec<&str>> = out
            .stdout
            .lines()
            .filter(|l| !l.contains('='))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(
            offsets.contains(&vec!["monotonic", "31536000", "0"]),
            "{out}"
        );
        assert!(
            offsets.contains(&vec!["boottime", "63072000", "0"]),
            "{out}"
        );
        // /proc/uptime follows the boottime clock.
        let uptime: u64 = kv["uptime"].parse().unwrap();
        assert!(uptime >= 63072000, "uptime {uptime} not shifted\n{out}");
    }
    case.finish();
}

/// A time namespace in a new user namespace: its offsets must be written before any
/// process is in it, by one holding CAP_SYS_TIME over the namespace's owner (hull's
/// parent; init, non-dumpable, cannot open its own timens_offsets there). runc 1.1.5
/// has no time namespace (refused, as above).
#[test]
fn time_namespace_in_a_user_namespace() {
    let case = Case::new("ns_time_user");
    let mut b = case.bundle("nstimeuser");
    b.user_namespace(0, 100000, 65536);
    b.time_offsets(3600, 7200);
    b.sh("cat /proc/self/timens_offsets; echo uid=$(id -u); cat /proc/self/uid_map");
    let out = case.run_container(&b);
    if is_runc() {
        out.assert_bad_input(&["time"]);
        case.assert_no_leaks();
    } else {
        out.ok();
        let lines = out.words();
        assert!(lines.contains(&vec!["monotonic", "3600", "0"]), "{out}");
        assert!(lines.contains(&vec!["boottime", "7200", "0"]), "{out}");
        assert!(lines.contains(&vec!["uid=0"]), "{out}");
        assert!(lines.contains(&vec!["0", "100000", "65536"]), "{out}");
    }
    case.finish();
}

/// Joins a network namespace made by `ip netns add` through its path.
#[test]
fn join_network_namespace_by_path() {
    let case = Case::new("ns_join_net");
    let name = format!("hull-{}", case.new_id("netns"));
    let st = Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .expect("running ip netns add");
    assert!(st.success(), "ip netns add {name} failed");
    {
        let name = name.clone();
        case.defer(move || {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        });
    }
    let path = format!("/run/netns/{name}");
    let want_inode = std::fs::metadata(&path).unwrap().ino();

    let mut b = case.bundle("joinnet");
    b.namespace_path("network", &path);
    b.sh("readlink /proc/self/ns/net");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), format!("net:[{want_inode}]"));
    case.finish();
}

/// A container joins the user namespace of another by path (as a pod's containers do):
/// it runs as that namespace's root. Seen failing before: "create mount point /dev/pts:
/// Value too large for defined data type" (init kept its host ids, unmapped there).
/// runc 1.1.5 refuses the config: it wants uid mappings even for a joined namespace.
#[test]
fn join_a_user_namespace_by_path() {
    let case = Case::new("ns_join_user");
    let mut first = case.bundle("userowner");
    first.user_namespace(0, 100000, 65536);
    first.args(&["sleep", "60"]);
    case.create(&first);
    let pid = case.state(&first.id)["pid"].as_i64().unwrap();
    let mut second = case.bundle("userjoiner");
    second.namespace_path("user", &format!("/proc/{pid}/ns/user"));
    second.sh("echo uid=$(id -u); cat /proc/self/uid_map; readlink /proc/self/ns/user");
    let out = case.run_container(&second);
    out.ok();
    assert_eq!(out.kv()["uid"], "0", "{out}");
    let owner = std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap();
    assert!(out.stdout.contains(owner.to_str().unwrap()), "{out}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["0", "100000", "65536"]),
        "{out}"
    );
    case.run(&["delete", "--force", &first.id]).ok();
    case.finish();
}

/// A second container joins the uts, ipc and pid namespaces of a first one (created, not
/// started) through `/proc/<pid>/ns/*`: same inodes, the first one's hostname, and in the
/// joined pid namespace the second container's init is not pid 1.
#[test]
fn join_namespaces_of_another_container() {
    let case = Case::new("ns_join_container");
    let mut first = case.bundle("first");
    first.hostname("first-host").args(&["sleep", "60"]);
    case.create(&first);
    let pid = case.state(&first.id)["pid"].as_i64().unwrap();
    let ns = |p: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{p}"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };

    let mut second = case.bundle("second");
    for (kind, p) in [("uts", "uts"), ("ipc", "ipc"), ("pid", "pid")] {
        second.namespace_path(kind, &format!("/proc/{pid}/ns/{p}"));
    }
    // The joined uts namespace keeps its own hostname: a hostname in the config would be
    // written into it, so leave it out.
    second.unset("/hostname");
    second.sh(
        "echo uts=$(readlink /proc/self/ns/uts); echo ipc=$(readlink /proc/self/ns/ipc); \
         echo pid=$(readlink /proc/self/ns/pid); echo host=$(hostname); echo me=$$",
    );
    let out = case.run_container(&second);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["uts"], ns("uts"), "{out}");
    assert_eq!(kv["ipc"], ns("ipc"), "{out}");
    assert_eq!(kv["pid"], ns("pid"), "{out}");
    assert_eq!(kv["host"], "first-host", "{out}");
    assert_ne!(
        kv["me"], "1",
        "joined pid namespace already has an init:\n{out}"
    );

    case.run(&["delete", "--force", &first.id]).ok();
    case.finish();
}

/// A new network namespace has `lo`, up (as runc leaves it), and nothing else.
#[test]
fn new_network_namespace_has_loopback_up() {
    let case = Case::new("ns_lo_up");
    let mut b = case.bundle("nsloup");
    b.sh("ls /sys/class/net; cat /sys/class/net/lo/flags");
    let out = case.run_container(&b);
    out.ok();
    let lines: Vec<&str> = out.out().lines().collect();
    assert_eq!(lines, ["lo", "0x9"], "{out}");
    case.finish();
}
