//! `/dev` inside the container: the default device nodes runc creates (null, zero,
//! full, tty, random, urandom), the configured ones, the standard symlinks, and a
//! verified `/dev/null` for masking (CVE-2025-31133).

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag};

use super::resolve::{self, fd_path, Kind, Symlinks};
use super::{err, mount, Result};
use crate::config::Device;

/// The devices every container gets unless its `/dev` is a bind mount.
fn default_devices() -> impl Iterator<Item = Device> {
    [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ]
    .into_iter()
    .map(|(name, major, minor)| Device {
        path: PathBuf::from("/dev").join(name),
        kind: libc::S_IFCHR,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
}

/// Creates the configured devices, plus the defaults (unless configured otherwise) when
/// `with_defaults`. In a user namespace, where `mknod` is not allowed, the
/// host's node is bound instead.
pub fn create_devices(
    root: BorrowedFd<'_>,
    devices: &[Device],
    with_defaults: bool,
    in_userns: bool,
) -> Result<()> {
    let defaults =
        default_devices().filter(|d| with_defaults && !devices.iter().any(|c| c.path == d.path));
    for dev in devices.iter().cloned().chain(defaults) {
        let parent_path = dev.path.parent().unwrap_or(Path::new("/"));
        let name = dev.path.file_name().ok_or_else(|| {
            err("create device", &dev.path)(std::io::Error::from_raw_os_error(libc::EINVAL))
        })?;
        let parent = resolve::create(root, parent_path, Kind::Dir, Symlinks::InRoot)
            .map_err(err("create directory for device", &dev.path))?;
        let dirfd = Some(parent.as_raw_fd());
        // Whatever the image had there is replaced by the node we make.
        let _ = nix::unistd::unlinkat(dirfd, name, nix::unistd::UnlinkatFlags::NoRemoveDir);
        if in_userns {
            let node = resolve::create(root, &dev.path, Kind::File, Symlinks::InRoot)
                .map_err(err("create device mount point", &dev.path))?;
            let host = std::fs::File::options()
                .read(true)
                .custom_flags(libc::O_PATH)
                .open(&dev.path)
                .map_err(err("open host device", &dev.path))?;
            mount(
                Some(&fd_path(&host)),
                &fd_path(&node),
                None,
                libc::MS_BIND,
                None,
            )
            .map_err(err("bind-mount device", &dev.path))?;
            continue;
        }
        let kind = SFlag::from_bits_truncate(dev.kind);
        nix::sys::stat::mknodat(
            dirfd,
            name,
            kind,
            Mode::from_bits_truncate(dev.mode),
            nix::sys::stat::makedev(dev.major, dev.minor),
        )
        .map_err(err("mknod", &dev.path))?;
        nix::unistd::fchownat(
            dirfd,
            name,
            Some(dev.uid.into()),
            Some(dev.gid.into()),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(err("chown", &dev.path))?;
    }
    Ok(())
}

use std::os::unix::fs::OpenOptionsExt;

/// The symlinks of a standard `/dev`.
pub fn create_links(root: BorrowedFd<'_>) -> Result<()> {
    let dev = resolve::open(
        root,
        Path::new("/dev"),
        OFlag::O_PATH | OFlag::O_DIRECTORY,
        Symlinks::InRoot,
    )
    .map_err(err("open", Path::new("/dev")))?;
    let mut links = vec![
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("core", "/proc/kcore"));
    }
    for (name, target) in links {
        let dirfd = Some(dev.as_raw_fd());
        if name == "ptmx" {
            let _ = nix::unistd::unlinkat(dirfd, name, nix::unistd::UnlinkatFlags::NoRemoveDir);
        }
        match nix::unistd::symlinkat(target, dirfd, name) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(err("symlink", &Path::new("/dev").join(name))(e)),
        }
    }
    Ok(())
}

/// Opens the container's `/dev/null` and checks it really is the null device (char
/// 1:3), so that masking never binds something the image put there instead. A
/// symlinked `/dev` is followed inside the root; `/dev/null` itself is not followed.
pub fn verified_dev_null(root: BorrowedFd<'_>) -> Result<OwnedFd> {
    let path = Path::new("/dev/null");
    let fd = resolve::open(
        root,
        path,
        OFlag::O_PATH | OFlag::O_NOFOLLOW,
        Symlinks::InRoot,
    )
    .map_err(err("open", path))?;
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(err("stat", path))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != nix::sys::stat::makedev(1, 3) {
        return Err(err("verify", path)(std::io::Error::other(
            "not the null device (char 1:3)",
        )));
    }
    Ok(fd)
}
