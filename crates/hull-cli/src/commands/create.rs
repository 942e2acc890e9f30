//! `hull create`: registers a container from a bundle and starts its init, which then
//! waits for `hull start`. Shared with `run`, which goes on to start it.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use super::{factory, write_pid_file, CmdResult};

pub struct Args {
    pub common: CreateArgs,
    /// The container's id.
    pub id: String,
}

/// The flags `create` and `run` share.
pub struct CreateArgs {
    /// The bundle directory (holds config.json).
    pub bundle: PathBuf,
    /// Write init's pid to this file.
    pub pid_file: Option<PathBuf>,
    /// Pass this many descriptors after stdio (3, 4, …) on to the container.
    pub preserve_fds: u32,
    /// A unix socket to send a pidfd of the container's init to.
    pub pidfd_socket: Option<PathBuf>,
    /// A unix socket to send the terminal's master to (process.terminal).
    pub console_socket: Option<PathBuf>,
    /// Do not use pivot_root (for a rootfs on a ramdisk).
    pub no_pivot: bool,
    /// The global `--systemd-cgroup`: the cgroup is a systemd scope.
    pub systemd_cgroup: bool,
}

/// How far [`create`] takes the container.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Created: init waits for `start`.
    Created,
    /// Running (`run`): init goes on at once, and no exec.fifo is made.
    Running,
}

/// Creates container `id`; on any failure everything it made is removed again. Returns
/// the end of the terminal's socketpair when the foreground must relay it.
pub fn create(
    args: &CreateArgs,
    id: &str,
    root: &Path,
    detached: bool,
    until: Until,
) -> Result<(hull::Container, Option<UnixStream>), String> {
    let (mut config, mut process) = hull::spec::load(&args.bundle).map_err(|e| e.to_string())?;
    config.no_pivot_root = args.no_pivot;
    config.cgroup.systemd = args.systemd_cgroup;
    let console = crate::tty::attach(&mut process, args.console_socket.as_deref(), detached)?;
    super::pass_fds(&mut process, args.preserve_fds);
    let mut container = factory(root)?
        .create(id, config)
        .map_err(|e| e.to_string())?;
    // The process's descriptors (ours, handed on) close here once init has them.
    let started = match until {
        Until::Created => container.start(process),
        Until::Running => container.run(process),
    };
    let init = match started {
        Ok(init) => init,
        // A failing poststart hook is a warning: the program runs (or ran). Init is
        // recorded by then; a hook that failed before (prestart, createRuntime) is not.
        Err(hull::Error::Hook(message))
            if until == Until::Running && container.init_pid().is_some() =>
        {
            crate::log::warn(&message);
            container.init().map_err(|e| e.to_string())?
        }
        Err(e) => {
            let _ = container.destroy();
            return Err(e.to_string());
        }
    };
    crate::log::debug(&format!(
        "container {id} created from {}: init pid {}",
        args.bundle.display(),
        container.init_pid().unwrap_or(0)
    ));
    if let Some(why) = &container.state().cgroup_skipped {
        crate::log::debug(&format!("container {id} has no cgroup of its own: {why}"));
    }
    if let Some(path) = &args.pidfd_socket {
        if let Err(e) = super::send_pidfd(path, &init) {
            let _ = container.destroy();
            return Err(e);
        }
    }
    if let Some(path) = &args.pid_file {
        let pid = container.init_pid().unwrap_or(0);
        if let Err(e) = write_pid_file(path, pid) {
            let _ = container.destroy();
            return Err(e);
        }
    }
    Ok((container, console))
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    create(&args.common, &args.id, root, true, Until::Created)?;
    Ok(0)
}
