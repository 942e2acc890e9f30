//! `hull state` (and `list --format json`): the OCI state of a container, in runc's
//! JSON shape.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use super::{load, print, CmdResult};

pub struct Args {
    pub id: String,
}

/// The names of the users owning state directories, each looked up once (`list` shows
/// many containers of few users, and each lookup reads the whole user database).
#[derive(Default)]
pub struct Owners(HashMap<u32, String>);

impl Owners {
    /// The owner of state directory `dir`, by name when the host knows it (as runc
    /// shows it).
    pub fn of(&mut self, dir: &Path) -> String {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(dir) {
            Ok(m) => self.name(m.uid()),
            Err(_) => String::new(),
        }
    }

    /// The name of user `uid` (its number where the host has no name for it).
    pub fn name(&mut self, uid: u32) -> String {
        self.0
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(uid.into())
                    .ok()
                    .flatten()
                    .map(|u| u.name)
                    .unwrap_or_else(|| uid.to_string())
            })
            .clone()
    }
}

pub fn oci_state(container: &hull::Container, owners: &mut Owners) -> Value {
    let status = container.status();
    let s = container.state();
    let pid = match status {
        hull::Status::Stopped | hull::Status::Creating => 0,
        _ => s.init_pid,
    };
    let mut v = s.oci(status.as_str(), pid);
    v["owner"] = json!(owners.of(container.dir()));
    v
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let container = load(root, &args.id)?;
    let state = oci_state(&container, &mut Owners::default());
    let text = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
    print(&(text + "\n"))
}
