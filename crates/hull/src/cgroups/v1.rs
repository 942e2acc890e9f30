//! The cgroup v1 driver: one directory per controller. Turns [`Resources`] into the
//! v1 files (a plan of writes), and reads the v1 statistics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::apply::Write;
use super::stats::{self, BlkioEntry, CpuStats, HugetlbStats, MemoryEntry, MemoryStats, Stats};
use super::CgroupError;
use crate::config::resources::Resources;

type Paths = BTreeMap<String, PathBuf>;

/// The directory of `controller` (hierarchies may co-mount several: `cpu,cpuacct`).
pub fn dir<'a>(paths: &'a Paths, controller: &str) -> Option<&'a Path> {
    paths
        .iter()
        .find(|(k, _)| k.split(',').any(|c| c == controller))
        .map(|(_, p)| p.as_path())
}

/// Collects writes, checking that each file exists on this host.
struct Planner<'a> {
    paths: &'a Paths,
    writes: Vec<Write>,
}

impl Planner<'_> {
    fn file(
        &self,
        field: &'static str,
        controller: &str,
        file: &str,
    ) -> Result<PathBuf, CgroupError> {
        let dir = dir(self.paths, controller).ok_or_else(|| CgroupError::NotSupported {
            field,
            why: format!("this host has no {controller} cgroup controller"),
        })?;
        let path = dir.join(file);
        if !path.exists() {
            return Err(CgroupError::NotSupported {
                field,
                why: format!("the kernel has no {}", path.display()),
            });
        }
        Ok(path)
    }

    fn set(
        &mut self,
        field: &'static str,
        controller: &str,
        file: &str,
        value: impl Into<String>,
    ) -> Result<(), CgroupError> {
        let path = self.file(field, controller, file)?;
        self.writes.push(Write::new(field, path, value));
        Ok(())
    }

    /// The first of `files` the kernel has (blkio files moved to `bfq.` names).
    fn set_any(
        &mut self,
        field: &'static str,
        controller: &str,
        files: &[&str],
        value: impl Into<String>,
    ) -> Result<(), CgroupError> {
        let found = files
            .iter()
            .find(|f| self.file(field, controller, f).is_ok());
        self.set(field, controller, found.unwrap_or(&files[0]), value)
    }
}

/// The writes that apply `r` to the container's v1 cgroups.
pub fn plan(paths: &Paths, r: &Resources) -> Result<Vec<Write>, CgroupError> {
    let mut p = Planner {
        paths,
        writes: Vec::new(),
    };
    memory(&mut p, r)?;
    let c = &r.cpu;
    if let Some(v) = c.shares {
        p.set(
            "linux.resources.cpu.shares",
            "cpu",
            "cpu.shares",
            v.to_string(),
        )?;
    }
    // The period first: a quota is checked against it.
    if let Some(v) = c.period {
        p.set(
            "linux.resources.cpu.period",
            "cpu",
            "cpu.cfs_period_us",
            v.to_string(),
        )?;
    }
    if let Some(v) = c.quota {
        p.set(
            "linux.resources.cpu.quota",
            "cpu",
            "cpu.cfs_quota_us",
            v.to_string(),
        )?;
    }
    if let Some(v) = c.burst {
        p.set(
            "linux.resources.cpu.burst",
            "cpu",
            "cpu.cfs_burst_us",
            v.to_string(),
        )?;
    }
    if let Some(v) = c.realtime_period {
        p.set(
            "linux.resources.cpu.realtimePeriod",
            "cpu",
            "cpu.rt_period_us",
            v.to_string(),
        )?;
    }
    if let Some(v) = c.realtime_runtime {
        p.set(
            "linux.resources.cpu.realtimeRuntime",
            "cpu",
            "cpu.rt_runtime_us",
            v.to_string(),
        )?;
    }
    if let Some(v) = c.idle {
        p.set("linux.resources.cpu.idle", "cpu", "cpu.idle", v.to_string())?;
    }
    if let Some(v) = &c.cpus {
        p.set(
            "linux.resources.cpu.cpus",
            "cpuset",
            "cpuset.cpus",
            v.clone(),
        )?;
    }
    if let Some(v) = &c.mems {
        p.set(
            "linux.resources.cpu.mems",
            "cpuset",
            "cpuset.mems",
            v.clone(),
        )?;
    }
    if let Some(v) = r.pids_limit {
        let value = if v > 0 {
            v.to_string()
        } else {
            "max".to_string()
        };
        p.set("linux.resources.pids.limit", "pids", "pids.max", value)?;
    }
    block_io(&mut p, r)?;
    for (size, limit) in &r.hugepage_limits {
        let file = format!("hugetlb.{size}.limit_in_bytes");
        p.set(
            "linux.resources.hugepageLimits",
            "hugetlb",
            &file,
            limit.to_string(),
        )?;
    }
    if let Some(v) = r.network.class_id {
        p.set(
            "linux.resources.network.classID",
            "net_cls",
            "net_cls.classid",
            v.to_string(),
        )?;
    }
    for (iface, prio) in &r.network.priorities {
        p.set(
            "linux.resources.network.priorities",
            "net_prio",
            "net_prio.ifpriomap",
            format!("{iface} {prio}"),
        )?;
    }
    for (dev, l) in &r.rdma {
        p.set(
            "linux.resources.rdma",
            "rdma",
            "rdma.max",
            super::v2::rdma_line(dev, l),
        )?;
    }
    if !r.unified.is_empty() {
        return Err(CgroupError::NotSupported {
            field: "linux.resources.unified",
            why: "raw cgroup v2 files need a cgroup v2 host".into(),
        });
    }
    Ok(p.writes)
}

