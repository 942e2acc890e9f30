//! A container and its life: status read from the kernel (never merely remembered),
//! starting init, letting it exec (`start`), signals, and destruction. Checkpoint and
//! restore are in `checkpoint`.

mod checkpoint;
pub(crate) mod liveness;
pub mod state;

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use state::{Overview, State};

use crate::cgroups::oom::OomEvents;
use crate::cgroups::systemd::Scope;
use crate::cgroups::{Cgroup, CgroupError, Layout, Stats};
use crate::config::resources::Resources;
use crate::hooks;
use crate::signal::Signal;

use crate::config::{Config, NamespaceKind};
use crate::error::{Error, Result};
use crate::process::spawn::{self, Spawned};
use crate::process::{join, ExitStatus, Process, ProcessHandle};
use crate::rootfs::CgroupMountPlan;
use crate::sys;

/// The file init blocks on until `start`.
pub const EXEC_FIFO: &str = "exec.fifo";

/// Makes exec.fifo writable by the container's root (who may be another uid on the
/// host, in a user namespace) and nobody else's business to read. Neither the owner
/// nor the mode change goes through a symlink at that name.
fn make_exec_fifo(path: &Path, config: &Config) -> Result<()> {
    use nix::sys::stat::{fchmodat, FchmodatFlags, Mode};
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o622))
        .map_err(|e| Error::io("mkfifo", path, e.into()))?;
    let (uid, gid) = config.host_root();
    nix::unistd::fchownat(
        None,
        path,
        Some(uid.into()),
        Some(gid.into()),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .and_then(|()| {
        // mkfifo applied our umask.
        fchmodat(
            None,
            path,
            Mode::from_bits_truncate(0o622),
            FchmodatFlags::NoFollowSymlink,
        )
    })
    .map_err(|e| Error::io("chown", path, e.into()))
}

/// How [`Container::exec_process`] runs a further process.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Run it even if the container is paused (it starts frozen).
    pub ignore_paused: bool,
    /// An existing sub-cgroup of the container's cgroup to run it in.
    pub sub_cgroup: Option<PathBuf>,
}

/// Where a container is in its life. The CLI reports the OCI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// `create` is still setting it up.
    Creating,
    /// Init is ready and waits for `start`.
    Created,
    /// Init runs the container's program.
    Running,
    /// Every process of the container is frozen ([`Container::pause`]).
    Paused,
    /// Init has exited (or never ran).
    Stopped,
    /// Saved to disk by a checkpoint.
    Checkpointed,
}

impl Status {
    /// The OCI name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
            Status::Checkpointed => "checkpointed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container in a [`crate::Factory`]'s state root.
///
/// # Examples
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hull::{Factory, Signal, Status};
///
/// let factory = Factory::new("/run/hull")?;
/// let container = factory.load("demo")?;
/// if container.status() == Status::Running {
///     container.signal(Signal::TERM, false)?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Container {
    dir: PathBuf,
    state: State,
    /// An exclusive flock on the container's directory, while this handle changes it.
    lock: Option<fs::File>,
    /// This handle registered the container (and so is what is creating it).
    creator: bool,
    /// Start and exec only from a sealed binary (see `Factory::without_seal_check`).
    seal_check: bool,
}

/// The status of the container in `dir` (below `base`) whose saved state says `saved`.
/// `creator`: the caller registered it; `locked`: the caller holds its lock.
pub(crate) fn status_of(
    base: BorrowedFd<'_>,
    dir: &Path,
    saved: &state::Liveness<'_>,
    creator: bool,
    locked: bool,
) -> Status {
    if saved.init_pid == 0 {
        // Being created, unless its creator died: then nobody holds the lock (or we
        // do, having taken it for a command of our own).
        let creator_alive = creator || (!locked && matches!(flock(base, dir, false), Ok(None)));
        return if creator_alive {
            Status::Creating
        } else {
            Status::Stopped
        };
    }
    if !liveness::is_alive(saved.init_pid, saved.init_start_time) {
        return match saved.checkpointed {
            true => Status::Checkpointed,
            false => Status::Stopped,
        };
    }
    // Frozen first: a created container may be paused too (as in runc), and then
    // cannot be started until it is resumed.
    if saved.cgroup.is_frozen() {
        return Status::Paused;
    }
    if sys::stat_at(base, &dir.join(EXEC_FIFO)).is_ok() {
        return Status::Created;
    }
    Status::Running
}

