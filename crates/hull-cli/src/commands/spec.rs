//! `hull spec`: writes the default config.json (see `spec_template`).

use std::path::PathBuf;

use super::CmdResult;
use crate::spec_template::default_spec;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle directory to write config.json into.
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// A config for running without root: a user namespace mapping the caller.
    #[arg(long)]
    rootless: bool,
}

pub fn run(args: Args) -> CmdResult {
    let path = args.bundle.join("config.json");
    if path.exists() {
        return Err(format!("{} exists: remove it first", path.display()));
    }
    let text =
        serde_json::to_string_pretty(&default_spec(args.rootless)).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(0)
}
