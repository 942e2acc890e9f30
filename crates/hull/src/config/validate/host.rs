//! What the config names on the host, looked up now so that a create that cannot
//! succeed starts nothing: the namespaces to join, the sources of binds, and the
//! network devices to move (in the runtime's network namespace).

use super::super::Config;
use super::Result;
use crate::error::ConfigError;

pub(super) fn namespace_paths(config: &Config) -> Result<()> {
    for (i, ns) in config.namespaces.iter().enumerate() {
        if let Some(p) = ns.path.as_deref().filter(|p| !p.exists()) {
            return Err(ConfigError::new(
                format!("linux.namespaces[{i}].path"),
                format!("{} does not exist", p.display()),
            ));
        }
    }
    Ok(())
}

pub(super) fn bind_sources(config: &Config) -> Result<()> {
    for (i, m) in config.mounts.iter().enumerate() {
        let Some(source) = m.source.as_deref().filter(|_| m.options.is_bind()) else {
            continue;
        };
        if !source.exists() {
            return Err(ConfigError::new(
                format!("mounts[{i}].source"),
                format!("{} does not exist", source.display()),
            ));
        }
    }
    Ok(())
}

pub(super) fn net_devices(config: &Config) -> Result<()> {
    for host in config.net_devices.keys() {
        let field = format!("linux.netDevices.{host}");
        match crate::netdev::exists(host) {
            Ok(true) => {}
            Ok(false) => {
                return Err(ConfigError::new(
                    field,
                    format!("no network device {host} in the runtime's network namespace"),
                ))
            }
            Err(e) => {
                return Err(ConfigError::new(
                    field,
                    format!("look up network device {host}: {e}"),
                ))
            }
        }
    }
    Ok(())
}

/// Each veth's bridge exists in the runtime's network namespace, and its host end's
/// name is free there.
pub(super) fn bridges(config: &Config) -> Result<()> {
    use crate::config::network::Network;
    for (i, network) in config.networks.iter().enumerate() {
        let Network::Veth(veth) = network else {
            continue;
        };
        let lookup = |name: &str| {
            crate::netdev::link(name).map_err(|e| {
                ConfigError::new(
                    format!("networks[{i}]"),
                    format!("look up device {name}: {e}"),
                )
            })
        };
        // Another kind of master (a bond, a VRF) would take the host end in otherwise.
        match lookup(&veth.bridge)? {
            Some(l) if l.kind.as_deref() == Some("bridge") => {}
            Some(l) => {
                return Err(ConfigError::new(
                    format!("networks[{i}].bridge"),
                    format!(
                        "{} is not a bridge but a {} device",
                        veth.bridge,
                        l.kind.as_deref().unwrap_or("physical")
                    ),
                ))
            }
            None => {
                return Err(ConfigError::new(
                    format!("networks[{i}].bridge"),
                    format!(
                        "no bridge {} in the runtime's network namespace",
                        veth.bridge
                    ),
                ))
            }
        }
        if lookup(&veth.host_name)?.is_some() {
            return Err(ConfigError::new(
                format!("networks[{i}].hostName"),
                format!("a device {} exists already", veth.host_name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{mount_options, Mount, Namespace, NamespaceKind};

    #[test]
    fn namespaces_to_join_exist() {
        let mut c = Config::default();
        c.namespaces.push(Namespace {
            kind: NamespaceKind::Network,
            path: Some("/proc/self/ns/net".into()),
        });
        assert!(namespace_paths(&c).is_ok());
        c.namespaces[0].path = Some("/no/such/netns".into());
        let e = namespace_paths(&c).unwrap_err();
        assert_eq!(e.field, "linux.namespaces[0].path");
    }

    #[test]
    fn bind_sources_exist() {
        let bind = |source: &str| Mount {
            source: Some(source.into()),
            destination: "/x".into(),
            fstype: "bind".into(),
            options: mount_options::parse(&["rbind".into()]).unwrap(),
            idmap: None,
        };
        let mut c = Config {
            mounts: vec![bind("/"), bind("/no/such/source")],
            ..Config::default()
        };
        assert_eq!(bind_sources(&c).unwrap_err().field, "mounts[1].source");
        // A filesystem's source is no path.
        c.mounts[1].options = Default::default();
        assert!(bind_sources(&c).is_ok());
    }
}
