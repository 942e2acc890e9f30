//! Cgroups: finding the host's hierarchies (cgroup v1, v2, or hybrid), making the
//! container's cgroup in each, placing processes there, listing and killing them,
//! and removing the cgroup on delete.
//!
//! Resource limits, stats and the freezer build on [`Cgroup`] in later modules.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::resources::Resources;
use crate::config::DeviceRule;
use crate::mountinfo;

mod apply;
mod devices;
pub(crate) mod ebpf;
mod freezer;
pub mod oom;
pub mod stats;
pub(crate) mod systemd;
mod v1;
mod v2;

pub use stats::Stats;
pub use systemd::Scope;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
/// Why a cgroup operation failed.
pub enum CgroupError {
    #[error("cgroup: reading {path}: {source}")]
    /// A cgroup file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The error the system returned.
        source: io::Error,
    },
    #[error("cgroup: writing {data:?} to {path}: {source}")]
    /// A cgroup file could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// What was written.
        data: String,
        /// The error the system returned.
        source: io::Error,
    },
    #[error("cgroup: creating {path}: {source}")]
    /// A cgroup directory could not be made.
    Create {
        /// The directory.
        path: PathBuf,
        /// The error the system returned.
        source: io::Error,
    },
    #[error("cgroup: removing {path}: {source}")]
    /// A cgroup directory could not be removed.
    Remove {
        /// The directory.
        path: PathBuf,
        /// The error the system returned.
        source: io::Error,
    },
    #[error("cgroup: no cgroup hierarchy is mounted on this host")]
    /// No cgroup hierarchy is mounted.
    NoHierarchy,
    #[error("cgroup: invalid cgroupsPath {0:?}: it must not contain \"..\"")]
    /// A cgroups path with `..`.
    InvalidPath(PathBuf),
    #[error("cgroup: {0}")]
    /// Something the host's cgroups cannot do (the text says what).
    Unsupported(&'static str),
    #[error("linux.cgroupsPath: a container may not use the root cgroup")]
    /// The cgroups path names the root cgroup.
    RootCgroup,
    #[error("{field}: writing {value:?} to {path}: {source}")]
    /// A resource limit could not be written.
    Resource {
        /// The OCI field of the limit (`linux.resources.memory.limit`).
        field: &'static str,
        /// The cgroup file.
        path: PathBuf,
        /// What was written.
        value: String,
        /// The error the system returned.
        source: io::Error,
    },
    #[error("{field}: not possible here: {why}")]
    /// A resource limit this host cannot set.
    NotSupported {
        /// The OCI field of the limit.
        field: &'static str,
        /// Why it cannot be set.
        why: String,
    },
    #[error("cgroup {path} is in use: {why}")]
    /// The cgroup is used by something other than this container.
    InUse {
        /// The cgroup's directory.
        path: PathBuf,
        /// What uses it.
        why: &'static str,
    },
    #[error("cgroup: the freezer of {path} did not reach {state:?}")]
    /// Freezing or thawing did not finish in time.
    FreezeTimeout {
        /// The cgroup's directory.
        path: PathBuf,
        /// The state it should have reached (`FROZEN`, `THAWED`).
        state: &'static str,
    },
    #[error("cgroup: systemd: {0}")]
    /// systemd refused or failed an operation on the container's unit.
    Systemd(String),
    #[error("linux.cgroupsPath: {0:?}: the systemd cgroup driver takes slice:prefix:name")]
    /// A cgroups path that is not `slice:prefix:name`, with the systemd driver.
    SystemdPath(PathBuf),
}

impl CgroupError {
    /// Refused for lack of permission (a cgroup not delegated to an unprivileged user).
    pub fn is_denied(&self) -> bool {
        let source = match self {
            CgroupError::Create { source, .. }
            | CgroupError::Write { source, .. }
            | CgroupError::Read { source, .. } => source,
            _ => return false,
        };
        matches!(
            source.raw_os_error(),
            Some(libc::EACCES | libc::EPERM | libc::EROFS)
        )
    }
}

type Result<T> = std::result::Result<T, CgroupError>;

/// The name the unified (v2) hierarchy goes by in [`Cgroup::paths`], as in
/// `/proc/self/cgroup`.
pub const UNIFIED: &str = "";

/// One mounted hierarchy of the host.
#[derive(Debug, Clone)]
struct Hierarchy {
    /// `/proc/self/cgroup`'s name for it: `cpu,cpuacct`, `name=systemd`, or "" for v2.
    key: String,
    mount_point: PathBuf,
    /// The cgroup the mount shows at its mount point (not `/` inside a cgroup namespace).
    mount_root: PathBuf,
}

/// The host's cgroup layout.
#[derive(Debug, Clone)]
pub struct Layout {
    hierarchies: Vec<Hierarchy>,
}

impl Layout {
    /// Reads the layout from the calling process's mounts.
    pub fn detect() -> Result<Layout> {
        let mounts = mountinfo::read_self().map_err(|source| CgroupError::Read {
            path: "/proc/self/mountinfo".into(),
            source,
        })?;
        Layout::from_mounts(mounts)
    }

