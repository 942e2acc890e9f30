//! `tmpcopyup` (runc's mount extension, which podman uses for `--tmpfs` and
//! `--read-only`): a fresh tmpfs gets a copy of the directory it covers, with modes,
//! owners and times. Every step works on descriptors and never follows a symlink: the
//! copied tree is the image's, and a symlink in it is copied as a symlink.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{self, FileStat, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};

fn open_at(dir: BorrowedFd<'_>, name: &CStr, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
    crate::sys::openat(dir, name, (flags | OFlag::O_NOFOLLOW).bits(), mode)
}

/// Whether `fd` is still the entry `st` described (not swapped since).
fn same_file(fd: &OwnedFd, st: &FileStat) -> io::Result<()> {
    let now = stat::fstat(fd.as_raw_fd())?;
    if (now.st_dev, now.st_ino, now.st_mode & libc::S_IFMT)
        != (st.st_dev, st.st_ino, st.st_mode & libc::S_IFMT)
    {
        return Err(io::Error::other("changed while being copied"));
    }
    Ok(())
}

/// Owner, mode and times of `name` in `dir` as in `st` (the mode last: a chown clears
/// set-id bits).
fn keep_metadata(dir: BorrowedFd<'_>, name: &CStr, st: &FileStat, is_link: bool) -> io::Result<()> {
    let dirfd = Some(dir.as_raw_fd());
    nix::unistd::fchownat(
        dirfd,
        name,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    if !is_link {
        stat::fchmodat(
            dirfd,
            name,
            Mode::from_bits_truncate(st.st_mode),
            stat::FchmodatFlags::FollowSymlink,
        )?;
    }
    let atime = TimeSpec::new(st.st_atime, st.st_atime_nsec);
    let mtime = TimeSpec::new(st.st_mtime, st.st_mtime_nsec);
    stat::utimensat(
        dirfd,
        name,
        &atime,
        &mtime,
        stat::UtimensatFlags::NoFollowSymlink,
    )?;
    Ok(())
}

/// How deep a copied tree may go: an image's /run or /tmp is shallow, and a deeper one
/// is refused rather than allowed to exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Copies the contents of directory `from` into directory `to`.
pub fn copy_tree(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    copy_below(from, to, MAX_DEPTH)
}

fn copy_below(from: BorrowedFd<'_>, to: BorrowedFd<'_>, depth_left: usize) -> io::Result<()> {
    let Some(depth_left) = depth_left.checked_sub(1) else {
        return Err(io::Error::other(format!(
            "more than {MAX_DEPTH} directories deep"
        )));
    };
    let names = {
        let mut entries = Dir::openat(
            Some(from.as_raw_fd()),
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        let mut names = Vec::new();
        for entry in entries.iter() {
            let name = entry?.file_name().to_owned();
            if name.to_bytes() != b"." && name.to_bytes() != b".." {
                names.push(name);
            }
        }
        names
    };
    for name in &names {
        let st = stat::fstatat(
            Some(from.as_raw_fd()),
            name.as_c_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
        let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
        let to_raw = Some(to.as_raw_fd());
        match kind {
            SFlag::S_IFDIR => {
                stat::mkdirat(to_raw, name.as_c_str(), Mode::from_bits_truncate(0o700))?;
                let dir_flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
                let src = open_at(from, name, dir_flags, 0)?;
                same_file(&src, &st)?;
                let dst = open_at(to, name, dir_flags, 0)?;
                copy_below(src.as_fd(), dst.as_fd(), depth_left)?;
            }
            SFlag::S_IFREG => {
                // Non-blocking and checked: a fifo swapped in must not hang us, nor a
                // device be read.
                let src = open_at(from, name, OFlag::O_RDONLY | OFlag::O_NONBLOCK, 0)?;
                same_file(&src, &st)?;
                let dst = open_at(
                    to,
                    name,
                    OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
                    0o600,
                )?;
                io::copy(&mut std::fs::File::from(src), &mut std::fs::File::from(dst))?;
            }
            SFlag::S_IFLNK => {
                let target = nix::fcntl::readlinkat(Some(from.as_raw_fd()), name.as_c_str())?;
                nix::unistd::symlinkat(target.as_os_str(), to_raw, name.as_c_str())?;
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => {
                stat::mknodat(
                    to_raw,
                    name.as_c_str(),
                    kind,
                    Mode::from_bits_truncate(0o600),
                    st.st_rdev,
                )?;
            }
            // A socket is only a name without its listener: nothing to copy.
            _ => continue,
        }
        keep_metadata(to, name, &st, kind == SFlag::S_IFLNK)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn dir_fd(path: &std::path::Path) -> OwnedFd {
        std::fs::File::open(path).unwrap().into()
    }

    #[test]
    fn a_tree_is_copied_with_modes_times_and_links_as_links() {
        let src = Scratch::new("copy-up-from");
        let dst = Scratch::new("copy-up-to");
        let file = src.write("etc/conf", "settings");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(src.join("etc"), std::fs::Permissions::from_mode(0o751)).unwrap();
        let old = TimeSpec::new(1_000_000, 5);
        stat::utimensat(
            None,
            &file,
            &old,
            &old,
            stat::UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
        // A link to a host file: copied as the link, never followed.
        std::os::unix::fs::symlink("/etc/hostname", src.join("etc/link")).unwrap();
        nix::unistd::mkfifo(&src.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        std::fs::set_permissions(src.join("fifo"), std::fs::Permissions::from_mode(0o620)).unwrap();
        std::fs::create_dir(src.join("empty")).unwrap();

        copy_tree(dir_fd(src.path()).as_fd(), dir_fd(dst.path()).as_fd()).unwrap();

        assert_eq!(
            std::fs::read_to_string(dst.join("etc/conf")).unwrap(),
            "settings"
        );
        let meta = std::fs::metadata(dst.join("etc/conf")).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o640);
        assert_eq!((meta.mtime(), meta.mtime_nsec()), (1_000_000, 5));
        assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
        assert_eq!(
            std::fs::metadata(dst.join("etc")).unwrap().mode() & 0o7777,
            0o751
        );
        assert_eq!(
            std::fs::read_link(dst.join("etc/link")).unwrap(),
            std::path::Path::new("/etc/hostname")
        );
        let fifo = std::fs::symlink_metadata(dst.join("fifo")).unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
        assert_eq!(fifo.mode() & 0o7777, 0o620);
        assert!(dst.join("empty").is_dir());
    }

    #[test]
    fn a_tree_deeper_than_the_limit_is_refused() {
        let src = Scratch::new("copy-up-deep");
        let dst = Scratch::new("copy-up-deep-to");
        let deep = (0..MAX_DEPTH).fold(src.path().to_path_buf(), |p, _| p.join("d"));
        std::fs::create_dir_all(&deep).unwrap();
        let err = copy_tree(dir_fd(src.path()).as_fd(), dir_fd(dst.path()).as_fd()).unwrap_err();
        assert!(err.to_string().contains("directories deep"), "{err}");
        // One level less is fine.
        std::fs::remove_dir(&deep).unwrap();
        let dst = Scratch::new("copy-up-deep-ok");
        copy_tree(dir_fd(src.path()).as_fd(), dir_fd(dst.path()).as_fd()).unwrap();
    }
}
