//! The id maps of a new user namespace, written by the parent for its child. Root
//! writes `/proc/<pid>/uid_map` and `gid_map` itself. An unprivileged user may write
//! only a map of their own id (and, for groups, only once `setgroups` is denied, as
//! the kernel requires); anything more goes through the setuid helpers
//! `newuidmap`/`newgidmap`, which allow the ranges `/etc/subuid` and `/etc/subgid`
//! give the user, as runc does.

use std::process::Command;

use crate::config::{Config, IdMap};
use crate::error::{ConfigError, Error, Result};
use crate::procfs::Procfs;

/// How one map gets written.
#[derive(Debug, PartialEq, Eq)]
enum Writer {
    /// Straight into `/proc/<pid>/<file>`.
    Direct,
    /// `setgroups` denied first, then straight in (an unprivileged user's own gid).
    DenySetgroups,
    /// Through the setuid helper of that name.
    Helper(&'static str),
}

/// Who writes a map of `kind` (uid or gid) with `maps`, for a caller whose effective
/// id of that kind is `own`, root or not.
fn writer(maps: &[IdMap], own: u32, root: bool, uid: bool) -> Writer {
    let just_own = matches!(maps, [m] if m.host_id == own && m.size == 1);
    match (root, just_own, uid) {
        (true, _, _) => Writer::Direct,
        (false, true, true) => Writer::Direct,
        (false, true, false) => Writer::DenySetgroups,
        (false, false, true) => Writer::Helper("newuidmap"),
        (false, false, false) => Writer::Helper("newgidmap"),
    }
}

/// Writes the uid and gid maps of `config` for the new user namespace of `pid`.
pub(crate) fn write(config: &Config, pid: i32) -> Result<()> {
    let root = !super::unprivileged();
    let proc = Procfs::open().map_err(|e| Error::sys("open /proc", e))?;
    let uids = &config.uid_mappings;
    let gids = &config.gid_mappings;
    let own_uid = nix::unistd::geteuid().as_raw();
    let own_gid = nix::unistd::getegid().as_raw();
    write_one(
        &proc,
        pid,
        "uid_map",
        uids,
        writer(uids, own_uid, root, true),
    )?;
    write_one(
        &proc,
        pid,
        "gid_map",
        gids,
        writer(gids, own_gid, root, false),
    )
}

fn write_one(proc: &Procfs, pid: i32, file: &str, maps: &[IdMap], how: Writer) -> Result<()> {
    if maps.is_empty() {
        return Ok(());
    }
    let field = if file == "uid_map" {
        "linux.uidMappings"
    } else {
        "linux.gidMappings"
    };
    match how {
        Writer::Helper(program) => return helper(program, field, pid, maps),
        Writer::DenySetgroups => proc
            .write(&format!("{pid}/setgroups"), b"deny")
            .map_err(|e| Error::sys("deny setgroups", e))?,
        Writer::Direct => {}
    }
    proc.write(&format!("{pid}/{file}"), map_text(maps).as_bytes())
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) => Error::Config(ConfigError::new(
                field,
                format!("this user may not map these ids: {e}"),
            )),
            _ => Error::sys("write id map", e),
        })
}

/// The text of a `uid_map` or `gid_map` file: one `inside outside count` line each.
pub(super) fn map_text(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

fn helper(program: &'static str, field: &str, pid: i32, maps: &[IdMap]) -> Result<()> {
    let mut cmd = Command::new(program);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.args([
            m.container_id.to_string(),
            m.host_id.to_string(),
            m.size.to_string(),
        ]);
    }
    let why = match cmd.output() {
        Ok(out) if out.status.success() => return Ok(()),
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("{program}: {e} (it comes with the uidmap package)"),
    };
    Err(Error::Config(ConfigError::new(
        field,
        format!(
            "mapping more than the user's own id needs {program} and a range for the \
             user in /etc/sub{}id: {why}",
            if program == "newuidmap" { "u" } else { "g" }
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(host_id: u32, size: u32) -> IdMap {
        IdMap {
            container_id: 0,
            host_id,
            size,
        }
    }

    #[test]
    fn maps_are_written_inside_outside_count() {
        let maps = [map(1234, 1000), map(5000, 1)];
        assert_eq!(map_text(&maps), "0 1234 1000\n0 5000 1\n");
    }

    #[test]
    fn who_writes_the_maps() {
        assert_eq!(writer(&[map(1000, 65536)], 0, true, true), Writer::Direct);
        assert_eq!(writer(&[map(1000, 1)], 1000, false, true), Writer::Direct);
        assert_eq!(
            writer(&[map(1000, 1)], 1000, false, false),
            Writer::DenySetgroups
        );
        assert_eq!(
            writer(&[map(1000, 1), map(100000, 65536)], 1000, false, true),
            Writer::Helper("newuidmap")
        );
        assert_eq!(
            writer(&[map(0, 1)], 1000, false, false),
            Writer::Helper("newgidmap")
        );
    }
}