    /// The layout the mounts `mounts` (mountinfo's) make.
    fn from_mounts(mounts: Vec<mountinfo::MountEntry>) -> Result<Layout> {
        let mut hierarchies = Vec::new();
        for m in mounts {
            let key = match m.fstype.as_str() {
                "cgroup2" => UNIFIED.to_string(),
                "cgroup" => {
                    let mut names: Vec<&str> = m
                        .super_options
                        .iter()
                        .map(String::as_str)
                        .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("clone_children"))
                        .filter(|o| !o.starts_with("xattr") && !o.starts_with("release_agent"))
                        .filter(|o| !matches!(*o, "noprefix" | "cpuset_v2_mode" | "nsdelegate"))
                        .collect();
                    names.sort_unstable();
                    names.join(",")
                }
                _ => continue,
            };
            // A hierarchy mounted twice is used through its first mount.
            if hierarchies.iter().any(|h: &Hierarchy| h.key == key) {
                continue;
            }
            hierarchies.push(Hierarchy {
                key,
                mount_point: m.mount_point,
                mount_root: m.root,
            });
        }
        if hierarchies.is_empty() {
            return Err(CgroupError::NoHierarchy);
        }
        Ok(Layout { hierarchies })
    }

    /// True on a pure cgroup v2 host, where the unified hierarchy holds every controller.
    pub fn is_unified(&self) -> bool {
        self.hierarchies.iter().all(|h| h.key == UNIFIED)
    }

    /// The v1 hierarchies' keys and mount points (empty on a pure v2 host).
    pub fn v1_hierarchies(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.hierarchies
            .iter()
            .filter(|h| h.key != UNIFIED)
            .map(|h| (h.key.as_str(), h.mount_point.as_path()))
    }

    /// The container's cgroup for `path`: absolute paths start at each hierarchy's root,
    /// relative ones at hull's own cgroup in that hierarchy (as runc does).
    pub fn cgroup_for(&self, path: &Path) -> Result<Cgroup> {
        if path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(CgroupError::InvalidPath(path.to_path_buf()));
        }
        if path.components().all(|c| {
            matches!(
                c,
                std::path::Component::RootDir | std::path::Component::CurDir
            )
        }) {
            return Err(CgroupError::RootCgroup);
        }
        let base = if path.is_absolute() {
            self.hierarchies
                .iter()
                .map(|h| (h.key.clone(), h.mount_point.clone()))
                .collect()
        } else {
            self.own_cgroup()?
        };
        let rel = path.strip_prefix("/").unwrap_or(path);
        let paths: BTreeMap<String, PathBuf> = base
            .into_iter()
            .map(|(key, dir)| (key, dir.join(rel)))
            .collect();
        // What exists already is not ours to remove later.
        let made = paths.values().filter(|p| !p.exists()).cloned().collect();
        Ok(Cgroup {
            paths,
            unified_root: self.unified_root(),
            made,
            systemd: None,
        })
    }
}

impl Layout {
    /// The cgroup of a systemd scope: its path below the manager's cgroup, in every
    /// hierarchy. Nothing exists yet: systemd makes it when init is placed.
    pub fn systemd_cgroup(&self, scope: systemd::Scope) -> Result<Cgroup> {
        if scope.user && !self.is_unified() {
            // systemd delegates no v1 controller to a user (runc refuses this too).
            return Err(CgroupError::Unsupported(
                "the systemd cgroup driver for an unprivileged user needs a cgroup v2 host",
            ));
        }
        let at = scope.manager_cgroup()?.join(scope.relative_dir());
        let paths = self
            .hierarchies
            .iter()
            .map(|h| {
                let rel = at.strip_prefix(&h.mount_root).unwrap_or(&at);
                let rel = rel.strip_prefix("/").unwrap_or(rel);
                (h.key.clone(), h.mount_point.join(rel))
            })
            .collect();
        Ok(Cgroup {
            paths,
            unified_root: self.unified_root(),
            made: Vec::new(),
            systemd: Some(scope),
        })
    }

    fn unified_root(&self) -> Option<PathBuf> {
        self.hierarchies
            .iter()
            .find(|h| h.key == UNIFIED)
            .map(|h| h.mount_point.clone())
    }

    /// The caller's own cgroup: its directory in every hierarchy.
    pub fn own_cgroup(&self) -> Result<BTreeMap<String, PathBuf>> {
        let own = own_cgroups()?;
        Ok(self
            .hierarchies
            .iter()
            .map(|h| {
                // Our own cgroup is given from the hierarchy's root; the mount may show
                // only a subtree of it.
                let mine = own
                    .get(&h.key)
                    .and_then(|mine| mine.strip_prefix(&h.mount_root).ok())
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                (h.key.clone(), h.mount_point.join(mine))
            })
            .collect())
    }
}

/// `/proc/self/cgroup` as a map from hierarchy key to cgroup path.
fn own_cgroups() -> Result<BTreeMap<String, PathBuf>> {
    let path = Path::new("/proc/self/cgroup");
    let text = crate::procfs::read_generated(path).map_err(|source| CgroupError::Read {
        path: path.into(),
        source,
    })?;
    Ok(parse_own_cgroups(&text))
}

/// `/proc/<pid>/cgroup` text as a map from hierarchy key (controllers sorted) to path.
fn parse_own_cgroups(text: &str) -> BTreeMap<String, PathBuf> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            let mut names: Vec<&str> = parts.next()?.split(',').filter(|s| !s.is_empty()).collect();
            names.sort_unstable();
            Some((names.join(","), PathBuf::from(parts.next()?)))
        })
        .collect()
}

