//! The cgroup v2 driver: one directory in the unified hierarchy. Turns [`Resources`]
//! into v2 files, converting what v2 spells differently as runc does (shares to weight,
//! memory+swap to swap alone, blkio weight to io weight), enables the controllers it
//! needs in the parents' `cgroup.subtree_control`, and reads the v2 statistics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::apply::Write;
use super::stats::{self, BlkioEntry, HugetlbStats, MemoryEntry, MemoryStats, Stats};
use super::CgroupError;
use crate::config::resources::{Rdma, Resources};

/// v1 `cpu.shares` (2..262144) to v2 `cpu.weight` (1..10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}

/// v1 blkio weight (10..1000) to v2 io weight (1..10000).
pub fn blkio_weight_to_io(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (u64::from(weight).saturating_sub(10) * 9999) / 990
}

/// OCI's memory+swap limit to v2's swap-only `memory.swap.max`.
fn swap_max(swap: i64, limit: Option<i64>) -> Result<String, CgroupError> {
    let bad = |why: &str| CgroupError::NotSupported {
        field: "linux.resources.memory.swap",
        why: why.into(),
    };
    match (swap, limit) {
        (-1, _) => Ok("max".into()),
        (_, None) | (_, Some(-1)) | (_, Some(0)) => Err(bad(
            "cgroup v2 needs a memory limit to derive the swap limit from",
        )),
        (s, Some(l)) if s < l => Err(bad("memory+swap must not be below the memory limit")),
        (s, Some(l)) => Ok((s - l).to_string()),
    }
}

pub fn rdma_line(device: &str, l: &Rdma) -> String {
    let mut line = device.to_string();
    if let Some(h) = l.hca_handles {
        line += &format!(" hca_handle={h}");
    }
    if let Some(o) = l.hca_objects {
        line += &format!(" hca_object={o}");
    }
    line
}

struct Planner<'a> {
    dir: &'a Path,
    writes: Vec<Write>,
}

impl Planner<'_> {
    fn set(
        &mut self,
        field: &'static str,
        file: &str,
        value: impl Into<String>,
    ) -> Result<(), CgroupError> {
        let path = self.dir.join(file);
        if !path.exists() {
            let controller = file.split('.').next().unwrap_or(file);
            return Err(CgroupError::NotSupported {
                field,
                why: format!(
                    "no {} (is the {controller} controller enabled?)",
                    path.display()
                ),
            });
        }
        self.writes.push(Write::new(field, path, value));
        Ok(())
    }
}

fn v1_only(field: &'static str) -> CgroupError {
    CgroupError::NotSupported {
        field,
        why: "cgroup v2 has no such setting".into(),
    }
}

