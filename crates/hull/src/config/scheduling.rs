//! How a container's processes run on the machine: execution domain (personality), CPU
//! scheduling policy, I/O priority, CPU affinity and NUMA memory policy, each held in
//! the form its syscall takes (`personality`, `sched_setattr`, `ioprio_set`,
//! `sched_setaffinity`, `set_mempolicy`), with a `check` saying what the syscall would
//! refuse (called by [`crate::config::validate`]).

use serde::{Deserialize, Serialize};

/// `personality(2)`'s argument: an execution domain and its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Personality(pub u64);

/// The execution domains the OCI spec names.
pub const PER_LINUX: u64 = 0x0000;
/// `PER_LINUX32`: a 32-bit execution domain (`linux32`).
pub const PER_LINUX32: u64 = 0x0008;

/// The flags of `personality(2)`, by their names in `<sys/personality.h>`.
pub const PERSONALITY_FLAGS: [(&str, u64); 11] = [
    ("UNAME26", 0x0020000),
    ("ADDR_NO_RANDOMIZE", 0x0040000),
    ("FDPIC_FUNCPTRS", 0x0080000),
    ("MMAP_PAGE_ZERO", 0x0100000),
    ("ADDR_COMPAT_LAYOUT", 0x0200000),
    ("READ_IMPLIES_EXEC", 0x0400000),
    ("ADDR_LIMIT_32BIT", 0x0800000),
    ("SHORT_INODE", 0x1000000),
    ("WHOLE_SECONDS", 0x2000000),
    ("STICKY_TIMEOUTS", 0x4000000),
    ("ADDR_LIMIT_3GB", 0x8000000),
];

impl Personality {
    /// `domain` with the named `flags`; an unknown flag is an error naming it.
    pub fn new(domain: u64, flags: &[String]) -> Result<Personality, super::InvalidValue> {
        flags.iter().try_fold(Personality(domain), |p, name| {
            PERSONALITY_FLAGS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, bit)| Personality(p.0 | bit))
                .ok_or_else(|| format!("unknown personality flag {name:?}").into())
        })
    }

    /// A domain the spec names, and only known flags.
    pub fn check(self) -> Result<(), super::InvalidValue> {
        // The domain is the low byte (`PER_MASK`), the flags are above it.
        let domain = self.0 & 0xff;
        if domain != PER_LINUX && domain != PER_LINUX32 {
            return Err(format!("unknown execution domain {domain:#x}").into());
        }
        let flags = PERSONALITY_FLAGS.iter().fold(0, |all, (_, bit)| all | bit);
        match self.0 & !(0xff | flags) {
            0 => Ok(()),
            unknown => Err(format!("unknown flags {unknown:#x}").into()),
        }
    }
}

/// `struct sched_attr` of `sched_setattr(2)`, as far as the OCI spec fills it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduler {
    /// The policy: one of the `SCHED_*` constants.
    pub policy: u32,
    /// `SCHED_FLAG_*` bits.
    pub flags: u64,
    /// The nice value, -20..19 (for `SCHED_OTHER` and `SCHED_BATCH`).
    pub nice: i32,
    /// The static priority, 1..99 (for `SCHED_FIFO` and `SCHED_RR`).
    pub priority: u32,
    /// Run time per period in nanoseconds (`SCHED_DEADLINE`).
    pub runtime: u64,
    /// Relative deadline in nanoseconds (`SCHED_DEADLINE`).
    pub deadline: u64,
    /// Period in nanoseconds (`SCHED_DEADLINE`).
    pub period: u64,
}

/// The default time-sharing policy.
pub const SCHED_OTHER: u32 = 0;
/// Real-time, first in first out.
pub const SCHED_FIFO: u32 = 1;
/// Real-time, round robin.
pub const SCHED_RR: u32 = 2;
/// Time-sharing for batch work.
pub const SCHED_BATCH: u32 = 3;
/// Only when nothing else wants to run.
pub const SCHED_IDLE: u32 = 5;
/// Earliest deadline first.
pub const SCHED_DEADLINE: u32 = 6;

/// The `SCHED_FLAG_*` bits hull sets. Not the utilization clamps: they need clamp
/// values, which the OCI spec does not carry.
pub const SCHED_FLAG_RESET_ON_FORK: u64 = 0x01;
/// Deadline tasks may reclaim bandwidth left unused.
pub const SCHED_FLAG_RECLAIM: u64 = 0x02;
/// Deadline tasks get `SIGXCPU` when they overrun.
pub const SCHED_FLAG_DL_OVERRUN: u64 = 0x04;
/// Keep the current policy.
pub const SCHED_FLAG_KEEP_POLICY: u64 = 0x08;
/// Keep the current parameters.
pub const SCHED_FLAG_KEEP_PARAMS: u64 = 0x10;

