//! Bad input: each case exits 1 with one clear error line naming the problem (hull; for other
//! runtimes a non-empty stderr naming it) and leaves nothing behind: no state entry, cgroup,
//! mount or process.
//!
//! runc 1.1.5's messages, for reference (each one line on stderr, prefixed
//! `time="..." level=error msg="runc create failed: ` for create):
//! - malformed JSON: `invalid character 'b' looking for beginning of object key string`
//!   (neither the file nor "JSON" is named);
//! - missing config: `JSON specification file config.json not found`;
//! - unknown namespace: `namespace {"bogus" ""} does not exist`;
//! - missing rootfs: `invalid rootfs: stat <path>: no such file or directory`;
//! - missing executable: `unable to start container process: exec: "/bin/no-such-program":
//!   stat /bin/no-such-program: no such file or directory` (create fails, not start);
//! - empty args: `args must not be empty`;
//! - hostname without uts namespace: `unable to set hostname without a private UTS namespace`;
//! - ids `a/b`, `.`, `..`: `invalid container ID format`; empty id: `container id cannot be
//!   empty`; id in use: `container with given ID already exists`;
//! - `start` running: `cannot start an already running container`; unknown container (start,
//!   state, delete, kill): `container does not exist` (kill checks the container before the
//!   signal);
//! - `delete` running: `cannot delete container <id> that is not stopped: running`;
//! - `kill` signals: `unknown signal "SIGBOGUS"`; numbers out of range (`999`, also `-1`):
//!   `unable to signal init: invalid argument`; `0` is accepted (exit 0).

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;

/// `create` of `b` under `id` (which may differ from the bundle's own id).
fn create_as(case: &Case, b: &Bundle, id: &str) -> Output {
    case.run(&["create", "--bundle", b.dir_str(), id])
}

#[test]
fn malformed_json_config() {
    let case = Case::new("bad_json");
    let b = case.bundle("badjson");
    fs::write(
        b.dir.join("config.json"),
        "{\"ociVersion\": \"1.0.2\", bad}",
    )
    .unwrap();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["config.json", "json", "invalid character"]);
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn missing_config_json() {
    let case = Case::new("no_config");
    let b = case.bundle("noconfig");
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["config.json"]);
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn unknown_namespace_type() {
    let case = Case::new("bad_ns");
    let mut b = case.bundle("badns");
    b.add_namespace("bogus");
    b.write();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["bogus"]);
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn missing_rootfs() {
    let case = Case::new("no_rootfs");
    let mut b = case.bundle("norootfs");
    b.set("/root/path", json!("does-not-exist"));
    b.write();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["rootfs", "does-not-exist"]);
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn missing_executable() {
    let case = Case::new("no_exe");
    let mut b = case.bundle("noexe");
    b.args(&["/bin/no-such-program"]);
    b.write();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["no-such-program"]);
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn empty_args() {
    let case = Case::new("empty_args");
    let mut b = case.bundle("emptyargs");
    b.args(&[]);
    b.write();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["args"]);
    case.assert_no_leaks();
    case.finish();
}

/// runc refuses a hostname without a private uts namespace.
#[test]
fn hostname_without_uts_namespace() {
    let case = Case::new("hostname_no_uts");
    let mut b = case.bundle("hostnouts");
    b.remove_namespace("uts").hostname("nope");
    b.write();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["hostname"]);
    case.assert_no_leaks();
    case.finish();
}

fn bad_id(name: &str, id: &str, keywords: &[&str]) {
    let case = Case::new(name);
    let b = case.bundle(name);
    b.write();
    let out = create_as(&case, &b, id);
    out.assert_bad_input(keywords);
    case.assert_no_leaks();
    // Nothing was created next to the state root either (`..` must not escape it).
    let siblings: Vec<String> = fs::read_dir(&case.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "state" && n != "out" && n != &b.id)
        .collect();
    assert!(
        siblings.is_empty(),
        "created next to the state root: {siblings:?}"
    );
    case.finish();
}

#[test]
fn id_with_slash() {
    bad_id("id_slash", "a/b", &["container id"]);
}

#[test]
fn id_dot_dot() {
    bad_id("id_dotdot", "..", &["container id"]);
}

#[test]
fn id_dot() {
    bad_id("id_dot", ".", &["container id"]);
}

#[test]
fn id_empty() {
    bad_id("id_empty", "", &["container id"]);
}

