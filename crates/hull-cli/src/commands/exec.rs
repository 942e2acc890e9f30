//! `hull exec`: runs a further process in a running container, described by a
//! process.json (`--process`) or by the command line on top of the container's own
//! process (its env, cwd, user, capabilities and limits), as runc does. In the
//! foreground it forwards signals and exits with the process's status.

use std::path::{Path, PathBuf};

use hull::config::CapSet;
use hull::{ExecOptions, Process};

use super::{load, write_pid_file, CmdResult};
use crate::signals;

pub struct Args {
    /// A process.json (OCI `process` object) describing what to run.
    pub process: Option<PathBuf>,
    /// Working directory inside the container.
    pub cwd: Option<PathBuf>,
    /// Environment variables to add or override (KEY=value).
    pub env: Vec<String>,
    /// uid[:gid], numeric; without a gid the container's.
    pub user: Option<String>,
    /// Further group ids, beside the container's.
    pub additional_gids: Vec<u32>,
    /// Capabilities to add.
    pub cap: Vec<String>,
    /// Set no_new_privileges.
    pub no_new_privs: bool,
    /// Allocate a terminal.
    pub tty: bool,
    /// Where to send the terminal's master.
    pub console_socket: Option<PathBuf>,
    /// Return once the process runs.
    pub detach: bool,
    /// Write the process's pid to this file.
    pub pid_file: Option<PathBuf>,
    /// Pass this many descriptors after stdio (3, 4, …) to the process.
    pub preserve_fds: u32,
    /// A unix socket to send a pidfd of the new process to.
    pub pidfd_socket: Option<PathBuf>,
    /// Run even in a paused container.
    pub ignore_paused: bool,
    /// Run in this existing sub-cgroup of the container.
    pub cgroup: Option<PathBuf>,
    /// AppArmor profile for the process (refused where the host does not run AppArmor).
    pub apparmor: Option<String>,
    /// SELinux label for the process (refused where the host does not run SELinux).
    pub process_label: Option<String>,
    pub id: String,
    /// The command and its arguments (without --process).
    pub command: Vec<String>,
}

/// The process from the command line, on top of the container's own.
fn from_flags(args: &Args, base: Process) -> Result<Process, String> {
    if args.command.is_empty() {
        return Err("exec: no command given (and no --process)".into());
    }
    let mut p = base;
    p.args.clone_from(&args.command);
    for kv in &args.env {
        let key = kv
            .split_once('=')
            .map(|(k, _)| k)
            .ok_or_else(|| format!("--env {kv:?}: not KEY=value"))?;
        p.env
            .retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
        p.env.push(kv.clone());
    }
    if let Some(cwd) = &args.cwd {
        if !cwd.is_absolute() {
            return Err(format!("--cwd {}: not an absolute path", cwd.display()));
        }
        p.cwd.clone_from(cwd);
    }
    if let Some(user) = &args.user {
        // Numbers only: a name would have to be looked up in the container's files. A
        // uid alone keeps the container's group, as in runc (never root's group).
        let number = |s: &str| {
            s.parse()
                .map_err(|_| format!("--user {user:?}: uid[:gid] must be numbers"))
        };
        let (uid, gid) = match user.split_once(':') {
            Some((uid, gid)) => (uid, Some(gid)),
            None => (user.as_str(), None),
        };
        p.user.uid = number(uid)?;
        if let Some(gid) = gid {
            p.user.gid = number(gid)?;
        }
    }
    // Added to the container's groups, as runc does.
    p.user
        .additional_gids
        .extend_from_slice(&args.additional_gids);
    if !args.cap.is_empty() {
        let add = CapSet::from_names(args.cap.iter().map(String::as_str))
            .map_err(|c| format!("--cap {c:?}: unknown capability"))?;
        let mut caps = p.capabilities.unwrap_or_default();
        caps.bounding.0 |= add.0;
        caps.effective.0 |= add.0;
        caps.permitted.0 |= add.0;
        // Ambient needs inheritable; like runc, only where the process already has some.
        if caps.inheritable.0 != 0 {
            caps.ambient.0 |= add.0;
        }
        p.capabilities = Some(caps);
    }
    Ok(p)
}

/// Like runc, exec reports its own failures with exit code 255, which a process's own
/// status (0..=255 from a shell's point of view, but 255 is rare) does not mistake.
pub fn run(args: Args, root: &Path) -> CmdResult {
    match exec(args, root) {
        Ok(code) => Ok(code),
        Err(message) => {
            crate::log::error(&message);
            Ok(255)
        }
    }
}

fn exec(args: Args, root: &Path) -> CmdResult {
    let mut container = load(root, &args.id)?;
    let mut process = match &args.process {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
            hull::spec::process_from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => from_flags(&args, container.state().init_process.describe())?,
    };
    if args.no_new_privs {
        process.no_new_privileges = true;
    }
    if let Some(profile) = &args.apparmor {
        process.apparmor_profile = Some(profile.clone());
    }
    if let Some(label) = &args.process_label {
        process.selinux_label = Some(label.clone());
    }
    if args.tty {
        process.terminal = true;
    }
    let console = crate::tty::attach(&mut process, args.console_socket.as_deref(), args.detach)?;
    super::pass_fds(&mut process, args.preserve_fds);
    let blocked = (!args.detach).then(signals::block_all);
    if !args.detach {
        // The process is our grandchild (it had to fork into the pid namespace).
        hull::process::become_subreaper().map_err(|e| format!("subreaper: {e}"))?;
    }
    let opts = ExecOptions {
        ignore_paused: args.ignore_paused,
        sub_cgroup: args.cgroup.clone(),
    };
    let handle = container
        .exec_process(process, &opts)
        .map_err(|e| match (e, &args.process) {
            // A refused process file is named, as when it does not parse.
            (hull::Error::Config(e), Some(path)) => format!("{}: {e}", path.display()),
            (e, _) => e.to_string(),
        })?;
    let pid = handle.pid();
    if let Some(path) = &args.pid_file {
        write_pid_file(path, pid)?;
    }
    if let Some(path) = &args.pidfd_socket {
        super::send_pidfd(path, &handle)?;
    }
    match blocked {
        None => Ok(0),
        Some(set) => {
            let status = match console {
                Some(socket) => {
                    crate::tty::relay_until_exit(crate::tty::receive_master(&socket)?, pid, &set)
                }
                None => signals::forward_until_exit(pid, &set),
            };
            Ok(status.code().clamp(0, 255) as u8)
        }
    }
}
