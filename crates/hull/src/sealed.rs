//! Running from a sealed copy of ourselves (CVE-2019-5736), for programs that embed
//! hull and put their own code in containers (the `hull` binary calls [`ensure`] first
//! thing for create, run and exec; the library refuses to start or exec from a binary
//! that is not sealed, see [`is_sealed`] and `Factory::without_seal_check`). The container's init is a
//! fork of this process, so until it execs the container's program its
//! `/proc/<pid>/exe` is our binary; a process in the container with CAP_SYS_PTRACE could
//! open it then and write through it once we are gone, replacing the runtime on the
//! host. Commands that put our code inside a container therefore first re-exec from a
//! view of the binary that cannot be written through: a detached read-only bind mount
//! of it (no copy, the page cache is shared; the mount is in no namespace and vanishes
//! with the process), or, where that is not allowed, a sealed memfd copy.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::sys;
use std::os::unix::ffi::OsStrExt;

/// Set in the environment of the sealed copy, so it does not copy itself again.
const MARK: &str = "_HULL_SEALED";

/// Returns if we already run sealed; otherwise re-execs from a sealed copy (and only
/// returns an error if that failed).
///
/// # Examples
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // First thing in main: re-executes from a sealed copy when not yet running from one.
/// hull::sealed::ensure()?;
/// assert!(hull::sealed::is_sealed());
/// # Ok(())
/// # }
/// ```
pub fn ensure() -> io::Result<()> {
    if std::env::var_os(MARK).is_some() {
        // Nothing below us needs to see it.
        std::env::remove_var(MARK);
        return Ok(());
    }
    let copy = match read_only_view() {
        Ok(fd) => fd,
        Err(_) => sealed_copy()?,
    };
    let args: Vec<CString> = std::env::args_os().map(to_c).collect();
    let mut env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            to_c(kv)
        })
        .collect();
    env.push(to_c(format!("{MARK}=1").into()));
    let err = nix::unistd::fexecve(copy.as_raw_fd(), &args, &env).unwrap_err();
    Err(io::Error::from(err))
}

/// Whether the program runs from a binary nobody can write through: a sealed memfd (what
/// [`ensure`] falls back to), or a file on a read-only mount (its detached read-only
/// view, or a read-only filesystem).
pub fn is_sealed() -> bool {
    let Ok(exe) = std::fs::File::open("/proc/self/exe") else {
        return false;
    };
    // A file that is no memfd answers EINVAL.
    let seals = nix::fcntl::fcntl(exe.as_raw_fd(), nix::fcntl::FcntlArg::F_GET_SEALS);
    if seals.is_ok_and(|s| s & libc::F_SEAL_WRITE != 0) {
        return true;
    }
    nix::sys::statvfs::fstatvfs(&exe)
        .is_ok_and(|v| v.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

fn to_c(s: OsString) -> CString {
    CString::new(s.as_bytes()).unwrap_or_default()
}

/// Our binary on a detached, read-only bind mount: `open_tree(OPEN_TREE_CLONE)` of the
/// file, then `mount_setattr(MOUNT_ATTR_RDONLY)`. Writes through it fail with EROFS.
fn read_only_view() -> io::Result<OwnedFd> {
    let tree = sys::open_tree_clone(c"/proc/self/exe")?;
    sys::mount_setattr(
        tree.as_fd(),
        crate::config::mount_options::attr::RDONLY,
        0,
        false,
    )?;
    Ok(tree)
}

/// A memfd holding our binary, sealed against any change.
fn sealed_copy() -> io::Result<OwnedFd> {
    let mut memfd = std::fs::File::from(sys::memfd_sealable("hull")?);
    let mut exe = std::fs::File::open("/proc/self/exe")?;
    let len = exe.metadata()?.len();
    // std copies file to file in the kernel (copy_file_range, sendfile).
    if io::copy(&mut exe, &mut memfd)? != len {
        return Err(io::Error::other("short copy of /proc/self/exe"));
    }
    use nix::fcntl::SealFlag;
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    nix::fcntl::fcntl(memfd.as_raw_fd(), nix::fcntl::FcntlArg::F_ADD_SEALS(seals))?;
    Ok(memfd.into())
}
