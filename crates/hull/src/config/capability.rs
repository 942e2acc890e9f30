//! Linux capabilities by name and number, and sets of them as bit masks.
//!
//! The table is the single source of truth for which capabilities hull knows (the CLI's
//! `features` reads it too).

use serde::{Deserialize, Serialize};

/// Capability names in kernel numbering: `NAMES[n]` is capability number `n`.
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A set of capabilities; bit `n` is capability number `n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CapSet(pub u64);

impl CapSet {
    /// Parses names such as `CAP_CHOWN` (the `CAP_` prefix is optional, case is ignored).
    /// Returns the first name hull does not know as the error.
    pub fn from_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, super::InvalidValue> {
        let mut set = 0u64;
        for name in names {
            let upper = name.to_ascii_uppercase();
            let full = if upper.starts_with("CAP_") {
                upper
            } else {
                format!("CAP_{upper}")
            };
            let bit = NAMES
                .iter()
                .position(|n| *n == full)
                .ok_or_else(|| name.to_string())?;
            set |= 1 << bit;
        }
        Ok(CapSet(set))
    }

    /// Whether the capability numbered `cap` (its kernel number, `CAP_*`) is in the set.
    pub fn contains(self, cap: usize) -> bool {
        self.0 & (1 << cap) != 0
    }

    /// The names of the capabilities in the set, in kernel order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.contains(*i))
            .map(|(_, n)| *n)
    }
}

/// The five capability sets of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Capabilities the process can never regain (the bounding set).
    pub bounding: CapSet,
    /// Capabilities the kernel checks for the process's privileged operations.
    pub effective: CapSet,
    /// Capabilities kept across an `execve` of a program that has them inheritable too.
    pub inheritable: CapSet,
    /// The most the process may make effective or inheritable.
    pub permitted: CapSet,
    /// Capabilities kept across an `execve` of any program (each also permitted and inheritable).
    pub ambient: CapSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let set =
            CapSet::from_names(["CAP_KILL", "net_bind_service", "CAP_CHECKPOINT_RESTORE"]).unwrap();
        assert_eq!(set.0, (1 << 5) | (1 << 10) | (1 << 40));
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHECKPOINT_RESTORE"]
        );
        assert_eq!(CapSet::from_names(["CAP_NOPE"]), Err("CAP_NOPE".into()));
    }
}
