//! Making the rootfs the container's `/`: `pivot_root` with the old root detached, or
//! `MS_MOVE` + `chroot` for `--no-pivot`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use super::{cstr, err, mount, Result};
use crate::mountinfo;

/// `pivot_root(".", ".")` from inside the new root: the old root ends up stacked on
/// top of the new one, where we detach it. No directory for the old root is needed.
pub fn pivot_root(new_root: OwnedFd, propagation: u64) -> Result<()> {
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
    nix::unistd::chdir("/").map_err(err("chdir to", Path::new("/")))?;
    // A shared root stays shared inside, as asked.
    if propagation & libc::MS_SHARED != 0 {
        mount(None, &c"/".into(), None, propagation, None)
            .map_err(err("set propagation of", Path::new("/")))?;
    }
    Ok(())
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

/// `pivot_root` refuses a new root whose parent mount is shared; with a shared root
/// propagation asked for, make just that parent private.
pub fn make_parent_private(rootfs: &Path) -> Result<()> {
    let mounts = mountinfo::read_self().map_err(err("read mountinfo for", rootfs))?;
    let parent = mounts
        .iter()
        .map(|m| m.mount_point.as_path())
        .filter(|mp| rootfs.starts_with(mp))
        .max_by_key(|mp| mp.as_os_str().len())
        .unwrap_or(Path::new("/"));
    mount(None, &cstr(parent), None, libc::MS_PRIVATE, None).map_err(err("make private", parent))
}
