//! seccomp: a profile's rules read back from inside (errno, kill, argument
//! comparisons, masked equality), a real engine profile (podman's), exec'd processes
//! under the same filter, and profiles that are wrong refused with the field named.

mod common;

use common::*;
use serde_json::{json, Value};

fn profile(syscalls: Value) -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
        "syscalls": syscalls
    })
}

#[test]
fn rules_are_enforced_inside() {
    let case = Case::new("seccomp_rules");
    let mut b = case.bundle("seccomprules");
    b.set("/root/readonly", json!(false));
    b.set(
        "/linux/seccomp",
        profile(json!([
            { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
            { "names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{ "index": 1, "value": 0, "op": "SCMP_CMP_EQ" }] },
            { "names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "args": [{ "index": 0, "value": 255, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }] },
            { "names": ["no_such_syscall_here"], "action": "SCMP_ACT_ERRNO" }
        ])),
    );
    b.sh("mkdir /tmp/x 2>/dev/null; echo mkdir=$?; \
          kill -0 $$ 2>/dev/null; echo kill0=$?; kill -CONT $$; echo kill_cont=$?; \
          grep -E '^Seccomp:' /proc/self/status | tr -d '\\t'");
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["mkdir"], "1", "mkdir was allowed:\n{out}");
    assert_eq!(kv["kill0"], "1", "kill with signal 0 was allowed:\n{out}");
    assert_eq!(
        kv["kill_cont"], "0",
        "kill with another signal was refused:\n{out}"
    );
    assert_eq!(out.out().lines().last(), Some("Seccomp:2"), "{out}");
    case.finish();
}

#[test]
fn a_killing_rule_kills_with_sigsys() {
    let case = Case::new("seccomp_kill");
    let mut b = case.bundle("seccompkill");
    b.set(
        "/linux/seccomp",
        profile(json!([{ "names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS" }])),
    );
    b.args(&["uname"]);
    let out = case.run_container(&b);
    assert_eq!(out.code, 128 + 31, "not killed by SIGSYS:\n{out}");
    case.finish();
}

#[test]
fn podmans_default_profile_loads_and_applies_to_exec_too() {
    let path = "/usr/share/containers/seccomp.json";
    let text = std::fs::read_to_string(path).expect("golang-github-containers-common is installed");
    let case = Case::new("seccomp_podman");
    let mut b = case.bundle("seccomppodman");
    b.set("/linux/seccomp", serde_json::from_str(&text).unwrap());
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let out = case.run(&["exec", &b.id, "sh", "-c", "grep -E '^Seccomp:' /proc/self/status | tr -d '\\t'; mount -t tmpfs t /mnt 2>/dev/null; echo mount=$?"]);
    out.ok();
    let lines: Vec<&str> = out.out().lines().collect();
    assert_eq!(lines[0], "Seccomp:2", "{out}");
    assert_ne!(
        lines[1], "mount=0",
        "mount was allowed under podman's profile:\n{out}"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn a_wrong_profile_is_refused_with_the_field() {
    let case = Case::new("seccomp_bad");
    let mut b = case.bundle("seccompbad");
    b.set(
        "/linux/seccomp",
        profile(json!([{ "names": ["mkdir"], "action": "SCMP_ACT_BOGUS" }])),
    );
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    out.assert_bad_input(&["seccomp", "SCMP_ACT_BOGUS"]);
    case.assert_no_leaks();
    case.finish();
}