impl Scheduler {
    /// Checks what the kernel would refuse with a bare EINVAL, to say which part is wrong.
    pub fn check(&self) -> Result<(), super::InvalidValue> {
        let policies = [
            SCHED_OTHER,
            SCHED_FIFO,
            SCHED_RR,
            SCHED_BATCH,
            SCHED_IDLE,
            SCHED_DEADLINE,
        ];
        if !policies.contains(&self.policy) {
            return Err(format!("unknown policy {}", self.policy).into());
        }
        let known = SCHED_FLAG_RESET_ON_FORK
            | SCHED_FLAG_RECLAIM
            | SCHED_FLAG_DL_OVERRUN
            | SCHED_FLAG_KEEP_POLICY
            | SCHED_FLAG_KEEP_PARAMS;
        if self.flags & !known != 0 {
            return Err(format!("unknown flags {:#x}", self.flags & !known).into());
        }
        if !(-20..=19).contains(&self.nice) {
            return Err(format!("nice {} is outside -20..19", self.nice).into());
        }
        let realtime = matches!(self.policy, SCHED_FIFO | SCHED_RR);
        if realtime && !(1..=99).contains(&self.priority) {
            return Err(format!(
                "priority {} is outside 1..99 for a real-time policy",
                self.priority
            )
            .into());
        }
        if !realtime && self.priority != 0 {
            return Err("priority is only for SCHED_FIFO and SCHED_RR".into());
        }
        let deadline_fields = self.runtime != 0 || self.deadline != 0 || self.period != 0;
        if self.policy != SCHED_DEADLINE {
            if deadline_fields {
                return Err("runtime, deadline and period are only for SCHED_DEADLINE".into());
            }
            return Ok(());
        }
        let period = if self.period == 0 {
            self.deadline
        } else {
            self.period
        };
        if self.runtime == 0 || self.runtime > self.deadline || self.deadline > period {
            return Err("SCHED_DEADLINE needs 0 < runtime <= deadline <= period".into());
        }
        Ok(())
    }
}

/// `ioprio_set(2)`'s priority: class and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoPriority {
    /// The class: one of the `IOPRIO_CLASS_*` constants.
    pub class: u16,
    /// The level within the class, 0 (highest) to 7.
    pub level: u16,
}

/// Real-time I/O.
pub const IOPRIO_CLASS_RT: u16 = 1;
/// Best-effort I/O (the default).
pub const IOPRIO_CLASS_BE: u16 = 2;
/// I/O only when the disk is otherwise idle.
pub const IOPRIO_CLASS_IDLE: u16 = 3;

impl IoPriority {
    /// A known class, and a level of 0 (the highest) to 7; a refusal names the part
    /// (`class` or `priority`, as OCI calls them) and says why.
    pub fn check(self) -> Result<(), (&'static str, String)> {
        if !(IOPRIO_CLASS_RT..=IOPRIO_CLASS_IDLE).contains(&self.class) {
            return Err(("class", format!("unknown class {}", self.class)));
        }
        if self.level > 7 {
            return Err((
                "priority",
                format!("priority {} is outside 0..7", self.level),
            ));
        }
        Ok(())
    }

    /// The value the syscall takes.
    pub fn value(self) -> i32 {
        i32::from(self.class) << 13 | i32::from(self.level)
    }
}

/// A set of CPUs or NUMA nodes, as bits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitSet(pub Vec<u64>);

/// More than any machine has: a typo must not make hull allocate gigabytes.
const MAX_BIT: u32 = 8192;

impl BitSet {
    /// Parses a list such as `0-3,7` (the kernel's "cpulist" format).
    pub fn parse_list(list: &str) -> Result<BitSet, super::InvalidValue> {
        let mut set = BitSet::default();
        for part in list.split(',') {
            let bound = |s: &str| -> Result<u32, super::InvalidValue> {
                match s.trim().parse::<u32>() {
                    Ok(n) if n < MAX_BIT => Ok(n),
                    _ => Err(format!("{list:?} is not a list such as 0-3,7").into()),
                }
            };
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (bound(a)?, bound(b)?),
                None => (bound(part)?, bound(part)?),
            };
            if first > last {
                return Err(format!("{list:?}: range {part} goes backwards").into());
            }
            for bit in first..=last {
                set.insert(bit);
            }
        }
        Ok(set)
    }

    fn insert(&mut self, bit: u32) {
        let word = (bit / 64) as usize;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (bit % 64);
    }

    /// Whether bit `bit` is set.
    pub fn contains(&self, bit: u32) -> bool {
        self.0
            .get((bit / 64) as usize)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// One past the highest bit set.
    pub fn len_bits(&self) -> u32 {
        (0..self.0.len() as u32 * 64)
            .rev()
            .find(|b| self.contains(*b))
            .map_or(0, |b| b + 1)
    }
}

