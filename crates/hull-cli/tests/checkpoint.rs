//! Checkpoint and restore with CRIU, as runc's commands: a counter that goes on from
//! where it was, `--leave-running`, a restore under a new id from a copied bundle, a
//! bind mount holding an open file, a terminal handed to the new console socket, a
//! listening TCP socket in the container's own network namespace; and every refusal
//! in one line, leaving the container as it was.
//!
//! CRIU is `$HULL_TEST_CRIU` (scripts/test.sh sets it from scripts/criu.sh: this
//! kernel needs CRIU 4.2), else `criu` on PATH. Without a working CRIU these fail.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn criu() -> String {
    std::env::var("HULL_TEST_CRIU").unwrap_or_else(|_| "criu".into())
}

/// Stdio from the container's own /dev/null: the harness gives containers files of
/// the host's as stdio, which CRIU cannot checkpoint (runc's neither); engines give
/// pipes, tested on their own below.
const QUIET: &str = "exec </dev/null >/dev/null 2>&1;";

/// Writes its count to /count ten times a second (the shell's variable is the state
/// a restore must bring back).
const COUNTER: &str = "exec </dev/null >/dev/null 2>&1; \
    i=0; while :; do i=$((i+1)); echo $i > /count.new; mv /count.new /count; sleep 0.1; done";

