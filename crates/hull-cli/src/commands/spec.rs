//! `hull spec`: writes the default config.json (see `spec_template`).

use std::path::PathBuf;

use super::CmdResult;
use crate::spec_template::default_spec;

pub struct Args {
    /// The bundle directory to write config.json into.
    pub bundle: PathBuf,
    /// A config for running without root: a user namespace mapping the caller.
    pub rootless: bool,
}

pub fn run(args: Args) -> CmdResult {
    let path = args.bundle.join("config.json");
    let text =
        serde_json::to_string_pretty(&default_spec(args.rootless)).map_err(|e| e.to_string())?;
    // A new file only: never over an existing one, nor through a symlink.
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{} exists: remove it first", path.display())
            }
            _ => format!("write {}: {e}", path.display()),
        })?;
    std::io::Write::write_all(&mut file, (text + "\n").as_bytes())
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(0)
}
