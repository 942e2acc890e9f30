//! `hull delete`: removes a stopped or created container; --force kills a running one
//! first. A container whose state is gone is reported, except with --force.

use std::path::Path;

use hull::Status;

use super::{load, CmdResult};

pub struct Args {
    /// Kill the container first if it is running.
    pub force: bool,
    pub id: String,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let container = match load(root, &args.id) {
        Ok(c) => c.locked().map_err(|e| e.to_string())?,
        // runc: `delete --force` of a container that does not exist succeeds.
        Err(_) if args.force && hull::factory::validate_id(&args.id).is_ok() => return Ok(0),
        Err(e) => return Err(e),
    };
    match container.status() {
        Status::Stopped | Status::Created => {}
        _ if args.force => {}
        status => {
            return Err(format!(
                "cannot delete container {:?} that is not stopped: it is {status} (use --force)",
                args.id
            ))
        }
    }
    super::hook_warning(container.destroy())?;
    Ok(0)
}
