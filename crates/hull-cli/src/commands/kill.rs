//! `hull kill`: sends a signal (default SIGTERM) to init, or with --all to every
//! process of the container.

use std::path::Path;

use super::{load, CmdResult};

pub struct Args {
    /// Signal every process in the container, not just init.
    pub all: bool,
    pub id: String,
    /// Signal name (KILL, SIGKILL) or number.
    pub signal: String,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let signal: hull::Signal = args
        .signal
        .parse()
        .map_err(|e: hull::signal::InvalidSignal| e.to_string())?;
    let container = load(root, &args.id)?;
    container
        .signal(signal, args.all)
        .map_err(|e| e.to_string())?;
    Ok(0)
}
