//! A process to run in a container: what to run and as whom (the seed's `Process`),
//! and, once started, a handle to wait for it or signal it.

pub(crate) mod channel;
mod handle;
mod idmap;
pub(crate) mod join;
pub(crate) mod map_userns;
pub(crate) mod spawn;

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{Capabilities, Rlimit, User};
use crate::error::{Error, Result};

pub use handle::ProcessHandle;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal (its number).
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's convention, as runc uses it: the exit code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// A process to run inside a container. [`crate::Container::start`], `run`, `restore` and
/// [`crate::Container::exec_process`] refuse one that [`Process::validate`] refuses.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::os::fd::OwnedFd;
///
/// use hull::Process;
///
/// let log = std::fs::File::create("/dev/null")?;
/// let process = Process {
///     args: vec!["/bin/sh".into(), "-c".into(), "echo hello".into()],
///     env: vec!["PATH=/usr/bin:/bin".into()],
///     cwd: "/".into(),
///     stdout: Some(OwnedFd::from(log)),
///     no_new_privileges: true,
///     ..Process::default()
/// };
/// process.validate()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Process {
    /// The program and its arguments; a program without `/` is looked up in the
    /// container's `PATH`.
    pub args: Vec<String>,
    /// `KEY=value` strings. `HOME` is added from the container's `/etc/passwd` (or `/`)
    /// when missing, as runc does.
    pub env: Vec<String>,
    /// Working directory inside the container; made if missing.
    pub cwd: PathBuf,
    /// Who the process runs as: uid, gid, additional groups and umask.
    pub user: User,
    /// The five capability sets. `None` is least privilege: no capability at all for
    /// a container's init; for a process run in a running container
    /// ([`crate::Container::exec_process`]), the capabilities of the container's init.
    pub capabilities: Option<Capabilities>,
    /// Resource limits (`setrlimit`) set before the program runs.
    pub rlimits: Vec<Rlimit>,
    /// Set `PR_SET_NO_NEW_PRIVS`: the program and its children cannot gain privileges by `execve` (set-user-id, file capabilities).
    pub no_new_privileges: bool,
    /// The process's `/proc/<pid>/oom_score_adj` (-1000 to 1000); unchanged when `None`.
    pub oom_score_adj: Option<i32>,
    /// The AppArmor profile the process runs under (where the host runs AppArmor).
    #[serde(default)]
    pub apparmor_profile: Option<String>,
    /// The SELinux label the process runs with (where the host runs SELinux).
    #[serde(default)]
    pub selinux_label: Option<String>,
    /// CPU scheduling policy and its parameters (`sched_setattr`).
    #[serde(default)]
    pub scheduler: Option<crate::config::scheduling::Scheduler>,
    /// I/O scheduling class and level (`ioprio_set`).
    #[serde(default)]
    pub io_priority: Option<crate::config::scheduling::IoPriority>,
    /// The CPUs an exec'd process runs on, before and after it joins the container's
    /// cgroup (OCI `execCPUAffinity`: not for a container's init, by the spec).
    #[serde(default)]
    pub exec_cpu_affinity: Option<crate::config::scheduling::CpuAffinity>,
    /// Give the process a new pseudo-terminal as its stdio and controlling terminal
    /// (and `/dev/console`); its master goes over `console_socket`.
    pub terminal: bool,
    /// The terminal's size: (rows, columns).
    pub console_size: Option<(u16, u16)>,
    /// A connected unix socket that receives the terminal's master (SCM_RIGHTS), as
    /// runc's `--console-socket`.
    #[serde(skip)]
    pub console_socket: Option<OwnedFd>,
    /// Standard input, output and error; the caller's own when `None`.
    #[serde(skip)]
    pub stdin: Option<OwnedFd>,
    #[serde(skip)]
    /// Standard output; the caller's own when `None`.
    pub stdout: Option<OwnedFd>,
    #[serde(skip)]
    /// Standard error; the caller's own when `None`.
    pub stderr: Option<OwnedFd>,
    /// Further descriptors: `extra_files[i]` becomes fd `3 + i` in the process.
    #[serde(skip)]
    pub extra_files: Vec<OwnedFd>,
}

impl Process {
    /// Checks every rule a process must meet (see [`crate::config::validate`]), naming
    /// the OCI field (`process.…`) of the first broken one; the container calls it
    /// before it makes anything for the process.
    pub fn validate(&self) -> std::result::Result<(), crate::ConfigError> {
        crate::config::validate::process::check(self)
    }

    /// The descriptors this process brings along (stdio, extra files, console socket):
    /// what a forked child must keep open.
    pub(crate) fn held_fds(&self) -> impl Iterator<Item = std::os::fd::RawFd> + '_ {
        use std::os::fd::AsRawFd;
        [&self.stdin, &self.stdout, &self.stderr]
            .into_iter()
            .flatten()
            .chain(&self.extra_files)
            .chain(&self.console_socket)
            .map(|fd| fd.as_raw_fd())
    }

    /// A copy of what to run, without the descriptors.
    pub fn describe(&self) -> Process {
        Process {
            args: self.args.clone(),
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            user: self.user.clone(),
            capabilities: self.capabilities,
            rlimits: self.rlimits.clone(),
            no_new_privileges: self.no_new_privileges,
            oom_score_adj: self.oom_score_adj,
            apparmor_profile: self.apparmor_profile.clone(),
            selinux_label: self.selinux_label.clone(),
            terminal: self.terminal,
            console_size: self.console_size,
            scheduler: self.scheduler,
            io_priority: self.io_priority,
            exec_cpu_affinity: self.exec_cpu_affinity.clone(),
            ..Process::default()
        }
    }
}

/// Makes the caller a child subreaper: orphans below it (a container's init after an
/// intermediate process exits) become its children, to wait for.
pub fn become_subreaper() -> std::io::Result<()> {
    crate::sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0)
}

/// Whether hull runs as an unprivileged user: euid not 0, or root of a user namespace
/// other than the initial one (inside a rootless container, say). Such a runtime can
/// write only its own id maps, and uses cgroups only where they are delegated to it.
pub(crate) fn unprivileged() -> bool {
    !nix::unistd::geteuid().is_root()
        || crate::procfs::read_generated("/proc/self/uid_map".as_ref())
            .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
            .unwrap_or(true)
}

/// `waitpid` for one pid, retried on EINTR.
pub(crate) fn wait_pid(pid: i32) -> Result<ExitStatus> {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(ExitStatus::Exited(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(ExitStatus::Signaled(sig as i32)),
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("waitpid", e)),
        }
    }
}
