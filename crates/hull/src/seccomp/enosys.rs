//! ENOSYS for syscalls newer than the profile. A profile denies what it does not list
//! with its default action, usually EPERM; for a syscall the profile's author never
//! heard of (newer than every syscall it names), EPERM makes a C library believe the
//! call exists and was refused, where ENOSYS makes it fall back to an older one (clone3
//! to clone, faccessat2 to faccessat, ...). So, as runc does, a short BPF prologue
//! answers ENOSYS for any syscall number above the largest the profile names, per
//! architecture, and hands everything else to libseccomp's filter.

use libseccomp::{ScmpArch, ScmpSyscall};

use crate::config::seccomp::{Action, Seccomp};

/// `AUDIT_ARCH_*` of the architectures the prologue covers; x32 shares x86-64's and is
/// told apart by a bit of the syscall number.
const AUDIT_ARCHES: [(ScmpArch, u32); 5] = [
    (ScmpArch::X8664, 0xc000_003e),
    (ScmpArch::X86, 0x4000_0003),
    (ScmpArch::Aarch64, 0xc000_00b7),
    (ScmpArch::Arm, 0x4000_0028),
    (ScmpArch::Riscv64, 0xc000_00f3),
];
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGT: u16 = 0x25; // BPF_JMP | BPF_JGT | BPF_K
const JSET: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET: u16 = 0x06; // BPF_RET | BPF_K
const RET_ERRNO: u32 = 0x0005_0000;
/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;

/// Where a jump goes, resolved once the prologue is laid out.
#[derive(Clone, Copy)]
enum To {
    /// The next instruction.
    On,
    /// The next architecture's check (or the filter, after the last).
    NextArch,
    /// Forward by this many instructions.
    Skip(u8),
    Filter,
    Enosys,
}

struct Insn {
    code: u16,
    k: u32,
    jt: To,
    jf: To,
}

/// Whether unknown syscalls would otherwise get something other than ENOSYS or success.
fn needed(profile: &Seccomp) -> bool {
    !matches!(
        profile.default_action,
        Action::Allow | Action::Log | Action::Trace(_)
    ) && profile.default_action != Action::Errno(libc::ENOSYS as u32)
}

/// The largest number any rule's syscall has on `arch`, if any resolves there.
fn largest(profile: &Seccomp, arch: ScmpArch) -> Option<u32> {
    profile
        .syscalls
        .iter()
        .flat_map(|r| &r.names)
        .filter_map(|name| ScmpSyscall::from_name_by_arch(name, arch).ok())
        .map(i32::from)
        .filter(|nr| *nr >= 0)
        .max()
        .map(|nr| nr as u32)
}

/// The prologue for a profile compiled for `arches`, or nothing when the profile's
/// default action already suits unknown syscalls.
pub(super) fn prologue(profile: &Seccomp, arches: &[ScmpArch]) -> Vec<libc::sock_filter> {
    if !needed(profile) {
        return Vec::new();
    }
    let mut blocks: Vec<Vec<Insn>> = Vec::new();
    for (arch, audit) in AUDIT_ARCHES {
        let max = arches
            .contains(&arch)
            .then(|| largest(profile, arch))
            .flatten();
        let max_x32 = (arch == ScmpArch::X8664 && arches.contains(&ScmpArch::X32))
            .then(|| largest(profile, ScmpArch::X32))
            .flatten();
        if max.is_none() && max_x32.is_none() {
            continue;
        }
        let insn = |code, k, jt, jf| Insn { code, k, jt, jf };
        let mut block = vec![
            insn(JEQ, audit, To::On, To::NextArch),
            insn(LD_ABS, NR, To::On, To::On),
        ];
        if arch == ScmpArch::X8664 {
            // x32 numbers carry the bit; without x32 in the profile, the filter decides.
            let x32 = if max_x32.is_some() {
                To::Skip(1)
            } else {
                To::Filter
            };
            block.push(insn(JSET, X32_SYSCALL_BIT, x32, To::On));
        }
        let above = |max: Option<u32>| match max {
            Some(max) => insn(JGT, max, To::Enosys, To::Filter),
            None => insn(JEQ, 0, To::Filter, To::Filter),
        };
        block.push(above(max));
        if let Some(max) = max_x32 {
            block.push(above(Some(max)));
        }
        blocks.push(block);
    }
    if blocks.is_empty() {
        return Vec::new();
    }
    assemble(blocks)
}

/// Lays the blocks out after `ld arch`, then `ret ENOSYS`; the filter follows.
fn assemble(blocks: Vec<Vec<Insn>>) -> Vec<libc::sock_filter> {
    let starts: Vec<usize> = blocks
        .iter()
        .scan(1, |at, b| {
            let start = *at;
            *at += b.len();
            Some(start)
        })
        .collect();
    let enosys = 1 + blocks.iter().map(Vec::len).sum::<usize>();
    let filter = enosys + 1;
    let mut out = vec![libc::sock_filter {
        code: LD_ABS,
        jt: 0,
        jf: 0,
        k: ARCH,
    }];
    for (b, block) in blocks.iter().enumerate() {
        let next = starts.get(b + 1).copied().unwrap_or(filter);
        for insn in block {
            let here = out.len();
            let offset = |to: To| -> u8 {
                let target = match to {
                    To::On => here + 1,
                    To::Skip(n) => here + 1 + n as usize,
                    To::NextArch => next,
                    To::Filter => filter,
                    To::Enosys => enosys,
                };
                // The prologue is a few dozen instructions at most.
                u8::try_from(target - here - 1).expect("short jumps")
            };
            out.push(libc::sock_filter {
                code: insn.code,
                jt: offset(insn.jt),
                jf: offset(insn.jf),
                k: insn.k,
            });
        }
    }
    out.push(libc::sock_filter {
        code: RET,
        jt: 0,
        jf: 0,
        k: RET_ERRNO | libc::ENOSYS as u32,
    });
    out
}
