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
