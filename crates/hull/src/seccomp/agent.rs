//! Handing a process's seccomp notify listener to the profile's agent, as the OCI
//! runtime spec asks: one connection to `listenerPath` per process, carrying the
//! container process state JSON with the listener attached (`fds: ["seccompFd"]`).

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use crate::config::seccomp::Seccomp;
use crate::container::state::OCI_VERSION;
use crate::error::{Error, Result};

/// Sends `listener`, the notify descriptor of process `pid`, to the agent of `profile`,
/// with `state`, the container's state.
pub(crate) fn send(
    profile: &Seccomp,
    pid: i32,
    state: serde_json::Value,
    listener: BorrowedFd<'_>,
) -> Result<()> {
    let path = profile
        .listener_path
        .as_ref()
        .ok_or_else(|| Error::sys("seccomp agent", std::io::Error::other("no listenerPath")))?;
    let mut message = serde_json::json!({
        "ociVersion": OCI_VERSION,
        "fds": ["seccompFd"],
        "pid": pid,
        "state": state,
    });
    if !profile.listener_metadata.is_empty() {
        message["metadata"] = profile.listener_metadata.clone().into();
    }
    let socket = UnixStream::connect(path)
        .map_err(|e| Error::io("connect to the seccomp agent at", path, e))?;
    crate::fdpass::send_fd(socket.as_fd(), message.to_string().as_bytes(), listener)
        .map_err(|e| Error::io("send the seccomp listener to", path, e))
}
