//! The OCI runtime-spec's JSON shapes: `config.json`, and the `process` and
//! `linux.resources` objects that `exec --process` and `update --resources` take. Only
//! data, no logic: the types say what the JSON may hold, named as the spec names it;
//! [`super`] turns them into hull's types and refuses what hull cannot apply.
//!
//! Every Linux field of runtime-spec 1.2 and 1.3 is here, those hull cannot apply too,
//! so that the conversion sees them. Unknown fields are ignored (serde's default; a newer
//! spec's fields must not break a config), and so are the other platforms' objects
//! (`solaris`, `windows`, `vm`, `zos`). Integers have the spec's widths. A field the spec
//! makes optional is an `Option`; a required number or string that hull has always read
//! as its zero when absent keeps that default.
//!
//! The values the spec spells as C constants (`SCHED_FIFO`, `SCMP_ACT_ERRNO`, …) are the
//! enum variants' names themselves, which serde reads as they are: each is spelled once,
//! as in the spec. The enums whose values the conversion names (rlimit types, seccomp's,
//! scheduler flags) derive `Serialize` too, for it to spell them as serde reads them.

// The fields are the spec's, named after its JSON fields; the spec documents them.
#![allow(missing_docs)]
// The variants named as the spec's constants.
#![allow(non_camel_case_types)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A whole `config.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// Missing reads as empty: runc and crun read such configs too.
    #[serde(default)]
    pub oci_version: String,
    pub root: Option<Root>,
    pub mounts: Option<Vec<Mount>>,
    pub process: Option<Process>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub hooks: Option<Hooks>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub linux: Option<Linux>,
}

/// `root`: the container's root filesystem.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Root {
    #[serde(default)]
    pub path: PathBuf,
    pub readonly: Option<bool>,
}

/// One of `mounts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    pub destination: PathBuf,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub source: Option<PathBuf>,
    pub options: Option<Vec<String>>,
    pub uid_mappings: Option<Vec<LinuxIdMapping>>,
    pub gid_mappings: Option<Vec<LinuxIdMapping>>,
}

/// `hooks`: the commands run at each point of the container's life.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    /// Deprecated by the spec, still run (as runc does).
    pub prestart: Option<Vec<Hook>>,
    pub create_runtime: Option<Vec<Hook>>,
    pub create_container: Option<Vec<Hook>>,
    pub start_container: Option<Vec<Hook>>,
    pub poststart: Option<Vec<Hook>>,
    pub poststop: Option<Vec<Hook>>,
}

/// One hook command.
#[derive(Debug, Clone, Deserialize)]
pub struct Hook {
    pub path: PathBuf,
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    /// Seconds.
    pub timeout: Option<i64>,
}

/// `process`: the container's process, or one `exec` starts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    pub terminal: Option<bool>,
    pub console_size: Option<ConsoleSize>,
    pub user: User,
    pub args: Option<Vec<String>>,
    /// Windows only.
    pub command_line: Option<String>,
    pub env: Option<Vec<String>>,
    pub cwd: PathBuf,
    pub capabilities: Option<LinuxCapabilities>,
    pub rlimits: Option<Vec<PosixRlimit>>,
    pub no_new_privileges: Option<bool>,
    pub apparmor_profile: Option<String>,
    pub oom_score_adj: Option<i32>,
    pub selinux_label: Option<String>,
    pub io_priority: Option<LinuxIoPriority>,
    pub scheduler: Option<Scheduler>,
    #[serde(rename = "execCPUAffinity")]
    pub exec_cpu_affinity: Option<ExecCpuAffinity>,
}

/// `process.consoleSize`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct ConsoleSize {
    #[serde(default)]
    pub height: u64,
    #[serde(default)]
    pub width: u64,
}

/// `process.user`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    pub umask: Option<u32>,
    pub additional_gids: Option<Vec<u32>>,
    /// Windows only.
    pub username: Option<String>,
}

/// `process.capabilities`: capability names per set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinuxCapabilities {
    pub bounding: Option<Vec<String>>,
    pub effective: Option<Vec<String>>,
    pub inheritable: Option<Vec<String>>,
    pub permitted: Option<Vec<String>>,
    pub ambient: Option<Vec<String>>,
}

/// One of `process.rlimits`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PosixRlimit {
    #[serde(rename = "type")]
    pub kind: RlimitType,
    #[serde(default)]
    pub hard: u64,
    #[serde(default)]
    pub soft: u64,
}

