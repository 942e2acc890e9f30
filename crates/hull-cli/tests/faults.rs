//! The runtime killed (SIGKILL) at each stage of create, start, exec and delete, with
//! hooks as stop points: afterwards `delete` (or `delete --force`) leaves nothing, which
//! every test's leak check then verifies (state, cgroups, mounts, processes).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// A hook that says it runs (touches `marker`), then hangs: a place to kill the runtime.
fn stop_point(marker: &Path) -> serde_json::Value {
    json!({ "path": "/bin/sh", "args": ["sh", "-c", format!("touch {}; sleep 30", marker.display())] })
}

/// Ends the hung hook behind `marker` (it is no process of the container's).
fn end_stop_point(marker: &Path) {
    let _ = std::process::Command::new("pkill")
        .args(["-f", &marker.display().to_string()])
        .status();
}

fn wait_for(marker: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the hook never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills the runtime while `hook` of create runs; then `delete` must clean up.
fn killed_during_create(name: &str, hook: &str, force: bool) {
    if !is_hull() {
        return;
    }
    let case = Case::new(name);
    let mut b = case.bundle(name);
    let marker = case.dir.join("at-stop-point");
    b.set("/hooks", json!({ hook: [stop_point(&marker)] }));
    b.args(&["sleep", "60"]);
    b.write();
    let create = case.spawn(&["create", "--bundle", b.dir_str(), &b.id]);
    wait_for(&marker);
    create.stop();
    // The stuck hook is the runtime's child (or init's): gone with them or reaped by
    // pid 1; make sure it is not counted as the container's.
    end_stop_point(&marker);
    let mut args = vec!["delete"];
    if force {
        args.push("--force");
    }
    args.push(&b.id);
    case.run(&args).ok();
    assert!(
        case.state_entries().is_empty(),
        "{:?}",
        case.state_entries()
    );
    case.finish();
}

#[test]
fn killed_during_create_runtime_hooks() {
    killed_during_create("fault_create_runtime", "createRuntime", false);
}

#[test]
fn killed_during_create_container_hooks() {
    killed_during_create("fault_create_container", "createContainer", true);
}

#[test]
fn killed_during_poststart_and_poststop() {
    if !is_hull() {
        return;
    }
    let case = Case::new("fault_post");
    let mut b = case.bundle("faultpost");
    let poststart = case.dir.join("poststart");
    let poststop = case.dir.join("poststop");
    b.set(
        "/hooks",
        json!({ "poststart": [stop_point(&poststart)], "poststop": [stop_point(&poststop)] }),
    );
    b.args(&["sleep", "60"]);
    case.create(&b);
    let start = case.spawn(&["start", &b.id]);
    wait_for(&poststart);
    start.stop();
    end_stop_point(&poststart);
    assert_eq!(case.status(&b.id), "running");
    let delete = case.spawn(&["delete", "--force", &b.id]);
    wait_for(&poststop);
    delete.stop();
    end_stop_point(&poststop);
    assert!(
        case.state_entries().is_empty(),
        "{:?}",
        case.state_entries()
    );
    case.finish();
}

#[test]
fn killed_while_exec_runs_in_the_foreground() {
    let case = Case::new("fault_exec");
    let mut b = case.bundle("faultexec");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let exec = case.spawn(&["exec", &b.id, "sleep", "30"]);
    std::thread::sleep(Duration::from_millis(300));
    exec.stop();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// Killed at many moments of a create (every 2 ms into it): each leftover is deleted.
#[test]
fn killed_at_any_moment_of_create() {
    let case = Case::new("fault_any");
    for i in 0..15u64 {
        let mut b = case.bundle(&format!("faultany{i}"));
        b.args(&["sleep", "60"]);
        b.write();
        let create = case.spawn(&["create", "--bundle", b.dir_str(), &b.id]);
        std::thread::sleep(Duration::from_millis(2 * i));
        create.stop();
        let out = case.run(&["delete", "--force", &b.id]);
        assert_eq!(out.code, 0, "{out}");
    }
    case.finish();
}

/// Init dies during create (a createRuntime hook kills it, reading its pid from the
/// state on stdin): create fails with a clear error and leaves nothing.
#[test]
fn init_dying_during_create_leaves_nothing() {
    let case = Case::new("fault_init_dies");
    let mut b = case.bundle("faultinitdies");
    let kill = r#"pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); kill -9 "$pid""#;
    b.set(
        "/hooks",
        json!({ "createRuntime": [{ "path": "/bin/sh", "args": ["sh", "-c", kill] }] }),
    );
    b.args(&["true"]);
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    assert_ne!(out.code, 0, "create succeeded with init killed:\n{out}");
    assert!(!out.stderr.trim().is_empty(), "{out}");
    if is_hull() {
        out.assert_bad_input(&["init", "exited", "container"]);
    }
    case.assert_no_leaks();
    case.finish();
}

/// Mounts a tmpfs with `options` at `dir` for this test; unmounted at the end.
fn scratch_fs(case: &Case, dir: &Path, options: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs", dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success(), "mount tmpfs at {}", dir.display());
    let dir = dir.to_path_buf();
    case.defer(move || unmount(&dir));
}

fn unmount(dir: &Path) {
    let _ = std::process::Command::new("umount")
        .arg("-l")
        .arg(dir)
        .status();
}

/// Uses up the inodes of the filesystem at `dir`.
fn fill_inodes(dir: &Path) {
    for n in 0.. {
        if std::fs::File::create(dir.join(format!("filler{n}"))).is_err() {
            return;
        }
    }
}

/// A rootfs on a read-only filesystem runs (it needs no writes with every mount point
/// present) and stays read-only inside; a mount point it lacks is a clear error that
/// leaves nothing.
#[test]
fn a_rootfs_on_a_read_only_filesystem() {
    let case = Case::new("fs_readonly");
    let fs_dir = case.dir.join("rofs");
    scratch_fs(&case, &fs_dir, "size=32m");
    let rootfs = fs_dir.join("rootfs");
    build_rootfs(&rootfs);
    let status = std::process::Command::new("mount")
        .args(["-o", "remount,ro", fs_dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());

    let mut b = case.bundle("rofsok");
    b.set("/root/path", json!(rootfs));
    b.set("/root/readonly", json!(false));
    b.sh("touch /x 2>&1; echo rc=$?");
    let out = case.run_container(&b);
    out.ok();
    assert!(out.out().contains("Read-only file system"), "{out}");

    mount_point_cannot_be_made(&case, "rofsmissing", &rootfs, "Read-only file system");
    case.finish();
}

/// A container on `rootfs` with a mount point the rootfs lacks fails create with one
/// line naming it and, for hull, `why`.
fn mount_point_cannot_be_made(case: &Case, label: &str, rootfs: &Path, why: &str) {
    let mut b = case.bundle(label);
    b.set("/root/path", json!(rootfs));
    b.add_mount(json!({ "destination": "/newdir", "type": "tmpfs", "source": "tmpfs" }));
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    out.assert_bad_input(&["/newdir"]);
    if is_hull() {
        assert!(out.stderr.contains(why), "{out}");
    }
}

/// A full filesystem, under the rootfs (a mount point to make) or under the state root
/// (state.json and exec.fifo to make): one clear error, and nothing left.
#[test]
fn a_full_filesystem_fails_create_cleanly() {
    let case = Case::new("fs_full");
    let fs_dir = case.dir.join("fullfs");
    scratch_fs(&case, &fs_dir, "size=32m,nr_inodes=2000");
    let rootfs = fs_dir.join("rootfs");
    build_rootfs(&rootfs);
    fill_inodes(&fs_dir);
    mount_point_cannot_be_made(&case, "fullrootfs", &rootfs, "No space left");

    // The state root itself full, then with one more inode free each round, so that
    // create fails at each of its writes in turn, until it has room.
    scratch_fs(&case, &case.root, "size=1m,nr_inodes=16");
    fill_inodes(&case.root);
    let state = case.bundle("fullstate");
    state.write();
    let mut failures = 0;
    for free in 0..8 {
        if free > 0 {
            std::fs::remove_file(case.root.join(format!("filler{free}"))).unwrap();
        }
        let out = case.run(&["create", "--bundle", state.dir_str(), &state.id]);
        if out.code == 0 {
            case.run(&["delete", "--force", &state.id]).ok();
            break;
        }
        failures += 1;
        out.assert_bad_input(&["space"]);
        let left: Vec<_> = std::fs::read_dir(&case.root)
            .unwrap()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with("filler"))
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left in the state root: {left:?}\n{out}");
        assert!(
            !cgroup_dirs(&state.id).iter().any(|d| d.exists()),
            "a cgroup was left:\n{out}"
        );
    }
    assert!(failures > 0, "the state root was never full");
    case.finish();
}
