//! OCI `config.json` -> [`Config`] + [`Process`]: the only place that knows the OCI
//! JSON. It only converts: it refuses what has no value in the library's types (a
//! malformed document, an unknown name, a list that does not parse, a rootfs that does
//! not resolve, a field hull cannot apply), and leaves every rule a value must meet to
//! [`Config::validate`] and [`Process::validate`], which the library runs before it
//! makes anything. Every refusal names the JSON field it is about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::hooks::{Hook, Hooks};
use crate::config::idmap::MountIdmap;
use crate::config::resources::{self, BlockIo, Resources, Throttle, WeightDevice};
use crate::config::scheduling::{
    self, BitSet, CpuAffinity, IoPriority, MemoryPolicy, Personality, Scheduler,
};
use crate::config::seccomp::{self, Action, ArgCompare, Seccomp, SyscallRule};
use crate::config::{
    mount_options, CapSet, Capabilities, CgroupConfig, Config, Device, DeviceRule, IdMap, Mount,
    Namespace, NamespaceKind, Rlimit, TimeOffset, User, RLIMIT_NAMES,
};
use crate::error::ConfigError;
use crate::process::Process;

mod json_path;
mod network;
pub mod oci;

type Result<T> = std::result::Result<T, ConfigError>;

fn bad(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::new(field, message)
}

/// Reads `<bundle>/config.json` and converts it.
///
/// # Examples
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (config, process) = hull::spec::load("/path/to/bundle".as_ref())?;
/// println!("{:?} in {}", process.args, config.rootfs.display());
/// # Ok(())
/// # }
/// ```
pub fn load(bundle: &Path) -> crate::Result<(Config, Process)> {
    let path = bundle.join("config.json");
    let text = std::fs::read(&path).map_err(|e| crate::Error::io("read", &path, e))?;
    Ok(from_json(&text, bundle)?)
}

/// Parses and converts a config.json's bytes; relative paths are taken from `bundle`.
pub fn from_json(json: &[u8], bundle: &Path) -> Result<(Config, Process)> {
    let spec: oci::Spec = parse(json, "")?;
    convert(&spec, bundle)
}

/// Parses an OCI `linux.resources` object (what `update --resources` takes).
pub fn resources_from_json(json: &[u8]) -> Result<Resources> {
    resource_limits(&parse(json, "linux.resources")?)
}

/// Parses an OCI `process` object (what `exec --process` takes).
pub fn process_from_json(json: &[u8]) -> Result<Process> {
    process(&parse(json, "process")?)
}

/// Deserializes `json`, an object at `at` in a config.json; an error names the field.
fn parse<T: serde::de::DeserializeOwned>(json: &[u8], at: &str) -> Result<T> {
    serde_json::from_slice(json).map_err(|e| {
        let message = e.to_string();
        // None: a document that is not JSON at all, the object as a whole.
        let path = json_path::of_error(json, &e).unwrap_or_default();
        let field = match (path.as_str(), at) {
            ("", _) => at.to_string(),
            (_, "") => path,
            _ => format!("{at}.{path}"),
        };
        bad(field, message)
    })
}