/// `process.rlimits[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RlimitType {
    RLIMIT_CPU,
    RLIMIT_FSIZE,
    RLIMIT_DATA,
    RLIMIT_STACK,
    RLIMIT_CORE,
    RLIMIT_RSS,
    RLIMIT_NPROC,
    RLIMIT_NOFILE,
    RLIMIT_MEMLOCK,
    RLIMIT_AS,
    RLIMIT_LOCKS,
    RLIMIT_SIGPENDING,
    RLIMIT_MSGQUEUE,
    RLIMIT_NICE,
    RLIMIT_RTPRIO,
    RLIMIT_RTTIME,
}

/// `process.ioPriority`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LinuxIoPriority {
    /// Missing reads as best-effort, the class of a process that set none.
    #[serde(default)]
    pub class: IoPriorityClass,
    #[serde(default)]
    pub priority: i64,
}

/// `process.ioPriority.class`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum IoPriorityClass {
    IOPRIO_CLASS_RT,
    #[default]
    IOPRIO_CLASS_BE,
    IOPRIO_CLASS_IDLE,
}

/// `process.scheduler`: what `sched_setattr(2)` takes.
#[derive(Debug, Clone, Deserialize)]
pub struct Scheduler {
    pub policy: SchedulerPolicy,
    pub nice: Option<i32>,
    pub priority: Option<i32>,
    pub flags: Option<Vec<SchedulerFlag>>,
    pub runtime: Option<u64>,
    pub deadline: Option<u64>,
    pub period: Option<u64>,
}

/// `process.scheduler.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SchedulerPolicy {
    SCHED_OTHER,
    SCHED_FIFO,
    SCHED_RR,
    SCHED_BATCH,
    /// Not a policy of Linux, but a value of the spec's.
    SCHED_ISO,
    SCHED_IDLE,
    SCHED_DEADLINE,
}

/// One of `process.scheduler.flags`.
///
/// The aliases are the spellings hull read before it read the spec's (those of the
/// oci-spec crate), kept so that no config that ran stops running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SchedulerFlag {
    #[serde(alias = "SCHED_RESET_ON_FORK")]
    SCHED_FLAG_RESET_ON_FORK,
    SCHED_FLAG_RECLAIM,
    #[serde(alias = "SCHED_FLAG_D_L_OVERRUN")]
    SCHED_FLAG_DL_OVERRUN,
    SCHED_FLAG_KEEP_POLICY,
    SCHED_FLAG_KEEP_PARAMS,
    SCHED_FLAG_UTIL_CLAMP_MIN,
    SCHED_FLAG_UTIL_CLAMP_MAX,
}

/// `process.execCPUAffinity`: CPU lists (`0-3,7`) for a process `exec` starts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExecCpuAffinity {
    pub initial: Option<String>,
    #[serde(rename = "final")]
    pub last: Option<String>,
}

/// `linux`: everything Linux-specific.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    pub uid_mappings: Option<Vec<LinuxIdMapping>>,
    pub gid_mappings: Option<Vec<LinuxIdMapping>>,
    pub time_offsets: Option<BTreeMap<String, LinuxTimeOffset>>,
    pub sysctl: Option<BTreeMap<String, String>>,
    pub resources: Option<LinuxResources>,
    pub cgroups_path: Option<PathBuf>,
    pub namespaces: Option<Vec<LinuxNamespace>>,
    pub devices: Option<Vec<LinuxDevice>>,
    pub seccomp: Option<LinuxSeccomp>,
    pub rootfs_propagation: Option<String>,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    pub mount_label: Option<String>,
    pub intel_rdt: Option<LinuxIntelRdt>,
    pub personality: Option<LinuxPersonality>,
    pub memory_policy: Option<LinuxMemoryPolicy>,
    /// Host interface name -> what it becomes in the container.
    pub net_devices: Option<BTreeMap<String, LinuxNetDevice>>,
}

/// One id mapping, of a user namespace or of an idmapped mount.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LinuxIdMapping {
    #[serde(default, rename = "containerID")]
    pub container_id: u32,
    #[serde(default, rename = "hostID")]
    pub host_id: u32,
    #[serde(default)]
    pub size: u32,
}

/// One clock's offset in a time namespace (`linux.timeOffsets`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LinuxTimeOffset {
    pub secs: Option<i64>,
    pub nanosecs: Option<u32>,
}

/// `linux.resources`: the cgroup's limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxResources {
    pub devices: Option<Vec<LinuxDeviceCgroup>>,
    pub memory: Option<LinuxMemory>,
    pub cpu: Option<LinuxCpu>,
    pub pids: Option<LinuxPids>,
    #[serde(rename = "blockIO")]
    pub block_io: Option<LinuxBlockIo>,
    pub hugepage_limits: Option<Vec<LinuxHugepageLimit>>,
    pub network: Option<LinuxNetwork>,
    /// Device name -> its limits.
    pub rdma: Option<BTreeMap<String, LinuxRdma>>,
    /// cgroup v2 file -> value.
    pub unified: Option<BTreeMap<String, String>>,
}

