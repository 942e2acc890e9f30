//! Running from a sealed copy of ourselves (CVE-2019-5736). The container's init is a
//! fork of this process, so until it execs the container's program its
//! `/proc/<pid>/exe` is our binary; a process in the container with CAP_SYS_PTRACE could
//! open it then and write through it once we are gone, replacing the runtime on the
//! host. Commands that put our code inside a container therefore first re-exec from a
//! view of the binary that cannot be written through: a detached read-only bind mount
//! of it (no copy, the page cache is shared; the mount is in no namespace and vanishes
//! with the process), or, where that is not allowed, a sealed memfd copy.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// Set in the environment of the sealed copy, so it does not copy itself again.
const MARK: &str = "_HULL_SEALED";

/// Returns if we already run sealed; otherwise re-execs from a sealed copy (and only
/// returns an error if that failed).
pub fn ensure() -> io::Result<()> {
    if std::env::var_os(MARK).is_some() {
        // Nothing below us needs to see it.
        std::env::remove_var(MARK);
        return Ok(());
    }
    let copy = match read_only_view() {
        Ok(fd) => fd,
        Err(_) => sealed_copy()?,
    };
    let args: Vec<CString> = std::env::args_os().map(to_c).collect();
    let mut env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            to_c(kv)
        })
        .collect();
    env.push(to_c(format!("{MARK}=1").into()));
    let err = nix::unistd::fexecve(copy.as_raw_fd(), &args, &env).unwrap_err();
    Err(io::Error::from(err))
}

fn to_c(s: OsString) -> CString {
    CString::new(s.as_bytes()).unwrap_or_default()
}

/// Our binary on a detached, read-only bind mount: `open_tree(OPEN_TREE_CLONE)` of the
/// file, then `mount_setattr(MOUNT_ATTR_RDONLY)`. Writes through it fail with EROFS.
fn read_only_view() -> io::Result<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: u64 = 1;
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: open_tree with a NUL-terminated path; returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c"/proc/self/exe".as_ptr(),
            flags,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a valid mount_attr of the size passed, on our own descriptor.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(tree)
}

/// A memfd holding our binary, sealed against any change.
fn sealed_copy() -> io::Result<OwnedFd> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: memfd_create with a NUL-terminated name.
    let fd = unsafe { libc::memfd_create(c"hull".as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
    let exe = std::fs::File::open("/proc/self/exe")?;
    let len = exe.metadata()?.len() as usize;
    let mut copied = 0;
    while copied < len {
        // SAFETY: both descriptors are ours; the kernel copies between them.
        let n = unsafe {
            libc::sendfile(
                memfd.as_raw_fd(),
                exe.as_raw_fd(),
                std::ptr::null_mut(),
                len - copied,
            )
        };
        match n {
            n if n > 0 => copied += n as usize,
            0 => return Err(io::Error::other("short copy of /proc/self/exe")),
            _ => return Err(io::Error::last_os_error()),
        }
    }
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on our own descriptor.
    if unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(memfd)
}
