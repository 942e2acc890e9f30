//! Out-of-memory notification (the seed's `NotifyOOM`) and memory pressure levels.
//! v1 registers an eventfd with `cgroup.event_control`; v2 watches `memory.events`
//! with inotify and counts `oom_kill` (for OOM) or, for pressure, the counter of the
//! level: `high` (low: usage over memory.high, throttled), `max` (medium: at the limit,
//! reclaiming), `oom` (critical: the limit could not be kept).

use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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
/// cgroup is removed. Its descriptor can be polled alongside others.
pub struct OomEvents {
    source: Source,
    /// The cgroup directory: its disappearance ends the stream.
    dir: PathBuf,
}

fn v1_register(dir: &Path, file: &str, args: &str) -> Result<Source, CgroupError> {
    let target_path = dir.join(file);
    let target = fs::File::open(&target_path).map_err(|source| CgroupError::Read {
        path: target_path,
        source,
    })?;
    let eventfd = sys::eventfd().map_err(|source| CgroupError::Read {
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
        })
    }

    /// Memory pressure events (`low`, `medium` or `critical`) of the v1 memory cgroup
    /// at `dir`: one item per notification.
    pub fn v1_pressure(dir: &Path, level: &str) -> Result<OomEvents, CgroupError> {
        Ok(OomEvents {
            source: v1_register(dir, "memory.pressure_level", level)?,
            dir: dir.into(),
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
        let inotify =
            sys::inotify_watch(&c, libc::IN_MODIFY).map_err(|source| CgroupError::Read {
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
        match &mut self.source {
            Source::V1 { eventfd, .. } => {
                let mut count = [0u8; 8];
                fs::File::from(eventfd.try_clone()?).read_exact(&mut count)?;
                if !self.dir.exists() {
                    return Ok(None);
                }
                Ok(Some(u64::from_ne_bytes(count)))
            }
            Source::V2 { inotify, key, last } => {
                let mut buf = [0u8; 4096];
                let n =
                    nix::unistd::read(inotify.as_raw_fd(), &mut buf).map_err(io::Error::from)?;
                let events = self.dir.join("memory.events");
                if n == 0 || !events.exists() {
                    return Ok(None);
                }
                let now = count(&events, key);
                let new = now.saturating_sub(*last);
                *last = now;
                Ok(Some(new))
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

fn count(events: &Path, key: &str) -> u64 {
    stats::read_flat(events).get(key).copied().unwrap_or(0)
}
