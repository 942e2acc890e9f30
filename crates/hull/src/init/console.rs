//! The process's terminal: a new pty from the container's own devpts, the slave made the
//! controlling terminal and stdio and bound over `/dev/console` (from the descriptor we
//! opened, never from a path the image controls: CVE-2025-52565), and the master sent
//! to the console socket with SCM_RIGHTS, as runc does.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::InitResult;
use crate::process::Process;
use crate::rootfs::resolve;
use crate::sys;

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

fn ioctl(fd: RawFd, request: libc::c_ulong, arg: libc::c_ulong) -> std::io::Result<libc::c_int> {
    // SAFETY: the requests used here take an integer or a pointer to a live value.
    let ret = unsafe { libc::ioctl(fd, request, arg) };
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Opens a new pty in the container's devpts: (master, slave).
fn open_pty() -> InitResult<(OwnedFd, OwnedFd)> {
    let master: OwnedFd = std::fs::File::options()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/pts/ptmx")
        .map_err(|e| format!("open /dev/pts/ptmx: {e}"))?
        .into();
    let fs = nix::sys::statfs::fstatfs(&master).map_err(|e| format!("statfs ptmx: {e}"))?;
    if fs.filesystem_type().0 as i64 != DEVPTS_SUPER_MAGIC {
        return Err("/dev/pts/ptmx is not on devpts".into());
    }
    let unlock: libc::c_int = 0;
    ioctl(
        master.as_raw_fd(),
        libc::TIOCSPTLCK,
        &unlock as *const _ as libc::c_ulong,
    )
    .map_err(|e| format!("unlock pty: {e}"))?;
    // The slave straight from the master: no path lookup the image could redirect.
    let slave = ioctl(
        master.as_raw_fd(),
        libc::TIOCGPTPEER,
        (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as libc::c_ulong,
    )
    .map_err(|e| format!("open pty slave: {e}"))?;
    // SAFETY: the kernel just returned this descriptor.
    Ok((master, unsafe { OwnedFd::from_raw_fd(slave) }))
}

use std::os::unix::fs::OpenOptionsExt;

/// Sets the terminal up (before the user switch: /dev/console needs a mount) and
/// returns the slave, to become stdio. The slave is bound over `/dev/console` only for
/// a container's init in a mount namespace of its own, as runc does: never in a running
/// container (exec) or over the host's console.
pub fn setup(process: &Process, bind_over_console: bool) -> InitResult<OwnedFd> {
    let (master, slave) = open_pty()?;
    if let Some((rows, cols)) = process.console_size {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        ioctl(
            master.as_raw_fd(),
            libc::TIOCSWINSZ,
            &size as *const _ as libc::c_ulong,
        )
        .map_err(|e| format!("set terminal size: {e}"))?;
    }
    let uid = nix::unistd::Uid::from_raw(process.user.uid);
    nix::unistd::fchown(slave.as_raw_fd(), Some(uid), None)
        .map_err(|e| format!("chown pty: {e}"))?;
    if bind_over_console {
        bind_console(&slave)?;
    }
    ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0)
        .map_err(|e| format!("set controlling terminal: {e}"))?;
    let socket = process
        .console_socket
        .as_ref()
        .ok_or("process.terminal needs a console socket")?;
    crate::fdpass::send_fd(socket.as_fd(), b"/dev/ptmx", master.as_fd())
        .map_err(|e| format!("send the terminal to the console socket: {e}"))?;
    Ok(slave)
}

/// Binds the slave over `/dev/console` (made as an empty file inside the rootfs), from
/// its descriptor onto the one of the console: no path is resolved through the
/// container's `/proc`, which could lead the bind's source or target elsewhere.
fn bind_console(slave: &OwnedFd) -> InitResult<()> {
    let root: OwnedFd = std::fs::File::open("/")
        .map_err(|e| format!("open /: {e}"))?
        .into();
    let console = Path::new("/dev/console");
    let target = resolve::create(
        root.as_fd(),
        console,
        resolve::Kind::File,
        resolve::Symlinks::Refuse,
    )
    .map_err(|e| format!("create /dev/console: {e}"))?;
    sys::clone_mount(slave.as_fd(), false)
        .and_then(|bind| sys::move_mount_onto(bind.as_fd(), target.as_fd()))
        .map_err(|e| format!("bind the terminal over /dev/console: {e}"))
}
