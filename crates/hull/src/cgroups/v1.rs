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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resources::{Throttle, WeightDevice};
    use crate::test_util::Scratch;

    /// Fake v1 hierarchies in `base`, one directory per key, with `files` in them
    /// (`memory/memory.limit_in_bytes`, ...): the cgroup's paths.
    fn hierarchies(base: &Scratch, files: &[(&str, &str)]) -> Paths {
        let mut paths = Paths::new();
        for (key, file) in files {
            base.write(format!("{key}/{file}"), "");
            paths.insert(key.to_string(), base.join(key));
        }
        paths
    }

    /// The plan as (path below `base`, value).
    fn writes(base: &Scratch, plan: &[Write]) -> Vec<(String, String)> {
        plan.iter()
            .map(|w| {
                let rel = w.path.strip_prefix(base.path()).unwrap();
                (rel.display().to_string(), w.value.clone())
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn co_mounted_controllers_are_found_by_each_name() {
        let paths: Paths = [
            (
                "cpu,cpuacct".to_string(),
                PathBuf::from("/cg/cpu,cpuacct/c"),
            ),
            ("cpuset".to_string(), PathBuf::from("/cg/cpuset/c")),
        ]
        .into();
        assert_eq!(dir(&paths, "cpu"), Some(Path::new("/cg/cpu,cpuacct/c")));
        assert_eq!(dir(&paths, "cpuacct"), Some(Path::new("/cg/cpu,cpuacct/c")));
        assert_eq!(dir(&paths, "cpuset"), Some(Path::new("/cg/cpuset/c")));
        assert_eq!(dir(&paths, "cpus"), None);
        assert_eq!(dir(&paths, "memory"), None);
    }

    #[test]
    fn plan_writes_the_v1_files_in_order() {
        let base = Scratch::new("v1-plan");
        let paths = hierarchies(
            &base,
            &[
                ("cpu,cpuacct", "cpu.shares"),
                ("cpu,cpuacct", "cpu.cfs_period_us"),
                ("cpu,cpuacct", "cpu.cfs_quota_us"),
                ("cpuset", "cpuset.cpus"),
                ("pids", "pids.max"),
                ("hugetlb", "hugetlb.2MB.limit_in_bytes"),
                ("net_cls", "net_cls.classid"),
                ("net_prio", "net_prio.ifpriomap"),
                ("memory", "memory.limit_in_bytes"),
                ("memory", "memory.soft_limit_in_bytes"),
                ("memory", "memory.swappiness"),
                ("memory", "memory.oom_control"),
                ("blkio", "blkio.weight"),
                ("blkio", "blkio.weight_device"),
                ("blkio", "blkio.throttle.read_bps_device"),
            ],
        );
        let mut r = Resources::default();
        r.memory.limit = Some(1 << 30);
        r.memory.reservation = Some(1 << 29);
        r.memory.swappiness = Some(10);
        r.memory.disable_oom_killer = Some(true);
        r.cpu.shares = Some(512);
        r.cpu.quota = Some(50_000);
        r.cpu.period = Some(100_000);
        r.cpu.cpus = Some("0-1".into());
        r.pids_limit = Some(-1);
        r.block_io.weight = Some(300);
        r.block_io.weight_devices = vec![WeightDevice {
            major: 8,
            minor: 0,
            weight: Some(200),
            leaf_weight: None,
        }];
        r.block_io.throttle_read_bps = vec![
            Throttle {
                major: 8,
                minor: 0,
                rate: 1_048_576,
            },
            Throttle {
                major: 8,
                minor: 16,
                rate: 42,
            },
        ];
        r.hugepage_limits.insert("2MB".into(), 4 << 20);
        r.network.class_id = Some(0x100001);
        r.network.priorities.insert("eth0".into(), 5);
        let plan = plan(&paths, &r).unwrap();
        assert_eq!(
            writes(&base, &plan),
            pairs(&[
                ("memory/memory.limit_in_bytes", "1073741824"),
                ("memory/memory.soft_limit_in_bytes", "536870912"),
                ("memory/memory.swappiness", "10"),
                ("memory/memory.oom_control", "1"),
                ("cpu,cpuacct/cpu.shares", "512"),
                // The period before the quota it is checked against.
                ("cpu,cpuacct/cpu.cfs_period_us", "100000"),
                ("cpu,cpuacct/cpu.cfs_quota_us", "50000"),
                ("cpuset/cpuset.cpus", "0-1"),
                ("pids/pids.max", "max"),
                ("blkio/blkio.weight", "300"),
                ("blkio/blkio.weight_device", "8:0 200"),
                ("blkio/blkio.throttle.read_bps_device", "8:0 1048576"),
                ("blkio/blkio.throttle.read_bps_device", "8:16 42"),
                ("hugetlb/hugetlb.2MB.limit_in_bytes", "4194304"),
                ("net_cls/net_cls.classid", "1048577"),
                ("net_prio/net_prio.ifpriomap", "eth0 5"),
            ])
        );
        assert_eq!(plan[0].field, "linux.resources.memory.limit");
        assert!(super::super::apply::apply(&plan).is_ok());
        assert_eq!(
            std::fs::read_to_string(base.join("pids/pids.max")).unwrap(),
            "max"
        );
        // Nothing asked, nothing written.
        assert!(super::plan(&paths, &Resources::default())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn what_the_host_lacks_is_refused_by_field() {
        let base = Scratch::new("v1-lacks");
        let paths = hierarchies(&base, &[("memory", "memory.limit_in_bytes")]);
        let refused = |r: Resources| match plan(&paths, &r) {
            Err(CgroupError::NotSupported { field, why }) => format!("{field}: {why}"),
            other => panic!("{other:?}"),
        };
        let r = Resources {
            pids_limit: Some(10),
            ..Resources::default()
        };
        assert_eq!(
            refused(r),
            "linux.resources.pids.limit: this host has no pids cgroup controller"
        );
        let mut r = Resources::default();
        r.memory.kernel_tcp = Some(1 << 20);
        let why = refused(r);
        assert!(
            why.starts_with("linux.resources.memory.kernelTCP: the kernel has no ")
                && why.ends_with("memory/memory.kmem.tcp.limit_in_bytes"),
            "{why}"
        );
        let mut r = Resources::default();
        r.unified.insert("memory.high".into(), "1G".into());
        assert!(refused(r).starts_with("linux.resources.unified: "));
    }

    #[test]
    fn memory_and_swap_are_written_in_the_order_the_kernel_accepts() {
        let base = Scratch::new("v1-swap");
        let paths = hierarchies(
            &base,
            &[
                ("memory", "memory.limit_in_bytes"),
                ("memory", "memory.memsw.limit_in_bytes"),
            ],
        );
        std::fs::write(base.join("memory/memory.memsw.limit_in_bytes"), "2000\n").unwrap();
        let order = |limit: i64, swap: i64| {
            let mut r = Resources::default();
            r.memory.limit = Some(limit);
            r.memory.swap = Some(swap);
            plan(&paths, &r)
                .unwrap()
                .iter()
                .map(|w| w.path.file_name().unwrap().to_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        // Raising memory+swap above what it is: it goes first, so memory fits below.
        assert_eq!(
            order(3000, 4000),
            ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
        );
        assert_eq!(
            order(3000, -1),
            ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
        );
        // Lowering: memory first, so memory+swap never goes below it.
        assert_eq!(
            order(500, 1000),
            ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
        );
    }

    #[test]
    fn a_limit_below_the_usage_is_refused_when_asked_to_check() {
        let base = Scratch::new("v1-usage");
        let paths = hierarchies(
            &base,
            &[
                ("memory", "memory.limit_in_bytes"),
                ("memory", "memory.usage_in_bytes"),
            ],
        );
        std::fs::write(base.join("memory/memory.usage_in_bytes"), "5000\n").unwrap();
        let mut r = Resources::default();
        r.memory.limit = Some(4000);
        // Unchecked, the kernel is left to decide.
        assert_eq!(plan(&paths, &r).unwrap().len(), 1);
        r.memory.check_before_update = Some(true);
        let err = plan(&paths, &r).unwrap_err();
        assert!(
            err.to_string().contains("below the current usage of 5000"),
            "{err}"
        );
        r.memory.limit = Some(6000);
        assert_eq!(plan(&paths, &r).unwrap().len(), 1);
    }

    #[test]
    fn blkio_weights_use_the_bfq_files_where_the_old_ones_are_gone() {
        let base = Scratch::new("v1-bfq");
        let paths = hierarchies(
            &base,
            &[
                ("blkio", "blkio.bfq.weight"),
                ("blkio", "blkio.bfq.weight_device"),
            ],
        );
        let mut r = Resources::default();
        r.block_io.weight = Some(100);
        r.block_io.weight_devices = vec![WeightDevice {
            major: 8,
            minor: 0,
            weight: Some(50),
            leaf_weight: None,
        }];
        assert_eq!(
            writes(&base, &plan(&paths, &r).unwrap()),
            pairs(&[
                ("blkio/blkio.bfq.weight", "100"),
                ("blkio/blkio.bfq.weight_device", "8:0 50"),
            ])
        );
    }

    #[test]
    fn stats_from_v1_files() {
        let base = Scratch::new("v1-stats");
        let paths: Paths = ["cpu,cpuacct", "memory", "pids", "blkio"]
            .iter()
            .map(|k| (k.to_string(), base.join(k)))
            .collect();
        let ticks = stats::clock_ticks();
        base.write("cpu,cpuacct/cpuacct.usage", "123456\n");
        base.write("cpu,cpuacct/cpuacct.usage_percpu", "100 200 \n");
        base.write(
            "cpu,cpuacct/cpuacct.stat",
            format!("user {}\nsystem {}\n", 2 * ticks, ticks),
        );
        base.write(
            "cpu,cpuacct/cpu.stat",
            "nr_periods 10\nnr_throttled 3\nthrottled_time 999\n",
        );
        base.write("memory/memory.usage_in_bytes", "4096\n");
        base.write("memory/memory.limit_in_bytes", "9223372036854771712\n");
        base.write("memory/memory.memsw.failcnt", "7\n");
        base.write("memory/memory.stat", "cache 1\ntotal_cache 2\nrss 3\n");
        base.write("pids/pids.current", "4\n");
        base.write("pids/pids.max", "max\n");
        // The throttle file lists nothing (no throttling): the bfq one is read.
        base.write(
            "blkio/blkio.throttle.io_service_bytes_recursive",
            "Total 0\n",
        );
        base.write(
            "blkio/blkio.bfq.io_service_bytes_recursive",
            "8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n",
        );
        let s = stats(&paths);
        assert_eq!(s.cpu.usage.total, 123456);
        assert_eq!(s.cpu.usage.percpu, [100, 200]);
        assert_eq!(s.cpu.usage.user, 2_000_000_000);
        assert_eq!(s.cpu.usage.kernel, 1_000_000_000);
        assert_eq!(
            (
                s.cpu.throttling.periods,
                s.cpu.throttling.throttled_periods,
                s.cpu.throttling.throttled_time
            ),
            (10, 3, 999)
        );
        assert_eq!(s.memory.usage.usage, 4096);
        assert_eq!(s.memory.usage.limit, 9223372036854771712);
        assert_eq!(s.memory.swap.failcnt, 7);
        // The hierarchy's total, not the cgroup's own.
        assert_eq!(s.memory.cache, 2);
        assert_eq!(s.memory.raw["rss"], 3);
        assert_eq!((s.pids.current, s.pids.limit), (4, 0));
        let blkio: Vec<(u64, u64, &str, u64)> = s
            .blkio
            .io_service_bytes_recursive
            .iter()
            .map(|e| (e.major, e.minor, e.op.as_str(), e.value))
            .collect();
        assert_eq!(blkio, [(8, 0, "Read", 4096), (8, 0, "Write", 8192)]);
        assert!(s.blkio.io_serviced_recursive.is_empty());
    }
}
