//! Thin, safe wrappers over the Linux system calls that neither `nix` nor the standard
//! library offer: `clone3`, `openat2`, `close_range`, the mount API (`open_tree`,
//! `move_mount`, `fsopen`, `mount_setattr`, idmapping), pidfds, and capability sets. Every `unsafe` block of the crate that is not a plain `nix` call
//! lives here, each one small and explained.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `CLONE_INTO_CGROUP` (libc's constant has too narrow a type).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// What `clone3` returned: we are either the parent (with the child's pid) or the child.
pub enum Forked {
    Parent(libc::pid_t),
    Child,
}

/// `clone3` without a new stack: fork semantics plus namespace flags and, on cgroup v2,
/// `CLONE_INTO_CGROUP` so the child is born inside its cgroup. Falls back to `clone` when
/// the kernel (or a seccomp filter around us) answers ENOSYS.
///
/// The child is a copy of the calling thread only; see the crate docs on threads.
///
/// # Safety
/// In a process with other threads the child may find a lock (the allocator's, say)
/// held forever by a thread it does not have: the caller must be single-threaded, or
/// the child must call only async-signal-safe functions until it execs or exits.
pub unsafe fn clone3(flags: u64, cgroup_fd: Option<RawFd>) -> io::Result<Forked> {
    // SAFETY: clone_args is plain integers, for which all-zero is a valid value.
    let mut args: libc::clone_args = unsafe { std::mem::zeroed() };
    args.flags = flags;
    // A sibling (CLONE_PARENT) signals its parent as we do ours; clone3 wants 0 then.
    if flags & libc::CLONE_PARENT as u64 == 0 {
        args.exit_signal = libc::SIGCHLD as u64;
    }
    if let Some(fd) = cgroup_fd {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd as u64;
    }
    // SAFETY: clone3 without CLONE_VM and with a null stack behaves like fork: the child
    // gets a copy of the address space and continues here with a return value of 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const libc::clone_args,
            std::mem::size_of::<libc::clone_args>(),
        )
    };
    let ret = match check(ret) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) && cgroup_fd.is_none() => {
            // SAFETY: as above; the legacy clone with a null stack is fork with flags.
            check(unsafe {
                libc::syscall(
                    libc::SYS_clone,
                    flags | libc::SIGCHLD as u64,
                    0usize,
                    0usize,
                    0usize,
                    0usize,
                )
            })?
        }
        other => other?,
    };
    Ok(if ret == 0 {
        Forked::Child
    } else {
        Forked::Parent(ret as libc::pid_t)
    })
}

/// glibc's `fork()`: slower than [`clone3`] but it runs the atfork handlers, which
/// make the allocator usable in the child of a multi-threaded process.
///
/// # Safety
/// The child must not return into code that expects the caller's other threads (it
/// has none of them): it must exec or exit.
pub unsafe fn fork_with_handlers() -> io::Result<Forked> {
    // SAFETY: fork; the caller guarantees the child execs or exits.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// How many threads the calling process has (`Threads:` of /proc/self/status).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(1)
}

/// Forks a sibling: the child's parent is our own parent (`CLONE_PARENT`), so that the
/// program that made us can wait for it (the second fork, that really enters a pid or
/// time namespace: the container's process is then the caller's child, not grandchild).
///
/// # Safety
/// As [`clone3`]; we are single-threaded where hull calls it (a forked child).
pub unsafe fn fork_sibling() -> io::Result<Forked> {
    // SAFETY: the caller's guarantee is ours to pass on.
    unsafe { clone3(libc::CLONE_PARENT as u64, None) }
}

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

