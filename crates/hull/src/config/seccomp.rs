//! A container's seccomp profile (OCI `linux.seccomp`), in the library's own types.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the filter does with a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Kill the thread (`SCMP_ACT_KILL_THREAD`).
    KillThread,
    /// Kill the whole process (`SCMP_ACT_KILL_PROCESS`).
    KillProcess,
    /// Send `SIGSYS` (`SCMP_ACT_TRAP`).
    Trap,
    /// Fail with this errno.
    Errno(u32),
    /// Notify a ptrace tracer, with this value (`SCMP_ACT_TRACE`).
    Trace(u32),
    /// Let the syscall run (`SCMP_ACT_ALLOW`).
    Allow,
    /// Let it run and log it (`SCMP_ACT_LOG`).
    Log,
    /// Let the seccomp agent decide (`SCMP_ACT_NOTIFY`; see [`Seccomp::listener_path`]).
    Notify,
}

/// Makes an action from the rule's errno (`errnoRet`, or the profile's default).
pub type MakeAction = fn(u32) -> Action;

/// The OCI action names and what each becomes.
pub const ACTIONS: [(&str, MakeAction); 9] = [
    ("SCMP_ACT_KILL", |_| Action::KillThread),
    ("SCMP_ACT_KILL_THREAD", |_| Action::KillThread),
    ("SCMP_ACT_KILL_PROCESS", |_| Action::KillProcess),
    ("SCMP_ACT_TRAP", |_| Action::Trap),
    ("SCMP_ACT_ERRNO", Action::Errno),
    ("SCMP_ACT_TRACE", Action::Trace),
    ("SCMP_ACT_ALLOW", |_| Action::Allow),
    ("SCMP_ACT_LOG", |_| Action::Log),
    ("SCMP_ACT_NOTIFY", |_| Action::Notify),
];

/// The OCI operator names.
pub const OPERATORS: [(&str, CompareOp); 7] = [
    ("SCMP_CMP_NE", CompareOp::NotEqual),
    ("SCMP_CMP_LT", CompareOp::Less),
    ("SCMP_CMP_LE", CompareOp::LessOrEqual),
    ("SCMP_CMP_EQ", CompareOp::Equal),
    ("SCMP_CMP_GE", CompareOp::GreaterEqual),
    ("SCMP_CMP_GT", CompareOp::Greater),
    ("SCMP_CMP_MASKED_EQ", CompareOp::MaskedEqual),
];

/// How an argument is compared (`SCMP_CMP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `arg != value`.
    NotEqual,
    /// `arg < value`.
    Less,
    /// `arg <= value`.
    LessOrEqual,
    /// `arg == value`.
    Equal,
    /// `arg >= value`.
    GreaterEqual,
    /// `arg > value`.
    Greater,
    /// `(arg & value) == value_two`.
    MaskedEqual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
/// A comparison of one syscall argument.
pub struct ArgCompare {
    /// Which argument, from 0 (at most 5).
    pub index: u32,
    /// The value compared with (the mask, for [`CompareOp::MaskedEqual`]).
    pub value: u64,
    /// The second value, for [`CompareOp::MaskedEqual`]; unused otherwise.
    pub value_two: u64,
    /// How the argument is compared.
    pub op: CompareOp,
}

/// One rule: these syscalls, when every comparison holds, get `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallRule {
    /// The syscalls, by name.
    pub names: Vec<String>,
    /// What is done with a matching call.
    pub action: Action,
    /// Comparisons that must all hold; none means every call matches.
    pub args: Vec<ArgCompare>,
}

/// The whole profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seccomp {
    /// What is done with a syscall no rule matches.
    pub default_action: Action,
    /// `SCMP_ARCH_*` names besides the native one.
    pub architectures: Vec<String>,
    /// `SECCOMP_FILTER_FLAG_*` names.
    pub flags: Vec<String>,
    /// The rules.
    pub syscalls: Vec<SyscallRule>,
    /// The unix socket of the seccomp agent that receives the notify listener of each
    /// process (required when a rule's action is [`Action::Notify`]).
    pub listener_path: Option<PathBuf>,
    /// Opaque text passed to the agent with the listener.
    pub listener_metadata: String,
}

impl Seccomp {
    /// Whether some rule hands its syscalls to the agent.
    pub fn notifies(&self) -> bool {
        self.syscalls.iter().any(|r| r.action == Action::Notify)
    }
}