/// Converts a parsed OCI spec.
pub fn convert(spec: &oci::Spec, bundle: &Path) -> Result<(Config, Process)> {
    check_version(&spec.oci_version)?;
    let implied: oci::Linux;
    let linux = match &spec.linux {
        Some(linux) => linux,
        None => {
            implied = implied_linux();
            &implied
        }
    };
    let root = spec
        .root
        .as_ref()
        .ok_or_else(|| bad("root", "is required"))?;
    let bundle = bundle
        .canonicalize()
        .unwrap_or_else(|_| bundle.to_path_buf());
    let rootfs = rootfs_path(&bundle.join(&root.path))?;
    if linux.intel_rdt.as_ref().is_some_and(asks_anything) {
        // Applying it needs the resctrl filesystem (Intel RDT / AMD QoS hardware); hull
        // does not drive resctrl yet, and a limit asked for must not silently vanish.
        return Err(bad(
            "linux.intelRdt",
            if Path::new("/sys/fs/resctrl/schemata").exists() {
                "resctrl is not supported by hull"
            } else {
                "this host has no resctrl filesystem (/sys/fs/resctrl)"
            },
        ));
    }
    let annotations = spec.annotations.clone().unwrap_or_default();
    let (networks, routes) = network::from_annotations(&annotations)?;
    let config = Config {
        rootfs,
        readonly_rootfs: root.readonly.unwrap_or(false),
        no_pivot_root: false,
        root_propagation: root_propagation(linux)?,
        mounts: mounts(spec, &bundle)?,
        devices: devices(linux)?,
        hostname: spec.hostname.clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname.clone().filter(|h| !h.is_empty()),
        namespaces: namespaces(linux),
        uid_mappings: id_maps(&linux.uid_mappings),
        gid_mappings: id_maps(&linux.gid_mappings),
        time_offsets: time_offsets(linux),
        sysctl: linux.sysctl.clone().unwrap_or_default(),
        masked_paths: paths(&linux.masked_paths),
        readonly_paths: paths(&linux.readonly_paths),
        cgroup: cgroup(linux)?,
        bundle: bundle.clone(),
        annotations,
        hooks: hooks(spec),
        seccomp: seccomp(linux)?,
        mount_label: linux.mount_label.clone().filter(|l| !l.is_empty()),
        personality: personality(linux)?,
        memory_policy: memory_policy(linux)?,
        net_devices: net_devices(linux),
        networks,
        routes,
    };
    let process = process(
        spec.process
            .as_ref()
            .ok_or_else(|| bad("process", "is required"))?,
    )?;
    Ok((config, process))
}

/// The paths `runc spec` masks (and a config without `linux` gets).
pub const DEFAULT_MASKED_PATHS: [&str; 10] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

/// The paths `runc spec` makes read-only (and a config without `linux` gets).
pub const DEFAULT_READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// What a config without `linux` is read as, as hull always has: the container still
/// gets namespaces of its own (but a user and a time namespace), and the masked and
/// read-only paths `runc spec` writes, rather than the host's view of everything.
fn implied_linux() -> oci::Linux {
    use oci::NamespaceType::*;
    let namespaces = [Pid, Network, Ipc, Uts, Mount, Cgroup]
        .map(|kind| oci::LinuxNamespace { kind, path: None });
    oci::Linux {
        namespaces: Some(namespaces.into()),
        masked_paths: Some(DEFAULT_MASKED_PATHS.map(String::from).into()),
        readonly_paths: Some(DEFAULT_READONLY_PATHS.map(String::from).into()),
        ..oci::Linux::default()
    }
}

/// Whether an `intelRdt` object asks for anything (`{}` asks for nothing).
fn asks_anything(rdt: &oci::LinuxIntelRdt) -> bool {
    rdt.clos_id.is_some()
        || rdt.l3_cache_schema.is_some()
        || rdt.mem_bw_schema.is_some()
        || rdt.schemata.is_some()
        || rdt.enable_cmt.is_some()
        || rdt.enable_mbm.is_some()
        || rdt.enable_monitoring.is_some()
}

/// `ociVersion`, when given, must be a semantic version of the spec's major version 1
/// (as crun checks); every 1.x is read, newer fields this hull does not know ignored.
fn check_version(version: &str) -> Result<()> {
    // Missing: runc and crun read such configs too.
    if version.is_empty() {
        return Ok(());
    }
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
    };
    if parts.len() != 3 || !parts.iter().all(numeric) {
        return Err(bad(
            "ociVersion",
            format!("{version:?} is not a semantic version"),
        ));
    }
    if parts[0] != "1" {
        return Err(bad(
            "ociVersion",
            format!("{version}: only major version 1 of the runtime-spec is supported"),
        ));
    }
    Ok(())
}

fn personality(linux: &oci::Linux) -> Result<Option<Personality>> {
    let Some(p) = &linux.personality else {
        return Ok(None);
    };
    let domain = match p.domain {
        oci::PersonalityDomain::LINUX => scheduling::PER_LINUX,
        oci::PersonalityDomain::LINUX32 => scheduling::PER_LINUX32,
    };
    Personality::new(domain, p.flags.as_deref().unwrap_or_default())
        .map(Some)
        .map_err(|e| bad("linux.personality.flags", e))
}

