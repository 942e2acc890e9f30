//! `hull restore`: a new container from a bundle, its processes restored by CRIU from
//! a checkpoint instead of started; in the foreground it then behaves as `run`.

use std::path::{Path, PathBuf};

use super::checkpoint::CriuArgs;
use super::{factory, write_pid_file, CmdResult};
use crate::signals;

pub struct Args {
    pub criu: CriuArgs,
    /// The bundle directory (holds config.json).
    pub bundle: PathBuf,
    /// Return once the container runs, instead of waiting for it.
    pub detach: bool,
    /// Write init's pid to this file.
    pub pid_file: Option<PathBuf>,
    /// A unix socket to send the restored terminal's master to.
    pub console_socket: Option<PathBuf>,
    /// Do not become a subreaper for the container's orphans.
    pub no_subreaper: bool,
    /// Accepted for runc compatibility (CRIU makes the root).
    pub no_pivot: bool,
    /// The LSM profile of the restored processes.
    pub lsm_profile: Option<String>,
    /// The SELinux context of the restored container's mounts.
    pub lsm_mount_context: Option<String>,
    /// The global `--systemd-cgroup`: the cgroup is a systemd scope.
    pub systemd_cgroup: bool,
    pub id: String,
}

pub fn run(args: Args, root: &Path, criu: Option<&Path>) -> CmdResult {
    let mut opts = args.criu.options(criu)?;
    opts.lsm_profile = args.lsm_profile;
    opts.lsm_mount_context = args.lsm_mount_context;
    let (mut config, mut process) = hull::spec::load(&args.bundle).map_err(|e| e.to_string())?;
    config.no_pivot_root = args.no_pivot;
    config.cgroup.systemd = args.systemd_cgroup;
    let blocked = (!args.detach).then(signals::block_all);
    if !args.detach && !args.no_subreaper {
        hull::process::become_subreaper().map_err(|e| format!("subreaper: {e}"))?;
    }
    let console = crate::tty::attach(&mut process, args.console_socket.as_deref(), args.detach)?;
    let mut container = factory(root)?
        .create(&args.id, config)
        .map_err(|e| e.to_string())?;
    if let Err(e) = container.restore(process, &opts) {
        let _ = container.destroy();
        return Err(e.to_string());
    }
    if let Some(path) = &args.pid_file {
        if let Err(e) = write_pid_file(path, container.init_pid().unwrap_or(0)) {
            let _ = container.destroy();
            return Err(e);
        }
    }
    match blocked {
        Some(set) => super::run::wait_in_foreground(container, root, console, &set, false),
        None => Ok(0),
    }
}
