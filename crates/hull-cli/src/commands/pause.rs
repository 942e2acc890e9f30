//! `hull pause` and `hull resume`: freeze and thaw every process of a container.

use std::path::Path;

use super::{locked, CmdResult};

pub struct Args {
    pub id: String,
}

pub fn pause(args: Args, root: &Path) -> CmdResult {
    let mut container = locked(root, &args.id)?;
    container.pause().map_err(|e| e.to_string())?;
    Ok(0)
}

pub fn resume(args: Args, root: &Path) -> CmdResult {
    let mut container = locked(root, &args.id)?;
    container.resume().map_err(|e| e.to_string())?;
    Ok(0)
}