/// How a new process gets into a cgroup cheaply. Moving another process takes the
/// kernel's global threadgroup lock for writing, which costs an RCU grace period (about
/// 10 ms here) on every `create`. Instead the process is born in the v2 cgroup
/// (`CLONE_INTO_CGROUP`, no migration at all) and moves its own single thread into each
/// v1 hierarchy by writing "0" to `tasks`, which skips that lock. The files are opened
/// by the runtime, and the kernel checks the opener's credentials, so this works from
/// inside a new user namespace as well.
#[derive(Debug)]
pub struct Joiner {
    /// The v2 cgroup's directory, for `clone3(CLONE_INTO_CGROUP)`.
    pub unified: Option<OwnedFd>,
    v1_tasks: Vec<(PathBuf, fs::File)>,
}

impl Joiner {
    /// Nothing to join: the parent places the new process (the systemd driver).
    pub fn none() -> Joiner {
        Joiner {
            unified: None,
            v1_tasks: Vec::new(),
        }
    }

    /// The descriptors this holds (for a child that closes all others).
    pub fn fds(&self) -> Vec<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.unified
            .iter()
            .map(|f| f.as_raw_fd())
            .chain(self.v1_tasks.iter().map(|(_, f)| f.as_raw_fd()))
            .collect()
    }

    /// Called by the new process itself: moves the calling thread into every v1
    /// hierarchy, and into the v2 one too unless it was born there.
    pub fn join(&self, born_in_unified: bool) -> Result<()> {
        if let (Some(dir), false) = (&self.unified, born_in_unified) {
            use std::os::fd::AsRawFd;
            let procs = format!("/proc/self/fd/{}/cgroup.procs", dir.as_raw_fd());
            write_file(Path::new(&procs), "0")?;
        }
        for (path, mut file) in self.v1_tasks.iter().map(|(p, f)| (p, f)) {
            file.write_all(b"0").map_err(|source| CgroupError::Write {
                path: path.clone(),
                data: "0".into(),
                source,
            })?;
        }
        Ok(())
    }
}

/// A container's cgroup: its directory in every hierarchy of the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroup {
    /// Hierarchy key (`memory`, `cpu,cpuacct`, `name=systemd`, "" for v2) -> directory.
    pub paths: BTreeMap<String, PathBuf>,
    /// Where the v2 hierarchy is mounted, if it is.
    #[serde(default)]
    pub unified_root: Option<PathBuf>,
    /// The directories hull makes (they did not exist before): the ones delete removes.
    #[serde(default)]
    pub made: Vec<PathBuf>,
    /// With the systemd driver: the scope unit that is the cgroup (systemd makes and
    /// removes it; hull makes only what systemd does not manage).
    #[serde(default)]
    pub systemd: Option<systemd::Scope>,
}

fn write_file(path: &Path, data: &str) -> Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(data.as_bytes()))
        .map_err(|source| CgroupError::Write {
            path: path.into(),
            data: data.into(),
            source,
        })
}

fn read_file(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.into(),
        source,
    })
}

impl Cgroup {
    fn unified(&self) -> Option<&Path> {
        self.paths.get(UNIFIED).map(PathBuf::as_path)
    }

    /// Whether the freezer holds the cgroup frozen (v1 `freezer.state`, else v2
    /// `cgroup.freeze`).
    pub fn is_frozen(&self) -> bool {
        let reads = |path: PathBuf, frozen: &[u8]| {
            crate::sys::with_small_file(&path, |text| text.trim_ascii() == frozen).unwrap_or(false)
        };
        match self.paths.get("freezer") {
            Some(p) => reads(p.join("freezer.state"), b"FROZEN"),
            None => self
                .unified()
                .is_some_and(|p| reads(p.join("cgroup.freeze"), b"1")),
        }
    }

    /// Applies device access rules: the configured ones, then runc's defaults;
    /// everything else is denied. v1 uses the devices controller, v2 an eBPF program.
    pub fn apply_devices(&self, rules: &[DeviceRule]) -> Result<()> {
        let rules = devices::effective_rules(rules);
        match (self.paths.get("devices"), self.unified()) {
            (Some(dir), _) => devices::apply_v1(dir, &rules),
            (None, Some(dir)) => devices::apply_v2(dir, &rules),
            (None, None) => Err(CgroupError::Unsupported(
                "device rules on a host with neither the v1 devices controller nor cgroup v2",
            )),
        }
    }

