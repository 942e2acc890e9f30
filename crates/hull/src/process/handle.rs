//! A process hull started in a container, as the caller holds it: its pid and a pidfd
//! taken while the process was certainly the one hull made, so that waiting for it and
//! signalling it can never reach a later process that reused the pid.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::{wait_pid, ExitStatus};
use crate::error::{Error, Result};
use crate::Signal;

/// A started process: what [`crate::Container::start`], `run`, `exec_process` and
/// `restore` return. It owns its pidfd; dropping it neither waits for nor kills the
/// process.
///
/// The process is a child of the program that started it (hull makes it so on every
/// path), so [`ProcessHandle::wait`] works from any thread of that program.
///
/// # Examples
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hull::{ExitStatus, Signal};
///
/// # let (config, process) = hull::spec::load("/path/to/bundle".as_ref())?;
/// # let mut container = hull::Factory::new("/run/hull")?.create("demo", config)?;
/// let init = container.run(process)?;
/// if init.try_wait()?.is_none() {
///     init.signal(Signal::TERM)?;
/// }
/// match init.wait()? {
///     ExitStatus::Exited(code) => println!("exited with {code}"),
///     ExitStatus::Signaled(sig) => println!("killed by signal {sig}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the handle is how to wait for the process and collect its exit status"]
pub struct ProcessHandle {
    pid: i32,
    pidfd: OwnedFd,
}

impl ProcessHandle {
    pub(crate) fn new(pid: i32, pidfd: OwnedFd) -> ProcessHandle {
        ProcessHandle { pid, pidfd }
    }

    /// The process's pid, in the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the process to end and reaps it.
    pub fn wait(&self) -> Result<ExitStatus> {
        wait_pid(self.pid)
    }

    /// Reaps the process if it has exited, without blocking: `None` while it runs.
    /// Through the pidfd (`waitid(P_PIDFD, WNOHANG)`), so it never reaps a process that
    /// reused the pid.
    pub fn try_wait(&self) -> Result<Option<ExitStatus>> {
        use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG;
        // WNOHANG never sleeps, so there is no EINTR to retry.
        match waitid(Id::PIDFd(self.pidfd.as_fd()), flags) {
            Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::Exited(code))),
            Ok(WaitStatus::Signaled(_, sig, _)) => Ok(Some(ExitStatus::Signaled(sig as i32))),
            Ok(_) => Ok(None),
            Err(e) => Err(Error::sys("waitid", e)),
        }
    }

    /// Sends `signal` to the process through its pidfd.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        crate::sys::pidfd_send_signal(self.pidfd.as_fd(), signal.number())
            .map_err(|e| Error::sys("pidfd_send_signal", e))
    }

    /// A copy of the pidfd, for an event loop that registers descriptors by number
    /// (two registrations of one number would collide) or to hand to another program.
    pub fn pidfd(&self) -> Result<OwnedFd> {
        self.pidfd
            .try_clone()
            .map_err(|e| Error::sys("dup pidfd", e))
    }
}

/// The pidfd: readable (`EPOLLIN`) once the process has exited, and until it is reaped
/// ([`ProcessHandle::try_wait`]). Register it with epoll, mio or tokio's `AsyncFd` to
/// wait without a thread.
impl AsFd for ProcessHandle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }
}
