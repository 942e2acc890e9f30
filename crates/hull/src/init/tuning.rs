//! How the container's processes run on the machine, set from inside just before they
//! become the user's program: execution domain, NUMA memory policy, CPU scheduling and
//! I/O priority (all inherited across `execve`), and an exec'd process's CPU affinity.

use super::error::{InitError, InitResult, Step};
use crate::config::scheduling::BitSet;
use crate::config::Config;
use crate::process::Process;
use crate::sys;

/// Applies the container's and the process's settings. Done while the process still has
/// its privileges: real-time policies, negative nice values and the real-time I/O class
/// need CAP_SYS_NICE or CAP_SYS_ADMIN, which the user's program may not keep.
pub fn apply(config: &Config, process: &Process) -> InitResult<()> {
    if let Some(p) = config.personality {
        sys::personality(p.0).step("linux.personality")?;
    }
    if let Some(policy) = &config.memory_policy {
        sys::set_mempolicy(policy.mode, &policy.nodes.0, policy.nodes.len_bits())
            .step("linux.memoryPolicy: set_mempolicy")?;
    }
    if let Some(s) = &process.scheduler {
        sys::sched_setattr(s).step("process.scheduler: sched_setattr")?;
    }
    if let Some(io) = process.io_priority {
        sys::ioprio_set(io.value()).step("process.ioPriority: ioprio_set")?;
    }
    Ok(())
}

/// Pins the calling process to `cpus` (`execCPUAffinity`); `which` names the field.
pub fn pin(cpus: &BitSet, which: &str) -> InitResult<()> {
    let mut set = nix::sched::CpuSet::new();
    for cpu in (0..cpus.len_bits()).filter(|c| cpus.contains(*c)) {
        set.set(cpu as usize).map_err(|_| {
            InitError::Refused(format!(
                "process.execCPUAffinity.{which}: CPU {cpu} is out of range"
            ))
        })?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).step(format!(
        "process.execCPUAffinity.{which}: sched_setaffinity"
    ))
}
