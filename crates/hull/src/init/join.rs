//! The child side of exec: join the container (cgroup, then every namespace of init at
//! once through its pidfd), fork into the pid namespace, become the process's user, and
//! exec. Shares its last steps with init.

use std::os::fd::{AsRawFd, OwnedFd};

use super::{exec, InitResult};
use crate::cgroups::Joiner;
use crate::config::Config;
use crate::process::channel::{Channel, Message};
use crate::process::Process;

/// What the joining process needs, prepared by the parent before the fork.
pub(crate) struct JoinPlan<'a> {
    pub config: &'a Config,
    pub process: &'a Process,
    /// A pidfd of the container's init: the namespaces to join, without any race
    /// against a reused pid.
    pub init: OwnedFd,
    /// `CLONE_NEW*` flags of the namespaces the container has.
    pub namespaces: u64,
    /// The container's seccomp filter, compiled by the parent.
    pub seccomp: Option<crate::seccomp::Filter>,
}

/// The joining child's entry point; never returns.
pub(crate) fn run(plan: JoinPlan<'_>, cgroup: Joiner, born_in_cgroup: bool, chan: Channel) -> ! {
    let affinity = plan.process.exec_cpu_affinity.as_ref();
    let prepared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let Some(cpus) = affinity.and_then(|a| a.initial.as_ref()) {
            super::tuning::pin(cpus, "initial")?;
        }
        let keep = vec![plan.init.as_raw_fd()];
        let proc = super::first_steps(plan.process, keep, &chan, cgroup, born_in_cgroup, false)?;
        exec::reset_signals();
        chan.expect("Go", Message::Go).map_err(|e| e.to_string())?;
        enter(&plan, &chan)?;
        if plan.process.terminal {
            // A new session, to own the new controlling terminal.
            nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
        }
        let prepared = super::become_process(
            plan.config,
            plan.process,
            plan.seccomp.as_ref(),
            false,
            &proc,
            &chan,
        )?;
        // In the cgroup now, whose cpuset reset what `initial` set.
        if let Some(cpus) = affinity.and_then(|a| a.last.as_ref()) {
            super::tuning::pin(cpus, "final")?;
        }
        Ok(prepared)
    }));
    let prepared = super::ready_or_fail(chan, prepared, "exec");
    let late = super::late_filter(plan.seccomp.as_ref(), plan.process);
    super::exec_or_exit(plan.process, prepared, late)
}

/// Joins every namespace of init in one `setns` on its pidfd, then forks: a pid (or
/// time) namespace takes effect for children only. The intermediate process reports
/// the child's pid and leaves.
fn enter(plan: &JoinPlan<'_>, chan: &Channel) -> InitResult<()> {
    // SAFETY: setns on a pidfd we own, with namespace flags only (none: nothing to
    // join, and setns would refuse).
    if plan.namespaces != 0
        && unsafe { libc::setns(plan.init.as_raw_fd(), plan.namespaces as libc::c_int) } < 0
    {
        return Err(format!(
            "join the container's namespaces: {}",
            std::io::Error::last_os_error()
        ));
    }
    super::fork_into_namespaces(chan)
}
