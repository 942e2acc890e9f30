//! The parent side of making a container's init: prepares the plan, forks with
//! `clone3`, maps ids, places the child in its cgroup, and follows the child's setup
//! over the channel until it is `Ready` (or reports why not).

use std::os::fd::{AsFd, OwnedFd};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::path::Path;

use super::channel::{Channel, ChannelError, Message};
use super::Process;
use crate::cgroups::Cgroup;
use crate::config::{Config, NamespaceKind};
use crate::container::liveness;
use crate::error::{Error, Result};
use crate::init::{self, InitPlan};
use crate::procfs::Procfs;
use crate::rootfs::CgroupMountPlan;
use crate::seccomp::agent;
use crate::sys;

/// A new process that is not yet ready; killed (and reaped, if it is our child) when
/// dropped.
pub(super) struct Child {
    pub(super) pid: i32,
    /// Not to wait for by pid: the process of a second fork, or one already reaped.
    pub(super) reaped: bool,
    /// The process of a second fork (a sibling made with CLONE_PARENT, so our child
    /// too): signalled and reaped through this pidfd, never by a pid that may have been
    /// reused.
    pub(super) pidfd: Option<OwnedFd>,
}

impl Child {
    /// Our own child, not reaped yet.
    pub(super) fn forked(pid: i32) -> Child {
        Child {
            pid,
            reaped: false,
            pidfd: None,
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(pidfd) = &self.pidfd {
            let _ = sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            // Our child since CLONE_PARENT: reaped here, or it stays a zombie of ours.
            let _ = nix::sys::wait::waitid(
                nix::sys::wait::Id::PIDFd(pidfd.as_fd()),
                nix::sys::wait::WaitPidFlag::WEXITED,
            );
            return;
        }
        // A pid we reaped may already belong to someone else: never signal it.
        if self.pid <= 0 {
            return;
        }
        // The process we forked, not reaped yet.
        let _ = nix::sys::signal::kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        if !self.reaped {
            let _ = super::wait_pid(self.pid);
        }
    }
}

pub(super) fn start_time_of(pid: i32) -> Result<u64> {
    liveness::stat(pid)
        .map(|(_, t)| t)
        .ok_or_else(|| Error::Init(format!("init (pid {pid}) vanished during setup")))
}

fn open_namespaces(config: &Config) -> Result<Vec<(NamespaceKind, OwnedFd)>> {
    let mut joins = Vec::new();
    for kind in NamespaceKind::ALL {
        if let Some(path) = config.namespace(kind).and_then(|n| n.path.as_ref()) {
            // Non-blocking: a FIFO at that path must not hang us; it is refused below.
            let fd = std::fs::File::options()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .map_err(|e| Error::io("open namespace", path, e))?;
            let is_nsfs = nix::sys::statfs::fstatfs(&fd)
                .is_ok_and(|st| st.filesystem_type() == nix::sys::statfs::NSFS_MAGIC);
            if !is_nsfs {
                let source = std::io::Error::other("not a namespace file");
                return Err(Error::io("join namespace", path, source));
            }
            joins.push((kind, fd.into()));
        }
    }
    Ok(joins)
}

/// Starts the container's init and returns its pid and start time once it is ready,
/// then waiting on `fifo` for `start` (without one, init goes on at once).
pub(crate) fn spawn_init(
    config: &Config,
    process: &Process,
    cgroup: &Cgroup,
    cgroup_mounts: CgroupMountPlan,
    fifo: Option<&Path>,
    requests: &Requests<'_>,
) -> Result<Spawned> {
    let fifo = fifo
        .map(|fifo| crate::sys::open_path(fifo, 0).map_err(|e| Error::io("open", fifo, e)))
        .transpose()?;
    let join = open_namespaces(config)?;
    let new: u64 = config
        .namespaces
        .iter()
        .filter(|n| n.path.is_none())
        .map(|n| n.kind.clone_flag())
        .fold(0, |a, b| a | b);
    let cgroupns = NamespaceKind::Cgroup.clone_flag();
    let timens = NamespaceKind::Time.clone_flag();
    // The fast path: everything new, made by clone3 itself. Joins must happen before a
    // new user namespace is made, and time offsets before anyone is in the namespace,
    // so either means unshare() and a second fork in the child.
    //
    // A caller with other threads gets the slow path too, forked by glibc's fork(),
    // which takes the allocator's locks first: a raw clone3 copies whatever lock
    // another thread holds at that moment, and init would hang on it at its first
    // allocation.
    let threaded = !sys::single_threaded();
    let fast = join.is_empty() && new & timens == 0 && !threaded;
    let clone_flags = if fast { new & !cgroupns } else { 0 };
    let changes_pid = config.namespace(NamespaceKind::Pid).is_some() || new & timens != 0;
    let maps_ids = clone_flags & NamespaceKind::User.clone_flag() != 0;
    let await_go = maps_ids || process.oom_score_adj.is_some() || requests.place.is_some();
    let unprivileged = super::unprivileged();
    // Before the fork: init inherits them.
    let idmapped = crate::rootfs::idmapped::prepare(config, unprivileged)?;
    let plan = InitPlan {
        config,
        process,
        seccomp: config
            .seccomp
            .as_ref()
            .map(crate::seccomp::compile)
            .transpose()?,
        fifo,
        join,
        unshare: if fast { new & cgroupns } else { new },
        fork_again: !fast && changes_pid,
        new_user_namespace: new & NamespaceKind::User.clone_flag() != 0,
        dumpable_until_mapped: new & NamespaceKind::User.clone_flag() != 0 && unprivileged,
        may_drop_code: !threaded,
        in_user_namespace: config.namespace(NamespaceKind::User).is_some() || unprivileged,
        cgroup_mounts,
        idmapped,
        hook_state: None,
        await_go,
    };
    let joiner = match requests.place {
        Some(_) => crate::cgroups::Joiner::none(),
        None => cgroup.joiner()?,
    };
    let (parent_end, child_end) = Channel::pair().map_err(|e| Error::sys("socketpair", e))?;
    // A copy of the cgroup's handle for clone3: the child takes the joiner itself.
    let cgroup_fd = (joiner.unified.as_ref().map(OwnedFd::try_clone).transpose())
        .map_err(|e| Error::sys("dup", e))?;
    let pid = sys::fork_child(
        clone_flags,
        cgroup_fd.as_ref().map(OwnedFd::as_fd),
        |only, born_in_cgroup| {
            // Our copy of the parent's end goes with every other inherited descriptor.
            init::run(plan, joiner, born_in_cgroup, child_end, only)
        },
    )
    .map_err(|e| Error::sys("clone3", e))?;
    let child = Child::forked(pid);
    // Read while the pid is certainly init's: our unreaped child (or, below, a
    // grandchild that waits for our word).
    let start_time = start_time_of(pid)?;

    if maps_ids {
        super::idmap::write(config, pid)?;
    }
    set_oom_score_adj(process, pid)?;
    if let Some(place) = requests.place {
        place(pid)?;
    }
    if await_go {
        parent_end.send(&Message::Go)?;
    }
    follow(&parent_end, child, start_time, requests)
}

/// What a new process may ask of its parent during setup.
pub(crate) struct Requests<'a> {
    pub config: &'a Config,
    /// Init only: the runtime's hooks, returning the state JSON for init's own hooks.
    /// Init is also the only one that asks for id maps.
    pub hooks: Option<&'a dyn Fn(i32) -> Result<String>>,
    /// The container's state for a seccomp agent, given the new process's pid.
    pub state: &'a dyn Fn(i32) -> serde_json::Value,
    /// Init only, with the systemd driver: puts the new process in its cgroup (which
    /// then it does not join itself) before it goes on.
    pub place: Option<&'a dyn Fn(i32) -> Result<()>>,
}

