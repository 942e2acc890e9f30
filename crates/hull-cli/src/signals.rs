//! Signal names and numbers as `kill` takes them (`KILL`, `SIGKILL`, `9`), and the
//! foreground loop of `run`: forward signals to the container, reap children as a
//! subreaper, and return init's exit status.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use hull::ExitStatus;

/// Parses a signal given by name (with or without `SIG`, any case) or number.
pub fn parse(s: &str) -> Result<i32, String> {
    if let Ok(n) = s.parse::<i32>() {
        // 0 only checks that init exists, as kill(1) and runc allow.
        if (0..=libc::SIGRTMAX()).contains(&n) {
            return Ok(n);
        }
        return Err(format!("invalid signal {s:?}"));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map(|sig| sig as i32)
        .map_err(|_| format!("invalid signal {s:?}"))
}

/// Blocks every signal we forward, so none is lost between here and the loop; init
/// restores its own mask before it execs.
pub fn block_all() -> SigSet {
    let mut set = SigSet::all();
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
        match set.wait() {
            Ok(Signal::SIGCHLD) => continue,
            Ok(sig) => {
                // SAFETY: kill(2); init may already be gone, which reap will notice.
                unsafe { libc::kill(init, sig as i32) };
            }
            Err(_) => continue,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("KILL"), Ok(9));
        assert_eq!(parse("sigterm"), Ok(15));
        assert_eq!(parse("SIGUSR1"), Ok(10));
        assert_eq!(parse("9"), Ok(9));
        assert!(parse("NOPE").is_err());
        assert_eq!(parse("0"), Ok(0));
        assert!(parse("-1").is_err());
        assert!(parse("1000").is_err());
    }
}
