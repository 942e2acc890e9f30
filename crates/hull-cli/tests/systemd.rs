//! The systemd cgroup driver (`--systemd-cgroup`, cgroupsPath `slice:prefix:name`):
//! the container's cgroup is a transient scope systemd makes over D-Bus, with
//! `Delegate=yes` and the limits systemd has properties for; pause, update and delete
//! go on working through it. Judged by `systemctl` and by the scope's cgroup files.
//!
//! These need systemd as PID 1, which this machine does not run: they are ignored
//! here, and `scripts/test.sh` runs them in the cgroup v2 guest under systemd
//! (`scripts/in-v2-guest-systemd.sh`). Refusals that need no systemd are in
//! `bad_input.rs`.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::json;

fn systemctl(args: &[&str]) -> String {
    let out = Command::new("systemctl").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A property of a unit, as `systemctl show` gives it.
fn property(unit: &str, name: &str) -> String {
    systemctl(&["show", "-p", name, "--value", unit])
}

#[test]
#[ignore = "systemd as PID 1 only: scripts/test.sh runs it in the v2 guest under systemd"]
fn a_container_is_a_transient_scope() {
    let case = Case::new("systemd_scope");
    let mut b = case.bundle("sdscope");
    let unit = format!("hull-{}.scope", b.id);
    b.set(
        "/linux/cgroupsPath",
        json!(format!("system.slice:hull:{}", b.id)),
    );
    b.set(
        "/linux/resources",
        json!({
            "devices": [{"allow": false, "access": "rwm"}],
            "memory": {"limit": 64 << 20},
            "pids": {"limit": 30},
            "cpu": {"shares": 512}
        }),
    );
    b.args(&["sleep", "60"]);
    b.write();
    case.run(&["--systemd-cgroup", "create", "--bundle", b.dir_str(), &b.id])
        .ok();
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    let dir = PathBuf::from("/sys/fs/cgroup/system.slice").join(&unit);
    let read = |file: &str| {
        fs::read_to_string(dir.join(file))
            .unwrap()
            .trim()
            .to_string()
    };

    assert_eq!(systemctl(&["is-active", &unit]), "active");
    assert_eq!(property(&unit, "Delegate"), "yes");
    assert_eq!(property(&unit, "MemoryMax"), (64 << 20).to_string());
    assert_eq!(property(&unit, "TasksMax"), "30");
    assert!(read("cgroup.procs").lines().any(|l| l == pid.to_string()));
    assert_eq!(read("memory.max"), (64 << 20).to_string());
    assert_eq!(read("pids.max"), "30");
    assert_eq!(read("cpu.weight"), "20");

    case.start(&b.id);
    case.run(&["pause", &b.id]).ok();
    assert_eq!(read("cgroup.freeze"), "1");
    case.run(&["resume", &b.id]).ok();
    assert_eq!(read("cgroup.freeze"), "0");
    case.run(&["update", "--pids-limit", "20", &b.id]).ok();
    assert_eq!(read("pids.max"), "20");
    assert_eq!(property(&unit, "TasksMax"), "20");
    let exec = case.run(&["exec", &b.id, "cat", "/proc/self/cgroup"]);
    exec.ok();
    assert!(exec.out().ends_with(&unit), "{exec}");

    case.run(&["delete", "--force", &b.id]).ok();
    assert!(!dir.exists(), "the scope's cgroup is left");
    assert_ne!(systemctl(&["is-active", &unit]), "active");
    case.finish();
}
