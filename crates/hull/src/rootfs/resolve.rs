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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;
    use std::os::unix::fs::symlink;

    fn ino(fd: &OwnedFd) -> (u64, u64) {
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).unwrap();
        (st.st_dev, st.st_ino)
    }

    fn ino_of(path: &Path) -> (u64, u64) {
        let st = nix::sys::stat::lstat(path).unwrap();
        (st.st_dev, st.st_ino)
    }

    fn o_path() -> OFlag {
        OFlag::O_PATH | OFlag::O_CLOEXEC
    }

    #[test]
    fn container_paths_become_relative_to_the_root() {
        let rel = |p: &str| relative(Path::new(p)).unwrap().into_string().unwrap();
        assert_eq!(rel("/"), ".");
        assert_eq!(rel(""), ".");
        assert_eq!(rel("/etc/./passwd"), "etc/passwd");
        assert_eq!(rel("//a//b/"), "a/b");
        // Kept for the kernel, which resolves it inside the root.
        assert_eq!(rel("/a/../b"), "a/../b");
        assert!(relative(Path::new("/a\0b")).is_err());
    }

    #[test]
    fn absolute_symlinks_and_dotdot_stay_in_the_root() {
        let root = Scratch::new("resolve-root");
        root.write("etc/marker", "inside");
        symlink("/etc", root.join("link")).unwrap();
        symlink("../../../../../../etc", root.join("up")).unwrap();
        let fd = root.open();
        let inside = ino_of(&root.join("etc/marker"));
        for path in ["/link/marker", "/up/marker", "/../../etc/marker"] {
            let found = open(fd.as_fd(), Path::new(path), o_path(), Symlinks::InRoot).unwrap();
            assert_eq!(ino(&found), inside, "{path}");
        }
        // What only the host has is not found through the root.
        let host_only = open(
            fd.as_fd(),
            Path::new("/link/hostname"),
            o_path(),
            Symlinks::InRoot,
        );
        assert_eq!(
            host_only.unwrap_err().raw_os_error(),
            Some(libc::ENOENT),
            "the host's /etc/hostname was reached"
        );
    }

    #[test]
    fn refused_symlinks_fail_with_eloop() {
        let root = Scratch::new("resolve-refuse");
        root.write("real/file", "");
        symlink("real", root.join("link")).unwrap();
        let fd = root.open();
        let err = open(
            fd.as_fd(),
            Path::new("/link/file"),
            o_path(),
            Symlinks::Refuse,
        )
        .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        assert!(open(
            fd.as_fd(),
            Path::new("/real/file"),
            o_path(),
            Symlinks::Refuse
        )
        .is_ok());
    }

    #[test]
    fn create_makes_missing_parents_and_the_last_component_as_asked() {
        let root = Scratch::new("resolve-create");
        let fd = root.open();
        let file = create(
            fd.as_fd(),
            Path::new("/a/b/c"),
            Kind::File,
            Symlinks::InRoot,
        )
        .unwrap();
        assert!(root.join("a/b").is_dir());
        assert!(root.join("a/b/c").is_file());
        assert_eq!(ino(&file), ino_of(&root.join("a/b/c")));
        let dir = create(fd.as_fd(), Path::new("/a/d"), Kind::Dir, Symlinks::InRoot).unwrap();
        assert!(root.join("a/d").is_dir());
        // What exists is opened as it is.
        let again = create(fd.as_fd(), Path::new("/a/d"), Kind::File, Symlinks::InRoot).unwrap();
        assert_eq!(ino(&dir), ino(&again));
    }

    #[test]
    fn a_dangling_symlink_has_its_target_made_inside_the_root() {
        let root = Scratch::new("resolve-dangling");
        // The image's link to a directory only the host would have.
        let target = format!("/hull-test-absent-{}", std::process::id());
        symlink(&target, root.join("data")).unwrap();
        let fd = root.open();
        create(
            fd.as_fd(),
            Path::new("/data/sub"),
            Kind::Dir,
            Symlinks::InRoot,
        )
        .unwrap();
        assert!(root.join(&target[1..]).join("sub").is_dir());
        assert!(!Path::new(&target).exists(), "made on the host");
        // A relative link is followed from its own directory.
        std::fs::create_dir(root.join("dir")).unwrap();
        symlink("../elsewhere", root.join("dir/rel")).unwrap();
        create(
            fd.as_fd(),
            Path::new("/dir/rel"),
            Kind::File,
            Symlinks::InRoot,
        )
        .unwrap();
        assert!(root.join("elsewhere").is_file());
    }

    #[test]
    fn with_symlinks_refused_nothing_is_made_through_one() {
        let root = Scratch::new("resolve-create-refuse");
        symlink("/target", root.join("link")).unwrap();
        let fd = root.open();
        let err = create(fd.as_fd(), Path::new("/link"), Kind::Dir, Symlinks::Refuse).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        assert!(!root.join("target").exists());
    }

    #[test]
    fn a_symlink_loop_fails_instead_of_recursing() {
        let root = Scratch::new("resolve-loop");
        symlink("/b", root.join("a")).unwrap();
        symlink("/a", root.join("b")).unwrap();
        let fd = root.open();
        let err = create(fd.as_fd(), Path::new("/a/x"), Kind::Dir, Symlinks::InRoot).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn fd_paths_name_the_descriptor() {
        let root = Scratch::new("resolve-fd-path");
        let fd = root.open();
        let path = fd_path(&fd);
        assert_eq!(
            path.to_str().unwrap(),
            format!("/proc/self/fd/{}", fd.as_raw_fd())
        );
        assert_eq!(
            ino_of(&std::fs::canonicalize(path.to_str().unwrap()).unwrap()),
            ino(&fd)
        );
    }
}
