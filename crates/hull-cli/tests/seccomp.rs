//! seccomp: a profile's rules read back from inside (errno, kill, argument
//! comparisons, masked equality), a real engine profile (podman's), exec'd processes
//! under the same filter, syscalls handed to a seccomp agent (SCMP_ACT_NOTIFY), and
//! profiles that are wrong refused with the field named.

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

/// A seccomp agent, as an engine runs one: it accepts the runtime's connections on
/// `socket`, keeps the container process state each one carries, and answers every
/// notified syscall of that process with EXDEV, an errno no rule and no real mkdir
/// would give.
struct Agent {
    states: std::sync::mpsc::Receiver<Value>,
}

const EXDEV: i32 = 18;

impl Agent {
    fn listen(socket: &std::path::Path) -> Agent {
        let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
        let (tx, states) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            let (message, fd) = accept_fd(&listener);
            let state: Value = serde_json::from_slice(&message).unwrap();
            if tx.send(state).is_err() {
                return;
            }
            std::thread::spawn(move || answer_with_exdev(fd));
        });
        Agent { states }
    }

    /// The next connection's container process state.
    fn next_state(&self) -> Value {
        self.states
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the runtime never connected to the seccomp agent")
    }
}

/// Answers the listener's notifications until its processes are gone.
fn answer_with_exdev(listener: std::os::fd::OwnedFd) {
    use std::os::fd::AsRawFd;
    // _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
    const NOTIF_RECV: libc::c_ulong = 0xc050_2100;
    const NOTIF_SEND: libc::c_ulong = 0xc018_2101;
    loop {
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 30_000) } <= 0 || pfd.revents & libc::POLLIN == 0 {
            return;
        }
        // struct seccomp_notif: id u64, pid u32, flags u32, then seccomp_data.
        let mut notif = [0u64; 10];
        // SAFETY: an 80-byte zeroed buffer, the size the request encodes.
        if unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_RECV, notif.as_mut_ptr()) } < 0 {
            continue;
        }
        // struct seccomp_notif_resp: id u64, val i64, error i32, flags u32.
        let resp: [u64; 3] = [notif[0], 0, (-EXDEV) as u32 as u64];
        // SAFETY: a 24-byte response, the size the request encodes.
        unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_SEND, resp.as_ptr()) };
    }
}

