//! `hull start`: lets a created container's init exec its program.

use std::path::Path;

use super::{locked, CmdResult};

pub struct Args {
    pub id: String,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let mut container = locked(root, &args.id)?;
    super::hook_warning(container.exec())?;
    Ok(0)
}
