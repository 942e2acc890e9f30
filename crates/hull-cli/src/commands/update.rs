//! `hull update`: changes a running container's limits, from an OCI resources JSON
//! (`--resources FILE`, `-` for stdin) and/or runc's per-field flags. All or nothing:
//! if the kernel refuses one value, the previous limits stay in force.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::{locked, CmdResult};

pub struct Args {
    /// An OCI linux.resources JSON file, or - for stdin.
    pub resources: Option<String>,
    pub blkio_weight: Option<u16>,
    pub cpu_period: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_share: Option<u64>,
    pub cpu_rt_period: Option<u64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// Memory limit: bytes, or with a unit (k, m, g), -1 for none.
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit.
    pub memory_swap: Option<String>,
    pub kernel_memory_tcp: Option<String>,
    pub pids_limit: Option<i64>,
    pub id: String,
}

/// `512m` -> 536870912; `-1` stays -1.
fn bytes(flag: &str, s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('b');
    let (num, mult) = match trimmed.chars().last() {
        Some('k') => (&trimmed[..trimmed.len() - 1], 1i64 << 10),
        Some('m') => (&trimmed[..trimmed.len() - 1], 1 << 20),
        Some('g') => (&trimmed[..trimmed.len() - 1], 1 << 30),
        Some('t') => (&trimmed[..trimmed.len() - 1], 1 << 40),
        _ => (trimmed, 1),
    };
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("--{flag}: {s:?} is not a size"))
}

fn set(obj: &mut Value, section: &str, key: &str, value: Value) {
    let map = obj.as_object_mut().expect("an object");
    let entry = map
        .entry(section)
        .or_insert_with(|| Value::Object(Map::new()));
    entry[key] = value;
}

/// The flags as an OCI resources object, to go through the same checks as a file.
fn flags_json(a: &Args) -> Result<Value, String> {
    let mut v = json!({});
    let mem = [
        ("memory", "limit", &a.memory),
        ("memory-reservation", "reservation", &a.memory_reservation),
        ("memory-swap", "swap", &a.memory_swap),
        ("kernel-memory-tcp", "kernelTCP", &a.kernel_memory_tcp),
    ];
    for (flag, key, val) in mem {
        if let Some(s) = val {
            set(&mut v, "memory", key, json!(bytes(flag, s)?));
        }
    }
    let cpu = [
        ("period", a.cpu_period.map(|n| json!(n))),
        ("quota", a.cpu_quota.map(|n| json!(n))),
        ("shares", a.cpu_share.map(|n| json!(n))),
        ("realtimePeriod", a.cpu_rt_period.map(|n| json!(n))),
        ("realtimeRuntime", a.cpu_rt_runtime.map(|n| json!(n))),
        ("cpus", a.cpuset_cpus.clone().map(Value::from)),
        ("mems", a.cpuset_mems.clone().map(Value::from)),
    ];
    for (key, val) in cpu {
        if let Some(val) = val {
            set(&mut v, "cpu", key, val);
        }
    }
    if let Some(n) = a.pids_limit {
        set(&mut v, "pids", "limit", json!(n));
    }
    if let Some(n) = a.blkio_weight {
        set(&mut v, "blockIO", "weight", json!(n));
    }
    Ok(v)
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let mut resources = match &args.resources {
        Some(path) => {
            let mut text = Vec::new();
            if path == "-" {
                std::io::stdin()
                    .read_to_end(&mut text)
                    .map_err(|e| format!("read stdin: {e}"))?;
            } else {
                text = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
            }
            hull::spec::resources_from_json(&text).map_err(|e| e.to_string())?
        }
        None => hull::config::resources::Resources::default(),
    };
    let flags = flags_json(&args)?;
    let from_flags =
        hull::spec::resources_from_json(flags.to_string().as_bytes()).map_err(|e| e.to_string())?;
    resources.merge(&from_flags);
    let mut container = locked(root, &args.id)?;
    container.set(&resources).map_err(|e| match e {
        // The limits given are not config.json's: the field and why say it all.
        hull::Error::Config(e) => e.to_string(),
        e => e.to_string(),
    })?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn sizes() {
        assert_eq!(bytes("memory", "512m"), Ok(512 << 20));
        assert_eq!(bytes("memory", "1G"), Ok(1 << 30));
        assert_eq!(bytes("memory", "100"), Ok(100));
        assert_eq!(bytes("memory", "-1"), Ok(-1));
        assert!(bytes("memory", "lots").is_err());
    }
}
