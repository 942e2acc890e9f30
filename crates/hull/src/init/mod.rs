//! What runs inside the new container before the user's program: the child side of
//! the spawn. It enters or makes the namespaces, builds the filesystem view, sets the
//! system identity (hostname, sysctls), drops to the configured user and capabilities,
//! reports `Ready`, waits for `start` on exec.fifo, and execs.
//!
//! Runs in a forked copy of the caller; any failure is sent to the parent as text and
//! the process exits.

mod console;
mod error;
mod exec;
mod identity;
pub(crate) mod join;
mod namespaces;
mod panic;
mod stdio;
mod system;
mod tuning;

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use crate::cgroups::Joiner;
use crate::config::{Config, NamespaceKind};
use crate::hooks;
use crate::process::channel::{Channel, ChannelError, Message};
use crate::process::Process;
use crate::procfs::{OwnFds, Procfs};
use crate::rootfs::{self, idmapped::IdmappedMounts, CgroupMountPlan};
use crate::seccomp::Filter;
use crate::sys;
use error::refused;
pub(crate) use error::{InitResult, Step};

/// Everything init needs, prepared by the parent before the fork.
pub(crate) struct InitPlan<'a> {
    pub config: &'a Config,
    pub process: &'a Process,
    /// The container's seccomp filter, compiled by the parent.
    pub seccomp: Option<Filter>,
    /// exec.fifo, opened `O_PATH` before the fork; reopened for writing at the end.
    /// None when the program is to run at once (a container run, not created).
    pub fifo: Option<OwnedFd>,
    /// Namespaces to join, in joining order.
    pub join: Vec<(NamespaceKind, OwnedFd)>,
    /// New namespaces to `unshare` after joining (those `clone3` did not make).
    pub unshare: u64,
    /// A pid or time namespace entered by `setns`/`unshare` takes effect for children
    /// only: fork once more.
    pub fork_again: bool,
    pub new_user_namespace: bool,
    /// Init ends up in a user namespace other than the initial one (a new one, or the
    /// runtime's own, as under rootless podman): no mknod, no fresh sysfs of a network
    /// namespace it does not own; devices and /sys are bound from the host instead.
    pub in_user_namespace: bool,
    /// An unprivileged parent writes the new user namespace's id maps through our
    /// `/proc/<pid>` files, which it owns only while we are dumpable: stay so until the
    /// maps are written (no process of the container exists yet), as runc does.
    pub dumpable_until_mapped: bool,
    /// Whether init, waiting for start, may drop its pages of the executable's code: only
    /// when it was forked from a single thread (with others, one may have held the
    /// loader's lock that finding the code's segments takes).
    pub may_drop_code: bool,
    pub cgroup_mounts: CgroupMountPlan,
    /// The idmapped binds the parent made, to move into place.
    pub idmapped: IdmappedMounts,
    /// The container's state JSON for its own hooks, once the parent has sent it.
    pub hook_state: Option<String>,
    /// The parent has something to do to the new process before it goes on (write its
    /// id maps or its `oom_score_adj`, place it in a systemd scope) and then says `Go`;
    /// otherwise it goes on at once (one round trip less).
    pub await_go: bool,
}

impl InitPlan<'_> {
    /// The descriptors init needs beyond the process's own.
    fn fds(&self) -> Vec<RawFd> {
        let mut fds: Vec<RawFd> = self.fifo.iter().map(|f| f.as_raw_fd()).collect();
        fds.extend(self.join.iter().map(|(_, fd)| fd.as_raw_fd()));
        fds.extend(self.idmapped.raw_fds());
        fds
    }
}

/// The child's entry point; never returns.
pub(crate) fn run(
    mut plan: InitPlan<'_>,
    cgroup: Joiner,
    born_in_cgroup: bool,
    chan: Channel,
    only: sys::OnlyThread,
) -> ! {
    let chan = Arc::new(chan);
    panic::report_to_parent(Arc::clone(&chan), "init");
    let prepared = first_steps(
        plan.process,
        plan.fds(),
        &chan,
        cgroup,
        born_in_cgroup,
        plan.dumpable_until_mapped,
        &only,
    )
    .and_then(|proc| prepare(&mut plan, &proc, &chan, &only));
    let (prepared, own_fds) = ready_or_fail(chan, prepared, "init");
    let late = late_filter(plan.seccomp.as_ref(), plan.process);
    let waited = match &plan.fifo {
        Some(fifo) => {
            // Waiting for `start` may take long: hold none of hull's code meanwhile
            // (with 1,000 created containers, their RSS). Not under a loaded filter,
            // which may refuse madvise with a kill.
            if plan.may_drop_code && (plan.seccomp.is_none() || late.is_some()) {
                sys::drop_code_pages();
            }
            exec::wait_for_start(fifo, &own_fds)
        }
        None => Ok(()),
    };
    let started = waited.and_then(|()| match &plan.hook_state {
        Some(state) => Ok(hooks::run_all_with_env(
            "startContainer",
            &plan.config.hooks.start_container,
            state,
            Some(&prepared.1),
        )?),
        None => Ok(()),
    });
    if let Err(e) = started {
        exec::report(&e);
        sys::exit_now(1)
    }
    exec_or_exit(plan.process, prepared, late)
}

