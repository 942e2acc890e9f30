//! A container's seccomp profile (OCI `linux.seccomp`), in the library's own types.

use serde::{Deserialize, Serialize};

/// What the filter does with a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    KillThread,
    KillProcess,
    Trap,
    /// Fail with this errno.
    Errno(u32),
    Trace(u32),
    Allow,
    Log,
    Notify,
}

/// How an argument is compared (`SCMP_CMP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    NotEqual,
    Less,
    LessOrEqual,
    Equal,
    GreaterEqual,
    Greater,
    /// `(arg & value) == value_two`.
    MaskedEqual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgCompare {
    pub index: u32,
    pub value: u64,
    pub value_two: u64,
    pub op: CompareOp,
}

/// One rule: these syscalls, when every comparison holds, get `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallRule {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<ArgCompare>,
}

/// The whole profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seccomp {
    pub default_action: Action,
    /// `SCMP_ARCH_*` names besides the native one.
    pub architectures: Vec<String>,
    /// `SECCOMP_FILTER_FLAG_*` names.
    pub flags: Vec<String>,
    pub syscalls: Vec<SyscallRule>,
}
