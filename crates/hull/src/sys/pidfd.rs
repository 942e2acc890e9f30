//! Signalling processes: by pid, for any signal number (real-time ones too, which
//! `nix`'s `Signal` lacks), and through pidfds, handles on processes that cannot be
//! confused with a later process that reuses the pid.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::check;

/// `kill(2)` of `pid` with signal number `signal`.
pub fn kill(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    check(unsafe { libc::kill(pid, signal) } as libc::c_long).map(drop)
}

/// `pidfd_open(2)`: a handle on a process that cannot be confused with a later one that
/// reuses its pid.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(2)`.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: plain syscall; a null siginfo means "as kill(2) would send it".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    check(ret).map(drop)
}

/// Waits until the process behind `pidfd` has exited (the pidfd becomes readable), at
/// most `timeout_ms` (0: just look); true if it has.
pub fn pidfd_wait_exit(pidfd: BorrowedFd<'_>, timeout_ms: u16) -> bool {
    let mut fds = [nix::poll::PollFd::new(pidfd, nix::poll::PollFlags::POLLIN)];
    matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(timeout_ms)), Ok(n) if n > 0)
}
