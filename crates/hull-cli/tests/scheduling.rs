//! How the container's processes run on the machine, read from inside: the execution
//! domain (`linux.personality`), CPU scheduling (`process.scheduler`), I/O priority
//! (`process.ioPriority`), NUMA memory policy (`linux.memoryPolicy`) and an exec'd
//! process's CPU affinity (`process.execCPUAffinity`), in init and in exec; and every
//! value the kernel would refuse, refused at create naming the field.

mod common;

use std::fs;

use common::*;
use serde_json::{json, Value};

/// Fields of `/proc/<pid>/stat` after the command name: index 0 is field 3 (state).
fn stat_fields(stat: &str) -> Vec<String> {
    let rest = stat.rsplit_once(") ").expect("a stat line").1;
    rest.split_whitespace().map(str::to_string).collect()
}

/// nice (field 19), rt_priority (40) and policy (41) from a stat line.
fn nice_prio_policy(stat: &str) -> (i64, i64, i64) {
    let f = stat_fields(stat);
    let at = |field: usize| f[field - 3].parse().unwrap();
    (at(19), at(40), at(41))
}

/// Runs `b` detached and returns the first `n` lines its init prints (it keeps running).
fn first_lines(case: &Case, b: &Bundle, n: usize) -> Vec<String> {
    let out = case.run_container_with(b, &["--detach"]);
    out.ok();
    let mut lines = Vec::new();
    wait_for("init's output", || {
        lines = out.reread_stdout().lines().map(str::to_string).collect();
        lines.len() >= n
    });
    lines
}

/// Runs `process` (an OCI process object) with `exec --process` in container `id`.
fn exec_process(case: &Case, id: &str, process: Value) -> Output {
    let file = case.dir.join(format!("process-{}.json", case.new_id("p")));
    fs::write(&file, process.to_string()).unwrap();
    case.run(&["exec", "--process", file.to_str().unwrap(), id])
}

#[test]
fn personality_linux32_with_flags_in_init_and_exec() {
    let case = Case::new("personality");
    let mut b = case.bundle("pers");
    b.set(
        "/linux/personality",
        json!({"domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"]}),
    );
    b.sh("uname -m; cat /proc/self/personality; sleep 60");
    let lines = first_lines(&case, &b, 2);
    assert_eq!(lines[0], "i686", "uname -m under LINUX32");
    assert_eq!(lines[1], "00040008", "LINUX32 | ADDR_NO_RANDOMIZE");
    let exec = case.run(&["exec", &b.id, "uname", "-m"]);
    assert_eq!(exec.ok().out(), "i686", "exec'd process");
    case.run(&["delete", "--force", &b.id]).ok();

    let mut plain = case.bundle("pers64");
    plain.set("/linux/personality", json!({"domain": "LINUX"}));
    plain.args(&["uname", "-m"]);
    assert_eq!(case.run_container(&plain).ok().out(), "x86_64");
    case.finish();
}

#[test]
fn scheduler_and_io_priority_in_init_and_exec() {
    let case = Case::new("sched");
    // SCHED_BATCH: a real-time policy would need real-time time in the cgroup
    // (cpu.rt_runtime_us, 0 in a new v1 cgroup), which the kernel checks, not hull.
    let mut b = case.bundle("batch");
    b.set(
        "/process/scheduler",
        json!({"policy": "SCHED_BATCH", "nice": 5}),
    );
    b.set(
        "/process/ioPriority",
        json!({"class": "IOPRIO_CLASS_BE", "priority": 6}),
    );
    b.sh("cat /proc/self/stat; ionice -p $$; sleep 60");
    let lines = first_lines(&case, &b, 2);
    assert_eq!(nice_prio_policy(&lines[0]), (5, 0, 3), "SCHED_BATCH nice 5");
    assert_eq!(lines[1], "best-effort: prio 6");

    // exec: its own process.json's settings, or else the container's.
    let own = exec_process(
        &case,
        &b.id,
        json!({
            "args": ["sh", "-c", "cat /proc/self/stat; ionice -p $$"], "cwd": "/",
            "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"],
            "scheduler": {"policy": "SCHED_IDLE"},
            "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
        }),
    );
    let lines: Vec<&str> = own.ok().out().lines().collect();
    assert_eq!(nice_prio_policy(lines[0]).2, 5, "SCHED_IDLE");
    assert_eq!(lines[1], "idle");
    let inherited = case.run(&["exec", &b.id, "cat", "/proc/self/stat"]);
    assert_eq!(nice_prio_policy(inherited.ok().out()), (5, 0, 3));
    case.run(&["delete", "--force", &b.id]).ok();

    let mut dl = case.bundle("deadline");
    dl.set(
        "/process/scheduler",
        json!({"policy": "SCHED_DEADLINE", "runtime": 2000000, "deadline": 10000000, "period": 10000000}),
    );
    dl.args(&["cat", "/proc/self/sched"]);
    let sched = case.run_container(&dl);
    let text = sched.ok().out().to_string();
    let value = |key: &str| {
        text.lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(key))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().to_string())
    };
    assert_eq!(value("policy").as_deref(), Some("6"), "{text}");
    // What is left of this period's runtime: within the 2 ms asked for.
    let left: u64 = value("dl.runtime").unwrap().parse().unwrap();
    assert!(left > 0 && left <= 2_000_000, "{text}");
    case.finish();
}

