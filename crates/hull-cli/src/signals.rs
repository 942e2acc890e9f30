//! The foreground loop of `run` and `exec`: forward signals to the container, reap
//! children as a subreaper, and return the process's exit status. (Signal names and
//! numbers, as `kill` takes them, are `hull::Signal`'s.)

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use hull::ExitStatus;

/// Blocks every signal we forward, so none is lost between here and the loop; init
/// restores its own mask before it execs.
pub fn block_all() -> SigSet {
    let mut raw = *SigSet::all().as_ref();
    // musl's full set leaves out 32 to 34, which it keeps for its threads, and which
    // sigaddset refuses; but 34 is RTMIN as glibc, `kill -l` and Docker number it, and
    // unblocked it would end this process (a real-time signal's default) instead of
    // reaching the container. Blocked, they could hang only a musl thread-wide call
    // (set*id, setrlimit), which this process makes only in its children, after they
    // reset the mask. The kernel takes the mask as given.
    let words = std::mem::size_of::<libc::sigset_t>() / std::mem::size_of::<libc::c_ulong>();
    let bits = libc::c_ulong::BITS as usize;
    for sig in 32..=34usize {
        let (word, bit) = ((sig - 1) / bits, (sig - 1) % bits);
        assert!(word < words, "a sigset_t holds signal 34");
        // SAFETY: `raw` is our own sigset_t, an array of c_ulong words on Linux, signal
        // n being bit (n-1) counted from the first word; `word` is within it (checked).
        unsafe { *(&mut raw as *mut libc::sigset_t as *mut libc::c_ulong).add(word) |= 1 << bit };
    }
    // SAFETY: a full signal set with three more members is a valid signal set.
    let mut set = unsafe { SigSet::from_sigset_t_unchecked(raw) };
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
        // sigwait, not nix's SigSet::wait: that panics on a real-time signal, which nix's
        // Signal cannot hold, and the container is to get those too.
        let mut sig: libc::c_int = 0;
        // SAFETY: a valid signal set and a place for the number, alive for the call.
        if unsafe { libc::sigwait(set.as_ref(), &mut sig) } != 0 || sig == libc::SIGCHLD {
            continue;
        }
        // SAFETY: kill(2); init may already be gone, which reap will notice.
        unsafe { libc::kill(init, sig) };
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