/// `process.execCPUAffinity`: where a process hull runs in a container may run, before
/// it joins the container's cgroup and once it is there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuAffinity {
    /// The CPUs before the process joins the cgroup; unchanged when `None`.
    pub initial: Option<BitSet>,
    /// The CPUs once it is in the cgroup; unchanged when `None`.
    pub last: Option<BitSet>,
}

/// `set_mempolicy(2)`'s arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryPolicy {
    /// `MPOL_*` mode, with its `MPOL_F_*` flags or-ed in.
    pub mode: i32,
    /// The NUMA nodes the policy names.
    pub nodes: BitSet,
}

/// Allocate by the process's default policy.
pub const MPOL_DEFAULT: i32 = 0;
/// Prefer one node.
pub const MPOL_PREFERRED: i32 = 1;
/// Allocate only from the nodes given.
pub const MPOL_BIND: i32 = 2;
/// Interleave allocations over the nodes given.
pub const MPOL_INTERLEAVE: i32 = 3;
/// Allocate on the node of the CPU that allocates.
pub const MPOL_LOCAL: i32 = 4;
/// Prefer the nodes given.
pub const MPOL_PREFERRED_MANY: i32 = 5;
/// Interleave over the nodes given, by their weights.
pub const MPOL_WEIGHTED_INTERLEAVE: i32 = 6;
/// Flag: NUMA balancing for `MPOL_BIND`.
pub const MPOL_F_NUMA_BALANCING: i32 = 1 << 13;
/// Flag: the nodes are relative to the cpuset's allowed nodes.
pub const MPOL_F_RELATIVE_NODES: i32 = 1 << 14;
/// Flag: the nodes are not remapped when the cpuset changes.
pub const MPOL_F_STATIC_NODES: i32 = 1 << 15;

