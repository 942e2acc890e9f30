//! Resolving paths inside the container's root filesystem without ever leaving it
//! (CVE-2021-30465, CVE-2024-45310): `openat2` with `RESOLVE_IN_ROOT` treats the rootfs as
//! `/` for every symlink, and missing directories are made one component at a time with
//! `mkdirat` below a parent that was itself resolved that way.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::sys;

/// What to make at the end of a path that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Symlink policy for a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symlinks {
    /// Follow them, scoped to the rootfs.
    InRoot,
    /// Refuse any (for `/proc` and `/sys` destinations).
    Refuse,
}

fn relative(path: &Path) -> io::Result<CString> {
    let mut rel = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => rel.push(n),
            Component::RootDir | Component::CurDir => {}
            // RESOLVE_IN_ROOT keeps ".." inside the root too, but a config never needs it.
            Component::ParentDir => rel.push(".."),
            Component::Prefix(_) => {}
        }
    }
    if rel.as_os_str().is_empty() {
        rel.push(".");
    }
    CString::new(rel.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Opens `path` (container-absolute) below `root` with `flags`.
pub fn open(
    root: BorrowedFd<'_>,
    path: &Path,
    flags: OFlag,
    symlinks: Symlinks,
) -> io::Result<OwnedFd> {
    let mut resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    if symlinks == Symlinks::Refuse {
        resolve |= libc::RESOLVE_NO_SYMLINKS;
    }
    sys::openat2(root, &relative(path)?, flags.bits(), 0, resolve)
}

/// How many dangling symlinks one creation follows, as the kernel's own limit.
const MAX_LINKS: usize = 40;

/// Opens `path` below `root` as an `O_PATH` handle, creating what is missing: parent
/// directories always, the last component as `kind`. A dangling symlink on the way
/// (the image's, to a path that exists only on the host) is followed inside the root,
/// and its target made there, as runc does.
pub fn create(
    root: BorrowedFd<'_>,
    path: &Path,
    kind: Kind,
    symlinks: Symlinks,
) -> io::Result<OwnedFd> {
    create_following(root, path, kind, symlinks, MAX_LINKS)
}

fn create_following(
    root: BorrowedFd<'_>,
    path: &Path,
    kind: Kind,
    symlinks: Symlinks,
    links_left: usize,
) -> io::Result<OwnedFd> {
    let o_path = OFlag::O_PATH | OFlag::O_CLOEXEC;
    match open(root, path, o_path, symlinks) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        other => return other,
    }
    // Missing: make the parent (the same way), then the last component in it. Most
    // mount points miss only their last component, so this costs three lookups.
    let (Some(parent_path), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    };
    let parent = create_following(root, parent_path, Kind::Dir, symlinks, links_left)?;
    let made = if kind == Kind::File {
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW;
        CString::new(name.as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
            .and_then(|name| sys::openat(parent.as_fd(), &name, flags.bits(), 0o644))
            .map(drop)
            .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL)))
    } else {
        nix::sys::stat::mkdirat(
            Some(parent.as_raw_fd()),
            name,
            Mode::from_bits_truncate(0o755),
        )
    };
    match made {
        Ok(()) => {}
        // Somebody else made it, or it is a dangling symlink: make its target, which
        // RESOLVE_IN_ROOT then finds inside the root.
        Err(nix::errno::Errno::EEXIST) if symlinks == Symlinks::InRoot => {
            if let Ok(target) = nix::fcntl::readlinkat(Some(parent.as_raw_fd()), name) {
                if links_left == 0 {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                // Relative targets start from the link's directory; `..` stays in the
                // root (RESOLVE_IN_ROOT).
                let target = parent_path.join(target);
                create_following(root, &target, kind, symlinks, links_left - 1)?;
            }
        }
        Err(nix::errno::Errno::EEXIST) => {}
        Err(e) => return Err(e.into()),
    }
    // Resolved again from the root, so that what we return obeys the same rules.
    open(root, path, o_path, symlinks)
}

/// The `/proc/self/fd/N` path of a descriptor: what `mount(2)` takes as a path to
/// mean exactly the file we resolved.
pub fn fd_path(fd: impl AsFd) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd())).expect("no NUL in a number")
}
