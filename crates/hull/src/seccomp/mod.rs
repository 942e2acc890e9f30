//! Seccomp: the profile compiled to classic BPF by libseccomp in the runtime, before
//! the fork, and loaded by the container's process itself with `seccomp(2)` as late
//! as the profile allows (the child only makes one syscall; no libseccomp there).

pub(crate) mod agent;
mod enosys;
#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod program_tests;

use std::io;
use std::os::fd::OwnedFd;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};

use crate::config::seccomp::{Action, CompareOp, Seccomp, SyscallRule};

/// A compiled filter: `struct sock_filter` instructions and `seccomp(2)` flags.
#[derive(Debug, Clone)]
pub struct Filter {
    program: Vec<libc::sock_filter>,
    flags: libc::c_ulong,
}

const FLAG_TSYNC: libc::c_ulong = 1;
const FLAG_NEW_LISTENER: libc::c_ulong = 8;
/// With TSYNC, report a thread that failed to sync as ESRCH: the kernel's condition
/// for TSYNC and NEW_LISTENER together, since both would use the return value.
const FLAG_TSYNC_ESRCH: libc::c_ulong = 16;
/// Only meaningful (and only accepted by the kernel) with a notify listener.
const FLAG_WAIT_KILLABLE_RECV: libc::c_ulong = 32;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
/// Why a seccomp profile could not be used.
pub enum SeccompError {
    #[error("{0}")]
    /// The profile is not one hull can load (the text says why).
    Invalid(String),
    #[error("libseccomp: {0}")]
    /// libseccomp refused it.
    Library(#[from] libseccomp::error::SeccompError),
}

fn action(a: Action) -> Result<ScmpAction, SeccompError> {
    Ok(match a {
        Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Errno(e) => ScmpAction::Errno(e as i32),
        Action::Trace(t) => ScmpAction::Trace(t as u16),
        Action::Allow => ScmpAction::Allow,
        Action::Log => ScmpAction::Log,
        Action::Notify => ScmpAction::Notify,
    })
}

/// The OCI flag names a profile may ask for, and their `SECCOMP_FILTER_FLAG_*` bits.
pub const FLAGS: [(&str, libc::c_ulong); 4] = [
    ("SECCOMP_FILTER_FLAG_TSYNC", FLAG_TSYNC),
    ("SECCOMP_FILTER_FLAG_LOG", 2),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4),
    (
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        FLAG_WAIT_KILLABLE_RECV,
    ),
];

/// The architectures a profile may name (libseccomp's, as runc accepts them).
pub const ARCHITECTURES: [&str; 19] = [
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
];

fn flag(name: &str) -> Result<libc::c_ulong, SeccompError> {
    FLAGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bit)| *bit)
        .ok_or_else(|| SeccompError::Invalid(format!("unknown flag {name:?}")))
}

/// The version of the libseccomp hull compiles profiles with (`major.minor.micro`).
pub fn library_version() -> Option<String> {
    libseccomp::ScmpVersion::current()
        .ok()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
}

/// The flags of [`FLAGS`] this kernel supports: `seccomp(2)` with a flag and no
/// program fails with EFAULT when it knows the flag, EINVAL when not.
pub fn supported_flags() -> Vec<&'static str> {
    FLAGS
        .iter()
        .filter(|(_, bit)| {
            let mut bits = *bit;
            if bits == FLAG_WAIT_KILLABLE_RECV {
                bits |= FLAG_NEW_LISTENER;
            }
            crate::sys::seccomp_knows_flags(bits)
        })
        .map(|(name, _)| *name)
        .collect()
}

/// The comparison sets a rule becomes. libseccomp takes one comparison per argument in a
/// rule; several on one argument mean "any of them" (runc's reading, for the
/// `personality` rule of Docker's profile), while different arguments must all hold.
/// So: one rule per choice of one comparison for each argument. (runc makes every
/// comparison a rule of its own then, which drops the other arguments' conditions.)
fn alternatives(rule: &SyscallRule, cmps: &[ScmpArgCompare]) -> Vec<Vec<ScmpArgCompare>> {
    let mut out: Vec<Vec<ScmpArgCompare>> = vec![Vec::new()];
    for index in 0..6 {
        let choices: Vec<&ScmpArgCompare> = rule
            .args
            .iter()
            .zip(cmps)
            .filter(|(a, _)| a.index == index)
            .map(|(_, c)| c)
            .collect();
        if choices.is_empty() {
            continue;
        }
        out = out
            .iter()
            .flat_map(|set| {
                choices.iter().map(move |c| {
                    let mut next = set.clone();
                    next.push(**c);
                    next
                })
            })
            .collect();
    }
    out
}

