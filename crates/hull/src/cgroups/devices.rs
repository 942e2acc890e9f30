//! Device access rules on the cgroup v1 `devices` controller: the container's rules in
//! order, then the devices every container may use (as runc allows them).

use std::path::Path;

use super::{write_file, CgroupError};
use crate::config::DeviceRule;

/// Devices a container may always use: mknod of anything (opening is what is
/// controlled), the standard nodes, ptys and /dev/net/tun.
const ALWAYS_ALLOWED: [&str; 11] = [
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",
    "c 5:0 rwm",
    "c 5:1 rwm",
    "c 5:2 rwm",
    "c 136:* rwm",
];

/// Denies every device in the v1 devices cgroup at `dir`, then applies `rules` in order,
/// the defaults, and an allow rule for each device node the container gets. As with
/// runc, a container without rules still gets only the defaults.
pub fn apply_v1(dir: &Path, rules: &[DeviceRule], devices: &[String]) -> Result<(), CgroupError> {
    write_file(&dir.join("devices.deny"), "a")?;
    for rule in rules {
        let file = if rule.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        write_file(&dir.join(file), &rule.to_v1())?;
    }
    for rule in ALWAYS_ALLOWED
        .iter()
        .copied()
        .chain(devices.iter().map(String::as_str))
    {
        write_file(&dir.join("devices.allow"), rule)?;
    }
    Ok(())
}
