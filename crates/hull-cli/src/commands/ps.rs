//! `hull ps`: the container's processes, as `ps` shows them (filtered to the container)
//! or as a JSON list of pids.

use std::path::Path;
use std::process::Command;

use super::{load, print, CmdResult};

pub struct Args {
    /// table or json.
    pub format: String,
    pub id: String,
    /// Options for ps(1) (default -ef).
    pub ps_args: Vec<String>,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let container = load(root, &args.id)?;
    let pids = container.processes().map_err(|e| e.to_string())?;
    if args.format == "json" {
        return print(&(serde_json::to_string(&pids).map_err(|e| e.to_string())? + "\n"));
    }
    let ps_args = if args.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        args.ps_args
    };
    let output = Command::new("ps")
        .args(&ps_args)
        .output()
        .map_err(|e| format!("run ps: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "ps {}: {}",
            ps_args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or("ps output has no PID column")?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out += line;
            out.push('\n');
        }
    }
    print(&out)
}
