//! The process's terminal: a new pty from the container's own devpts, the slave made the
//! controlling terminal and stdio and bound over `/dev/console` (from the descriptor we
//! opened, never from a path the image controls: CVE-2025-52565), and the master sent
//! to the console socket with SCM_RIGHTS, as runc does.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use super::error::{refused, InitError, InitResult, Step};
use crate::process::Process;
use crate::rootfs::resolve;
use crate::sys;

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// Opens a new pty in the container's devpts: (master, slave).
fn open_pty() -> InitResult<(OwnedFd, OwnedFd)> {
    let master: OwnedFd = std::fs::File::options()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/pts/ptmx")
        .step("open /dev/pts/ptmx")?
        .into();
    let fs = nix::sys::statfs::fstatfs(&master).step("statfs ptmx")?;
    if fs.filesystem_type().0 as i64 != DEVPTS_SUPER_MAGIC {
        return refused("/dev/pts/ptmx is not on devpts");
    }
    sys::unlock_pty(master.as_fd()).step("unlock pty")?;
    // The slave straight from the master: no path lookup the image could redirect.
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    let slave = sys::open_pty_peer(master.as_fd(), flags).step("open pty slave")?;
    Ok((master, slave))
}

use std::os::unix::fs::OpenOptionsExt;

/// Sets the terminal up (before the user switch: /dev/console needs a mount) and
/// returns the slave, to become stdio. The slave is bound over `/dev/console` only for
/// a container's init in a mount namespace of its own, as runc does: never in a running
/// container (exec) or over the host's console.
pub fn setup(process: &Process, bind_over_console: bool) -> InitResult<OwnedFd> {
    let (master, slave) = open_pty()?;
    if let Some((rows, cols)) = process.console_size {
        sys::set_window_size(master.as_fd(), rows, cols).step("set terminal size")?;
    }
    let uid = nix::unistd::Uid::from_raw(process.user.uid);
    nix::unistd::fchown(slave.as_raw_fd(), Some(uid), None).step("chown pty")?;
    if bind_over_console {
        bind_console(&slave)?;
    }
    sys::set_controlling_terminal(slave.as_fd()).step("set controlling terminal")?;
    let socket = process
        .console_socket
        .as_ref()
        .ok_or_else(|| InitError::Refused("process.terminal needs a console socket".into()))?;
    crate::fdpass::send_fd(socket.as_fd(), b"/dev/ptmx", master.as_fd())
        .step("send the terminal to the console socket")?;
    Ok(slave)
}

/// Binds the slave over `/dev/console` (made as an empty file inside the rootfs), from
/// its descriptor onto the one of the console: no path is resolved through the
/// container's `/proc`, which could lead the bind's source or target elsewhere.
fn bind_console(slave: &OwnedFd) -> InitResult<()> {
    let root: OwnedFd = std::fs::File::open("/").step("open /")?.into();
    let console = Path::new("/dev/console");
    let target = resolve::create(
        root.as_fd(),
        console,
        resolve::Kind::File,
        resolve::Symlinks::Refuse,
    )
    .step("create /dev/console")?;
    sys::clone_mount(slave.as_fd(), false)
        .and_then(|bind| sys::move_mount_onto(bind.as_fd(), target.as_fd()))
        .step("bind the terminal over /dev/console")
}
