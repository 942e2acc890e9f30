//! `bpf(2)` for cgroup v2 device programs: load one, attach it to a cgroup.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::cgroups::ebpf::Insn;

/// The part of `union bpf_attr` that `BPF_PROG_LOAD` reads.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The part of `union bpf_attr` that `BPF_PROG_ATTACH` reads.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// `bpf(cmd, attr)`.
///
/// # Safety
/// `attr` must be the `bpf_attr` prefix `cmd` reads, and every pointer in it valid for
/// what the kernel reads or writes there during the call.
unsafe fn bpf<T>(cmd: libc::c_long, attr: &T) -> io::Result<libc::c_long> {
    // SAFETY: the caller vouches for `attr`; its size tells the kernel how much of the
    // union we pass (the rest reads as zero).
    super::check(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *const T,
            std::mem::size_of::<T>(),
        )
    })
}

/// Loads `code` as a `BPF_PROG_TYPE_CGROUP_DEVICE` program named `name` (at most 15
/// bytes are kept). With `log`, the verifier writes its log there.
pub fn load_device_program(
    code: &[Insn],
    name: &str,
    log: Option<&mut [u8]>,
) -> io::Result<OwnedFd> {
    let einval = || io::Error::from_raw_os_error(libc::EINVAL);
    let mut prog_name = [0u8; 16];
    let kept = name.len().min(15);
    prog_name[..kept].copy_from_slice(&name.as_bytes()[..kept]);
    let (log_level, log_size, log_buf) = match log {
        Some(log) => (
            1,
            u32::try_from(log.len()).map_err(|_| einval())?,
            log.as_mut_ptr() as u64,
        ),
        None => (0, 0, 0),
    };
    let attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(code.len()).map_err(|_| einval())?,
        insns: code.as_ptr() as u64,
        license: c"Apache-2.0".as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        prog_name,
        ..Default::default()
    };
    // SAFETY: the kernel reads `insn_cnt` instructions of 8 bytes (Insn is the C
    // struct) and a NUL-terminated licence, and writes at most `log_size` bytes of log;
    // all of them live for the call.
    let fd = unsafe { bpf(BPF_PROG_LOAD, &attr) }?;
    // SAFETY: BPF_PROG_LOAD returns a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Attaches the device program `program` to the cgroup v2 directory `cgroup`, next to
/// any already there (`BPF_F_ALLOW_MULTI`).
pub fn attach_device_program(cgroup: BorrowedFd<'_>, program: BorrowedFd<'_>) -> io::Result<()> {
    let attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    // SAFETY: BPF_PROG_ATTACH reads only integers.
    unsafe { bpf(BPF_PROG_ATTACH, &attr) }.map(drop)
}
