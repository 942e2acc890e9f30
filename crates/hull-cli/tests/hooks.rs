//! OCI hooks: every kind runs at its moment with the container's state on stdin, its
//! args and env; a failing or hanging hook before start aborts the create and leaves
//! nothing; poststart and poststop failures are warnings.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// A hook that saves its stdin, argv[0] and $MARK into `out`.
fn saving_hook(out: &Path) -> Value {
    json!({
        "path": "/bin/sh",
        "args": ["hook-sh", "-c", format!("cat > {0}; echo \"$0 $MARK\" > {0}.meta", out.display())],
        "env": ["MARK=hooked", "PATH=/bin:/usr/bin"]
    })
}

fn read_state(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_hook_runs_at_its_moment_with_the_state() {
    let case = Case::new("hooks_all");
    let mut b = case.bundle("hooksall");
    b.set("/root/readonly", json!(false));
    b.args(&["sleep", "60"]);
    let host = |k: &str| case.dir.join(format!("{k}.json"));
    let mut hooks = json!({});
    for kind in [
        "prestart",
        "createRuntime",
        "createContainer",
        "poststart",
        "poststop",
    ] {
        hooks[kind] = json!([saving_hook(&host(kind))]);
    }
    // startContainer runs inside the container, after pivot_root: its paths are the
    // container's, so it writes into the (writable) rootfs.
    hooks["startContainer"] = json!([{
        "path": "/bin/sh",
        "args": ["sh", "-c", "cat > /startContainer.json"]
    }]);
    b.set("/hooks", hooks);
    case.create(&b);
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    for kind in ["prestart", "createRuntime", "createContainer"] {
        let state = read_state(&host(kind));
        assert_eq!(state["id"], json!(b.id), "{kind}: {state}");
        // The spec's lifecycle runs these after the environment is made (`creating` is
        // step 2): crun says `created`; runc 1.1.5 still `creating`.
        let status = if is_runc() { "creating" } else { "created" };
        assert_eq!(state["status"], status, "{kind}: {state}");
        // runc 1.1.5 gives createContainer the pid as init sees itself (1); the spec
        // asks for the host's view, which hull gives.
        if !(is_runc() && kind == "createContainer") {
            assert_eq!(state["pid"].as_i64(), Some(pid), "{kind}: {state}");
        }
        assert_eq!(
            state["bundle"].as_str(),
            Some(b.dir_str()),
            "{kind}: {state}"
        );
        let meta = fs::read_to_string(format!("{}.meta", host(kind).display())).unwrap();
        assert_eq!(meta.trim(), "hook-sh hooked", "{kind}: argv[0] and env");
    }
    // runc 1.1.5 runs poststart already at create; the spec says after start.
    if is_hull() {
        assert!(!host("poststart").exists(), "poststart ran before start");
    }
    assert!(!b.rootfs.join("startContainer.json").exists());
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let started = read_state(&b.rootfs.join("startContainer.json"));
    assert_eq!(started["id"], json!(b.id));
    assert_eq!(started["status"], "created", "{started}");
    let poststart = read_state(&host("poststart"));
    if is_hull() {
        assert_eq!(poststart["status"], "running");
    }
    assert_eq!(poststart["pid"].as_i64(), Some(pid));
    assert!(!host("poststop").exists());
    case.run(&["delete", "--force", &b.id]).ok();
    let poststop = read_state(&host("poststop"));
    assert_eq!(poststop["status"], "stopped");
    case.finish();
}

fn assert_create_fails(name: &str, kind: &str, hook: Value, keywords: &[&str]) {
    let case = Case::new(name);
    case.assert_config_refused(name, "/hooks", json!({ kind: [hook] }), keywords);
    case.finish();
}

#[test]
fn a_failing_hook_before_start_leaves_nothing() {
    let fail = json!({ "path": "/bin/sh", "args": ["sh", "-c", "echo broken >&2; exit 3"] });
    assert_create_fails(
        "hook_fail_rt",
        "createRuntime",
        fail.clone(),
        &["createRuntime", "exit status 3"],
    );
    assert_create_fails(
        "hook_fail_cc",
        "createContainer",
        fail,
        &["createContainer", "exit status 3"],
    );
    // runc 1.1.5 still waits here for the hung hook, past its timeout.
    if is_hull() {
        let hang = json!({ "path": "/bin/sh", "args": ["sh", "-c", "sleep 30"], "timeout": 1 });
        assert_create_fails("hook_timeout", "prestart", hang, &["prestart", "timed out"]);
    }
}

/// A failing poststart or poststop hook is a warning, and "the remaining hooks and
/// lifecycle continue" (runtime-spec): the hooks after it still run. Seen failing
/// (runtime-tools poststart_fail, poststop_fail): hull stopped at the failed hook.
#[test]
fn a_failing_poststart_or_poststop_hook_is_a_warning() {
    let case = Case::new("hook_post_fail");
    let mut b = case.bundle("hookpostfail");
    let after = |kind: &str| {
        let marker = case.dir.join(format!("after-{kind}"));
        json!({ "path": "/bin/sh", "args": ["sh", "-c", format!("touch {}", marker.display())] })
    };
    b.set(
        "/hooks",
        json!({
            "poststart": [{ "path": "/bin/false" }, after("poststart")],
            "poststop": [{ "path": "/bin/false" }, after("poststop")]
        }),
    );
    b.args(&["true"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "stopped");
    let out = case.run(&["delete", &b.id]);
    assert_eq!(out.code, 0, "{out}");
    assert!(case.state_entries().is_empty());
    if is_hull() {
        assert!(
            case.dir.join("after-poststart").exists(),
            "the poststart hook after the failed one never ran"
        );
        assert!(
            case.dir.join("after-poststop").exists(),
            "the poststop hook after the failed one never ran"
        );
    }
    case.finish();
}

/// The same under `run`, where init waits for no start: the program has usually exited
/// by the time the hook fails. run warns, exits with the program's status and deletes
/// the container. Seen failing: run said "container not running" and left it behind.
#[test]
fn a_failing_poststart_hook_under_run_is_a_warning() {
    let case = Case::new("hook_run_post_fail");
    let mut b = case.bundle("hookrunpostfail");
    b.set("/hooks", json!({ "poststart": [{ "path": "/bin/false" }] }));
    b.args(&["sh", "-c", "exit 3"]);
    b.write();
    let out = case.run(&["run", "--bundle", b.dir_str(), &b.id]);
    assert_eq!(out.code, 3, "{out}");
    if is_hull() {
        assert!(out.stderr.contains("poststart"), "{out}");
    }
    assert!(case.state_entries().is_empty());
    case.finish();
}

#[test]
fn hooks_with_a_relative_path_are_refused() {
    assert_create_fails(
        "hook_relative",
        "poststart",
        json!({ "path": "bin/true" }),
        &["hooks", "absolute", "no such file"],
    );
}

/// A hook without `env` run on the host's side inherits the runtime's environment; one
/// run in the container's namespaces (createContainer, startContainer) gets the
/// container process's, never the runtime's (as runc's init has only the process's);
/// `"env": []` is an empty environment.
#[test]
fn hooks_without_env_inherit_as_runc_does() {
    let case = Case::new("hooks_env");
    let mut b = case.bundle("hooksenv");
    b.set("/root/readonly", json!(false));
    b.env(&["PATH=/bin", "FOO=from-process"]);
    b.args(&["cat", "/start.env"]);
    let prestart = case.dir.join("prestart.env");
    let empty = case.dir.join("empty.env");
    let create_container = case.dir.join("createContainer.env");
    b.set(
        "/hooks",
        json!({
            "prestart": [
                { "path": "/bin/sh", "args": ["sh", "-c", format!("echo \"$PATH\" > {}", prestart.display())] },
                { "path": "/bin/sh", "args": ["sh", "-c", format!("echo \"[$PATH]\" > {}", empty.display())], "env": [] }
            ],
            "createContainer": [
                { "path": "/bin/sh", "args": ["sh", "-c", format!("echo \"$FOO $PATH\" > {}", create_container.display())] }
            ],
            "startContainer": [
                { "path": "/bin/sh", "args": ["sh", "-c", "echo \"$FOO $PATH $HOME\" > /start.env"] }
            ]
        }),
    );
    let ran = case.run_container(&b);
    ran.ok();
    assert_eq!(
        ran.out(),
        "from-process /bin /root",
        "startContainer's environment"
    );
    let ours = std::env::var("PATH").unwrap();
    assert_eq!(fs::read_to_string(&prestart).unwrap().trim(), ours);
    // In the container's namespaces: the process's environment, not the runtime's.
    assert_eq!(
        fs::read_to_string(&create_container).unwrap().trim(),
        "from-process /bin"
    );
    // sh sets a default PATH of its own where none is given.
    assert_ne!(
        fs::read_to_string(&empty).unwrap().trim(),
        format!("[{ours}]")
    );
    case.finish();
}