fn memory_policy(linux: &oci::Linux) -> Result<Option<MemoryPolicy>> {
    let Some(p) = &linux.memory_policy else {
        return Ok(None);
    };
    use oci::MemoryPolicyMode as M;
    let mode = match p.mode {
        M::MPOL_DEFAULT => scheduling::MPOL_DEFAULT,
        M::MPOL_BIND => scheduling::MPOL_BIND,
        M::MPOL_INTERLEAVE => scheduling::MPOL_INTERLEAVE,
        M::MPOL_WEIGHTED_INTERLEAVE => scheduling::MPOL_WEIGHTED_INTERLEAVE,
        M::MPOL_PREFERRED => scheduling::MPOL_PREFERRED,
        M::MPOL_PREFERRED_MANY => scheduling::MPOL_PREFERRED_MANY,
        M::MPOL_LOCAL => scheduling::MPOL_LOCAL,
    };
    let flags = p.flags.iter().flatten().fold(0, |acc, f| {
        acc | match f {
            oci::MemoryPolicyFlag::MPOL_F_NUMA_BALANCING => scheduling::MPOL_F_NUMA_BALANCING,
            oci::MemoryPolicyFlag::MPOL_F_RELATIVE_NODES => scheduling::MPOL_F_RELATIVE_NODES,
            oci::MemoryPolicyFlag::MPOL_F_STATIC_NODES => scheduling::MPOL_F_STATIC_NODES,
        }
    });
    let nodes = match p.nodes.as_deref() {
        None | Some("") => BitSet::default(),
        Some(list) => BitSet::parse_list(list).map_err(|e| bad("linux.memoryPolicy.nodes", e))?,
    };
    Ok(Some(MemoryPolicy {
        mode: mode | flags,
        nodes,
    }))
}

fn scheduler(p: &oci::Process) -> Result<Option<Scheduler>> {
    let Some(s) = &p.scheduler else {
        return Ok(None);
    };
    use oci::SchedulerPolicy as P;
    let policy = match s.policy {
        P::SCHED_OTHER => scheduling::SCHED_OTHER,
        P::SCHED_FIFO => scheduling::SCHED_FIFO,
        P::SCHED_RR => scheduling::SCHED_RR,
        P::SCHED_BATCH => scheduling::SCHED_BATCH,
        P::SCHED_IDLE => scheduling::SCHED_IDLE,
        P::SCHED_DEADLINE => scheduling::SCHED_DEADLINE,
        P::SCHED_ISO => {
            return Err(bad(
                "process.scheduler.policy",
                "SCHED_ISO is not a scheduling policy of Linux",
            ))
        }
    };
    let mut flags = 0;
    for flag in s.flags.iter().flatten() {
        use oci::SchedulerFlag as F;
        flags |= match flag {
            F::SCHED_FLAG_RESET_ON_FORK => scheduling::SCHED_FLAG_RESET_ON_FORK,
            F::SCHED_FLAG_RECLAIM => scheduling::SCHED_FLAG_RECLAIM,
            F::SCHED_FLAG_DL_OVERRUN => scheduling::SCHED_FLAG_DL_OVERRUN,
            F::SCHED_FLAG_KEEP_POLICY => scheduling::SCHED_FLAG_KEEP_POLICY,
            F::SCHED_FLAG_KEEP_PARAMS => scheduling::SCHED_FLAG_KEEP_PARAMS,
            F::SCHED_FLAG_UTIL_CLAMP_MIN | F::SCHED_FLAG_UTIL_CLAMP_MAX => {
                return Err(bad(
                    "process.scheduler.flags",
                    format!(
                        "{} needs utilization clamp values, which the spec does not carry",
                        oci_name(flag)
                    ),
                ))
            }
        };
    }
    let priority = u32::try_from(s.priority.unwrap_or(0))
        .map_err(|_| bad("process.scheduler.priority", "must not be negative"))?;
    Ok(Some(Scheduler {
        policy,
        flags,
        nice: s.nice.unwrap_or(0),
        priority,
        runtime: s.runtime.unwrap_or(0),
        deadline: s.deadline.unwrap_or(0),
        period: s.period.unwrap_or(0),
    }))
}

