//! OCI `config.json` -> [`Config`] + [`Process`]: the only place that knows the OCI
//! JSON. Every rejection names the JSON field it is about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime as oci;

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

type Result<T> = std::result::Result<T, ConfigError>;

fn bad(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::new(field, message)
}

/// Reads `<bundle>/config.json` and converts it.
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
    let field = |path: String| match (path.as_str(), at) {
        // serde_path_to_error says "." or "?" when the document itself is broken.
        ("." | "?", _) => at.to_string(),
        (_, "") => path,
        _ => format!("{at}.{path}"),
    };
    let parsed = if json.windows(DL_OVERRUN.len()).any(|w| w == DL_OVERRUN) {
        let mut value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| bad(at, e.to_string()))?;
        spell_dl_overrun_as_oci_spec(&mut value);
        serde_path_to_error::deserialize(value)
            .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
    } else {
        let de = &mut serde_json::Deserializer::from_slice(json);
        serde_path_to_error::deserialize(de)
            .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
    };
    parsed.map_err(|(path, e)| bad(field(path), e))
}

const DL_OVERRUN: &[u8] = b"SCHED_FLAG_DL_OVERRUN";

/// oci-spec 0.10 reads the spec's `SCHED_FLAG_DL_OVERRUN` only as
/// `SCHED_FLAG_D_L_OVERRUN`: respell it in `process.scheduler.flags` (of a config, or
/// of a process object).
fn spell_dl_overrun_as_oci_spec(value: &mut serde_json::Value) {
    let process = match value.get_mut("process") {
        Some(p) => p,
        None => value,
    };
    let flags = process
        .get_mut("scheduler")
        .and_then(|s| s.get_mut("flags"))
        .and_then(|f| f.as_array_mut());
    for flag in flags.into_iter().flatten() {
        if flag == "SCHED_FLAG_DL_OVERRUN" {
            *flag = "SCHED_FLAG_D_L_OVERRUN".into();
        }
    }
}

/// Converts a parsed OCI spec.
pub fn convert(spec: &oci::Spec, bundle: &Path) -> Result<(Config, Process)> {
    check_version(spec.version())?;
    let default_linux = oci::Linux::default();
    let linux = spec.linux().as_ref().unwrap_or(&default_linux);
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| bad("root", "is required"))?;
    let bundle = bundle
        .canonicalize()
        .unwrap_or_else(|_| bundle.to_path_buf());
    let rootfs = rootfs_path(&bundle.join(root.path()))?;
    let namespaces = namespaces(linux)?;
    let new = |k: NamespaceKind| namespaces.iter().any(|n| n.kind == k && n.path.is_none());
    let uid_mappings = id_maps("linux.uidMappings", linux.uid_mappings())?;
    let gid_mappings = id_maps("linux.gidMappings", linux.gid_mappings())?;
    if new(NamespaceKind::User) && (uid_mappings.is_empty() || gid_mappings.is_empty()) {
        return Err(bad(
            "linux.uidMappings",
            "a new user namespace needs uid and gid mappings",
        ));
    }
    if !new(NamespaceKind::User) && (!uid_mappings.is_empty() || !gid_mappings.is_empty()) {
        return Err(bad(
            "linux.uidMappings",
            "mappings are only possible with a new user namespace",
        ));
    }
    let time_offsets = time_offsets(linux)?;
    if !time_offsets.is_empty() && !new(NamespaceKind::Time) {
        return Err(bad(
            "linux.timeOffsets",
            "offsets need a new time namespace",
        ));
    }
    if linux.intel_rdt().as_ref().is_some_and(asks_anything) {
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
    let sysctl: BTreeMap<String, String> = linux
        .sysctl()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let config = Config {
        rootfs,
        readonly_rootfs: root.readonly().unwrap_or(false),
        no_pivot_root: false,
        root_propagation: root_propagation(linux)?,
        mounts: mounts(spec, &bundle)?,
        devices: devices(linux)?,
        hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname().clone().filter(|h| !h.is_empty()),
        namespaces,
        uid_mappings,
        gid_mappings,
        time_offsets,
        sysctl,
        masked_paths: absolute_paths("linux.maskedPaths", linux.masked_paths())?,
        readonly_paths: absolute_paths("linux.readonlyPaths", linux.readonly_paths())?,
        cgroup: cgroup(linux)?,
        bundle: bundle.clone(),
        annotations: spec
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        hooks: hooks(spec)?,
        seccomp: seccomp(linux)?,
        mount_label: linux.mount_label().clone().filter(|l| !l.is_empty()),
        personality: personality(linux)?,
        memory_policy: memory_policy(linux)?,
        net_devices: net_devices(linux),
    };
    let process = process(
        spec.process()
            .as_ref()
            .ok_or_else(|| bad("process", "is required"))?,
    )?;
    Ok((config, process))
}

