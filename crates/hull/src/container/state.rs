//! A container's saved state: `<root>/<id>/state.json`, written atomically (a
//! temporary file renamed over the old one) so a reader never sees half of it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroups::Cgroup;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::Process;

/// The name of the file, in the container's directory under the factory's root, that holds its [`State`].
pub const STATE_FILE: &str = "state.json";

/// The runtime-spec version hull implements, as reported in `ociVersion`.
pub const OCI_VERSION: &str = "1.3.0";

/// What hull remembers of a container between commands.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    /// The container's id.
    pub id: String,
    /// The init process's pid in the runtime's pid namespace; 0 until it exists.
    pub init_pid: i32,
    /// Field 22 of `/proc/<pid>/stat`: with the pid, the identity of init.
    pub init_start_time: u64,
    /// RFC 3339 time of creation, UTC.
    pub created: String,
    /// The container's cgroup: its directories, and which of them hull made.
    pub cgroup: Cgroup,
    /// Namespace kind (OCI name) -> `/proc/<pid>/ns/<kind>` of init.
    pub namespace_paths: BTreeMap<String, PathBuf>,
    /// The configuration the container was created with.
    pub config: Config,
    /// The init process as configured (without its descriptors).
    pub init_process: Process,
    /// Where init's stdin, stdout and stderr pointed (for checkpoint/restore).
    pub external_descriptors: Vec<String>,
    /// Why the container has no cgroup of its own (an unprivileged user without a
    /// delegated cgroup), if it has none.
    #[serde(default)]
    pub cgroup_skipped: Option<String>,
    /// A checkpoint stopped the container (it is `Checkpointed` until restored).
    #[serde(default)]
    pub checkpointed: bool,
    /// The host ends of the container's veth pairs, deleted with the container.
    #[serde(default)]
    pub host_ends: Vec<HostEnd>,
}

/// The host end of one of the container's veth pairs: its name and index in the
/// runtime's network namespace. Both must still match for `destroy` to delete it: a
/// device that took the name after the container's pair went is somebody else's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEnd {
    /// The device's name.
    pub name: String,
    /// Its interface index (never reused until the namespace's counter wraps).
    pub index: i32,
}

impl State {
    /// The state of a container that was just registered: nothing runs yet.
    pub fn new(id: &str, config: Config) -> State {
        State {
            id: id.to_string(),
            init_pid: 0,
            init_start_time: 0,
            created: String::new(),
            cgroup: Cgroup::default(),
            namespace_paths: BTreeMap::new(),
            config,
            init_process: Process::default(),
            external_descriptors: Vec::new(),
            cgroup_skipped: None,
            checkpointed: false,
            host_ends: Vec::new(),
        }
    }

    /// The OCI state of the container (what hooks get on stdin and `state` prints,
    /// without the runtime's `owner`).
    pub fn oci(&self, status: &str, pid: i32) -> serde_json::Value {
        let mut v = serde_json::json!({
            "ociVersion": OCI_VERSION,
            "id": self.id,
            "pid": pid,
            "status": status,
            "bundle": self.config.bundle,
            "rootfs": self.config.rootfs,
            "created": self.created,
        });
        if !self.config.annotations.is_empty() {
            v["annotations"] = serde_json::json!(self.config.annotations);
        }
        v
    }

    /// Reads the state from `dir`/[`STATE_FILE`].
    pub fn load(dir: &Path) -> Result<State> {
        let path = dir.join(STATE_FILE);
        let text = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        serde_json::from_slice(&text).map_err(|e| Error::io("parse", &path, e.into()))
    }

    /// Writes the state to `dir`/[`STATE_FILE`], replacing the file atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(STATE_FILE);
        let data = serde_json::to_vec(self).map_err(|e| Error::io("serialize", &path, e.into()))?;
        crate::safe_file::replace(&path, &data, 0o600).map_err(|e| Error::io("write", &path, e))
    }
}

/// The current time as RFC 3339 with nanoseconds, UTC, as runc prints `created`.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_nanos()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's civil-from-days algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
    }
}
