//! Terminals: a session driven through the console socket, as a container engine does
//! it (receive the pty master, type a command, read the answer, resize), `/dev/console`
//! being that pty, and `exec -t`.

mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Accepts the runtime's connection and receives the pty master it sends.
fn receive_master(listener: &UnixListener) -> std::fs::File {
    std::fs::File::from(accept_fd(listener).1)
}

fn resize(master: &std::fs::File, rows: u16, cols: u16) {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ with a pointer to a live winsize.
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) },
        0
    );
}

#[test]
fn a_session_through_the_console_socket() {
    let case = Case::new("tty_session");
    let mut b = case.bundle("ttysession");
    b.set("/process/terminal", json!(true));
    b.set("/process/consoleSize", json!({ "height": 24, "width": 80 }));
    b.args(&["sh"]);
    let socket = case.dir.join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    case.create_with(&b, &["--console-socket", socket.to_str().unwrap()]);
    let mut master = receive_master(&listener);
    case.start(&b.id);
    master
        .write_all(b"stty size; echo marker-$((6*7))\n")
        .unwrap();
    let out = read_until(&mut master, "marker-42");
    assert!(out.contains("24 80"), "{out}");
    resize(&master, 50, 132);
    master
        .write_all(b"stty size; tty; ls -l /dev/console; echo done-$((1+1))\n")
        .unwrap();
    let out = read_until(&mut master, "done-2");
    assert!(out.contains("50 132"), "{out}");
    assert!(out.contains("/dev/pts/0"), "{out}");
    // /dev/console is that same pty (major 136).
    assert!(
        out.lines()
            .any(|l| l.contains("136,") && l.contains("/dev/console")),
        "{out}"
    );
    master.write_all(b"exit 5\n").unwrap();
    case.wait_status(&b.id, "stopped");
    case.run(&["delete", &b.id]).ok();
    case.finish();
}

#[test]
fn exec_with_a_terminal() {
    let case = Case::new("tty_exec");
    let mut b = case.bundle("ttyexec");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    case.wait_status(&b.id, "running");
    let socket = case.dir.join("exec.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let out = case.run(&[
        "exec",
        "-t",
        "-d",
        "--console-socket",
        socket.to_str().unwrap(),
        &b.id,
        "sh",
        "-c",
        "tty; echo exec-$((40+2)); sleep 1",
    ]);
    out.ok();
    let mut master = receive_master(&listener);
    let text = read_until(&mut master, "exec-42");
    assert!(text.contains("/dev/pts/"), "{text}");
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

#[test]
fn a_detached_terminal_needs_a_console_socket() {
    let case = Case::new("tty_nosocket");
    let mut b = case.bundle("ttynosocket");
    b.set("/process/terminal", json!(true));
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    out.assert_bad_input(&["console-socket", "console socket"]);
    case.assert_no_leaks();
    case.finish();
}

/// The repo's own receiver, `hull-recvtty`, relays what the container writes.
#[test]
fn hull_recvtty_receives_the_terminal() {
    let case = Case::new("tty_recvtty");
    let mut b = case.bundle("ttyrecvtty");
    b.set("/process/terminal", json!(true));
    b.sh("echo through-recvtty-$((3*3))");
    let socket = case.dir.join("recv.sock");
    let out_path = case.dir.join("recv.out");
    let mut receiver = std::process::Command::new(env!("CARGO_BIN_EXE_hull-recvtty"))
        .arg(&socket)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "hull-recvtty did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    case.create_with(&b, &["--console-socket", socket.to_str().unwrap()]);
    case.start(&b.id);
    case.wait_status(&b.id, "stopped");
    let status = receiver.wait().unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(text.contains("through-recvtty-9"), "{text}");
    case.run(&["delete", &b.id]).ok();
    case.finish();
}

/// Without --console-socket, a foreground `run` relays its own terminal: what we type
/// on the outer pty reaches the container's shell, and its answers come back.
#[test]
fn run_in_the_foreground_relays_the_callers_terminal() {
    if !is_hull() {
        return;
    }
    let case = Case::new("tty_relay");
    let mut b = case.bundle("ttyrelay");
    b.set("/process/terminal", json!(true));
    b.args(&["sh"]);
    b.write();
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut child = std::process::Command::new(runtime())
        .args([
            "--root",
            case.root.to_str().unwrap(),
            "run",
            "--bundle",
            b.dir_str(),
            &b.id,
        ])
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut master = std::fs::File::from(pty.master);
    master.write_all(b"tty; echo relay-$((20+22))\n").unwrap();
    let seen = read_until(&mut master, "relay-42");
    assert!(seen.contains("/dev/pts/0"), "{seen}");
    master.write_all(b"exit 4\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "run did not end");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(4));
    case.finish();
}

/// An engine's shim (containerd's, under Docker's `run -t`) reads `create`'s output
/// through a pipe until EOF, and only then calls `start`. With a terminal, init must
/// hold nothing of the caller's stdio while it waits, or that EOF never comes. Seen
/// failing: `docker run -it` hung with init holding the pipe as fds 1 and 2.
#[test]
fn a_terminal_container_holds_nothing_of_creates_stdio() {
    use std::process::{Command, Stdio};
    let case = Case::new("tty_stdio");
    let mut b = case.bundle("ttystdio");
    b.set("/process/terminal", json!(true));
    b.args(&["true"]);
    b.write();
    let socket = case.dir.join("console.sock");
    let _listener = UnixListener::bind(&socket).unwrap();
    let mut child = Command::new(runtime())
        .arg("--root")
        .arg(&case.root)
        .args(["create", "--bundle", b.dir_str(), "--console-socket"])
        .arg(&socket)
        .arg(&b.id)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        let _ = done_tx.send(());
    });
    assert!(child.wait().unwrap().success(), "create failed");
    let eof = done_rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(case.status(&b.id), "created");
    assert!(
        eof.is_ok(),
        "create's stdout never reached EOF: init holds it"
    );
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}
