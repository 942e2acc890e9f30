//! Device access rules: the container's rules in order, then the devices every
//! container may use (as runc allows them) and one allow rule per device node it gets.
//! On cgroup v1 they go to the `devices` controller after a "deny all"; on v2 they are
//! compiled into an eBPF program (see `ebpf`), where anything unmatched is denied.

use std::path::Path;

use super::{ebpf, write_file, CgroupError};
use crate::config::{Device, DeviceRule};

fn allow(kind: char, major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceRule {
    DeviceRule {
        allow: true,
        kind,
        major,
        minor,
        access: access.into(),
    }
}

/// Devices a container may always use: mknod of anything (opening is what is
/// controlled), null, zero, full, random, urandom, tty, console, ptmx and the ptys.
fn always_allowed() -> Vec<DeviceRule> {
    let mut rules = vec![allow('c', None, None, "m"), allow('b', None, None, "m")];
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
    ] {
        rules.push(allow('c', Some(major), Some(minor), "rwm"));
    }
    rules.push(allow('c', Some(136), None, "rwm"));
    rules
}

/// The whole list, in order: configured rules, defaults, configured device nodes.
pub fn effective_rules(rules: &[DeviceRule], nodes: &[Device]) -> Vec<DeviceRule> {
    let nodes = nodes.iter().filter_map(|d| {
        let kind = match d.kind {
            libc::S_IFCHR => 'c',
            libc::S_IFBLK => 'b',
            _ => return None,
        };
        Some(allow(
            kind,
            Some(d.major as i64),
            Some(d.minor as i64),
            "rwm",
        ))
    });
    rules
        .iter()
        .cloned()
        .chain(always_allowed())
        .chain(nodes)
        .collect()
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
