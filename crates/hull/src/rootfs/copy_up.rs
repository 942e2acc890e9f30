//! `tmpcopyup` (runc's mount extension, which podman uses for `--tmpfs` and
//! `--read-only`): a fresh tmpfs gets a copy of the directory it covers, with modes,
//! owners and times. Every step works on descriptors and never follows a symlink: the
//! copied tree is the image's, and a symlink in it is copied as a symlink.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{self, FileStat, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};

fn open_at(dir: BorrowedFd<'_>, name: &CStr, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )?;
    // SAFETY: openat just returned this descriptor; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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

/// Copies the contents of directory `from` into directory `to`.
pub fn copy_tree(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    let mut entries = Dir::openat(
        Some(from.as_raw_fd()),
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let names: Vec<_> = entries
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.to_bytes() != b"." && n.to_bytes() != b"..")
        .collect();
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
                let dst = open_at(to, name, dir_flags, 0)?;
                copy_tree(src.as_fd(), dst.as_fd())?;
            }
            SFlag::S_IFREG => {
                let src = open_at(from, name, OFlag::O_RDONLY, 0)?;
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
