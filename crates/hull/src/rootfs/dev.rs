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
            let host =
                crate::sys::open_path(&dev.path, 0).map_err(err("open host device", &dev.path))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;
    use std::os::fd::AsFd;

    #[test]
    fn the_default_devices_are_runcs() {
        let devices: Vec<Device> = default_devices().collect();
        let found: Vec<(String, u64, u64)> = devices
            .iter()
            .map(|d| (d.path.display().to_string(), d.major, d.minor))
            .collect();
        let expected = [
            ("/dev/null", 1, 3),
            ("/dev/zero", 1, 5),
            ("/dev/full", 1, 7),
            ("/dev/random", 1, 8),
            ("/dev/urandom", 1, 9),
            ("/dev/tty", 5, 0),
        ]
        .map(|(p, a, b)| (p.to_string(), a, b));
        assert_eq!(found, expected);
        for d in &devices {
            assert_eq!(d.kind, libc::S_IFCHR, "{}", d.path.display());
            assert_eq!((d.mode, d.uid, d.gid), (0o666, 0, 0));
        }
    }

    #[test]
    fn the_standard_links_are_made_and_ptmx_replaced() {
        let root = Scratch::new("dev-links");
        root.write("dev/ptmx", "a file the image put there");
        std::os::unix::fs::symlink("/somewhere", root.join("dev/stdin")).unwrap();
        create_links(root.open().as_fd()).unwrap();
        let link = |name: &str| {
            std::fs::read_link(root.join("dev").join(name))
                .unwrap()
                .display()
                .to_string()
        };
        assert_eq!(link("fd"), "/proc/self/fd");
        assert_eq!(link("stdout"), "/proc/self/fd/1");
        assert_eq!(link("stderr"), "/proc/self/fd/2");
        assert_eq!(link("ptmx"), "pts/ptmx");
        // An existing link other than ptmx is the image's and stays.
        assert_eq!(link("stdin"), "/somewhere");
        // Missing /dev: an error, not a link made elsewhere.
        let empty = Scratch::new("dev-links-none");
        assert!(create_links(empty.open().as_fd()).is_err());
    }

    #[test]
    fn only_the_real_null_device_is_used_for_masking() {
        let root = Scratch::new("dev-null");
        let missing = verified_dev_null(root.open().as_fd()).unwrap_err();
        assert_eq!(missing.source.raw_os_error(), Some(libc::ENOENT));
        // A planted regular file.
        root.write("dev/null", "");
        let err = verified_dev_null(root.open().as_fd()).unwrap_err();
        assert!(err.to_string().contains("not the null device"), "{err}");
        // A link to the host's null device: not followed.
        std::fs::remove_file(root.join("dev/null")).unwrap();
        std::os::unix::fs::symlink("/dev/null", root.join("dev/null")).unwrap();
        let err = verified_dev_null(root.open().as_fd()).unwrap_err();
        assert!(err.to_string().contains("not the null device"), "{err}");
        // The host's own /dev/null passes.
        let host = Scratch::open_path(Path::new("/"));
        assert!(verified_dev_null(host.as_fd()).is_ok());
    }
}
