//! The systemd cgroup driver (runc's `--systemd-cgroup`): the container's cgroup is a
//! transient scope unit that systemd makes over D-Bus (`StartTransientUnit`, with
//! `Delegate=yes` and the resource properties systemd knows, so that systemd keeps
//! them), in the slice `linux.cgroupsPath` names as `slice:prefix:name`. systemd puts
//! init in the scope; hull then writes every limit to the scope's cgroup files as the
//! cgroupfs driver does (the ones systemd has no property for too), and stops the unit
//! on delete.
//!
//! hull talks to systemd's own socket (`/run/systemd/private`, or the user manager's
//! for an unprivileged user), or else to the message bus.

pub mod dbus;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use self::dbus::{Arg, Connection, Value};
use super::CgroupError;
use crate::config::resources::Resources;

/// A container's scope unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// `<prefix>-<name>.scope`.
    pub unit: String,
    /// The slice it goes in (`system.slice`, `user.slice`, `machine-foo.slice`).
    pub slice: String,
    /// Under the user's own systemd instance (an unprivileged user), not the system's.
    pub user: bool,
}

fn refused(why: impl Into<String>) -> CgroupError {
    CgroupError::Systemd(why.into())
}

impl Scope {
    /// The scope for `cgroups_path` in runc's `slice:prefix:name` form (an empty slice
    /// is `system.slice`, or `user.slice` for an unprivileged user); with no path,
    /// `hull-<id>.scope` in that slice.
    pub fn parse(cgroups_path: Option<&Path>, id: &str, user: bool) -> Result<Scope, CgroupError> {
        let default_slice = if user { "user.slice" } else { "system.slice" };
        let Some(path) = cgroups_path else {
            return Ok(Scope {
                unit: format!("hull-{id}.scope"),
                slice: default_slice.into(),
                user,
            });
        };
        let text = path.to_string_lossy();
        let parts: Vec<&str> = text.split(':').collect();
        let [slice, prefix, name] = parts.as_slice() else {
            return Err(CgroupError::SystemdPath(path.to_path_buf()));
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.@\\".contains(&b))
        };
        if !(slice.is_empty() || (valid(slice) && slice.ends_with(".slice")))
            || !valid(name)
            || !(prefix.is_empty() || valid(prefix))
            || name.ends_with(".slice")
        {
            return Err(CgroupError::SystemdPath(path.to_path_buf()));
        }
        let unit = match *prefix {
            "" => format!("{name}.scope"),
            prefix => format!("{prefix}-{name}.scope"),
        };
        Ok(Scope {
            unit,
            slice: if slice.is_empty() {
                default_slice.into()
            } else {
                slice.to_string()
            },
            user,
        })
    }

    /// The scope's cgroup below the manager's own: the slice's nesting (`a-b.slice`
    /// lives in `a.slice/a-b.slice`) and the unit.
    pub fn relative_dir(&self) -> PathBuf {
        let mut dir = PathBuf::new();
        let base = self.slice.trim_end_matches(".slice");
        if base != "-" {
            let mut prefix = String::new();
            for part in base.split('-') {
                if !prefix.is_empty() {
                    prefix.push('-');
                }
                prefix.push_str(part);
                dir.push(format!("{prefix}.slice"));
            }
        }
        dir.join(&self.unit)
    }

    /// The cgroup (from a hierarchy's root) of the systemd instance the scope goes to.
    pub fn manager_cgroup(&self) -> Result<PathBuf, CgroupError> {
        let root = with_connection(self.user, |conn| conn.get_manager_property("ControlGroup"))
            .map_err(failed("reading the manager's ControlGroup".into()))?
            .unwrap_or_default();
        Ok(PathBuf::from(if root.is_empty() { "/" } else { &root }))
    }

    /// Makes the scope with `pid` in it and the properties of `resources`, and waits
    /// (bounded) until systemd has moved the pid into the scope's cgroup `dir`.
    pub fn start(
        &self,
        pid: i32,
        id: &str,
        resources: &Resources,
        dir: &Path,
    ) -> Result<(), CgroupError> {
        let mut props = vec![
            (
                "Description".to_string(),
                Value::Str(format!("hull container {id}")),
            ),
            ("Slice".into(), Value::Str(self.slice.clone())),
            ("Delegate".into(), Value::Bool(true)),
            ("DefaultDependencies".into(), Value::Bool(false)),
            ("PIDs".into(), Value::U32s(vec![pid as u32])),
        ];
        props.extend(properties(resources));
        let args = [
            Arg::Str(self.unit.clone()),
            Arg::Str("fail".into()),
            Arg::Properties(props),
            Arg::NoAuxUnits,
        ];
        with_connection(self.user, |conn| {
            conn.call_manager("StartTransientUnit", &args)
        })
        .map_err(failed(format!("starting {}", self.unit)))?;
        let procs = dir.join("cgroup.procs");
        let mut checks = 0u32;
        let mut failed_scope = false;
        let placed = wait_until(&format!("init in {}", dir.display()), || {
            let placed = std::fs::read_to_string(&procs)
                .is_ok_and(|p| p.lines().any(|l| l.trim() == pid.to_string()));
            // Not there yet: every 50 looks, has the scope failed (systemd could not
            // move init)?
            checks += 1;
            if !placed && checks % 50 == 0 {
                failed_scope = self.active_state().as_deref() == Some("failed");
            }
            placed || failed_scope
        });
        if failed_scope {
            let _ = self.stop(dir);
            return Err(refused(format!(
                "{} failed: systemd could not move init into it{}",
                self.unit,
                if self.user {
                    " (from outside its own cgroups the user's systemd needs the \
                     system's, over the system bus)"
                } else {
                    ""
                }
            )));
        }
        placed
    }