fn io_priority(p: &oci::Process) -> Result<Option<IoPriority>> {
    let Some(io) = &p.io_priority else {
        return Ok(None);
    };
    let class = match io.class {
        oci::IoPriorityClass::IOPRIO_CLASS_RT => scheduling::IOPRIO_CLASS_RT,
        oci::IoPriorityClass::IOPRIO_CLASS_BE => scheduling::IOPRIO_CLASS_BE,
        oci::IoPriorityClass::IOPRIO_CLASS_IDLE => scheduling::IOPRIO_CLASS_IDLE,
    };
    let level = u16::try_from(io.priority).map_err(|_| {
        bad(
            "process.ioPriority.priority",
            format!("{} is no I/O priority level (0..7)", io.priority),
        )
    })?;
    Ok(Some(IoPriority { class, level }))
}

fn exec_cpu_affinity(p: &oci::Process) -> Result<Option<CpuAffinity>> {
    let Some(a) = &p.exec_cpu_affinity else {
        return Ok(None);
    };
    let list = |field: &str, v: &Option<String>| -> Result<Option<BitSet>> {
        let Some(l) = v else {
            return Ok(None);
        };
        let field = format!("process.execCPUAffinity.{field}");
        if !is_cpu_list(l) {
            return Err(bad(field, format!("{l:?} is not a list such as 0-3,7")));
        }
        BitSet::parse_list(l).map(Some).map_err(|e| bad(field, e))
    };
    Ok(Some(CpuAffinity {
        initial: list("initial", &a.initial)?,
        last: list("final", &a.last)?,
    }))
}

/// Whether `list` has the spec's form of a CPU list, numbers and ranges of them
/// (`0-3,7`): none of the blanks, signs or empty parts the kernel's list syntax
/// ([`BitSet::parse_list`]) lets through, and not empty, as hull always read it.
fn is_cpu_list(list: &str) -> bool {
    let number = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    list.split(',').all(|part| match part.split_once('-') {
        Some((first, last)) => number(first) && number(last),
        None => number(part),
    })
}

/// The rootfs as an absolute path without `.` or `..`, which must be a directory and
/// no symlink, nor reached through one (as runc refuses it): the container must never
/// run in wherever a link points. Init opens it once more, refusing symlinks again.
fn rootfs_path(path: &Path) -> Result<PathBuf> {
    let mut clean = PathBuf::from("/");
    for c in path.components() {
        match c {
            std::path::Component::Normal(n) => clean.push(n),
            std::path::Component::ParentDir => {
                clean.pop();
            }
            _ => {}
        }
    }
    let real = clean
        .canonicalize()
        .map_err(|e| bad("root.path", format!("rootfs {}: {e}", clean.display())))?;
    if real != clean {
        return Err(bad(
            "root.path",
            format!(
                "rootfs {} is a symlink, or a path through one (to {})",
                clean.display(),
                real.display()
            ),
        ));
    }
    if !real.is_dir() {
        return Err(bad(
            "root.path",
            format!("rootfs {} is not a directory", real.display()),
        ));
    }
    Ok(real)
}

fn namespaces(linux: &oci::Linux) -> Vec<Namespace> {
    let mut out: Vec<Namespace> = Vec::new();
    for ns in linux.namespaces.iter().flatten() {
        let kind = match ns.kind {
            oci::NamespaceType::Mount => NamespaceKind::Mount,
            oci::NamespaceType::Cgroup => NamespaceKind::Cgroup,
            oci::NamespaceType::Uts => NamespaceKind::Uts,
            oci::NamespaceType::Ipc => NamespaceKind::Ipc,
            oci::NamespaceType::User => NamespaceKind::User,
            oci::NamespaceType::Pid => NamespaceKind::Pid,
            oci::NamespaceType::Network => NamespaceKind::Network,
            oci::NamespaceType::Time => NamespaceKind::Time,
        };
        let path = ns.path.clone().filter(|p| !p.as_os_str().is_empty());
        out.push(Namespace { kind, path });
    }
    out
}

