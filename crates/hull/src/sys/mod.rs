//! Every `unsafe` block of the crate lives here (the crate root denies `unsafe_code`
//! everywhere else): small, safe wrappers over the system calls that neither `nix` nor
//! the standard library offer safely, each block argued in a `SAFETY:` comment. What
//! cannot be made safe to call (a raw fork) stays a private `unsafe fn` with its
//! contract in a `# Safety` section, behind a safe function that keeps the contract.
//! The rest of the crate calls them as `sys::name`, whatever submodule holds them.
//! The one exception is a test's: seccomp's tests make raw syscalls by number.

mod bpf;
mod caps;
mod fd;
mod fork;
mod mount;
mod net;
mod pidfd;
mod process;
#[cfg(feature = "tokio")]
mod reactor;
mod seccomp;
mod tty;

pub use bpf::*;
pub use caps::*;
pub use fd::*;
pub use fork::*;
pub use mount::*;
pub use net::*;
pub use pidfd::*;
pub use process::*;
#[cfg(feature = "tokio")]
pub use reactor::*;
pub use seccomp::*;
pub use tty::*;

use std::io;

/// A raw system call's return value as a result: negative means `errno` says why.
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