/// Whether an `intelRdt` object asks for anything (`{}` asks for nothing).
fn asks_anything(rdt: &oci::LinuxIntelRdt) -> bool {
    rdt.clos_id().is_some()
        || rdt.l3_cache_schema().is_some()
        || rdt.mem_bw_schema().is_some()
        || rdt.schemata().is_some()
        || rdt.enable_cmt().is_some()
        || rdt.enable_mbm().is_some()
        || rdt.enable_monitoring().is_some()
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
    let Some(p) = linux.personality() else {
        return Ok(None);
    };
    let domain = match p.domain() {
        oci::LinuxPersonalityDomain::PerLinux => scheduling::PER_LINUX,
        oci::LinuxPersonalityDomain::PerLinux32 => scheduling::PER_LINUX32,
    };
    Personality::new(domain, p.flags().as_deref().unwrap_or_default())
        .map(Some)
        .map_err(|e| bad("linux.personality.flags", e))
}

fn memory_policy(linux: &oci::Linux) -> Result<Option<MemoryPolicy>> {
    let Some(p) = linux.memory_policy() else {
        return Ok(None);
    };
    use oci::MemoryPolicyModeType as M;
    let mode = match p.mode() {
        M::MpolDefault => scheduling::MPOL_DEFAULT,
        M::MpolBind => scheduling::MPOL_BIND,
        M::MpolInterleave => scheduling::MPOL_INTERLEAVE,
        M::MpolWeightedInterleave => scheduling::MPOL_WEIGHTED_INTERLEAVE,
        M::MpolPreferred => scheduling::MPOL_PREFERRED,
        M::MpolPreferredMany => scheduling::MPOL_PREFERRED_MANY,
        M::MpolLocal => scheduling::MPOL_LOCAL,
    };
    let flags = p.flags().iter().flatten().fold(0, |acc, f| {
        acc | match f {
            oci::MemoryPolicyFlagType::MpolFNumaBalancing => scheduling::MPOL_F_NUMA_BALANCING,
            oci::MemoryPolicyFlagType::MpolFRelativeNodes => scheduling::MPOL_F_RELATIVE_NODES,
            oci::MemoryPolicyFlagType::MpolFStaticNodes => scheduling::MPOL_F_STATIC_NODES,
        }
    });
    let nodes = match p.nodes().as_deref() {
        None | Some("") => BitSet::default(),
        Some(list) => BitSet::parse_list(list).map_err(|e| bad("linux.memoryPolicy.nodes", e))?,
    };
    MemoryPolicy::new(mode, flags, nodes)
        .map(Some)
        .map_err(|e| bad("linux.memoryPolicy", e))
}

