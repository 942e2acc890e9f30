//! The container's cgroup: a path that stays below the hierarchy's root (no `..`),
//! device rules the device controller takes, and limits in the ranges the controllers
//! take (what [`Resources::validate`] checks for `update` too).

use std::fmt::Display;

use super::super::resources::{Resources, Throttle};
use super::super::scheduling::BitSet;
use super::super::CgroupConfig;
use super::Result;
use crate::error::ConfigError;

pub(super) fn check_cgroup(cgroup: &CgroupConfig) -> Result<()> {
    let up = |p: &std::path::Path| p.components().any(|c| c == std::path::Component::ParentDir);
    if cgroup.path.as_deref().is_some_and(up) {
        return Err(ConfigError::new(
            "linux.cgroupsPath",
            "must not contain \"..\"",
        ));
    }
    for (i, rule) in cgroup.devices.iter().enumerate() {
        let field = |f: &str| format!("linux.resources.devices[{i}].{f}");
        if !matches!(rule.kind, 'a' | 'b' | 'c') {
            return Err(ConfigError::new(
                field("type"),
                format!("{:?} has no device cgroup rules", rule.kind),
            ));
        }
        let access = &rule.access;
        if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
            return Err(ConfigError::new(
                field("access"),
                format!("{access:?} is not some of \"rwm\""),
            ));
        }
        if rule.major.is_some_and(|n| n < 0) || rule.minor.is_some_and(|n| n < 0) {
            return Err(ConfigError::new(
                field("major"),
                "device numbers must not be negative",
            ));
        }
    }
    check(&cgroup.resources)
}

/// Every limit of `r` in its range, each refusal naming its `linux.resources` field.
pub(crate) fn check(r: &Resources) -> Result<()> {
    let f = "linux.resources.memory";
    let m = &r.memory;
    limit(&format!("{f}.limit"), m.limit)?;
    limit(&format!("{f}.reservation"), m.reservation)?;
    limit(&format!("{f}.swap"), m.swap)?;
    limit(&format!("{f}.kernelTCP"), m.kernel_tcp)?;
    in_range(&format!("{f}.swappiness"), m.swappiness, 0, 100)?;
    if let (Some(l), Some(s)) = (m.limit, m.swap) {
        if s != -1 && (l == -1 || s < l) {
            return Err(ConfigError::new(
                format!("{f}.swap"),
                "memory+swap must not be below the memory limit",
            ));
        }
    }
    let f = "linux.resources.cpu";
    let c = &r.cpu;
    for (name, list) in [("cpus", &c.cpus), ("mems", &c.mems)] {
        if let Some(list) = list {
            BitSet::parse_list(list).map_err(|e| ConfigError::new(format!("{f}.{name}"), e))?;
        }
    }
    in_range(&format!("{f}.shares"), c.shares, 2, 262_144)?;
    limit(&format!("{f}.quota"), c.quota)?;
    in_range(&format!("{f}.period"), c.period, 1000, 1_000_000)?;
    in_range(&format!("{f}.idle"), c.idle, 0, 1)?;
    limit("linux.resources.pids.limit", r.pids_limit)?;
    let f = "linux.resources.blockIO";
    let b = &r.block_io;
    in_range(&format!("{f}.weight"), b.weight, 10, 1000)?;
    in_range(&format!("{f}.leafWeight"), b.leaf_weight, 10, 1000)?;
    for d in &b.weight_devices {
        in_range(&format!("{f}.weightDevice"), d.weight, 10, 1000)?;
        in_range(&format!("{f}.weightDevice"), d.leaf_weight, 10, 1000)?;
    }
    for (name, list) in [
        ("throttleReadBpsDevice", &b.throttle_read_bps),
        ("throttleWriteBpsDevice", &b.throttle_write_bps),
        ("throttleReadIOPSDevice", &b.throttle_read_iops),
        ("throttleWriteIOPSDevice", &b.throttle_write_iops),
    ] {
        if list.iter().any(|t: &Throttle| t.major < 0 || t.minor < 0) {
            return Err(ConfigError::new(
                format!("{f}.{name}"),
                "device numbers must not be negative",
            ));
        }
    }
    Ok(())
}

/// A limit is positive, or -1 for "unlimited".
fn limit(field: &str, v: Option<i64>) -> Result<()> {
    match v {
        Some(n) if n != -1 && n <= 0 => Err(ConfigError::new(
            field,
            format!("{n} is not a limit (a positive number, or -1 for none)"),
        )),
        _ => Ok(()),
    }
}