#[test]
fn id_already_in_use() {
    let case = Case::new("id_in_use");
    let mut b = case.bundle("inuse");
    b.args(&["sleep", "60"]);
    case.create(&b);
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["exists", "in use"]);
    assert_eq!(case.state_entries(), [b.id.clone()]);
    // The first container is untouched.
    assert_eq!(case.status(&b.id), "created");
    case.run(&["delete", "--force", &b.id]).ok();
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn start_running_container() {
    let case = Case::new("start_running");
    let mut b = case.bundle("startrunning");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let out = case.run(&["start", &b.id]);
    out.assert_bad_input(&["running"]);
    assert_eq!(case.status(&b.id), "running");
    case.run(&["delete", "--force", &b.id]).ok();
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn start_nonexistent() {
    let case = Case::new("start_missing");
    let id = case.new_id("missing");
    let out = case.run(&["start", &id]);
    out.assert_bad_input(&["not exist", "does not exist", "no such"]);
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn delete_running_without_force() {
    let case = Case::new("delete_running");
    let mut b = case.bundle("delrunning");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let out = case.run(&["delete", &b.id]);
    out.assert_bad_input(&["running", "not stopped"]);
    assert_eq!(case.status(&b.id), "running");
    case.run(&["delete", "--force", &b.id]).ok();
    case.assert_no_leaks();
    case.finish();
}

#[test]
fn kill_invalid_signal() {
    let case = Case::new("kill_bad_signal");
    let mut b = case.bundle("killbadsig");
    b.args(&["sleep", "60"]);
    case.create(&b);
    for sig in ["SIGBOGUS", "BOGUS", "999", "-1"] {
        let out = case.run(&["kill", &b.id, sig]);
        out.assert_bad_input(&["signal"]);
    }
    assert_eq!(case.status(&b.id), "created");
    case.run(&["delete", "--force", &b.id]).ok();
    case.assert_no_leaks();
    case.finish();
}

/// `kill` of a container that does not exist.
#[test]
fn kill_nonexistent() {
    let case = Case::new("kill_missing");
    let id = case.new_id("killmissing");
    let out = case.run(&["kill", &id, "KILL"]);
    out.assert_bad_input(&["not exist", "does not exist", "no such"]);
    case.assert_no_leaks();
    case.finish();
}

/// `state` and `delete` (without --force) of a container that does not exist.
#[test]
fn state_and_delete_nonexistent() {
    let case = Case::new("state_missing");
    let id = case.new_id("statemissing");
    case.run(&["state", &id])
        .assert_bad_input(&["not exist", "does not exist", "no such"]);
    case.run(&["delete", &id])
        .assert_bad_input(&["not exist", "does not exist", "no such"]);
    case.assert_no_leaks();
    case.finish();
}

/// A namespace path that is a FIFO (or any non-namespace file) is refused at once,
/// without hanging on the open.
#[test]
fn namespace_path_that_is_a_fifo() {
    let case = Case::new("ns_fifo");
    let mut b = case.bundle("nsfifo");
    let fifo = case.dir.join("fake-netns");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    b.set(
        "/linux/namespaces",
        json!([
            { "type": "pid" }, { "type": "mount" },
            { "type": "network", "path": fifo.to_str().unwrap() }
        ]),
    );
    b.write();
    let out = create_as(&case, &b, &b.id);
    out.assert_bad_input(&["namespace", "fake-netns"]);
    case.assert_no_leaks();
    case.finish();
}

/// The systemd driver takes cgroupsPath as `slice:prefix:name`: anything else is one
/// clear line, and nothing is made.
#[test]
fn a_systemd_cgroups_path_in_the_wrong_form() {
    if !is_hull() {
        return;
    }
    let case = Case::new("systemd_path");
    for (label, path) in [
        ("sdpathabs", "/hull-test/x"),
        ("sdpathtwo", "system.slice:x"),
    ] {
        let mut b = case.bundle(label);
        b.set("/linux/cgroupsPath", json!(path));
        b.write();
        let out = case.run(&["--systemd-cgroup", "create", "--bundle", b.dir_str(), &b.id]);
        out.assert_bad_input(&["slice:prefix:name"]);
        case.assert_no_leaks();
    }
    case.finish();
}

/// The systemd driver where no systemd answers (this machine runs none): one clear line
/// naming what was tried, and nothing is made.
#[test]
fn the_systemd_driver_without_systemd() {
    if !is_hull() {
        return;
    }
    assert!(
        !std::path::Path::new("/run/systemd/private").exists(),
        "this test needs a host without systemd as PID 1"
    );
    let case = Case::new("systemd_missing");
    let mut b = case.bundle("sdmissing");
    b.set(
        "/linux/cgroupsPath",
        json!(format!("system.slice:hull:{}", b.id)),
    );
    b.write();
    let out = case.run(&["--systemd-cgroup", "create", "--bundle", b.dir_str(), &b.id]);
    out.assert_bad_input(&["systemd", "D-Bus"]);
    case.assert_no_leaks();
    case.finish();
}

/// Fields hull knows and cannot apply here, and versions it does not read: one line
/// naming the field, nothing left. (runc 1.1.5 ignores most of these silently.)
#[test]
fn fields_that_cannot_be_applied_are_refused_by_name() {
    let case = Case::new("unappliable");
    let refused: [(&str, Value, &[&str]); 7] = [
        ("/ociVersion", json!("2.0.0"), &["ociVersion", "major"]),
        ("/ociVersion", json!("one"), &["ociVersion", "semantic"]),
        (
            "/linux/intelRdt",
            json!({"closID": "c1", "l3CacheSchema": "L3:0=ff"}),
            &["linux.intelRdt", "resctrl"],
        ),
        (
            "/linux/resources/memory",
            json!({"kernel": 67108864}),
            &["linux.resources.memory.kernel"],
        ),
        (
            "/linux/resources/memory",
            json!({"useHierarchy": false}),
            &["linux.resources.memory.useHierarchy"],
        ),
        (
            "/process/consoleSize",
            json!({"height": 70000, "width": 80}),
            &["process.consoleSize.height"],
        ),
        (
            "/linux/personality",
            json!({"domain": "LINUX64"}),
            &["linux.personality.domain"],
        ),
    ];
    if is_hull() {
        for (i, (pointer, value, keywords)) in refused.into_iter().enumerate() {
            case.assert_config_refused(&format!("u{i}"), pointer, value, keywords);
        }
    }
    // What asks for nothing is no refusal: an empty intelRdt, a 1.x version of any
    // minor, hierarchy as the kernel has it.
    for (i, (pointer, value)) in [
        ("/linux/intelRdt", json!({})),
        ("/ociVersion", json!("1.0.0")),
        ("/ociVersion", json!("1.3.0-rc.1")),
        (
            "/linux/resources/memory",
            json!({"useHierarchy": true, "kernel": 0}),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut b = case.bundle(&format!("fine{i}"));
        b.set(pointer, value);
        b.args(&["true"]);
        case.run_container(&b).ok();
    }
    case.finish();
}