fn scheduler(p: &oci::Process) -> Result<Option<Scheduler>> {
    let Some(s) = p.scheduler() else {
        return Ok(None);
    };
    use oci::LinuxSchedulerPolicy as P;
    let policy = match s.policy() {
        P::SchedOther => scheduling::SCHED_OTHER,
        P::SchedFifo => scheduling::SCHED_FIFO,
        P::SchedRr => scheduling::SCHED_RR,
        P::SchedBatch => scheduling::SCHED_BATCH,
        P::SchedIdle => scheduling::SCHED_IDLE,
        P::SchedDeadline => scheduling::SCHED_DEADLINE,
        P::SchedIso => {
            return Err(bad(
                "process.scheduler.policy",
                "SCHED_ISO is not a scheduling policy of Linux",
            ))
        }
    };
    let mut flags = 0;
    for flag in s.flags().iter().flatten() {
        use oci::LinuxSchedulerFlag as F;
        flags |= match flag {
            F::SchedResetOnFork => scheduling::SCHED_FLAG_RESET_ON_FORK,
            F::SchedFlagReclaim => scheduling::SCHED_FLAG_RECLAIM,
            F::SchedFlagDLOverrun => scheduling::SCHED_FLAG_DL_OVERRUN,
            F::SchedFlagKeepPolicy => scheduling::SCHED_FLAG_KEEP_POLICY,
            F::SchedFlagKeepParams => scheduling::SCHED_FLAG_KEEP_PARAMS,
            F::SchedFlagUtilClampMin | F::SchedFlagUtilClampMax => {
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
    let priority = u32::try_from(s.priority().unwrap_or(0))
        .map_err(|_| bad("process.scheduler.priority", "must not be negative"))?;
    let scheduler = Scheduler {
        policy,
        flags,
        nice: s.nice().unwrap_or(0),
        priority,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
    };
    scheduler.check().map_err(|e| bad("process.scheduler", e))?;
    Ok(Some(scheduler))
}

fn io_priority(p: &oci::Process) -> Result<Option<IoPriority>> {
    let Some(io) = p.io_priority() else {
        return Ok(None);
    };
    let class = match io.class() {
        oci::IOPriorityClass::IoprioClassRt => scheduling::IOPRIO_CLASS_RT,
        oci::IOPriorityClass::IoprioClassBe => scheduling::IOPRIO_CLASS_BE,
        oci::IOPriorityClass::IoprioClassIdle => scheduling::IOPRIO_CLASS_IDLE,
    };
    IoPriority::new(class, io.priority())
        .map(Some)
        .map_err(|e| bad("process.ioPriority.priority", e))
}

fn exec_cpu_affinity(p: &oci::Process) -> Result<Option<CpuAffinity>> {
    let Some(a) = p.exec_cpu_affinity() else {
        return Ok(None);
    };
    let list = |field: &str, v: &Option<String>| -> Result<Option<BitSet>> {
        match v.as_deref() {
            None | Some("") => Ok(None),
            Some(l) => BitSet::parse_list(l)
                .map(Some)
                .map_err(|e| bad(format!("process.execCPUAffinity.{field}"), e)),
        }
    };
    Ok(Some(CpuAffinity {
        initial: list("initial", a.initial())?,
        last: list("final", a.cpu_affinity_final())?,
    }))
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

fn namespaces(linux: &oci::Linux) -> Result<Vec<Namespace>> {
    let mut out: Vec<Namespace> = Vec::new();
    for (i, ns) in linux.namespaces().iter().flatten().enumerate() {
        let kind = match ns.typ() {
            oci::LinuxNamespaceType::Mount => NamespaceKind::Mount,
            oci::LinuxNamespaceType::Cgroup => NamespaceKind::Cgroup,
            oci::LinuxNamespaceType::Uts => NamespaceKind::Uts,
            oci::LinuxNamespaceType::Ipc => NamespaceKind::Ipc,
            oci::LinuxNamespaceType::User => NamespaceKind::User,
            oci::LinuxNamespaceType::Pid => NamespaceKind::Pid,
            oci::LinuxNamespaceType::Network => NamespaceKind::Network,
            oci::LinuxNamespaceType::Time => NamespaceKind::Time,
        };
        if out.iter().any(|n| n.kind == kind) {
            return Err(bad(
                format!("linux.namespaces[{i}]"),
                format!("duplicate {} namespace", kind.oci_name()),
            ));
        }
        let path = ns.path().clone().filter(|p| !p.as_os_str().is_empty());
        if let Some(p) = &path {
            if !p.exists() {
                return Err(bad(
                    format!("linux.namespaces[{i}].path"),
                    format!("{} does not exist", p.display()),
                ));
            }
        }
        out.push(Namespace { kind, path });
    }
    Ok(out)
}

/// `linux.netDevices`: host name -> name in the container. An empty `name` is no name,
/// as in runc (Go's zero value): the device keeps its own.
fn net_devices(linux: &oci::Linux) -> BTreeMap<String, String> {
    linux
        .net_devices()
        .iter()
        .flatten()
        .map(|(host, dev)| {
            let name = dev.name().clone().filter(|n| !n.is_empty());
            (host.clone(), name.unwrap_or_else(|| host.clone()))
        })
        .collect()
}

fn id_maps(field: &str, maps: &Option<Vec<oci::LinuxIdMapping>>) -> Result<Vec<IdMap>> {
    maps.iter()
        .flatten()
        .enumerate()
        .map(|(i, m)| {
            if m.size() == 0 {
                return Err(bad(format!("{field}[{i}].size"), "must not be 0"));
            }
            Ok(IdMap {
                container_id: m.container_id(),
                host_id: m.host_id(),
                size: m.size(),
            })
        })
        .collect()
}

fn time_offsets(linux: &oci::Linux) -> Result<BTreeMap<String, TimeOffset>> {
    let mut out = BTreeMap::new();
    for (clock, off) in linux.time_offsets().iter().flatten() {
        if clock != "monotonic" && clock != "boottime" {
            return Err(bad(
                format!("linux.timeOffsets.{clock}"),
                "only monotonic and boottime have offsets",
            ));
        }
        let nanosecs = off.nanosecs().unwrap_or(0);
        if nanosecs >= 1_000_000_000 {
            return Err(bad(
                format!("linux.timeOffsets.{clock}.nanosecs"),
                "must be below 1000000000",
            ));
        }
        out.insert(
            clock.clone(),
            TimeOffset {
                secs: off.secs().unwrap_or(0),
                nanosecs,
            },
        );
    }
    Ok(out)
}

fn root_propagation(linux: &oci::Linux) -> Result<Option<u64>> {
    let Some(p) = linux
        .rootfs_propagation()
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
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let field = |f: &str| format!("mounts[{i}].{f}");
        let destination = m.destination().clone();
        if !destination.is_absolute() {
            return Err(bad(
                field("destination"),
                format!("{} is not an absolute path", destination.display()),
            ));
        }
        let raw: Vec<String> = m.options().clone().unwrap_or_default();
        let options = mount_options::parse(&raw).map_err(|e| bad(field("options"), e))?;
        let fstype = m.typ().clone().unwrap_or_default();
        let is_bind = options.is_bind() || fstype == "bind";
        let mut options = options;
        if fstype == "bind" && !options.is_bind() {
            options.flags |= libc::MS_BIND;
        }
        if fstype.is_empty() && !is_bind {
            return Err(bad(
                field("type"),
                "is required for a mount that is not a bind",
            ));
        }
        let source = m
            .source()
            .as_ref()
            .map(|s| if is_bind { bundle.join(s) } else { s.clone() });
        if is_bind {
            let src = source
                .as_ref()
                .ok_or_else(|| bad(field("source"), "a bind mount needs a source"))?;
            if !src.exists() {
                return Err(bad(
                    field("source"),
                    format!("{} does not exist", src.display()),
                ));
            }
        }
        let idmap = mount_idmap(m, &options, &field)?;
        out.push(Mount {
            source,
            destination,
            fstype,
            options,
            idmap,
        });
    }
    Ok(out)
}

/// A mount's idmapping, from its `idmap`/`ridmap` option and its own mappings (which
/// imply `idmap`, as in runc); the mappings come in pairs. Whether the mount may be
/// idmapped at all is `config::validate`'s to say.
fn mount_idmap(
    m: &oci::Mount,
    options: &mount_options::MountOptions,
    field: &dyn Fn(&str) -> String,
) -> Result<Option<MountIdmap>> {
    let uid_mappings = id_maps(&field("uidMappings"), m.uid_mappings())?;
    let gid_mappings = id_maps(&field("gidMappings"), m.gid_mappings())?;
    match (uid_mappings.is_empty(), gid_mappings.is_empty()) {
        (false, true) => return Err(bad(field("gidMappings"), "is required with uidMappings")),
        (true, false) => return Err(bad(field("uidMappings"), "is required with gidMappings")),
        (true, true) if options.idmap.is_none() => return Ok(None),
        _ => {}
    }
    Ok(Some(MountIdmap {
        uid_mappings,
        gid_mappings,
        recursive: options.idmap.unwrap_or(false),
    }))
}

fn devices(linux: &oci::Linux) -> Result<Vec<Device>> {
    linux
        .devices()
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| {
            let field = |f: &str| format!("linux.devices[{i}].{f}");
            if !d.path().is_absolute() {
                return Err(bad(field("path"), "must be an absolute path"));
            }
            let kind = match d.typ() {
                oci::LinuxDeviceType::C | oci::LinuxDeviceType::U => libc::S_IFCHR,
                oci::LinuxDeviceType::B => libc::S_IFBLK,
                oci::LinuxDeviceType::P => libc::S_IFIFO,
                oci::LinuxDeviceType::A => {
                    return Err(bad(field("type"), "\"a\" is not a device type"))
                }
            };
            if d.major() < 0 || d.minor() < 0 {
                return Err(bad(field("major"), "major and minor must not be negative"));
            }
            Ok(Device {
                path: d.path().clone(),
                kind,
                major: d.major() as u64,
                minor: d.minor() as u64,
                mode: d.file_mode().unwrap_or(0o666) & 0o7777,
                uid: d.uid().unwrap_or(0),
                gid: d.gid().unwrap_or(0),
            })
        })
        .collect()
}

fn absolute_paths(field: &str, paths: &Option<Vec<String>>) -> Result<Vec<PathBuf>> {
    paths
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| {
            let path = PathBuf::from(p);
            if !path.is_absolute() {
                return Err(bad(
                    format!("{field}[{i}]"),
                    format!("{p:?} is not an absolute path"),
                ));
            }
            Ok(path)
        })
        .collect()
}

fn cgroup(linux: &oci::Linux) -> Result<CgroupConfig> {
    let path = linux
        .cgroups_path()
        .clone()
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(p) = &path {
        if p.components().any(|c| c == std::path::Component::ParentDir) {
            return Err(bad("linux.cgroupsPath", "must not contain \"..\""));
        }
    }
    let devices = device_rules(linux)?;
    let resources = match linux.resources() {
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

/// A limit that must be positive, or -1 for "unlimited".
fn limit(field: &str, v: Option<i64>) -> Result<Option<i64>> {
    match unless_zero(v) {
        Some(n) if n == -1 || n > 0 => Ok(Some(n)),
        Some(n) => Err(bad(
            field,
            format!("{n} is not a limit (a positive number, or -1 for none)"),
        )),
        None => Ok(None),
    }
}

/// A zero leaves a resource unset, as runc reads it: engines send `shares: 0` or
/// `weight: 0` for "not given" (Docker does).
fn unless_zero<T: Default + PartialEq>(v: Option<T>) -> Option<T> {
    v.filter(|x| *x != T::default())
}

/// A cpu or memory-node list such as `0-3,5`.
fn check_list(field: &str, v: &Option<String>) -> Result<()> {
    let Some(list) = v else { return Ok(()) };
    let ok = list.split(',').all(|part| {
        let mut ends = part.splitn(2, '-').map(|n| n.trim().parse::<u32>());
        match (ends.next(), ends.next()) {
            (Some(Ok(a)), Some(Ok(b))) => a <= b,
            (Some(Ok(_)), None) => true,
            _ => false,
        }
    });
    if ok {
        Ok(())
    } else {
        Err(bad(field, format!("{list:?} is not a list like \"0-3,5\"")))
    }
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    v: Option<T>,
    lo: T,
    hi: T,
) -> Result<Option<T>> {
    match v {
        Some(n) if n < lo || n > hi => Err(bad(field, format!("{n} is outside {lo}..{hi}"))),
        other => Ok(other),
    }
}

fn throttles(field: &str, list: &Option<Vec<oci::LinuxThrottleDevice>>) -> Result<Vec<Throttle>> {
    list.iter()
        .flatten()
        .map(|t| {
            if t.major() < 0 || t.minor() < 0 {
                return Err(bad(field, "device numbers must not be negative"));
            }
            Ok(Throttle {
                major: t.major(),
                minor: t.minor(),
                rate: t.rate(),
            })
        })
        .collect()
}

/// `linux.resources` (but the device rules) as [`Resources`], every value checked.
fn resource_limits(r: &oci::LinuxResources) -> Result<Resources> {
    let mut out = Resources::default();
    if let Some(m) = r.memory() {
        let f = "linux.resources.memory";
        out.memory = resources::Memory {
            limit: limit(&format!("{f}.limit"), m.limit())?,
            reservation: limit(&format!("{f}.reservation"), m.reservation())?,
            swap: limit(&format!("{f}.swap"), m.swap())?,
            kernel_tcp: limit(&format!("{f}.kernelTCP"), m.kernel_tcp())?,
            swappiness: in_range(&format!("{f}.swappiness"), m.swappiness(), 0, 100)?,
            disable_oom_killer: m.disable_oom_killer(),
            check_before_update: m.check_before_update(),
        };
        // Kernel memory limits left the kernel (v1's kmem.limit_in_bytes, gone in 6.x;
        // never in v2): a limit asked for cannot be had. runc ignores the field; hull
        // does not pretend to apply it.
        if m.kernel().is_some_and(|k| k != 0) {
            return Err(bad(
                format!("{f}.kernel"),
                "kernel memory limits are no longer supported by Linux",
            ));
        }
        // Hierarchical accounting is all the kernel has (memory.use_hierarchy is fixed
        // at 1): false cannot be applied.
        if m.use_hierarchy() == Some(false) {
            return Err(bad(
                format!("{f}.useHierarchy"),
                "memory accounting is always hierarchical on this kernel",
            ));
        }
        if let (Some(l), Some(s)) = (out.memory.limit, out.memory.swap) {
            if s != -1 && (l == -1 || s < l) {
                return Err(bad(
                    format!("{f}.swap"),
                    "memory+swap must not be below the memory limit",
                ));
            }
        }
    }
    if let Some(c) = r.cpu() {
        let f = "linux.resources.cpu";
        check_list(&format!("{f}.cpus"), c.cpus())?;
        check_list(&format!("{f}.mems"), c.mems())?;
        out.cpu = resources::Cpu {
            shares: in_range(&format!("{f}.shares"), unless_zero(c.shares()), 2, 262_144)?,
            quota: limit(&format!("{f}.quota"), c.quota())?,
            burst: c.burst(),
            period: in_range(
                &format!("{f}.period"),
                unless_zero(c.period()),
                1000,
                1_000_000,
            )?,
            realtime_runtime: unless_zero(c.realtime_runtime()),
            realtime_period: unless_zero(c.realtime_period()),
            cpus: c.cpus().clone().filter(|s| !s.is_empty()),
            mems: c.mems().clone().filter(|s| !s.is_empty()),
            idle: in_range(&format!("{f}.idle"), c.idle(), 0, 1)?,
        };
    }
    if let Some(p) = r.pids() {
        out.pids_limit = limit("linux.resources.pids.limit", Some(p.limit()))?;
    }
    if let Some(b) = r.block_io() {
        let f = "linux.resources.blockIO";
        let weight_devices = b
            .weight_device()
            .iter()
            .flatten()
            .map(|d| {
                Ok(WeightDevice {
                    major: d.major(),
                    minor: d.minor(),
                    weight: in_range(
                        &format!("{f}.weightDevice"),
                        unless_zero(d.weight()),
                        10,
                        1000,
                    )?,
                    leaf_weight: in_range(
                        &format!("{f}.weightDevice"),
                        unless_zero(d.leaf_weight()),
                        10,
                        1000,
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.block_io = BlockIo {
            weight: in_range(&format!("{f}.weight"), unless_zero(b.weight()), 10, 1000)?,
            leaf_weight: in_range(
                &format!("{f}.leafWeight"),
                unless_zero(b.leaf_weight()),
                10,
                1000,
            )?,
            weight_devices,
            throttle_read_bps: throttles(
                &format!("{f}.throttleReadBpsDevice"),
                b.throttle_read_bps_device(),
            )?,
            throttle_write_bps: throttles(
                &format!("{f}.throttleWriteBpsDevice"),
                b.throttle_write_bps_device(),
            )?,
            throttle_read_iops: throttles(
                &format!("{f}.throttleReadIOPSDevice"),
                b.throttle_read_iops_device(),
            )?,
            throttle_write_iops: throttles(
                &format!("{f}.throttleWriteIOPSDevice"),
                b.throttle_write_iops_device(),
            )?,
        };
    }
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        if h.limit() < 0 {
            return Err(bad(
                format!("linux.resources.hugepageLimits[{i}].limit"),
                "must not be negative",
            ));
        }
        out.hugepage_limits
            .insert(h.page_size().clone(), h.limit() as u64);
    }
    if let Some(n) = r.network() {
        out.network.class_id = n.class_id();
        for p in n.priorities().iter().flatten() {
            out.network
                .priorities
                .insert(p.name().clone(), p.priority());
        }
    }
    for (dev, l) in r.rdma().iter().flatten() {
        out.rdma.insert(
            dev.clone(),
            resources::Rdma {
                hca_handles: l.hca_handles(),
                hca_objects: l.hca_objects(),
            },
        );
    }
    out.unified = r
        .unified()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    Ok(out)
}

fn device_rules(linux: &oci::Linux) -> Result<Vec<DeviceRule>> {
    let rules = linux.resources().as_ref().and_then(|r| r.devices().clone());
    rules
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| {
            let field = |f: &str| format!("linux.resources.devices[{i}].{f}");
            let kind = match d.typ().unwrap_or(oci::LinuxDeviceType::A) {
                oci::LinuxDeviceType::A => 'a',
                oci::LinuxDeviceType::B => 'b',
                oci::LinuxDeviceType::C | oci::LinuxDeviceType::U => 'c',
                oci::LinuxDeviceType::P => {
                    return Err(bad(field("type"), "\"p\" has no device cgroup rules"))
                }
            };
            let access = d.access().clone().unwrap_or_else(|| "rwm".to_string());
            if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
                return Err(bad(
                    field("access"),
                    format!("{access:?} is not some of \"rwm\""),
                ));
            }
            if d.major().is_some_and(|n| n < 0) || d.minor().is_some_and(|n| n < 0) {
                return Err(bad(field("major"), "device numbers must not be negative"));
            }
            Ok(DeviceRule {
                allow: d.allow(),
                kind,
                major: d.major(),
                minor: d.minor(),
                access,
            })
        })
        .collect()
}

fn capset(set: &Option<oci::Capabilities>) -> CapSet {
    let names: Vec<String> = set.iter().flatten().map(|c| c.to_string()).collect();
    // oci-spec only produces names hull's table holds too.
    CapSet::from_names(names.iter().map(String::as_str)).unwrap_or_default()
}

#[allow(deprecated)] // prestart: deprecated by OCI, still run as runc does
fn hooks(spec: &oci::Spec) -> Result<Hooks> {
    let Some(h) = spec.hooks() else {
        return Ok(Hooks::default());
    };
    let list = |name: &str, hooks: &Option<Vec<oci::Hook>>| -> Result<Vec<Hook>> {
        hooks
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, hook)| {
                let field = format!("hooks.{name}[{i}]");
                if !hook.path().is_absolute() {
                    return Err(bad(format!("{field}.path"), "must be an absolute path"));
                }
                let timeout = match hook.timeout() {
                    Some(t) if t <= 0 => {
                        return Err(bad(format!("{field}.timeout"), "must be positive"))
                    }
                    Some(t) => Some(u32::try_from(t).unwrap_or(u32::MAX)),
                    None => None,
                };
                Ok(Hook {
                    path: hook.path().clone(),
                    args: hook.args().clone().unwrap_or_default(),
                    env: hook.env().clone(),
                    timeout,
                })
            })
            .collect()
    };
    Ok(Hooks {
        prestart: list("prestart", h.prestart())?,
        create_runtime: list("createRuntime", h.create_runtime())?,
        create_container: list("createContainer", h.create_container())?,
        start_container: list("startContainer", h.start_container())?,
        poststart: list("poststart", h.poststart())?,
        poststop: list("poststop", h.poststop())?,
    })
}

/// The name serde gives an OCI enum value (`SCMP_ACT_ERRNO`, `SCMP_ARCH_X86_64`, …).
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
    let Some(s) = linux.seccomp() else {
        return Ok(None);
    };
    let f = "linux.seccomp";
    let default_errno = s.default_errno_ret().unwrap_or(libc::EPERM as u32);
    let default_action = seccomp_action(
        &format!("{f}.defaultAction"),
        &oci_name(&s.default_action()),
        None,
        default_errno,
    )?;
    if default_action == Action::Notify {
        return Err(bad(
            format!("{f}.defaultAction"),
            "SCMP_ACT_NOTIFY cannot be the default action",
        ));
    }
    let mut syscalls = Vec::new();
    for (i, sc) in s.syscalls().iter().flatten().enumerate() {
        let field = format!("{f}.syscalls[{i}]");
        let action = seccomp_action(
            &format!("{field}.action"),
            &oci_name(&sc.action()),
            sc.errno_ret(),
            libc::EPERM as u32,
        )?;
        // The process hands its listener to hull with sendmsg: were that notified too,
        // it would wait for an agent that cannot have the listener yet.
        if action == Action::Notify && sc.names().iter().any(|n| n == "sendmsg") {
            return Err(bad(
                format!("{field}.names"),
                "SCMP_ACT_NOTIFY cannot be used for sendmsg, which passes the listener on",
            ));
        }
        let mut args = Vec::new();
        for (j, a) in sc.args().iter().flatten().enumerate() {
            if a.index() > 5 {
                return Err(bad(
                    format!("{field}.args[{j}].index"),
                    "a syscall has 6 arguments (0..5)",
                ));
            }
            let name = oci_name(&a.op());
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
                index: a.index() as u32,
                value: a.value(),
                value_two: a.value_two().unwrap_or(0),
                op,
            });
        }
        syscalls.push(SyscallRule {
            names: sc.names().clone(),
            action,
            args,
        });
    }
    let profile = Seccomp {
        default_action,
        architectures: s.architectures().iter().flatten().map(oci_name).collect(),
        flags: s.flags().iter().flatten().map(oci_name).collect(),
        syscalls,
        listener_path: s.listener_path().clone(),
        listener_metadata: s.listener_metadata().clone().unwrap_or_default(),
    };
    if profile.notifies() && profile.listener_path.is_none() {
        return Err(bad(
            format!("{f}.listenerPath"),
            "is required when an action is SCMP_ACT_NOTIFY",
        ));
    }
    if profile
        .listener_path
        .as_ref()
        .is_some_and(|p| !p.is_absolute())
    {
        return Err(bad(format!("{f}.listenerPath"), "must be an absolute path"));
    }
    // Compiled once here, so that every mistake is reported with the field.
    crate::seccomp::compile(&profile).map_err(|e| bad(f, e.to_string()))?;
    Ok(Some(profile))
}

