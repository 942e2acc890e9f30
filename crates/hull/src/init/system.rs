//! The container's system identity: hostname, domain name, and sysctls, the latter
//! written through a verified procfs handle.

use super::error::{InitResult, Step};
use crate::config::Config;
use crate::procfs::Procfs;

/// In a new network namespace, `lo` is up, as runc leaves it.
pub fn network(config: &Config) -> InitResult<()> {
    let new_netns = config
        .namespace(crate::config::NamespaceKind::Network)
        .is_some_and(|n| n.path.is_none());
    if new_netns {
        crate::sys::loopback_up().step("bring lo up")?;
    }
    Ok(())
}

pub fn set_names(config: &Config) -> InitResult<()> {
    if let Some(name) = &config.hostname {
        nix::unistd::sethostname(name).step(format!("set hostname {name:?}"))?;
    }
    if let Some(name) = &config.domainname {
        crate::sys::setdomainname(name).step(format!("set domainname {name:?}"))?;
    }
    Ok(())
}

/// Writes each sysctl through hull's procfs handle: a sysctl file shows the
/// namespaces of the process that opens it, which are the container's by now.
pub fn write_sysctls(config: &Config, proc: &Procfs) -> InitResult<()> {
    for (key, value) in &config.sysctl {
        let rel = format!("sys/{}", key.replace('.', "/"));
        proc.write(&rel, value.as_bytes())
            .step(format!("sysctl {key}={value}"))?;
    }
    Ok(())
}
