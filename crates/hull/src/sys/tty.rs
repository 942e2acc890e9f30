//! Terminal `ioctl`s on a pty: unlock, open the peer, set the window size, become the
//! controlling terminal.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `ioctl(2)` with one argument.
///
/// # Safety
/// `arg` must be what `request` takes: an integer, or a pointer to a live value of the
/// type it reads or writes.
unsafe fn ioctl(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    arg: libc::c_ulong,
) -> io::Result<libc::c_int> {
    // SAFETY: the caller passes the argument the request takes.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg) };
    super::check(ret as libc::c_long).map(|r| r as libc::c_int)
}

/// Unlocks the slave of the pty master `master` (`TIOCSPTLCK` 0).
pub fn unlock_pty(master: BorrowedFd<'_>) -> io::Result<()> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int, alive for the call.
    unsafe {
        ioctl(
            master,
            libc::TIOCSPTLCK as libc::Ioctl,
            &unlock as *const _ as libc::c_ulong,
        )
    }
    .map(drop)
}

/// Opens the slave of `master` from the master itself (`TIOCGPTPEER`), with `O_*`
/// `flags`: no path lookup.
pub fn open_pty_peer(master: BorrowedFd<'_>, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: TIOCGPTPEER takes the open flags as an integer.
    let fd = unsafe {
        ioctl(
            master,
            libc::TIOCGPTPEER as libc::Ioctl,
            flags as libc::c_ulong,
        )
    }?;
    // SAFETY: TIOCGPTPEER returns a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets the terminal's window size (`TIOCSWINSZ`).
pub fn set_window_size(tty: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize, alive for the call.
    unsafe {
        ioctl(
            tty,
            libc::TIOCSWINSZ as libc::Ioctl,
            &size as *const _ as libc::c_ulong,
        )
    }
    .map(drop)
}

/// Makes `tty` the calling process's controlling terminal (`TIOCSCTTY`).
pub fn set_controlling_terminal(tty: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer (0: do not steal it from another session).
    unsafe { ioctl(tty, libc::TIOCSCTTY as libc::Ioctl, 0) }.map(drop)
}