/// `execCPUAffinity` is for exec'd processes (the spec: "not applicable to the
/// container's init"): `final` is where the process runs once in the container's cgroup.
#[test]
fn exec_cpu_affinity_pins_exec_not_init() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let case = Case::new("affinity");
    let mut b = case.bundle("aff");
    b.set(
        "/process/execCPUAffinity",
        json!({"initial": "0", "final": format!("{}", cpus - 1)}),
    );
    b.args(&["sleep", "60"]);
    case.run_container_with(&b, &["--detach"]).ok();
    let init = case.run(&["exec", &b.id, "grep", "Cpus_allowed_list", "/proc/1/status"]);
    let all = if cpus == 1 {
        "0".to_string()
    } else {
        format!("0-{}", cpus - 1)
    };
    assert_eq!(
        init.ok().out().split_whitespace().last(),
        Some(all.as_str()),
        "init is not pinned"
    );
    let exec = case.run(&[
        "exec",
        &b.id,
        "grep",
        "Cpus_allowed_list",
        "/proc/self/status",
    ]);
    assert_eq!(
        exec.ok().out().split_whitespace().last(),
        Some(format!("{}", cpus - 1).as_str()),
        "the exec'd process runs on `final`"
    );
    let own = exec_process(
        &case,
        &b.id,
        json!({
            "args": ["grep", "Cpus_allowed_list", "/proc/self/status"], "cwd": "/",
            "user": {"uid": 0, "gid": 0}, "execCPUAffinity": {"final": "0"}
        }),
    );
    assert_eq!(own.ok().out().split_whitespace().last(), Some("0"));
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn memory_policy_binds_the_container() {
    let case = Case::new("mempolicy");
    let mut b = case.bundle("bind");
    b.set(
        "/linux/memoryPolicy",
        json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}),
    );
    b.args(&["cat", "/proc/self/numa_maps"]);
    let maps = case.run_container(&b);
    let text = maps.ok().out().to_string();
    let heap = text
        .lines()
        .find(|l| l.contains("heap") || l.contains("stack"))
        .unwrap_or_else(|| panic!("no heap or stack in\n{text}"));
    assert!(heap.contains("bind=static:0"), "{heap}");
    case.finish();
}

#[test]
fn values_the_kernel_would_refuse_are_refused_at_create() {
    let case = Case::new("sched_refused");
    let refused: [(&str, Value, &[&str]); 10] = [
        (
            "/process/scheduler",
            json!({"policy": "SCHED_ISO"}),
            &["process.scheduler.policy", "SCHED_ISO"],
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_RR", "priority": 0}),
            &["process.scheduler", "1..99"],
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_OTHER", "nice": 40}),
            &["process.scheduler", "nice"],
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_DEADLINE", "runtime": 20, "deadline": 10}),
            &["process.scheduler", "runtime <= deadline"],
        ),
        (
            "/process/scheduler",
            json!({"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_UTIL_CLAMP_MAX"]}),
            &["process.scheduler.flags", "clamp"],
        ),
        (
            "/process/ioPriority",
            json!({"class": "IOPRIO_CLASS_RT", "priority": 8}),
            &["process.ioPriority.priority", "0..7"],
        ),
        (
            "/linux/personality",
            json!({"domain": "LINUX", "flags": ["NO_SUCH_FLAG"]}),
            &["linux.personality.flags", "NO_SUCH_FLAG"],
        ),
        (
            "/linux/memoryPolicy",
            json!({"mode": "MPOL_INTERLEAVE"}),
            &["linux.memoryPolicy", "nodes"],
        ),
        (
            "/linux/memoryPolicy",
            json!({"mode": "MPOL_BIND", "nodes": "0-"}),
            &["linux.memoryPolicy.nodes"],
        ),
        (
            "/process/execCPUAffinity",
            json!({"final": "zero"}),
            &["process.execCPUAffinity"],
        ),
    ];
    for (i, (pointer, value, keywords)) in refused.into_iter().enumerate() {
        case.assert_config_refused(&format!("r{i}"), pointer, value, keywords);
    }
    // A node the machine does not have: the kernel's refusal, at create, naming the field.
    case.assert_config_refused(
        "nonode",
        "/linux/memoryPolicy",
        json!({"mode": "MPOL_BIND", "nodes": "1000"}),
        &["linux.memoryPolicy"],
    );
    case.finish();
}

/// `SCHED_FLAG_DL_OVERRUN`, spelled as the spec spells it.
#[test]
fn the_spec_spelling_of_dl_overrun_is_read() {
    let case = Case::new("dl_overrun");
    let mut b = case.bundle("dlo");
    b.set(
        "/process/scheduler",
        json!({"policy": "SCHED_DEADLINE", "runtime": 2000000, "deadline": 10000000,
               "flags": ["SCHED_FLAG_DL_OVERRUN", "SCHED_RESET_ON_FORK"]}),
    );
    b.args(&["cat", "/proc/self/sched"]);
    let out = case.run_container(&b);
    // cat is the process itself (no fork): still SCHED_DEADLINE.
    assert!(
        out.ok()
            .out()
            .lines()
            .any(|l| l.starts_with("policy") && l.trim_end().ends_with('6')),
        "{out}"
    );
    case.finish();
}
