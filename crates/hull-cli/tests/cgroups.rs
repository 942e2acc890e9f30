//! The container's cgroup: where init is placed (seen from the host and from inside),
//! the device rules (a device outside the allow list cannot be opened, even after a
//! successful mknod), and removal on delete (checked by every test's leak check).

mod common;

use common::*;
use serde_json::json;

/// Caps for mknod tests: the default set plus CAP_MKNOD.
fn with_mknod(b: &mut Bundle) {
    let caps = json!([
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_MKNOD"
    ]);
    for set in ["bounding", "effective", "permitted"] {
        b.set(&format!("/process/capabilities/{set}"), caps.clone());
    }
}

#[test]
fn device_outside_the_allow_list_cannot_be_opened() {
    let case = Case::new("dev_deny");
    let mut b = case.bundle("devdeny");
    with_mknod(&mut b);
    b.set(
        "/linux/resources/devices",
        json!([{ "allow": false, "access": "rwm" }]),
    );
    // /dev/mem (c 1:1) is not in the allow list: mknod is allowed ("c *:* m"), opening
    // is not. /dev/null is allowed.
    b.sh(
        "mknod /tmp/mem c 1 1 && echo made; head -c1 /tmp/mem >/dev/null 2>/tmp/err; \
          echo rc=$?; cat /tmp/err; echo x > /dev/null && echo null=ok",
    );
    b.set("/root/readonly", json!(false));
    let out = case.run_container(&b);
    out.ok();
    let text = out.out();
    assert!(text.contains("made"), "{out}");
    assert!(text.contains("rc=1"), "{out}");
    assert!(
        text.to_lowercase().contains("operation not permitted"),
        "{out}"
    );
    assert!(text.contains("null=ok"), "{out}");
    case.finish();
}

#[test]
fn without_device_rules_only_the_defaults_are_allowed() {
    // As runc: no rules in the config still means deny all but the defaults.
    let case = Case::new("dev_default");
    let mut b = case.bundle("devdefault");
    with_mknod(&mut b);
    b.unset("/linux/resources");
    b.set("/root/readonly", json!(false));
    b.sh("mknod /tmp/kmsg c 1 11 && true >/tmp/kmsg 2>/dev/null; echo rc=$?");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "rc=1", "{out}");
    case.finish();
}

#[test]
fn an_allow_all_rule_allows_every_device() {
    let case = Case::new("dev_allow");
    let mut b = case.bundle("devallow");
    with_mknod(&mut b);
    b.set(
        "/linux/resources/devices",
        json!([{ "allow": true, "access": "rwm" }]),
    );
    b.set("/root/readonly", json!(false));
    b.sh("mknod /tmp/kmsg c 1 11 && true >/tmp/kmsg && echo opened");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "opened", "{out}");
    case.finish();
}

#[test]
fn init_is_in_its_cgroup_before_it_runs() {
    let case = Case::new("cg_place");
    let mut b = case.bundle("cgplace");
    b.args(&["sleep", "60"]);
    case.create(&b);
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    // Seen from the host, already while `created` (before any user code ran): every
    // mounted hierarchy has init under /hull-test/<id>.
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let want = format!("/hull-test/{}", b.id);
    let mut seen = 0;
    for dir in cgroup_dirs(&b.id).into_iter().filter(|d| d.exists()) {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert_eq!(
            procs.trim(),
            pid.to_string(),
            "{}: {procs}\n{cgroup}",
            dir.display()
        );
        seen += 1;
    }
    assert!(seen > 0, "no cgroup directory for {want}:\n{cgroup}");
    if is_hull() {
        // The device rules of the default config are in force (deny all, then the
        // defaults): /dev/kmsg is not allowed, /dev/null is.
        if let Some(devices) = cgroup_dirs(&b.id)
            .into_iter()
            .find(|d| d.starts_with("/sys/fs/cgroup/devices"))
        {
            let list = std::fs::read_to_string(devices.join("devices.list")).unwrap();
            assert!(list.contains("c 1:3 rwm"), "{list}");
            assert!(!list.contains("a *:* rwm"), "{list}");
        }
    }
    case.run(&["delete", "--force", &b.id]).ok();
    assert!(
        cgroup_dirs(&b.id).iter().all(|d| !d.exists()),
        "cgroup left after delete"
    );
    case.finish();
}

/// A cgroup that already holds processes is not the container's: create refuses it and
/// leaves it, and its processes, as they were.
#[test]
fn a_cgroup_in_use_is_refused_and_left_alone() {
    let case = Case::new("cg_in_use");
    let mut b = case.bundle("cginuse");
    let path = format!("/hull-test/{}-victim", b.id);
    // The v1 pids hierarchy where there is one, else the v2 root.
    let hierarchy = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"]
        .into_iter()
        .map(std::path::Path::new)
        .find(|h| h.join("cgroup.procs").exists())
        .expect("a cgroup hierarchy");
    let dir = hierarchy.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(&dir).unwrap();
    let mut victim = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    std::fs::write(dir.join("cgroup.procs"), victim.id().to_string()).unwrap();
    b.set("/linux/cgroupsPath", json!(path));
    b.args(&["true"]);
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    out.assert_bad_input(&["in use", "processes", "not running"]);
    let alive = victim.try_wait().unwrap().is_none();
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    victim.kill().unwrap();
    victim.wait().unwrap();
    std::fs::write(hierarchy.join("cgroup.procs"), "0").ok();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let _ = std::fs::remove_dir(&dir);
    assert!(alive, "the process in the existing cgroup was killed");
    assert!(
        procs.contains(&victim.id().to_string()),
        "the cgroup was changed: {procs}"
    );
    case.finish();
}

/// A container whose cgroup has child cgroups (made by something inside, as hull in
/// hull or systemd in a container makes them) is removed whole by `delete`. Seen
/// failing: rmdir of a cgroup with children answers EBUSY, not ENOTEMPTY.
#[test]
fn delete_removes_child_cgroups_too() {
    let case = Case::new("cgroup_children");
    let mut b = case.bundle("cgchildren");
    b.args(&["sleep", "60"]);
    case.create(&b);
    let dirs: Vec<_> = cgroup_dirs(&b.id)
        .into_iter()
        .filter(|d| d.is_dir())
        .collect();
    assert!(!dirs.is_empty());
    for dir in &dirs {
        std::fs::create_dir_all(dir.join("child/grandchild")).unwrap();
    }
    case.run(&["delete", "--force", &b.id]).ok();
    for dir in &dirs {
        assert!(!dir.exists(), "{} left", dir.display());
    }
    case.finish();
}