/// A hook's failure as the library reports it (the CLI prints its text).
fn hook_error(e: impl std::error::Error) -> Error {
    Error::Hook(e.to_string())
}

/// Takes the flock on a container directory (`dir` below `base`); `None` if `wait` is
/// false and somebody else holds it.
fn flock(base: BorrowedFd<'_>, dir: &Path, wait: bool) -> Result<Option<fs::File>> {
    let file = sys::open_at(base, dir, libc::O_RDONLY | libc::O_DIRECTORY)
        .map(fs::File::from)
        .map_err(|e| Error::io("open", dir, e))?;
    let mut op = libc::LOCK_EX;
    if !wait {
        op |= libc::LOCK_NB;
    }
    match sys::flock(std::os::fd::AsFd::as_fd(&file), op) {
        Ok(()) => Ok(Some(file)),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
        Err(e) => Err(Error::io("lock", dir, e)),
    }
}

impl Container {
    /// A handle on a container; `creator_lock` is the lock of the one that registers it.
    pub(crate) fn new(
        dir: PathBuf,
        state: State,
        creator_lock: Option<fs::File>,
        seal_check: bool,
    ) -> Container {
        let creator = creator_lock.is_some();
        Container {
            dir,
            state,
            lock: creator_lock,
            creator,
            seal_check,
        }
    }

    /// Refuses to put a fork of this program in the container unless its binary is
    /// sealed (or the factory opted out).
    fn check_sealed(&self) -> Result<()> {
        if self.seal_check && !crate::sealed::is_sealed() {
            return Err(Error::Unsealed);
        }
        Ok(())
    }

    pub(crate) fn lock_dir(dir: &Path) -> Result<fs::File> {
        flock(sys::cwd(), dir, true).map(|f| f.expect("a blocking flock returns a lock"))
    }

