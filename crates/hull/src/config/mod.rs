//! The library's own description of a container: what [`crate::Factory::create`] takes.
//!
//! It is independent of the OCI JSON (see [`crate::spec`] for that conversion) and is
//! saved whole in the container's state, so every field is plain data. Any value can be
//! built; [`validate`] holds every rule it must meet, and the library checks them
//! before it makes anything.

pub mod capability;
pub mod hooks;
pub mod idmap;
pub mod mount_options;
pub mod network;
pub mod resources;
pub mod scheduling;
pub mod seccomp;
pub mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use capability::{CapSet, Capabilities};
pub use mount_options::MountOptions;

/// Why a value cannot be used, for the caller to name the field it came from (see
/// [`crate::ConfigError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl From<InvalidValue> for String {
    fn from(e: InvalidValue) -> String {
        e.0
    }
}

impl From<String> for InvalidValue {
    fn from(reason: String) -> InvalidValue {
        InvalidValue(reason)
    }
}

impl From<&str> for InvalidValue {
    fn from(reason: &str) -> InvalidValue {
        InvalidValue(reason.to_string())
    }
}

/// A container's configuration. [`Factory::create`](crate::Factory::create) refuses
/// one that [`Config::validate`] refuses, whether it came from config.json or was built
/// in code.
///
/// # Examples
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hull::config::{Namespace, NamespaceKind};
/// use hull::Config;
///
/// let mut config = Config {
///     rootfs: "/path/to/rootfs".into(),
///     hostname: Some("demo".into()),
///     namespaces: [NamespaceKind::Mount, NamespaceKind::Pid, NamespaceKind::Uts]
///         .into_iter()
///         .map(|kind| Namespace { kind, path: None })
///         .collect(),
///     ..Config::default()
/// };
/// config.cgroup.resources.memory.limit = Some(256 << 20); // bytes
/// config.validate()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The root filesystem, an absolute path on the host.
    pub rootfs: PathBuf,
    /// Remount the root filesystem read-only before the process runs.
    pub readonly_rootfs: bool,
    /// Use `MS_MOVE` + `chroot` instead of `pivot_root` (for a rootfs on a ramdisk).
    pub no_pivot_root: bool,
    /// Propagation of the container's `/` (`MS_SLAVE|MS_REC` when `None`, as runc).
    pub root_propagation: Option<u64>,
    /// Mounts, made in order.
    pub mounts: Vec<Mount>,
    /// Device nodes to create in `/dev` beyond the defaults.
    pub devices: Vec<Device>,
    /// The container's hostname (needs a UTS namespace of its own).
    pub hostname: Option<String>,
    /// The container's NIS domain name (needs a UTS namespace of its own).
    pub domainname: Option<String>,
    /// The namespaces the container gets: new ones, or ones it joins by path; at most one of each kind. A kind not listed is shared with the runtime.
    pub namespaces: Vec<Namespace>,
    /// The uid mappings of a new user namespace (container id -> host id).
    pub uid_mappings: Vec<IdMap>,
    /// The gid mappings of a new user namespace (container id -> host id).
    pub gid_mappings: Vec<IdMap>,
    /// Offsets of a new time namespace, keyed by clock (`monotonic`, `boottime`).
    pub time_offsets: BTreeMap<String, TimeOffset>,
    /// Kernel parameters set in the container's namespaces, keyed by `/proc/sys` name (`net.ipv4.ip_forward`).
    pub sysctl: BTreeMap<String, String>,
    /// Paths made inaccessible (`/dev/null` over files, an empty read-only tmpfs over dirs).
    pub masked_paths: Vec<PathBuf>,
    /// Paths remounted read-only.
    pub readonly_paths: Vec<PathBuf>,
    /// The container's cgroup: where it is, its device rules and its resource limits.
    pub cgroup: CgroupConfig,
    /// The bundle directory this config came from (reported in the OCI state).
    pub bundle: PathBuf,
    /// Arbitrary key/value metadata (OCI `annotations`), reported in the state.
    pub annotations: BTreeMap<String, String>,
    /// Programs run at points of the container's life (OCI `hooks`).
    pub hooks: hooks::Hooks,
    /// The seccomp filter of every process of the container; none when `None`.
    pub seccomp: Option<seccomp::Seccomp>,
    /// The SELinux context of the filesystems hull mounts (where the host runs SELinux).
    #[serde(default)]
    pub mount_label: Option<String>,
    /// The execution domain of every process of the container (`linux.personality`).
    #[serde(default)]
    pub personality: Option<scheduling::Personality>,
    /// The NUMA memory policy of every process of the container (`linux.memoryPolicy`).
    #[serde(default)]
    pub memory_policy: Option<scheduling::MemoryPolicy>,
    /// Network devices of the runtime's network namespace moved into the container's:
    /// the device's name -> its name in the container (which may end in a `%d`
    /// template, numbered by the first free number).
    #[serde(default)]
    pub net_devices: BTreeMap<String, String>,
    /// The seed's networks: loopback and veth pairs on host bridges, set up in the
    /// container's own network namespace before anything of the container runs.
    #[serde(default)]
    pub networks: Vec<network::Network>,
    /// Routes added to the container's network namespace after its networks.
    #[serde(default)]
    pub routes: Vec<network::Route>,
}