    /// An existing sub-cgroup (`path` relative, in every hierarchy), for a process that
    /// should run below the container's cgroup.
    pub fn sub(&self, path: &Path) -> Result<Cgroup> {
        if path.is_absolute()
            || path
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(CgroupError::InvalidPath(path.to_path_buf()));
        }
        let paths: BTreeMap<String, PathBuf> = self
            .paths
            .iter()
            .map(|(k, p)| (k.clone(), p.join(path)))
            .collect();
        if let Some(missing) = paths.values().find(|p| !p.is_dir()) {
            return Err(CgroupError::Read {
                path: missing.clone(),
                source: io::Error::from_raw_os_error(libc::ENOENT),
            });
        }
        Ok(Cgroup {
            paths,
            unified_root: self.unified_root.clone(),
            made: Vec::new(),
            systemd: None,
        })
    }

    /// True when controllers live in v1 hierarchies (pure v1 and hybrid hosts): the v1
    /// driver applies limits and reads stats; the v2 directory only holds processes.
    pub fn is_v1(&self) -> bool {
        self.paths
            .keys()
            .any(|k| k != UNIFIED && !k.starts_with("name="))
    }

    /// Applies `resources` all or nothing: the previous limits stay if any write fails.
    pub fn set(&self, resources: &Resources) -> Result<()> {
        let plan = if self.is_v1() {
            v1::plan(&self.paths, resources)?
        } else {
            let dir = self.unified().ok_or(CgroupError::NoHierarchy)?;
            if let Some(root) = &self.unified_root {
                // Whatever the plan writes to needs its controller enabled above us.
                v2::enable_controllers(root, dir, &v2::controllers_for(resources))?;
            }
            v2::plan(dir, resources)?
        };
        apply::apply(&plan)
    }

    /// A stream of OOM events (see [`oom::OomEvents`]).
    pub fn oom_events(&self) -> Result<oom::OomEvents> {
        match v1::dir(&self.paths, "memory") {
            Some(dir) => oom::OomEvents::v1(dir),
            None => oom::OomEvents::v2(self.unified().ok_or(CgroupError::NoHierarchy)?),
        }
    }

    /// The directory whose freezer stops the whole container: v1's freezer hierarchy,
    /// else the v2 cgroup.
    pub fn freezer_dir(&self) -> Option<&Path> {
        v1::dir(&self.paths, "freezer").or_else(|| self.unified())
    }

    /// Puts process `pid` in the cgroup, in every hierarchy, from outside.
    pub fn add_process(&self, pid: i32) -> Result<()> {
        for path in self.paths.values() {
            write_file(&path.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// Memory pressure notifications at `level` (`low`, `medium`, `critical`).
    pub fn memory_pressure_events(&self, level: &str) -> Result<oom::OomEvents> {
        match v1::dir(&self.paths, "memory") {
            Some(dir) => oom::OomEvents::v1_pressure(dir, level),
            None => {
                oom::OomEvents::v2_pressure(self.unified().ok_or(CgroupError::NoHierarchy)?, level)
            }
        }
    }

    /// The cgroup's statistics, read from the kernel's files.
    pub fn stats(&self) -> Stats {
        if self.is_v1() {
            v1::stats(&self.paths)
        } else {
            self.unified().map(v2::stats).unwrap_or_default()
        }
    }

    /// Freezes (pause) or thaws (resume) every process, waiting until the kernel says
    /// the whole cgroup is there.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        match v1::dir(&self.paths, "freezer") {
            Some(dir) => freezer::v1(dir, frozen),
            None => freezer::v2(self.unified().ok_or(CgroupError::NoHierarchy)?, frozen),
        }
    }

    /// Refuses a cgroup that already exists with processes anywhere in its subtree, or
    /// frozen: it would not be the container's alone, and what kills or removes the
    /// container's cgroup later must never reach a process the host put there.
    pub fn check_unused(&self) -> Result<()> {
        // A directory hull is to make did not exist when the layout looked: it holds
        // nothing (if it appears meanwhile, `create` refuses it).
        let existing = || self.paths.values().filter(|p| !self.made.contains(p));
        if existing().next().is_none() {
            return Ok(());
        }
        for path in existing() {
            // Every entry counts, a 0 (a process out of our sight) too.
            let mut pids = std::collections::BTreeSet::new();
            collect_pids(path, &mut pids)?;
            if !pids.is_empty() {
                return Err(CgroupError::InUse {
                    path: path.clone(),
                    why: "processes are in it or below it",
                });
            }
        }
        if self.is_frozen() {
            return Err(CgroupError::InUse {
                path: self.paths.values().next().cloned().unwrap_or_default(),
                why: "it is frozen",
            });
        }
        Ok(())
    }

    /// Makes the directories hull is to make (see [`Cgroup::made`]), with their
    /// parents. A directory that appeared since [`Layout::cgroup_for`] looked is
    /// somebody else's: it leaves `made` (never to be removed by hull) and is refused,
    /// never taken over.
    pub fn create(&mut self) -> Result<()> {
        if self.systemd.is_some() {
            // systemd makes the scope when it places init (see `place`).
            return Ok(());
        }
        for (key, path) in &self.paths {
            let cpuset = holds_cpuset(key);
            if let Some(parent) = path.parent() {
                ensure_dir(parent, cpuset)?;
            }
            if !self.made.contains(path) {
                continue;
            }
            match make_dir(path, cpuset) {
                Err(CgroupError::Create { source, .. })
                    if source.kind() == io::ErrorKind::AlreadyExists =>
                {
                    self.made.retain(|p| p != path);
                    return Err(CgroupError::InUse {
                        path: path.clone(),
                        why: "somebody else made it while the container was being created",
                    });
                }
                other => other?,
            }
        }
        if let Some(dir) = self.unified() {
            v2::make_joinable(dir)?;
        }
        Ok(())
    }

    /// Opens what a new process needs to join this cgroup by itself (see [`Joiner`]).
    pub fn joiner(&self) -> Result<Joiner> {
        let mut joiner = Joiner {
            unified: None,
            v1_tasks: Vec::new(),
        };
        for (key, path) in &self.paths {
            if key == UNIFIED {
                let dir = fs::File::open(path).map_err(|source| CgroupError::Read {
                    path: path.clone(),
                    source,
                })?;
                joiner.unified = Some(dir.into());
            } else {
                let tasks = path.join("tasks");
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(&tasks)
                    .map_err(|source| CgroupError::Write {
                        path: tasks.clone(),
                        data: String::new(),
                        source,
                    })?;
                joiner.v1_tasks.push((tasks, file));
            }
        }
        Ok(joiner)
    }

    /// The pids in the cgroup (as seen from the caller's pid namespace).
    /// Every hierarchy and every sub-cgroup is read: a process of the container may
    /// have moved itself below, or out of one hierarchy. A process outside the caller's
    /// pid namespace, which cgroup v2 lists as 0, has no pid here and is left out
    /// (`kill(0)` would signal our own process group).
    pub fn pids(&self) -> Result<Vec<i32>> {
        let mut pids = std::collections::BTreeSet::new();
        for path in self.paths.values() {
            collect_pids(path, &mut pids)?;
        }
        Ok(pids.into_iter().filter(|&pid| pid > 0).collect())
    }

    /// Sends `signal` to every process in the cgroup and its sub-cgroups, as runc's
    /// `kill --all` does: with the cgroup frozen while the processes are listed and
    /// signalled (a forking process cannot slip a child past the list), then thawed
    /// (a paused container too, as in runc). SIGKILL goes through `cgroup.kill` where
    /// the kernel has it, which is atomic. No process at all is no error.
    pub fn signal_all(&self, signal: i32) -> Result<()> {
        if self.pids()?.is_empty() {
            return Ok(());
        }
        // Frozen while listed and signalled: nothing forks past the list, and no pid is
        // reused between reading and signalling. Without a freezer (none mounted on a
        // v1 host) the list is signalled as it is.
        let was_frozen = self.is_frozen();
        let frozen = was_frozen || self.freeze(true).is_ok();
        let signalled = if signal == libc::SIGKILL && self.kill_through_kernel()? {
            Ok(())
        } else {
            self.signal_listed(signal)
        };
        // A paused container stays paused, unless killed: frozen, it would not die.
        if frozen && (!was_frozen || signal == libc::SIGKILL) {
            self.freeze(false)?;
        }
        signalled
    }

    /// Writes `cgroup.kill` if the kernel has it; false if it does not.
    fn kill_through_kernel(&self) -> Result<bool> {
        match self.unified().map(|p| p.join("cgroup.kill")) {
            Some(kill) if kill.exists() => write_file(&kill, "1").map(|()| true),
            _ => Ok(false),
        }
    }

    /// Sends `signal` to every pid listed in the cgroup now.
    fn signal_listed(&self, signal: i32) -> Result<()> {
        for pid in self.pids()? {
            // A process that is already gone is fine.
            let _ = crate::sys::kill(pid, signal);
        }
        Ok(())
    }

    /// Kills the processes in the cgroup that `ours` accepts (given a pid), and waits
    /// (bounded) until none of them is left. Each is signalled through a pidfd opened
    /// before `ours` looks at it and found alive after, so a pid reused meanwhile by a
    /// process `ours` did not see is never signalled.
    pub fn kill_where(&self, timeout: Duration, ours: &dyn Fn(i32) -> bool) -> Result<()> {
        use std::os::fd::AsFd;
        let deadline = Instant::now() + timeout;
        loop {
            let mut left = false;
            for pid in self.pids()? {
                let Ok(pidfd) = crate::sys::pidfd_open(pid) else {
                    continue;
                };
                if !ours(pid) || crate::sys::pidfd_wait_exit(pidfd.as_fd(), 0) {
                    continue;
                }
                left = true;
                let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            }
            if !left || Instant::now() > deadline {
                return Ok(());
            }
            // Frozen processes only die once thawed.
            if self.is_frozen() {
                self.freeze(false)?;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills every process and waits (bounded) until the cgroup is empty.
    pub fn kill_all(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.pids()?.is_empty() {
                return Ok(());
            }
            if !self.kill_through_kernel()? {
                self.signal_listed(libc::SIGKILL)?;
            }
            // Frozen processes only die once thawed.
            if self.is_frozen() {
                self.freeze(false)?;
            }
            if Instant::now() > deadline {
                return Ok(());
            }

            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Removes the cgroup's directories (sub-cgroups first). Waits briefly for exiting
    /// processes to leave; a missing directory is not an error.
    pub fn remove(&self) -> Result<()> {
        // Each hierarchy on its own: one that must stay does not keep the others.
        let mut first_error = None;
        let mut made = self.made.clone();
        if let Some(scope) = &self.systemd {
            if let Err(e) = scope.stop(self.systemd_dir()) {
                first_error.get_or_insert(e);
            }
            // What systemd does not manage (v1 hierarchies it leaves alone) hull made.
            made.extend(self.paths.values().cloned());
        }
        for path in &made {
            if let Err(e) = remove_tree(path) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The directory systemd places processes in: its own hierarchy (`name=systemd` on
    /// v1 and hybrid hosts), else the unified one.
    fn systemd_dir(&self) -> &Path {
        self.paths
            .get("name=systemd")
            .or_else(|| self.unified().map(|_| &self.paths[UNIFIED]))
            .or_else(|| self.paths.values().next())
            .map(PathBuf::as_path)
            .unwrap_or(Path::new("/"))
    }

    /// Puts process `pid` in the cgroup, from the parent, for the systemd driver: the
    /// scope is made with `pid` in it (and the properties of `resources`), then the
    /// hierarchies systemd does not manage get a directory of hull's with `pid` in it.
    pub fn place(&self, pid: i32, id: &str, resources: &Resources) -> Result<()> {
        let Some(scope) = &self.systemd else {
            return Ok(());
        };
        scope.start(pid, id, resources, self.systemd_dir())?;
        for (key, path) in self.paths.iter().filter(|(_, p)| !p.exists()) {
            ensure_dir(path, holds_cpuset(key))?;
            write_file(&path.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }
}

fn collect_pids(dir: &Path, pids: &mut std::collections::BTreeSet<i32>) -> Result<()> {
    let mut file = dir.join("cgroup.procs");
    let mut text = fs::read_to_string(&file);
    // A threaded cgroup lists threads only (each one signals its whole process).
    if text
        .as_ref()
        .is_err_and(|e| e.raw_os_error() == Some(libc::EOPNOTSUPP))
    {
        file = dir.join("cgroup.threads");
        text = fs::read_to_string(&file);
    }
    match text {
        Ok(text) => pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(CgroupError::Read { path: file, source }),
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&entry.path(), pids)?;
        }
    }
    Ok(())
}

/// Removes a cgroup directory and those below it, waiting briefly for killed processes
/// to leave; one still held by another process is `InUse`.
fn remove_tree(path: &Path) -> Result<()> {
    // A container's cgroup rarely has children: rmdir first, and list it only if that
    // fails (EBUSY, for child cgroups as for processes still leaving).
    match fs::remove_dir(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => remove_children(path)?,
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            // EBUSY: a process that was killed has not left yet.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            // Still there: a process that is not the container's (somebody moved it in),
            // which hull neither kills nor removes from under.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                return Err(CgroupError::InUse {
                    path: path.into(),
                    why: "processes that are not the container's are still in it",
                })
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: path.into(),
                    source,
                })
            }
        }
    }
}

/// Whether hierarchy `key` is the v1 cpuset one (see [`inherit_cpuset`]).
fn holds_cpuset(key: &str) -> bool {
    key.split(',').any(|c| c == "cpuset")
}

/// Makes `path` and its missing parents; what exists already is fine. A v1 cpuset
/// cgroup that exists with nothing to run on (no effective cpus or memory nodes) is one
/// another runtime (or another hull) has just made and not yet filled: it is filled here
/// too, from its parent, or a child made in it now would copy the emptiness and refuse
/// every process (ENOSPC). The climb stops at the first directory that can run
/// processes, or that is no cpuset cgroup at all (above the hierarchy's root).
fn ensure_dir(path: &Path, cpuset: bool) -> Result<()> {
    let exists = path.exists();
    if exists && (!cpuset || cpuset_ready(path)) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        ensure_dir(parent, cpuset)?;
    }
    if !exists {
        match fs::create_dir(path) {
            Err(source) if source.kind() != io::ErrorKind::AlreadyExists => {
                return Err(CgroupError::Create {
                    path: path.into(),
                    source,
                })
            }
            _ => {}
        }
    }
    if cpuset {
        inherit_cpuset(path)?;
    }
    Ok(())
}