/// The modes and flags by their names (what `features` lists).
pub const MPOL_MODE_NAMES: [(&str, i32); 7] = [
    ("MPOL_DEFAULT", MPOL_DEFAULT),
    ("MPOL_BIND", MPOL_BIND),
    ("MPOL_INTERLEAVE", MPOL_INTERLEAVE),
    ("MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE),
    ("MPOL_PREFERRED", MPOL_PREFERRED),
    ("MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY),
    ("MPOL_LOCAL", MPOL_LOCAL),
];
/// The flags by their names (what `features` lists).
pub const MPOL_FLAG_NAMES: [(&str, i32); 3] = [
    ("MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING),
    ("MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES),
    ("MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES),
];

impl MemoryPolicy {
    /// Checks the combinations `set_mempolicy` refuses, to say which.
    pub fn check(&self) -> Result<(), super::InvalidValue> {
        let all_flags = MPOL_FLAG_NAMES.iter().fold(0, |all, (_, bit)| all | bit);
        let (mode, flags, nodes) = (self.mode & !all_flags, self.mode & all_flags, &self.nodes);
        if !MPOL_MODE_NAMES.iter().any(|(_, m)| *m == mode) {
            return Err(format!("unknown mode {mode}").into());
        }
        match mode {
            MPOL_DEFAULT | MPOL_LOCAL if !nodes.is_empty() => {
                return Err("MPOL_DEFAULT and MPOL_LOCAL take no nodes".into())
            }
            MPOL_DEFAULT | MPOL_LOCAL if flags != 0 => {
                return Err("MPOL_DEFAULT and MPOL_LOCAL take no flags".into())
            }
            MPOL_BIND | MPOL_INTERLEAVE | MPOL_PREFERRED_MANY | MPOL_WEIGHTED_INTERLEAVE
                if nodes.is_empty() =>
            {
                return Err("this mode needs nodes".into())
            }
            _ => {}
        }
        if flags & MPOL_F_STATIC_NODES != 0 && flags & MPOL_F_RELATIVE_NODES != 0 {
            return Err("MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other".into());
        }
        if flags & MPOL_F_NUMA_BALANCING != 0 && mode != MPOL_BIND && mode != MPOL_PREFERRED_MANY {
            return Err(
                "MPOL_F_NUMA_BALANCING is only for MPOL_BIND and MPOL_PREFERRED_MANY".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personality_flags_by_name() {
        let p = Personality::new(PER_LINUX32, &["ADDR_NO_RANDOMIZE".into()]).unwrap();
        assert_eq!(p.0, 0x0040008);
        assert!(Personality::new(PER_LINUX, &["NO_SUCH".into()])
            .unwrap_err()
            .0
            .contains("NO_SUCH"));
    }

    #[test]
    fn scheduler_checks_name_the_wrong_part() {
        let rr = Scheduler {
            policy: SCHED_RR,
            priority: 10,
            ..Scheduler::default()
        };
        assert_eq!(rr.check(), Ok(()));
        let zero = Scheduler { priority: 0, ..rr };
        assert!(zero.check().unwrap_err().0.contains("1..99"));
        let nice = Scheduler {
            nice: 20,
            ..Scheduler::default()
        };
        assert!(nice.check().unwrap_err().0.contains("nice"));
        let other_prio = Scheduler {
            priority: 5,
            ..Scheduler::default()
        };
        assert!(other_prio.check().is_err());
        let dl = Scheduler {
            policy: SCHED_DEADLINE,
            runtime: 10_000_000,
            deadline: 30_000_000,
            period: 30_000_000,
            ..Scheduler::default()
        };
        assert_eq!(dl.check(), Ok(()));
        let dl_bad = Scheduler {
            runtime: 40_000_000,
            ..dl
        };
        assert!(dl_bad
            .check()
            .unwrap_err()
            .0
            .contains("runtime <= deadline"));
        let batch_dl = Scheduler {
            policy: SCHED_BATCH,
            ..dl
        };
        assert!(batch_dl
            .check()
            .unwrap_err()
            .0
            .contains("only for SCHED_DEADLINE"));
        let iso = Scheduler {
            policy: 4,
            ..Scheduler::default()
        };
        assert!(iso.check().unwrap_err().0.contains("policy"));
        let clamp = Scheduler {
            flags: 0x20,
            ..Scheduler::default()
        };
        assert!(clamp.check().unwrap_err().0.contains("flags"));
    }

    #[test]
    fn personality_domains_and_flags() {
        assert_eq!(Personality(PER_LINUX32 | 0x0040000).check(), Ok(()));
        assert!(Personality(0x42).check().unwrap_err().0.contains("domain"));
        assert!(Personality(1 << 40)
            .check()
            .unwrap_err()
            .0
            .contains("flags"));
    }

    #[test]
    fn io_priority_value_and_range() {
        let be = IoPriority {
            class: IOPRIO_CLASS_BE,
            level: 4,
        };
        assert_eq!(be.check(), Ok(()));
        assert_eq!(be.value(), 2 << 13 | 4);
        let eight = IoPriority { level: 8, ..be };
        assert_eq!(eight.check().unwrap_err().0, "priority");
        let classless = IoPriority { class: 0, ..be };
        assert_eq!(classless.check().unwrap_err().0, "class");
    }

    #[test]
    fn lists_parse_into_bits() {
        let set = BitSet::parse_list("0-2,5,64").unwrap();
        assert!(set.contains(0) && set.contains(2) && set.contains(5) && set.contains(64));
        assert!(!set.contains(3) && !set.contains(63));
        assert_eq!(set.len_bits(), 65);
        for bad in ["", "a", "3-1", "1,,2", "99999", "-1"] {
            assert!(BitSet::parse_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_policy_combinations() {
        let nodes = BitSet::parse_list("0").unwrap();
        let policy = |mode, nodes: &BitSet| MemoryPolicy {
            mode,
            nodes: nodes.clone(),
        };
        let none = BitSet::default();
        assert_eq!(policy(MPOL_BIND, &nodes).check(), Ok(()));
        assert!(policy(MPOL_BIND, &none).check().is_err());
        assert!(policy(MPOL_LOCAL, &nodes).check().is_err());
        assert_eq!(policy(MPOL_PREFERRED, &none).check(), Ok(()));
        let both = MPOL_INTERLEAVE | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES;
        assert!(policy(both, &nodes).check().is_err());
        assert_eq!(
            policy(MPOL_BIND | MPOL_F_STATIC_NODES, &nodes).check(),
            Ok(())
        );
        assert!(policy(42, &nodes).check().unwrap_err().0.contains("mode"));
    }
}
