//! The new mount API: detached copies of mounts (`open_tree`), moving them into place
//! (`move_mount`), fresh tmpfs mounts (`fsopen`/`fsmount`), and mount attributes,
//! idmapping and propagation (`mount_setattr`), all by descriptor.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::check;

const OPEN_TREE_CLONE: libc::c_uint = 1;

/// `open_tree(dirfd, path, OPEN_TREE_CLONE | flags)`; returns the new descriptor.
fn open_tree(dirfd: RawFd, path: &CStr, flags: libc::c_uint) -> io::Result<OwnedFd> {
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | flags;
    // SAFETY: open_tree with a NUL-terminated path; returns a new descriptor or -1.
    let fd = check(unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) })?;
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `open_tree(path, OPEN_TREE_CLONE)`: a detached copy of the mount of `path`, in no
/// namespace, gone when the last reference goes.
pub fn open_tree_clone(path: &CStr) -> io::Result<OwnedFd> {
    open_tree(libc::AT_FDCWD, path, 0)
}

/// A detached bind mount of what `fd` refers to (a file or a directory; with
/// `recursive`, the mounts below it too), made from the descriptor itself: no path is
/// resolved, through `/proc` or anything else the container could have shaped.
pub fn clone_mount(fd: BorrowedFd<'_>, recursive: bool) -> io::Result<OwnedFd> {
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    open_tree(fd.as_raw_fd(), c"", flags)
}

/// `move_mount(2)` of the detached mount `mount` onto what `target` refers to, both by
/// descriptor.
pub fn move_mount_onto(mount: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
    const F_EMPTY_PATH: libc::c_uint = 0x4;
    const T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: move_mount with two descriptors we hold and empty NUL-terminated paths.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mount.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            F_EMPTY_PATH | T_EMPTY_PATH,
        )
    };
    check(ret).map(drop)
}

/// A new, empty, detached tmpfs mount (`fsopen` + `fsmount`), read-only if asked, to be
/// put in place with [`move_mount_onto`].
pub fn new_tmpfs(readonly: bool) -> io::Result<OwnedFd> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: libc::c_uint = 1;
    // SAFETY: fsopen with a NUL-terminated filesystem name; a new descriptor or -1.
    let fs = check(unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC) })?;
    // SAFETY: a fresh descriptor nobody else owns.
    let fs = unsafe { OwnedFd::from_raw_fd(fs as RawFd) };
    // SAFETY: FSCONFIG_CMD_CREATE takes no key, value or aux.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    let attrs = if readonly { MOUNT_ATTR_RDONLY } else { 0 };
    // SAFETY: fsmount of the filesystem context we made; a new descriptor or -1.
    let mount =
        check(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })?;
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(mount as RawFd) })
}

/// The kernel's `struct mount_attr`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(2)` on the mount that `fd` refers to: set and clear `MOUNT_ATTR_*` bits,
/// on the whole subtree when `recursive`.
pub fn mount_setattr(fd: BorrowedFd<'_>, set: u64, clear: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    setattr(fd, &attr, recursive)
}

/// Idmaps the detached mount `fd` (and with `recursive` every mount below it) through
/// the user namespace `userns`: `MOUNT_ATTR_IDMAP`.
pub fn mount_setattr_idmap(
    fd: BorrowedFd<'_>,
    userns: BorrowedFd<'_>,
    recursive: bool,
) -> io::Result<()> {
    const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    setattr(fd, &attr, recursive)
}

/// Sets the propagation type (`MS_SLAVE`, `MS_PRIVATE`, ...) of the mount `fd`, and
/// with `recursive` of every mount below it.
pub fn mount_setattr_propagation(
    fd: BorrowedFd<'_>,
    propagation: u64,
    recursive: bool,
) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: 0,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    };
    setattr(fd, &attr, recursive)
}

fn setattr(fd: BorrowedFd<'_>, attr: &MountAttr, recursive: bool) -> io::Result<()> {
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `attr` is a valid mount_attr of the size passed, the path is the empty string.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(ret).map(drop)
}
