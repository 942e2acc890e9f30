//! The parent side of running a further process in a running container (exec): the
//! new process joins the container's cgroup, then all of init's namespaces at once
//! through init's pidfd, forks once more to be inside the pid namespace, takes its own
//! user, capabilities and limits, and execs.

use std::os::fd::{AsFd, OwnedFd};

use super::channel::{Channel, Message};
use super::spawn::{follow, start_time_of, Child, Requests, Spawned};
use super::Process;
use crate::cgroups::Cgroup;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::init::join::{self, JoinPlan};
use crate::sys;

/// Starts `process` inside the container whose init `init_pidfd` refers to, and returns
/// its pid once it is about to exec.
pub(crate) fn spawn_exec(
    config: &Config,
    process: &Process,
    cgroup: &Cgroup,
    init_pidfd: OwnedFd,
    state: serde_json::Value,
) -> Result<Spawned> {
    let namespaces = config
        .namespaces
        .iter()
        .map(|n| n.kind.clone_flag())
        .fold(0, |a, b| a | b);
    // The only thing the parent does to the new process before it goes on.
    let await_go = process.oom_score_adj.is_some();
    let plan = JoinPlan {
        config,
        process,
        init: init_pidfd,
        namespaces,
        seccomp: config
            .seccomp
            .as_ref()
            .map(crate::seccomp::compile)
            .transpose()?,
        await_go,
    };
    let joiner = cgroup.joiner()?;
    let (parent_end, child_end) = Channel::pair().map_err(|e| Error::sys("socketpair", e))?;
    // As for init: glibc's fork for a caller with threads, clone3 into the cgroup
    // otherwise.
    // A copy of the cgroup's handle for clone3: the child takes the joiner itself.
    let cgroup_fd = (joiner.unified.as_ref().map(OwnedFd::try_clone).transpose())
        .map_err(|e| Error::sys("dup", e))?;
    let pid = sys::fork_child(
        0,
        cgroup_fd.as_ref().map(OwnedFd::as_fd),
        |only, born_in_cgroup| {
            // Our copy of the parent's end goes with every other inherited descriptor.
            join::run(plan, joiner, born_in_cgroup, child_end, only)
        },
    )
    .map_err(|e| Error::sys("clone3", e))?;
    let child = Child::forked(pid);
    let start_time = start_time_of(pid)?;
    super::spawn::set_oom_score_adj(process, pid)?;
    if await_go {
        parent_end.send(&Message::Go)?;
    }
    let requests = Requests {
        config,
        hooks: None,
        state: &|_| state.clone(),
        place: None,
    };
    follow(&parent_end, child, start_time, &requests)
}