/// mkdir handed to an agent, for init and for an exec'd process: each one's listener
/// arrives with the state runc sends (`fds`, `pid`, `metadata`, the container's state),
/// and the errno the agent chose is what the process sees. Seen failing with the agent
/// answering nothing: the process then hangs in mkdir and the test times out; and
/// before hull handled SCMP_ACT_NOTIFY, create refused the profile.
#[test]
fn notified_syscalls_are_answered_by_the_agent() {
    let case = Case::new("seccomp_notify");
    let socket = case.dir.join("agent.sock");
    let agent = Agent::listen(&socket);
    let mut b = case.bundle("seccompnotify");
    b.set("/root/readonly", json!(false));
    let mut seccomp = profile(json!([
        { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY" }
    ]));
    seccomp["listenerPath"] = json!(socket);
    seccomp["listenerMetadata"] = json!("hello agent");
    b.set("/linux/seccomp", seccomp);
    b.sh("mkdir /tmp/by-init 2>/tmp/init.err; sleep 60");
    case.create(&b);
    let init_pid = case.state(&b.id)["pid"].as_i64().unwrap();
    let first = agent.next_state();
    assert_eq!(first["fds"], json!(["seccompFd"]), "{first}");
    assert_eq!(first["metadata"], "hello agent", "{first}");
    assert_eq!(first["pid"], init_pid, "{first}");
    assert_eq!(first["state"]["id"], b.id.as_str(), "{first}");
    assert_eq!(first["state"]["pid"], init_pid, "{first}");
    assert_eq!(first["state"]["status"], "creating", "{first}");
    assert!(first["ociVersion"].is_string(), "{first}");
    case.start(&b.id);
    let out = case.run(&[
        "exec",
        &b.id,
        "sh",
        "-c",
        "while [ ! -s /tmp/init.err ]; do sleep 0.05; done; cat /tmp/init.err; \
         mkdir /tmp/by-exec 2>&1; echo rc=$?; ls -d /tmp/by-* 2>&1; true",
    ]);
    out.ok();
    let second = agent.next_state();
    assert_eq!(second["state"]["status"], "running", "{second}");
    assert_eq!(second["state"]["pid"], init_pid, "{second}");
    assert_ne!(second["pid"], init_pid, "{second}");
    let lines: Vec<&str> = out.out().lines().collect();
    assert!(lines[0].contains("cross-device"), "init's mkdir:\n{out}");
    assert!(lines[1].contains("cross-device"), "exec's mkdir:\n{out}");
    assert_eq!(lines[2], "rc=1", "{out}");
    assert!(
        lines[3].contains("No such file"),
        "a directory was made:\n{out}"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// What runc refuses too, and what hull needs to hand the listener over.
#[test]
fn notify_profiles_that_cannot_work_are_refused() {
    let case = Case::new("seccomp_notify_bad");
    let notify = |names: Value| json!([{ "names": names, "action": "SCMP_ACT_NOTIFY" }]);
    case.assert_config_refused(
        "nolistener",
        "/linux/seccomp",
        profile(notify(json!(["mkdir"]))),
        &["listenerPath"],
    );
    let mut default_notify = profile(json!([]));
    default_notify["defaultAction"] = json!("SCMP_ACT_NOTIFY");
    default_notify["listenerPath"] = json!("/tmp/agent.sock");
    case.assert_config_refused(
        "defnotify",
        "/linux/seccomp",
        default_notify,
        &["defaultAction", "default action"],
    );
    if is_hull() {
        let mut sendmsg = profile(notify(json!(["sendmsg"])));
        sendmsg["listenerPath"] = json!("/tmp/agent.sock");
        case.assert_config_refused("sendmsg", "/linux/seccomp", sendmsg, &["sendmsg"]);
        let mut relative = profile(notify(json!(["mkdir"])));
        relative["listenerPath"] = json!("agent.sock");
        case.assert_config_refused("relative", "/linux/seccomp", relative, &["absolute"]);
    }
    case.finish();
}

/// An agent that is not there: one clear error naming the socket, and nothing left.
#[test]
fn a_missing_agent_fails_create_cleanly() {
    let case = Case::new("seccomp_no_agent");
    let mut b = case.bundle("seccompnoagent");
    let socket = case.dir.join("nobody.sock");
    let mut seccomp = profile(json!([{ "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" }]));
    seccomp["listenerPath"] = json!(socket);
    b.set("/linux/seccomp", seccomp);
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    out.assert_failed_with(1, &["nobody.sock"]);
    case.assert_no_leaks();
    case.finish();
}

/// The four flags a profile may set, with and without a notify rule (the kernel takes
/// WAIT_KILLABLE_RECV only with a listener, and TSYNC with a listener only with
/// TSYNC_ESRCH). Seen failing before hull dropped WAIT_KILLABLE_RECV from a profile
/// without notify rules: "load the seccomp filter: Invalid argument". runc 1.1.5
/// refuses every flag ("seccomp flags are not yet supported by runc"), so this runs on
/// hull only.
#[test]
fn every_flag_is_accepted_with_and_without_an_agent() {
    if !is_hull() {
        return;
    }
    let case = Case::new("seccomp_flags");
    let socket = case.dir.join("agent.sock");
    let agent = Agent::listen(&socket);
    for (label, action) in [
        ("flagerrno", "SCMP_ACT_ERRNO"),
        ("flagnotify", "SCMP_ACT_NOTIFY"),
    ] {
        let mut b = case.bundle(label);
        b.set("/root/readonly", json!(false));
        let mut seccomp = profile(json!([{ "names": ["mkdir", "mkdirat"], "action": action }]));
        seccomp["flags"] = json!([
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
        ]);
        seccomp["listenerPath"] = json!(socket);
        b.set("/linux/seccomp", seccomp);
        b.sh("mkdir /tmp/x 2>&1; echo rc=$?");
        let out = case.run_container(&b);
        out.ok();
        let expected = if action == "SCMP_ACT_ERRNO" {
            "Operation not permitted"
        } else {
            agent.next_state();
            "cross-device"
        };
        assert!(out.out().contains(expected), "{label}:\n{out}");
    }
    case.finish();
}

/// ENOSYS, read from inside: podman's allowed syscalls cut off below setns, with a
/// default of EPERM. unshare (listed nowhere, older than the cut) gets EPERM; setns
/// (newer than everything the profile names) gets ENOSYS. Seen failing without hull's
/// prologue: nsenter said "Operation not permitted". It also shows hull's own last
/// steps under a profile older than close_range: seen failing with "close_range:
/// Function not implemented" before they fell back to fcntl.
#[test]
fn syscalls_newer_than_the_profile_get_enosys_inside() {
    let text = std::fs::read_to_string("/usr/share/containers/seccomp.json").unwrap();
    let podman: Value = serde_json::from_str(&text).unwrap();
    let nr = |name: &str| libseccomp::ScmpSyscall::from_name(name).map_or(-1, i32::from);
    let cut = nr("setns");
    let allowed: Vec<&str> = podman["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rule| rule["action"] == "SCMP_ACT_ALLOW")
        .flat_map(|rule| rule["names"].as_array().unwrap())
        .filter_map(Value::as_str)
        .filter(|name| (0..cut).contains(&nr(name)) && *name != "unshare")
        .collect();
    let case = Case::new("seccomp_enosys");
    let mut b = case.bundle("seccompenosys");
    b.set(
        "/linux/seccomp",
        profile(json!([{ "names": allowed, "action": "SCMP_ACT_ALLOW" }])),
    );
    // Listing the native architecture matters to runc 1.1.5, which leaves it out of its
    // prologue otherwise (and answers EPERM); hull always covers it.
    b.set("/linux/seccomp/defaultAction", json!("SCMP_ACT_ERRNO"));
    b.sh("unshare -u true 2>&1; nsenter -t 1 -u true 2>&1; true");
    let out = case.run_container(&b);
    out.ok();
    let lines: Vec<&str> = out.out().lines().collect();
    assert!(
        lines[0].contains("Operation not permitted"),
        "unshare:\n{out}"
    );
    assert!(
        lines[1].contains("Function not implemented"),
        "setns:\n{out}"
    );
    case.finish();
}

/// A profile may refuse what hull's own last steps would use: getcwd here (runtime-tools'
/// linux_seccomp). hull checks the working directory before the filter goes on, so the
/// program still runs. Seen failing before: "cwd / is outside the container" (runc
/// 1.1.5 fails it too).
#[test]
fn a_profile_refusing_getcwd_still_runs() {
    let case = Case::new("seccomp_getcwd");
    let mut b = case.bundle("seccompgetcwd");
    b.set(
        "/linux/seccomp",
        profile(json!([{ "names": ["getcwd"], "action": "SCMP_ACT_ERRNO" }])),
    );
    b.set("/process/cwd", json!("/tmp"));
    b.sh("echo ran in $PWD");
    let out = case.run_container(&b);
    if is_hull() {
        out.ok();
        // The shell learns its directory through getcwd: refused, so $PWD stays empty.
        assert_eq!(out.out(), "ran in", "{out}");
    }
    case.finish();
}

/// The syscalls busybox's `echo` makes (strace), and `execve`: what a profile recorder
/// would allow for it.
const ECHO_SYSCALLS: [&str; 16] = [
    "execve",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "prlimit64",
    "getrandom",
    "mprotect",
    "brk",
    "readlink",
    "getuid",
    "prctl",
    "write",
    "exit_group",
    "exit",
    "rt_sigreturn",
];

/// A strict allow-list (everything else ERRNO) of just the program's own syscalls:
/// with noNewPrivileges the filter goes on right before `execve`, after every step of
/// the runtime (sync with the parent, exec.fifo, hooks), in init and in exec, as runc
/// means to (before, init failed with "sync channel: Operation not permitted"; runc
/// 1.1.5 fails too here: "container process is already dead", its Go runtime still
/// makes syscalls of its own after the filter).
#[test]
fn a_profile_of_only_the_programs_syscalls_runs_it() {
    let case = Case::new("seccomp_strict");
    let mut b = case.bundle("strict");
    b.set("/process/noNewPrivileges", json!(true));
    b.set(
        "/linux/seccomp",
        json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{ "names": ECHO_SYSCALLS, "action": "SCMP_ACT_ALLOW" }]
        }),
    );
    b.args(&["echo", "allowed"]);
    b.set(
        "/hooks",
        json!({"startContainer": [{"path": "/bin/true", "args": ["true"]}]}),
    );
    let out = case.run_container(&b);
    assert_eq!(out.ok().out(), "allowed");

    // exec, into a container under the same profile.
    let mut waiting = case.bundle("strictexec");
    waiting.set("/process/noNewPrivileges", json!(true));
    waiting.set(
        "/linux/seccomp",
        json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{ "names": ECHO_SYSCALLS, "action": "SCMP_ACT_ALLOW" }]
        }),
    );
    waiting.args(&["echo", "init"]);
    case.create(&waiting);
    let exec = case.run(&["exec", "--no-new-privs", &waiting.id, "echo", "exec"]);
    assert_eq!(exec.ok().out(), "exec");
    case.run(&["delete", "--force", &waiting.id]).ok();
    case.finish();
}
