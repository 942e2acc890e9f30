//! A container's saved state: `<root>/<id>/state.json`, written atomically (a
//! temporary file renamed over the old one) so a reader never sees half of it.

use std::collections::BTreeMap;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroups::Cgroup;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::Process;
use crate::sys;

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
        oci_state(
            &self.id,
            status,
            pid,
            &self.config.bundle,
            &self.config.rootfs,
            &self.created,
            &self.config.annotations,
        )
    }

    /// What tells the container's status.
    pub(crate) fn liveness(&self) -> Liveness<'_> {
        Liveness {
            init_pid: self.init_pid,
            init_start_time: self.init_start_time,
            checkpointed: self.checkpointed,
            cgroup: &self.cgroup,
        }
    }

    /// Reads the state from `dir`/[`STATE_FILE`].
    pub fn load(dir: &Path) -> Result<State> {
        let path = dir.join(STATE_FILE);
        crate::sys::with_small_file(&path, |text| serde_json::from_slice(text))
            .map_err(|e| Error::io("read", &path, e))?
            .map_err(|e| Error::io("parse", &path, e.into()))
    }

    /// Writes the state to `dir`/[`STATE_FILE`], replacing the file atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(STATE_FILE);
        let data = serde_json::to_vec(self).map_err(|e| Error::io("serialize", &path, e.into()))?;
        crate::safe_file::replace(&path, &data, 0o600).map_err(|e| Error::io("write", &path, e))
    }
}

/// The OCI state JSON.
fn oci_state(
    id: &str,
    status: &str,
    pid: i32,
    bundle: &Path,
    rootfs: &Path,
    created: &str,
    annotations: &BTreeMap<String, String>,
) -> serde_json::Value {
    let mut v = serde_json::json!({
        "ociVersion": OCI_VERSION,
        "id": id,
        "pid": pid,
        "status": status,
        "bundle": bundle,
        "rootfs": rootfs,
        "created": created,
    });
    if !annotations.is_empty() {
        v["annotations"] = serde_json::json!(annotations);
    }
    v
}

/// What of a saved state tells the container's status (see `status_of`).
pub(crate) struct Liveness<'a> {
    pub init_pid: i32,
    pub init_start_time: u64,
    pub checkpointed: bool,
    pub cgroup: &'a Cgroup,
}

/// A container as a listing shows it (see [`crate::Factory::overview`]): read from its
/// saved state without the config beyond its bundle, root and annotations.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The container's id.
    pub id: String,
    /// Its status, read from the kernel.
    pub status: super::Status,
    /// Init's pid, 0 while the container is being created and once it stopped.
    pub pid: i32,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The root filesystem.
    pub rootfs: PathBuf,
    /// RFC 3339 time of creation, UTC.
    pub created: String,
    /// The config's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The uid owning the container's state directory (runc lists it as the owner).
    pub owner: u32,
}

impl Overview {
    /// The container's OCI state, as [`State::oci`] gives it.
    pub fn oci(&self) -> serde_json::Value {
        oci_state(
            &self.id,
            self.status.as_str(),
            self.pid,
            &self.bundle,
            &self.rootfs,
            &self.created,
            &self.annotations,
        )
    }

