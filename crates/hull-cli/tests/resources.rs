//! Resource limits and observation on real containers, read from both sides: the value
//! in the cgroup file, and its effect inside the container. This host is hybrid, so the
//! v1 driver is what runs here; v2 controller files are covered by the library's
//! fixture tests and v2 core files by `crates/hull/tests/cgroup_v2.rs`.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// The container's directory in v1 hierarchy `controller`.
fn v1(controller: &str, id: &str) -> PathBuf {
    PathBuf::from("/sys/fs/cgroup")
        .join(controller)
        .join("hull-test")
        .join(id)
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn memory_limit_oom_kills_and_reports_the_event() {
    let case = Case::new("oom");
    let mut b = case.bundle("oom");
    b.set(
        "/linux/resources/memory",
        json!({ "limit": 32 << 20, "swap": 32 << 20 }),
    );
    // The shell buffers the command substitution: 100 MB against a 32 MB limit.
    b.sh("sleep 0.5; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived");
    case.create(&b);
    assert_eq!(
        read(v1("memory", &b.id).join("memory.limit_in_bytes")),
        (32 << 20).to_string()
    );
    let events = case.spawn(&["events", "--interval", "100ms", &b.id]);
    sleep_ms(100);
    case.start(&b.id);
    case.wait_status(&b.id, "stopped");
    let oom_control = read(v1("memory", &b.id).join("memory.oom_control"));
    // hull's events ends with the container; runc's streams until it is killed.
    let events = if is_hull() {
        events.wait()
    } else {
        events.stop()
    };
    let kills: u32 = oom_control
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(kills >= 1, "{oom_control}");
    let oom_events: Vec<Value> = events
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "oom")
        .collect();
    // The kernel may signal more than once for one kill (each failed charge).
    assert!(!oom_events.is_empty(), "{events}");
    assert_eq!(oom_events[0]["id"], json!(b.id));
    case.finish();
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    let case = Case::new("pids");
    let mut b = case.bundle("pids");
    b.set("/linux/resources/pids", json!({ "limit": 10 }));
    // The bomb runs in a child shell (busybox sh exits when a fork fails); the outer
    // one then reads the counters with builtins only.
    b.sh("sh -c 'i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done' 2>/dev/shm/err; \
          read current < /sys/fs/cgroup/pids/pids.current; read max < /sys/fs/cgroup/pids/pids.max; \
          read err < /dev/shm/err; echo \"$current $max $err\"");
    let out = case.run_container(&b);
    out.ok();
    let line = out.out().lines().last().unwrap_or_default().to_string();
    let mut fields = line.splitn(3, ' ');
    let current: u32 = fields.next().unwrap().parse().unwrap();
    assert!(current <= 10, "{out}");
    assert_eq!(fields.next(), Some("10"), "{out}");
    assert!(
        fields.next().unwrap_or_default().contains("can't fork"),
        "no fork failed:\n{out}"
    );
    case.finish();
}

