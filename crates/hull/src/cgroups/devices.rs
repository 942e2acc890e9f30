//! Device access rules: the container's rules in order, then the devices every
//! container may use, exactly runc's list and nothing more. A node from `linux.devices`
//! is only made, not allowed: its access is the rules' business, as in runc. On cgroup
//! v1 the rules go to the `devices` controller after a "deny all"; on v2 they are
//! compiled into an eBPF program (see `ebpf`), where anything unmatched is denied.

use std::path::Path;

use super::{ebpf, write_file, CgroupError};
use crate::config::DeviceRule;

fn allow(kind: char, major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceRule {
    DeviceRule {
        allow: true,
        kind,
        major,
        minor,
        access: access.into(),
    }
}

/// Devices a container may always use (runc's list): mknod of anything (opening is
/// what is controlled), null, zero, full, random, urandom, tty, ptmx, tun and the ptys.
/// Not the host's console (5:1): a terminal is a pty (136:N) bound over /dev/console.
fn always_allowed() -> Vec<DeviceRule> {
    let mut rules = vec![allow('c', None, None, "m"), allow('b', None, None, "m")];
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 2),
        (10, 200),
    ] {
        rules.push(allow('c', Some(major), Some(minor), "rwm"));
    }
    rules.push(allow('c', Some(136), None, "rwm"));
    rules
}

/// The whole list, in order: the configured rules, then the defaults.
pub fn effective_rules(rules: &[DeviceRule]) -> Vec<DeviceRule> {
    rules.iter().cloned().chain(always_allowed()).collect()
}

/// v1: deny everything, then write each rule to `devices.allow` or `devices.deny`.
pub fn apply_v1(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    write_file(&dir.join("devices.deny"), "a")?;
    for rule in rules {
        let file = if rule.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        write_file(&dir.join(file), &rule.to_v1())?;
    }
    Ok(())
}

/// v2: an eBPF program attached to the cgroup.
pub fn apply_v2(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    ebpf::attach(dir, rules).map_err(|source| CgroupError::Write {
        path: dir.into(),
        data: "eBPF device program".into(),
        source,
    })
}
