//! Pause and resume: the v1 freezer (`freezer.state`) or v2 `cgroup.freeze`, and waiting
//! until the kernel reports the whole cgroup frozen or thawed (freezing can take a
//! while for processes in uninterruptible sleep).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{write_file, CgroupError};

const TIMEOUT: Duration = Duration::from_secs(10);

fn wait_for(
    path: &Path,
    state: &'static str,
    reached: impl Fn(&str) -> bool,
) -> Result<(), CgroupError> {
    let deadline = Instant::now() + TIMEOUT;
    let mut pause = Duration::from_micros(100);
    loop {
        let text = std::fs::read_to_string(path).map_err(|source| CgroupError::Read {
            path: path.into(),
            source,
        })?;
        if reached(&text) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CgroupError::FreezeTimeout {
                path: path.into(),
                state,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

pub fn v1(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    let state = if frozen { "FROZEN" } else { "THAWED" };
    let file = dir.join("freezer.state");
    write_file(&file, state)?;
    wait_for(&file, state, |t| t.trim() == state)
}

pub fn v2(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    write_file(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
    let want = if frozen { "frozen 1" } else { "frozen 0" };
    wait_for(
        &dir.join("cgroup.events"),
        if frozen { "frozen" } else { "thawed" },
        |t| t.lines().any(|l| l.trim() == want),
    )
}
