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
