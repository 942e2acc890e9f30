//! Resource limits of a container's cgroup (OCI `linux.resources`), in the library's own
//! types. Each cgroup driver turns them into its files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything `linux.resources` can limit. `None` and empty mean "leave as it is".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub memory: Memory,
    pub cpu: Cpu,
    /// Maximum number of tasks; -1 for unlimited.
    pub pids_limit: Option<i64>,
    pub block_io: BlockIo,
    /// Page size (`2MB`, `1GB`, …) -> limit in bytes.
    pub hugepage_limits: BTreeMap<String, u64>,
    pub network: Network,
    /// Device (`mlx5_1`) -> limits.
    pub rdma: BTreeMap<String, Rdma>,
    /// Raw cgroup v2 files (`memory.high` -> `1G`).
    pub unified: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Bytes; -1 for unlimited.
    pub limit: Option<i64>,
    /// Soft limit in bytes.
    pub reservation: Option<i64>,
    /// Memory plus swap in bytes (as on v1); -1 for unlimited.
    pub swap: Option<i64>,
    /// Kernel TCP buffer limit in bytes (v1 only).
    pub kernel_tcp: Option<i64>,
    pub swappiness: Option<u64>,
    pub disable_oom_killer: Option<bool>,
    /// Refuse a new limit below the current usage.
    pub check_before_update: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu {
    /// Relative weight as v1 `cpu.shares` (2..262144).
    pub shares: Option<u64>,
    /// Microseconds per period; -1 for unlimited.
    pub quota: Option<i64>,
    pub burst: Option<u64>,
    pub period: Option<u64>,
    pub realtime_runtime: Option<i64>,
    pub realtime_period: Option<u64>,
    pub cpus: Option<String>,
    pub mems: Option<String>,
    /// 1: the SCHED_IDLE policy for the group.
    pub idle: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockIo {
    /// 10..1000.
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
    pub weight_devices: Vec<WeightDevice>,
    pub throttle_read_bps: Vec<Throttle>,
    pub throttle_write_bps: Vec<Throttle>,
    pub throttle_read_iops: Vec<Throttle>,
    pub throttle_write_iops: Vec<Throttle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightDevice {
    pub major: i64,
    pub minor: i64,
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub major: i64,
    pub minor: i64,
    pub rate: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub class_id: Option<u32>,
    /// Interface -> priority.
    pub priorities: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rdma {
    pub hca_handles: Option<u32>,
    pub hca_objects: Option<u32>,
}

impl Resources {
    /// Checks every limit's range (see [`super::validate`]), naming the OCI field of
    /// the first out of range; [`crate::Container::set`] calls it (and
    /// [`super::Config::validate`] for the limits a container starts with).
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        super::validate::resources::check(self)
    }

    /// Overlays `other` on `self`: every limit `other` sets replaces ours (what `update`
    /// does to the limits in force).
    pub fn merge(&mut self, other: &Resources) {
        macro_rules! take {
            ($($field:expr => $from:expr),* $(,)?) => {
                $( if $from.is_some() { $field = $from.clone(); } )*
            };
        }
        let (m, o) = (&mut self.memory, &other.memory);
        take!(m.limit => o.limit, m.reservation => o.reservation, m.swap => o.swap,
              m.kernel_tcp => o.kernel_tcp, m.swappiness => o.swappiness,
              m.disable_oom_killer => o.disable_oom_killer,
              m.check_before_update => o.check_before_update);
        let (c, o) = (&mut self.cpu, &other.cpu);
        take!(c.shares => o.shares, c.quota => o.quota, c.burst => o.burst, c.period => o.period,
              c.realtime_runtime => o.realtime_runtime, c.realtime_period => o.realtime_period,
              c.cpus => o.cpus, c.mems => o.mems, c.idle => o.idle);
        take!(self.pids_limit => other.pids_limit);
        let (b, o) = (&mut self.block_io, &other.block_io);
        take!(b.weight => o.weight, b.leaf_weight => o.leaf_weight);
        for (mine, theirs) in [
            (&mut b.throttle_read_bps, &o.throttle_read_bps),
            (&mut b.throttle_write_bps, &o.throttle_write_bps),
            (&mut b.throttle_read_iops, &o.throttle_read_iops),
            (&mut b.throttle_write_iops, &o.throttle_write_iops),
        ] {
            if !theirs.is_empty() {
                mine.clone_from(theirs);
            }
        }
        if !o.weight_devices.is_empty() {
            b.weight_devices.clone_from(&o.weight_devices);
        }
        self.hugepage_limits.extend(other.hugepage_limits.clone());
        take!(self.network.class_id => other.network.class_id);
        self.network
            .priorities
            .extend(other.network.priorities.clone());
        self.rdma.extend(other.rdma.clone());
        self.unified.extend(other.unified.clone());
    }
}
