//! The container's system identity: hostname, domain name, and sysctls, the latter
//! written through a verified procfs handle.

use super::InitResult;
use crate::config::Config;
use crate::procfs::Procfs;

/// In a new network namespace, `lo` is up, as runc leaves it.
pub fn network(config: &Config) -> InitResult<()> {
    let new_netns = config
        .namespace(crate::config::NamespaceKind::Network)
        .is_some_and(|n| n.path.is_none());
    if new_netns {
        crate::sys::loopback_up().map_err(|e| format!("bring lo up: {e}"))?;
    }
    Ok(())
}

pub fn set_names(config: &Config) -> InitResult<()> {
    if let Some(name) = &config.hostname {
        nix::unistd::sethostname(name).map_err(|e| format!("set hostname {name:?}: {e}"))?;
    }
    if let Some(name) = &config.domainname {
        // SAFETY: pointer and length of a live string.
        if unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } < 0 {
            return Err(format!(
                "set domainname {name:?}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// Writes each sysctl through hull's procfs handle: a sysctl file shows the
/// namespaces of the process that opens it, which are the container's by now.
pub fn write_sysctls(config: &Config, proc: &Procfs) -> InitResult<()> {
    for (key, value) in &config.sysctl {
        let rel = format!("sys/{}", key.replace('.', "/"));
        proc.write(&rel, value.as_bytes())
            .map_err(|e| format!("sysctl {key}={value}: {e}"))?;
    }
    Ok(())
}
