//! Idmapped bind mounts, made by the runtime before init exists and moved into place
//! by init in the order of the mounts.
//!
//! The runtime makes them, not init: the kernel idmaps a mount only for a caller with
//! CAP_SYS_ADMIN over the filesystem's user namespace (the host's, for a host
//! directory) and over the namespace of the mapping, which init inside a user
//! namespace of its own has neither of; and the mappings' host ids are the runtime's.
//! Each mount is a detached copy of the source (`open_tree`), given the propagation a
//! bind made inside the container would have, then idmapped (`mount_setattr`); init
//! inherits the descriptors and `move_mount`s each one onto its destination.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::config::{idmap::MountIdmap, Config, NamespaceKind};
use crate::error::{ConfigError, Error, Result};
use crate::process::map_userns::MapNamespaces;
use crate::sys;

/// The detached idmapped mounts, by index in [`Config::mounts`].
#[derive(Default)]
pub struct IdmappedMounts(BTreeMap<usize, OwnedFd>);

impl IdmappedMounts {
    /// The prepared mount for `mounts[index]`, if it is idmapped; taken once.
    pub(crate) fn take(&mut self, index: usize) -> Option<OwnedFd> {
        self.0.remove(&index)
    }

    pub(crate) fn raw_fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        self.0.values().map(std::os::fd::AsRawFd::as_raw_fd)
    }
}

/// Makes every idmapped mount of `config`; `unprivileged` says the runtime is not root
/// in the initial user namespace, where the kernel refuses to idmap a host directory.
pub(crate) fn prepare(config: &Config, unprivileged: bool) -> Result<IdmappedMounts> {
    let mut made = IdmappedMounts::default();
    let mut namespaces = MapNamespaces::default();
    for (i, m) in config.mounts.iter().enumerate() {
        let Some(idmap) = &m.idmap else { continue };
        let field = format!(
            "mounts[{i}].{}",
            if idmap.uses_containers() {
                "options"
            } else {
                "uidMappings"
            }
        );
        let refuse = |why: String| Error::Config(ConfigError::new(&field, why));
        if unprivileged {
            return Err(refuse(
                "idmapped mounts need a runtime that is root on the host".into(),
            ));
        }
        let source = m.source.as_deref().unwrap_or(Path::new(""));
        let userns = mapping_namespace(config, idmap, &mut namespaces)
            .map_err(|e| refuse(format!("make the user namespace of the mapping: {e}")))?;
        let tree = idmapped_copy(config, m.options.flags & libc::MS_REC != 0, source)
            .map_err(|e| refuse(format!("copy the mount of {}: {e}", source.display())))?;
        sys::mount_setattr_idmap(tree.as_fd(), userns.as_fd(), idmap.recursive).map_err(|e| {
            refuse(match e.raw_os_error() {
                Some(libc::EINVAL) => format!(
                    "the filesystem of {}{} does not support idmapped mounts ({e})",
                    source.display(),
                    if idmap.recursive {
                        ", or of a mount below it,"
                    } else {
                        ""
                    }
                ),
                _ => format!("idmap the mount of {}: {e}", source.display()),
            })
        })?;
        made.0.insert(i, tree);
    }
    Ok(made)
}

/// The user namespace whose maps the mount takes: one with its own mappings, else the
/// container's (a copy made with its maps, or the one it joins).
fn mapping_namespace(
    config: &Config,
    idmap: &MountIdmap,
    namespaces: &mut MapNamespaces,
) -> io::Result<OwnedFd> {
    let (uids, gids) = if idmap.uses_containers() {
        (&config.uid_mappings, &config.gid_mappings)
    } else {
        (&idmap.uid_mappings, &idmap.gid_mappings)
    };
    if !uids.is_empty() {
        return namespaces.get(uids, gids)?.try_clone_to_owned();
    }
    // config::validate let through no container's mapping without one of the two.
    let path = config
        .namespace(NamespaceKind::User)
        .and_then(|ns| ns.path.as_ref())
        .ok_or_else(|| io::Error::other("the container has no user namespace"))?;
    let ns = File::options()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)?;
    let on_nsfs = nix::sys::statfs::fstatfs(&ns)
        .is_ok_and(|st| st.filesystem_type() == nix::sys::statfs::NSFS_MAGIC);
    if !on_nsfs {
        return Err(io::Error::other(format!(
            "{} is not a namespace file",
            path.display()
        )));
    }
    Ok(ns.into())
}

/// A detached copy of the mount at `source` (with everything below it for an
/// `rbind`), propagating as a bind made in the container's mount namespace would: a
/// slave of the host's mount (private for a private root), never its peer, so nothing
/// mounted in the container reaches the host.
fn idmapped_copy(config: &Config, recursive: bool, source: &Path) -> io::Result<OwnedFd> {
    let src = File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(source)?;
    let tree = sys::clone_mount(src.as_fd(), recursive)?;
    let root = config
        .root_propagation
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    for kind in [libc::MS_PRIVATE, libc::MS_SLAVE] {
        if root & kind != 0 {
            sys::mount_setattr_propagation(tree.as_fd(), kind, true)?;
        }
    }
    Ok(tree)
}
