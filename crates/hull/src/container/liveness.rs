//! Telling whether a container's init still exists: its pid *and* its start time must
//! match, so a pid reused by another process is never taken for init.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::sys;

/// `(state letter, start time)` from `/proc/<pid>/stat`.
pub fn stat(pid: i32) -> Option<(char, u64)> {
    sys::with_small_file(format!("/proc/{pid}/stat").as_ref(), parse_stat).ok()?
}

/// `(state letter, start time)` of a `/proc/<pid>/stat` line, parsed where it lies.
fn parse_stat(text: &[u8]) -> Option<(char, u64)> {
    // The command name (field 2) may hold spaces and parentheses: skip past the last ')'.
    let rest = text.get(text.iter().rposition(|&b| b == b')')? + 2..)?;
    let mut fields = rest.split(|&b| b == b' ');
    let state = char::from(*fields.next()?.first()?);
    let start = std::str::from_utf8(fields.nth(18)?).ok()?.parse().ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_state_and_start_time_whatever_the_command_name() {
        let tail = "0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1000 10";
        let line = format!("42 (a) b) (c) S 1 42 42 {tail}\n");
        assert_eq!(parse_stat(line.as_bytes()), Some(('S', 123456)));
        assert_eq!(parse_stat(b"42 (x) Z 1"), None);
        assert_eq!(parse_stat(b"no paren"), None);
        // Ours, read from the kernel (its main thread may sleep while this one runs).
        assert!(matches!(stat(std::process::id() as i32), Some(('R' | 'S', t)) if t > 0));
    }
}