/// Makes one cgroup directory, which must not exist yet.
fn make_dir(path: &Path, cpuset: bool) -> Result<()> {
    fs::create_dir(path).map_err(|source| CgroupError::Create {
        path: path.into(),
        source,
    })?;
    if cpuset {
        inherit_cpuset(path)?;
    }
    Ok(())
}

/// A cpuset's own setting and what it gets to run on: (cpus, effective cpus), (memory
/// nodes, effective memory nodes).
const CPUSET_FILES: [(&str, &str); 2] = [
    ("cpuset.cpus", "cpuset.effective_cpus"),
    ("cpuset.mems", "cpuset.effective_mems"),
];

/// Whether `path` needs nothing from [`inherit_cpuset`]: a cpuset cgroup with cpus and
/// memory nodes to run on (in `cpuset_v2_mode` a new one has its parent's at once), or
/// no cpuset cgroup at all.
fn cpuset_ready(path: &Path) -> bool {
    CPUSET_FILES.iter().all(|(_, effective)| {
        read_file(&path.join(effective)).map_or(true, |v| !v.trim().is_empty())
    })
}

/// cgroup v1 cpuset: a new cgroup starts with no cpus and no memory nodes, and no
/// process can join it; it gets what its parent runs on.
fn inherit_cpuset(path: &Path) -> Result<()> {
    for (own, effective) in CPUSET_FILES {
        if read_file(&path.join(effective))?.trim().is_empty() {
            let parent = path.parent().map(|p| p.join(effective)).unwrap_or_default();
            write_file(&path.join(own), read_file(&parent)?.trim())?;
        }
    }
    Ok(())
}

