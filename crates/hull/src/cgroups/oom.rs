//! Out-of-memory notification (the seed's `NotifyOOM`) and memory pressure levels.
//! v1 registers an eventfd with `cgroup.event_control`; v2 watches `memory.events`
//! with inotify and counts `oom_kill` (for OOM) or, for pressure, the counter of the
//! level: `high` (low: usage over memory.high, throttled), `max` (medium: at the limit,
//! reclaiming), `oom` (critical: the limit could not be kept).
//!
//! The descriptor is non-blocking, so that an event loop can own the waiting:
//! [`OomEvents`] is [`AsFd`], and [`OomEvents::try_next`] takes what is pending.

use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::task::Poll;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

use super::{stats, write_file, CgroupError};
use crate::sys;

enum Source {
    /// An eventfd the kernel bumps on every event (and once more when the cgroup goes).
    V1 { eventfd: OwnedFd, _target: fs::File },
    /// inotify on `memory.events`, the counter followed and the last count seen.
    V2 {
        inotify: OwnedFd,
        key: &'static str,
        last: u64,
    },
}

/// Yields once per OOM event of a container's cgroup (blocking), and ends when the
/// cgroup is removed.
///
/// Without blocking: register [`AsFd::as_fd`] for readability with epoll, mio or
/// tokio (`hull::asyncio::AsyncOomEvents` does it for tokio), and on readiness call
/// [`OomEvents::try_next`] until it returns `Pending`. The descriptor is an eventfd
/// (cgroup v1) or an inotify descriptor on `memory.events` (v2); it is readable when
/// the kernel has signalled something since the last read, and once more when the
/// cgroup is removed.
pub struct OomEvents {
    source: Source,
    /// The cgroup directory: its disappearance ends the stream.
    dir: PathBuf,
    /// The end was seen: the descriptor will never be readable again.
    ended: bool,
}

/// What one non-blocking read of the source found.
enum Change {
    /// Nothing to read.
    Nothing,
    /// The source changed: so many new events (on v2, maybe 0).
    Events(u64),
    /// The cgroup is gone.
    Ended,
}

fn v1_register(dir: &Path, file: &str, args: &str) -> Result<Source, CgroupError> {
    let target_path = dir.join(file);
    let target = fs::File::open(&target_path).map_err(|source| CgroupError::Read {
        path: target_path,
        source,
    })?;
    let eventfd = sys::eventfd()
        .and_then(set_nonblocking)
        .map_err(|source| CgroupError::Read {
            path: "eventfd".into(),
            source,
        })?;
    let line = format!("{} {} {args}", eventfd.as_raw_fd(), target.as_raw_fd());
    write_file(&dir.join("cgroup.event_control"), line.trim_end())?;
    Ok(Source::V1 {
        eventfd,
        _target: target,
    })
}

impl OomEvents {
    /// OOM events of the v1 memory cgroup at `dir`.
    pub fn v1(dir: &Path) -> Result<OomEvents, CgroupError> {
        Ok(OomEvents {
            source: v1_register(dir, "memory.oom_control", "")?,
            dir: dir.into(),
            ended: false,
        })
    }

    /// Memory pressure events (`low`, `medium` or `critical`) of the v1 memory cgroup
    /// at `dir`: one item per notification.
    pub fn v1_pressure(dir: &Path, level: &str) -> Result<OomEvents, CgroupError> {
        Ok(OomEvents {
            source: v1_register(dir, "memory.pressure_level", level)?,
            dir: dir.into(),
            ended: false,
        })
    }

    /// OOM kills of the v2 cgroup at `dir`.
    pub fn v2(dir: &Path) -> Result<OomEvents, CgroupError> {
        Self::v2_counter(dir, "oom_kill")
    }

    /// Memory pressure events (`low`, `medium` or `critical`, see the module docs) of
    /// the v2 cgroup at `dir`.
    pub fn v2_pressure(dir: &Path, level: &str) -> Result<OomEvents, CgroupError> {
        let key = match level {
            "low" => "high",
            "medium" => "max",
            "critical" => "oom",
            _ => {
                return Err(CgroupError::Unsupported(
                    "pressure levels are low, medium, critical",
                ))
            }
        };
        Self::v2_counter(dir, key)
    }