/// Plain `openat(2)`, for where a seccomp profile older than `openat2` already holds.
pub fn openat(dirfd: BorrowedFd<'_>, path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: openat with a NUL-terminated path; returns a new descriptor or -1.
    let fd = unsafe { libc::openat(dirfd.as_raw_fd(), path.as_ptr(), flags | libc::O_CLOEXEC) };
    check(fd as libc::c_long)?;
    // SAFETY: the kernel just gave us this descriptor and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
pub fn close_all_except(keep: &mut [RawFd]) -> io::Result<()> {
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

const OPEN_TREE_CLONE: libc::c_uint = 1;

/// `open_tree(dirfd, path, OPEN_TREE_CLONE | flags)`; returns the new descriptor.
fn open_tree(dirfd: RawFd, path: &CStr, flags: libc::c_uint) -> io::Result<OwnedFd> {
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | flags;
    // SAFETY: open_tree with a NUL-terminated path; returns a new descriptor or -1.
    let fd = check(unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) })?;
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `open_tree(path, OPEN_TREE_CLONE)`: a detached copy of the mount of `path`, in no
/// namespace, gone when the last reference goes.
pub fn open_tree_clone(path: &CStr) -> io::Result<OwnedFd> {
    open_tree(libc::AT_FDCWD, path, 0)
}

/// A detached bind mount of what `fd` refers to (a file or a directory; with
/// `recursive`, the mounts below it too), made from the descriptor itself: no path is
/// resolved, through `/proc` or anything else the container could have shaped.
pub fn clone_mount(fd: BorrowedFd<'_>, recursive: bool) -> io::Result<OwnedFd> {
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    open_tree(fd.as_raw_fd(), c"", flags)
}

/// `move_mount(2)` of the detached mount `mount` onto what `target` refers to, both by
/// descriptor.
pub fn move_mount_onto(mount: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
    const F_EMPTY_PATH: libc::c_uint = 0x4;
    const T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: move_mount with two descriptors we hold and empty NUL-terminated paths.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mount.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            F_EMPTY_PATH | T_EMPTY_PATH,
        )
    };
    check(ret).map(drop)
}

/// A new, empty, detached tmpfs mount (`fsopen` + `fsmount`), read-only if asked, to be
/// put in place with [`move_mount_onto`].
pub fn new_tmpfs(readonly: bool) -> io::Result<OwnedFd> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: libc::c_uint = 1;
    // SAFETY: fsopen with a NUL-terminated filesystem name; a new descriptor or -1.
    let fs = check(unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC) })?;
    // SAFETY: a fresh descriptor nobody else owns.
    let fs = unsafe { OwnedFd::from_raw_fd(fs as RawFd) };
    // SAFETY: FSCONFIG_CMD_CREATE takes no key, value or aux.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    let attrs = if readonly { MOUNT_ATTR_RDONLY } else { 0 };
    // SAFETY: fsmount of the filesystem context we made; a new descriptor or -1.
    let mount =
        check(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })?;
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(mount as RawFd) })
}

/// The kernel's `struct mount_attr`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(2)` on the mount that `fd` refers to: set and clear `MOUNT_ATTR_*` bits,
/// on the whole subtree when `recursive`.
pub fn mount_setattr(fd: BorrowedFd<'_>, set: u64, clear: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    setattr(fd, &attr, recursive)
}

/// Idmaps the detached mount `fd` (and with `recursive` every mount below it) through
/// the user namespace `userns`: `MOUNT_ATTR_IDMAP`.
pub fn mount_setattr_idmap(
    fd: BorrowedFd<'_>,
    userns: BorrowedFd<'_>,
    recursive: bool,
) -> io::Result<()> {
    const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    setattr(fd, &attr, recursive)
}

/// Sets the propagation type (`MS_SLAVE`, `MS_PRIVATE`, ...) of the mount `fd`, and
/// with `recursive` of every mount below it.
pub fn mount_setattr_propagation(
    fd: BorrowedFd<'_>,
    propagation: u64,
    recursive: bool,
) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: 0,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    };
    setattr(fd, &attr, recursive)
}

fn setattr(fd: BorrowedFd<'_>, attr: &MountAttr, recursive: bool) -> io::Result<()> {
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `attr` is a valid mount_attr of the size passed, the path is the empty string.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check(ret).map(drop)
}

/// A child parked in a new user namespace with no maps yet, for the caller to write
/// them and take the namespace: it only waits to be killed (and dies with the
/// caller). The caller kills and reaps it.
pub fn park_in_new_userns() -> io::Result<libc::pid_t> {
    // SAFETY: the child makes only async-signal-safe calls (below) and never returns.
    match unsafe { clone3(libc::CLONE_NEWUSER as u64, None) }? {
        Forked::Parent(pid) => Ok(pid),
        Forked::Child => {
            // SAFETY: plain syscalls, nothing that allocates or locks: safe in the child
            // of a multi-threaded caller. pause() only returns for a handled signal,
            // and the child handles none it is sent.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                loop {
                    libc::pause();
                }
            }
        }
    }
}

/// `pidfd_open(2)`: a handle on a process that cannot be confused with a later one that
/// reuses its pid.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(2)`.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: plain syscall; a null siginfo means "as kill(2) would send it".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    check(ret).map(drop)
}

/// Waits until the process behind `pidfd` has exited (the pidfd becomes readable), at
/// most `timeout_ms` (0: just look); true if it has.
pub fn pidfd_wait_exit(pidfd: BorrowedFd<'_>, timeout_ms: u16) -> bool {
    let mut fds = [nix::poll::PollFd::new(pidfd, nix::poll::PollFlags::POLLIN)];
    matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(timeout_ms)), Ok(n) if n > 0)
}

