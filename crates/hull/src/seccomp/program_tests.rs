//! The compiled programs, run by a small classic-BPF interpreter on made-up
//! `struct seccomp_data`: what each syscall would get, without loading anything.

use super::*;
use crate::config::seccomp::ArgCompare;

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_KILL_THREAD: u32 = 0;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_NOTIFY: u32 = 0x7fc0_0000;
const RET_TRACE: u32 = 0x7ff0_0000;
const RET_LOG: u32 = 0x7ffc_0000;
const RET_ALLOW: u32 = 0x7fff_0000;

#[cfg(target_arch = "x86_64")]
const NATIVE: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const NATIVE: u32 = 0xc000_00b7;

/// Runs `program` on a syscall: what the kernel would do with it.
fn run(program: &[libc::sock_filter], arch: u32, nr: i64, args: [u64; 6]) -> u32 {
    // struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }
    let mut data = Vec::with_capacity(64);
    data.extend_from_slice(&(nr as i32).to_ne_bytes());
    data.extend_from_slice(&arch.to_ne_bytes());
    data.extend_from_slice(&0u64.to_ne_bytes());
    for a in args {
        data.extend_from_slice(&a.to_ne_bytes());
    }
    let word = |k: u32| {
        let k = k as usize;
        assert!(k % 4 == 0 && k + 4 <= data.len(), "load at {k}");
        u32::from_ne_bytes(data[k..k + 4].try_into().unwrap())
    };
    let (mut a, mut x, mut mem) = (0u32, 0u32, [0u32; 16]);
    let mut pc = 0usize;
    for _ in 0..10_000 {
        let i = program
            .get(pc)
            .unwrap_or_else(|| panic!("ran off the end at {pc}"));
        pc += 1;
        let src = if i.code & 0x08 != 0 { x } else { i.k };
        match i.code & 0x07 {
            // LD: only 32-bit words.
            0x00 => match i.code & 0xe0 {
                0x00 => a = i.k,
                0x20 => a = word(i.k),
                0x60 => a = mem[i.k as usize],
                m => panic!("ld mode {m:#x}"),
            },
            0x01 => match i.code & 0xe0 {
                0x00 => x = i.k,
                0x60 => x = mem[i.k as usize],
                m => panic!("ldx mode {m:#x}"),
            },
            0x02 => mem[i.k as usize] = a,
            0x03 => mem[i.k as usize] = x,
            0x04 => {
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.wrapping_shl(src),
                    0x70 => a.wrapping_shr(src),
                    0x80 => a.wrapping_neg(),
                    0xa0 => a ^ src,
                    op => panic!("alu op {op:#x}"),
                }
            }
            0x05 => {
                let taken = match i.code & 0xf0 {
                    0x00 => {
                        pc += i.k as usize;
                        continue;
                    }
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    op => panic!("jmp op {op:#x}"),
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            0x06 => return if i.code & 0x18 == 0x10 { a } else { i.k },
            _ => match i.code {
                0x07 => x = a,
                0x87 => a = x,
                c => panic!("misc {c:#x}"),
            },
        }
    }
    panic!("the program does not end");
}

fn rule(names: &[&str], action: Action, args: Vec<ArgCompare>) -> SyscallRule {
    SyscallRule {
        names: names.iter().map(|n| n.to_string()).collect(),
        action,
        args,
    }
}

fn cmp(index: u32, op: CompareOp, value: u64, value_two: u64) -> ArgCompare {
    ArgCompare {
        index,
        value,
        value_two,
        op,
    }
}

fn profile(default_action: Action, syscalls: Vec<SyscallRule>) -> Seccomp {
    Seccomp {
        default_action,
        architectures: vec![],
        flags: vec![],
        syscalls,
        listener_path: None,
        listener_metadata: String::new(),
    }
}

fn native(program: &[libc::sock_filter], nr: i64, args: [u64; 6]) -> u32 {
    run(program, NATIVE, nr, args)
}

#[test]
fn listed_syscalls_get_their_action_others_the_default_newer_ones_enosys() {
    let p = profile(
        Action::Errno(libc::EPERM as u32),
        vec![rule(&["getpid", "exit_group"], Action::Allow, vec![])],
    );
    let f = compile(&p).unwrap();
    let largest = libc::SYS_getpid.max(libc::SYS_exit_group);
    assert_eq!(native(&f.program, libc::SYS_getpid, [0; 6]), RET_ALLOW);
    assert_eq!(native(&f.program, libc::SYS_exit_group, [0; 6]), RET_ALLOW);
    let below = (0..largest)
        .find(|nr| *nr != libc::SYS_getpid && *nr != libc::SYS_exit_group)
        .unwrap();
    assert_eq!(
        native(&f.program, below, [0; 6]),
        RET_ERRNO | libc::EPERM as u32
    );
    assert_eq!(
        native(&f.program, largest + 1, [0; 6]),
        RET_ERRNO | libc::ENOSYS as u32
    );
}

#[test]
fn every_action_is_encoded_as_the_kernel_reads_it() {
    let nr = libc::SYS_getppid;
    for (action, ret) in [
        (Action::KillThread, RET_KILL_THREAD),
        (Action::KillProcess, RET_KILL_PROCESS),
        (Action::Trap, RET_TRAP),
        (
            Action::Errno(libc::EACCES as u32),
            RET_ERRNO | libc::EACCES as u32,
        ),
        (Action::Trace(7), RET_TRACE | 7),
        (Action::Log, RET_LOG),
        (Action::Notify, RET_NOTIFY),
    ] {
        let f = compile(&profile(
            Action::Allow,
            vec![rule(&["getppid"], action, vec![])],
        ))
        .unwrap();
        assert_eq!(native(&f.program, nr, [0; 6]), ret, "{action:?}");
        assert_eq!(native(&f.program, libc::SYS_getpid, [0; 6]), RET_ALLOW);
    }
}

#[test]
fn another_architecture_is_killed_unless_the_profile_lists_it() {
    let p = profile(
        Action::Errno(libc::EPERM as u32),
        vec![rule(&["getpid"], Action::Allow, vec![])],
    );
    let f = compile(&p).unwrap();
    // AUDIT_ARCH_PPC64LE: on no host these tests run on.
    let ret = run(&f.program, 0xc000_0015, libc::SYS_getpid, [0; 6]);
    assert!(
        ret == RET_KILL_THREAD || ret == RET_KILL_PROCESS,
        "{ret:#x}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn listed_architectures_have_their_own_numbers() {
    const I386: u32 = 0x4000_0003;
    let mut p = profile(
        Action::Errno(libc::EPERM as u32),
        vec![rule(&["getpid"], Action::Allow, vec![])],
    );
    p.architectures = vec!["SCMP_ARCH_X86".into()];
    let f = compile(&p).unwrap();
    // getpid is 20 on i386 (39 on x86-64): i386's 19 gets the default, its 21 and 39
    // are above everything the profile names there.
    assert_eq!(run(&f.program, I386, 20, [0; 6]), RET_ALLOW);
    assert_eq!(
        run(&f.program, I386, 19, [0; 6]),
        RET_ERRNO | libc::EPERM as u32
    );
    for newer in [21, 39] {
        assert_eq!(
            run(&f.program, I386, newer, [0; 6]),
            RET_ERRNO | libc::ENOSYS as u32
        );
    }
    assert_eq!(run(&f.program, NATIVE, 39, [0; 6]), RET_ALLOW);
    // An x32 number on x86-64 is not answered ENOSYS by the prologue when the profile
    // has no x32: libseccomp's filter decides (it refuses it).
    let x32 = run(&f.program, NATIVE, 0x4000_0000 | 39, [0; 6]);
    assert_ne!(x32, RET_ERRNO | libc::ENOSYS as u32);
    assert_ne!(x32, RET_ALLOW);
}

#[test]
fn argument_comparisons_are_checked_on_all_64_bits() {
    let nr = libc::SYS_getppid;
    let allowed = |args: Vec<ArgCompare>, values: &[(u64, u64)]| -> Vec<bool> {
        let p = profile(
            Action::Errno(libc::EPERM as u32),
            vec![rule(&["getppid"], Action::Allow, args)],
        );
        let f = compile(&p).unwrap();
        values
            .iter()
            .map(|&(a0, a1)| native(&f.program, nr, [a0, a1, 0, 0, 0, 0]) == RET_ALLOW)
            .collect()
    };
    let big = 1u64 << 32;
    assert_eq!(
        allowed(
            vec![cmp(0, CompareOp::GreaterEqual, big, 0)],
            &[(big, 0), (big + 5, 0), (big - 1, 0), (5, 0)]
        ),
        [true, true, false, false]
    );
    assert_eq!(
        allowed(
            vec![cmp(0, CompareOp::NotEqual, big | 3, 0)],
            &[(3, 0), (big | 3, 0)]
        ),
        [true, false]
    );
    // (arg & value) == value_two.
    assert_eq!(
        allowed(
            vec![cmp(0, CompareOp::MaskedEqual, 0xff00, 0x0100)],
            &[(0x0100, 0), (0x01ff, 0), (0x0200, 0), (big | 0x0100, 0)]
        ),
        [true, true, false, true]
    );
    // Different arguments: all must hold.
    assert_eq!(
        allowed(
            vec![
                cmp(0, CompareOp::Less, 10, 0),
                cmp(1, CompareOp::Equal, 7, 0)
            ],
            &[(9, 7), (10, 7), (9, 8)]
        ),
        [true, false, false]
    );
}

#[test]
fn comparisons_on_one_argument_become_alternative_rules() {
    let r = rule(
        &["x"],
        Action::Allow,
        vec![
            cmp(0, CompareOp::Equal, 1, 0),
            cmp(2, CompareOp::Equal, 9, 0),
            cmp(0, CompareOp::Equal, 2, 0),
        ],
    );
    let cmps: Vec<ScmpArgCompare> = r
        .args
        .iter()
        .map(|a| ScmpArgCompare::new(a.index, ScmpCompareOp::Equal, a.value))
        .collect();
    let sets = alternatives(&r, &cmps);
    // (arg0 == 1 or arg0 == 2) and arg2 == 9: two rules of two comparisons.
    assert_eq!(sets.len(), 2);
    assert!(sets.iter().all(|s| s.len() == 2));
    assert_eq!(sets[0], [cmps[0], cmps[1]]);
    assert_eq!(sets[1], [cmps[2], cmps[1]]);
    assert_eq!(
        alternatives(&rule(&["x"], Action::Allow, vec![]), &[]),
        [vec![]]
    );
}

#[test]
fn flags_follow_the_kernels_rules() {
    let mut p = profile(Action::Allow, vec![rule(&["getppid"], Action::Log, vec![])]);
    p.flags = vec![
        "SECCOMP_FILTER_FLAG_TSYNC".into(),
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV".into(),
    ];
    let f = compile(&p).unwrap();
    // Without a listener the wait flag means nothing, and the kernel would refuse it.
    assert_eq!(f.flags, FLAG_TSYNC);
    assert!(!f.notifies());
    p.syscalls.push(rule(&["getpid"], Action::Notify, vec![]));
    let f = compile(&p).unwrap();
    assert_eq!(
        f.flags,
        FLAG_TSYNC | FLAG_WAIT_KILLABLE_RECV | FLAG_NEW_LISTENER | FLAG_TSYNC_ESRCH
    );
    assert!(f.notifies());
    p.flags = vec!["SECCOMP_FILTER_FLAG_NOPE".into()];
    let err = compile(&p).unwrap_err();
    assert!(err.to_string().contains("unknown flag"), "{err}");
}

#[test]
fn unknown_names_and_rules_that_change_nothing_are_skipped() {
    let p = profile(
        Action::Errno(libc::EPERM as u32),
        vec![
            rule(
                &["no_such_syscall_anywhere", "getpid"],
                Action::Allow,
                vec![],
            ),
            // The default action again: libseccomp would refuse it.
            rule(&["getppid"], Action::Errno(libc::EPERM as u32), vec![]),
        ],
    );
    let f = compile(&p).unwrap();
    assert_eq!(native(&f.program, libc::SYS_getpid, [0; 6]), RET_ALLOW);
    assert_eq!(
        native(&f.program, libc::SYS_getppid, [0; 6]),
        RET_ERRNO | libc::EPERM as u32
    );
    let mut p = profile(Action::Allow, vec![]);
    p.architectures = vec!["SCMP_ARCH_VAX".into()];
    let err = compile(&p).unwrap_err();
    assert!(err.to_string().contains("unknown architecture"), "{err}");
}

#[test]
fn no_enosys_prologue_where_unknown_syscalls_already_pass_or_get_enosys() {
    let allow = rule(&["getpid"], Action::KillProcess, vec![]);
    let arches = [ScmpArch::native()];
    for default in [
        Action::Allow,
        Action::Log,
        Action::Trace(1),
        Action::Errno(libc::ENOSYS as u32),
    ] {
        let p = profile(default, vec![allow.clone()]);
        assert!(enosys::prologue(&p, &arches).is_empty(), "{default:?}");
    }
    let p = profile(
        Action::KillProcess,
        vec![rule(&["getpid"], Action::Allow, vec![])],
    );
    let prologue = enosys::prologue(&p, &arches);
    assert!(!prologue.is_empty());
    // It ends in `ret ENOSYS`, and the program goes on past it to the filter.
    let last = prologue.last().unwrap();
    assert_eq!((last.code, last.k), (0x06, RET_ERRNO | libc::ENOSYS as u32));
    // A profile without any syscall it knows has nothing to compare with.
    let p = profile(
        Action::KillProcess,
        vec![rule(&["nonexistent"], Action::Allow, vec![])],
    );
    assert!(enosys::prologue(&p, &arches).is_empty());
}
