//! `seccomp(2)`: asking the kernel which filter flags it knows, and loading a filter.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::check;

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: loading returns a notify listener.
const FLAG_NEW_LISTENER: u64 = 1 << 3;

/// Whether this kernel knows every flag of `flags`: `seccomp(2)` with flags and no
/// program fails with EFAULT when it does, EINVAL when not.
pub fn seccomp_knows_flags(flags: u64) -> bool {
    // SAFETY: a null program is never read: the call fails before using it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            std::ptr::null::<u8>(),
        )
    };
    ret < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT)
}

/// Loads the BPF program `program` as a seccomp filter on the calling process, with
/// `SECCOMP_FILTER_FLAG_*` `flags`; with `NEW_LISTENER` among them, returns the notify
/// listener. A program longer than the kernel's length field is refused (EINVAL).
pub fn seccomp_load(program: &[libc::sock_filter], flags: u64) -> io::Result<Option<OwnedFd>> {
    let len =
        u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        // The kernel only reads the program.
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: a valid sock_fprog pointing at `len` live instructions.
    let ret = check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    })?;
    // SAFETY: with NEW_LISTENER (which the kernel refuses next to a bare TSYNC, whose
    // answer is a thread id) success returns a new descriptor nobody else owns.
    Ok((flags & FLAG_NEW_LISTENER != 0).then(|| unsafe { OwnedFd::from_raw_fd(ret as RawFd) }))
}