/// The three capability sets of `capset(2)`, as 64-bit masks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `capset(2)` on the calling thread.
pub fn capset(sets: CapSets) -> io::Result<()> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |m: u64| [m as u32, (m >> 32) as u32];
    let (e, p, i) = (
        split(sets.effective),
        split(sets.permitted),
        split(sets.inheritable),
    );
    let data = [
        CapData {
            effective: e[0],
            permitted: p[0],
            inheritable: i[0],
        },
        CapData {
            effective: e[1],
            permitted: p[1],
            inheritable: i[1],
        },
    ];
    // SAFETY: header and two data structs, as version 3 of the ABI requires.
    let ret =
        unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) };
    check(ret).map(drop)
}

/// Brings the network namespace's loopback interface up (as runc's "loopback"
/// network does for a new network namespace).
pub fn loopback_up() -> io::Result<()> {
    /// `struct ifreq` with the flags member of its union.
    #[repr(C)]
    struct IfreqFlags {
        name: [u8; 16],
        flags: libc::c_short,
        _pad: [u8; 22],
    }
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = IfreqFlags {
        name: [0; 16],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS with a live ifreq of the kernel's size.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(io::Error::last_os_error());
        }
        req.flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(io::Error::last_os_error());
        }
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

/// `capget(2)` on the calling thread.
pub fn capget() -> io::Result<CapSets> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and room for the two data structs of version 3.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &header as *const CapHeader,
            data.as_mut_ptr(),
        )
    };
    check(ret)?;
    let join = |lo: u32, hi: u32| lo as u64 | (hi as u64) << 32;
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// `prctl(2)` with integer arguments.
pub fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> io::Result<()> {
    // SAFETY: every prctl option we use takes integer arguments only.
    let ret = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    check(ret as libc::c_long).map(drop)
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

/// Takes ownership of a descriptor a `nix` call just returned as a number.
pub fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller passes a descriptor just made for it, owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Sets our execution domain (`personality(2)`); it takes effect for what we exec.
pub fn personality(persona: u64) -> io::Result<()> {
    // SAFETY: personality takes an integer and changes only our own execution domain.
    let ret = unsafe { libc::personality(persona as libc::c_ulong) };
    check(ret as libc::c_long).map(drop)
}

/// Sets our CPU scheduling policy and parameters (`sched_setattr(2)`).
pub fn sched_setattr(s: &crate::config::scheduling::Scheduler) -> io::Result<()> {
    // The kernel's `struct sched_attr` (SCHED_ATTR_SIZE_VER0: without the clamps).
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: s.policy,
        flags: s.flags,
        nice: s.nice,
        priority: s.priority,
        runtime: s.runtime,
        deadline: s.deadline,
        period: s.period,
    };
    // SAFETY: a pointer to a live, fully initialized sched_attr whose size field says
    // how much of it the kernel may read; pid 0 is ourselves.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) })
        .map(drop)
}

/// Sets our I/O priority (`ioprio_set(2)` on ourselves).
pub fn ioprio_set(value: i32) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: integer arguments only; pid 0 is ourselves.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) }).map(drop)
}

/// Sets our NUMA memory policy (`set_mempolicy(2)`); `nodes` is the node mask in words.
pub fn set_mempolicy(mode: i32, nodes: &[u64], bits: u32) -> io::Result<()> {
    let mask = if nodes.is_empty() {
        std::ptr::null()
    } else {
        nodes.as_ptr()
    };
    // The kernel reads `maxnode - 1` bits: one more than the highest node we set.
    let maxnode = if nodes.is_empty() {
        0
    } else {
        bits as libc::c_ulong + 1
    };
    // SAFETY: `mask` is null or points at `nodes`, which holds at least `bits` bits
    // (len_bits never exceeds the words it counts).
    check(unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, mask, maxnode) }).map(drop)
}

/// Registers `fd` for readability with the current tokio runtime's reactor
/// (`hull::asyncio`); panics outside a runtime with I/O enabled, as tokio does.
#[cfg(feature = "tokio")]
pub fn register_readable(fd: OwnedFd) -> io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    use tokio::io::{unix::AsyncFd, Interest};
    // SAFETY: the AsyncFd owns `fd`, so it stays open on the same file description
    // until the AsyncFd is dropped; hull never swaps it through `get_mut`.
    Ok(unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?)
}