/// `linux.netDevices`: host name -> name in the container. An empty `name` is no name,
/// as in runc (Go's zero value): the device keeps its own.
fn net_devices(linux: &oci::Linux) -> BTreeMap<String, String> {
    linux
        .net_devices
        .iter()
        .flatten()
        .map(|(host, dev)| {
            let name = dev.name.clone().filter(|n| !n.is_empty());
            (host.clone(), name.unwrap_or_else(|| host.clone()))
        })
        .collect()
}

fn id_maps(maps: &Option<Vec<oci::LinuxIdMapping>>) -> Vec<IdMap> {
    maps.iter()
        .flatten()
        .map(|m| IdMap {
            container_id: m.container_id,
            host_id: m.host_id,
            size: m.size,
        })
        .collect()
}

fn time_offsets(linux: &oci::Linux) -> BTreeMap<String, TimeOffset> {
    linux
        .time_offsets
        .iter()
        .flatten()
        .map(|(clock, off)| {
            let offset = TimeOffset {
                secs: off.secs.unwrap_or(0),
                nanosecs: off.nanosecs.unwrap_or(0),
            };
            (clock.clone(), offset)
        })
        .collect()
}

fn root_propagation(linux: &oci::Linux) -> Result<Option<u64>> {
    let Some(p) = linux
        .rootfs_propagation
        .as_deref()
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let opts =
        mount_options::parse(&[p.to_string()]).map_err(|e| bad("linux.rootfsPropagation", e))?;
    match opts.propagation.as_slice() {
        [flag] if opts.flags == 0 => Ok(Some(*flag)),
        _ => Err(bad(
            "linux.rootfsPropagation",
            format!("unknown propagation {p:?}"),
        )),
    }
}

fn mounts(spec: &oci::Spec, bundle: &Path) -> Result<Vec<Mount>> {
    let mut out = Vec::new();
    for (i, m) in spec.mounts.iter().flatten().enumerate() {
        let raw: &[String] = m.options.as_deref().unwrap_or_default();
        let mut options =
            mount_options::parse(raw).map_err(|e| bad(format!("mounts[{i}].options"), e))?;
        let fstype = m.kind.clone().unwrap_or_default();
        if fstype == "bind" {
            options.flags |= libc::MS_BIND;
        }
        // A bind's source is a path, relative to the bundle; a filesystem's is a name.
        let source = m.source.as_ref().map(|s| {
            if options.is_bind() {
                bundle.join(s)
            } else {
                s.clone()
            }
        });
        out.push(Mount {
            source,
            destination: m.destination.clone(),
            fstype,
            idmap: mount_idmap(m, &options),
            options,
        });
    }
    Ok(out)
}

/// A mount's idmapping, from its `idmap`/`ridmap` option and its own mappings (which
/// imply `idmap`, as in runc). Whether the mount may be idmapped at all, and with
/// these mappings, is `config::validate`'s to say.
fn mount_idmap(m: &oci::Mount, options: &mount_options::MountOptions) -> Option<MountIdmap> {
    let uid_mappings = id_maps(&m.uid_mappings);
    let gid_mappings = id_maps(&m.gid_mappings);
    if uid_mappings.is_empty() && gid_mappings.is_empty() && options.idmap.is_none() {
        return None;
    }
    Some(MountIdmap {
        uid_mappings,
        gid_mappings,
        recursive: options.idmap.unwrap_or(false),
    })
}

fn devices(linux: &oci::Linux) -> Result<Vec<Device>> {
    linux
        .devices
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| {
            let field = |f: &str| format!("linux.devices[{i}].{f}");
            let kind = match d.kind {
                oci::DeviceType::Char | oci::DeviceType::Unbuffered => libc::S_IFCHR,
                oci::DeviceType::Block => libc::S_IFBLK,
                oci::DeviceType::Fifo => libc::S_IFIFO,
                oci::DeviceType::All => {
                    return Err(bad(field("type"), "\"a\" is not a device type"))
                }
            };
            if d.major < 0 || d.minor < 0 {
                return Err(bad(field("major"), "major and minor must not be negative"));
            }
            Ok(Device {
                path: d.path.clone(),
                kind,
                major: d.major as u64,
                minor: d.minor as u64,
                mode: d.file_mode.unwrap_or(0o666) & 0o7777,
                uid: d.uid.unwrap_or(0),
                gid: d.gid.unwrap_or(0),
            })
        })
        .collect()
}

