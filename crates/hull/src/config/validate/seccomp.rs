//! A seccomp profile: one libseccomp compiles (architectures, syscall names,
//! comparisons of the six arguments), and one whose notifications can reach an agent:
//! not as the default action, not for `sendmsg`, and with an absolute listener path.

use super::super::seccomp::{Action, Seccomp};
use super::Result;
use crate::error::ConfigError;

pub(super) fn check(profile: &Seccomp) -> Result<()> {
    let f = "linux.seccomp";
    if profile.default_action == Action::Notify {
        return Err(ConfigError::new(
            format!("{f}.defaultAction"),
            "SCMP_ACT_NOTIFY cannot be the default action",
        ));
    }
    for (i, rule) in profile.syscalls.iter().enumerate() {
        let field = format!("{f}.syscalls[{i}]");
        // The process hands its listener to hull with sendmsg: were that notified too,
        // it would wait for an agent that cannot have the listener yet.
        if rule.action == Action::Notify && rule.names.iter().any(|n| n == "sendmsg") {
            return Err(ConfigError::new(
                format!("{field}.names"),
                "SCMP_ACT_NOTIFY cannot be used for sendmsg, which passes the listener on",
            ));
        }
        if let Some(j) = rule.args.iter().position(|a| a.index > 5) {
            return Err(ConfigError::new(
                format!("{field}.args[{j}].index"),
                "a syscall has 6 arguments (0..5)",
            ));
        }
    }
    match &profile.listener_path {
        None if profile.notifies() => Err(ConfigError::new(
            format!("{f}.listenerPath"),
            "is required when an action is SCMP_ACT_NOTIFY",
        )),
        Some(p) if !p.is_absolute() => Err(ConfigError::new(
            format!("{f}.listenerPath"),
            "must be an absolute path",
        )),
        // Compiled here, so that every other mistake is reported before anything runs.
        _ => crate::seccomp::compile(profile)
            .map(drop)
            .map_err(|e| ConfigError::new(f, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::seccomp::{ArgCompare, CompareOp, SyscallRule};

    fn profile(action: Action, names: &[&str]) -> Seccomp {
        Seccomp {
            default_action: Action::Allow,
            architectures: vec![],
            flags: vec![],
            syscalls: vec![SyscallRule {
                names: names.iter().map(|n| n.to_string()).collect(),
                action,
                args: vec![],
            }],
            listener_path: None,
            listener_metadata: String::new(),
        }
    }

    fn field(p: &Seccomp) -> String {
        check(p).expect_err("refused").field
    }

    #[test]
    fn a_profile_that_compiles() {
        assert!(check(&profile(Action::Errno(1), &["mkdir"])).is_ok());
        let mut flag = profile(Action::Log, &["mkdir"]);
        flag.flags.push("SECCOMP_FILTER_FLAG_NONE".into());
        assert_eq!(field(&flag), "linux.seccomp");
        let mut arch = profile(Action::Log, &["mkdir"]);
        arch.architectures.push("SCMP_ARCH_NONE".into());
        assert_eq!(field(&arch), "linux.seccomp");
    }

    #[test]
    fn six_arguments() {
        let mut p = profile(Action::Errno(1), &["mkdir"]);
        p.syscalls[0].args.push(ArgCompare {
            index: 6,
            value: 0,
            value_two: 0,
            op: CompareOp::Equal,
        });
        assert_eq!(field(&p), "linux.seccomp.syscalls[0].args[0].index");
    }

    #[test]
    fn notifications_reach_an_agent() {
        let mut p = profile(Action::Notify, &["mkdir"]);
        assert_eq!(field(&p), "linux.seccomp.listenerPath");
        p.listener_path = Some("agent.sock".into());
        assert_eq!(field(&p), "linux.seccomp.listenerPath");
        p.listener_path = Some("/run/agent.sock".into());
        assert!(check(&p).is_ok());
        p.syscalls[0].names.push("sendmsg".into());
        assert_eq!(field(&p), "linux.seccomp.syscalls[0].names");
        let mut default = profile(Action::Allow, &["mkdir"]);
        default.default_action = Action::Notify;
        assert_eq!(field(&default), "linux.seccomp.defaultAction");
    }
}