impl Config {
    /// Checks every rule of [`validate`], naming the OCI field of the first broken one;
    /// [`crate::Factory::create`] calls it. Looks on the host for what the config names
    /// there (namespaces to join, bind sources, network devices).
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        validate::check(self)
    }

    /// The namespace of kind `kind`, if the container has one of its own or joins one.
    pub fn namespace(&self, kind: NamespaceKind) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.kind == kind)
    }

    /// The host uid and gid of the container's root: mapped in a user namespace, else 0.
    pub fn host_root(&self) -> (u32, u32) {
        let host_of_zero = |maps: &[IdMap]| {
            maps.iter()
                .find(|m| m.container_id == 0)
                .map_or(0, |m| m.host_id)
        };
        (
            host_of_zero(&self.uid_mappings),
            host_of_zero(&self.gid_mappings),
        )
    }
}

/// One mount of the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Host path for binds, or the filesystem's source string (`proc`, `tmpfs`, …).
    pub source: Option<PathBuf>,
    /// Absolute path inside the container.
    pub destination: PathBuf,
    /// Filesystem type (`proc`, `tmpfs`, `cgroup`, …); `bind` or `none` for binds.
    pub fstype: String,
    /// The mount's options, parsed.
    pub options: MountOptions,
    /// An idmapped bind: made by the runtime on the host's side, moved into place by
    /// init (see [`idmap`]).
    #[serde(default)]
    pub idmap: Option<idmap::MountIdmap>,
}

/// A device node to create in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Absolute path inside the container.
    pub path: PathBuf,
    /// `S_IFCHR`, `S_IFBLK` or `S_IFIFO`.
    pub kind: u32,
    /// The device's major number.
    pub major: u64,
    /// The device's minor number.
    pub minor: u64,
    /// Permission bits.
    pub mode: u32,
    /// The node's owner (a uid in the container).
    pub uid: u32,
    /// The node's group (a gid in the container).
    pub gid: u32,
}

/// The kinds of Linux namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NamespaceKind {
    /// User and group ids (`CLONE_NEWUSER`).
    User,
    /// Mounts (`CLONE_NEWNS`).
    Mount,
    /// Process ids (`CLONE_NEWPID`).
    Pid,
    /// Network devices, addresses, routes, ports (`CLONE_NEWNET`).
    Network,
    /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
    Ipc,
    /// Hostname and NIS domain name (`CLONE_NEWUTS`).
    Uts,
    /// The cgroup root (`CLONE_NEWCGROUP`).
    Cgroup,
    /// The monotonic and boot-time clocks (`CLONE_NEWTIME`).
    Time,
}

impl NamespaceKind {
    /// Every kind, in the order a process joins them: user first (it grants the rights
    /// for the rest), mount last (it changes how later paths resolve).
    pub const ALL: [NamespaceKind; 8] = [
        NamespaceKind::User,
        NamespaceKind::Ipc,
        NamespaceKind::Uts,
        NamespaceKind::Network,
        NamespaceKind::Pid,
        NamespaceKind::Cgroup,
        NamespaceKind::Time,
        NamespaceKind::Mount,
    ];

    /// The `CLONE_NEW*` flag.
    pub fn clone_flag(self) -> u64 {
        (match self {
            NamespaceKind::User => libc::CLONE_NEWUSER,
            NamespaceKind::Mount => libc::CLONE_NEWNS,
            NamespaceKind::Pid => libc::CLONE_NEWPID,
            NamespaceKind::Network => libc::CLONE_NEWNET,
            NamespaceKind::Ipc => libc::CLONE_NEWIPC,
            NamespaceKind::Uts => libc::CLONE_NEWUTS,
            NamespaceKind::Cgroup => libc::CLONE_NEWCGROUP,
            NamespaceKind::Time => libc::CLONE_NEWTIME,
        }) as u64
    }

