//! Device access rules: the container's rules in order, then the devices every
//! container may use, exactly runc's list and nothing more. A node from `linux.devices`
//! is only made, not allowed: its access is the rules' business, as in runc. On cgroup
//! v1 the rules go to the `devices` controller after a "deny all"; on v2 they are
//! compiled into an eBPF program (see `ebpf`), where anything unmatched is denied.

use std::path::Path;

use super::{ebpf, CgroupError};
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

/// v1: deny everything, then write each rule to `devices.allow` or `devices.deny`:
/// one open of each file, each rule its own write (the kernel takes one per write).
pub fn apply_v1(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let deny = RuleFile::open(dir, "devices.deny")?;
    deny.write("a")?;
    let mut allow = None;
    for rule in rules {
        let file = match rule.allow {
            false => &deny,
            true => match &mut allow {
                Some(file) => file,
                none => none.insert(RuleFile::open(dir, "devices.allow")?),
            },
        };
        file.write(&rule.to_v1())?;
    }
    Ok(())
}

/// `devices.allow` or `devices.deny`, open for writing rules.
struct RuleFile {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl RuleFile {
    fn open(dir: &Path, name: &str) -> Result<RuleFile, CgroupError> {
        let path = dir.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map(|file| RuleFile {
                path: path.clone(),
                file,
            })
            .map_err(|source| CgroupError::Write {
                data: String::new(),
                path,
                source,
            })
    }

    /// One rule, written at the start as a fresh open would (cgroup files ignore the
    /// offset; a plain file in a test sees each rule replace the last).
    fn write(&self, rule: &str) -> Result<(), CgroupError> {
        std::os::unix::fs::FileExt::write_all_at(&self.file, rule.as_bytes(), 0).map_err(|source| {
            CgroupError::Write {
                path: self.path.clone(),
                data: rule.into(),
                source,
            }
        })
    }
}

/// v2: an eBPF program attached to the cgroup.
pub fn apply_v2(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    ebpf::attach(dir, rules).map_err(|source| CgroupError::Write {
        path: dir.into(),
        data: "eBPF device program".into(),
        source,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A device rule, briefly (also for the eBPF program's tests).
    pub(crate) fn rule(
        allow: bool,
        kind: char,
        major: Option<i64>,
        minor: Option<i64>,
        access: &str,
    ) -> DeviceRule {
        DeviceRule {
            allow,
            kind,
            major,
            minor,
            access: access.into(),
        }
    }

    #[test]
    fn the_configured_rules_come_first_then_runcs_defaults() {
        let configured = [
            rule(false, 'a', None, None, "rwm"),
            rule(true, 'c', Some(10), Some(229), "rw"),
        ];
        let all = effective_rules(&configured);
        assert_eq!(all[..2], configured);
        let lines: Vec<String> = all[2..].iter().map(DeviceRule::to_v1).collect();
        assert_eq!(
            lines,
            [
                "c *:* m",
                "b *:* m",
                "c 1:3 rwm",
                "c 1:5 rwm",
                "c 1:7 rwm",
                "c 1:8 rwm",
                "c 1:9 rwm",
                "c 5:0 rwm",
                "c 5:2 rwm",
                "c 10:200 rwm",
                "c 136:* rwm",
            ]
        );
        assert!(all[2..].iter().all(|r| r.allow));
        // Never the host's console.
        assert!(!all.iter().any(|r| r.major == Some(5) && r.minor == Some(1)));
    }

    #[test]
    fn rules_are_written_as_the_v1_files_take_them() {
        assert_eq!(rule(true, 'b', Some(8), None, "r").to_v1(), "b 8:* r");
        assert_eq!(rule(false, 'c', None, Some(3), "w").to_v1(), "c *:3 w");
        // `a` is every device and every access, numbers or not.
        assert_eq!(rule(false, 'a', Some(1), Some(2), "r").to_v1(), "a");
    }

    #[test]
    fn v1_denies_everything_then_writes_each_rule_to_its_file() {
        let dir = crate::test_util::Scratch::new("devices-v1");
        // Each write starts at the beginning of the file (cgroup files are not
        // truncated): here the later, longer lines cover the earlier ones.
        dir.write("devices.allow", "");
        dir.write("devices.deny", "");
        apply_v1(dir.path(), &[rule(true, 'c', Some(1), Some(3), "rwm")]).unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("devices.deny"), "a");
        assert_eq!(read("devices.allow"), "c 1:3 rwm");
        apply_v1(
            dir.path(),
            &[
                rule(true, 'c', Some(1), Some(3), "rwm"),
                rule(false, 'c', Some(1), Some(3), "w"),
            ],
        )
        .unwrap();
        assert_eq!(read("devices.deny"), "c 1:3 w");
        // Without the controller's files: an error, not files made.
        let empty = crate::test_util::Scratch::new("devices-v1-none");
        assert!(apply_v1(empty.path(), &[]).is_err());
        assert!(!empty.join("devices.deny").exists());
    }
}