/// `linux.resources.memory`, in bytes; -1 is no limit.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxMemory {
    pub limit: Option<i64>,
    pub reservation: Option<i64>,
    pub swap: Option<i64>,
    /// Deprecated by the spec (and gone from Linux).
    pub kernel: Option<i64>,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: Option<i64>,
    pub swappiness: Option<u64>,
    #[serde(rename = "disableOOMKiller")]
    pub disable_oom_killer: Option<bool>,
    pub use_hierarchy: Option<bool>,
    pub check_before_update: Option<bool>,
}

/// `linux.resources.cpu`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxCpu {
    pub shares: Option<u64>,
    pub quota: Option<i64>,
    pub burst: Option<u64>,
    pub period: Option<u64>,
    pub realtime_runtime: Option<i64>,
    pub realtime_period: Option<u64>,
    pub cpus: Option<String>,
    pub mems: Option<String>,
    pub idle: Option<i64>,
}

/// `linux.resources.pids`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LinuxPids {
    /// -1 (or 0, or missing) is no limit.
    #[serde(default)]
    pub limit: i64,
}

/// `linux.resources.blockIO`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxBlockIo {
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
    pub weight_device: Option<Vec<LinuxWeightDevice>>,
    pub throttle_read_bps_device: Option<Vec<LinuxThrottleDevice>>,
    pub throttle_write_bps_device: Option<Vec<LinuxThrottleDevice>>,
    #[serde(rename = "throttleReadIOPSDevice")]
    pub throttle_read_iops_device: Option<Vec<LinuxThrottleDevice>>,
    #[serde(rename = "throttleWriteIOPSDevice")]
    pub throttle_write_iops_device: Option<Vec<LinuxThrottleDevice>>,
}

/// One of `linux.resources.blockIO.weightDevice`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxWeightDevice {
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
}

/// One device's rate limit in `linux.resources.blockIO` (bytes or operations a second).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct LinuxThrottleDevice {
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    #[serde(default)]
    pub rate: u64,
}

/// One of `linux.resources.hugepageLimits`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxHugepageLimit {
    /// Such as `2MB`.
    #[serde(default)]
    pub page_size: String,
    /// Bytes.
    #[serde(default)]
    pub limit: u64,
}

/// `linux.resources.network`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinuxNetwork {
    #[serde(rename = "classID")]
    pub class_id: Option<u32>,
    pub priorities: Option<Vec<LinuxInterfacePriority>>,
}

/// One of `linux.resources.network.priorities`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinuxInterfacePriority {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub priority: u32,
}

/// One device's limits in `linux.resources.rdma`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxRdma {
    pub hca_handles: Option<u32>,
    pub hca_objects: Option<u32>,
}

/// One of `linux.resources.devices`: a device cgroup rule.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinuxDeviceCgroup {
    #[serde(default)]
    pub allow: bool,
    /// Missing is every type.
    #[serde(rename = "type")]
    pub kind: Option<DeviceType>,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    /// Of `r`, `w`, `m`.
    pub access: Option<String>,
}

/// A device's type, of `linux.devices` and `linux.resources.devices`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum DeviceType {
    /// Every type (device cgroup rules only).
    #[serde(rename = "a")]
    All,
    #[serde(rename = "b")]
    Block,
    #[serde(rename = "c")]
    Char,
    /// Unbuffered: a character device.
    #[serde(rename = "u")]
    Unbuffered,
    #[serde(rename = "p")]
    Fifo,
}

/// One of `linux.namespaces`.
#[derive(Debug, Clone, Deserialize)]
pub struct LinuxNamespace {
    #[serde(rename = "type")]
    pub kind: NamespaceType,
    /// The namespace to join, instead of making one.
    pub path: Option<PathBuf>,
}

/// `linux.namespaces[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceType {
    Pid,
    Network,
    Mount,
    Ipc,
    Uts,
    User,
    Cgroup,
    Time,
}

/// One of `linux.devices`: a device node made in the container.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxDevice {
    #[serde(default)]
    pub path: PathBuf,
    #[serde(rename = "type")]
    pub kind: DeviceType,
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    pub file_mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// `linux.seccomp`: the syscall filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSeccomp {
    pub default_action: SeccompAction,
    pub default_errno_ret: Option<u32>,
    pub architectures: Option<Vec<Arch>>,
    pub flags: Option<Vec<SeccompFlag>>,
    pub listener_path: Option<PathBuf>,
    pub listener_metadata: Option<String>,
    pub syscalls: Option<Vec<LinuxSyscall>>,
}

/// One of `linux.seccomp.syscalls`: a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSyscall {
    pub names: Vec<String>,
    pub action: SeccompAction,
    pub errno_ret: Option<u32>,
    pub args: Option<Vec<LinuxSeccompArg>>,
}