    fn v2_counter(dir: &Path, key: &'static str) -> Result<OomEvents, CgroupError> {
        let events = dir.join("memory.events");
        let c = std::ffi::CString::new(events.as_os_str().as_bytes()).unwrap_or_default();
        let inotify = sys::inotify_watch(&c, libc::IN_MODIFY)
            .and_then(set_nonblocking)
            .map_err(|source| CgroupError::Read {
                path: events.clone(),
                source,
            })?;
        Ok(OomEvents {
            source: Source::V2 {
                inotify,
                key,
                last: count(&events, key),
            },
            dir: dir.into(),
            ended: false,
        })
    }

    /// Blocks until the next event; `None` once the cgroup is gone.
    pub fn wait(&mut self) -> io::Result<Option<u64>> {
        loop {
            match self.next_change()? {
                Some(0) => continue,
                other => return Ok(other),
            }
        }
    }

    /// Blocks until the source changes once and says how many new events that brought:
    /// on v2 `memory.events` changes for other counters too, so that may be 0 (a caller
    /// that polls the descriptor then never blocks on a change that was no OOM kill).
    /// `None` once the cgroup is gone.
    pub fn next_change(&mut self) -> io::Result<Option<u64>> {
        loop {
            match self.read_change()? {
                Change::Nothing => self.wait_readable()?,
                Change::Events(n) => return Ok(Some(n)),
                Change::Ended => return Ok(None),
            }
        }
    }

    /// Takes what is pending, without blocking: `Ready(Some(n))` for `n` new events
    /// (never 0), `Ready(None)` once the cgroup is gone (and from then on), `Pending`
    /// when nothing is left to read: wait for the descriptor to be readable again.
    /// Changes that brought no event (v2's other counters) are consumed on the way.
    pub fn try_next(&mut self) -> io::Result<Poll<Option<u64>>> {
        loop {
            match self.read_change()? {
                Change::Nothing => return Ok(Poll::Pending),
                Change::Events(0) => {}
                Change::Events(n) => return Ok(Poll::Ready(Some(n))),
                Change::Ended => return Ok(Poll::Ready(None)),
            }
        }
    }

    /// One non-blocking read of the source.
    fn read_change(&mut self) -> io::Result<Change> {
        if self.ended {
            return Ok(Change::Ended);
        }
        let change = match &mut self.source {
            Source::V1 { eventfd, .. } => {
                // An eventfd read is all 8 bytes of the counter, or EAGAIN.
                let mut count = [0u8; 8];
                match nix::unistd::read(eventfd.as_raw_fd(), &mut count) {
                    Err(nix::errno::Errno::EAGAIN) => return Ok(Change::Nothing),
                    other => other.map_err(io::Error::from)?,
                };
                // The kernel signals once more when the cgroup goes.
                if self.dir.exists() {
                    Change::Events(u64::from_ne_bytes(count))
                } else {
                    Change::Ended
                }
            }
            Source::V2 { inotify, key, last } => {
                let mut buf = [0u8; 4096];
                let n = match nix::unistd::read(inotify.as_raw_fd(), &mut buf) {
                    Err(nix::errno::Errno::EAGAIN) => return Ok(Change::Nothing),
                    other => other.map_err(io::Error::from)?,
                };
                let events = self.dir.join("memory.events");
                if n == 0 || !events.exists() {
                    Change::Ended
                } else {
                    let now = count(&events, key);
                    let new = now.saturating_sub(*last);
                    *last = now;
                    Change::Events(new)
                }
            }
        };
        self.ended = matches!(change, Change::Ended);
        Ok(change)
    }

    /// Blocks until the descriptor is readable.
    fn wait_readable(&self) -> io::Result<()> {
        let mut fds = [nix::poll::PollFd::new(
            self.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        loop {
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => return other.map(drop).map_err(io::Error::from),
            }
        }
    }
}

impl AsFd for OomEvents {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.source {
            Source::V1 { eventfd, .. } => eventfd.as_fd(),
            Source::V2 { inotify, .. } => inotify.as_fd(),
        }
    }
}

impl Iterator for OomEvents {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.wait().ok().flatten()
    }
}

/// Sets `O_NONBLOCK` on a fresh descriptor.
fn set_nonblocking(fd: OwnedFd) -> io::Result<OwnedFd> {
    let flags = OFlag::from_bits_retain(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(fd)
}

fn count(events: &Path, key: &str) -> u64 {
    stats::read_flat(events).get(key).copied().unwrap_or(0)
}
