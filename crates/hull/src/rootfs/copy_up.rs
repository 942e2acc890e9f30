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