/// The OCI `process` object as a [`Process`].
pub fn process(p: &oci::Process) -> Result<Process> {
    let args = p.args().clone().unwrap_or_default();
    if args.is_empty() {
        return Err(bad("process.args", "must name a program"));
    }
    if !p.cwd().is_absolute() {
        return Err(bad(
            "process.cwd",
            format!("{} is not an absolute path", p.cwd().display()),
        ));
    }
    let user = p.user();
    if let Some(umask) = user.umask() {
        if umask > 0o777 {
            return Err(bad(
                "process.user.umask",
                format!("{umask:o} is not a umask"),
            ));
        }
    }
    if let Some(adj) = p.oom_score_adj() {
        if !(-1000..=1000).contains(&adj) {
            return Err(bad(
                "process.oomScoreAdj",
                format!("{adj} is outside -1000..1000"),
            ));
        }
    }
    let mut rlimits: Vec<Rlimit> = Vec::new();
    for (i, r) in p.rlimits().iter().flatten().enumerate() {
        let name = serde_json::to_value(r.typ())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let resource = RLIMIT_NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| {
                bad(
                    format!("process.rlimits[{i}].type"),
                    format!("unknown rlimit {name:?}"),
                )
            })? as u32;
        if rlimits.iter().any(|r| r.resource == resource) {
            return Err(bad(
                format!("process.rlimits[{i}].type"),
                format!("duplicate {name}"),
            ));
        }
        if r.soft() > r.hard() {
            return Err(bad(
                format!("process.rlimits[{i}]"),
                "soft limit exceeds hard limit",
            ));
        }
        rlimits.push(Rlimit {
            resource,
            soft: r.soft(),
            hard: r.hard(),
        });
    }
    let capabilities = p.capabilities().as_ref().map(|c| Capabilities {
        bounding: capset(c.bounding()),
        effective: capset(c.effective()),
        inheritable: capset(c.inheritable()),
        permitted: capset(c.permitted()),
        ambient: capset(c.ambient()),
    });
    for (i, kv) in p.env().iter().flatten().enumerate() {
        if !kv.contains('=') || kv.contains('\0') {
            return Err(bad(
                format!("process.env[{i}]"),
                format!("{kv:?} is not KEY=value"),
            ));
        }
    }
    Ok(Process {
        args,
        env: p.env().clone().unwrap_or_default(),
        cwd: p.cwd().clone(),
        user: User {
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
            umask: user.umask(),
        },
        capabilities,
        rlimits,
        no_new_privileges: p.no_new_privileges().unwrap_or(false),
        oom_score_adj: p.oom_score_adj(),
        apparmor_profile: p.apparmor_profile().clone().filter(|s| !s.is_empty()),
        selinux_label: p.selinux_label().clone().filter(|s| !s.is_empty()),
        terminal: p.terminal().unwrap_or(false),
        console_size: p
            .console_size()
            .map(|b| {
                let side = |v: u64, field: &str| {
                    u16::try_from(v).map_err(|_| {
                        bad(
                            format!("process.consoleSize.{field}"),
                            format!("{v} is more than a terminal has (65535)"),
                        )
                    })
                };
                Ok::<_, ConfigError>((side(b.height(), "height")?, side(b.width(), "width")?))
            })
            .transpose()?,
        scheduler: scheduler(p)?,
        io_priority: io_priority(p)?,
        exec_cpu_affinity: exec_cpu_affinity(p)?,
        ..Process::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `mounts[0]` of a config with just `mount`, in a bundle with a `vol` to bind.
    fn convert_mount(name: &str, mount: serde_json::Value) -> Result<Mount> {
        let dir = std::env::temp_dir().join(format!("hull-spec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        std::fs::create_dir_all(dir.join("vol")).unwrap();
        let config = json!({
            "ociVersion": "1.2.0",
            "root": {"path": "rootfs"},
            "process": {"cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0}},
            "mounts": [mount],
        });
        let converted = from_json(config.to_string().as_bytes(), &dir);
        std::fs::remove_dir_all(&dir).unwrap();
        converted.map(|(c, _)| c.mounts[0].clone())
    }

    fn ids(host: u32) -> serde_json::Value {
        json!([{"containerID": 0, "hostID": host, "size": 10}])
    }

    #[test]
    fn mount_mappings_and_idmap_options() {
        let plain = json!({"destination": "/v", "source": "vol", "options": ["rbind"]});
        assert_eq!(convert_mount("plain", plain).unwrap().idmap, None);

        // Mappings alone imply idmap, of the bind's own mount.
        let mapped = json!({"destination": "/v", "source": "vol", "options": ["rbind"],
                            "uidMappings": ids(1000), "gidMappings": ids(2000)});
        let idmap = convert_mount("mapped", mapped).unwrap().idmap.unwrap();
        assert!(!idmap.recursive);
        assert_eq!(idmap.uid_mappings[0].host_id, 1000);
        assert_eq!(idmap.gid_mappings[0].host_id, 2000);

        let ridmap = json!({"destination": "/v", "source": "vol", "options": ["rbind", "ridmap"]});
        let idmap = convert_mount("ridmap", ridmap).unwrap().idmap.unwrap();
        assert!(idmap.recursive && idmap.uses_containers());
    }

    #[test]
    fn mount_mappings_come_in_pairs() {
        let half = json!({"destination": "/v", "source": "vol", "options": ["bind"],
                          "uidMappings": ids(1000)});
        let e = convert_mount("half", half).unwrap_err();
        assert_eq!(e.field, "mounts[0].gidMappings");
        let other = json!({"destination": "/v", "source": "vol", "options": ["bind"],
                           "gidMappings": ids(1000)});
        let e = convert_mount("otherhalf", other).unwrap_err();
        assert_eq!(e.field, "mounts[0].uidMappings");
    }
}
