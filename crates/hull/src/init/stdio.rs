//! Init's stdio inside the container: whichever of fds 0-2 is the host's `/dev/null`
//! is swapped for the container's own, as runc does, so the container holds no file of
//! a host mount it cannot see (CRIU could not checkpoint it: "Can't lookup mount").

use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use nix::fcntl::{fcntl, FcntlArg};
use nix::sys::stat::{fstat, major, minor, FileStat, SFlag};

use super::error::{refused, InitResult, Step};

fn is_null_device(stat: &FileStat) -> bool {
    SFlag::from_bits_truncate(stat.st_mode & libc::S_IFMT) == SFlag::S_IFCHR
        && major(stat.st_rdev) == 1
        && minor(stat.st_rdev) == 3
}

/// Reopens each stdio descriptor that is a null device other than the container's
/// `/dev/null` from the container's (checked to be the null device, never a planted
/// file), with the same access mode. Called after pivot_root, in a mount namespace of
/// the container's own.
pub fn reopen_dev_null() -> InitResult<()> {
    for fd in 0..=2 {
        let Ok(stat) = fstat(fd) else { continue };
        if !is_null_device(&stat) {
            continue;
        }
        let access = fcntl(fd, FcntlArg::F_GETFL).step(format!("fd {fd}"))? & libc::O_ACCMODE;
        let null = std::fs::File::options()
            .read(access != libc::O_WRONLY)
            .write(access != libc::O_RDONLY)
            .custom_flags(libc::O_NOFOLLOW)
            .open("/dev/null")
            .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL)))
            .step("open the container's /dev/null")?;
        let ours = fstat(null.as_raw_fd()).step("fstat /dev/null")?;
        if !is_null_device(&ours) {
            return refused("the container's /dev/null is not the null device");
        }
        if (ours.st_dev, ours.st_ino) != (stat.st_dev, stat.st_ino) {
            nix::unistd::dup2(null.as_raw_fd(), fd).step(format!("dup2 to fd {fd}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_of(path: &str) -> FileStat {
        nix::sys::stat::stat(path).unwrap()
    }

    #[test]
    fn only_char_1_3_is_the_null_device() {
        assert!(is_null_device(&stat_of("/dev/null")));
        // Another memory device (1:5), a directory, a regular file.
        assert!(!is_null_device(&stat_of("/dev/zero")));
        assert!(!is_null_device(&stat_of("/dev")));
        assert!(!is_null_device(&stat_of("/proc/self/status")));
    }
}