/// One of a rule's `args`: a comparison of a syscall argument.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSeccompArg {
    pub index: u64,
    pub value: u64,
    pub value_two: Option<u64>,
    pub op: SeccompOperator,
}

/// A seccomp action, the default one or a rule's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SeccompAction {
    SCMP_ACT_KILL,
    SCMP_ACT_KILL_PROCESS,
    SCMP_ACT_KILL_THREAD,
    SCMP_ACT_TRAP,
    SCMP_ACT_ERRNO,
    SCMP_ACT_TRACE,
    SCMP_ACT_ALLOW,
    SCMP_ACT_LOG,
    SCMP_ACT_NOTIFY,
}

/// One of `linux.seccomp.architectures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Arch {
    /// Not in the spec, but libseccomp's name for the native one, always read.
    SCMP_ARCH_NATIVE,
    SCMP_ARCH_X86,
    SCMP_ARCH_X86_64,
    SCMP_ARCH_X32,
    SCMP_ARCH_ARM,
    SCMP_ARCH_AARCH64,
    SCMP_ARCH_MIPS,
    SCMP_ARCH_MIPS64,
    SCMP_ARCH_MIPS64N32,
    SCMP_ARCH_MIPSEL,
    SCMP_ARCH_MIPSEL64,
    SCMP_ARCH_MIPSEL64N32,
    SCMP_ARCH_PPC,
    SCMP_ARCH_PPC64,
    SCMP_ARCH_PPC64LE,
    SCMP_ARCH_S390,
    SCMP_ARCH_S390X,
    SCMP_ARCH_PARISC,
    SCMP_ARCH_PARISC64,
    SCMP_ARCH_RISCV64,
    SCMP_ARCH_LOONGARCH64,
    SCMP_ARCH_M68K,
    SCMP_ARCH_SH,
    SCMP_ARCH_SHEB,
}

/// One of `linux.seccomp.flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SeccompFlag {
    SECCOMP_FILTER_FLAG_TSYNC,
    SECCOMP_FILTER_FLAG_LOG,
    SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}

/// How a rule's argument is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SeccompOperator {
    SCMP_CMP_NE,
    SCMP_CMP_LT,
    SCMP_CMP_LE,
    SCMP_CMP_EQ,
    SCMP_CMP_GE,
    SCMP_CMP_GT,
    SCMP_CMP_MASKED_EQ,
}

/// `linux.intelRdt`: resctrl's allocation and monitoring.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxIntelRdt {
    #[serde(rename = "closID")]
    pub clos_id: Option<String>,
    pub l3_cache_schema: Option<String>,
    pub mem_bw_schema: Option<String>,
    pub schemata: Option<Vec<String>>,
    /// Deprecated by 1.3 for `enableMonitoring`. The alias is the spelling hull read
    /// before it read the spec's (the oci-spec crate's), kept so that no config that
    /// was refused runs.
    #[serde(rename = "enableCMT", alias = "enableCmt")]
    pub enable_cmt: Option<bool>,
    /// As `enableCMT`.
    #[serde(rename = "enableMBM", alias = "enableMbm")]
    pub enable_mbm: Option<bool>,
    pub enable_monitoring: Option<bool>,
}

/// `linux.personality`.
#[derive(Debug, Clone, Deserialize)]
pub struct LinuxPersonality {
    pub domain: PersonalityDomain,
    pub flags: Option<Vec<String>>,
}

/// `linux.personality.domain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PersonalityDomain {
    LINUX,
    LINUX32,
}

/// `linux.memoryPolicy`: what `set_mempolicy(2)` takes.
#[derive(Debug, Clone, Deserialize)]
pub struct LinuxMemoryPolicy {
    pub mode: MemoryPolicyMode,
    /// A node list, such as `0-3,7`.
    pub nodes: Option<String>,
    pub flags: Option<Vec<MemoryPolicyFlag>>,
}

/// `linux.memoryPolicy.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MemoryPolicyMode {
    MPOL_DEFAULT,
    MPOL_BIND,
    MPOL_INTERLEAVE,
    MPOL_WEIGHTED_INTERLEAVE,
    MPOL_PREFERRED,
    MPOL_PREFERRED_MANY,
    MPOL_LOCAL,
}

/// One of `linux.memoryPolicy.flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MemoryPolicyFlag {
    MPOL_F_NUMA_BALANCING,
    MPOL_F_RELATIVE_NODES,
    MPOL_F_STATIC_NODES,
}

/// One of `linux.netDevices`: a host interface moved into the container.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LinuxNetDevice {
    /// Its name in the container; missing or empty keeps the host's.
    pub name: Option<String>,
}