/// Removes the child cgroups of `path` (each with its own children first).
fn remove_children(path: &Path) -> Result<()> {
    let entries = match fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CgroupError::Remove {
                path: path.into(),
                source,
            })
        }
    };
    for entry in entries.flatten() {
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            remove_tree(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;

    /// A layout with hierarchies mounted in `base` under their keys' names.
    fn layout(base: &Path, keys: &[&str]) -> Layout {
        Layout {
            hierarchies: keys
                .iter()
                .map(|k| Hierarchy {
                    key: k.to_string(),
                    mount_point: base.join(if k.is_empty() { "unified" } else { k }),
                    mount_root: "/".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn hierarchies_are_read_from_mountinfo() {
        let text = "\
25 1 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
27 25 0:24 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu
29 25 0:26 /docker /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory,clone_children
30 25 0:26 / /mnt/memory-again rw - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,noprefix,release_agent=/x
";
        let l = Layout::from_mounts(mountinfo::parse(text)).unwrap();
        let keys: Vec<(&str, &str, &str)> = l
            .hierarchies
            .iter()
            .map(|h| {
                (
                    h.key.as_str(),
                    h.mount_point.to_str().unwrap(),
                    h.mount_root.to_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("", "/sys/fs/cgroup/unified", "/"),
                ("name=systemd", "/sys/fs/cgroup/systemd", "/"),
                // Controllers sorted, as /proc/self/cgroup names them.
                ("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/"),
                // The first of two mounts of one hierarchy.
                ("memory", "/sys/fs/cgroup/memory", "/docker"),
                ("cpuset", "/sys/fs/cgroup/cpuset", "/"),
            ]
        );
        assert!(!l.is_unified());
        assert_eq!(
            l.v1_hierarchies().map(|(k, _)| k).collect::<Vec<_>>(),
            ["name=systemd", "cpu,cpuacct", "memory", "cpuset"]
        );
        let only_v2 = "26 25 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let l = Layout::from_mounts(mountinfo::parse(only_v2)).unwrap();
        assert!(l.is_unified() && l.v1_hierarchies().next().is_none());
        assert!(matches!(
            Layout::from_mounts(mountinfo::parse("1 0 0:1 / / rw - ext4 /dev/vda rw\n")),
            Err(CgroupError::NoHierarchy)
        ));
    }

    #[test]
    fn proc_cgroup_lines_are_keyed_as_the_mounts_are() {
        let text = "12:cpuacct,cpu:/user.slice\n1:name=systemd:/init.scope\n0::/a:b\nbroken\n";
        let own = parse_own_cgroups(text);
        assert_eq!(own["cpu,cpuacct"], Path::new("/user.slice"));
        assert_eq!(own["name=systemd"], Path::new("/init.scope"));
        // The path is everything after the second colon.
        assert_eq!(own[UNIFIED], Path::new("/a:b"));
        assert_eq!(own.len(), 3);
    }

    #[test]
    fn an_absolute_cgroups_path_is_below_every_hierarchys_root() {
        let base = Scratch::new("cgroup-for");
        let l = layout(base.path(), &["memory", "cpu,cpuacct", ""]);
        std::fs::create_dir_all(base.join("memory/pod/c1")).unwrap();
        let cg = l.cgroup_for(Path::new("/pod/c1")).unwrap();
        assert_eq!(cg.paths["memory"], base.join("memory/pod/c1"));
        assert_eq!(cg.paths["cpu,cpuacct"], base.join("cpu,cpuacct/pod/c1"));
        assert_eq!(cg.paths[UNIFIED], base.join("unified/pod/c1"));
        assert_eq!(cg.unified_root, Some(base.join("unified")));
        // What exists already is not hull's to remove.
        assert!(!cg.made.contains(&base.join("memory/pod/c1")));
        assert!(cg.made.contains(&base.join("unified/pod/c1")));
        assert_eq!(cg.made.len(), 2);
        assert!(cg.is_v1());
    }

    #[test]
    fn a_cgroups_path_may_not_climb_nor_be_the_root() {
        let base = Scratch::new("cgroup-for-bad");
        let l = layout(base.path(), &[""]);
        for bad in ["/a/../../etc", "../x", "a/.."] {
            assert!(
                matches!(
                    l.cgroup_for(Path::new(bad)),
                    Err(CgroupError::InvalidPath(_))
                ),
                "{bad}"
            );
        }
        for root in ["/", "", ".", "/./"] {
            assert!(
                matches!(l.cgroup_for(Path::new(root)), Err(CgroupError::RootCgroup)),
                "{root:?}"
            );
        }
    }

    #[test]
    fn controllers_live_in_v1_unless_only_named_and_unified_hierarchies_exist() {
        let cg = |keys: &[&str]| Cgroup {
            paths: keys
                .iter()
                .map(|k| (k.to_string(), PathBuf::new()))
                .collect(),
            ..Cgroup::default()
        };
        assert!(!cg(&[""]).is_v1());
        assert!(!cg(&["", "name=systemd"]).is_v1());
        assert!(cg(&["", "name=systemd", "pids"]).is_v1());
        assert!(holds_cpuset("cpuset") && holds_cpuset("cpu,cpuset"));
        assert!(!holds_cpuset("cpu,cpuacct") && !holds_cpuset("cpusetx"));
    }

    #[test]
    fn sub_cgroups_are_existing_relative_directories() {
        let base = Scratch::new("cgroup-sub");
        let cg = Cgroup {
            paths: [("pids".to_string(), base.join("c"))].into(),
            ..Cgroup::default()
        };
        std::fs::create_dir_all(base.join("c/worker")).unwrap();
        assert_eq!(
            cg.sub(Path::new("worker")).unwrap().paths["pids"],
            base.join("c/worker")
        );
        for bad in ["/worker", "../c", "worker/../.."] {
            assert!(
                matches!(cg.sub(Path::new(bad)), Err(CgroupError::InvalidPath(_))),
                "{bad}"
            );
        }
        let missing = cg.sub(Path::new("none")).unwrap_err();
        assert!(matches!(missing, CgroupError::Read { .. }), "{missing}");
    }

    #[test]
    fn pids_are_collected_from_the_whole_subtree() {
        let base = Scratch::new("cgroup-pids");
        base.write("mem/c/cgroup.procs", "10\n11\n");
        base.write("mem/c/sub/cgroup.procs", "12\n");
        base.write("mem/c/sub/deeper/cgroup.procs", "0\n");
        base.write("pids/c/cgroup.procs", "11\n13\n");
        let cg = Cgroup {
            paths: [
                ("memory".to_string(), base.join("mem/c")),
                ("pids".to_string(), base.join("pids/c")),
                ("cpu".to_string(), base.join("missing")),
            ]
            .into(),
            ..Cgroup::default()
        };
        // Sorted, once each, without the 0 of a process outside our pid namespace.
        assert_eq!(cg.pids().unwrap(), [10, 11, 12, 13]);
        let err = cg.check_unused().unwrap_err();
        assert!(matches!(err, CgroupError::InUse { .. }), "{err}");
    }

    #[test]
    fn an_unused_cgroup_is_empty_and_thawed() {
        let base = Scratch::new("cgroup-unused");
        base.write("c/cgroup.procs", "");
        let mut cg = Cgroup {
            paths: [(UNIFIED.to_string(), base.join("c"))].into(),
            ..Cgroup::default()
        };
        assert!(cg.check_unused().is_ok());
        base.write("c/cgroup.freeze", "1\n");
        assert!(cg.is_frozen());
        assert!(cg.check_unused().is_err());
        base.write("c/cgroup.freeze", "0\n");
        assert!(cg.check_unused().is_ok());
        // A 0 alone counts: a process we cannot see is still a process.
        base.write("c/cgroup.procs", "0\n");
        assert!(cg.check_unused().is_err());
        // v1: the freezer hierarchy's state decides.
        base.write("f/freezer.state", "FROZEN\n");
        cg.paths.insert("freezer".into(), base.join("f"));
        assert!(cg.is_frozen());
    }

    #[test]
    fn create_makes_only_what_was_missing_and_remove_removes_only_that() {
        let base = Scratch::new("cgroup-create");
        std::fs::create_dir_all(base.join("memory/shared")).unwrap();
        let l = layout(base.path(), &["memory", "pids"]);
        let mut cg = l.cgroup_for(Path::new("/shared")).unwrap();
        assert_eq!(cg.made, [base.join("pids/shared")]);
        cg.create().unwrap();
        assert!(base.join("pids/shared").is_dir());
        cg.remove().unwrap();
        assert!(!base.join("pids/shared").exists());
        assert!(base.join("memory/shared").is_dir(), "not hull's to remove");

        // One that appears between the look and the creation is somebody else's.
        let mut cg = l.cgroup_for(Path::new("/raced")).unwrap();
        std::fs::create_dir_all(base.join("pids/raced")).unwrap();
        let err = cg.create().unwrap_err();
        assert!(matches!(err, CgroupError::InUse { .. }), "{err}");
        assert!(!cg.made.contains(&base.join("pids/raced")));
    }

    #[test]
    fn an_existing_cpuset_cgroup_left_empty_is_filled_from_its_parent() {
        let base = Scratch::new("cgroup-cpuset");
        base.write("cpuset/cpuset.effective_cpus", "0-1\n");
        base.write("cpuset/cpuset.effective_mems", "0\n");
        // Made by a racer that has not yet written its cpus and mems.
        for file in ["cpus", "mems", "effective_cpus", "effective_mems"] {
            base.write(format!("cpuset/racer/cpuset.{file}"), "\n");
        }
        assert!(!cpuset_ready(&base.join("cpuset/racer")));
        ensure_dir(&base.join("cpuset/racer"), true).unwrap();
        assert_eq!(
            read_file(&base.join("cpuset/racer/cpuset.cpus")).unwrap(),
            "0-1"
        );
        assert_eq!(
            read_file(&base.join("cpuset/racer/cpuset.mems")).unwrap(),
            "0"
        );
        // The climb stops at what is no cpuset cgroup (here the scratch directory).
        assert!(cpuset_ready(base.path()));
    }

    #[test]
    fn remove_tree_takes_sub_cgroups_first_and_ignores_missing_ones() {
        let base = Scratch::new("cgroup-remove");
        std::fs::create_dir_all(base.join("c/a/b")).unwrap();
        std::fs::create_dir_all(base.join("c/d")).unwrap();
        remove_tree(&base.join("c")).unwrap();
        assert!(!base.join("c").exists());
        remove_tree(&base.join("never")).unwrap();
    }

    #[test]
    fn denials_are_told_apart_from_other_failures() {
        let denied = |errno| CgroupError::Create {
            path: "/x".into(),
            source: io::Error::from_raw_os_error(errno),
        };
        assert!(denied(libc::EACCES).is_denied());
        assert!(denied(libc::EPERM).is_denied());
        assert!(denied(libc::EROFS).is_denied());
        assert!(!denied(libc::ENOENT).is_denied());
        assert!(!CgroupError::NoHierarchy.is_denied());
    }
}