    /// The scope unit's `ActiveState`, if systemd can say.
    fn active_state(&self) -> Option<String> {
        with_connection(self.user, |conn| {
            conn.get_unit_property(&self.unit, "ActiveState")
        })
        .ok()
        .flatten()
    }

    /// Changes the scope's properties for new limits (runtime only, as runc), so that
    /// systemd keeps what the files are set to.
    pub fn set(&self, resources: &Resources) -> Result<(), CgroupError> {
        let props = properties(resources);
        if props.is_empty() {
            return Ok(());
        }
        let args = [
            Arg::Str(self.unit.clone()),
            Arg::Bool(true),
            Arg::Properties(props),
        ];
        with_connection(self.user, |conn| {
            conn.call_manager("SetUnitProperties", &args)
        })
        .map(drop)
        .map_err(failed(format!("updating {}", self.unit)))
    }

    /// Stops the unit and waits (bounded) until its cgroup `dir` is gone; a unit that
    /// is already gone is fine. Its failed state is reset, so the name is free again.
    pub fn stop(&self, dir: &Path) -> Result<(), CgroupError> {
        let args = [Arg::Str(self.unit.clone()), Arg::Str("replace".into())];
        match with_connection(self.user, |conn| conn.call_manager("StopUnit", &args)) {
            Err(CallError::Io(e)) if e.to_string().contains("NoSuchUnit") => {}
            other => {
                other.map_err(failed(format!("stopping {}", self.unit)))?;
            }
        }
        let gone = wait_until(&format!("{} to go", dir.display()), || !dir.exists());
        let unit = [Arg::Str(self.unit.clone())];
        let _ = with_connection(self.user, |conn| {
            conn.call_manager("ResetFailedUnit", &unit)
        });
        gone
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Result<(), CgroupError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return Err(refused(format!("timed out waiting for {what}")));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// The unit properties systemd has for `resources` (as runc sets them): memory,
/// tasks, CPU weight and quota, cpusets, IO weight. The rest is written to the files.
pub fn properties(r: &Resources) -> Vec<(String, Value)> {
    let mut props = Vec::new();
    let mut add = |name: &str, value: Value| props.push((name.to_string(), value));
    if let Some(limit) = r.memory.limit.filter(|l| *l > 0) {
        add("MemoryMax", Value::U64(limit as u64));
    }
    if let Some(pids) = r.pids_limit.filter(|p| *p > 0) {
        add("TasksMax", Value::U64(pids as u64));
    }
    if let Some(shares) = r.cpu.shares {
        add("CPUWeight", Value::U64(super::v2::shares_to_weight(shares)));
    }
    let period = r.cpu.period.unwrap_or(100_000);
    if let Some(period) = r.cpu.period {
        add("CPUQuotaPeriodUSec", Value::U64(period));
    }
    if let Some(quota) = r.cpu.quota.filter(|q| *q > 0) {
        // systemd keeps the quota per second, in steps of 10 ms: round up, as runc.
        let per_sec = (quota as u64 * 1_000_000).div_ceil(period).div_ceil(10_000) * 10_000;
        add("CPUQuotaPerSecUSec", Value::U64(per_sec));
    }
    if let Some(mask) = r.cpu.cpus.as_deref().and_then(bitmask) {
        add("AllowedCPUs", Value::Bytes(mask));
    }
    if let Some(mask) = r.cpu.mems.as_deref().and_then(bitmask) {
        add("AllowedMemoryNodes", Value::Bytes(mask));
    }
    if let Some(weight) = r.block_io.weight {
        add(
            "IOWeight",
            Value::U64(super::v2::blkio_weight_to_io(weight)),
        );
    }
    props
}

/// A cpuset list (`0-2,5`) as systemd's byte mask: bit `n` of the little-endian mask
/// is cpu `n`. `None` for a list that does not parse (the files refuse it later).
fn bitmask(list: &str) -> Option<Vec<u8>> {
    let mut mask = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => (part.parse().ok()?, part.parse().ok()?),
        };
        if lo > hi || hi > 8191 {
            return None;
        }
        for n in lo..=hi {
            if mask.len() <= n / 8 {
                mask.resize(n / 8 + 1, 0);
            }
            mask[n / 8] |= 1 << (n % 8);
        }
    }
    Some(mask)
}