fn count(rootfs: &Path) -> u64 {
    fs::read_to_string(rootfs.join("count"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits (bounded) until the count in `rootfs` is other than `from`; returns it.
#[track_caller]
fn next_count(rootfs: &Path, from: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = count(rootfs);
        if now != from && now != 0 {
            return now;
        }
        assert!(Instant::now() < deadline, "the count stayed at {from}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running counter in `b`, counted up to at least 5.
fn start_counter(case: &Case, b: &mut Bundle) {
    b.readonly_root(false);
    b.sh(COUNTER);
    b.write();
    case.create(b);
    case.start(&b.id);
    let mut seen = 0;
    while seen < 5 {
        seen = next_count(&b.rootfs, seen);
    }
}

fn checkpoint(case: &Case, id: &str, images: &Path, flags: &[&str]) -> Output {
    let images = images.to_str().unwrap();
    let work = case.dir.join(format!("work-dump-{id}"));
    let work = work.to_str().unwrap();
    let criu = criu();
    let mut args = vec!["--criu", &criu, "checkpoint", "--image-path", images];
    args.extend(["--work-path", work]);
    args.extend(flags);
    args.push(id);
    case.run(&args)
}

fn restore(case: &Case, dir: &Path, id: &str, images: &Path, flags: &[&str]) -> Output {
    let images = images.to_str().unwrap();
    let work = case.dir.join(format!("work-restore-{id}"));
    let work = work.to_str().unwrap();
    let criu = criu();
    let mut args = vec![
        "--criu",
        &criu,
        "restore",
        "--detach",
        "--image-path",
        images,
    ];
    args.extend(["--work-path", work, "--bundle", dir.to_str().unwrap()]);
    args.extend(flags);
    args.push(id);
    case.run(&args)
}

#[track_caller]
fn assert_gone(case: &Case, id: &str) {
    case.run(&["state", id])
        .assert_bad_input(&["does not exist"]);
}

/// The count goes on from where it was, not from 1: the restored shell has its
/// variable back. After the checkpoint the container is gone, as with runc.
#[test]
fn a_counter_goes_on_from_where_it_was() {
    let case = Case::new("cr_counter");
    let mut b = case.bundle("crcounter");
    start_counter(&case, &mut b);
    let images = case.dir.join("images");
    checkpoint(&case, &b.id, &images, &[]).ok();
    assert_gone(&case, &b.id);
    let frozen = count(&b.rootfs);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&b.rootfs), frozen, "something still counts");

    restore(&case, &b.dir, &b.id, &images, &[]).ok();
    assert_eq!(case.status(&b.id), "running");
    let next = next_count(&b.rootfs, frozen);
    assert!(next > frozen, "counted {next} after {frozen}: started over");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// `--leave-running` keeps it counting; the images then restore under a new id from
/// a copy of the bundle, where the count goes on from the checkpoint.
#[test]
fn leave_running_then_restore_elsewhere_under_a_new_id() {
    let case = Case::new("cr_leave");
    let mut b = case.bundle("crleave");
    start_counter(&case, &mut b);
    let images = case.dir.join("images");
    checkpoint(&case, &b.id, &images, &["--leave-running"]).ok();
    let at_checkpoint: u64 = {
        // The images hold the count of the moment; the container goes on past it.
        let now = count(&b.rootfs);
        let later = next_count(&b.rootfs, now);
        assert!(later > now);
        assert_eq!(case.status(&b.id), "running");
        now
    };
    case.run(&["delete", "--force", &b.id]).ok();

    let id = case.new_id("crleavecopy");
    let copy = case.dir.join(&id);
    let cp = Command::new("cp")
        .arg("-a")
        .arg(&b.dir)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    let mut config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(copy.join("config.json")).unwrap()).unwrap();
    config["linux"]["cgroupsPath"] = json!(format!("/hull-test/{id}"));
    fs::write(copy.join("config.json"), config.to_string()).unwrap();
    let rootfs = copy.join("rootfs");
    let copied = count(&rootfs);
    restore(&case, &copy, &id, &images, &[]).ok();
    // In the new container's cgroups, every one (not the checkpointed container's).
    let pid = case.state(&id)["pid"].as_i64().unwrap();
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    for line in cgroups.lines() {
        assert!(line.ends_with(&format!("/{id}")), "{cgroups}");
    }
    let next = next_count(&rootfs, copied);
    assert!(
        next >= at_checkpoint && next <= at_checkpoint + 3,
        "counted {next}; the checkpoint was at about {at_checkpoint}"
    );
    case.run(&["delete", "--force", &id]).ok();
    case.finish();
}

/// A file on a bind mount from the host, held open: after the restore the same
/// descriptor appends to the same file.
#[test]
fn a_bind_mount_holding_an_open_file() {
    let case = Case::new("cr_bind");
    let mut b = case.bundle("crbind");
    let data = case.dir.join("data");
    fs::create_dir_all(&data).unwrap();
    b.add_mount(json!({
        "destination": "/data", "type": "bind", "source": data, "options": ["rbind", "rw"]
    }));
    b.sh(&format!(
        "{QUIET} exec 3>>/data/log; i=0; while :; do i=$((i+1)); echo $i >&3; sleep 0.1; done"
    ));
    b.write();
    case.create(&b);
    case.start(&b.id);
    let log = data.join("log");
    let lines = |min: usize| -> Vec<u64> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<u64> = text.lines().filter_map(|l| l.parse().ok()).collect();
            if lines.len() >= min {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "the log has {} lines",
                lines.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    lines(3);
    let images = case.dir.join("images");
    checkpoint(&case, &b.id, &images, &[]).ok();
    let before = lines(1).len();
    restore(&case, &b.dir, &b.id, &images, &[]).ok();
    let after = lines(before + 3);
    assert_eq!(
        after,
        (1..=after.len() as u64).collect::<Vec<_>>(),
        "the restored descriptor did not go on appending"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// Init's stdout a pipe, as engines give it: the restore's stdout takes its place
/// (descriptors.json names the old pipe; CRIU gets the new one in its stead).
#[test]
fn the_restored_init_writes_to_the_new_pipe() {
    use std::io::BufRead;
    let case = Case::new("cr_pipe");
    let mut b = case.bundle("crpipe");
    b.sh("exec </dev/null 2>/dev/null; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done");
    b.write();
    let (reader, writer) = std::io::pipe().unwrap();
    let create = ["create", "--bundle", b.dir_str(), &b.id];
    case.run_with_stdout(&create, writer.into()).ok();
    case.start(&b.id);
    let mut lines = std::io::BufReader::new(reader).lines();
    let mut last = 0;
    for _ in 0..3 {
        last = lines.next().unwrap().unwrap().parse::<u64>().unwrap();
    }
    let images = case.dir.join("images");
    checkpoint(&case, &b.id, &images, &[]).ok();
    // Whatever the old pipe still held, then its end.
    for line in lines {
        last = line.unwrap().parse().unwrap();
    }

    let (reader, writer) = std::io::pipe().unwrap();
    let images_str = images.to_str().unwrap();
    let criu = criu();
    let args = [
        "--criu",
        &criu,
        "restore",
        "--detach",
        "--image-path",
        images_str,
        "--bundle",
        b.dir_str(),
        &b.id,
    ];
    case.run_with_stdout(&args, writer.into()).ok();
    let next: u64 = std::io::BufReader::new(reader)
        .lines()
        .next()
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        next,
        last + 1,
        "the restored init did not write on to the new pipe"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// A shell on a terminal: restored, its new terminal's master goes to the console
/// socket given to restore, and the same shell (its variable kept) answers there.
#[test]
fn a_terminal_goes_to_the_new_console_socket() {
    let case = Case::new("cr_tty");
    let mut b = case.bundle("crtty");
    b.set("/process/terminal", json!(true));
    b.args(&["sh"]);
    b.write();
    let socket = case.dir.join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    case.create_with(&b, &["--console-socket", socket.to_str().unwrap()]);
    let mut master = fs::File::from(accept_fd(&listener).1);
    case.start(&b.id);
    master
        .write_all(b"kept=$((6*7)); echo before-$kept\n")
        .unwrap();
    read_until(&mut master, "before-42");

    let images = case.dir.join("images");
    checkpoint(&case, &b.id, &images, &[]).ok();
    drop(master);
    let socket = case.dir.join("console2.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let flags = ["--console-socket", socket.to_str().unwrap()];
    let restored = std::thread::scope(|s| {
        let accepted = s.spawn(|| fs::File::from(accept_fd(&listener).1));
        restore(&case, &b.dir, &b.id, &images, &flags).ok();
        accepted.join().unwrap()
    });
    let mut master = restored;
    master.write_all(b"echo after-$kept\n").unwrap();
    read_until(&mut master, "after-42");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// The body of `GET /` from port 8080 inside the container's network namespace (with
/// the host's busybox nc).
fn fetch(pid: i64) -> String {
    let mut nc = Command::new("nsenter")
        .arg(format!("--net=/proc/{pid}/ns/net"))
        .args(["busybox", "nc", "-w", "5", "127.0.0.1", "8080"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _ = nc
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.0\r\n\r\n");
    let out = nc.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// A server listening in the container's own network namespace answers again after
/// the restore, on the same port.
#[test]
fn a_listening_tcp_socket_in_its_own_network_namespace() {
    let case = Case::new("cr_tcp");
    let mut b = case.bundle("crtcp");
    b.file("/www/index.html", "pong\n");
    b.sh(&format!("{QUIET} exec httpd -f -p 8080 -h /www"));
    b.write();
    case.create(&b);
    case.start(&b.id);
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while fetch(pid) != "pong\n" {
        assert!(Instant::now() < deadline, "httpd never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let images = case.dir.join("images");
    checkpoint(&case, &b.id, &images, &[]).ok();
    restore(&case, &b.dir, &b.id, &images, &[]).ok();
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    assert_eq!(fetch(pid), "pong\n");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// A fake CRIU that says it is `version`.
fn fake_criu(case: &Case, version: &str) -> PathBuf {
    let path = case.dir.join("old-criu");
    fs::write(&path, format!("#!/bin/sh\necho 'Version: {version}'\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Every refusal is one line, exit 1, and the container is as it was: still running
/// after a failed checkpoint; nothing at all after a failed restore.
#[test]
fn refusals_leave_the_container_as_it_was() {
    let case = Case::new("cr_refusals");
    let mut b = case.bundle("crrefuse");
    start_counter(&case, &mut b);
    let images = case.dir.join("images");
    let images_str = images.to_str().unwrap();
    let still_running = |out: Output, keywords: &[&str]| {
        out.assert_bad_input(keywords);
        assert_eq!(case.status(&b.id), "running", "after: {out}");
        let now = count(&b.rootfs);
        assert!(next_count(&b.rootfs, now) > now, "it stopped counting");
    };
    let run = |criu: &str, flags: &[&str]| {
        let mut args = vec!["--criu", criu, "checkpoint", "--image-path", images_str];
        args.extend(flags);
        args.push(&b.id);
        case.run(&args)
    };
    // No CRIU, or one too old.
    still_running(run("/nonexistent/criu", &[]), &["cannot run CRIU"]);
    let old = fake_criu(&case, "2.9");
    still_running(run(old.to_str().unwrap(), &[]), &["older than"]);
    // What this kernel cannot do: memory dirty tracking for pre-dumps.
    still_running(run(&criu(), &["--pre-dump"]), &["dirty tracking"]);
    still_running(run(&criu(), &["--empty-ns", "pid"]), &["only the network"]);
    // CRIU failing half-way: no page server where it is told to send the memory.
    let out = run(&criu(), &["--page-server", "127.0.0.1:1"]);
    assert!(out.stderr.contains("CRIU's log:"), "{out}");
    still_running(out, &["CRIU failed to checkpoint"]);

    // A container that is not running.
    let mut created = case.bundle("crcreated");
    created.args(&["sleep", "60"]);
    created.write();
    case.create(&created);
    checkpoint(&case, &created.id, &images, &[]).assert_bad_input(&["created"]);
    assert_eq!(case.status(&created.id), "created");
    case.run(&["delete", "--force", &created.id]).ok();

    // A read-only root without /tmp, which CRIU cannot restore (runc fails later).
    let no_tmp = case.bundle("crnotmp");
    fs::remove_dir_all(no_tmp.rootfs.join("tmp")).unwrap();
    no_tmp.write();
    restore(&case, &no_tmp.dir, &no_tmp.id, &images, &[]).assert_bad_input(&["/tmp"]);
    assert_gone(&case, &no_tmp.id);

    // A restore from images that are not there.
    let fresh = case.new_id("crnoimages");
    let missing = case.dir.join("no-such-images");
    restore(&case, &b.dir, &fresh, &missing, &[]).assert_bad_input(&["image directory"]);
    assert_gone(&case, &fresh);
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// `features` says checkpoint is there (runc's annotation) only when CRIU is.
#[test]
fn features_say_so_only_with_criu() {
    let case = Case::new("cr_features");
    let key = "org.opencontainers.runc.checkpoint.enabled";
    let with = |criu: &str| -> serde_json::Value {
        let out = case.run(&["--criu", criu, "features"]);
        out.ok();
        serde_json::from_str(&out.stdout).unwrap()
    };
    assert_eq!(with(&criu())["annotations"][key], "true");
    assert!(with("/nonexistent/criu")["annotations"].get(key).is_none());
    case.finish();
}
