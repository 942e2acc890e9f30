//! `kill` as runc does it, which is what container engines expect: `--all` signals
//! whatever is left in the container's cgroup in any state (created, running, paused,
//! stopped) and succeeds when nothing is left; a plain `kill` of a stopped container
//! fails with the words engines look for. Each test reads the processes from the host.

mod common;

use common::*;

/// The live pids in the container's v1 pids (or v2) cgroup, read on the host (a zombie
/// waiting for this machine's lazy pid 1 to reap it holds nothing).
fn cgroup_pids(id: &str) -> Vec<String> {
    let zombie = |pid: &String| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
        })
    };
    cgroup_dirs(id)
        .into_iter()
        .filter(|d| {
            d.starts_with("/sys/fs/cgroup/pids") || d.starts_with("/sys/fs/cgroup/hull-test")
        })
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|pid| !zombie(pid))
        .collect()
}

/// A container without a pid namespace of its own: init's death leaves its children
/// running, so only `--all` reaches them.
fn with_children(case: &Case, label: &str) -> Bundle {
    let mut b = case.bundle(label);
    b.remove_namespace("pid");
    b.sh("sleep 100 & sleep 100 & wait");
    b
}

#[track_caller]
fn wait_until_empty(id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !cgroup_pids(id).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "left in the cgroup: {:?}",
            cgroup_pids(id)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `kill --all` in every state: created (init waiting for start), running, paused (the
/// processes die: the cgroup is thawed, as runc does), and stopped with children left
/// behind (init gone, `sleep`s still in the cgroup), then stopped with nothing left
/// (containerd's shim sends exactly this after init exits: it must succeed).
/// Seen failing before: `kill --all` of a stopped container said "is not running".
#[test]
fn kill_all_reaches_what_is_left_in_every_state() {
    let case = Case::new("kill_all");
    let b = case.bundle("killallcreated");
    case.create(&b);
    case.run(&["kill", "--all", &b.id, "KILL"]).ok();
    case.wait_status(&b.id, "stopped");
    wait_until_empty(&b.id);

    for state in ["running", "paused"] {
        let b = with_children(&case, &format!("killall{state}"));
        case.create(&b);
        case.start(&b.id);
        case.wait_status(&b.id, "running");
        if state == "paused" {
            case.run(&["pause", &b.id]).ok();
            case.wait_status(&b.id, "paused");
        }
        case.run(&["kill", "--all", &b.id, "KILL"]).ok();
        wait_until_empty(&b.id);
        assert_eq!(case.status(&b.id), "stopped");
        case.delete(&b.id);
    }

    // Stopped, children left: init alone is killed first.
    let b = with_children(&case, "killallstopped");
    case.create(&b);
    case.start(&b.id);
    let pid = case.wait_status(&b.id, "running")["pid"].as_i64().unwrap();
    // init and both children (slow to come on an emulated machine).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while cgroup_pids(&b.id).len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the children never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    case.wait_status(&b.id, "stopped");
    assert!(
        !cgroup_pids(&b.id).is_empty(),
        "the children died with init"
    );
    case.run(&["kill", "--all", &b.id, "9"]).ok();
    wait_until_empty(&b.id);
    // Nothing left: still success, with signals by name and number.
    for signal in ["9", "KILL", "TERM"] {
        case.run(&["kill", "--all", &b.id, signal]).ok();
    }
    case.delete(&b.id);
    case.finish();
}

/// The words engines parse: containerd's shim takes "container not running" and
/// "does not exist" for a process that is gone (anything else is "unknown error after
/// kill"), and "already exists" for a taken id.
/// Seen failing before: "container \"ID\" is not running: it is stopped".
#[test]
fn errors_carry_the_words_engines_look_for() {
    let case = Case::new("kill_words");
    let b = case.bundle("killwords");
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "stopped");
    case.run(&["kill", &b.id, "KILL"])
        .assert_bad_input(&["container not running"]);
    case.run(&["kill", "no-such-container", "KILL"])
        .assert_bad_input(&["does not exist"]);
    b.write();
    case.run(&["create", "--bundle", b.dir_str(), &b.id])
        .assert_bad_input(&["already exists"]);
    case.delete(&b.id);
    case.finish();
}

/// A created container can be paused (runc allows it): it reports `paused`, cannot be
/// started until resumed, then starts. A running one cannot be deleted without --force,
/// in runc's words ("is running"). Seen failing before: the paused created container
/// still said `created`, resume refused it and start hung on its frozen init.
#[test]
fn a_created_container_pauses_and_a_running_one_is_not_deleted() {
    let case = Case::new("pause_created");
    let mut b = case.bundle("pausecreated");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.run(&["pause", &b.id]).ok();
    assert_eq!(case.state(&b.id)["status"], "paused");
    case.run(&["start", &b.id]).assert_bad_input(&["paused"]);
    case.run(&["resume", &b.id]).ok();
    assert_eq!(case.state(&b.id)["status"], "created");
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let refused = case.run(&["delete", &b.id]);
    refused.assert_bad_input(&["not stopped"]);
    if is_hull() {
        assert!(refused.stderr.contains("is running"), "{refused}");
    }
    assert_eq!(case.state(&b.id)["status"], "running");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// `kill --all` against processes that fork all the time (30 loops each forking a new
/// `sleep` every 10 ms, held by a pids limit; no pid namespace, so init's death alone
/// would end nothing): frozen while listed and signalled, nothing forks past the list,
/// and nothing survives.
#[test]
fn kill_all_ends_a_fork_bomb() {
    let case = Case::new("kill_forkbomb");
    let mut b = case.bundle("forkbomb");
    b.remove_namespace("pid");
    b.set("/linux/resources/pids", serde_json::json!({"limit": 100}));
    b.sh("for i in $(seq 30); do (while :; do sleep 0.01; done) & done; wait");
    case.create(&b);
    case.start(&b.id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while cgroup_pids(&b.id).len() < 40 {
        assert!(
            std::time::Instant::now() < deadline,
            "the bomb did not grow"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    case.run(&["kill", "--all", &b.id, "KILL"]).ok();
    wait_until_empty(&b.id);
    case.delete(&b.id);
    case.finish();
}

/// `kill --all` of a paused container with a signal that does not kill leaves it
/// paused (it was thawed behind the caller's back before).
#[test]
fn kill_all_keeps_a_paused_container_paused() {
    let case = Case::new("kill_paused");
    let mut b = case.bundle("killpaused");
    b.sh("trap '' TERM; sleep 100");
    case.create(&b);
    case.start(&b.id);
    case.run(&["pause", &b.id]).ok();
    case.run(&["kill", "--all", &b.id, "TERM"]).ok();
    assert_eq!(case.state(&b.id)["status"], "paused");
    case.run(&["resume", &b.id]).ok();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}
