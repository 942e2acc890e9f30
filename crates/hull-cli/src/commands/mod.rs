//! The runc commands, one module each. Every command returns the exit code to use, or
//! the one-line error to report.

pub mod checkpoint;
pub mod create;
pub mod delete;
pub mod events;
pub mod exec;
pub mod features;
pub mod kill;
pub mod list;
pub mod pause;
pub mod ps;
pub mod restore;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;
pub mod update;

use std::path::Path;

pub type CmdResult = Result<u8, String>;

/// A command with its arguments, as [`crate::args`] parsed them.
pub enum Command {
    /// Write a default config.json into a bundle.
    Spec(spec::Args),
    /// Create a container: its init waits for `start`.
    Create(create::Args),
    /// Let a created container run its program.
    Start(start::Args),
    /// Create and start a container, and (unless --detach) wait for it.
    Run(run::Args),
    /// Print a container's OCI state as JSON.
    State(state::Args),
    /// List the containers.
    List(list::Args),
    /// Send a signal to a container's init (or every process with --all).
    Kill(kill::Args),
    /// Delete a stopped (or, with --force, any) container.
    Delete(delete::Args),
    /// Freeze every process of a container.
    Pause(pause::Args),
    /// Thaw a paused container.
    Resume(pause::Args),
    /// List a container's processes.
    Ps(ps::Args),
    /// Print a container's statistics (and OOM events) as JSON.
    Events(events::Args),
    /// Change a running container's resource limits.
    Update(Box<update::Args>),
    /// Run a further process in a running container.
    Exec(Box<exec::Args>),
    /// Print what this runtime supports (OCI features JSON).
    Features(features::Args),
    /// Save a running container to disk with CRIU.
    Checkpoint(Box<checkpoint::Args>),
    /// Make a container from a bundle and restore its processes from a checkpoint.
    Restore(Box<restore::Args>),
}

/// Runs `command` with state under `root`, CRIU at `criu` (or `criu` on PATH).
pub fn run(command: Command, root: &Path, criu: Option<&Path>) -> CmdResult {
    match command {
        Command::Spec(a) => spec::run(a),
        Command::Create(a) => create::run(a, root),
        Command::Start(a) => start::run(a, root),
        Command::Run(a) => run::run(a, root),
        Command::State(a) => state::run(a, root),
        Command::List(a) => list::run(a, root),
        Command::Kill(a) => kill::run(a, root),
        Command::Delete(a) => delete::run(a, root),
        Command::Pause(a) => pause::pause(a, root),
        Command::Resume(a) => pause::resume(a, root),
        Command::Ps(a) => ps::run(a, root),
        Command::Events(a) => events::run(a, root),
        Command::Update(a) => update::run(*a, root),
        Command::Exec(a) => exec::run(*a, root),
        Command::Features(a) => features::run(a, criu),
        Command::Checkpoint(a) => checkpoint::run(*a, root, criu),
        Command::Restore(a) => restore::run(*a, root, criu),
    }
}

/// Writes a command's whole output to stdout in one go. A reader that has gone away (the
/// end of `| head`) ends the command quietly: what it did not read it did not want.
pub fn print(text: &str) -> CmdResult {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(format!("write to stdout: {e}")),
    }
}

/// `--preserve-fds N` passes the caller's descriptors 3..3+N: each must be open.
pub fn check_preserved_fds(command: &Command) -> Result<(), String> {
    let preserve = match command {
        Command::Create(a) => a.common.preserve_fds,
        Command::Run(a) => a.common.preserve_fds,
        Command::Exec(a) => a.preserve_fds,
        _ => return Ok(()),
    };
    let n = listen_fds() + preserve;
    for fd in 3..3 + n as i32 {
        if nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_err() {
            return Err(format!("--preserve-fds {n}: descriptor {fd} is not open"));
        }
    }
    Ok(())
}

/// How many descriptors systemd socket activation handed us (LISTEN_FDS, meant for
/// this process by LISTEN_PID): runc passes them on to the container first.
fn listen_fds() -> u32 {
    let for_us = std::env::var("LISTEN_PID").is_ok_and(|p| p == std::process::id().to_string());
    match std::env::var("LISTEN_FDS") {
        Ok(n) if for_us => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Hands the caller's descriptors to `process`: socket activation's first (with
/// LISTEN_FDS set in its environment), then `--preserve-fds` more.
fn pass_fds(process: &mut hull::Process, preserve: u32) {
    let listen = listen_fds();
    if listen > 0 {
        process.env.retain(|kv| !kv.starts_with("LISTEN_FDS="));
        process.env.push(format!("LISTEN_FDS={listen}"));
    }
    // Checked open before hull opened anything (`check_preserved_fds`).
    process
        .extra_files
        .extend((3..3 + (listen + preserve) as i32).filter_map(crate::sys::caller_fd));
}

/// `--pidfd-socket`: sends a pidfd of the container's process to the unix socket.
fn send_pidfd(path: &Path, process: &hull::ProcessHandle) -> Result<(), String> {
    use std::os::fd::AsFd;
    let socket = std::os::unix::net::UnixStream::connect(path)
        .map_err(|e| format!("--pidfd-socket {}: {e}", path.display()))?;
    let pidfd = process.pidfd().map_err(|e| e.to_string())?;
    hull::fdpass::send_fd(socket.as_fd(), b"pidfd", pidfd.as_fd())
        .map_err(|e| format!("--pidfd-socket {}: {e}", path.display()))
}

/// A failing poststart or poststop hook is a warning, as the OCI spec asks: the
/// container has already started, or is already gone; so is what a deleted container
/// had to leave in place.
fn hook_warning(result: hull::Result<()>) -> Result<(), String> {
    match result {
        Err(e @ hull::Error::Left(_)) => {
            crate::log::warn(&e.to_string());
            Ok(())
        }
        Err(hull::Error::Hook(message)) => {
            crate::log::warn(&message);
            Ok(())
        }
        other => other.map_err(|e| e.to_string()),
    }
}

/// The factory over `root`, with errors as text.
fn factory(root: &Path) -> Result<hull::Factory, String> {
    hull::Factory::new(root).map_err(|e| e.to_string())
}

/// Loads container `id`, with errors as text.
fn load(root: &Path, id: &str) -> Result<hull::Container, String> {
    factory(root)?.load(id).map_err(|e| e.to_string())
}

/// Loads container `id` and takes its lock, for a command that changes it.
fn locked(root: &Path, id: &str) -> Result<hull::Container, String> {
    load(root, id)?.locked().map_err(|e| e.to_string())
}

/// Writes `pid` to `path` atomically (a reader never sees an empty file), never
/// through a symlink planted there (the directory may be shared with a container).
fn write_pid_file(path: &Path, pid: i32) -> Result<(), String> {
    hull::safe_file::replace(path, pid.to_string().as_bytes(), 0o644)
        .map_err(|e| format!("write pid file {}: {e}", path.display()))
}