/// Compiles `profile` for the native architecture and those it lists. Syscall names
/// this libseccomp does not know are skipped, as runc does.
pub fn compile(profile: &Seccomp) -> Result<Filter, SeccompError> {
    let mut ctx = ScmpFilterContext::new(action(profile.default_action)?)?;
    // The process sets no_new_privs itself, when asked.
    ctx.set_ctl_nnp(false)?;
    let mut arches = vec![ScmpArch::native()];
    for arch in &profile.architectures {
        let arch: ScmpArch = ARCHITECTURES
            .contains(&arch.as_str())
            .then(|| arch.parse().ok())
            .flatten()
            .ok_or_else(|| SeccompError::Invalid(format!("unknown architecture {arch:?}")))?;
        ctx.add_arch(arch)?;
        arches.push(arch);
    }
    for (r, rule) in profile.syscalls.iter().enumerate() {
        let act = action(rule.action)?;
        if act == action(profile.default_action)? {
            // libseccomp refuses rules that change nothing.
            continue;
        }
        let cmps: Vec<ScmpArgCompare> = rule
            .args
            .iter()
            .map(|a| {
                let op = match a.op {
                    CompareOp::NotEqual => ScmpCompareOp::NotEqual,
                    CompareOp::Less => ScmpCompareOp::Less,
                    CompareOp::LessOrEqual => ScmpCompareOp::LessOrEqual,
                    CompareOp::Equal => ScmpCompareOp::Equal,
                    CompareOp::GreaterEqual => ScmpCompareOp::GreaterEqual,
                    CompareOp::Greater => ScmpCompareOp::Greater,
                    CompareOp::MaskedEqual => ScmpCompareOp::MaskedEqual(a.value),
                };
                let datum = if a.op == CompareOp::MaskedEqual {
                    a.value_two
                } else {
                    a.value
                };
                ScmpArgCompare::new(a.index, op, datum)
            })
            .collect();
        let groups = alternatives(rule, &cmps);
        for name in &rule.names {
            let Ok(syscall) = ScmpSyscall::from_name(name) else {
                continue;
            };
            for group in &groups {
                let group = &group[..];
                let added = if group.is_empty() {
                    ctx.add_rule(act, syscall)
                } else {
                    ctx.add_rule_conditional(act, syscall, group)
                };
                added.map_err(|e| {
                    SeccompError::Invalid(format!("syscalls[{r}] ({name}): libseccomp: {e}"))
                })?;
            }
        }
    }
    // Exported into an anonymous file, then read back.
    let mut out = std::fs::File::from(
        crate::sys::memfd("seccomp-bpf")
            .map_err(|e| SeccompError::Invalid(format!("memfd: {e}")))?,
    );
    ctx.export_bpf(&out)?;
    let mut bytes = Vec::new();
    std::io::Seek::seek(&mut out, std::io::SeekFrom::Start(0))
        .and_then(|_| std::io::Read::read_to_end(&mut out, &mut bytes))
        .map_err(|e| SeccompError::Invalid(format!("read the compiled filter: {e}")))?;
    let size = std::mem::size_of::<libc::sock_filter>();
    let mut program = enosys::prologue(profile, &arches);
    program.extend(bytes.chunks_exact(size).map(|c| libc::sock_filter {
        code: u16::from_ne_bytes([c[0], c[1]]),
        jt: c[2],
        jf: c[3],
        k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
    }));
    let mut flags = profile
        .flags
        .iter()
        .try_fold(0, |acc, f| Ok::<_, SeccompError>(acc | flag(f)?))?;
    if profile.notifies() {
        flags |= FLAG_NEW_LISTENER;
        if flags & FLAG_TSYNC != 0 {
            flags |= FLAG_TSYNC_ESRCH;
        }
    } else {
        // How notified syscalls wait: nothing to say without any (as libseccomp does).
        flags &= !FLAG_WAIT_KILLABLE_RECV;
    }
    Ok(Filter { program, flags })
}

impl Filter {
    /// Whether loading the filter gives a notify listener (for an agent).
    pub fn notifies(&self) -> bool {
        self.flags & FLAG_NEW_LISTENER != 0
    }

