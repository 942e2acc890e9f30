//! `hull list`: the containers under the state root, as runc's table, JSON, or ids.

use std::path::Path;

use super::state::{oci_state, Owners};
use super::{factory, print, CmdResult};

pub struct Args {
    /// table or json.
    pub format: String,
    /// Print only the ids.
    pub quiet: bool,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let factory = factory(root)?;
    let ids = factory.list().map_err(|e| e.to_string())?;
    let mut owners = Owners::default();
    // A container deleted while we list is simply not shown.
    let states: Vec<_> = ids
        .iter()
        .filter_map(|id| factory.load(id).ok())
        .map(|c| oci_state(&c, &mut owners))
        .collect();
    let mut out = String::new();
    if args.quiet {
        for s in &states {
            out += s["id"].as_str().unwrap_or_default();
            out.push('\n');
        }
    } else if args.format == "json" {
        out = serde_json::Value::Array(states).to_string() + "\n";
    } else {
        let rows: Vec<[String; 6]> = states
            .iter()
            .map(|s| {
                let f = |k: &str| match &s[k] {
                    serde_json::Value::String(v) => v.clone(),
                    other => other.to_string(),
                };
                [
                    f("id"),
                    f("pid"),
                    f("status"),
                    f("bundle"),
                    f("created"),
                    f("owner"),
                ]
            })
            .collect();
        let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
        let mut widths = [0usize; 6];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i == 5 {
                    out += cell;
                } else {
                    out += &format!("{cell:<w$}   ");
                }
            }
            out.push('\n');
        }
    }
    print(&out)
}