/// Follows a new process over the channel until it is `Ready`: writes id maps, runs
/// hooks and hands a seccomp listener to its agent when it asks, and takes over the
/// grandchild of a second fork. Returns the ready process; kills it on any failure.
pub(super) fn follow(
    chan: &Channel,
    mut child: Child,
    mut start_time: u64,
    requests: &Requests<'_>,
) -> Result<Spawned> {
    let init = requests.hooks;
    // Devices moved into init's network namespace, veth pairs made for it: back out if
    // setup fails from here.
    let mut net_devices = None;
    let mut networks = None;
    // Asked once, by init.
    let mut network_set_up = false;
    loop {
        let sent = match chan.recv_with_fd() {
            Ok((Message::Ready, _)) => break,
            Ok((Message::MapIds, _)) if init.is_some() => {
                super::idmap::write(requests.config, child.pid)?;
                chan.send(&Message::Go)
            }
            Ok((Message::TimeOffsets, _)) if init.is_some() => {
                write_time_offsets(requests.config, child.pid)?;
                chan.send(&Message::Go)
            }
            Ok((Message::RunHooks, _)) if init.is_some() => {
                let state = init.expect("checked")(child.pid)?;
                chan.send(&Message::HookState(state))
            }
            Ok((Message::SeccompListener, Some(listener))) if requests.config.seccomp.is_some() => {
                let profile = requests.config.seccomp.as_ref().expect("checked");
                let state = (requests.state)(child.pid);
                agent::send(profile, child.pid, state, listener.as_fd())?;
                // Ours closes now: the agent's copy is the one that answers.
                drop(listener);
                Ok(())
            }
            Ok((Message::NetDevices, _)) if init.is_some() && !network_set_up => {
                let pidfd = match &child.pidfd {
                    Some(pidfd) => pidfd.try_clone(),
                    // Our own child, not reaped: its pid is its own until we wait.
                    None => sys::pidfd_open(child.pid),
                }
                .map_err(|e| Error::sys("pidfd_open", e))?;
                let config = requests.config;
                // The devices first: a route may go out of one of them.
                if !config.net_devices.is_empty() {
                    net_devices = Some(crate::netdev::move_in(&config.net_devices, pidfd.as_fd())?);
                }
                if !config.networks.is_empty() || !config.routes.is_empty() {
                    networks = Some(crate::netdev::networks::set_up(config, pidfd.as_fd())?);
                }
                network_set_up = true;
                chan.send(&Message::Go)
            }
            Ok((Message::InitPid(pid), Some(pidfd))) if !child.reaped => {
                super::wait_pid(child.pid)?;
                // Reaped: the pid is free again, and must not be signalled (see Drop).
                child.pid = 0;
                child = Child {
                    pid,
                    reaped: true,
                    pidfd: Some(pidfd),
                };
                start_time = start_time_of(pid)?;
                chan.send(&Message::Go)
            }
            Ok((Message::Failed(text), _)) => return Err(Error::Init(text)),
            Ok((other, _)) => {
                return Err(Error::Channel(ChannelError::Unexpected {
                    expected: "Ready",
                    got: format!("{other:?}"),
                }))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            return Err(vanished(&mut child, e));
        }
    }
    // Ready: the process lives on without us, held by a pidfd: the grandchild's, or
    // one opened now on our own child, which cannot have been reaped yet.
    let pidfd = match child.pidfd.take() {
        Some(pidfd) => pidfd,
        None => sys::pidfd_open(child.pid).map_err(|e| Error::sys("pidfd_open", e))?,
    };
    let pid = child.pid;
    std::mem::forget(child);
    if let Some(moved) = net_devices {
        moved.keep();
    }
    let host_ends = networks.map(|made| made.keep()).unwrap_or_default();
    Ok(Spawned {
        pid,
        start_time,
        pidfd,
        host_ends,
    })
}

/// A process that is ready: its pid (in the caller's pid namespace), start time, and a
/// pidfd on it.
pub(crate) struct Spawned {
    pub pid: i32,
    pub start_time: u64,
    pub pidfd: OwnedFd,
    /// Init only: the host ends of the veth pairs made for it.
    pub host_ends: Vec<crate::container::state::HostEnd>,
}

/// The error for a channel that broke: if the new process is gone, say how it went.
fn vanished(child: &mut Child, e: ChannelError) -> Error {
    let broken = matches!(&e, ChannelError::Closed)
        || matches!(&e, ChannelError::Io(io) if io.raw_os_error() == Some(libc::EPIPE)
            || io.raw_os_error() == Some(libc::ECONNRESET));
    if !broken {
        return e.into();
    }
    if child.reaped {
        return Error::Init("the container's process exited during setup".into());
    }
    let status = super::wait_pid(child.pid);
    // Reaped: the pid is free again, and must not be signalled (see Drop).
    child.pid = 0;
    match status {
        Ok(status) => Error::Init(format!(
            "the container's process ended during setup ({})",
            match status {
                super::ExitStatus::Exited(code) => format!("exit status {code}"),
                super::ExitStatus::Signaled(sig) => format!("killed by signal {sig}"),
            }
        )),
        Err(_) => Error::Init("the container's process exited during setup".into()),
    }
}

use std::os::unix::fs::OpenOptionsExt;

/// A new time namespace takes its offsets before any process is in it: `pid` made it
/// with `unshare`, which moves only its future children there.
fn write_time_offsets(config: &Config, pid: i32) -> Result<()> {
    let text: String = config
        .time_offsets
        .iter()
        .map(|(clock, o)| format!("{clock} {} {}\n", o.secs, o.nanosecs))
        .collect();
    Procfs::open()
        .and_then(|p| p.write(&format!("{pid}/timens_offsets"), text.as_bytes()))
        .map_err(|e| Error::sys("set time namespace offsets", e))
}

/// Writes the process's `oomScoreAdj` for it (lowering it needs a privilege the
/// process itself may not keep).
pub(super) fn set_oom_score_adj(process: &Process, pid: i32) -> Result<()> {
    match process.oom_score_adj {
        Some(adj) => Procfs::open()
            .and_then(|p| p.write(&format!("{pid}/oom_score_adj"), adj.to_string().as_bytes()))
            .map_err(|e| Error::sys("set oom_score_adj", e)),
        None => Ok(()),
    }
}