/// The writes that apply `r` to the v2 cgroup `dir`.
pub fn plan(dir: &Path, r: &Resources) -> Result<Vec<Write>, CgroupError> {
    let mut p = Planner {
        dir,
        writes: Vec::new(),
    };
    let m = &r.memory;
    if let Some(v) = m.limit {
        let value = if v < 0 {
            "max".to_string()
        } else {
            v.to_string()
        };
        if m.check_before_update == Some(true) && v > 0 {
            let usage = stats::read_u64(&dir.join("memory.current")).unwrap_or(0);
            if (v as u64) < usage {
                return Err(CgroupError::NotSupported {
                    field: "linux.resources.memory.limit",
                    why: format!("{v} is below the current usage of {usage} bytes"),
                });
            }
        }
        p.set("linux.resources.memory.limit", "memory.max", value)?;
    }
    if let Some(v) = m.swap {
        p.set(
            "linux.resources.memory.swap",
            "memory.swap.max",
            swap_max(v, m.limit)?,
        )?;
    }
    if let Some(v) = m.reservation {
        let value = if v < 0 {
            "max".to_string()
        } else {
            v.to_string()
        };
        p.set("linux.resources.memory.reservation", "memory.low", value)?;
    }
    if m.kernel_tcp.is_some() {
        return Err(v1_only("linux.resources.memory.kernelTCP"));
    }
    if m.swappiness.is_some() {
        return Err(v1_only("linux.resources.memory.swappiness"));
    }
    if m.disable_oom_killer == Some(true) {
        return Err(v1_only("linux.resources.memory.disableOOMKiller"));
    }
    let c = &r.cpu;
    if let Some(v) = c.shares {
        p.set(
            "linux.resources.cpu.shares",
            "cpu.weight",
            shares_to_weight(v).to_string(),
        )?;
    }
    if c.quota.is_some() || c.period.is_some() {
        let quota = match c.quota {
            Some(q) if q > 0 => q.to_string(),
            _ => "max".to_string(),
        };
        let period = c.period.unwrap_or(100_000);
        p.set(
            "linux.resources.cpu.quota",
            "cpu.max",
            format!("{quota} {period}"),
        )?;
    }
    if let Some(v) = c.burst {
        p.set("linux.resources.cpu.burst", "cpu.max.burst", v.to_string())?;
    }
    if c.realtime_period.is_some() || c.realtime_runtime.is_some() {
        return Err(v1_only("linux.resources.cpu.realtimeRuntime"));
    }
    if let Some(v) = c.idle {
        p.set("linux.resources.cpu.idle", "cpu.idle", v.to_string())?;
    }
    if let Some(v) = &c.cpus {
        p.set("linux.resources.cpu.cpus", "cpuset.cpus", v.clone())?;
    }
    if let Some(v) = &c.mems {
        p.set("linux.resources.cpu.mems", "cpuset.mems", v.clone())?;
    }
    if let Some(v) = r.pids_limit {
        let value = if v > 0 {
            v.to_string()
        } else {
            "max".to_string()
        };
        p.set("linux.resources.pids.limit", "pids.max", value)?;
    }
    io(&mut p, r)?;
    for (size, limit) in &r.hugepage_limits {
        p.set(
            "linux.resources.hugepageLimits",
            &format!("hugetlb.{size}.max"),
            limit.to_string(),
        )?;
        // Reservations count too where the kernel accounts them (5.7+), as runc sets
        // them: a limit without them lets a process reserve pages it may never fault.
        let rsvd = format!("hugetlb.{size}.rsvd.max");
        if p.dir.join(&rsvd).exists() {
            p.set("linux.resources.hugepageLimits", &rsvd, limit.to_string())?;
        }
    }
    if r.network.class_id.is_some() || !r.network.priorities.is_empty() {
        return Err(v1_only("linux.resources.network"));
    }
    for (dev, l) in &r.rdma {
        p.set("linux.resources.rdma", "rdma.max", rdma_line(dev, l))?;
    }
    for (key, value) in &r.unified {
        if key.contains('/') || key.starts_with("cgroup.") {
            return Err(CgroupError::NotSupported {
                field: "linux.resources.unified",
                why: format!("{key:?} is not a controller file"),
            });
        }
        p.set("linux.resources.unified", key, value.clone())?;
    }
    Ok(p.writes)
}

fn io(p: &mut Planner<'_>, r: &Resources) -> Result<(), CgroupError> {
    let b = &r.block_io;
    let weight_file = if p.dir.join("io.bfq.weight").exists() {
        "io.bfq.weight"
    } else {
        "io.weight"
    };
    if let Some(w) = b.weight {
        let value = if weight_file == "io.weight" {
            format!("default {}", blkio_weight_to_io(w))
        } else {
            w.to_string()
        };
        p.set("linux.resources.blockIO.weight", weight_file, value)?;
    }
    if b.leaf_weight.is_some() {
        return Err(v1_only("linux.resources.blockIO.leafWeight"));
    }
    for d in &b.weight_devices {
        if d.leaf_weight.is_some() {
            return Err(v1_only("linux.resources.blockIO.weightDevice.leafWeight"));
        }
        if let Some(w) = d.weight {
            let w = if weight_file == "io.weight" {
                blkio_weight_to_io(w)
            } else {
                u64::from(w)
            };
            p.set(
                "linux.resources.blockIO.weightDevice",
                weight_file,
                format!("{}:{} {w}", d.major, d.minor),
            )?;
        }
    }
    // io.max takes all four limits of a device on one line.
    let mut limits: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
    for (key, list) in [
        ("rbps", &b.throttle_read_bps),
        ("wbps", &b.throttle_write_bps),
        ("riops", &b.throttle_read_iops),
        ("wiops", &b.throttle_write_iops),
    ] {
        for t in list {
            limits
                .entry((t.major, t.minor))
                .or_default()
                .push(format!("{key}={}", t.rate));
        }
    }
    for ((major, minor), parts) in limits {
        p.set(
            "linux.resources.blockIO.throttle",
            "io.max",
            format!("{major}:{minor} {}", parts.join(" ")),
        )?;
    }
    Ok(())
}

