//! Device rules on cgroup v2: v2 has no devices controller; the kernel asks a
//! `BPF_PROG_TYPE_CGROUP_DEVICE` program attached to the cgroup instead. This module
//! compiles the rules into such a program (the last matching rule decides, anything
//! unmatched is denied, as on v1 after "deny all"), loads it and attaches it.

use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use crate::config::DeviceRule;
use crate::sys;

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    /// dst register in the low nibble, src in the high one.
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: dst | (src << 4),
        off,
        imm,
    }
}

// Opcodes (linux/bpf.h): class | op | source.
const LDX_MEM_W: u8 = 0x61;
const MOV64_REG: u8 = 0xbf;
const MOV64_IMM: u8 = 0xb7;
const AND64_IMM: u8 = 0x57;
const RSH64_IMM: u8 = 0x77;
const JNE_IMM: u8 = 0x55;
const EXIT: u8 = 0x95;

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, where
// access_type is (access << 16) | type.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

/// Registers: r1 ctx, r2 type, r3 access, r4 major, r5 minor, r6 scratch.
fn prologue() -> Vec<Insn> {
    vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(MOV64_REG, 3, 2, 0, 0),
        insn(AND64_IMM, 2, 0, 0, 0xffff),
        insn(RSH64_IMM, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ]
}

fn access_mask(access: &str) -> i32 {
    access.chars().fold(0, |m, c| {
        m | match c {
            'm' => ACC_MKNOD,
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            _ => 0,
        }
    })
}

/// The checks of one rule, then its verdict; each check jumps past the verdict when
/// the device does not match.
fn rule_block(rule: &DeviceRule) -> Vec<Insn> {
    let mut checks: Vec<(u8, i32, bool)> = Vec::new(); // (register, value, needs mask)
    match rule.kind {
        'c' => checks.push((2, DEV_CHAR, false)),
        'b' => checks.push((2, DEV_BLOCK, false)),
        _ => {}
    }
    let mask = access_mask(&rule.access);
    if mask != ACC_MKNOD | ACC_READ | ACC_WRITE {
        checks.push((3, mask, true));
    }
    if rule.kind != 'a' {
        if let Some(major) = rule.major {
            checks.push((4, major as i32, false));
        }
        if let Some(minor) = rule.minor {
            checks.push((5, minor as i32, false));
        }
    }
    // Each check is 1 instruction, or 3 for the access mask; the verdict is 2.
    let mut code = Vec::new();
    let total: usize = checks
        .iter()
        .map(|c| if c.2 { 3 } else { 1 })
        .sum::<usize>()
        + 2;
    for (reg, value, masked) in checks {
        if masked {
            // Every access asked for must be in the rule: (access & !mask) == 0.
            code.push(insn(MOV64_REG, 6, reg, 0, 0));
            code.push(insn(AND64_IMM, 6, 0, 0, !value & 0xffff));
            let skip = (total - code.len() - 1) as i16;
            code.push(insn(JNE_IMM, 6, 0, skip, 0));
        } else {
            let skip = (total - code.len() - 1) as i16;
            code.push(insn(JNE_IMM, reg, 0, skip, value));
        }
    }
    code.push(insn(MOV64_IMM, 0, 0, 0, i32::from(rule.allow)));
    code.push(insn(EXIT, 0, 0, 0, 0));
    code
}

/// The program for `rules`: the last matching rule decides; no match is a denial.
/// A rule that matches everything ends the program (the verifier refuses code that
/// cannot be reached).
pub fn compile(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut code = prologue();
    for rule in rules.iter().rev() {
        let block = rule_block(rule);
        let matches_all = block.len() == 2;
        code.extend(block);
        if matches_all {
            return code;
        }
    }
    code.push(insn(MOV64_IMM, 0, 0, 0, 0));
    code.push(insn(EXIT, 0, 0, 0, 0));
    code
}

