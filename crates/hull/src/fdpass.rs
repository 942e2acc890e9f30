//! Passing a descriptor over a unix socket (`SCM_RIGHTS`) with a small message: the
//! terminal master to a console socket, a seccomp listener to its agent, a pidfd to
//! `--pidfd-socket`, and the seccomp listener from the container's process to hull.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

/// Sends `data` with `fd` attached, in one message.
pub fn send_fd(socket: BorrowedFd<'_>, data: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    let fds = [fd.as_raw_fd()];
    loop {
        match sendmsg::<()>(
            socket.as_raw_fd(),
            &[IoSlice::new(data)],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Receives one message into `buf`: its length, with `MSG_TRUNC` the whole message's
/// (longer than `buf` means it was cut), and the first descriptor attached to it, if
/// any (further ones are closed). Descriptors arrive close-on-exec.
pub fn recv_fd(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    let (len, fds) = crate::sys::recv_with_fds(socket, buf)?;
    // Dropping the others closes them.
    Ok((len, fds.into_iter().next()))
}

/// Receives the pty master that a container's process sends over a console socket.
pub fn receive_master(socket: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    recv_fd(socket, &mut [0u8; 64])?
        .1
        .ok_or_else(|| io::Error::other("no terminal came over the console socket"))
}
