//! `hull state` (and `list --format json`): the OCI state of a container, in runc's
//! JSON shape.

use std::path::Path;

use serde_json::{json, Value};

use super::{load, CmdResult};

pub struct Args {
    pub id: String,
}

/// The owner of a state directory, by name when the host knows it (as runc shows it).
fn owner(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata(dir).map(|m| m.uid()) else {
        return String::new();
    };
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

pub fn oci_state(container: &hull::Container) -> Value {
    let status = container.status();
    let s = container.state();
    let pid = match status {
        hull::Status::Stopped | hull::Status::Creating => 0,
        _ => s.init_pid,
    };
    let mut v = s.oci(status.as_str(), pid);
    v["owner"] = json!(owner(container.dir()));
    v
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let container = load(root, &args.id)?;
    let text = serde_json::to_string_pretty(&oci_state(&container)).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(0)
}
