//! Writing to `/proc` safely (CVE-2019-19921, CVE-2025-52881): every file is opened
//! below a `/proc` directory handle without following symlinks or crossing a mount,
//! and both the handle and the file are checked to be on a real procfs before a byte
//! is written.
//!
//! A process hull puts in a container opens its handle first thing, while `/proc` is
//! still the host's (before it joins or builds any of the container's mounts), and
//! uses it to the end: whatever the container's `/proc` is, or whatever a running
//! container mounts over it, hull's writes never go through it. Files of the process
//! itself are reached by the pid this procfs knows it by (its `self` link), which is
//! right whichever pid namespace the process has entered since.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;

use crate::sys;

/// Reads a generated `/proc` file (one that says its size is 0) with one `read` where
/// it fits in 16 KiB: std's `read_to_string` would start at 32 bytes and double, and
/// the kernel makes each such read walk its lists again.
pub fn read_generated(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut text = String::with_capacity(16 * 1024);
    std::fs::File::open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

fn check_procfs(fd: &impl AsFd, what: &Path) -> io::Result<()> {
    let st = nix::sys::statfs::fstatfs(fd.as_fd()).map_err(io::Error::from)?;
    if st.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
        return Err(io::Error::other(format!(
            "{} is not on procfs",
            what.display()
        )));
    }
    Ok(())
}

/// A verified handle on a procfs mount.
pub struct Procfs {
    dir: OwnedFd,
}

impl Procfs {
    /// Opens `/proc` as the calling process sees it and checks it is procfs: a detached
    /// copy of that mount without anything mounted inside it (a host's `/proc/sys`
    /// may carry read-only binds, as LXC makes them), or where the kernel refuses that
    /// copy (in a user namespace, over locked mounts) the mount itself.
    pub fn open() -> io::Result<Procfs> {
        let dir = match sys::open_tree_clone(c"/proc") {
            Ok(dir) => dir,
            Err(_) => sys::open_path(Path::new("/proc"), libc::O_DIRECTORY)?,
        };
        check_procfs(&dir, Path::new("/proc"))?;
        Ok(Procfs { dir })
    }

    /// Opens `/proc/<rel>` with `flags`, refusing symlinks on the way (the names we
    /// open never contain one), mounts crossed (a bind of another file over the target)
    /// and files that are not on procfs.
    fn open_beneath(&self, rel: &str, flags: OFlag) -> io::Result<OwnedFd> {
        let path = Path::new("/proc").join(rel);
        let c =
            std::ffi::CString::new(rel).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let resolve = libc::RESOLVE_BENEATH
            | libc::RESOLVE_NO_SYMLINKS
            | libc::RESOLVE_NO_MAGICLINKS
            | libc::RESOLVE_NO_XDEV;
        let fd = sys::openat2(
            self.dir.as_fd(),
            &c,
            (flags | OFlag::O_CLOEXEC).bits(),
            0,
            resolve,
        )
        .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", path.display())))?;
        check_procfs(&fd, &path)?;
        Ok(fd)
    }

    /// Writes `data` to `/proc/<rel>` in one `write`.
    pub fn write(&self, rel: &str, data: &[u8]) -> io::Result<()> {
        let mut file =
            std::fs::File::from(self.open_beneath(rel, OFlag::O_WRONLY | OFlag::O_NOCTTY)?);
        file.write_all(data)
            .map_err(|e| io::Error::new(e.kind(), format!("write /proc/{rel}: {e}")))
    }

    /// The calling process's directory in this procfs (`<pid>`, as this procfs's pid
    /// namespace numbers it), read from `self` at the time of the call.
    fn own_dir(&self) -> io::Result<String> {
        let link =
            nix::fcntl::readlinkat(Some(self.dir.as_raw_fd()), "self").map_err(io::Error::from)?;
        link.into_string()
            .map_err(|_| io::Error::other("/proc/self is not a pid"))
    }

    /// Writes `data` to the calling process's own `/proc/<pid>/<rel>`.
    pub fn write_own(&self, rel: &str, data: &[u8]) -> io::Result<()> {
        self.write(&format!("{}/{rel}", self.own_dir()?), data)
    }

    /// The calling process's `fd` directory (`/proc/<pid>/fd`), opened now: later
    /// steps may run under a seccomp profile older than `openat2`.
    pub fn own_fds(&self) -> io::Result<OwnFds> {
        let dir = self.open_beneath(
            &format!("{}/fd", self.own_dir()?),
            OFlag::O_PATH | OFlag::O_DIRECTORY,
        )?;
        Ok(OwnFds(dir))
    }
}

/// A process's verified `/proc/<pid>/fd` directory (see [`Procfs::own_fds`]).
pub struct OwnFds(OwnedFd);

impl OwnFds {
    /// Opens what descriptor `fd` refers to anew, with `flags`: the one magic link
    /// followed, from the verified directory.
    pub fn reopen(&self, fd: BorrowedFd<'_>, flags: OFlag) -> io::Result<OwnedFd> {
        let name = std::ffi::CString::new(fd.as_raw_fd().to_string()).expect("a number");
        sys::openat(self.0.as_fd(), &name, flags.bits(), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;
    use std::io::Read;

    #[test]
    fn only_procfs_passes_the_check() {
        let proc = std::fs::File::open("/proc").unwrap();
        assert!(check_procfs(&proc, Path::new("/proc")).is_ok());
        let dir = Scratch::new("procfs-check");
        let not = std::fs::File::open(dir.path()).unwrap();
        let err = check_procfs(&not, dir.path()).unwrap_err();
        assert!(err.to_string().contains("is not on procfs"), "{err}");
    }

    #[test]
    fn its_own_directory_is_this_process() {
        let proc = Procfs::open().unwrap();
        assert_eq!(proc.own_dir().unwrap(), std::process::id().to_string());
    }

    #[test]
    fn symlinks_on_the_way_are_refused() {
        let proc = Procfs::open().unwrap();
        // The error keeps the kind of the errno, with the path in its text.
        let kind = |errno| io::Error::from_raw_os_error(errno).kind();
        // `self` is a symlink: a write through it never happens.
        let err = proc
            .open_beneath("self/status", OFlag::O_RDONLY)
            .err()
            .unwrap();
        assert_eq!(err.kind(), kind(libc::ELOOP), "{err}");
        assert!(
            err.to_string().starts_with("open /proc/self/status: "),
            "{err}"
        );
        // Nor out of /proc.
        let err = proc
            .open_beneath("../etc/hostname", OFlag::O_RDONLY)
            .err()
            .unwrap();
        assert_eq!(err.kind(), kind(libc::EXDEV), "{err}");
        let own = format!("{}/status", proc.own_dir().unwrap());
        assert!(proc.open_beneath(&own, OFlag::O_RDONLY).is_ok());
    }

    #[test]
    fn a_descriptor_is_reopened_through_the_verified_fd_directory() {
        let dir = Scratch::new("procfs-reopen");
        let path = dir.write("file", "contents");
        let held = std::fs::File::options().append(true).open(&path).unwrap();
        let fds = Procfs::open().unwrap().own_fds().unwrap();
        let mut again = std::fs::File::from(fds.reopen(held.as_fd(), OFlag::O_RDONLY).unwrap());
        let mut text = String::new();
        again.read_to_string(&mut text).unwrap();
        assert_eq!(text, "contents");
    }
}