/// The first steps of every process hull puts in a container (init and exec); `keep`
/// holds the descriptors it needs beyond the process's own. Returns the process's
/// handle on the host's procfs, opened before any of the container's mounts can be
/// in the way: every later write to `/proc` goes through it (see `procfs`).
pub(crate) fn first_steps(
    process: &Process,
    mut keep: Vec<RawFd>,
    chan: &Channel,
    cgroup: Joiner,
    born_in_cgroup: bool,
    dumpable_until_mapped: bool,
    only: &sys::OnlyThread,
) -> InitResult<Procfs> {
    // Until execve replaces us, this process is the hull binary inside the container's
    // namespaces: nobody there may open /proc/<pid>/exe and write through it
    // (CVE-2019-5736).
    if !dumpable_until_mapped {
        set_non_dumpable()?;
    }
    // Keep only what the plan needs: in particular not the parent's flock on the
    // container, which `start` must be able to take while init waits for it.
    keep.extend(process.held_fds());
    keep.push(chan.as_fd().as_raw_fd());
    keep.extend(cgroup.fds());
    sys::close_all_except(only, &mut keep).step("close inherited descriptors")?;
    if process.terminal {
        release_stdio(&keep)?;
    }
    // Into the cgroup before anything else, so all we do is accounted there; then the
    // handles on the host's cgroup files go.
    cgroup.join(born_in_cgroup)?;
    Procfs::open().step("open /proc")
}

fn set_non_dumpable() -> InitResult<()> {
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0).step("set non-dumpable")
}

/// With a terminal, the pty becomes the process's stdio at exec; until then it holds
/// none of the caller's. Those may be pipes whose reader waits for their end: an
/// engine's shim reads `create`'s output until EOF, and init lives on until `start`
/// (Docker's `run -t` hung on it).
fn release_stdio(keep: &[RawFd]) -> InitResult<()> {
    let null = std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .step("open /dev/null")?;
    for fd in (0..=2).filter(|fd| !keep.contains(fd)) {
        nix::unistd::dup2(null.as_raw_fd(), fd).step(format!("dup2 to fd {fd}"))?;
    }
    Ok(())
}

/// The end of setup, for init and exec (`what`) alike: a failure goes to the parent
/// (which reports it as its own) and we exit; otherwise `Ready`, after which the parent
/// no longer listens: the channel closes, and a panic goes to stderr.
pub(crate) fn ready_or_fail<T>(
    chan: Arc<Channel>,
    prepared: InitResult<T>,
    what: &'static str,
) -> T {
    let ready = match prepared {
        Ok(ready) => ready,
        Err(e) => fail_before_ready(&chan, e.to_string()),
    };
    if let Err(e) = chan.send(&Message::Ready) {
        exec::report(&e);
        sys::exit_now(1)
    }
    panic::report_on_stderr(what);
    ready
}

/// Execs the prepared program; if that fails, says why on stderr and exits 127, as a
/// shell does for a program it could not run.
pub(crate) fn exec_or_exit(
    process: &Process,
    (program, env, tty): Prepared,
    late_filter: Option<&Filter>,
) -> ! {
    let err = match exec::exec(process, &program, &env, tty.as_ref(), late_filter) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    exec::report(&err);
    sys::exit_now(127)
}

/// The filter to load just before `execve`: with no_new_privileges and no listener.
pub(crate) fn late_filter<'f>(
    seccomp: Option<&'f Filter>,
    process: &Process,
) -> Option<&'f Filter> {
    seccomp.filter(|f| process.no_new_privileges && !f.notifies())
}

/// Forks once more, for a pid or time namespace entered with setns/unshare, which only
/// children enter. The child is our sibling (`CLONE_PARENT`): the caller's child, which
/// it can wait for from any thread. The intermediate process sends the child's pid
/// with a pidfd it opened while the child certainly existed (so the parent never
/// signals a reused pid), and leaves; the child waits for the parent's word.
pub(crate) fn fork_into_namespaces(chan: &Channel, only: &sys::OnlyThread) -> InitResult<()> {
    match sys::fork_sibling(only).step("fork into the pid namespace")? {
        sys::Forked::Parent(child) => {
            let sent = sys::pidfd_open(child)
                .map_err(ChannelError::Io)
                .and_then(|pidfd| chan.send_with_fd(&Message::InitPid(child), pidfd.as_fd()));
            if let Err(e) = sent {
                let _ = chan.send(&Message::Failed(format!(
                    "hand over the container's process: {e}"
                )));
            }
            // This intermediate process has done its job.
            sys::exit_now(0)
        }
        sys::Forked::Child => Ok(chan.expect("Go", Message::Go)?),
    }
}

/// Reports a setup failure to the parent (who prints it as its own) and exits.
fn fail_before_ready(chan: &Channel, text: String) -> ! {
    if chan.send(&Message::Failed(text.clone())).is_err() {
        exec::report(&text);
    }
    sys::exit_now(1)
}

