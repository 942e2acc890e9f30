//! Handing descriptors to tokio's reactor (`hull::asyncio`, feature `tokio`).

use std::io;
use std::os::fd::OwnedFd;

/// Registers `fd` for readability with the current tokio runtime's reactor; panics
/// outside a runtime with I/O enabled, as tokio does.
pub fn register_readable(fd: OwnedFd) -> io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    use tokio::io::{unix::AsyncFd, Interest};
    // SAFETY: the AsyncFd owns `fd`, so it stays open on the same file description
    // until the AsyncFd is dropped; hull never swaps it through `get_mut`.
    Ok(unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?)
}
