//! Telling whether a container's init still exists: its pid *and* its start time must
//! match, so a pid reused by another process is never taken for init.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::sys;

/// `(state letter, start time)` from `/proc/<pid>/stat`.
pub fn stat(pid: i32) -> Option<(char, u64)> {
    let text = crate::procfs::read_short(format!("/proc/{pid}/stat").as_ref()).ok()?;
    // The command name (field 2) may hold spaces and parentheses: skip past the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Whether `pid` is the process that started at `start_time` and has not exited.
pub fn is_alive(pid: i32, start_time: u64) -> bool {
    pid > 0 && matches!(stat(pid), Some((s, t)) if t == start_time && s != 'Z' && s != 'X')
}

/// A pidfd for init, taken only if it is still the same process: signals sent through
/// it can never reach a successor that reused the pid.
pub fn open(pid: i32, start_time: u64) -> Option<OwnedFd> {
    let fd = sys::pidfd_open(pid).ok()?;
    // Checked after opening: from here on the pidfd pins this exact process.
    is_alive(pid, start_time).then_some(fd)
}

/// As [`open`], but init may have exited and wait to be reaped (a zombie keeps its pid,
/// so nothing can have taken it yet): a handle its parent can still wait on.
pub fn open_unreaped(pid: i32, start_time: u64) -> Option<OwnedFd> {
    let fd = sys::pidfd_open(pid).ok()?;
    matches!(stat(pid), Some((_, t)) if t == start_time).then_some(fd)
}

/// Waits for init's byte on exec.fifo (opened non-blocking); false if init exits, or
/// closes the fifo, without writing it.
pub fn wait_fifo_byte(fifo: &std::fs::File, init: &OwnedFd) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = [
            PollFd::new(fifo.as_fd(), PollFlags::POLLIN),
            PollFd::new(init.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
            Ok(_) => {}
        }
        let mut byte = [0u8; 1];
        match nix::unistd::read(fifo.as_raw_fd(), &mut byte) {
            Ok(1) => return true,
            // Nothing yet (spurious wakeup): wait again, unless init is gone.
            Err(nix::errno::Errno::EAGAIN) if fds[1].revents().is_none_or(|r| r.is_empty()) => {}
            _ => return false,
        }
    }
}
