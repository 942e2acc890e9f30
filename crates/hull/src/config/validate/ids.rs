//! The container's namespaces and the settings only a new one takes: at most one
//! namespace of each kind; uid and gid mappings exactly when the user namespace is new
//! (each a map the kernel takes); clock offsets of the two clocks a time namespace
//! shifts, and only when that namespace is new.

use super::super::idmap;
use super::super::{Config, NamespaceKind};
use super::Result;
use crate::error::ConfigError;

pub(super) fn check(config: &Config) -> Result<()> {
    for (i, ns) in config.namespaces.iter().enumerate() {
        if config.namespaces[..i].iter().any(|n| n.kind == ns.kind) {
            return Err(ConfigError::new(
                format!("linux.namespaces[{i}]"),
                format!("duplicate {} namespace", ns.kind.oci_name()),
            ));
        }
    }
    let new = |kind| config.namespace(kind).is_some_and(|n| n.path.is_none());
    mappings(config, new(NamespaceKind::User))?;
    time_offsets(config, new(NamespaceKind::Time))
}

/// Mappings are written into a new user namespace, and only there.
fn mappings(config: &Config, new_user: bool) -> Result<()> {
    let maps = [
        ("linux.uidMappings", &config.uid_mappings),
        ("linux.gidMappings", &config.gid_mappings),
    ];
    if !new_user {
        if maps.iter().any(|(_, m)| !m.is_empty()) {
            return Err(ConfigError::new(
                "linux.uidMappings",
                "mappings are only possible with a new user namespace",
            ));
        }
        return Ok(());
    }
    if maps.iter().any(|(_, m)| m.is_empty()) {
        return Err(ConfigError::new(
            "linux.uidMappings",
            "a new user namespace needs uid and gid mappings",
        ));
    }
    for (field, m) in maps {
        idmap::check(m).map_err(|(at, why)| ConfigError::new(format!("{field}{at}"), why))?;
    }
    Ok(())
}

fn time_offsets(config: &Config, new_time: bool) -> Result<()> {
    for (clock, offset) in &config.time_offsets {
        let field = format!("linux.timeOffsets.{clock}");
        if clock != "monotonic" && clock != "boottime" {
            return Err(ConfigError::new(
                field,
                "only monotonic and boottime have offsets",
            ));
        }
        if offset.nanosecs >= 1_000_000_000 {
            return Err(ConfigError::new(
                format!("{field}.nanosecs"),
                "must be below 1000000000",
            ));
        }
    }
    if !config.time_offsets.is_empty() && !new_time {
        return Err(ConfigError::new(
            "linux.timeOffsets",
            "offsets need a new time namespace",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{IdMap, Namespace, TimeOffset};

    fn with(kinds: &[NamespaceKind]) -> Config {
        let namespaces = kinds
            .iter()
            .map(|&kind| Namespace { kind, path: None })
            .collect();
        Config {
            namespaces,
            ..Config::default()
        }
    }

    fn field(config: &Config) -> String {
        check(config).expect_err("refused").field
    }

    const MAP: IdMap = IdMap {
        container_id: 0,
        host_id: 100_000,
        size: 65536,
    };

    #[test]
    fn one_namespace_of_a_kind() {
        let c = with(&[NamespaceKind::Pid, NamespaceKind::Ipc, NamespaceKind::Pid]);
        assert_eq!(field(&c), "linux.namespaces[2]");
    }

    #[test]
    fn a_new_user_namespace_needs_both_mappings() {
        let mut c = with(&[NamespaceKind::User]);
        c.uid_mappings = vec![MAP];
        assert_eq!(field(&c), "linux.uidMappings");
        c.gid_mappings = vec![MAP];
        assert!(check(&c).is_ok());
    }

    #[test]
    fn mappings_need_a_new_user_namespace() {
        let mut c = with(&[]);
        c.gid_mappings = vec![MAP];
        assert_eq!(field(&c), "linux.uidMappings");
        c.namespaces.push(Namespace {
            kind: NamespaceKind::User,
            path: Some("/proc/1/ns/user".into()),
        });
        assert_eq!(field(&c), "linux.uidMappings");
    }

    #[test]
    fn mappings_are_maps_the_kernel_takes() {
        let mut c = with(&[NamespaceKind::User]);
        c.uid_mappings = vec![MAP];
        c.gid_mappings = vec![MAP, IdMap { size: 0, ..MAP }];
        assert_eq!(field(&c), "linux.gidMappings[1].size");
    }

    #[test]
    fn offsets_of_two_clocks_in_a_new_time_namespace() {
        let mut c = with(&[]);
        let one = TimeOffset {
            secs: 1,
            nanosecs: 0,
        };
        c.time_offsets.insert("monotonic".into(), one);
        assert_eq!(field(&c), "linux.timeOffsets");
        c.namespaces.push(Namespace {
            kind: NamespaceKind::Time,
            path: None,
        });
        assert!(check(&c).is_ok());
        c.time_offsets.insert("realtime".into(), one);
        assert_eq!(field(&c), "linux.timeOffsets.realtime");
        c.time_offsets.remove("realtime");
        c.time_offsets.insert(
            "boottime".into(),
            TimeOffset {
                secs: 0,
                nanosecs: 1_000_000_000,
            },
        );
        assert_eq!(field(&c), "linux.timeOffsets.boottime.nanosecs");
    }
}
