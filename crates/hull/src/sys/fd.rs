//! Descriptors: opening below a directory (`openat2`), close-on-exec and closing
//! ranges, memfds, eventfds, inotify, locks, duplicates, and those that arrive over a
//! socket. Every descriptor the kernel makes for us becomes an `OwnedFd` at once.

use std::ffi::CStr;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{check, OnlyThread};

/// `openat2(2)`: resolve `path` below `dirfd` under the given `RESOLVE_*` rules.
pub fn openat2(
    dirfd: BorrowedFd<'_>,
    path: &CStr,
    flags: libc::c_int,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    openat2_from(dirfd.as_raw_fd(), path, flags, mode, resolve)
}

/// Plain `openat(2)` (close-on-exec; `mode` for a file it creates), for where a
/// seccomp profile older than `openat2` already holds, or no resolve rule is needed.
pub fn openat(
    dirfd: BorrowedFd<'_>,
    path: &CStr,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<OwnedFd> {
    // SAFETY: openat with a NUL-terminated path; returns a new descriptor or -1.
    let fd = unsafe {
        libc::openat(
            dirfd.as_raw_fd(),
            path.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    check(fd as libc::c_long)?;
    // SAFETY: the kernel just gave us this descriptor and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The current directory as a directory handle for the `*at` calls: they resolve a
/// relative path from it and take an absolute one as it is.
pub fn cwd() -> BorrowedFd<'static> {
    // SAFETY: AT_FDCWD is no descriptor but the value every `*at` call takes for "the
    // current directory"; a BorrowedFd never closes it, and it is only passed as a dirfd.
    unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) }
}

/// An `O_PATH` descriptor of `path` (close-on-exec, with the extra `flags`): a handle
/// that opens nothing, so it never blocks on a FIFO nor opens a device. Not through
/// std's `custom_flags`, which masks `O_ACCMODE` off, and musl's `O_ACCMODE` includes
/// `O_PATH`.
pub fn open_path(path: &std::path::Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    open_at(cwd(), path, flags | libc::O_PATH)
}

/// `openat(dirfd, path, flags | O_CLOEXEC)`. Not std's `File::open`, which is musl's
/// `open`: that follows every close-on-exec open with an `fcntl(F_SETFD)` (for kernels
/// before 2.6.23), a system call per file for nothing.
pub fn open_at(
    dirfd: BorrowedFd<'_>,
    path: &std::path::Path,
    flags: libc::c_int,
) -> io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    openat(dirfd, &path, flags, 0)
}

/// `fstatat(dirfd, path)`, following a symlink at the end as `stat` does.
pub fn stat_at(
    dirfd: BorrowedFd<'_>,
    path: &std::path::Path,
) -> io::Result<nix::sys::stat::FileStat> {
    nix::sys::stat::fstatat(Some(dirfd.as_raw_fd()), path, nix::fcntl::AtFlags::empty())
        .map_err(io::Error::from)
}

/// `f` of the whole of a small file: a regular file, or one the kernel generates in one
/// go (`/proc/<pid>/stat`, a cgroup's one-line files). It is read into a buffer on the
/// stack (16 KiB; a bigger file goes on on the heap), and a `read` that comes back short
/// ends it, which for those files means the end: no `fstat` for the size, no second
/// `read` for the end, no heap buffer (`std::fs::read` makes all three, and musl's
/// allocator maps and unmaps a buffer of a state file's size each time), no `fcntl`
/// (see [`open_at`]).
pub fn with_small_file<T>(path: &std::path::Path, f: impl FnOnce(&[u8]) -> T) -> io::Result<T> {
    with_small_file_at(cwd(), path, f)
}

/// [`with_small_file`] of `path` below `dirfd`.
pub fn with_small_file_at<T>(
    dirfd: BorrowedFd<'_>,
    path: &std::path::Path,
    f: impl FnOnce(&[u8]) -> T,
) -> io::Result<T> {
    let mut file = std::fs::File::from(open_at(dirfd, path, libc::O_RDONLY)?);
    let mut stack = [0u8; 16 * 1024];
    let len = fill(&mut file, &mut stack)?;
    if len < stack.len() {
        return Ok(f(&stack[..len]));
    }
    let mut heap = stack.to_vec();
    loop {
        let len = heap.len();
        heap.resize(len * 2, 0);
        let more = fill(&mut file, &mut heap[len..])?;
        heap.truncate(len + more);
        if len + more < len * 2 {
            return Ok(f(&heap));
        }
    }
}

/// Reads into `buf` until it is full or a `read` comes back short; how much was read.
fn fill(file: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) if len + n < buf.len() => return Ok(len + n),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// `openat2(2)` of an absolute path (or one from the current directory).
pub fn openat2_path(path: &CStr, flags: libc::c_int, resolve: u64) -> io::Result<OwnedFd> {
    openat2_from(libc::AT_FDCWD, path, flags, 0, resolve)
}

