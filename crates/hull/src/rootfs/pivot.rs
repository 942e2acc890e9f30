//! Making the rootfs the container's `/`: `pivot_root` with the old root detached, or
//! `MS_MOVE` + `chroot` for `--no-pivot`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use super::{cstr, err, mount, Result};
use crate::mountinfo;

/// `pivot_root(".", ".")` from inside the new root: the old root ends up stacked on
/// top of the new one, where we detach it. No directory for the old root is needed.
pub fn pivot_root(new_root: OwnedFd) -> Result<()> {
    let old_root = std::fs::File::open("/").map_err(err("open", Path::new("/")))?;
    nix::unistd::fchdir(new_root.as_raw_fd()).map_err(err("chdir to", Path::new("rootfs")))?;
    nix::unistd::pivot_root(".", ".").map_err(err("pivot_root to", Path::new("rootfs")))?;
    nix::unistd::fchdir(old_root.as_raw_fd()).map_err(err("chdir to", Path::new("old root")))?;
    // The old root must not carry our unmount to the host.
    mount(
        None,
        &c".".into(),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .map_err(err("make old root a slave", Path::new(".")))?;
    nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH)
        .map_err(err("detach old root", Path::new(".")))?;
    nix::unistd::chdir("/").map_err(err("chdir to", Path::new("/")))
}

/// `--no-pivot`: move the rootfs (the mount `new_root` is the root of) over `/` and
/// chroot into it (for a rootfs on the initramfs, where `pivot_root` is impossible).
pub fn move_root(new_root: OwnedFd) -> Result<()> {
    let rootfs = Path::new("rootfs");
    nix::unistd::fchdir(new_root.as_raw_fd()).map_err(err("chdir to", rootfs))?;
    mount(Some(&c".".into()), &c"/".into(), None, libc::MS_MOVE, None)
        .map_err(err("move rootfs onto", Path::new("/")))?;
    nix::unistd::chroot(".").map_err(err("chroot to", rootfs))?;
    nix::unistd::chdir("/").map_err(err("chdir to", Path::new("/")))
}

/// `pivot_root` refuses a new root whose parent mount is shared, and a shared parent
/// would carry the container's mounts to its peers: if the mount that holds the rootfs
/// is shared, make it private (as runc does).
pub fn make_parent_private(rootfs: &Path) -> Result<()> {
    let mounts = mountinfo::read_self().map_err(err("read mountinfo for", rootfs))?;
    let parent = mounts
        .iter()
        .filter(|m| rootfs.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.as_os_str().len());
    match parent {
        Some(m) if m.shared => mount(None, &cstr(&m.mount_point), None, libc::MS_PRIVATE, None)
            .map_err(err("make private", &m.mount_point)),
        _ => Ok(()),
    }
}