    /// Loads the filter on the calling process (`seccomp(SECCOMP_SET_MODE_FILTER)`).
    /// Returns the notify listener when the profile hands syscalls to an agent.
    pub fn load(&self) -> io::Result<Option<OwnedFd>> {
        crate::sys::seccomp_load(&self.program, self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::seccomp::ArgCompare;

    #[test]
    fn every_listed_architecture_is_one_libseccomp_knows() {
        for arch in ARCHITECTURES {
            assert!(arch.parse::<ScmpArch>().is_ok(), "{arch}");
        }
    }

    /// Loads the filter in a forked child, makes each syscall, and returns their errnos
    /// (0 for anything but ENOSYS and EPERM), read back from the child's exit code.
    fn errnos_under(profile: &Seccomp, calls: &[(libc::c_long, libc::c_long)]) -> Vec<i32> {
        let filter = compile(profile).unwrap();
        let child = crate::sys::fork_child(0, None, |_, _| {
            let mut code = 0;
            // Without CAP_SYS_ADMIN a filter loads only under no_new_privs (the child's
            // own: the test process keeps its privileges).
            let _ = crate::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0);
            if filter.load().is_ok() {
                for (i, (nr, arg)) in calls.iter().enumerate() {
                    // A raw syscall by number has no safe form: the one test-only
                    // exception to "unsafe only in sys".
                    #[allow(unsafe_code)]
                    // SAFETY: the syscalls get integer arguments that fail or change nothing.
                    let ret = unsafe { libc::syscall(*nr, *arg, 0, 0) };
                    let errno = io::Error::last_os_error().raw_os_error();
                    let class = match (ret, errno) {
                        (-1, Some(libc::ENOSYS)) => 1,
                        (-1, Some(libc::EPERM)) => 2,
                        _ => 3,
                    };
                    code |= class << (2 * i);
                }
            }
            crate::sys::exit_now(code)
        })
        .unwrap();
        let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child), None).unwrap();
        let nix::sys::wait::WaitStatus::Exited(_, code) = status else {
            panic!("the test child ended with {status:?}");
        };
        assert_ne!(code, 0, "the filter did not load");
        (0..calls.len())
            .map(|i| match (code >> (2 * i)) & 3 {
                1 => libc::ENOSYS,
                2 => libc::EPERM,
                _ => 0,
            })
            .collect()
    }

    /// Seen failing without the prologue: the syscall above the profile got EPERM.
    #[test]
    fn syscalls_newer_than_the_profile_get_enosys() {
        let mut profile = Seccomp {
            default_action: Action::Errno(libc::EPERM as u32),
            architectures: vec!["SCMP_ARCH_X86".into(), "SCMP_ARCH_X32".into()],
            flags: vec![],
            syscalls: vec![SyscallRule {
                names: vec!["exit_group".into(), "exit".into(), "setns".into()],
                action: Action::Allow,
                args: vec![],
            }],
            listener_path: None,
            listener_metadata: String::new(),
        };
        let (unshare, setns) = (libc::SYS_unshare, libc::SYS_setns);
        let newer = setns + 100;
        // Below the profile's largest: the default action; above: ENOSYS; listed: allowed
        // (setns(-1) fails with EBADF, counted as "other").
        assert_eq!(
            errnos_under(&profile, &[(unshare, -1), (newer, -1), (setns, -1)]),
            [libc::EPERM, libc::ENOSYS, 0]
        );
        // A default action that lets unknown syscalls through needs no prologue.
        profile.default_action = Action::Errno(libc::ENOSYS as u32);
        assert_eq!(
            errnos_under(&profile, &[(unshare, -1), (newer, -1)]),
            [libc::ENOSYS, libc::ENOSYS]
        );
    }

    /// Several comparisons on one argument mean "any of them" (runc's reading, and the
    /// runtime-tools default profile's personality rule); libseccomp refuses them in one
    /// rule. Seen failing: "Invalid input to the libseccomp API".
    /// EPERM for everything but exit and `name` when each of `equal` (argument, value)
    /// holds as the rule's comparisons say.
    fn allowing_only(name: &str, equal: &[(u32, u64)]) -> Seccomp {
        let args = equal
            .iter()
            .map(|&(index, value)| ArgCompare {
                index,
                value,
                value_two: 0,
                op: CompareOp::Equal,
            })
            .collect();
        let allow = |names: &[&str], args| SyscallRule {
            names: names.iter().map(|n| n.to_string()).collect(),
            action: Action::Allow,
            args,
        };
        Seccomp {
            default_action: Action::Errno(libc::EPERM as u32),
            architectures: vec![],
            flags: vec![],
            syscalls: vec![allow(&["exit_group", "exit"], vec![]), allow(&[name], args)],
            listener_path: None,
            listener_metadata: String::new(),
        }
    }

    #[test]
    fn comparisons_on_one_argument_are_alternatives() {
        let profile = allowing_only("personality", &[(0, 0), (0, 8), (0, 0xffff_ffff)]);
        let p = libc::SYS_personality;
        // 0xffffffff only queries; 4 is no listed value.
        assert_eq!(
            errnos_under(&profile, &[(p, 0xffff_ffff), (p, 4)]),
            [0, libc::EPERM]
        );
    }

    /// Alternatives on one argument, and a condition on another that must still hold
    /// with each (runc, splitting every comparison into a rule of its own, would allow
    /// getpriority(1, 0) here).
    #[test]
    fn conditions_on_other_arguments_still_hold() {
        let profile = allowing_only("getpriority", &[(0, 0), (1, 0), (1, 1)]);
        let g = libc::SYS_getpriority;
        // (which, who): PRIO_PROCESS of ourselves is allowed; PRIO_PGRP is not.
        assert_eq!(errnos_under(&profile, &[(g, 0), (g, 1)]), [0, libc::EPERM]);
    }

    #[test]
    fn the_kernel_supports_the_flags_this_host_needs() {
        let supported = supported_flags();
        assert!(
            supported.contains(&"SECCOMP_FILTER_FLAG_TSYNC"),
            "{supported:?}"
        );
        assert!(
            supported.contains(&"SECCOMP_FILTER_FLAG_LOG"),
            "{supported:?}"
        );
    }
}
