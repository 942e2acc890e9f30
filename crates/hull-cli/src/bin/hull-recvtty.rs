//! `hull-recvtty`: a console-socket receiver for trying hull with terminals by hand (like
//! runc's recvtty). It listens on a unix socket, takes the pty master a container sends
//! (`hull create --console-socket PATH`), and relays it to this terminal, or with
//! `--mode null` just keeps it open and discards the output.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;
use std::process::ExitCode;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

fn receive(listener: &UnixListener) -> Result<std::fs::File, String> {
    let (conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    hull::fdpass::receive_master(conn.as_fd())
        .map(std::fs::File::from)
        .map_err(|e| e.to_string())
}

/// Copies between this terminal and the master until the container's side closes.
fn relay(mut master: std::fs::File, discard: bool) {
    let mut buf = [0u8; 8192];
    let mut stdin_open = !discard;
    loop {
        let stdin = std::io::stdin();
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN)];
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
        let (from_master, from_stdin) = (ready(0), ready(1));
        drop(fds);
        if from_master {
            match master.read(&mut buf) {
                Ok(n) if n > 0 => {
                    if !discard {
                        let _ = std::io::stdout().write_all(&buf[..n]);
                        let _ = std::io::stdout().flush();
                    }
                }
                _ => return,
            }
        }
        if from_stdin {
            match std::io::stdin().read(&mut buf) {
                Ok(n) if n > 0 => {
                    let _ = master.write_all(&buf[..n]);
                }
                _ => stdin_open = false,
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (discard, path) = match args.as_slice() {
        [path] => (false, path),
        [flag, mode, path] if flag == "--mode" && (mode == "null" || mode == "single") => {
            (mode == "null", path)
        }
        _ => {
            eprintln!("usage: hull-recvtty [--mode single|null] SOCKET-PATH");
            return ExitCode::from(2);
        }
    };
    let listener = match UnixListener::bind(path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hull-recvtty: bind {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let result = receive(&listener);
    let _ = std::fs::remove_file(path);
    match result {
        Ok(master) => {
            relay(master, discard);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hull-recvtty: {e}");
            ExitCode::from(1)
        }
    }
}