fn memory(p: &mut Planner<'_>, r: &Resources) -> Result<(), CgroupError> {
    let m = &r.memory;
    if let (Some(limit), true) = (m.limit, m.check_before_update == Some(true)) {
        let usage = p.file(
            "linux.resources.memory.limit",
            "memory",
            "memory.usage_in_bytes",
        )?;
        let usage: i64 = stats::read_u64(&usage).unwrap_or(0) as i64;
        if limit > 0 && limit < usage {
            return Err(CgroupError::NotSupported {
                field: "linux.resources.memory.limit",
                why: format!("{limit} is below the current usage of {usage} bytes"),
            });
        }
    }
    let limit = m
        .limit
        .map(|v| ("linux.resources.memory.limit", "memory.limit_in_bytes", v));
    let swap = m.swap.map(|v| {
        (
            "linux.resources.memory.swap",
            "memory.memsw.limit_in_bytes",
            v,
        )
    });
    // memory+swap may never be below memory: raising both goes swap first.
    let swap_first = match (m.limit, m.swap) {
        (Some(_), Some(s)) => {
            let current = p
                .file(
                    "linux.resources.memory.swap",
                    "memory",
                    "memory.memsw.limit_in_bytes",
                )
                .ok()
                .and_then(|f| stats::read_u64(&f))
                .unwrap_or(0);
            s == -1 || (s as u64) > current
        }
        _ => false,
    };
    let order = if swap_first {
        [swap, limit]
    } else {
        [limit, swap]
    };
    for (field, file, v) in order.into_iter().flatten() {
        p.set(field, "memory", file, v.to_string())?;
    }
    if let Some(v) = m.reservation {
        p.set(
            "linux.resources.memory.reservation",
            "memory",
            "memory.soft_limit_in_bytes",
            v.to_string(),
        )?;
    }
    if let Some(v) = m.kernel_tcp {
        p.set(
            "linux.resources.memory.kernelTCP",
            "memory",
            "memory.kmem.tcp.limit_in_bytes",
            v.to_string(),
        )?;
    }
    if let Some(v) = m.swappiness {
        p.set(
            "linux.resources.memory.swappiness",
            "memory",
            "memory.swappiness",
            v.to_string(),
        )?;
    }
    if m.disable_oom_killer == Some(true) {
        p.set(
            "linux.resources.memory.disableOOMKiller",
            "memory",
            "memory.oom_control",
            "1",
        )?;
    }
    Ok(())
}

fn block_io(p: &mut Planner<'_>, r: &Resources) -> Result<(), CgroupError> {
    let b = &r.block_io;
    if let Some(v) = b.weight {
        p.set_any(
            "linux.resources.blockIO.weight",
            "blkio",
            &["blkio.weight", "blkio.bfq.weight"],
            v.to_string(),
        )?;
    }
    if let Some(v) = b.leaf_weight {
        p.set(
            "linux.resources.blockIO.leafWeight",
            "blkio",
            "blkio.leaf_weight",
            v.to_string(),
        )?;
    }
    for d in &b.weight_devices {
        if let Some(w) = d.weight {
            let files = ["blkio.weight_device", "blkio.bfq.weight_device"];
            p.set_any(
                "linux.resources.blockIO.weightDevice",
                "blkio",
                &files,
                format!("{}:{} {w}", d.major, d.minor),
            )?;
        }
        if let Some(w) = d.leaf_weight {
            p.set(
                "linux.resources.blockIO.weightDevice",
                "blkio",
                "blkio.leaf_weight_device",
                format!("{}:{} {w}", d.major, d.minor),
            )?;
        }
    }
    let throttles = [
        (
            "linux.resources.blockIO.throttleReadBpsDevice",
            "blkio.throttle.read_bps_device",
            &b.throttle_read_bps,
        ),
        (
            "linux.resources.blockIO.throttleWriteBpsDevice",
            "blkio.throttle.write_bps_device",
            &b.throttle_write_bps,
        ),
        (
            "linux.resources.blockIO.throttleReadIOPSDevice",
            "blkio.throttle.read_iops_device",
            &b.throttle_read_iops,
        ),
        (
            "linux.resources.blockIO.throttleWriteIOPSDevice",
            "blkio.throttle.write_iops_device",
            &b.throttle_write_iops,
        ),
    ];
    for (field, file, list) in throttles {
        for t in list {
            p.set(
                field,
                "blkio",
                file,
                format!("{}:{} {}", t.major, t.minor, t.rate),
            )?;
        }
    }
    Ok(())
}

