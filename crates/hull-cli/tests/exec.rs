//! `exec`: further processes in a running container, each flag read back from inside,
//! the namespaces and cgroup shared with init, exit codes, and the refusals.

mod common;

use std::fs;

use common::*;
use serde_json::{json, Value};

fn exec(case: &Case, id: &str, args: &[&str]) -> Output {
    // Flags, then `--`, then the command: the id goes between them.
    let mut full: Vec<&str> = vec!["exec"];
    let (flags, command): (Vec<&str>, Vec<&str>) = {
        let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        (
            args[..split].to_vec(),
            args[(split + 1).min(args.len())..].to_vec(),
        )
    };
    full.extend(flags);
    full.push(id);
    full.extend(command);
    case.run(&full)
}

#[test]
fn exec_output_exit_code_and_shared_namespaces() {
    let case = Case::new("exec_ns");
    let mut b = case.bundle("execns");
    b.add_namespace("cgroup");
    b.user_namespace(0, 100_000, 65_536);
    let pid = case.running(&mut b, &["sleep", "60"]);
    let kinds = ["pid", "net", "mnt", "uts", "ipc", "cgroup", "user"];
    let script = kinds
        .iter()
        .map(|k| format!("echo {k}=$(readlink /proc/self/ns/{k})"))
        .collect::<Vec<_>>()
        .join("; ");
    let out = exec(
        &case,
        &b.id,
        &["--", "sh", "-c", &format!("{script}; exit 3")],
    );
    out.code(3);
    let kv = out.kv();
    for k in kinds {
        let host = fs::read_link(format!("/proc/{pid}/ns/{k}")).unwrap();
        assert_eq!(
            kv[k],
            host.to_str().unwrap(),
            "{k} namespace differs from init's:\n{out}"
        );
    }
    // And the same cgroup as init (a cgroup namespace shows its root as /).
    let cg = exec(&case, &b.id, &["--", "cat", "/proc/self/cgroup"]);
    cg.ok();
    assert!(cg.out().lines().all(|l| l.ends_with(":/")), "{cg}");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn exec_flags_are_seen_inside() {
    let case = Case::new("exec_flags");
    let mut b = case.bundle("execflags");
    fs::create_dir_all(b.rootfs.join("work")).unwrap();
    case.running(&mut b, &["sleep", "60"]);
    let out = exec(
        &case,
        &b.id,
        &[
            "--user",
            "1000:1000",
            "--additional-gids",
            "10",
            "--additional-gids",
            "20",
            "--cwd",
            "/work",
            "--env",
            "FOO=bar",
            "--no-new-privs",
            "--",
            "sh",
            "-c",
            "echo id=$(id -u):$(id -g); echo groups=$(id -G); echo pwd=$(pwd); echo foo=$FOO; \
                         grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status | tr -d '\\t' | tr : =",
        ],
    );
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["id"], "1000:1000", "{out}");
    assert_eq!(kv["groups"], "1000 10 20", "{out}");
    assert_eq!(kv["pwd"], "/work", "{out}");
    assert_eq!(kv["foo"], "bar", "{out}");
    assert_eq!(kv["NoNewPrivs"], "1", "{out}");
    // --cap adds to the container's capabilities.
    let caps = exec(
        &case,
        &b.id,
        &[
            "--cap",
            "CAP_SYS_ADMIN",
            "--",
            "grep",
            "CapBnd",
            "/proc/self/status",
        ],
    );
    caps.ok();
    let mask = u64::from_str_radix(caps.out().split_whitespace().last().unwrap(), 16).unwrap();
    assert_ne!(mask & (1 << 21), 0, "CAP_SYS_ADMIN missing:\n{caps}");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// `exec --process` with `process` written to a file.
fn exec_process_file(case: &Case, id: &str, process: Value) -> Output {
    let path = case.dir.join("process.json");
    fs::write(&path, process.to_string()).unwrap();
    exec(case, id, &["--process", path.to_str().unwrap()])
}

#[test]
fn exec_with_a_process_file_and_detached() {
    let case = Case::new("exec_process");
    let mut b = case.bundle("execproc");
    case.running(&mut b, &["sleep", "60"]);
    let out = exec_process_file(
        &case,
        &b.id,
        json!({
            "args": ["sh", "-c", "echo from-file $X"],
            "env": ["PATH=/bin", "X=42"],
            "cwd": "/",
            "user": { "uid": 0, "gid": 0 }
        }),
    );
    out.ok();
    assert_eq!(out.out(), "from-file 42");
    let pid_file = case.dir.join("exec.pid");
    exec(
        &case,
        &b.id,
        &[
            "--detach",
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--",
            "sleep",
            "30",
        ],
    )
    .ok();
    let pid: i64 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let ps = case.run(&["ps", "--format", "json", &b.id]);
    let pids: Vec<i64> = serde_json::from_str(ps.out()).unwrap();
    assert!(pids.contains(&pid), "{pid} not among {pids:?}");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// A process file without capabilities gets the container's, as in runc: never the
/// full set of the root that runs the runtime. Seen failing before hull filled them
/// in: CapBnd was 000001fffeffffff.
#[test]
fn a_process_file_without_capabilities_gets_the_containers() {
    let case = Case::new("exec_process_caps");
    let mut b = case.bundle("execproccaps");
    for set in ["bounding", "effective", "permitted"] {
        b.caps(set, &["CAP_KILL", "CAP_CHOWN"]);
    }
    case.running(&mut b, &["sleep", "60"]);
    let out = exec_process_file(
        &case,
        &b.id,
        json!({
            "args": ["/bin/sh", "-c", "grep -E '^Cap(Bnd|Eff)' /proc/self/status | tr -d '\\t' | tr : ="],
            "cwd": "/",
            "user": { "uid": 0, "gid": 0 }
        }),
    );
    out.ok();
    let kv = out.kv();
    let want = format!("{:016x}", (1u64 << 5) | 1);
    assert_eq!(kv["CapBnd"], want, "{out}");
    assert_eq!(kv["CapEff"], want, "{out}");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn exec_is_refused_when_paused_or_stopped() {
    let case = Case::new("exec_refused");
    let mut b = case.bundle("execrefused");
    case.running(&mut b, &["sleep", "60"]);
    case.run(&["pause", &b.id]).ok();
    exec(&case, &b.id, &["--", "true"]).assert_failed_with(255, &["paused"]);
    case.run(&["resume", &b.id]).ok();
    case.kill(&b.id, "KILL");
    case.wait_status(&b.id, "stopped");
    exec(&case, &b.id, &["--", "true"]).assert_failed_with(255, &["not running", "stopped"]);
    exec(&case, &b.id, &["--user", "daemon", "--", "true"])
        .assert_failed_with(255, &["user", "not running", "stopped"]);
    case.run(&["delete", &b.id]).ok();
    case.finish();
}

#[test]
fn exec_of_a_missing_program_fails_cleanly() {
    let case = Case::new("exec_missing");
    let mut b = case.bundle("execmissing");
    case.running(&mut b, &["sleep", "60"]);
    let out = exec(&case, &b.id, &["--", "/no/such/program"]);
    out.assert_failed_with(255, &["/no/such/program", "no such file"]);
    assert_eq!(case.status(&b.id), "running");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// An exec'd process gets its own `oomScoreAdj` (process.json), else the container's,
/// as runc writes it; never the caller's. Seen failing before: exec kept the runtime's.
#[test]
fn exec_gets_the_oom_score_adj_of_its_process_or_the_container() {
    let case = Case::new("exec_oom");
    let mut b = case.bundle("execoom");
    b.set("/process/oomScoreAdj", json!(123));
    b.args(&["sleep", "60"]);
    case.run_container_with(&b, &["--detach"]).ok();
    let inherited = case.run(&["exec", &b.id, "cat", "/proc/self/oom_score_adj"]);
    assert_eq!(inherited.ok().out(), "123");
    let file = case.dir.join("process.json");
    std::fs::write(
        &file,
        json!({"args": ["cat", "/proc/self/oom_score_adj"], "cwd": "/",
               "user": {"uid": 0, "gid": 0}, "oomScoreAdj": 456})
        .to_string(),
    )
    .unwrap();
    let own = case.run(&["exec", "--process", file.to_str().unwrap(), &b.id]);
    assert_eq!(own.ok().out(), "456");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}
