//! Seccomp: the profile compiled to classic BPF by libseccomp in the runtime, before
//! the fork, and loaded by the container's process itself with `seccomp(2)` as late
//! as the profile allows (the child only makes one syscall; no libseccomp there).

use std::io;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};

use crate::config::seccomp::{Action, CompareOp, Seccomp};

/// A compiled filter: `struct sock_filter` instructions and `seccomp(2)` flags.
#[derive(Debug, Clone)]
pub struct Filter {
    program: Vec<libc::sock_filter>,
    flags: libc::c_ulong,
}

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("linux.seccomp: {0}")]
    Invalid(String),
    #[error("linux.seccomp: libseccomp: {0}")]
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
        Action::Notify => {
            return Err(SeccompError::Invalid(
                "SCMP_ACT_NOTIFY is not supported by this version of hull".into(),
            ))
        }
    })
}

fn flag(name: &str) -> Result<libc::c_ulong, SeccompError> {
    Ok(match name {
        "SECCOMP_FILTER_FLAG_TSYNC" => 1,
        "SECCOMP_FILTER_FLAG_LOG" => 2,
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => 4,
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => 32,
        other => return Err(SeccompError::Invalid(format!("unknown flag {other:?}"))),
    })
}

/// Compiles `profile` for the native architecture and those it lists. Syscall names
/// this libseccomp does not know are skipped, as runc does.
pub fn compile(profile: &Seccomp) -> Result<Filter, SeccompError> {
    let mut ctx = ScmpFilterContext::new(action(profile.default_action)?)?;
    // The process sets no_new_privs itself, when asked.
    ctx.set_ctl_nnp(false)?;
    for arch in &profile.architectures {
        let arch: ScmpArch = arch
            .parse()
            .map_err(|_| SeccompError::Invalid(format!("unknown architecture {arch:?}")))?;
        ctx.add_arch(arch)?;
    }
    for rule in &profile.syscalls {
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
        for name in &rule.names {
            let Ok(syscall) = ScmpSyscall::from_name(name) else {
                continue;
            };
            if cmps.is_empty() {
                ctx.add_rule(act, syscall)?;
            } else {
                ctx.add_rule_conditional(act, syscall, &cmps)?;
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
    let program = bytes
        .chunks_exact(size)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    let flags = profile
        .flags
        .iter()
        .try_fold(0, |acc, f| Ok::<_, SeccompError>(acc | flag(f)?))?;
    Ok(Filter { program, flags })
}

impl Filter {
    /// Loads the filter on the calling process (`seccomp(SECCOMP_SET_MODE_FILTER)`).
    pub fn load(&self) -> io::Result<()> {
        let prog = libc::sock_fprog {
            len: self.program.len() as u16,
            filter: self.program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: a valid sock_fprog pointing at our live program.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                1 as libc::c_ulong, // SECCOMP_SET_MODE_FILTER
                self.flags,
                &prog as *const libc::sock_fprog,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
