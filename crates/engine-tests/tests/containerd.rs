//! containerd drives hull through `ctr run --runc-binary` (the runc v2 shim calls hull
//! exactly as it calls runc): run with exit codes, a terminal, a detached task with exec,
//! ps, pause/resume, metrics, kill and delete, a memory limit; checkpoint and restore.

use std::time::Duration;

use engine_tests::containerd::Containerd;
use engine_tests::*;

/// `ctr run` flags that make hull the runtime (its root inside the test's directory).
fn runtime_flags(wrapper: &Wrapper, scratch: &Scratch) -> Vec<String> {
    vec![
        "--runc-binary".into(),
        wrapper.path.display().to_string(),
        "--runc-root".into(),
        scratch.path("ctr-root").display().to_string(),
    ]
}

#[test]
fn ctr_runs_containers_on_hull() {
    let setup = Setup::new("ctr");
    let (parent, scratch, netns, wrapper) =
        (&setup.parent, &setup.scratch, &setup.netns, &setup.wrapper);
    let containerd = Containerd::start(scratch, netns, wrapper, false);
    let ns = unique("hullctr");
    containerd.import(&ns, &images::busybox());
    let flags = runtime_flags(wrapper, scratch);
    let ctr_run = |extra: &[&str], id: &str, command: &[&str]| {
        let mut cmd = containerd.ctr(&ns);
        cmd.arg("run")
            .args(&flags)
            .arg("--cgroup")
            .arg(format!("{}/{id}", parent.path))
            .args(extra)
            .arg(images::BUSYBOX)
            .arg(id)
            .args(command);
        cmd
    };

    // Exit codes and output of a foreground run.
    let ran = run_code(&mut ctr_run(
        &["--rm"],
        "exit3",
        &["sh", "-c", "echo hello; exit 3"],
    ));
    assert_eq!(ran.code, 3, "{ran}");
    assert!(ran.out.contains("hello"), "{ran}");

    // A terminal.
    let cmd = ctr_run(&["--rm", "-t"], "tty", &["sh", "-c", "tty; exit 0"]);
    let line = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = in_terminal(&line);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("/dev/pts/"), "{text}");

    // A detached task: exec, ps, pause/resume, metrics, kill, delete.
    run_ok(&mut ctr_run(&["-d"], "task", &["sleep", "300"]));
    let ran = run_code(containerd.ctr(&ns).args([
        "task",
        "exec",
        "--exec-id",
        "e1",
        "task",
        "sh",
        "-c",
        "exit 4",
    ]));
    assert_eq!(ran.code, 4, "{ran}");
    let ps = run_ok(containerd.ctr(&ns).args(["task", "ps", "task"]));
    assert!(ps.lines().count() >= 2, "{ps}");
    let status = |containerd: &Containerd| run_ok(containerd.ctr(&ns).args(["task", "ls"]));
    run_ok(containerd.ctr(&ns).args(["task", "pause", "task"]));
    assert!(
        status(&containerd).contains("PAUSED"),
        "{}",
        status(&containerd)
    );
    run_ok(containerd.ctr(&ns).args(["task", "resume", "task"]));
    assert!(
        status(&containerd).contains("RUNNING"),
        "{}",
        status(&containerd)
    );
    let metrics = run_ok(containerd.ctr(&ns).args(["task", "metrics", "task"]));
    assert!(
        metrics.contains("memory") || metrics.contains("pids"),
        "{metrics}"
    );
    run_ok(
        containerd
            .ctr(&ns)
            .args(["task", "kill", "-s", "KILL", "task"]),
    );
    wait_until("the task to stop", Duration::from_secs(10), || {
        status(&containerd).contains("STOPPED")
    });
    run_ok(containerd.ctr(&ns).args(["task", "delete", "task"]));
    run_ok(containerd.ctr(&ns).args(["container", "delete", "task"]));

    // A memory limit, read on the host in the container's cgroup.
    run_ok(&mut ctr_run(
        &["-d", "--memory-limit", "33554432"],
        "memory",
        &["sleep", "300"],
    ));
    let cgroup = format!("{}/memory", parent.path);
    let limit = cgroup_file("memory", &cgroup, "memory.limit_in_bytes")
        .or_else(|| cgroup_file("memory", &cgroup, "memory.max"));
    assert_eq!(limit.as_deref(), Some("33554432"));
    run_ok(
        containerd
            .ctr(&ns)
            .args(["task", "kill", "-s", "KILL", "memory"]),
    );
    wait_until("the task to stop", Duration::from_secs(10), || {
        status(&containerd).contains("STOPPED")
    });
    run_ok(containerd.ctr(&ns).args(["task", "delete", "memory"]));
    run_ok(containerd.ctr(&ns).args(["container", "delete", "memory"]));

    // Nothing left: no task, container, runtime state or cgroup.
    assert_eq!(
        run_ok(containerd.ctr(&ns).args(["task", "ls", "-q"])).trim(),
        ""
    );
    assert_eq!(
        run_ok(containerd.ctr(&ns).args(["container", "ls", "-q"])).trim(),
        ""
    );
    let state = std::fs::read_dir(scratch.path("ctr-root").join(&ns))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(state, 0, "hull state left");
    parent.assert_nothing_left();
    assert!(wrapper.calls().contains("create"), "hull was never called");
}