    /// This container, locked: waits for any other command that holds the container's
    /// lock, takes it, and rereads the state, which that command may have changed.
    /// The lock is held for as long as the returned value lives (dropping it, or
    /// `destroy`, lets others in). Commands that change a container hold the lock;
    /// reading it needs none. A container from [`crate::Factory::create`] is locked
    /// already (by the one making it).
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?.locked()?;
    /// container.pause()?; // no other command changes it meanwhile
    /// drop(container); // unlocked
    /// # Ok(())
    /// # }
    /// ```
    pub fn locked(mut self) -> Result<Container> {
        if self.lock.is_none() {
            self.lock = Some(Self::lock_dir(&self.dir)?);
            match State::load(&self.dir) {
                Ok(state) => self.state = state,
                // A create killed before its first save: the directory is all there is.
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self)
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// The configuration the container was created with (updated by [`Container::set`]).
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// What hull keeps of the container on disk, as last loaded or saved.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The container's state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The init process's pid, if it ever ran.
    pub fn init_pid(&self) -> Option<i32> {
        (self.state.init_pid > 0).then_some(self.state.init_pid)
    }

    /// The status, read from the kernel: init alive (same pid and start time), the
    /// exec.fifo still there (not started yet), the freezer.
    pub fn status(&self) -> Status {
        status_of(
            sys::cwd(),
            &self.dir,
            &self.state.liveness(),
            self.creator,
            self.lock.is_some(),
        )
    }

    /// The pids in the container's cgroup.
    pub fn processes(&self) -> Result<Vec<i32>> {
        Ok(self.state.cgroup.pids()?)
    }

    /// Creates the container's init for `process` (the seed's first `Start`): after this
    /// the container is `Created`, init waiting for [`Container::exec`].
    ///
    /// This forks the calling process (see the crate docs on threads).
    ///
    /// Once init exists, a further call runs `process` inside the container instead (the
    /// seed's second `Start`, runc's exec), with default [`ExecOptions`]. Either way a
    /// `process` that [`Process::validate`] refuses is refused before anything is made.
    ///
    /// A failed start leaves nothing: no process, no cgroup, and no state either (as
    /// runc's create): the container is gone, and this value is good only for dropping.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (config, process) = hull::spec::load("/path/to/bundle".as_ref())?;
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.create("demo", config)?;
    /// let init = container.start(process)?; // created: init waits
    /// container.exec()?; // now it runs the program
    /// println!("init is pid {}", init.pid());
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(&mut self, process: Process) -> Result<ProcessHandle> {
        if self.state.init_pid != 0 {
            return self.exec_process(process, &ExecOptions::default());
        }
        self.start_init(process, true)
    }

    /// Starts init; with `wait`, it waits on exec.fifo for [`Container::exec`]. A failed
    /// start leaves nothing.
    fn start_init(&mut self, process: Process, wait: bool) -> Result<ProcessHandle> {
        let started = self.launch_init(process, wait);
        if started.is_err() {
            let _ = fs::remove_dir_all(&self.dir);
        }
        started
    }

    fn launch_init(&mut self, process: Process, wait: bool) -> Result<ProcessHandle> {
        process.validate()?;
        self.check_sealed()?;
        crate::lsm::check(Some(&self.state.config), &process)?;
        let layout = Layout::detect()?;
        self.claim_cgroup(&layout, &process)?;
        if let Err(e) = self.prepare_host(wait) {
            // Nothing was started: nothing to kill.
            self.undo_start(false);
            return Err(e);
        }
        // The process's descriptors close here once init has its copies.
        match self.spawn(&layout, &process, wait) {
            Ok(init) => self.record_init(init),
            Err(e) => {
                self.undo_start(true);
                Err(e)
            }
        }
    }

    /// Chooses the container's cgroup (nothing is made yet) and saves the state, so
    /// that `delete` can find and clean whatever a crash from here on leaves behind.
    fn claim_cgroup(&mut self, layout: &Layout, process: &Process) -> Result<()> {
        let config_path = self.state.config.cgroup.path.as_deref();
        let cgroup = if self.state.config.cgroup.systemd {
            let user = crate::process::unprivileged();
            let scope = Scope::parse(config_path, &self.state.id, user)?;
            layout.systemd_cgroup(scope)?
        } else {
            layout.cgroup_for(config_path.unwrap_or(Path::new(&self.state.id)))?
        };
        // Checked before the state names it: a cgroup that is not the container's alone
        // must never be killed or removed by a later delete.
        cgroup.check_unused()?;
        self.state.cgroup = cgroup;
        self.state.init_process = process.describe();
        self.state.save(&self.dir)
    }

    /// Makes the cgroup with its limits, and exec.fifo if init is to `wait` for start.
    fn prepare_host(&mut self, wait: bool) -> Result<()> {
        self.make_cgroup()?;
        if !wait {
            return Ok(());
        }
        make_exec_fifo(&self.dir.join(EXEC_FIFO), &self.state.config)
    }

    /// Makes the cgroup with its limits (with systemd, once a process is placed in it).
    fn make_cgroup(&mut self) -> Result<()> {
        match self.state.cgroup.create() {
            Err(e) if crate::process::unprivileged() && e.is_denied() => {
                self.go_without_cgroup(e)?
            }
            // With systemd the cgroup exists once init is placed in it (`limit`).
            other if self.state.cgroup.systemd.is_none() => {
                other?;
                self.limit()?;
            }
            other => other?,
        }
        Ok(())
    }

    /// Puts process `pid` in the container's cgroup from outside (systemd makes the
    /// scope with it, and the limits follow).
    fn place_process(&self, pid: i32) -> Result<()> {
        if self.state.cgroup.systemd.is_none() {
            return Ok(self.state.cgroup.add_process(pid)?);
        }
        let resources = &self.state.config.cgroup.resources;
        self.state.cgroup.place(pid, &self.state.id, resources)?;
        self.limit()
    }

    /// How `cgroup` mounts show the container its cgroup. A container without a cgroup
    /// of its own (rootless, none delegated) is shown the one it is in: the caller's.
    fn cgroup_mount_plan(&self, layout: &Layout) -> Result<CgroupMountPlan> {
        let hierarchies = match self.state.cgroup.paths.is_empty() {
            true => layout.own_cgroup()?.into_iter().collect(),
            false => self
                .state
                .cgroup
                .paths
                .iter()
                .map(|(k, p)| (k.clone(), p.clone()))
                .collect(),
        };
        Ok(CgroupMountPlan {
            unified: layout.is_unified(),
            own_namespace: self.state.config.namespace(NamespaceKind::Cgroup).is_some(),
            hierarchies,
        })
    }

    /// Applies the device rules and the limits to the container's cgroup.
    fn limit(&self) -> Result<()> {
        let config = &self.state.config;
        // Device access is the kernel's to judge for an unprivileged user (who cannot
        // make device nodes), and no unprivileged user may install the rules: skipped,
        // as runc does.
        if !crate::process::unprivileged() {
            self.state.cgroup.apply_devices(&config.cgroup.devices)?;
        }
        Ok(self.state.cgroup.set(&config.cgroup.resources)?)
    }

    /// An unprivileged user whose cgroups are not delegated to them runs without a
    /// cgroup of the container's own, as with runc; unless the config asks for limits,
    /// which could then not be applied.
    fn go_without_cgroup(&mut self, denied: CgroupError) -> Result<()> {
        let why = format!("the cgroup is not delegated to this user ({denied})");
        if self.state.config.cgroup.resources != Resources::default() {
            return Err(Error::Config(crate::error::ConfigError::new(
                "linux.resources",
                format!("cannot be applied: {why}"),
            )));
        }
        let _ = self.state.cgroup.remove();
        self.state.cgroup = Cgroup::default();
        self.state.cgroup_skipped = Some(why);
        Ok(())
    }

    /// Starts init; with `wait`, it waits on exec.fifo for start.
    fn spawn(&self, layout: &Layout, process: &Process, wait: bool) -> Result<Spawned> {
        let fifo = wait.then(|| self.dir.join(EXEC_FIFO));
        let mounts = self.cgroup_mount_plan(layout)?;
        // The state a seccomp agent gets while init is still being made.
        let state_of = |pid: i32| self.state.oci(Status::Creating.as_str(), pid);
        // The runtime's hooks, when init stops for them before pivot_root. Their state
        // says `created`: the spec's lifecycle runs them after the environment is made
        // (step 2, `creating`), as crun reports them.
        let hooks = &self.state.config.hooks;
        let run_hooks = |pid: i32| -> Result<String> {
            let state = self.state.oci(Status::Created.as_str(), pid).to_string();
            hooks::run_all("prestart", &hooks.prestart, &state).map_err(hook_error)?;
            hooks::run_all("createRuntime", &hooks.create_runtime, &state).map_err(hook_error)?;
            Ok(state)
        };
        // The systemd driver: the parent places init in its scope before it goes on.
        let place = |pid: i32| -> Result<()> {
            let resources = &self.state.config.cgroup.resources;
            self.state.cgroup.place(pid, &self.state.id, resources)?;
            self.limit()
        };
        let requests = spawn::Requests {
            config: &self.state.config,
            hooks: Some(&run_hooks),
            state: &state_of,
            place: self.state.cgroup.systemd.is_some().then_some(&place as _),
        };
        spawn::spawn_init(
            &self.state.config,
            process,
            &self.state.cgroup,
            mounts,
            fifo.as_deref(),
            &requests,
        )
    }

    /// Runs `process` in the running (or created) container: it joins the container's
    /// cgroup and every namespace of init, and takes its own user, capabilities and
    /// limits. Returns once the process is about to exec.
    /// A `process` that [`Process::validate`] refuses is refused first.
    ///
    /// What `process` leaves unset is the container's, as in runc: its init's
    /// capabilities (never the full set of the caller), AppArmor profile, SELinux
    /// label, scheduler, I/O priority, exec CPU affinity and OOM score.
    ///
    /// This forks the calling process (see the crate docs on threads); the new process
    /// is the caller's child, to wait for through the returned handle. The process's
    /// descriptors (stdio, extra files) are closed in the caller once it has them.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use hull::{ExecOptions, Process};
    ///
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?;
    /// let process = Process {
    ///     args: vec!["ps".into(), "aux".into()],
    ///     cwd: "/".into(),
    ///     ..Process::default()
    /// };
    /// let status = container.exec_process(process, &ExecOptions::default())?.wait()?;
    /// println!("ps exited with {}", status.code());
    /// # Ok(())
    /// # }
    /// ```
    pub fn exec_process(
        &mut self,
        mut process: Process,
        opts: &ExecOptions,
    ) -> Result<ProcessHandle> {
        process.validate()?;
        match self.status() {
            Status::Running | Status::Created => {}
            Status::Paused if opts.ignore_paused => {}
            Status::Paused => return Err(Error::Paused(self.state.id.clone())),
            _ => return Err(self.not_running()),
        }
        let init = &self.state.init_process;
        if process.capabilities.is_none() {
            process.capabilities = init.capabilities;
        }
        if process.apparmor_profile.is_none() {
            process.apparmor_profile.clone_from(&init.apparmor_profile);
        }
        if process.selinux_label.is_none() {
            process.selinux_label.clone_from(&init.selinux_label);
        }
        if process.scheduler.is_none() {
            process.scheduler = init.scheduler;
        }
        if process.oom_score_adj.is_none() {
            process.oom_score_adj = init.oom_score_adj;
        }
        if process.io_priority.is_none() {
            process.io_priority = init.io_priority;
        }
        if process.exec_cpu_affinity.is_none() {
            process
                .exec_cpu_affinity
                .clone_from(&init.exec_cpu_affinity);
        }
        crate::lsm::check(None, &process)?;
        self.check_sealed()?;
        let init = liveness::open(self.state.init_pid, self.state.init_start_time)
            .ok_or_else(|| self.not_running())?;
        let cgroup = match &opts.sub_cgroup {
            Some(sub) => self.state.cgroup.sub(sub)?,
            None => self.state.cgroup.clone(),
        };
        let state = self.state.oci(self.status().as_str(), self.state.init_pid);
        let spawned = join::spawn_exec(&self.state.config, &process, &cgroup, init, state)?;
        Ok(ProcessHandle::new(spawned.pid, spawned.pidfd))
    }

    /// A failed start leaves nothing on the host: init is gone (the spawn killed it),
    /// and so are its cgroup and exec.fifo. The container stays registered, stopped.
    /// After a failed spawn (`spawned`), what init left: with a pid namespace of its
    /// own, nothing (init's death ended the namespace); without one, whatever is in the
    /// cgroup, as in runc. Before it, nothing was started, so nothing is killed.
    fn undo_start(&mut self, spawned: bool) {
        if spawned && !self.owns_pid_namespace() {
            let _ = self.state.cgroup.kill_all(Duration::from_secs(5));
        }
        let _ = self.state.cgroup.remove();
        let _ = fs::remove_file(self.dir.join(EXEC_FIFO));
        self.state.cgroup = Cgroup::default();
        let _ = self.state.save(&self.dir);
    }

    fn record_init(&mut self, init: Spawned) -> Result<ProcessHandle> {
        let (pid, start_time) = (init.pid, init.start_time);
        self.state.init_pid = pid;
        self.state.init_start_time = start_time;
        self.state.host_ends = init.host_ends;
        self.state.created = state::now_rfc3339();
        self.record_namespaces_and_stdio(pid);
        self.state.save(&self.dir)?;
        Ok(ProcessHandle::new(pid, init.pidfd))
    }

    /// Where init's namespaces and stdio are, for exec and for a later checkpoint.
    fn record_namespaces_and_stdio(&mut self, pid: i32) {
        self.state.namespace_paths = self
            .state
            .config
            .namespaces
            .iter()
            .map(|n| {
                let path = PathBuf::from(format!("/proc/{pid}/ns/{}", n.kind.proc_name()));
                (n.kind.oci_name().to_string(), path)
            })
            .collect::<BTreeMap<_, _>>();
        self.state.external_descriptors = (0..3)
            .map(|fd| {
                fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
    }

    /// Lets a `Created` container's init exec the user's program (OCI `start`).
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?;
    /// // Created by another program (`hull create`): let its init run the program.
    /// container.exec()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn exec(&mut self) -> Result<()> {
        if self.status() != Status::Created {
            return Err(self.wrong_state("start"));
        }
        let fifo = self.dir.join(EXEC_FIFO);
        let init = liveness::open(self.state.init_pid, self.state.init_start_time)
            .ok_or_else(|| self.wrong_state("start"))?;
        // Opening for reading releases init, which is blocked opening it for writing.
        // Non-blocking, and waiting on init's pidfd too: an init that died never writes.
        let file = fs::File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .map_err(|e| Error::io("open", &fifo, e))?;
        let started = liveness::wait_fifo_byte(&file, &init);
        fs::remove_file(&fifo).map_err(|e| Error::io("remove", &fifo, e))?;
        if !started {
            return Err(Error::NotExecuted(self.state.id.clone()));
        }
        self.poststart()
    }

    /// The poststart hooks, once the program runs; a failing one is reported, not undone.
    fn poststart(&self) -> Result<()> {
        let state = self
            .state
            .oci(Status::Running.as_str(), self.state.init_pid)
            .to_string();
        hooks::run_every("poststart", &self.state.config.hooks.poststart, &state)
            .map_err(hook_error)
    }

    /// `start` and `exec` in one: the container runs `process` as soon as it is ready
    /// (init waits for nobody, and no exec.fifo is made), then the poststart hooks run.
    /// A failing poststart hook is reported as [`Error::Hook`] while the program runs on
    /// ([`Container::init`] gives a handle on it then).
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (config, process) = hull::spec::load("/path/to/bundle".as_ref())?;
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.create("demo", config)?;
    /// let status = container.run(process)?.wait()?;
    /// container.destroy()?;
    /// std::process::exit(status.code());
    /// # Ok(())
    /// # }
    /// ```
    pub fn run(&mut self, process: Process) -> Result<ProcessHandle> {
        if self.state.init_pid != 0 {
            return Err(self.wrong_state("run"));
        }
        let init = self.start_init(process, false)?;
        self.poststart()?;
        Ok(init)
    }

    /// A handle on init, running or exited but not yet reaped (a pidfd, checked against
    /// init's start time, so never another process that took its pid); only init's
    /// parent can wait for it.
    pub fn init(&self) -> Result<ProcessHandle> {
        let pid = self.state.init_pid;
        liveness::open_unreaped(pid, self.state.init_start_time)
            .map(|pidfd| ProcessHandle::new(pid, pidfd))
            .ok_or_else(|| self.not_running())
    }

    /// The container's resource usage (the seed's `Stats`): its cgroup's counters, and
    /// the network interfaces of its own network namespace.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let container = factory.load("demo")?;
    /// let stats = container.stats()?;
    /// println!("{} bytes of memory, {} tasks", stats.memory.usage.usage, stats.pids.current);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stats(&self) -> Result<Stats> {
        if matches!(self.status(), Status::Stopped | Status::Creating) {
            return Err(self.not_running());
        }
        let mut stats = self.state.cgroup.stats();
        if self
            .state
            .config
            .namespace(NamespaceKind::Network)
            .is_some()
        {
            stats.network_interfaces =
                crate::cgroups::stats::network_interfaces(self.state.init_pid);
        }
        Ok(stats)
    }

    /// Changes the limits of a live container (the seed's `Set`): the given limits,
    /// checked by [`Resources::validate`], are laid over those in force and applied all
    /// or nothing, then saved.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?;
    /// let mut resources = container.config().cgroup.resources.clone();
    /// resources.memory.limit = Some(512 << 20); // bytes
    /// resources.pids_limit = Some(-1); // unlimited
    /// container.set(&resources)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set(&mut self, resources: &Resources) -> Result<()> {
        resources.validate()?;
        if matches!(self.status(), Status::Stopped | Status::Creating) {
            return Err(self.not_running());
        }
        let mut merged = self.state.config.cgroup.resources.clone();
        merged.merge(resources);
        if let Some(scope) = &self.state.cgroup.systemd {
            scope.set(resources)?;
        }
        self.state.cgroup.set(&merged)?;
        self.state.config.cgroup.resources = merged;
        self.state.save(&self.dir)
    }

    /// Freezes every process of the container, and returns once all are frozen.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?;
    /// container.pause()?;
    /// assert_eq!(container.status(), hull::Status::Paused);
    /// container.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn pause(&mut self) -> Result<()> {
        match self.status() {
            Status::Running | Status::Created => Ok(self.state.cgroup.freeze(true)?),
            Status::Paused => Ok(()),
            _ => Err(self.not_running()),
        }
    }

