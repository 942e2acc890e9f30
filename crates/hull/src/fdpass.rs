//! Passing a descriptor over a unix socket (`SCM_RIGHTS`) with a small message: the
//! terminal master to a console socket, a seccomp listener to its agent, a pidfd to
//! `--pidfd-socket`, and the seccomp listener from the container's process to hull.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

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
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_TRUNC,
        ) {
            Ok(msg) => break msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let mut first = None;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            for fd in fds {
                // SAFETY: the kernel just installed this descriptor for us; owning it
                // closes the ones we do not keep.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                first.get_or_insert(fd);
            }
        }
    }
    Ok((msg.bytes, first))
}

/// Receives the pty master that a container's process sends over a console socket.
pub fn receive_master(socket: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    recv_fd(socket, &mut [0u8; 64])?
        .1
        .ok_or_else(|| io::Error::other("no terminal came over the console socket"))
}