    /// The name of the namespace's file in `/proc/<pid>/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            NamespaceKind::User => "user",
            NamespaceKind::Mount => "mnt",
            NamespaceKind::Pid => "pid",
            NamespaceKind::Network => "net",
            NamespaceKind::Ipc => "ipc",
            NamespaceKind::Uts => "uts",
            NamespaceKind::Cgroup => "cgroup",
            NamespaceKind::Time => "time",
        }
    }

    /// The name OCI uses in `linux.namespaces[].type`.
    pub fn oci_name(self) -> &'static str {
        match self {
            NamespaceKind::Mount => "mount",
            NamespaceKind::Network => "network",
            other => other.proc_name(),
        }
    }

    /// The kind OCI calls `name`.
    pub fn from_oci_name(name: &str) -> Option<NamespaceKind> {
        Self::ALL.into_iter().find(|k| k.oci_name() == name)
    }
}

/// A namespace the container gets: a new one, or the one at `path` to join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Which namespace.
    pub kind: NamespaceKind,
    /// The namespace to join (`/proc/<pid>/ns/<kind>` or a bind of it); a new one when `None`.
    pub path: Option<PathBuf>,
}

/// One line of a uid or gid map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    /// The first id of the range inside the namespace.
    pub container_id: u32,
    /// The host id `container_id` maps to.
    pub host_id: u32,
    /// How many consecutive ids the line maps.
    pub size: u32,
}

/// A clock offset of a time namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOffset {
    /// Whole seconds added to the clock (may be negative).
    pub secs: i64,
    /// Nanoseconds added besides, below a second.
    pub nanosecs: u32,
}

/// Where the container's cgroup is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupConfig {
    /// Absolute (from the hierarchy's root) or relative (to hull's own cgroup) path;
    /// the container's id when `None`, as runc does.
    pub path: Option<PathBuf>,
    /// Device access rules, applied in order before the devices every container gets.
    pub devices: Vec<DeviceRule>,
    /// Limits (`linux.resources` without the device rules).
    pub resources: resources::Resources,
    /// The systemd driver (runc's `--systemd-cgroup`): the cgroup is a transient scope
    /// unit systemd makes, `path` in runc's `slice:prefix:name` form.
    #[serde(default)]
    pub systemd: bool,
}

/// One device cgroup rule: allow or deny `access` (some of `rwm`) to devices of a type
/// (`a` all, `c` char, `b` block) and number (`None` = any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRule {
    /// Allow the access (`true`) or deny it.
    pub allow: bool,
    /// The device type: `a` (all), `c` (character) or `b` (block).
    pub kind: char,
    /// The major number; any when `None`.
    pub major: Option<i64>,
    /// The minor number; any when `None`.
    pub minor: Option<i64>,
    /// Some of `r` (read), `w` (write) and `m` (mknod).
    pub access: String,
}

impl DeviceRule {
    /// The rule as the v1 `devices.allow`/`devices.deny` files take it: `c 1:3 rwm`.
    pub fn to_v1(&self) -> String {
        let num = |n: Option<i64>| n.map_or("*".to_string(), |n| n.to_string());
        if self.kind == 'a' {
            return "a".to_string();
        }
        format!(
            "{} {}:{} {}",
            self.kind,
            num(self.major),
            num(self.minor),
            self.access
        )
    }
}

/// A resource limit of a process (`setrlimit(2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// `RLIMIT_*` number.
    pub resource: u32,
    /// The soft limit, which the process may raise up to `hard` (`RLIM_INFINITY`, `u64::MAX`, is unlimited).
    pub soft: u64,
    /// The hard limit (`RLIM_INFINITY`, `u64::MAX`, is unlimited).
    pub hard: u64,
}

/// The user a process runs as. Ids are numeric and never looked up as names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id (in the container's user namespace).
    pub uid: u32,
    /// The group id (in the container's user namespace).
    pub gid: u32,
    /// Supplementary group ids.
    pub additional_gids: Vec<u32>,
    /// The file mode creation mask (`umask(2)`, 9 bits); `0o022` when `None`.
    pub umask: Option<u32>,
}

/// Names of the `RLIMIT_*` resources in kernel numbering, as OCI spells them.
pub const RLIMIT_NAMES: [&str; 16] = [
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];
