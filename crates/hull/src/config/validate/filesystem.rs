//! The container's filesystem as the config describes it: absolute paths (the rootfs,
//! mount destinations and bind sources, device nodes, masked and read-only paths), a
//! type for every mount that is not a bind, a source for every bind, device nodes of
//! the three kinds with permission bits only, and a root propagation that is one.

use std::path::Path;

use super::super::Config;
use super::Result;
use crate::error::ConfigError;

pub(super) fn check(config: &Config) -> Result<()> {
    absolute("root.path", &config.rootfs)?;
    if let Some(p) = config.root_propagation {
        let kinds = [
            libc::MS_SHARED,
            libc::MS_SLAVE,
            libc::MS_PRIVATE,
            libc::MS_UNBINDABLE,
        ];
        if !kinds.contains(&(p & !libc::MS_REC)) {
            return Err(ConfigError::new(
                "linux.rootfsPropagation",
                format!("{p:#x} is not a propagation (shared, slave, private or unbindable)"),
            ));
        }
    }
    mounts(config)?;
    devices(config)?;
    for (name, paths) in [
        ("linux.maskedPaths", &config.masked_paths),
        ("linux.readonlyPaths", &config.readonly_paths),
    ] {
        for (i, path) in paths.iter().enumerate() {
            absolute(&format!("{name}[{i}]"), path)?;
        }
    }
    Ok(())
}

fn absolute(field: &str, path: &Path) -> Result<()> {
    if path.is_absolute() {
        return Ok(());
    }
    Err(ConfigError::new(
        field,
        format!("{} is not an absolute path", path.display()),
    ))
}

fn mounts(config: &Config) -> Result<()> {
    for (i, m) in config.mounts.iter().enumerate() {
        let field = |f: &str| format!("mounts[{i}].{f}");
        absolute(&field("destination"), &m.destination)?;
        let bind = m.options.is_bind();
        if m.fstype.is_empty() && !bind {
            return Err(ConfigError::new(
                field("type"),
                "is required for a mount that is not a bind",
            ));
        }
        if bind {
            let source = m
                .source
                .as_deref()
                .ok_or_else(|| ConfigError::new(field("source"), "a bind mount needs a source"))?;
            absolute(&field("source"), source)?;
        }
    }
    Ok(())
}

fn devices(config: &Config) -> Result<()> {
    for (i, d) in config.devices.iter().enumerate() {
        let field = |f: &str| format!("linux.devices[{i}].{f}");
        absolute(&field("path"), &d.path)?;
        if ![libc::S_IFCHR, libc::S_IFBLK, libc::S_IFIFO].contains(&d.kind) {
            return Err(ConfigError::new(
                field("type"),
                format!("{:#o} is not a char, block or fifo device", d.kind),
            ));
        }
        if d.mode & !0o7777 != 0 {
            return Err(ConfigError::new(
                field("fileMode"),
                format!("{:#o} holds more than permission bits", d.mode),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{mount_options, Device, Mount};

    fn field(config: &Config) -> String {
        check(config).expect_err("refused").field
    }

    fn root() -> Config {
        Config {
            rootfs: "/bundle/rootfs".into(),
            ..Config::default()
        }
    }

    fn mount(fstype: &str, options: &[&str], source: &str, destination: &str) -> Mount {
        let raw: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        Mount {
            source: Some(source.into()),
            destination: destination.into(),
            fstype: fstype.into(),
            options: mount_options::parse(&raw).unwrap(),
            idmap: None,
        }
    }

    #[test]
    fn the_rootfs_is_absolute() {
        assert!(check(&root()).is_ok());
        let c = Config {
            rootfs: "rootfs".into(),
            ..root()
        };
        assert_eq!(field(&c), "root.path");
    }

    #[test]
    fn the_root_propagation_is_one() {
        let mut c = root();
        c.root_propagation = Some(libc::MS_SLAVE | libc::MS_REC);
        assert!(check(&c).is_ok());
        c.root_propagation = Some(libc::MS_SHARED | libc::MS_PRIVATE);
        assert_eq!(field(&c), "linux.rootfsPropagation");
    }

    #[test]
    fn mount_destinations_are_absolute() {
        let mut c = root();
        c.mounts = vec![
            mount("tmpfs", &[], "tmpfs", "/tmp"),
            mount("tmpfs", &[], "tmpfs", "tmp"),
        ];
        assert_eq!(field(&c), "mounts[1].destination");
    }

    #[test]
    fn a_mount_that_is_no_bind_has_a_type() {
        let mut c = root();
        c.mounts = vec![mount("", &[], "tmpfs", "/tmp")];
        assert_eq!(field(&c), "mounts[0].type");
        c.mounts = vec![mount("", &["rbind"], "/src", "/tmp")];
        assert!(check(&c).is_ok());
    }

    #[test]
    fn a_bind_has_an_absolute_source() {
        let mut c = root();
        c.mounts = vec![mount("bind", &["bind"], "src", "/x")];
        assert_eq!(field(&c), "mounts[0].source");
        c.mounts[0].source = None;
        assert_eq!(field(&c), "mounts[0].source");
    }

    fn null() -> Device {
        Device {
            path: "/dev/null2".into(),
            kind: libc::S_IFCHR,
            major: 1,
            minor: 3,
            mode: 0o666,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn devices() {
        let mut c = root();
        c.devices = vec![null()];
        assert!(check(&c).is_ok());
        c.devices[0].path = "dev/null2".into();
        assert_eq!(field(&c), "linux.devices[0].path");
        c.devices[0] = Device {
            kind: libc::S_IFDIR,
            ..null()
        };
        assert_eq!(field(&c), "linux.devices[0].type");
        c.devices[0] = Device {
            mode: libc::S_IFCHR | 0o666,
            ..null()
        };
        assert_eq!(field(&c), "linux.devices[0].fileMode");
    }

    #[test]
    fn masked_and_readonly_paths_are_absolute() {
        let mut c = root();
        c.masked_paths = vec!["/proc/kcore".into(), "proc/keys".into()];
        assert_eq!(field(&c), "linux.maskedPaths[1]");
        c.masked_paths.pop();
        c.readonly_paths = vec!["sys".into()];
        assert_eq!(field(&c), "linux.readonlyPaths[0]");
    }
}