/// Loads the program for `rules` and attaches it to the cgroup v2 directory `dir`. The
/// kernel keeps it attached after we exit, for as long as the cgroup lives.
pub fn attach(dir: &Path, rules: &[DeviceRule]) -> io::Result<()> {
    let code = compile(rules);
    let prog = sys::load_device_program(&code, "hull_devfl", None).map_err(|e| {
        // Once more with the verifier's log, to say why.
        let mut log = vec![0u8; 16 * 1024];
        let _ = sys::load_device_program(&code, "hull_devfl", Some(&mut log));
        let text = String::from_utf8_lossy(&log);
        let text = text.trim_end_matches('\0').trim();
        io::Error::new(e.kind(), format!("load device program: {e}: {text}"))
    })?;
    let cgroup = std::fs::File::open(dir)?;
    sys::attach_device_program(cgroup.as_fd(), prog.as_fd())
        .map_err(|e| io::Error::new(e.kind(), format!("attach device program: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::devices::tests::rule;

    /// A tiny interpreter of exactly the instructions `compile` emits, to check the
    /// program's decisions without the kernel.
    fn run(code: &[Insn], kind: i32, access: i32, major: u32, minor: u32) -> u64 {
        let ctx = [((access as u32) << 16) | kind as u32, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = code[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => r[dst] = u64::from(ctx[i.off as usize / 4]),
                MOV64_REG => r[dst] = r[src],
                MOV64_IMM => r[dst] = i.imm as u64,
                AND64_IMM => r[dst] &= i.imm as u64,
                RSH64_IMM => r[dst] >>= i.imm,
                JNE_IMM => {
                    if r[dst] != i.imm as u64 {
                        pc = (pc as i64 + i64::from(i.off)) as usize;
                    }
                }
                EXIT => return r[0],
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn last_matching_rule_decides_and_the_rest_is_denied() {
        let rules = [
            rule(false, 'a', None, None, "rwm"),
            rule(true, 'c', Some(1), Some(3), "rwm"),
            rule(true, 'c', None, None, "m"),
            rule(true, 'c', Some(136), None, "rw"),
            rule(false, 'c', Some(1), Some(3), "w"),
        ];
        let code = compile(&rules);
        let rw = ACC_READ | ACC_WRITE;
        assert_eq!(run(&code, DEV_CHAR, ACC_READ, 1, 3), 1, "null readable");
        assert_eq!(
            run(&code, DEV_CHAR, ACC_WRITE, 1, 3),
            0,
            "null writes denied by the last rule"
        );
        assert_eq!(run(&code, DEV_CHAR, ACC_READ, 1, 11), 0, "kmsg not allowed");
        assert_eq!(
            run(&code, DEV_CHAR, ACC_MKNOD, 1, 11),
            1,
            "mknod of any char device"
        );
        assert_eq!(run(&code, DEV_BLOCK, ACC_MKNOD, 8, 0), 0, "no block mknod");
        assert_eq!(run(&code, DEV_CHAR, rw, 136, 7), 1, "any pty");
        assert_eq!(
            run(&code, DEV_CHAR, rw | ACC_MKNOD, 136, 7),
            0,
            "but not mknod of one"
        );
        assert_eq!(
            run(
                &compile(&[rule(true, 'a', None, None, "rwm")]),
                DEV_BLOCK,
                rw,
                8,
                0
            ),
            1
        );
        assert_eq!(run(&compile(&[]), DEV_CHAR, ACC_READ, 1, 3), 0);
    }

    #[test]
    fn runcs_defaults_alone_allow_the_usual_devices_only() {
        let code = compile(&crate::cgroups::devices::effective_rules(&[]));
        let rw = ACC_READ | ACC_WRITE;
        for (major, minor, what) in [
            (1, 3, "null"),
            (1, 5, "zero"),
            (1, 7, "full"),
            (1, 8, "random"),
            (1, 9, "urandom"),
            (5, 0, "tty"),
            (5, 2, "ptmx"),
            (10, 200, "tun"),
            (136, 4, "a pty"),
        ] {
            assert_eq!(run(&code, DEV_CHAR, rw, major, minor), 1, "{what}");
        }
        assert_eq!(run(&code, DEV_CHAR, rw, 5, 1), 0, "the host's console");
        assert_eq!(run(&code, DEV_CHAR, ACC_READ, 1, 1), 0, "/dev/mem");
        assert_eq!(
            run(&code, DEV_BLOCK, ACC_READ, 1, 3),
            0,
            "block 1:3 is no null"
        );
        assert_eq!(run(&code, DEV_BLOCK, ACC_READ, 8, 0), 0, "a disk");
        assert_eq!(run(&code, DEV_BLOCK, ACC_MKNOD, 8, 0), 1, "mknod of a disk");
        assert_eq!(run(&code, DEV_BLOCK, ACC_MKNOD | ACC_READ, 8, 0), 0);
    }

    #[test]
    fn an_all_devices_rule_ignores_numbers_and_checks_access_subsets() {
        // Type `a` matches every device, whatever numbers the rule carries.
        let code = compile(&[rule(true, 'a', Some(1), Some(3), "r")]);
        assert_eq!(run(&code, DEV_BLOCK, ACC_READ, 8, 0), 1);
        assert_eq!(run(&code, DEV_CHAR, ACC_READ, 4, 4), 1);
        // Every access asked must be in the rule.
        assert_eq!(run(&code, DEV_CHAR, ACC_READ | ACC_WRITE, 4, 4), 0);
        assert_eq!(run(&code, DEV_CHAR, ACC_WRITE, 4, 4), 0);
        // A rule without numbers matches any of its type.
        let code = compile(&[rule(true, 'c', Some(4), None, "rw")]);
        assert_eq!(run(&code, DEV_CHAR, ACC_WRITE, 4, 63), 1);
        assert_eq!(run(&code, DEV_CHAR, ACC_WRITE, 5, 63), 0);
        assert_eq!(run(&code, DEV_BLOCK, ACC_WRITE, 4, 63), 0);
    }

    #[test]
    fn every_jump_lands_on_an_instruction_and_the_program_ends_in_exit() {
        let rules = crate::cgroups::devices::effective_rules(&[
            rule(false, 'b', Some(8), None, "w"),
            rule(true, 'c', Some(10), Some(229), "rwm"),
        ]);
        let code = compile(&rules);
        assert_eq!(code[..6], prologue()[..]);
        assert_eq!(code.last().unwrap().code, EXIT);
        for (pc, i) in code.iter().enumerate() {
            if i.code == JNE_IMM {
                let target = pc + 1 + i.off as usize;
                assert!(
                    i.off >= 0 && target < code.len(),
                    "jump at {pc} to {target}"
                );
            }
        }
        // A rule that matches everything ends the program: nothing unreachable follows
        // (the verifier would refuse it), the earlier rules are moot.
        let code = compile(&[
            rule(true, 'c', Some(1), Some(3), "rwm"),
            rule(false, 'a', None, None, "rwm"),
        ]);
        assert_eq!(code.len(), prologue().len() + 2);
        assert_eq!(run(&code, DEV_CHAR, ACC_READ, 1, 3), 0);
    }
}
