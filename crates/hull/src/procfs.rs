//! Writing to `/proc` safely (CVE-2019-19921, CVE-2025-52881): every file is opened
//! below a `/proc` directory handle without following symlinks, and both the handle and
//! the file are checked to be on a real procfs before a byte is written.

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;

use crate::sys;

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
    /// Opens `/proc` as the calling process sees it and checks it is procfs.
    pub fn open() -> io::Result<Procfs> {
        let dir: OwnedFd = std::fs::File::open("/proc")?.into();
        check_procfs(&dir, Path::new("/proc"))?;
        Ok(Procfs { dir })
    }

    /// Writes `data` to `/proc/<rel>` in one `write`, refusing symlinks on the way (the
    /// names we write to never contain one) and files that are not on procfs.
    pub fn write(&self, rel: &str, data: &[u8]) -> io::Result<()> {
        let path = Path::new("/proc").join(rel);
        let c =
            std::ffi::CString::new(rel).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // NO_XDEV: a bind of another procfs file over the target is not followed.
        let resolve = libc::RESOLVE_BENEATH
            | libc::RESOLVE_NO_SYMLINKS
            | libc::RESOLVE_NO_MAGICLINKS
            | libc::RESOLVE_NO_XDEV;
        let fd = sys::openat2(
            self.dir.as_fd(),
            &c,
            (OFlag::O_WRONLY | OFlag::O_NOCTTY).bits(),
            0,
            resolve,
        )
        .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", path.display())))?;
        check_procfs(&fd, &path)?;
        let mut file = std::fs::File::from(fd);
        file.write_all(data)
            .map_err(|e| io::Error::new(e.kind(), format!("write {}: {e}", path.display())))
    }
}