/// Reads the container's statistics from its v1 cgroups; controllers the host lacks
/// are left out.
pub fn stats(paths: &Paths) -> Stats {
    let mut s = Stats::default();
    if let Some(d) = dir(paths, "cpuacct") {
        let r = |f: &str| stats::read_u64(&d.join(f)).unwrap_or(0);
        let list = |f: &str| stats::read_list(&d.join(f));
        let ticks = stats::read_flat(&d.join("cpuacct.stat"));
        let to_ns = 1_000_000_000 / stats::clock_ticks();
        s.cpu.usage.total = r("cpuacct.usage");
        s.cpu.usage.percpu = list("cpuacct.usage_percpu");
        s.cpu.usage.percpu_user = list("cpuacct.usage_percpu_user");
        s.cpu.usage.percpu_kernel = list("cpuacct.usage_percpu_sys");
        s.cpu.usage.user = ticks.get("user").copied().unwrap_or(0) * to_ns;
        s.cpu.usage.kernel = ticks.get("system").copied().unwrap_or(0) * to_ns;
    }
    if let Some(d) = dir(paths, "cpu") {
        throttling(&mut s.cpu, &stats::read_flat(&d.join("cpu.stat")));
    }
    if let Some(d) = dir(paths, "memory") {
        s.memory = memory_stats(d);
    }
    if let Some(d) = dir(paths, "pids") {
        s.pids.current = stats::read_u64(&d.join("pids.current")).unwrap_or(0);
        s.pids.limit = stats::read_u64(&d.join("pids.max")).unwrap_or(0);
    }
    if let Some(d) = dir(paths, "blkio") {
        let read = |names: &[&str]| -> Vec<BlkioEntry> {
            names
                .iter()
                .map(|n| stats::read_blkio(&d.join(n)))
                .find(|v| !v.is_empty())
                .unwrap_or_default()
        };
        s.blkio.io_service_bytes_recursive = read(&[
            "blkio.throttle.io_service_bytes_recursive",
            "blkio.bfq.io_service_bytes_recursive",
        ]);
        s.blkio.io_serviced_recursive = read(&[
            "blkio.throttle.io_serviced_recursive",
            "blkio.bfq.io_serviced_recursive",
        ]);
    }
    if let Some(d) = dir(paths, "hugetlb") {
        for size in stats::hugepage_sizes() {
            let r = |f: &str| stats::read_u64(&d.join(format!("hugetlb.{size}.{f}"))).unwrap_or(0);
            s.hugetlb.insert(
                size.clone(),
                HugetlbStats {
                    usage: r("usage_in_bytes"),
                    max: r("max_usage_in_bytes"),
                    failcnt: r("failcnt"),
                },
            );
        }
    }
    s
}

fn throttling(cpu: &mut CpuStats, stat: &BTreeMap<String, u64>) {
    let get = |k: &str| stat.get(k).copied().unwrap_or(0);
    cpu.throttling.periods = get("nr_periods");
    cpu.throttling.throttled_periods = get("nr_throttled");
    cpu.throttling.throttled_time = get("throttled_time");
}

fn memory_stats(d: &Path) -> MemoryStats {
    let entry = |prefix: &str| {
        let r = |f: &str| stats::read_u64(&d.join(format!("{prefix}{f}"))).unwrap_or(0);
        MemoryEntry {
            limit: r("limit_in_bytes"),
            usage: r("usage_in_bytes"),
            max: r("max_usage_in_bytes"),
            failcnt: r("failcnt"),
        }
    };
    let raw = stats::read_flat(&d.join("memory.stat"));
    MemoryStats {
        cache: raw
            .get("total_cache")
            .or(raw.get("cache"))
            .copied()
            .unwrap_or(0),
        usage: entry("memory."),
        swap: entry("memory.memsw."),
        kernel: entry("memory.kmem."),
        kernel_tcp: entry("memory.kmem.tcp."),
        raw,
    }
}