/// What a call through [`with_connection`] can fail with.
#[derive(Debug)]
enum CallError {
    /// No systemd to talk to.
    Unreachable(CgroupError),
    /// The call itself (a D-Bus error carries its name and text).
    Io(std::io::Error),
}

/// The error of a call that was `doing` something: systemd out of reach says so alone.
fn failed(doing: String) -> impl FnOnce(CallError) -> CgroupError {
    move |e| match e {
        CallError::Unreachable(e) => e,
        CallError::Io(e) => refused(format!("{doing}: {e}")),
    }
}

thread_local! {
    /// One connection per process and systemd instance (a create talks to systemd
    /// two or three times): connecting and authenticating once is enough.
    static CONNECTION: std::cell::RefCell<Option<(bool, Connection)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `call` on this process's connection to the system's (or the user's) systemd,
/// made on first use.
fn with_connection<T>(
    user: bool,
    call: impl FnOnce(&mut Connection) -> std::io::Result<T>,
) -> Result<T, CallError> {
    CONNECTION.with(|cell| {
        let mut slot = cell.borrow_mut();
        if !matches!(&*slot, Some((u, _)) if *u == user) {
            *slot = Some((user, connect(user).map_err(CallError::Unreachable)?));
        }
        let (_, conn) = slot.as_mut().expect("just made");
        let result = call(conn).map_err(CallError::Io);
        if result.is_err() {
            // A broken connection is not kept for the next call.
            *slot = None;
        }
        result
    })
}

/// A connection to the system's systemd, or to the user's own for an unprivileged
/// user: its private socket first, then the bus.
fn connect(user: bool) -> Result<Connection, CgroupError> {
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    let mut tried: Vec<(PathBuf, bool)> = Vec::new();
    if user {
        if let Some(dir) = &runtime_dir {
            tried.push((dir.join("systemd/private"), false));
            tried.push((dir.join("bus"), true));
        }
    } else {
        tried.push((PathBuf::from("/run/systemd/private"), false));
        let bus = std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
            .ok()
            .and_then(|a| a.strip_prefix("unix:path=").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("/run/dbus/system_bus_socket"));
        tried.push((bus, true));
    }
    let mut errors = Vec::new();
    for (path, on_bus) in &tried {
        match Connection::open(path, *on_bus) {
            Ok(conn) => return Ok(conn),
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    Err(refused(format!(
        "cannot reach {} systemd over D-Bus ({})",
        if user { "the user's" } else { "the system's" },
        errors.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroups_paths_in_runcs_form() {
        let scope =
            Scope::parse(Some(Path::new("machine-web.slice:hull:abc")), "x", false).unwrap();
        assert_eq!(scope.unit, "hull-abc.scope");
        assert_eq!(scope.slice, "machine-web.slice");
        assert_eq!(
            scope.relative_dir(),
            Path::new("machine.slice/machine-web.slice/hull-abc.scope")
        );
        let scope = Scope::parse(Some(Path::new(":docker:abc")), "x", true).unwrap();
        assert_eq!(
            (scope.unit.as_str(), scope.slice.as_str()),
            ("docker-abc.scope", "user.slice")
        );
        let scope = Scope::parse(None, "c1", false).unwrap();
        assert_eq!(
            scope.relative_dir(),
            Path::new("system.slice/hull-c1.scope")
        );
        for bad in [
            "/sys/fs/cgroup/x",
            "a:b",
            "a.slice:p:n:x",
            "nota:p:n",
            "system.slice:p:",
            "s.slice:p:n.slice",
            "s.slice:p:../x",
        ] {
            assert!(
                Scope::parse(Some(Path::new(bad)), "x", false).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn resources_become_systemd_properties() {
        let mut r = Resources::default();
        r.memory.limit = Some(64 << 20);
        r.pids_limit = Some(32);
        r.cpu.shares = Some(1024);
        r.cpu.quota = Some(50_001);
        r.cpu.period = Some(100_000);
        r.cpu.cpus = Some("0-2,9".into());
        let props = properties(&r);
        let get = |name: &str| {
            props
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("MemoryMax"), Some(Value::U64(64 << 20)));
        assert_eq!(get("TasksMax"), Some(Value::U64(32)));
        assert_eq!(get("CPUWeight"), Some(Value::U64(39)));
        // 50.001% of a CPU, rounded up to the next 10 ms per second.
        assert_eq!(get("CPUQuotaPerSecUSec"), Some(Value::U64(510_000)));
        assert_eq!(get("AllowedCPUs"), Some(Value::Bytes(vec![0b111, 0b10])));
        assert!(properties(&Resources::default()).is_empty());
    }
}
