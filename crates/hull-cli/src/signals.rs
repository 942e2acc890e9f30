//! The foreground loop of `run` and `exec`: forward signals to the container, reap
//! children as a subreaper, and return the process's exit status. (Signal names and
//! numbers, as `kill` takes them, are `hull::Signal`'s.)

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use hull::ExitStatus;

use crate::sys;

/// Blocks every signal we forward, so none is lost between here and the loop; init
/// restores its own mask before it execs.
pub fn block_all() -> SigSet {
    // musl's full set leaves out 32 to 34, which it keeps for its threads, and which
    // sigaddset refuses; but 34 is RTMIN as glibc, `kill -l` and Docker number it, and
    // unblocked it would end this process (a real-time signal's default) instead of
    // reaching the container. Blocked, they could hang only a musl thread-wide call
    // (set*id, setrlimit), which this process makes only in its children, after they
    // reset the mask. The kernel takes the mask as given.
    let mut set = sys::every_signal();
    set.remove(Signal::SIGSEGV);
    set.remove(Signal::SIGBUS);
    set.remove(Signal::SIGILL);
    set.remove(Signal::SIGFPE);
    let _ = set.thread_block();
    set
}

/// Waits for `init` to exit, forwarding every other signal to it and reaping any other
/// child (orphans of the container are reparented to us as a subreaper).
pub fn forward_until_exit(init: i32, set: &SigSet) -> ExitStatus {
    loop {
        if let Some(status) = reap(init) {
            return status;
        }
        // By number: the container is to get real-time signals too. Init may be gone
        // already, which reap will notice.
        match sys::sigwait(set) {
            None | Some(libc::SIGCHLD) => continue,
            Some(sig) => sys::kill(init, sig),
        }
    }
}

/// Reaps every exited child; returns init's status if it was among them.
pub fn reap(init: i32) -> Option<ExitStatus> {
    let mut init_status = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid.as_raw() == init => {
                init_status = Some(ExitStatus::Exited(code))
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid.as_raw() == init => {
                init_status = Some(ExitStatus::Signaled(sig as i32))
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return init_status,
            Ok(_) => continue,
        }
    }
}
