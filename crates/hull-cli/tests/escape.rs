//! Regression tests that attack hull the way runc CVEs attacked runc.

mod common;

use common::*;
use std::io::Write;

/// CVE-2019-5736: while a created container's init still runs hull's code, its
/// /proc/<pid>/exe leads to the runtime binary. A handle opened then must not allow a
/// write once the container runs (the original attack reopened it for writing after
/// the runtime had exited). hull re-execs from a read-only view of itself (or a sealed
/// copy) before it makes init.
/// Seen failing with the re-exec disabled in main.rs: the write went through and
/// overwrote the start of the hull binary on the host.
#[test]
fn the_runtime_binary_cannot_be_overwritten_through_init() {
    if !is_hull() {
        return;
    }
    let case = Case::new("exe_overwrite");
    let mut b = case.bundle("exeoverwrite");
    b.args(&["sleep", "60"]);
    case.create(&b);
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    // What an attacker sharing the pid namespace (with CAP_SYS_PTRACE) could open.
    let exe = std::fs::File::open(format!("/proc/{pid}/exe")).unwrap();
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let reopened = std::fs::OpenOptions::new().write(true).open(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&exe)
    ));
    let written = reopened.and_then(|mut f| f.write_all(b"OVERWRITTEN"));
    assert!(
        written.is_err(),
        "the runtime binary was writable through init's exe"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// CVE-2024-21626: no descriptor of the runtime reaches the container. The program
/// sees only stdio (0-2) and the directory `ls` itself opens, in init and in exec.
#[test]
fn no_runtime_descriptor_reaches_the_container() {
    let case = Case::new("fd_leak");
    let mut b = case.bundle("fdleak");
    b.sh("ls /proc/self/fd | tr '\\n' ' '; echo; sleep 60");
    // Init's output goes where create's stdout went.
    let created = case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let exec = case.run(&["exec", &b.id, "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '"]);
    exec.ok();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let init_line = created
        .reread_stdout()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(!init_line.is_empty(), "init printed nothing");
    for (who, line) in [("init", init_line), ("exec", exec.out().to_string())] {
        let fds: Vec<u32> = line
            .split_whitespace()
            .map(|f| f.parse().unwrap())
            .collect();
        // 0-2, and the one `ls` opened to read /proc/self/fd.
        assert!(
            fds.len() <= 4 && fds.iter().all(|&f| f <= 3),
            "{who} holds {fds:?}"
        );
    }
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// CVE-2024-21626: a working directory through a descriptor (/proc/self/fd/N) must
/// never take the process outside the container, in run or in exec.
#[test]
fn cwd_through_proc_self_fd_is_refused() {
    let case = Case::new("cwd_fd");
    for n in 3..20 {
        let mut b = case.bundle(&format!("cwdfd{n}"));
        b.set(
            "/process/cwd",
            serde_json::json!(format!("/proc/self/fd/{n}")),
        );
        b.args(&["true"]);
        let out = case.run_container(&b);
        assert_ne!(out.code, 0, "cwd /proc/self/fd/{n} was accepted:\n{out}");
    }
    let mut b = case.bundle("cwdfdexec");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    for n in 3..20 {
        let out = case.run(&["exec", "--cwd", &format!("/proc/self/fd/{n}"), &b.id, "pwd"]);
        assert_ne!(
            out.code, 0,
            "exec --cwd /proc/self/fd/{n} was accepted:\n{out}"
        );
    }
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// CVE-2019-19921 class: with something else than procfs at /proc (here the image's
/// own directory, holding a fake `sys/kernel/shmmax`), a sysctl is never written
/// through it: hull writes through the procfs it opened before it built the
/// container's mounts, so the value lands in the container's IPC namespace (read from
/// the host with nsenter) and the fake file stays as it was.
/// Seen failing with sysctls written through the container's /proc (before, hull
/// refused such a container; with the procfs check taken out, the fake file changed).
#[test]
fn sysctls_never_go_through_the_containers_proc() {
    if !is_hull() {
        return;
    }
    let case = Case::new("fake_proc");
    let mut b = case.bundle("fakeproc");
    b.remove_mount("/proc");
    b.file("/proc/sys/kernel/shmmax", "fake\n");
    b.set("/linux/maskedPaths", serde_json::json!([]));
    b.set("/linux/readonlyPaths", serde_json::json!([]));
    b.sysctl("kernel.shmmax", "4096");
    b.args(&["sleep", "60"]);
    case.create(&b);
    let pid = case.state(&b.id)["pid"].as_i64().unwrap();
    let inside = std::process::Command::new("nsenter")
        .args([
            "-t",
            &pid.to_string(),
            "-i",
            "cat",
            "/proc/sys/kernel/shmmax",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inside.stdout), "4096\n");
    let fake = std::fs::read_to_string(b.rootfs.join("proc/sys/kernel/shmmax")).unwrap();
    assert_eq!(fake, "fake\n");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}
