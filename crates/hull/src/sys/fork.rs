//! Forking. The rest of hull forks through [`fork_child`], whose child runs a closure
//! that never returns, and through [`fork_sibling`], given proof that the caller is the
//! only thread; the raw forks below stay `unsafe fn`, used only here.

use std::convert::Infallible;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use super::check;

/// `CLONE_INTO_CGROUP` (libc's constant has too narrow a type).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Which side of a fork we are: the parent (with the child's pid) or the child.
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
unsafe fn clone3(flags: u64, cgroup_fd: Option<RawFd>) -> io::Result<Forked> {
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
unsafe fn fork_with_handlers() -> io::Result<Forked> {
    // SAFETY: fork; the caller guarantees the child execs or exits.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// Whether the calling process runs this one thread only (`Threads:` of
/// /proc/self/status); if that cannot be read, it counts as having others.
pub fn single_threaded() -> bool {
    let threads = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<usize>().ok())
        });
    threads == Some(1)
}

/// Proof, handed to the child of [`fork_child`], that the calling thread is its
/// process's only one (hull starts no thread in a forked child): what [`fork_sibling`]
/// asks for. It cannot be made elsewhere, sent to another thread or copied.
pub struct OnlyThread(PhantomData<*const ()>);

/// The namespace flags [`fork_child`] passes on; anything else (`CLONE_VM`, say) would
/// break the fork semantics it relies on.
const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWTIME) as u64;

/// Forks the calling process into a child that runs `child`, which never returns
/// (`Infallible` stands for `!`, which a closure's type cannot name yet), and
/// returns the child's pid. A single-threaded caller forks with `clone3`: the child is
/// born in the new namespaces `flags` and, given `cgroup` (a v2 directory), in that
/// cgroup; `child` is told `true`. A caller with other threads forks with glibc's
/// `fork()`, whose handlers leave the allocator usable in the child, and `child` is
/// told `false`: it makes its namespaces and joins its cgroup itself (`flags` must be
/// 0 then). Flags other than new namespaces are refused (EINVAL).
pub fn fork_child(
    flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
    child: impl FnOnce(OnlyThread, bool) -> Infallible,
) -> io::Result<libc::pid_t> {
    let einval = || io::Error::from_raw_os_error(libc::EINVAL);
    if flags & !NAMESPACE_FLAGS != 0 {
        return Err(einval());
    }
    // Only this thread could start another between the check and the fork.
    let cloned = single_threaded();
    if !cloned && flags != 0 {
        return Err(einval());
    }
    let forked = if cloned {
        // SAFETY: the caller is single-threaded, and the child runs `child` only.
        unsafe { clone3(flags, cgroup.map(|fd| fd.as_raw_fd())) }
    } else {
        // SAFETY: the child runs `child`, which never returns, and leaves below if it
        // unwinds: it never gets back into code that expects the parent's threads.
        unsafe { fork_with_handlers() }
    }?;
    match forked {
        Forked::Parent(pid) => Ok(pid),
        Forked::Child => {
            // Should `child` unwind, the child ends here: the frames above are copies
            // of the parent's, whose destructors are the parent's business.
            let _leave = ExitOnUnwind;
            // `child` returns nothing (it cannot return): rustc knows, and calls the
            // empty match that turns its type into ours unreachable.
            #[allow(unreachable_code)]
            match child(OnlyThread(PhantomData), cloned) {}
        }
    }
}

/// Ends the process when dropped, which in a child of [`fork_child`] means unwinding.
struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        exit_now(1)
    }
}

/// `_exit(2)`: ends the process at once, without atexit handlers, destructors or
/// flushing: how a forked child leaves, the parent's copied state untouched.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process; nothing of ours runs after it.
    unsafe { libc::_exit(code) }
}

/// Forks a sibling: the child's parent is our own parent (`CLONE_PARENT`), so that the
/// program that made us can wait for it (the second fork, that really enters a pid or
/// time namespace: the container's process is then the caller's child, not grandchild).
/// Both processes go on from here.
pub fn fork_sibling(_: &OnlyThread) -> io::Result<Forked> {
    // SAFETY: `OnlyThread` proves the caller single-threaded.
    unsafe { clone3(libc::CLONE_PARENT as u64, None) }
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