/// The controllers `r` needs enabled.
pub fn controllers_for(r: &Resources) -> BTreeSet<String> {
    let (m, c, b) = (&r.memory, &r.cpu, &r.block_io);
    let mut set: BTreeSet<String> = [
        (
            "memory",
            m.limit.is_some() || m.swap.is_some() || m.reservation.is_some(),
        ),
        (
            "cpu",
            c.shares.is_some()
                || c.quota.is_some()
                || c.period.is_some()
                || c.burst.is_some()
                || c.idle.is_some(),
        ),
        ("cpuset", c.cpus.is_some() || c.mems.is_some()),
        ("pids", r.pids_limit.is_some()),
        (
            "io",
            b.weight.is_some()
                || !b.weight_devices.is_empty()
                || !b.throttle_read_bps.is_empty()
                || !b.throttle_write_bps.is_empty()
                || !b.throttle_read_iops.is_empty()
                || !b.throttle_write_iops.is_empty(),
        ),
        ("hugetlb", !r.hugepage_limits.is_empty()),
        ("rdma", !r.rdma.is_empty()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| name.to_string())
    .collect();
    set.extend(
        r.unified
            .keys()
            .filter_map(|k| k.split('.').next())
            .filter(|c| *c != "cgroup")
            .map(str::to_string),
    );
    set
}

/// Enables controllers for `leaf` by writing `+name` to `cgroup.subtree_control` of
/// every ancestor from the hierarchy's `root` down to the leaf's parent: every
/// controller each ancestor has, as runc does (a container then has them all, and can
/// hand them on to containers of its own), or, where an ancestor refuses that (one of
/// them busy with processes of its own, say), just the `needed` ones.
pub fn enable_controllers(
    root: &Path,
    leaf: &Path,
    needed: &BTreeSet<String>,
) -> Result<(), CgroupError> {
    let rel = leaf.strip_prefix(root).unwrap_or(leaf);
    let mut dir = PathBuf::from(root);
    let mut levels = vec![dir.clone()];
    for part in rel.parent().into_iter().flat_map(|p| p.components()) {
        dir.push(part);
        levels.push(dir.clone());
    }
    let line = |names: &mut dyn Iterator<Item = &str>| -> String {
        names.map(|c| format!("+{c}")).collect::<Vec<_>>().join(" ")
    };
    let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    for dir in levels {
        let available = read(dir.join("cgroup.controllers"));
        let enabled = read(dir.join("cgroup.subtree_control"));
        let enabled: BTreeSet<&str> = enabled.split_whitespace().collect();
        // Nothing to write where all is on already: above a cgroup delegated to an
        // unprivileged user, say, which it may not write.
        if available.split_whitespace().all(|c| enabled.contains(c)) {
            continue;
        }
        let control = dir.join("cgroup.subtree_control");
        let all = line(&mut available.split_whitespace());
        if !all.is_empty() && super::write_file(&control, &all).is_ok() {
            continue;
        }
        let missing: Vec<&str> = needed
            .iter()
            .map(String::as_str)
            .filter(|c| !enabled.contains(c))
            .collect();
        if !missing.is_empty() {
            super::write_file(&control, &line(&mut missing.into_iter()))?;
        }
    }
    Ok(())
}

/// A cgroup whose siblings are threaded is "domain invalid" and holds no process: it
/// becomes threaded too (as runc makes it), which lets init in, with the threaded
/// controllers (cpu, cpuset, pids) for limits.
pub fn make_joinable(dir: &Path) -> Result<(), CgroupError> {
    let kind = std::fs::read_to_string(dir.join("cgroup.type")).unwrap_or_default();
    if kind.trim() == "domain invalid" {
        super::write_file(&dir.join("cgroup.type"), "threaded")?;
    }
    Ok(())
}

/// Reads the container's statistics from its v2 cgroup.
pub fn stats(dir: &Path) -> Stats {
    let mut s = Stats::default();
    let cpu = stats::read_flat(&dir.join("cpu.stat"));
    let us = |k: &str| cpu.get(k).copied().unwrap_or(0) * 1000;
    s.cpu.usage.total = us("usage_usec");
    s.cpu.usage.user = us("user_usec");
    s.cpu.usage.kernel = us("system_usec");
    s.cpu.throttling.periods = cpu.get("nr_periods").copied().unwrap_or(0);
    s.cpu.throttling.throttled_periods = cpu.get("nr_throttled").copied().unwrap_or(0);
    s.cpu.throttling.throttled_time = us("throttled_usec");
    let r = |f: &str| stats::read_u64(&dir.join(f)).unwrap_or(0);
    let raw = stats::read_flat(&dir.join("memory.stat"));
    let events = stats::read_flat(&dir.join("memory.events"));
    s.memory = MemoryStats {
        cache: raw.get("file").copied().unwrap_or(0),
        usage: MemoryEntry {
            limit: r("memory.max"),
            usage: r("memory.current"),
            max: r("memory.peak"),
            failcnt: events.get("max").copied().unwrap_or(0),
        },
        swap: MemoryEntry {
            limit: r("memory.swap.max"),
            usage: r("memory.swap.current"),
            max: r("memory.swap.peak"),
            failcnt: 0,
        },
        raw,
        ..MemoryStats::default()
    };
    s.pids.current = r("pids.current");
    s.pids.limit = r("pids.max");
    for line in std::fs::read_to_string(dir.join("io.stat"))
        .unwrap_or_default()
        .lines()
    {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
            continue;
        };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse() else { continue };
            let (list, op) = match k {
                "rbytes" => (&mut s.blkio.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut s.blkio.io_service_bytes_recursive, "Write"),
                "rios" => (&mut s.blkio.io_serviced_recursive, "Read"),
                "wios" => (&mut s.blkio.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.into(),
                value,
            });
        }
    }
    for size in stats::hugepage_sizes() {
        let usage = r(&format!("hugetlb.{size}.current"));
        let failcnt = stats::read_flat(&dir.join(format!("hugetlb.{size}.events")))
            .get("max")
            .copied()
            .unwrap_or(0);
        if dir.join(format!("hugetlb.{size}.current")).exists() {
            s.hugetlb.insert(
                size,
                HugetlbStats {
                    usage,
                    max: 0,
                    failcnt,
                },
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resources::Throttle;
    use std::fs;

    /// A fake v2 cgroup directory with the controller files a plan may write.
    fn fixture(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hull-v2-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for f in [
            "memory.max",
            "memory.low",
            "memory.swap.max",
            "memory.current",
            "cpu.weight",
            "cpu.max",
            "cpu.max.burst",
            "cpuset.cpus",
            "pids.max",
            "io.weight",
            "io.max",
            "hugetlb.2MB.max",
        ] {
            fs::write(dir.join(f), "").unwrap();
        }
        dir
    }

    fn read(dir: &Path, f: &str) -> String {
        fs::read_to_string(dir.join(f)).unwrap()
    }

    #[test]
    fn conversions_as_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(blkio_weight_to_io(10), 1);
        assert_eq!(blkio_weight_to_io(500), 4950);
        assert_eq!(blkio_weight_to_io(1000), 10_000);
    }

    #[test]
    fn plan_writes_the_v2_files() {
        let dir = fixture("plan");
        let mut r = Resources::default();
        r.memory.limit = Some(64 << 20);
        r.memory.swap = Some(96 << 20);
        r.memory.reservation = Some(32 << 20);
        r.cpu.shares = Some(1024);
        r.cpu.quota = Some(50_000);
        r.cpu.period = Some(100_000);
        r.cpu.cpus = Some("0".into());
        r.pids_limit = Some(-1);
        r.block_io.weight = Some(500);
        r.block_io.throttle_read_bps = vec![Throttle {
            major: 8,
            minor: 0,
            rate: 1000,
        }];
        r.block_io.throttle_write_iops = vec![Throttle {
            major: 8,
            minor: 0,
            rate: 20,
        }];
        r.hugepage_limits.insert("2MB".into(), 4 << 20);
        let plan = plan(&dir, &r).unwrap();
        super::super::apply::apply(&plan).unwrap();
        assert_eq!(read(&dir, "memory.max"), (64u64 << 20).to_string());
        assert_eq!(read(&dir, "memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(read(&dir, "memory.low"), (32u64 << 20).to_string());
        assert_eq!(read(&dir, "cpu.weight"), "39");
        assert_eq!(read(&dir, "cpu.max"), "50000 100000");
        assert_eq!(read(&dir, "cpuset.cpus"), "0");
        assert_eq!(read(&dir, "pids.max"), "max");
        assert_eq!(read(&dir, "io.weight"), "default 4950");
        assert_eq!(read(&dir, "io.max"), "8:0 rbps=1000 wiops=20");
        assert_eq!(read(&dir, "hugetlb.2MB.max"), (4u64 << 20).to_string());
        assert_eq!(
            controllers_for(&r).into_iter().collect::<Vec<_>>(),
            ["cpu", "cpuset", "hugetlb", "io", "memory", "pids"]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn impossible_or_v1_only_settings_are_refused_by_field() {
        let dir = fixture("refuse");
        let mut r = Resources::default();
        r.memory.swap = Some(100);
        r.memory.limit = Some(200);
        assert!(plan(&dir, &r)
            .unwrap_err()
            .to_string()
            .contains("linux.resources.memory.swap"));
        let mut r = Resources::default();
        r.memory.swappiness = Some(10);
        assert!(plan(&dir, &r)
            .unwrap_err()
            .to_string()
            .contains("swappiness"));
        let mut r = Resources::default();
        r.unified.insert("../memory.max".into(), "1".into());
        assert!(plan(&dir, &r).is_err());
        let mut r = Resources::default();
        r.unified.insert("rdma.max".into(), "x".into());
        let err = plan(&dir, &r).unwrap_err().to_string();
        assert!(
            err.contains("rdma.max") && err.contains("linux.resources.unified"),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_controller_is_enabled_down_to_the_parent() {
        let root = fixture("tree");
        let leaf = root.join("a/b/c");
        fs::create_dir_all(&leaf).unwrap();
        for d in [root.clone(), root.join("a"), root.join("a/b")] {
            fs::write(d.join("cgroup.subtree_control"), "").unwrap();
            fs::write(d.join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
        }
        let wanted: BTreeSet<String> = ["cpu", "memory"].into_iter().map(String::from).collect();
        enable_controllers(&root, &leaf, &wanted).unwrap();
        for d in [root.clone(), root.join("a"), root.join("a/b")] {
            assert_eq!(read(&d, "cgroup.subtree_control"), "+cpu +io +memory +pids");
        }
        assert!(!leaf.join("cgroup.subtree_control").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn stats_from_v2_files() {
        let dir = fixture("stats");
        fs::write(dir.join("cpu.stat"), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 30\n").unwrap();
        fs::write(dir.join("memory.current"), "4096\n").unwrap();
        fs::write(dir.join("memory.max"), "max\n").unwrap();
        fs::write(dir.join("memory.stat"), "anon 1024\nfile 2048\n").unwrap();
        fs::write(dir.join("pids.current"), "3\n").unwrap();
        fs::write(dir.join("pids.max"), "100\n").unwrap();
        fs::write(
            dir.join("io.stat"),
            "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
        )
        .unwrap();
        let s = stats(&dir);
        assert_eq!(s.cpu.usage.total, 1_500_000);
        assert_eq!(s.cpu.usage.user, 1_000_000);
        assert_eq!(s.cpu.usage.kernel, 500_000);
        assert_eq!(s.cpu.throttling.throttled_periods, 2);
        assert_eq!(s.cpu.throttling.throttled_time, 30_000);
        assert_eq!(s.memory.usage.usage, 4096);
        assert_eq!(s.memory.usage.limit, 0);
        assert_eq!(s.memory.cache, 2048);
        assert_eq!(s.pids.current, 3);
        assert_eq!(s.pids.limit, 100);
        assert_eq!(s.blkio.io_service_bytes_recursive.len(), 2);
        assert_eq!(s.blkio.io_serviced_recursive[1].value, 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
