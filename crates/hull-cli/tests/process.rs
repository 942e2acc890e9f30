//! The container process, read from inside: rlimits, oom_score_adj, umask, user and groups,
//! cwd, environment, capabilities and no_new_privs.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;

/// The `Key:\tvalue` lines of the container's /proc/self/status (read by `cat`, a child of
/// the init shell, which inherits everything checked here).
fn proc_status(case: &Case, b: &mut Bundle) -> BTreeMap<String, String> {
    b.sh("cat /proc/self/status");
    let out = case.run_container(b);
    out.ok();
    out.stdout
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The five sets from /proc/self/status, in the order bounding, permitted,
/// effective, inheritable, ambient.
#[track_caller]
fn assert_caps(st: &BTreeMap<String, String>, [bnd, prm, eff, inh, amb]: [&String; 5]) {
    for (field, want) in [
        ("CapBnd", bnd),
        ("CapPrm", prm),
        ("CapEff", eff),
        ("CapInh", inh),
        ("CapAmb", amb),
    ] {
        assert_eq!(&st[field], want, "{field}");
    }
}

fn hex(mask: u64) -> String {
    format!("{mask:016x}")
}

#[test]
fn rlimits() {
    let case = Case::new("rlimits");
    let mut b = case.bundle("rlimits");
    b.rlimit("RLIMIT_NOFILE", 321, 654)
        .rlimit("RLIMIT_CORE", 0, 4096)
        .rlimit("RLIMIT_NPROC", 1000, 2000);
    b.sh("echo nofile=$(ulimit -Sn):$(ulimit -Hn); \
         grep -E '^Max (core file size|processes) ' /proc/self/limits | tr -s ' '");
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["nofile"], "321:654", "{out}");
    assert!(
        out.stdout.contains("Max core file size 0 4096 bytes"),
        "{out}"
    );
    assert!(
        out.stdout.contains("Max processes 1000 2000 processes"),
        "{out}"
    );
    case.finish();
}

#[test]
fn oom_score_adj() {
    let case = Case::new("oom_score_adj");
    let mut b = case.bundle("oom");
    b.oom_score_adj(523).sh("cat /proc/self/oom_score_adj");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "523");
    case.finish();
}

#[test]
fn umask() {
    let case = Case::new("umask");
    let mut b = case.bundle("umask");
    b.umask(0o027)
        .sh("umask; touch /tmp/f && stat -c %a /tmp/f");
    b.add_mount(serde_json::json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}));
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.stdout, "0027\n640\n");
    case.finish();
}

/// The default umask is 0022 (runc's).
#[test]
fn umask_default() {
    let case = Case::new("umask_default");
    let mut b = case.bundle("umaskdef");
    b.sh("umask");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "0022");
    case.finish();
}

#[test]
fn user_uid_gid_and_additional_gids() {
    let case = Case::new("user");
    let mut b = case.bundle("user");
    b.user(1000, 1000).additional_gids(&[10, 2000]);
    let st = proc_status(&case, &mut b);
    assert_eq!(st["Uid"], "1000\t1000\t1000\t1000");
    assert_eq!(st["Gid"], "1000\t1000\t1000\t1000");
    let mut groups: Vec<&str> = st["Groups"].split_whitespace().collect();
    groups.sort();
    // Only the configured additional gids: membership in /etc/group (user is in `users`,
    // 100) is not added when a gid is given, and numeric ids are never looked up as names.
    assert_eq!(groups, ["10", "2000"], "Groups: {}", st["Groups"]);
    case.finish();
}

/// Without additionalGids the process has no supplementary groups, whatever /etc/group says.
#[test]
fn user_without_additional_gids() {
    let case = Case::new("user_nogroups");
    let mut b = case.bundle("usernog");
    b.user(1000, 1000);
    let st = proc_status(&case, &mut b);
    assert_eq!(st["Groups"], "", "Groups: {}", st["Groups"]);
    case.finish();
}

/// A uid that /etc/passwd does not know is used as is.
#[test]
fn user_unknown_to_passwd() {
    let case = Case::new("user_unknown");
    let mut b = case.bundle("userunk");
    b.user(4242, 4343);
    b.sh("echo id=$(id -u):$(id -g); echo home=$HOME");
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["id"], "4242:4343");
    // runc sets HOME=/ for a uid without a passwd entry.
    assert_eq!(kv["home"], "/");
    case.finish();
}

#[test]
fn cwd() {
    let case = Case::new("cwd");
    let mut b = case.bundle("cwd");
    b.cwd("/home/user").sh("pwd");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "/home/user");
    case.finish();
}

/// A missing cwd is created (runc does, as the container's user, before the root is made
/// read-only).
#[test]
fn cwd_created_when_missing() {
    let case = Case::new("cwd_missing");
    let mut b = case.bundle("cwdmissing");
    b.cwd("/work/dir").sh("pwd");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "/work/dir");
    assert!(b.rootfs.join("work/dir").is_dir());
    case.finish();
}

#[test]
fn env_is_passed_and_home_defaults_from_passwd() {
    let case = Case::new("env");
    let mut b = case.bundle("env");
    b.env(&["PATH=/bin", "FOO=bar baz", "EMPTY="])
        .sh("env | sort");
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv["FOO"], "bar baz");
    assert_eq!(kv["EMPTY"], "");
    assert_eq!(kv["PATH"], "/bin");
    // HOME comes from /etc/passwd for uid 0.
    assert_eq!(kv["HOME"], "/root", "{out}");
    // runc adds nothing else (no TERM, no HOSTNAME) beyond what the shell itself sets.
    let names: Vec<&str> = kv.keys().map(String::as_str).collect();
    for n in &names {
        assert!(
            ["PATH", "FOO", "EMPTY", "HOME", "PWD", "SHLVL"].contains(n),
            "unexpected variable {n}:\n{out}"
        );
    }
    case.finish();
}