/// containerd's checkpoint and restore with hull as the runtime: `ctr container
/// checkpoint --task --rw` (the shim asks hull for `checkpoint --leave-running`) of a
/// counter, the task removed, then `ctr container restore --live --rw`: the counter goes
/// on from where it was, in its cgroup.
#[test]
fn ctr_checkpoints_and_restores_on_hull() {
    let setup = Setup::new("ctrcr");
    let (parent, scratch, netns, wrapper) =
        (&setup.parent, &setup.scratch, &setup.netns, &setup.wrapper);
    let containerd = Containerd::start(scratch, netns, wrapper, false);
    let ns = unique("hullctrcr");
    containerd.import(&ns, &images::busybox());
    let ctr = || containerd.ctr(&ns);
    let mut execs = 0;
    let mut count = || -> u64 {
        execs += 1;
        run_ok(
            ctr()
                .args(["task", "exec", "--exec-id", &format!("c{execs}"), "cr"])
                .args(["cat", "/count"]),
        )
        .trim()
        .parse()
        .unwrap()
    };
    run_ok(
        ctr()
            .arg("run")
            .args(runtime_flags(wrapper, scratch))
            .arg("--cgroup")
            .arg(format!("{}/cr", parent.path))
            .args(["-d", images::BUSYBOX, "cr", "sh", "-c"])
            .arg("i=0; while :; do i=$((i+1)); echo $i >/count.new; mv /count.new /count; sleep 0.1; done"),
    );
    wait_until("the counter", Duration::from_secs(10), || count() >= 10);

    let image = "hull.test/cr-checkpoint:1";
    run_ok(ctr().args(["container", "checkpoint", "--task", "--rw", "cr", image]));
    assert!(
        wrapper.calls().contains("checkpoint"),
        "hull was not asked to checkpoint"
    );
    let reached = count();
    assert!(
        reached >= 10,
        "the task left running started over: {reached}"
    );
    run_ok(ctr().args(["task", "kill", "-s", "KILL", "cr"]));
    wait_until("the task to stop", Duration::from_secs(10), || {
        run_ok(ctr().args(["task", "ls"])).contains("STOPPED")
    });
    run_ok(ctr().args(["task", "delete", "cr"]));
    run_ok(ctr().args(["container", "delete", "cr"]));

    run_ok(ctr().args(["container", "restore", "--live", "--rw", "cr", image]));
    assert!(
        run_ok(ctr().args(["task", "ls"])).contains("RUNNING"),
        "the restored task is not running"
    );
    let after = count();
    assert!(
        after >= reached,
        "the restored counter started over: {after}"
    );
    let pid: u32 = run_ok(ctr().args(["task", "ls"]))
        .lines()
        .find(|l| l.starts_with("cr "))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .expect("the restored task's pid");
    assert_eq!(
        cgroup_of(pid, "pids").as_deref(),
        Some(format!("{}/cr", parent.path).as_str()),
        "the restored task is not in its cgroup"
    );

    run_ok(ctr().args(["task", "kill", "-s", "KILL", "cr"]));
    wait_until("the task to stop", Duration::from_secs(10), || {
        run_ok(ctr().args(["task", "ls"])).contains("STOPPED")
    });
    run_ok(ctr().args(["task", "delete", "cr"]));
    run_ok(ctr().args(["container", "delete", "cr"]));
    run_ok(ctr().args(["images", "rm", image]));
    assert!(
        wrapper.calls().contains("restore"),
        "hull was never asked to restore"
    );
    parent.assert_nothing_left();
}