fn in_range<T: PartialOrd + Display>(field: &str, v: Option<T>, lo: T, hi: T) -> Result<()> {
    match v {
        Some(n) if n < lo || n > hi => Err(ConfigError::new(
            field,
            format!("{n} is outside {lo}..{hi}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resources::WeightDevice;
    use crate::config::DeviceRule;

    fn field(r: &Resources) -> String {
        check(r).expect_err("refused").field
    }

    fn cgroup_field(c: &CgroupConfig) -> String {
        check_cgroup(c).expect_err("refused").field
    }

    #[test]
    fn limits_are_positive_or_unlimited() {
        let mut r = Resources::default();
        r.memory.limit = Some(-1);
        r.pids_limit = Some(100);
        assert!(check(&r).is_ok());
        r.memory.reservation = Some(0);
        assert_eq!(field(&r), "linux.resources.memory.reservation");
        r.memory.reservation = None;
        r.cpu.quota = Some(-5);
        assert_eq!(field(&r), "linux.resources.cpu.quota");
        r.cpu.quota = None;
        r.pids_limit = Some(-2);
        assert_eq!(field(&r), "linux.resources.pids.limit");
    }

    #[test]
    fn swap_is_not_below_the_limit() {
        let mut r = Resources::default();
        r.memory.limit = Some(100 << 20);
        r.memory.swap = Some(50 << 20);
        assert_eq!(field(&r), "linux.resources.memory.swap");
        r.memory.swap = Some(-1);
        assert!(check(&r).is_ok());
        r.memory.limit = Some(-1);
        r.memory.swap = Some(50 << 20);
        assert_eq!(field(&r), "linux.resources.memory.swap");
    }

    #[test]
    fn ranges() {
        type Change = fn(&mut Resources);
        let cases: [(&str, Change); 7] = [
            ("memory.swappiness", |r| r.memory.swappiness = Some(101)),
            ("cpu.shares", |r| r.cpu.shares = Some(1)),
            ("cpu.period", |r| r.cpu.period = Some(999)),
            ("cpu.idle", |r| r.cpu.idle = Some(2)),
            ("blockIO.weight", |r| r.block_io.weight = Some(5)),
            ("blockIO.leafWeight", |r| {
                r.block_io.leaf_weight = Some(1001)
            }),
            ("blockIO.weightDevice", |r| {
                r.block_io.weight_devices.push(WeightDevice {
                    major: 8,
                    minor: 0,
                    weight: Some(9),
                    leaf_weight: None,
                })
            }),
        ];
        for (name, change) in cases {
            let mut r = Resources::default();
            change(&mut r);
            assert_eq!(field(&r), format!("linux.resources.{name}"));
        }
    }

    #[test]
    fn cpu_and_node_lists() {
        let mut r = Resources::default();
        r.cpu.cpus = Some("0-3,7".into());
        assert!(check(&r).is_ok());
        r.cpu.mems = Some("1-0".into());
        assert_eq!(field(&r), "linux.resources.cpu.mems");
        r.cpu.mems = None;
        r.cpu.cpus = Some("x".into());
        assert_eq!(field(&r), "linux.resources.cpu.cpus");
    }

    #[test]
    fn throttled_devices_have_device_numbers() {
        let mut r = Resources::default();
        r.block_io.throttle_write_iops.push(Throttle {
            major: -1,
            minor: 0,
            rate: 10,
        });
        assert_eq!(field(&r), "linux.resources.blockIO.throttleWriteIOPSDevice");
    }

    #[test]
    fn the_cgroup_path_stays_below_the_root() {
        let c = CgroupConfig {
            path: Some("/a/../../b".into()),
            ..CgroupConfig::default()
        };
        assert_eq!(cgroup_field(&c), "linux.cgroupsPath");
    }

    #[test]
    fn device_rules() {
        let rule = DeviceRule {
            allow: true,
            kind: 'c',
            major: Some(1),
            minor: None,
            access: "rw".into(),
        };
        let mut c = CgroupConfig {
            devices: vec![rule.clone()],
            ..CgroupConfig::default()
        };
        assert!(check_cgroup(&c).is_ok());
        c.devices[0].access = "rx".into();
        assert_eq!(cgroup_field(&c), "linux.resources.devices[0].access");
        c.devices[0] = DeviceRule {
            kind: 'p',
            ..rule.clone()
        };
        assert_eq!(cgroup_field(&c), "linux.resources.devices[0].type");
        c.devices[0] = DeviceRule {
            minor: Some(-3),
            ..rule
        };
        assert_eq!(cgroup_field(&c), "linux.resources.devices[0].major");
    }

    #[test]
    fn the_limits_of_a_cgroup_are_checked() {
        let mut c = CgroupConfig::default();
        c.resources.memory.swappiness = Some(200);
        assert_eq!(cgroup_field(&c), "linux.resources.memory.swappiness");
    }
}
