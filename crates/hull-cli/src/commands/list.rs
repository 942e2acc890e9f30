//! `hull list`: the containers under the state root, as runc's table, JSON, or ids.

use std::path::Path;

use super::state::Owners;
use super::{factory, print, CmdResult};

pub struct Args {
    /// table or json.
    pub format: String,
    /// Print only the ids.
    pub quiet: bool,
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let factory = factory(root)?;
    let mut owners = Owners::default();
    let mut states = Vec::new();
    for overview in factory.overview().map_err(|e| e.to_string())? {
        // As runc: a container that cannot be read is reported, the others listed.
        match overview {
            Ok(o) => {
                let mut state = o.oci();
                state["owner"] = owners.name(o.owner).into();
                states.push(state);
            }
            Err(e) => {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "hull: list: {e}");
            }
        }
    }
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
