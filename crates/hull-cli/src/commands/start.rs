//! `hull start`: lets a created container's init exec its program.

use std::path::Path;

use super::{load, CmdResult};

#[derive(clap::Args)]
pub struct Args {
    pub id: String,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let mut container = load(root, &args.id)?;
    container.lock().map_err(|e| e.to_string())?;
    super::hook_warning(container.exec())?;
    Ok(0)
}