    /// Thaws a paused container.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?;
    /// container.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(&mut self) -> Result<()> {
        match self.status() {
            Status::Paused => Ok(self.state.cgroup.freeze(false)?),
            status => Err(Error::WrongState {
                id: self.state.id.clone(),
                action: "resume",
                status: status.as_str(),
            }),
        }
    }

    /// OOM events of the container (the seed's `NotifyOOM`): an iterator that yields
    /// once per event and ends when the container's cgroup is removed.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let container = factory.load("demo")?;
    /// let mut events = container.notify_oom()?;
    /// // Blocks until the kernel reports OOM events; `None` once the cgroup is gone.
    /// while let Some(n) = events.wait()? {
    ///     eprintln!("{n} OOM event(s)");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn notify_oom(&self) -> Result<OomEvents> {
        Ok(self.state.cgroup.oom_events()?)
    }

    /// Memory pressure notifications at `level` (`low`, `medium`, `critical`): the
    /// kernel's levels on cgroup v1, `memory.events` counters on v2 (see `cgroups::oom`).
    pub fn notify_memory_pressure(&self, level: &str) -> Result<OomEvents> {
        Ok(self.state.cgroup.memory_pressure_events(level)?)
    }

    /// Sends `signal` to init, or with `all` to every process left in the container's
    /// cgroup, as runc: in any state, even stopped (what is left of a container whose
    /// init has exited), and nothing left is no error.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use hull::Signal;
    ///
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let container = factory.load("demo")?;
    /// container.signal(Signal::TERM, false)?; // init only
    /// container.signal("SIGKILL".parse()?, true)?; // every process of the container
    /// # Ok(())
    /// # }
    /// ```
    pub fn signal(&self, signal: Signal, all: bool) -> Result<()> {
        let signal = signal.number();
        if all {
            return Ok(self.state.cgroup.signal_all(signal)?);
        }
        if matches!(self.status(), Status::Stopped | Status::Creating) {
            return Err(self.not_running());
        }
        let pidfd = liveness::open(self.state.init_pid, self.state.init_start_time)
            .ok_or_else(|| self.not_running())?;
        sys::pidfd_send_signal(pidfd.as_fd(), signal).map_err(|e| Error::sys("signal init", e))
    }

    /// Kills everything in the container, removes its cgroup and its state (the seed's
    /// `Destroy`). A container that is already gone is not an error.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let container = factory.load("demo")?;
    /// container.signal(hull::Signal::KILL, true)?;
    /// container.destroy()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn destroy(self) -> Result<()> {
        self.kill_all()?;
        // Reported once everything else is gone: a device that cannot be deleted now
        // must not keep the container from being deleted.
        let host_ends = crate::netdev::networks::remove_host_ends(&self.state.host_ends)
            .map_err(|e| format!("delete the host ends of the container's veth pairs: {e}"));
        checkpoint::remove_restore_root(&self.dir);
        // A cgroup still holding a process that is not the container's stays where it is;
        // the container is gone all the same (as with runc), and that is reported.
        let left = match self.state.cgroup.remove() {
            Err(e @ crate::cgroups::CgroupError::InUse { .. }) => Some(e.to_string()),
            other => {
                other?;
                None
            }
        };
        fs::remove_dir_all(&self.dir).or_else(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(Error::io("remove", &self.dir, e))
            }
        })?;
        // Everything is gone; a failing poststop hook is only reported.
        let hooks = match self.state.init_pid {
            0 => Ok(()),
            _ => {
                let state = self.state.oci(Status::Stopped.as_str(), 0).to_string();
                hooks::run_every("poststop", &self.state.config.hooks.poststop, &state)
            }
        };
        let left = match (left, host_ends) {
            (left, Ok(())) => left,
            (None, Err(e)) => Some(e),
            (Some(left), Err(e)) => Some(format!("{left}; {e}")),
        };
        match (left, hooks) {
            (None, hooks) => hooks.map_err(hook_error),
            (Some(left), Ok(())) => Err(Error::Left(left)),
            (Some(left), Err(hooks)) => Err(Error::Left(format!("{left}; {hooks}"))),
        }
    }

    /// Ends every process of the container and waits (bounded) for them to be gone.
    /// With a pid namespace of its own, init's death ends the whole namespace (the
    /// kernel kills and reaps every member before init is gone), so nothing else is
    /// signalled: a process somebody else put in the cgroup is not the container's to
    /// kill. Only when init is not known (a create killed before it saved init's pid)
    /// are the processes in the cgroup killed, and of those only the ones in another
    /// pid namespace than the runtime's: never a host process. Without a pid namespace
    /// of its own, the cgroup is what tells the container's processes, as in runc.
    fn kill_all(&self) -> Result<()> {
        let timeout = Duration::from_secs(5);
        if let Some(pidfd) = liveness::open(self.state.init_pid, self.state.init_start_time) {
            let _ = sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            // A frozen init dies only once thawed.
            if self.state.cgroup.is_frozen() {
                self.state.cgroup.freeze(false)?;
            }
            sys::pidfd_wait_exit(pidfd.as_fd(), 5000);
        }
        if !self.owns_pid_namespace() {
            self.state.cgroup.kill_all(timeout)?;
        } else if self.state.init_pid == 0 {
            let host = pid_namespace("self");
            let ours =
                |pid: i32| pid_namespace(&pid.to_string()).is_some_and(|ns| Some(ns) != host);
            self.state.cgroup.kill_where(timeout, &ours)?;
        }
        Ok(())
    }

    /// Whether the container has a pid namespace of its own (a new one).
    fn owns_pid_namespace(&self) -> bool {
        self.state
            .config
            .namespace(NamespaceKind::Pid)
            .is_some_and(|n| n.path.is_none())
    }

    /// Waits for init to exit: init is the child of the program that started it (from
    /// any of its threads); another program would need to be a subreaper above it.
    pub fn wait(&self) -> Result<ExitStatus> {
        crate::process::wait_pid(self.state.init_pid)
    }

    fn wrong_state(&self, action: &'static str) -> Error {
        Error::WrongState {
            id: self.state.id.clone(),
            action,
            status: self.status().as_str(),
        }
    }

    fn not_running(&self) -> Error {
        Error::NotRunning {
            id: self.state.id.clone(),
            status: self.status().as_str(),
        }
    }
}

/// The pid namespace of `/proc/<pid>` (device and inode of its `ns/pid`).
fn pid_namespace(pid: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|m| (m.dev(), m.ino()))
}