/// What a prepared process execs: the program, its environment, and its terminal.
pub(crate) type Prepared = (std::ffi::CString, Vec<String>, Option<OwnedFd>);

/// Everything up to `Ready`; also returns init's own descriptors in the procfs, to
/// reopen exec.fifo after the seccomp filter is on.
fn prepare(
    plan: &mut InitPlan<'_>,
    proc: &Procfs,
    chan: &Channel,
    only: &sys::OnlyThread,
) -> InitResult<(Prepared, OwnFds)> {
    let config = plan.config;
    let process = plan.process;
    exec::reset_signals();
    if plan.await_go {
        chan.expect("Go", Message::Go)?;
    }
    namespaces::enter(plan, chan, only)?;
    // The parent moves the network devices in and sets up the networks now: before
    // any hook, and before anything of the container could see the namespace without
    // them.
    if !config.net_devices.is_empty() || !config.networks.is_empty() || !config.routes.is_empty() {
        chan.send(&Message::NetDevices)?;
        chan.expect("Go", Message::Go)?;
    }
    if plan.dumpable_until_mapped {
        set_non_dumpable()?;
    }
    // Init is the process it will stay from here on (any second fork is behind us).
    let own_fds = proc.own_fds().step("open init's descriptors in /proc")?;
    // The joined namespaces' handles would otherwise stay open until exec.
    plan.join.clear();
    // Device modes must be exact.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    nix::unistd::setsid().step("setsid")?;

    let mounted = rootfs::prepare(
        config,
        &plan.cgroup_mounts,
        &mut plan.idmapped,
        &process.cwd,
        plan.in_user_namespace,
    )?;
    // Before pivot_root: the runtime's hooks (run by the parent), then createContainer
    // in our namespaces; the state JSON comes back for startContainer.
    if plan.config.hooks.any_before_pivot() || !plan.config.hooks.start_container.is_empty() {
        chan.send(&Message::RunHooks)?;
        match chan.recv()? {
            Message::HookState(state) => {
                // In the container's namespaces: the process's environment, never the
                // runtime's (which may hold the caller's secrets), as runc's init has.
                hooks::run_all_with_env(
                    "createContainer",
                    &config.hooks.create_container,
                    &state,
                    Some(&process.env),
                )?;
                plan.hook_state = Some(state);
            }
            other => {
                return refused(format!(
                    "sync channel: expected the hook state, got {other:?}"
                ))
            }
        }
    }
    rootfs::enter(config, mounted)?;
    system::network(config)?;
    system::set_names(config)?;
    system::write_sysctls(config, proc)?;
    rootfs::finalize(config)?;

    let own_mounts = config.namespace(NamespaceKind::Mount).is_some();
    if own_mounts && !process.terminal {
        stdio::reopen_dev_null()?;
    }
    let prepared = become_process(
        config,
        process,
        plan.seccomp.as_ref(),
        own_mounts,
        proc,
        chan,
    )?;
    Ok((prepared, own_fds))
}

/// The steps init and exec share once inside the container: terminal (bound over
/// `/dev/console` when `console_mount`), environment, limits, user and capabilities,
/// program, working directory.
///
/// The seccomp filter goes on while we still have CAP_SYS_ADMIN, unless the process
/// gets no_new_privileges: then just before `execve` ([`late_filter`]), so that the
/// profile needs to allow nothing of the runtime's own work (sync with the parent,
/// exec.fifo, hooks), only `execve` (as runc). A filter with a notify listener goes on
/// before `Ready`, after the user switch: the listener must reach the parent (for the
/// agent) over the channel, with the very next syscall.
pub(crate) fn become_process(
    config: &Config,
    process: &Process,
    seccomp: Option<&Filter>,
    console_mount: bool,
    proc: &Procfs,
    chan: &Channel,
) -> InitResult<Prepared> {
    let tty = process
        .terminal
        .then(|| console::setup(process, console_mount))
        .transpose()?;
    let env = exec::environment(process)?;
    identity::set_rlimits(&process.rlimits)?;
    crate::lsm::apply_on_exec(process, proc)?;
    // Before the filter, which may refuse getcwd (runtime-tools' linux_seccomp does),
    // and still as root, as runc enters it; as the user if root may not.
    let in_cwd = exec::enter_cwd(&process.cwd, true)?;
    tuning::apply(config, process)?;
    let load = |f: &Filter| -> InitResult<()> {
        let listener = f.load().step("load the seccomp filter")?;
        if let Some(listener) = listener {
            chan.send_with_fd(&Message::SeccompListener, listener.as_fd())?;
        }
        Ok(())
    };
    if let Some(filter) = seccomp.filter(|_| !process.no_new_privileges) {
        load(filter)?;
    }
    identity::switch(process)?;
    if !in_cwd {
        exec::enter_cwd(&process.cwd, false)?;
    }
    if let Some(filter) = seccomp.filter(|f| process.no_new_privileges && f.notifies()) {
        load(filter)?;
    }
    let program = exec::find_program(process, &env)?;
    Ok((program, env, tty))
}