#[test]
fn a_paused_container_does_not_run() {
    let case = Case::new("pause");
    let mut b = case.bundle("pause");
    b.sh("while true; do :; done");
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    // The kernel's own counter of the container's CPU time.
    let cpu = || -> u64 {
        read(v1("cpuacct", &b.id).join("cpuacct.usage"))
            .parse()
            .unwrap()
    };
    sleep_ms(100);
    case.run(&["pause", &b.id]).ok();
    assert_eq!(case.status(&b.id), "paused");
    assert_eq!(read(v1("freezer", &b.id).join("freezer.state")), "FROZEN");
    let before = cpu();
    sleep_ms(300);
    assert_eq!(cpu(), before, "the container ran while paused");
    case.run(&["resume", &b.id]).ok();
    assert_eq!(case.status(&b.id), "running");
    sleep_ms(200);
    assert!(cpu() > before, "the container did not run after resume");
    // Resuming a running container is refused; kill and delete --force work paused.
    case.run(&["resume", &b.id])
        .assert_bad_input(&["running", "not paused"]);
    case.run(&["pause", &b.id]).ok();
    case.run(&["kill", &b.id, "KILL"]).ok();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn update_changes_the_file_and_the_behaviour() {
    let case = Case::new("update");
    let mut b = case.bundle("update");
    b.set("/linux/resources/pids", json!({ "limit": 100 }));
    // Forks a sleep every 50 ms; busybox sh exits when a fork fails.
    b.sh("while true; do sleep 0.05; done");
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let resources = case.dir.join("resources.json");
    fs::write(
        &resources,
        r#"{"pids":{"limit":50},"memory":{"limit":67108864}}"#,
    )
    .unwrap();
    case.run(&["update", "--resources", resources.to_str().unwrap(), &b.id])
        .ok();
    assert_eq!(read(v1("pids", &b.id).join("pids.max")), "50");
    assert_eq!(
        read(v1("memory", &b.id).join("memory.limit_in_bytes")),
        "67108864"
    );
    if is_hull() {
        // The new limits are saved with the container.
        let text = fs::read_to_string(case.root.join(&b.id).join("state.json")).unwrap();
        let state: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            state["config"]["cgroup"]["resources"]["pids_limit"],
            json!(50)
        );
        assert_eq!(
            state["config"]["cgroup"]["resources"]["memory"]["limit"],
            json!(67108864)
        );
    }
    sleep_ms(200);
    assert_eq!(case.status(&b.id), "running");
    // Down to one task: the shell's next fork fails and it exits.
    case.run(&["update", "--pids-limit", "1", &b.id]).ok();
    assert_eq!(read(v1("pids", &b.id).join("pids.max")), "1");
    case.wait_status(&b.id, "stopped");
    let events = read(v1("pids", &b.id).join("pids.events"));
    assert!(
        events.starts_with("max ") && events != "max 0",
        "no fork was refused: {events}"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// All or nothing: the memory write succeeds, the cpuset one does not (no CPU 99), and
/// the memory limit goes back to what it was.
#[test]
fn a_failed_update_keeps_the_previous_limits() {
    let case = Case::new("update_rollback");
    let mut b = case.bundle("rollback");
    b.set("/linux/resources/memory", json!({ "limit": 64 << 20 }));
    b.args(&["sleep", "60"]);
    case.create(&b);
    let out = case.run(&["update", "--memory", "128m", "--cpuset-cpus", "99", &b.id]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("cpus"), "{out}");
    assert_eq!(
        read(v1("memory", &b.id).join("memory.limit_in_bytes")),
        (64 << 20).to_string()
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// `events --stats`, field by field against the kernel's files.
#[test]
fn stats_match_the_kernel_files() {
    let case = Case::new("stats");
    let mut b = case.bundle("stats");
    b.set("/linux/resources/memory", json!({ "limit": 64 << 20 }));
    b.set("/linux/resources/pids", json!({ "limit": 20 }));
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    sleep_ms(100);
    let out = case.run(&["events", "--stats", &b.id]);
    out.ok();
    let ev: Value = serde_json::from_str(out.out()).unwrap();
    assert_eq!(ev["type"], "stats");
    assert_eq!(ev["id"], json!(b.id));
    let d = &ev["data"];
    let num = |path: PathBuf| -> u64 { read(path).parse().unwrap() };
    assert_eq!(
        d["pids"]["current"].as_u64(),
        Some(num(v1("pids", &b.id).join("pids.current")))
    );
    assert_eq!(d["pids"]["limit"].as_u64(), Some(20));
    assert_eq!(
        d["memory"]["usage"]["limit"].as_u64(),
        Some(num(v1("memory", &b.id).join("memory.limit_in_bytes")))
    );
    assert_eq!(
        d["memory"]["usage"]["usage"].as_u64(),
        Some(num(v1("memory", &b.id).join("memory.usage_in_bytes")))
    );
    assert_eq!(
        d["cpu"]["usage"]["total"].as_u64(),
        Some(num(v1("cpuacct", &b.id).join("cpuacct.usage")))
    );
    let percpu: Vec<u64> = read(v1("cpuacct", &b.id).join("cpuacct.usage_percpu"))
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(d["cpu"]["usage"]["percpu"], json!(percpu));
    let raw_cache = read(v1("memory", &b.id).join("memory.stat"))
        .lines()
        .find_map(|l| {
            l.strip_prefix("total_cache ")
                .map(|v| v.parse::<u64>().unwrap())
        })
        .unwrap();
    assert_eq!(d["memory"]["raw"]["total_cache"].as_u64(), Some(raw_cache));
    // Its own network namespace: only lo, which runc leaves out.
    assert_eq!(d["network_interfaces"], Value::Null);
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn ps_lists_the_containers_processes() {
    let case = Case::new("ps");
    let mut b = case.bundle("ps");
    b.sh("sleep 60 & exec sleep 61");
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    sleep_ms(200);
    let procs: Vec<i64> = read(v1("pids", &b.id).join("cgroup.procs"))
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(procs.len(), 2);
    let json_out = case.run(&["ps", "--format", "json", &b.id]);
    json_out.ok();
    let mut listed: Vec<i64> = serde_json::from_str(json_out.out()).unwrap();
    listed.sort();
    assert_eq!(listed, procs);
    let table = case.run(&["ps", &b.id]);
    table.ok();
    let lines: Vec<&str> = table.out().lines().collect();
    assert!(
        lines[0].contains("PID") && lines[0].contains("CMD"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines.iter().any(|l| l.contains("sleep 61")), "{table}");
    let custom = case.run(&["ps", &b.id, "-o", "pid,comm"]);
    custom.ok();
    assert_eq!(custom.out().lines().count(), 3, "{custom}");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

fn assert_refused(name: &str, pointer: &str, value: Value, keywords: &[&str]) {
    let case = Case::new(name);
    case.assert_config_refused(name, pointer, value, keywords);
    case.finish();
}

#[test]
fn impossible_limits_are_refused_and_leave_nothing() {
    // (name, field, value, keywords, whether runc 1.1.5 accepts it anyway: it takes a
    // negative pids limit as "no limit", and ignores an "x" in a device rule's access;
    // hull refuses them as the impossible values they are. A zero is "not set" for both:
    // zero_resources_are_left_unset.)
    let cases = [
        (
            "pids_neg",
            "/linux/resources/pids",
            json!({ "limit": -5 }),
            &["pids"][..],
            true,
        ),
        (
            "shares_one",
            "/linux/resources/cpu",
            json!({ "shares": 1 }),
            &["shares"][..],
            false,
        ),
        (
            "swap_low",
            "/linux/resources/memory",
            json!({ "limit": 64 << 20, "swap": 1 << 20 }),
            &["swap"][..],
            false,
        ),
        (
            "cpus_bad",
            "/linux/resources/cpu",
            json!({ "cpus": "0-x" }),
            &["cpus"][..],
            false,
        ),
        (
            "dev_rule",
            "/linux/resources/devices",
            json!([{ "allow": true, "access": "rwx" }]),
            &["access", "devices"][..],
            true,
        ),
    ];
    for (name, pointer, value, keywords, runc_accepts) in cases {
        if is_hull() || !runc_accepts {
            assert_refused(name, pointer, value, keywords);
        }
    }
}

/// A v2-only key on this v1 (hybrid) host: refused before anything is made.
#[test]
fn a_v2_only_key_on_v1_is_refused() {
    if !is_hull() || !cgroup_v1_present() {
        return;
    }
    assert_refused(
        "unified_v1",
        "/linux/resources/unified",
        json!({ "memory.high": "1G" }),
        &["unified"],
    );
}

/// Zero means "not set", as runc reads it: Docker sends `cpu.shares: 0` and
/// `blockIO.weight: 0` with every container. The cgroup keeps its defaults. Seen
/// failing with Docker before: "linux.resources.cpu.shares: 0 is outside 2..262144".
#[test]
fn zero_resources_are_left_unset() {
    let case = Case::new("zero_resources");
    let mut b = case.bundle("zeroresources");
    b.set(
        "/linux/resources",
        json!({
            "memory": { "limit": 0, "reservation": 0, "swap": 0, "disableOOMKiller": false },
            "cpu": { "shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0 },
            "blockIO": { "weight": 0, "leafWeight": 0 },
            "pids": { "limit": 0 }
        }),
    );
    b.args(&["sleep", "30"]);
    case.create(&b);
    assert_eq!(read(v1("cpu", &b.id).join("cpu.shares")), "1024");
    assert_eq!(read(v1("cpu", &b.id).join("cpu.cfs_quota_us")), "-1");
    assert_eq!(read(v1("pids", &b.id).join("pids.max")), "max");
    assert_eq!(
        read(v1("memory", &b.id).join("memory.limit_in_bytes")),
        read(PathBuf::from(
            "/sys/fs/cgroup/memory/hull-test/memory.limit_in_bytes"
        ))
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// A v1 cpuset parent that another runtime has just made and not yet filled (cpus and
/// mems still empty) is filled from its own parent; the container's cpuset copies it and
/// init joins. Seen failing when two containers under one new parent were created at
/// once: "writing "0" to .../cpuset/.../tasks: No space left on device".
#[test]
fn an_empty_cpuset_parent_is_filled_before_the_container_joins() {
    let case = Case::new("cpuset_parent");
    let mut b = case.bundle("cpusetparent");
    let parent = format!("hull-test-{}", b.id);
    let racer = PathBuf::from("/sys/fs/cgroup/cpuset").join(&parent);
    fs::create_dir(&racer).unwrap();
    assert_eq!(read(racer.join("cpuset.cpus")), "", "a new cpuset is empty");
    b.set("/linux/cgroupsPath", json!(format!("/{parent}/{}", b.id)));
    b.args(&["cat", "/proc/self/status"]);
    let out = case.run_container(&b);
    let filled = (
        read(racer.join("cpuset.cpus")),
        read(racer.join("cpuset.mems")),
    );
    for hierarchy in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = fs::remove_dir(hierarchy.path().join(&parent));
    }
    out.ok();
    let root = (
        read("/sys/fs/cgroup/cpuset/cpuset.cpus".into()),
        read("/sys/fs/cgroup/cpuset/cpuset.mems".into()),
    );
    assert_eq!(filled, root);
    let allowed = out
        .out()
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(str::trim);
    assert_eq!(
        allowed,
        Some(root.0.as_str()),
        "the container runs on the parent's cpus"
    );
    case.finish();
}
