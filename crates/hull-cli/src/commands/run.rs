//! `hull run`: create + start; in the foreground it forwards signals, reaps as a
//! subreaper, deletes the container afterwards (unless --keep) and exits with its
//! status (128 + signal when killed).

use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::signal::SigSet;

use super::create::{create, CreateArgs, Until};
use super::CmdResult;
use crate::{log, signals};

pub struct Args {
    pub common: CreateArgs,
    /// Return once the container runs, instead of waiting for it.
    pub detach: bool,
    /// Keep the container's state after it exits (foreground only).
    pub keep: bool,
    /// Do not become a subreaper for the container's orphans.
    pub no_subreaper: bool,
    pub id: String,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    if args.detach && args.keep {
        return Err("--keep cannot be used with --detach".into());
    }
    let blocked = (!args.detach).then(signals::block_all);
    if !args.detach && !args.no_subreaper {
        hull::process::become_subreaper().map_err(|e| format!("subreaper: {e}"))?;
    }
    let (container, console) = create(&args.common, &args.id, root, args.detach, Until::Running)?;
    match blocked {
        Some(set) => wait_in_foreground(container, root, console, &set, args.keep),
        None => Ok(0),
    }
}

/// The foreground's part once the container runs: relay its terminal (from `console`)
/// or forward signals (blocked as `set`) until init exits, delete the container unless
/// `keep`, and exit with init's status.
pub fn wait_in_foreground(
    container: hull::Container,
    root: &Path,
    console: Option<UnixStream>,
    set: &SigSet,
    keep: bool,
) -> CmdResult {
    let init = container.init_pid().unwrap_or(0);
    let id = container.id().to_string();
    // Unlocked: other commands (kill, delete, state) may act on it while it runs.
    drop(container);
    let status = match console {
        Some(socket) => {
            crate::tty::relay_until_exit(crate::tty::receive_master(&socket)?, init, set)
        }
        None => signals::forward_until_exit(init, set),
    };
    log::debug(&format!("container {id} exited: {status:?}"));
    if !keep {
        super::hook_warning(super::locked(root, &id)?.destroy())?;
    }
    Ok(status.code().clamp(0, 255) as u8)
}