fn paths(paths: &Option<Vec<String>>) -> Vec<PathBuf> {
    paths.iter().flatten().map(PathBuf::from).collect()
}

fn cgroup(linux: &oci::Linux) -> Result<CgroupConfig> {
    let path = linux
        .cgroups_path
        .clone()
        .filter(|p| !p.as_os_str().is_empty());
    let devices = device_rules(linux)?;
    let resources = match &linux.resources {
        Some(r) => resource_limits(r)?,
        None => Resources::default(),
    };
    Ok(CgroupConfig {
        path,
        devices,
        resources,
        systemd: false,
    })
}

/// A zero leaves a resource unset, as runc reads it: engines send `shares: 0` or
/// `weight: 0` for "not given" (Docker does).
fn unless_zero<T: Default + PartialEq>(v: Option<T>) -> Option<T> {
    v.filter(|x| *x != T::default())
}

fn throttles(list: &Option<Vec<oci::LinuxThrottleDevice>>) -> Vec<Throttle> {
    list.iter()
        .flatten()
        .map(|t| Throttle {
            major: t.major,
            minor: t.minor,
            rate: t.rate,
        })
        .collect()
}

/// `linux.resources` (but the device rules) as [`Resources`].
fn resource_limits(r: &oci::LinuxResources) -> Result<Resources> {
    let mut out = Resources::default();
    if let Some(m) = &r.memory {
        let f = "linux.resources.memory";
        out.memory = resources::Memory {
            limit: unless_zero(m.limit),
            reservation: unless_zero(m.reservation),
            swap: unless_zero(m.swap),
            kernel_tcp: unless_zero(m.kernel_tcp),
            swappiness: m.swappiness,
            disable_oom_killer: m.disable_oom_killer,
            check_before_update: m.check_before_update,
        };
        // Kernel memory limits left the kernel (v1's kmem.limit_in_bytes, gone in 6.x;
        // never in v2): a limit asked for cannot be had. runc ignores the field; hull
        // does not pretend to apply it.
        if m.kernel.is_some_and(|k| k != 0) {
            return Err(bad(
                format!("{f}.kernel"),
                "kernel memory limits are no longer supported by Linux",
            ));
        }
        // Hierarchical accounting is all the kernel has (memory.use_hierarchy is fixed
        // at 1): false cannot be applied.
        if m.use_hierarchy == Some(false) {
            return Err(bad(
                format!("{f}.useHierarchy"),
                "memory accounting is always hierarchical on this kernel",
            ));
        }
    }
    if let Some(c) = &r.cpu {
        out.cpu = resources::Cpu {
            shares: unless_zero(c.shares),
            quota: unless_zero(c.quota),
            burst: c.burst,
            period: unless_zero(c.period),
            realtime_runtime: unless_zero(c.realtime_runtime),
            realtime_period: unless_zero(c.realtime_period),
            cpus: c.cpus.clone().filter(|s| !s.is_empty()),
            mems: c.mems.clone().filter(|s| !s.is_empty()),
            idle: c.idle,
        };
    }
    if let Some(p) = &r.pids {
        out.pids_limit = unless_zero(Some(p.limit));
    }
    if let Some(b) = &r.block_io {
        let weight_devices = b
            .weight_device
            .iter()
            .flatten()
            .map(|d| WeightDevice {
                major: d.major,
                minor: d.minor,
                weight: unless_zero(d.weight),
                leaf_weight: unless_zero(d.leaf_weight),
            })
            .collect();
        out.block_io = BlockIo {
            weight: unless_zero(b.weight),
            leaf_weight: unless_zero(b.leaf_weight),
            weight_devices,
            throttle_read_bps: throttles(&b.throttle_read_bps_device),
            throttle_write_bps: throttles(&b.throttle_write_bps_device),
            throttle_read_iops: throttles(&b.throttle_read_iops_device),
            throttle_write_iops: throttles(&b.throttle_write_iops_device),
        };
    }
    for h in r.hugepage_limits.iter().flatten() {
        out.hugepage_limits.insert(h.page_size.clone(), h.limit);
    }
    if let Some(n) = &r.network {
        out.network.class_id = n.class_id;
        for p in n.priorities.iter().flatten() {
            out.network.priorities.insert(p.name.clone(), p.priority);
        }
    }
    for (dev, l) in r.rdma.iter().flatten() {
        out.rdma.insert(
            dev.clone(),
            resources::Rdma {
                hca_handles: l.hca_handles,
                hca_objects: l.hca_objects,
            },
        );
    }
    out.unified = r.unified.clone().unwrap_or_default();
    Ok(out)
}

