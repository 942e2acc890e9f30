//! cgroup v2 core files for real, on this host's unified hierarchy (at
//! /sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on a pure v2 one): placing
//! a process, cgroup.freeze with cgroup.events, cgroup.kill, and removal. The v2
//! controller files are covered by fixture tests in the library (`cgroups::v2`).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hull::cgroups::Cgroup;

fn unified_root() -> PathBuf {
    ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("cgroup.controllers").exists())
        .expect("this host mounts a cgroup v2 hierarchy")
}

fn events(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("cgroup.events")).unwrap()
}

#[test]
fn freeze_thaw_kill_and_remove_on_the_unified_hierarchy() {
    let root = unified_root();
    let dir = root.join(format!("hull-v2-test-{}", std::process::id()));
    let mut cgroup = Cgroup {
        paths: BTreeMap::from([(String::new(), dir.clone())]),
        unified_root: Some(root),
        made: vec![dir.clone()],
        systemd: None,
    };
    cgroup.create().unwrap();
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    std::fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
    assert_eq!(cgroup.pids().unwrap(), vec![pid]);
    assert!(events(&dir).contains("populated 1"), "{}", events(&dir));

    cgroup.freeze(true).unwrap();
    assert!(events(&dir).contains("frozen 1"), "{}", events(&dir));
    assert!(cgroup.is_frozen());
    cgroup.freeze(false).unwrap();
    assert!(events(&dir).contains("frozen 0"), "{}", events(&dir));
    assert!(!cgroup.is_frozen());

    // Frozen again: cgroup.kill still reaches it.
    cgroup.freeze(true).unwrap();
    cgroup.kill_all(Duration::from_secs(5)).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(cgroup.pids().unwrap().is_empty());
    cgroup.remove().unwrap();
    assert!(!dir.exists());
}

/// The eBPF device program on the unified hierarchy, for real: a process in the cgroup
/// may open /dev/null (a default) and not /dev/kmsg (c 1:11, not allowed).
/// Seen failing with the program not attached: kmsg opened.
#[test]
fn the_device_program_denies_what_the_rules_do_not_allow() {
    use std::io::{Read, Write};
    let root = unified_root();
    let dir = root.join(format!("hull-v2-dev-{}", std::process::id()));
    let mut cgroup = Cgroup {
        paths: BTreeMap::from([(String::new(), dir.clone())]),
        unified_root: Some(root),
        made: vec![dir.clone()],
        systemd: None,
    };
    cgroup.create().unwrap();
    let deny_all = hull::config::DeviceRule {
        allow: false,
        kind: 'a',
        major: None,
        minor: None,
        access: "rwm".into(),
    };
    cgroup.apply_devices(&[deny_all]).unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("read go; (true > /dev/kmsg) 2>/dev/null && echo kmsg-opened; true > /dev/null && echo null-opened")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::write(dir.join("cgroup.procs"), child.id().to_string()).unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child.wait().unwrap();
    cgroup.remove().unwrap();
    assert_eq!(out, "null-opened\n");
}
