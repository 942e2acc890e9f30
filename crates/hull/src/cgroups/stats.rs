//! A container's statistics (the seed's `Stats`), shaped as runc's `events --stats`
//! JSON, and the small readers of cgroup files they are made from.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

fn zero(v: &u64) -> bool {
    *v == 0
}

fn null_if_empty<S: serde::Serializer, T: Serialize>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// A container's statistics, read from its cgroup (and its network namespace): what [`crate::Container::stats`] returns.
pub struct Stats {
    /// CPU time used, and throttling.
    pub cpu: CpuStats,
    /// Memory use and limits.
    pub memory: MemoryStats,
    /// Number of tasks, and their limit.
    pub pids: PidsStats,
    /// Block I/O done.
    pub blkio: BlkioStats,
    /// Huge page use, keyed by page size (`2MB`, `1GB`).
    pub hugetlb: BTreeMap<String, HugetlbStats>,
    /// `null` when there are none, as runc prints it.
    #[serde(serialize_with = "null_if_empty")]
    pub network_interfaces: Vec<NetworkInterface>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// CPU statistics.
pub struct CpuStats {
    /// CPU time used.
    pub usage: CpuUsage,
    /// Time the group was held back by its CPU quota.
    pub throttling: Throttling,
}

/// Nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CpuUsage {
    #[serde(skip_serializing_if = "zero")]
    /// Total CPU time used, in nanoseconds.
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// CPU time used on each CPU, in nanoseconds (cgroup v1).
    pub percpu: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// CPU time used in kernel mode on each CPU, in nanoseconds (cgroup v1).
    pub percpu_kernel: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// CPU time used in user mode on each CPU, in nanoseconds (cgroup v1).
    pub percpu_user: Vec<u64>,
    /// CPU time used in kernel mode, in nanoseconds.
    pub kernel: u64,
    /// CPU time used in user mode, in nanoseconds.
    pub user: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
/// CPU quota enforcement (`cpu.stat`).
pub struct Throttling {
    #[serde(skip_serializing_if = "zero")]
    /// Number of periods elapsed while the group had tasks to run.
    pub periods: u64,
    #[serde(skip_serializing_if = "zero")]
    /// Number of those periods in which the group was throttled.
    pub throttled_periods: u64,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// Memory statistics.
pub struct MemoryStats {
    #[serde(skip_serializing_if = "zero")]
    /// Page cache, in bytes.
    pub cache: u64,
    /// Memory use and limit, in bytes.
    pub usage: MemoryEntry,
    /// Swap use and limit, in bytes (on cgroup v1: memory plus swap).
    pub swap: MemoryEntry,
    /// Kernel memory use and limit, in bytes (cgroup v1).
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    /// Kernel TCP buffer use and limit, in bytes (cgroup v1).
    pub kernel_tcp: MemoryEntry,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    /// Every counter of `memory.stat`, by its name.
    pub raw: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// Use and limit of one kind of memory.
pub struct MemoryEntry {
    /// The limit in bytes; `u64::MAX` (on v1, the kernel's own large number) when unlimited.
    pub limit: u64,
    #[serde(skip_serializing_if = "zero")]
    /// Current use in bytes.
    pub usage: u64,
    #[serde(skip_serializing_if = "zero")]
    /// Highest use seen, in bytes.
    pub max: u64,
    /// How many times the limit was hit.
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// Task statistics.
pub struct PidsStats {
    #[serde(skip_serializing_if = "zero")]
    /// Number of tasks (processes and threads) in the group.
    pub current: u64,
    /// 0 for unlimited.
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
/// Block I/O statistics.
pub struct BlkioStats {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Bytes transferred, per device and operation.
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Operations done, per device and operation.
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// One block I/O counter.
pub struct BlkioEntry {
    /// The device's major number.
    pub major: u64,
    /// The device's minor number.
    pub minor: u64,
    /// The operation (`Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`).
    pub op: String,
    /// The count: bytes or operations, by the list it is in.
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// Huge page statistics for one page size.
pub struct HugetlbStats {
    #[serde(skip_serializing_if = "zero")]
    /// Current use in bytes.
    pub usage: u64,
    #[serde(skip_serializing_if = "zero")]
    /// Highest use seen, in bytes.
    pub max: u64,
    /// How many times an allocation hit the limit.
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// Counters of one network interface of the container's network namespace.
pub struct NetworkInterface {
    /// The interface's name.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Packets to send that were dropped.
    pub tx_dropped: u64,
}

/// A file holding one number; "max" (no limit) reads as 0, as runc reports it.
pub fn read_u64(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    if text == "max" {
        return Some(0);
    }
    text.parse().ok()
}

/// A file of space-separated numbers.
pub fn read_list(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A file of `key value` lines.
pub fn read_flat(path: &Path) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    Some((k.to_string(), v.trim().parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// v1 blkio lines: `8:0 Read 4096` (the `Total` line has no device and is left out).
pub fn read_blkio(path: &Path) -> Vec<BlkioEntry> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let (major, minor) = f.next()?.split_once(':')?;
                    Some(BlkioEntry {
                        major: major.parse().ok()?,
                        minor: minor.parse().ok()?,
                        op: f.next()?.to_string(),
                        value: f.next()?.parse().ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Clock ticks per second, the unit of v1 `cpuacct.stat`.
pub fn clock_ticks() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(n)) if n > 0 => n as u64,
        _ => 100,
    }
}

/// The huge page sizes the kernel offers, as cgroup files name them (`2MB`, `1GB`).
pub fn hugepage_sizes() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/sys/kernel/mm/hugepages") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let kb: u64 = e
                .file_name()
                .to_str()?
                .strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()?;
            Some(match kb {
                kb if kb >= 1 << 20 => format!("{}GB", kb >> 20),
                kb if kb >= 1 << 10 => format!("{}MB", kb >> 10),
                kb => format!("{kb}KB"),
            })
        })
        .collect()
}

/// Interface counters of the network namespace `pid` is in (`/proc/<pid>/net/dev`),
/// without `lo`, as runc reports them.
pub fn network_interfaces(pid: i32) -> Vec<NetworkInterface> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/dev")) else {
        return Vec::new();
    };
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let n: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            (n.len() >= 12).then(|| NetworkInterface {
                name: name.to_string(),
                rx_bytes: n[0],
                rx_packets: n[1],
                rx_errors: n[2],
                rx_dropped: n[3],
                tx_bytes: n[8],
                tx_packets: n[9],
                tx_errors: n[10],
                tx_dropped: n[11],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;

    #[test]
    fn single_numbers_read_max_as_zero_and_anything_else_as_nothing() {
        let dir = Scratch::new("stats-u64");
        assert_eq!(read_u64(&dir.write("n", " 42\n")), Some(42));
        assert_eq!(read_u64(&dir.write("max", "max\n")), Some(0));
        assert_eq!(read_u64(&dir.write("neg", "-1\n")), None);
        assert_eq!(read_u64(&dir.write("text", "12 34\n")), None);
        assert_eq!(read_u64(&dir.join("missing")), None);
    }

    #[test]
    fn lists_and_flat_keyed_files() {
        let dir = Scratch::new("stats-flat");
        assert_eq!(read_list(&dir.write("l", "1 2\n3 x 4\n")), [1, 2, 3, 4]);
        assert!(read_list(&dir.join("missing")).is_empty());
        let flat = read_flat(&dir.write(
            "f",
            "usage_usec 100\nnr_periods 0\nbad line here\nnovalue\nneg -5\n",
        ));
        assert_eq!(flat.len(), 2, "{flat:?}");
        assert_eq!(flat["usage_usec"], 100);
        assert_eq!(flat["nr_periods"], 0);
    }

    #[test]
    fn blkio_lines_need_a_device() {
        let dir = Scratch::new("stats-blkio");
        let entries = read_blkio(&dir.write(
            "b",
            "8:0 Read 10\n8:16 Async 20\n259:0 Total 30\nTotal 60\n8:x Read 1\n8:0 Read\n",
        ));
        let got: Vec<(u64, u64, &str, u64)> = entries
            .iter()
            .map(|e| (e.major, e.minor, e.op.as_str(), e.value))
            .collect();
        assert_eq!(
            got,
            [
                (8, 0, "Read", 10),
                (8, 16, "Async", 20),
                (259, 0, "Total", 30)
            ]
        );
    }

    #[test]
    fn empty_lists_and_zero_counters_are_left_out_of_the_json() {
        let mut s = Stats::default();
        let json = serde_json::to_value(&s).unwrap();
        let usage = &json["cpu"]["usage"];
        assert!(usage.get("percpu").is_none() && usage.get("total").is_none());
        // Always there, zero or not (runc's form).
        assert_eq!(usage.get("kernel"), Some(&serde_json::json!(0)));
        assert_eq!(
            json.get("network_interfaces"),
            Some(&serde_json::Value::Null)
        );
        s.cpu.usage.percpu = vec![1, 2];
        s.cpu.usage.total = 3;
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["cpu"]["usage"]["percpu"], serde_json::json!([1, 2]));
        assert_eq!(json["cpu"]["usage"]["total"], serde_json::json!(3));
    }
}
