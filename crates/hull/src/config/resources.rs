//! Resource limits of a container's cgroup (OCI `linux.resources`), in the library's own
//! types. Each cgroup driver turns them into its files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything `linux.resources` can limit. `None` and empty mean "leave as it is".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Memory limits.
    pub memory: Memory,
    /// CPU time, weight and placement.
    pub cpu: Cpu,
    /// Maximum number of tasks; -1 for unlimited.
    pub pids_limit: Option<i64>,
    /// Block I/O weights and throttles.
    pub block_io: BlockIo,
    /// Page size (`2MB`, `1GB`, …) -> limit in bytes.
    pub hugepage_limits: BTreeMap<String, u64>,
    /// Network class and priorities (cgroup v1 `net_cls`, `net_prio`).
    pub network: Network,
    /// Device (`mlx5_1`) -> limits.
    pub rdma: BTreeMap<String, Rdma>,
    /// Raw cgroup v2 files (`memory.high` -> `1G`).
    pub unified: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
/// Memory limits (OCI `linux.resources.memory`).
pub struct Memory {
    /// Bytes; -1 for unlimited.
    pub limit: Option<i64>,
    /// Soft limit in bytes.
    pub reservation: Option<i64>,
    /// Memory plus swap in bytes (as on v1); -1 for unlimited.
    pub swap: Option<i64>,
    /// Kernel TCP buffer limit in bytes (v1 only).
    pub kernel_tcp: Option<i64>,
    /// How readily anonymous memory is swapped out, 0..100 (v1 `memory.swappiness`).
    pub swappiness: Option<u64>,
    /// Do not OOM-kill a process of the cgroup over its limit: make it wait (v1 only).
    pub disable_oom_killer: Option<bool>,
    /// Refuse a new limit below the current usage.
    pub check_before_update: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
/// CPU limits (OCI `linux.resources.cpu`).
pub struct Cpu {
    /// Relative weight as v1 `cpu.shares` (2..262144).
    pub shares: Option<u64>,
    /// Microseconds per period; -1 for unlimited.
    pub quota: Option<i64>,
    /// Microseconds a group may run beyond its quota, from time left unused.
    pub burst: Option<u64>,
    /// Length of the quota's period in microseconds.
    pub period: Option<u64>,
    /// Microseconds of real-time run time per `realtime_period` (v1 only).
    pub realtime_runtime: Option<i64>,
    /// Length of the real-time period in microseconds (v1 only).
    pub realtime_period: Option<u64>,
    /// The CPUs the group may run on, as a list (`0-3,7`).
    pub cpus: Option<String>,
    /// The NUMA memory nodes the group may allocate from, as a list (`0-1`).
    pub mems: Option<String>,
    /// 1: the SCHED_IDLE policy for the group.
    pub idle: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
/// Block I/O limits (OCI `linux.resources.blockIO`).
pub struct BlockIo {
    /// 10..1000.
    pub weight: Option<u16>,
    /// Weight of the group's children against its own tasks, 10..1000 (v1 only).
    pub leaf_weight: Option<u16>,
    /// Weights for single devices.
    pub weight_devices: Vec<WeightDevice>,
    /// Read limits in bytes per second, per device.
    pub throttle_read_bps: Vec<Throttle>,
    /// Write limits in bytes per second, per device.
    pub throttle_write_bps: Vec<Throttle>,
    /// Read limits in operations per second, per device.
    pub throttle_read_iops: Vec<Throttle>,
    /// Write limits in operations per second, per device.
    pub throttle_write_iops: Vec<Throttle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
/// A block I/O weight for one device.
pub struct WeightDevice {
    /// The device's major number.
    pub major: i64,
    /// The device's minor number.
    pub minor: i64,
    /// Weight, 10..1000.
    pub weight: Option<u16>,
    /// Leaf weight, 10..1000 (v1 only).
    pub leaf_weight: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
/// A block I/O rate limit for one device.
pub struct Throttle {
    /// The device's major number.
    pub major: i64,
    /// The device's minor number.
    pub minor: i64,
    /// The rate: bytes or operations per second, by the list it is in.
    pub rate: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
/// Network limits (OCI `linux.resources.network`; cgroup v1 only).
pub struct Network {
    /// The class id tagged on the group's packets (`net_cls.classid`).
    pub class_id: Option<u32>,
    /// Interface -> priority.
    pub priorities: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
/// RDMA limits for one device (OCI `linux.resources.rdma`).
pub struct Rdma {
    /// Maximum number of HCA handles.
    pub hca_handles: Option<u32>,
    /// Maximum number of HCA objects.
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
