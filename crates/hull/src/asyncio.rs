//! The tokio face of hull (feature `tokio`): wait for a process's exit and for a
//! cgroup's OOM or memory pressure events as futures, on the runtime's reactor. Each
//! wait is a descriptor registered with epoll (the pidfd; the eventfd or inotify
//! descriptor of [`OomEvents`]), so a program can wait on thousands of containers with
//! no thread per container and no polling on a timer.
//!
//! Like any `AsyncFd`, these must be used inside a tokio runtime with I/O enabled
//! (`enable_io` or `enable_all`), of either flavour.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::task::{Context, Poll};

use tokio::io::unix::AsyncFd;

use crate::cgroups::oom::OomEvents;
use crate::error::{Error, Result};
use crate::process::{ExitStatus, ProcessHandle};
use crate::sys;

/// Waits for `process` to exit and reaps it, as [`ProcessHandle::wait`] without blocking the
/// thread: the future is woken when the process's pidfd becomes readable.
///
/// Registers a copy of the pidfd, so several futures may wait on one process (the
/// first to see the exit reaps it; the others then fail with `ECHILD`). As with
/// [`ProcessHandle::wait`], the process must be a child of this program, which every process
/// hull starts is. Cancel-safe: the status is taken only in the poll that returns it.
pub async fn wait_exit(process: &ProcessHandle) -> Result<ExitStatus> {
    let pidfd =
        sys::register_readable(process.pidfd()?).map_err(|e| Error::sys("register pidfd", e))?;
    loop {
        // Registration reports a process that has already exited at once.
        let mut ready = pidfd
            .readable()
            .await
            .map_err(|e| Error::sys("poll pidfd", e))?;
        match process.try_wait()? {
            Some(status) => return Ok(status),
            None => ready.clear_ready(),
        }
    }
}

/// [`OomEvents`] as an async stream: [`AsyncOomEvents::next`] resolves with the number
/// of new events, or `None` once the cgroup is gone.
pub struct AsyncOomEvents {
    events: OomEvents,
    /// A copy of the events' descriptor, registered with the reactor.
    registered: AsyncFd<OwnedFd>,
}

impl AsyncOomEvents {
    /// Registers `events` (from [`crate::Container::notify_oom`] or
    /// [`crate::Container::notify_memory_pressure`]) with the current runtime.
    pub fn new(events: OomEvents) -> io::Result<AsyncOomEvents> {
        let registered = sys::register_readable(events.as_fd().try_clone_to_owned()?)?;
        Ok(AsyncOomEvents { events, registered })
    }

    /// The next events: `Some(n)` for `n` (at least 1) new events, `None` once the
    /// cgroup is gone. Cancel-safe, as `tokio::select!` needs: events are taken only in
    /// the poll that returns them.
    pub async fn next(&mut self) -> io::Result<Option<u64>> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// [`AsyncOomEvents::next`] as a poll function, in the shape of a `Stream`'s
    /// `poll_next`, for callers that implement one.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<u64>>> {
        loop {
            let mut ready = std::task::ready!(self.registered.poll_read_ready(cx))?;
            match self.events.try_next() {
                Ok(Poll::Pending) => ready.clear_ready(),
                Ok(Poll::Ready(item)) => return Poll::Ready(Ok(item)),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The synchronous stream back, deregistered.
    pub fn into_inner(self) -> OomEvents {
        self.events
    }
}