#[test]
fn home_from_passwd_for_user() {
    let case = Case::new("home_user");
    let mut b = case.bundle("homeuser");
    b.user(1000, 1000).sh("echo $HOME");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "/home/user");
    case.finish();
}

/// HOME given in the config wins over /etc/passwd.
#[test]
fn home_from_config_wins() {
    let case = Case::new("home_config");
    let mut b = case.bundle("homecfg");
    b.env(&["PATH=/bin", "HOME=/elsewhere"]).sh("echo $HOME");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "/elsewhere");
    case.finish();
}

/// HOME is "/" when the rootfs has no /etc/passwd at all.
#[test]
fn home_without_passwd_file() {
    let case = Case::new("home_nopasswd");
    let mut b = case.bundle("homenopw");
    std::fs::remove_file(b.rootfs.join("etc/passwd")).unwrap();
    b.sh("echo $HOME");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "/");
    case.finish();
}

/// Root: all five capability sets as configured (bounding = permitted = effective so that
/// the kernel's exec rules for uid 0 keep them), inheritable and ambient empty.
#[test]
fn capabilities_root() {
    let case = Case::new("caps_root");
    let mut b = case.bundle("capsroot");
    let caps = [
        "CAP_CHOWN",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
    ];
    for set in ["bounding", "permitted", "effective"] {
        b.caps(set, &caps);
    }
    let st = proc_status(&case, &mut b);
    let want = hex(cap_mask(&caps));
    assert_caps(&st, [&want, &want, &want, &hex(0), &hex(0)]);
    case.finish();
}

/// The default config (`runc spec`'s capabilities, no inheritable, no ambient).
#[test]
fn capabilities_default_have_no_inheritable_or_ambient() {
    let case = Case::new("caps_default");
    let mut b = case.bundle("capsdef");
    let st = proc_status(&case, &mut b);
    let want = hex(cap_mask(&[
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
    ]));
    assert_caps(&st, [&want, &want, &want, &hex(0), &hex(0)]);
    case.finish();
}

/// Inheritable and ambient when asked: a non-root user keeps exactly its ambient set across
/// exec (the kernel makes permitted = effective = ambient for a uid-1000 exec without file
/// capabilities).
#[test]
fn capabilities_inheritable_and_ambient_for_user() {
    let case = Case::new("caps_ambient");
    let mut b = case.bundle("capsamb");
    let all = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"];
    let amb = ["CAP_NET_BIND_SERVICE"];
    b.user(1000, 1000);
    for set in ["bounding", "permitted", "effective"] {
        b.caps(set, &all);
    }
    b.caps("inheritable", &amb).caps("ambient", &amb);
    let st = proc_status(&case, &mut b);
    let amb = hex(cap_mask(&amb));
    assert_caps(&st, [&hex(cap_mask(&all)), &amb, &amb, &amb, &amb]);
    case.finish();
}

/// A non-root user without ambient capabilities ends up with none permitted or effective.
#[test]
fn capabilities_user_without_ambient() {
    let case = Case::new("caps_user");
    let mut b = case.bundle("capsuser");
    let all = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
    b.user(1000, 1000);
    for set in ["bounding", "permitted", "effective"] {
        b.caps(set, &all);
    }
    let st = proc_status(&case, &mut b);
    assert_eq!(st["CapBnd"], hex(cap_mask(&all)));
    for k in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(st[k], hex(0), "{k}");
    }
    case.finish();
}

/// Ambient capabilities that are not also inheritable cannot be raised (the kernel refuses);
/// runc ignores that failure and the process starts with an empty ambient set.
#[test]
fn capabilities_ambient_without_inheritable_is_empty() {
    let case = Case::new("caps_amb_noinh");
    let mut b = case.bundle("capsambnoinh");
    b.caps("ambient", &["CAP_KILL"]);
    let st = proc_status(&case, &mut b);
    assert_eq!(st["CapInh"], hex(0));
    assert_eq!(st["CapAmb"], hex(0));
    case.finish();
}

#[test]
fn no_new_privileges() {
    let case = Case::new("nnp");
    let mut b = case.bundle("nnp_on");
    b.no_new_privileges(true);
    assert_eq!(proc_status(&case, &mut b)["NoNewPrivs"], "1");
    let mut b = case.bundle("nnp_off");
    b.no_new_privileges(false);
    assert_eq!(proc_status(&case, &mut b)["NoNewPrivs"], "0");
    case.finish();
}

/// Every capability asked for: granted when the runtime holds them all; where it does
/// not (this sandbox withholds CAP_SYS_RESOURCE), one error line naming the ones it
/// lacks (it printed a raw `CapSets { effective: 274877906943, ... }` before).
#[test]
fn capabilities_the_runtime_lacks_are_named() {
    let case = Case::new("caps_lacking");
    let mut b = case.bundle("capslacking");
    let last: usize = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let all: Vec<&str> = CAPS[..=last.min(CAPS.len() - 1)].to_vec();
    for set in ["bounding", "effective", "permitted"] {
        b.caps(set, &all);
    }
    b.args(&["true"]);
    let held = fs::read_to_string("/proc/self/status").unwrap();
    let bounding = held
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    let lacking: Vec<&str> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| bounding & (1 << i) == 0)
        .map(|(_, n)| *n)
        .collect();
    let out = case.run_container(&b);
    if lacking.is_empty() {
        out.ok();
    } else {
        out.assert_bad_input(&["capabilit", "caps"]);
        if is_hull() {
            for cap in &lacking {
                assert!(out.stderr.contains(cap), "{cap} not named:\n{out}");
            }
        }
    }
    case.finish();
}