fn device_rules(linux: &oci::Linux) -> Result<Vec<DeviceRule>> {
    let rules = linux.resources.as_ref().and_then(|r| r.devices.as_ref());
    rules
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| {
            let field = |f: &str| format!("linux.resources.devices[{i}].{f}");
            let kind = match d.kind.unwrap_or(oci::DeviceType::All) {
                oci::DeviceType::All => 'a',
                oci::DeviceType::Block => 'b',
                oci::DeviceType::Char | oci::DeviceType::Unbuffered => 'c',
                oci::DeviceType::Fifo => {
                    return Err(bad(field("type"), "\"p\" has no device cgroup rules"))
                }
            };
            Ok(DeviceRule {
                allow: d.allow,
                kind,
                major: d.major,
                minor: d.minor,
                access: d.access.clone().unwrap_or_else(|| "rwm".to_string()),
            })
        })
        .collect()
}

/// `process.capabilities.<set>`: names as the spec spells them (`CAP_CHOWN`), or in
/// any case and without `CAP_`, as hull has always read them.
fn capset(set: &Option<Vec<String>>, field: &str) -> Result<CapSet> {
    let mut caps = CapSet::default();
    for (i, name) in set.iter().flatten().enumerate() {
        let upper = name.to_uppercase();
        let cap = CapSet::from_names([upper.trim_start_matches("CAP_")]).map_err(|_| {
            bad(
                format!("process.capabilities.{field}[{i}]"),
                format!("unknown capability {name:?}"),
            )
        })?;
        caps.0 |= cap.0;
    }
    Ok(caps)
}

fn hooks(spec: &oci::Spec) -> Hooks {
    let Some(h) = &spec.hooks else {
        return Hooks::default();
    };
    let list = |hooks: &Option<Vec<oci::Hook>>| -> Vec<Hook> {
        hooks
            .iter()
            .flatten()
            .map(|hook| Hook {
                path: hook.path.clone(),
                args: hook.args.clone().unwrap_or_default(),
                env: hook.env.clone(),
                // A timeout of 0 or less stays 0, which validation refuses.
                timeout: hook
                    .timeout
                    .map(|t| u32::try_from(t.max(0)).unwrap_or(u32::MAX)),
            })
            .collect()
    };
    Hooks {
        prestart: list(&h.prestart),
        create_runtime: list(&h.create_runtime),
        create_container: list(&h.create_container),
        start_container: list(&h.start_container),
        poststart: list(&h.poststart),
        poststop: list(&h.poststop),
    }
}

/// The spec's name of an enum value (`SCMP_ACT_ERRNO`, `SCMP_ARCH_X86_64`, …), which is
/// serde's: the name is spelled once, in [`oci`].
fn oci_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn seccomp_action(
    field: &str,
    name: &str,
    errno: Option<u32>,
    default_errno: u32,
) -> Result<Action> {
    let (_, make) = seccomp::ACTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| bad(field, format!("unknown action {name:?}")))?;
    Ok(make(errno.unwrap_or(default_errno)))
}

