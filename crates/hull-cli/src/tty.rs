//! Terminals on the CLI side: receiving a container's pty master from the console
//! socket, and relaying the caller's terminal to it in the foreground (raw mode, window
//! size changes, signals forwarded) until the container's process exits.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::sys::signal::SigSet;
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg};

use hull::ExitStatus;

use crate::{signals, sys};

/// Connects the process's terminal: to `--console-socket` if given; else, in the
/// foreground, to a socketpair whose other end is returned for [`relay_until_exit`].
pub fn attach(
    process: &mut hull::Process,
    console_socket: Option<&std::path::Path>,
    detached: bool,
) -> Result<Option<UnixStream>, String> {
    match (process.terminal, console_socket) {
        (true, Some(path)) => {
            let socket = UnixStream::connect(path)
                .map_err(|e| format!("--console-socket {}: {e}", path.display()))?;
            process.console_socket = Some(socket.into());
            Ok(None)
        }
        (true, None) if detached => {
            Err("a terminal for a detached container needs --console-socket".into())
        }
        (true, None) => {
            let (ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
            process.console_socket = Some(theirs.into());
            Ok(Some(ours))
        }
        (false, Some(_)) => Err("--console-socket needs a terminal (process.terminal)".into()),
        (false, None) => Ok(None),
    }
}

/// Receives the pty master that the container's process sent over `socket`.
pub fn receive_master(socket: &UnixStream) -> Result<OwnedFd, String> {
    hull::fdpass::receive_master(std::os::fd::AsFd::as_fd(socket))
        .map_err(|e| format!("receive the terminal: {e}"))
}

/// Puts the caller's terminal in raw mode, and back as it was when dropped.
struct RawMode(Option<termios::Termios>);

impl RawMode {
    fn enter() -> RawMode {
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(stdin.as_fd()) else {
            return RawMode(None);
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        RawMode(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// Our terminal's window size to the container's (a caller without a real terminal
/// leaves consoleSize in force).
fn copy_window_size(master: &impl AsFd) {
    sys::copy_window_size(std::io::stdin().as_fd(), master.as_fd());
}

/// Relays stdin to `master` and `master` to stdout until process `pid` exits; forwards
/// the blocked signals in `set` to it, window size changes to the terminal.
pub fn relay_until_exit(master: OwnedFd, pid: i32, set: &SigSet) -> ExitStatus {
    let _raw = RawMode::enter();
    copy_window_size(&master);
    let sigfd = match SignalFd::with_flags(set, SfdFlags::SFD_CLOEXEC) {
        Ok(fd) => fd,
        Err(_) => return signals::forward_until_exit(pid, set),
    };
    let mut master_file = std::fs::File::from(master);
    let mut stdin_open = true;
    let mut master_open = true;
    let mut buf = [0u8; 8192];
    loop {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let stdin = std::io::stdin();
        let mut fds = vec![
            PollFd::new(sigfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(
                master_file.as_fd(),
                if master_open {
                    PollFlags::POLLIN
                } else {
                    PollFlags::empty()
                },
            ),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            continue;
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (sig_ready, master_ready, stdin_ready) = (ready(0), ready(1), ready(2));
        drop(fds);
        if master_ready {
            match master_file.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let _ = std::io::stdout().write_all(&buf[..n]);
                    let _ = std::io::stdout().flush();
                }
                // EIO: every slave is closed.
                _ => master_open = false,
            }
        }
        if stdin_ready {
            match std::io::stdin().read(&mut buf) {
                Ok(n) if n > 0 => {
                    let _ = master_file.write_all(&buf[..n]);
                }
                _ => stdin_open = false,
            }
        }
        if sig_ready {
            if let Ok(Some(info)) = sigfd.read_signal() {
                // By number: real-time signals are forwarded too.
                match info.ssi_signo as libc::c_int {
                    libc::SIGCHLD => {}
                    libc::SIGWINCH => copy_window_size(&master_file),
                    sig => sys::kill(pid, sig),
                }
            }
        }
        if let Some(status) = signals::reap(pid) {
            // What the process wrote last is still in the pty.
            while let Ok(n) = master_file.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = std::io::stdout().write_all(&buf[..n]);
            }
            let _ = std::io::stdout().flush();
            return status;
        }
    }
}
