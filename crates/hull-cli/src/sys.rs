//! Every `unsafe` block of the hull binary (`main.rs` denies `unsafe_code` everywhere
//! else): the few calls neither `nix` nor the library offer safely, each argued in a
//! `SAFETY:` comment, as the library's own `sys` module does for it.

use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::signal::SigSet;

/// Lets the allocator be used in a child of libc's `fork()`: the library forks a
/// process that has other threads that way, relying on fork handlers to leave the
/// allocator usable in the child; these register dlmalloc's.
pub fn allocator_survives_fork() {
    // SAFETY: called once, first thing in main, while the process has no other thread:
    // it takes and releases the allocator's lock and registers the handlers with
    // pthread_atfork.
    unsafe { dlmalloc::enable_alloc_after_fork() };
}

/// Every signal, 32 to 34 included (see `signals::block_all`, the one caller).
pub fn every_signal() -> SigSet {
    let mut raw = *SigSet::all().as_ref();
    let words = std::mem::size_of::<libc::sigset_t>() / std::mem::size_of::<libc::c_ulong>();
    let bits = libc::c_ulong::BITS as usize;
    for sig in 32..=34usize {
        let (word, bit) = ((sig - 1) / bits, (sig - 1) % bits);
        assert!(word < words, "a sigset_t holds signal 34");
        // SAFETY: `raw` is our own sigset_t, an array of c_ulong words on Linux, signal
        // n being bit (n-1) counted from the first word; `word` is within it (checked).
        unsafe { *(&mut raw as *mut libc::sigset_t as *mut libc::c_ulong).add(word) |= 1 << bit };
    }
    // SAFETY: a full signal set with three more members is a valid signal set.
    unsafe { SigSet::from_sigset_t_unchecked(raw) }
}

/// `sigwait(3)` for one of the (blocked) signals of `set`, by number: nix's
/// `SigSet::wait` panics on a real-time signal, which its `Signal` cannot hold.
pub fn sigwait(set: &SigSet) -> Option<libc::c_int> {
    let mut sig: libc::c_int = 0;
    // SAFETY: a valid signal set and a place for the number, alive for the call.
    (unsafe { libc::sigwait(set.as_ref(), &mut sig) } == 0).then_some(sig)
}

/// `kill(2)` by number (real-time signals too); a process already gone is no error
/// worth reporting to a caller that forwards signals.
pub fn kill(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) touches no memory of ours.
    unsafe { libc::kill(pid, sig) };
}

/// Gives terminal `to` the window size of terminal `from`, if `from` has a real one
/// (a caller without a terminal, 0x0, leaves `to`'s in force).
pub fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    use std::os::fd::AsRawFd;
    // SAFETY: winsize is plain integers; all zero is a valid value.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ with a pointer to a live winsize.
    unsafe {
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut size) == 0
            && size.ws_row > 0
            && size.ws_col > 0
        {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}

/// The descriptor the caller of hull handed it as number `fd` (`--preserve-fds`,
/// socket activation, `--status-fd`), if it is open. Taken once per number, and only
/// for numbers below anything hull opens itself.
pub fn caller_fd(fd: RawFd) -> Option<OwnedFd> {
    if fd < 0 || nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_err() {
        return None;
    }
    // SAFETY: the caller of hull handed this descriptor over by number; it is open
    // (checked), and nothing else in this process owns or uses it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