fn seccomp(linux: &oci::Linux) -> Result<Option<Seccomp>> {
    let Some(s) = &linux.seccomp else {
        return Ok(None);
    };
    let f = "linux.seccomp";
    let default_errno = s.default_errno_ret.unwrap_or(libc::EPERM as u32);
    let default_action = seccomp_action(
        &format!("{f}.defaultAction"),
        &oci_name(&s.default_action),
        None,
        default_errno,
    )?;
    let mut syscalls = Vec::new();
    for (i, sc) in s.syscalls.iter().flatten().enumerate() {
        let field = format!("{f}.syscalls[{i}]");
        let action = seccomp_action(
            &format!("{field}.action"),
            &oci_name(&sc.action),
            sc.errno_ret,
            libc::EPERM as u32,
        )?;
        let mut args = Vec::new();
        for (j, a) in sc.args.iter().flatten().enumerate() {
            let name = oci_name(&a.op);
            let (_, op) = seccomp::OPERATORS
                .into_iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| {
                    bad(
                        format!("{field}.args[{j}].op"),
                        format!("unknown operator {name:?}"),
                    )
                })?;
            args.push(ArgCompare {
                // An index past u32 is past 5 all the same, which validation refuses.
                index: u32::try_from(a.index).unwrap_or(u32::MAX),
                value: a.value,
                value_two: a.value_two.unwrap_or(0),
                op,
            });
        }
        syscalls.push(SyscallRule {
            names: sc.names.clone(),
            action,
            args,
        });
    }
    Ok(Some(Seccomp {
        default_action,
        architectures: s.architectures.iter().flatten().map(oci_name).collect(),
        flags: s.flags.iter().flatten().map(oci_name).collect(),
        syscalls,
        listener_path: s.listener_path.clone(),
        listener_metadata: s.listener_metadata.clone().unwrap_or_default(),
    }))
}

/// The OCI `process` object as a [`Process`].
pub fn process(p: &oci::Process) -> Result<Process> {
    let user = &p.user;
    let rlimits = p
        .rlimits
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| {
            let name = oci_name(&r.kind);
            let resource = RLIMIT_NAMES
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| {
                    bad(
                        format!("process.rlimits[{i}].type"),
                        format!("unknown rlimit {name:?}"),
                    )
                })?;
            Ok(Rlimit {
                resource: resource as u32,
                soft: r.soft,
                hard: r.hard,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let capabilities = p
        .capabilities
        .as_ref()
        .map(|c| {
            Ok::<_, ConfigError>(Capabilities {
                bounding: capset(&c.bounding, "bounding")?,
                effective: capset(&c.effective, "effective")?,
                inheritable: capset(&c.inheritable, "inheritable")?,
                permitted: capset(&c.permitted, "permitted")?,
                ambient: capset(&c.ambient, "ambient")?,
            })
        })
        .transpose()?;
    Ok(Process {
        args: p.args.clone().unwrap_or_default(),
        env: p.env.clone().unwrap_or_default(),
        cwd: p.cwd.clone(),
        user: User {
            uid: user.uid,
            gid: user.gid,
            additional_gids: user.additional_gids.clone().unwrap_or_default(),
            umask: user.umask,
        },
        capabilities,
        rlimits,
        no_new_privileges: p.no_new_privileges.unwrap_or(false),
        oom_score_adj: p.oom_score_adj,
        apparmor_profile: p.apparmor_profile.clone().filter(|s| !s.is_empty()),
        selinux_label: p.selinux_label.clone().filter(|s| !s.is_empty()),
        terminal: p.terminal.unwrap_or(false),
        console_size: p
            .console_size
            .map(|b| {
                let side = |v: u64, field: &str| {
                    u16::try_from(v).map_err(|_| {
                        bad(
                            format!("process.consoleSize.{field}"),
                            format!("{v} is more than a terminal has (65535)"),
                        )
                    })
                };
                Ok::<_, ConfigError>((side(b.height, "height")?, side(b.width, "width")?))
            })
            .transpose()?,
        scheduler: scheduler(p)?,
        io_priority: io_priority(p)?,
        exec_cpu_affinity: exec_cpu_affinity(p)?,
        ..Process::default()
    })
}

#[cfg(test)]
mod tests;