fn openat2_from(
    dirfd: RawFd,
    path: &CStr,
    flags: libc::c_int,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain data; all zeroes is its empty value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = mode as u64;
    how.resolve = resolve;
    // SAFETY: `how` is a valid open_how of the size passed; the path is NUL-terminated.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirfd,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })?;
    // SAFETY: the kernel just gave us this descriptor and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Marks every descriptor from `first` on close-on-exec, so that `execve` leaves the new
/// program exactly the descriptors below `first` (CVE-2024-21626).
///
/// This runs under the container's seccomp filter, and a profile older than
/// close_range (Linux 5.9) refuses it: then every descriptor number up to the hard
/// limit is marked with fcntl, which every profile allows (the container's /proc
/// cannot be trusted to list them).
pub fn cloexec_from(first: RawFd) -> io::Result<()> {
    // SAFETY: close_range only flips flags on our own descriptor table.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if ret == 0 {
        return Ok(());
    }
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_err(io::Error::from)?;
    // The kernel's own ceiling (fs.nr_open defaults to 2^20) bounds the loop.
    let last = hard.min(1 << 20) as RawFd;
    for fd in first..last {
        // SAFETY: fcntl on our own descriptor table; a number not open is EBADF.
        let ret = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        if ret < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EBADF) {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Closes every descriptor from 3 up except those in `keep`: a forked child drops
/// what it inherited by accident (a caller's descriptors, our lock on the container).
/// Only a forked child may: what it closes belongs to the parent's copied state, which
/// the child never uses or drops (it execs or exits at once).
pub fn close_all_except(_: &OnlyThread, keep: &mut [RawFd]) -> io::Result<()> {
    keep.sort_unstable();
    let mut first: RawFd = 3;
    for &fd in keep.iter().chain(std::iter::once(&RawFd::MAX)) {
        if fd > first {
            // SAFETY: close_range on our own descriptor table.
            let ret = unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    first as libc::c_uint,
                    (fd - 1) as libc::c_uint,
                    0 as libc::c_uint,
                )
            };
            check(ret)?;
        }
        first = first.max(fd.saturating_add(1));
    }
    Ok(())
}

/// An anonymous close-on-exec file in memory (`memfd_create(2)`).
pub fn memfd(name: &str) -> io::Result<OwnedFd> {
    memfd_with(name, libc::MFD_CLOEXEC)
}

/// Like [`memfd`], and its contents can be sealed (`F_ADD_SEALS`).
pub fn memfd_sealable(name: &str) -> io::Result<OwnedFd> {
    memfd_with(name, libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
}

fn memfd_with(name: &str, flags: libc::c_uint) -> io::Result<OwnedFd> {
    let name =
        std::ffi::CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: memfd_create with a NUL-terminated name.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A close-on-exec `eventfd(2)` counter starting at 0.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An inotify descriptor watching `path` for `mask` events.
pub fn inotify_watch(path: &CStr, mask: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with an integer argument.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: the path is NUL-terminated and alive for the call.
    if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Has `command` move descriptors to the numbers it expects between fork and exec:
/// each (from, to) is dup2'ed, `to` left without close-on-exec. Every `from` must be
/// above every `to`.
pub fn set_child_fds(command: &mut std::process::Command, fds: Vec<(RawFd, RawFd)>) {
    use std::os::unix::process::CommandExt;
    let run = move || -> io::Result<()> {
        for &(from, to) in &fds {
            // SAFETY: dup2 on descriptors of the child's own table.
            check(unsafe { libc::dup2(from, to) } as libc::c_long)?;
        }
        Ok(())
    };
    // SAFETY: the closure makes system calls only (no allocation, no lock), so it is
    // safe in the child of a multi-threaded parent.
    unsafe { command.pre_exec(run) };
}

/// A duplicate of `fd` (close-on-exec) numbered `min` or above.
pub fn dup_above(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    let new = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::F_DUPFD_CLOEXEC(min))?;
    // SAFETY: fcntl just made this descriptor for us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// `flock(2)` on `fd` with `LOCK_*` operation `op`.
pub fn flock(fd: BorrowedFd<'_>, op: libc::c_int) -> io::Result<()> {
    // SAFETY: flock with integer arguments on a descriptor we hold.
    check(unsafe { libc::flock(fd.as_raw_fd(), op) } as libc::c_long).map(drop)
}

/// Receives one message into `buf` (`recvmsg(2)`, retried on EINTR): its length (with
/// `MSG_TRUNC`, the whole message's) and the descriptors attached to it, close-on-exec.
pub fn recv_with_fds(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_TRUNC,
        ) {
            Ok(msg) => break msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let mut fds = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = cmsg {
            // SAFETY: the kernel installed these descriptors for us in this very
            // recvmsg; nothing else knows their numbers.
            fds.extend(
                raw.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    Ok((msg.bytes, fds))
}