    /// The overview of container `id` of the state root `root` (open at `root_fd`);
    /// `None` if it is gone. Its files are reached from `root_fd`: a listing of many
    /// containers walks no full path for each.
    pub(crate) fn load(root_fd: BorrowedFd<'_>, root: &Path, id: &str) -> Result<Option<Overview>> {
        /// The fields of a saved [`State`] a listing needs; serde skips the rest.
        #[derive(Deserialize)]
        struct Saved {
            init_pid: i32,
            init_start_time: u64,
            created: String,
            cgroup: Cgroup,
            #[serde(default)]
            checkpointed: bool,
            config: SavedConfig,
        }
        #[derive(Deserialize)]
        struct SavedConfig {
            bundle: PathBuf,
            rootfs: PathBuf,
            annotations: BTreeMap<String, String>,
        }
        let dir = Path::new(id);
        let file = dir.join(STATE_FILE);
        let saved = match sys::with_small_file_at(root_fd, &file, |t| serde_json::from_slice(t)) {
            Ok(parsed) => Some(parsed.map_err(|e| Error::io("parse", root.join(&file), e.into()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", root.join(&file), e)),
        };
        let saved: Saved = match saved {
            Some(saved) => saved,
            // A create that has not saved yet (or died first): only its directory.
            None => Saved {
                init_pid: 0,
                init_start_time: 0,
                created: String::new(),
                cgroup: Cgroup::default(),
                checkpointed: false,
                config: SavedConfig {
                    bundle: PathBuf::new(),
                    rootfs: PathBuf::new(),
                    annotations: BTreeMap::new(),
                },
            },
        };
        // After the state: a container deleted meanwhile has no directory either.
        let owner = match sys::stat_at(root_fd, dir) {
            Ok(st) => st.st_uid,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("stat", root.join(id), e)),
        };
        let liveness = Liveness {
            init_pid: saved.init_pid,
            init_start_time: saved.init_start_time,
            checkpointed: saved.checkpointed,
            cgroup: &saved.cgroup,
        };
        let status = super::status_of(root_fd, dir, &liveness, false, false);
        let pid = match status {
            super::Status::Stopped | super::Status::Creating => 0,
            _ => saved.init_pid,
        };
        Ok(Some(Overview {
            id: id.to_string(),
            status,
            pid,
            bundle: saved.config.bundle,
            rootfs: saved.config.rootfs,
            created: saved.created,
            annotations: saved.config.annotations,
            owner,
        }))
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
    use crate::test_util::Scratch;

    #[test]
    fn an_overview_reads_what_a_listing_shows_and_the_status_from_the_kernel() {
        let root = Scratch::new("overview");
        let config = Config {
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            annotations: [("k".to_string(), "v".to_string())].into(),
            ..Config::default()
        };
        let mut state = State::new("c1", config);
        state.created = "2026-12-02T00:00:00Z".into();
        // A pid that is not init any more (its start time differs): stopped.
        state.init_pid = std::process::id() as i32;
        state.init_start_time = 1;
        std::fs::create_dir(root.join("c1")).unwrap();
        state.save(&root.join("c1")).unwrap();
        let fd = root.open();
        let load = |id| Overview::load(std::os::fd::AsFd::as_fd(&fd), root.path(), id);
        let o = load("c1").unwrap().unwrap();
        assert_eq!((o.status, o.pid), (super::super::Status::Stopped, 0));
        assert_eq!(o.oci(), state.oci("stopped", 0));
        assert_eq!(o.owner, nix::unistd::geteuid().as_raw());
        // Init alive (this very process): created while exec.fifo is there, then running.
        let (_, start) = super::super::liveness::stat(state.init_pid).unwrap();
        state.init_start_time = start;
        state.save(&root.join("c1")).unwrap();
        root.write("c1/exec.fifo", "");
        let o = load("c1").unwrap().unwrap();
        assert_eq!(
            (o.status, o.pid),
            (super::super::Status::Created, state.init_pid)
        );
        std::fs::remove_file(root.join("c1/exec.fifo")).unwrap();
        assert_eq!(
            load("c1").unwrap().unwrap().status,
            super::super::Status::Running
        );
        // A create that saved nothing yet, whose creator is gone: stopped, empty.
        std::fs::create_dir(root.join("c2")).unwrap();
        let o = load("c2").unwrap().unwrap();
        assert_eq!(
            (o.status, o.bundle),
            (super::super::Status::Stopped, PathBuf::new())
        );
        assert!(load("gone").unwrap().is_none());
        root.write("c3/state.json", "{not json");
        assert!(load("c3").is_err());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
    }
}
