//! The child side of exec: join the container (cgroup, then every namespace of init at
//! once through its pidfd), fork into the pid namespace, become the process's user, and
//! exec. Shares its last steps with init.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use super::error::{InitResult, Step};
use super::exec;
use crate::cgroups::Joiner;
use crate::config::Config;
use crate::process::channel::{Channel, Message};
use crate::process::Process;
use crate::sys::OnlyThread;

use nix::sched::CloneFlags;

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
    /// The parent writes the process's `oom_score_adj` first and then says `Go`.
    pub await_go: bool,
}

/// The joining child's entry point; never returns.
pub(crate) fn run(
    plan: JoinPlan<'_>,
    cgroup: Joiner,
    born_in_cgroup: bool,
    chan: Channel,
    only: OnlyThread,
) -> ! {
    let chan = Arc::new(chan);
    super::panic::report_to_parent(Arc::clone(&chan), "exec");
    let prepared = prepare(&plan, cgroup, born_in_cgroup, &chan, &only);
    let prepared = super::ready_or_fail(chan, prepared, "exec");
    let late = super::late_filter(plan.seccomp.as_ref(), plan.process);
    super::exec_or_exit(plan.process, prepared, late)
}

/// Everything up to `Ready`.
fn prepare(
    plan: &JoinPlan<'_>,
    cgroup: Joiner,
    born_in_cgroup: bool,
    chan: &Channel,
    only: &OnlyThread,
) -> InitResult<super::Prepared> {
    let affinity = plan.process.exec_cpu_affinity.as_ref();
    if let Some(cpus) = affinity.and_then(|a| a.initial.as_ref()) {
        super::tuning::pin(cpus, "initial")?;
    }
    let keep = vec![plan.init.as_raw_fd()];
    let proc = super::first_steps(
        plan.process,
        keep,
        chan,
        cgroup,
        born_in_cgroup,
        false,
        only,
    )?;
    exec::reset_signals();
    if plan.await_go {
        chan.expect("Go", Message::Go)?;
    }
    enter(plan, chan, only)?;
    if plan.process.terminal {
        // A new session, to own the new controlling terminal.
        nix::unistd::setsid().step("setsid")?;
    }
    let prepared = super::become_process(
        plan.config,
        plan.process,
        plan.seccomp.as_ref(),
        false,
        &proc,
        chan,
    )?;
    // In the cgroup now, whose cpuset reset what `initial` set.
    if let Some(cpus) = affinity.and_then(|a| a.last.as_ref()) {
        super::tuning::pin(cpus, "final")?;
    }
    Ok(prepared)
}

/// Joins every namespace of init in one `setns` on its pidfd, then forks: a pid (or
/// time) namespace takes effect for children only. The intermediate process reports
/// the child's pid and leaves.
fn enter(plan: &JoinPlan<'_>, chan: &Channel, only: &OnlyThread) -> InitResult<()> {
    // None: nothing to join, and setns would refuse.
    if plan.namespaces != 0 {
        let flags = CloneFlags::from_bits_retain(plan.namespaces as libc::c_int);
        nix::sched::setns(&plan.init, flags)
            .map_err(std::io::Error::from)
            .step("join the container's namespaces")?;
    }
    super::fork_into_namespaces(chan, only)
}
