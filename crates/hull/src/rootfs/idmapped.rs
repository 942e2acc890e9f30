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
        if config.namespace(NamespaceKind::User).is_some() {
            keeps_the_locks_of_a_bind(source, m.options.flags & libc::MS_REC != 0)
                .map_err(refuse)?;
        }
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

/// In a container with a user namespace, a plain bind of a host mount comes with the
/// host mount's flags locked (the kernel locks what crosses into a less privileged mount
/// namespace): the container's root cannot remount it read-write, or unmount what is
/// mounted below it. The idmapped copy is made in the host's user namespace and never
/// crosses, so nothing would be locked: refuse what the locks would have protected, a
/// source on a read-only, nosuid, nodev or noexec mount, and (for an `rbind`) mounts
/// below it that would uncover what they hide.
fn keeps_the_locks_of_a_bind(source: &Path, recursive: bool) -> std::result::Result<(), String> {
    use nix::sys::statvfs::{statvfs, FsFlags};
    let flags = statvfs(source)
        .map_err(|e| format!("stat the mount of {}: {e}", source.display()))?
        .flags();
    let locked = FsFlags::ST_RDONLY | FsFlags::ST_NOSUID | FsFlags::ST_NODEV | FsFlags::ST_NOEXEC;
    if flags.intersects(locked) {
        return Err(format!(
            "{} is on a read-only, nosuid, nodev or noexec mount, which an idmapped bind \
             could not keep locked against the container's user namespace",
            source.display()
        ));
    }
    if recursive {
        return Err(
            "an idmapped rbind is refused with a user namespace: the mounts below it would \
             not stay locked (use a bind)"
                .into(),
        );
    }
    Ok(())
}

/// A detached copy of the mount at `source` (with everything below it for an
/// `rbind`), never a peer of the host's mount: a recursive slave of it (private for a
/// private root), so nothing mounted in the container reaches the host, whatever
/// propagation the container's root asks for (shared and unbindable included).
fn idmapped_copy(config: &Config, recursive: bool, source: &Path) -> io::Result<OwnedFd> {
    let src = sys::open_path(source, 0)?;
    let tree = sys::clone_mount(src.as_fd(), recursive)?;
    let private = config
        .root_propagation
        .is_some_and(|p| p & libc::MS_PRIVATE != 0);
    let kind = if private {
        libc::MS_PRIVATE
    } else {
        libc::MS_SLAVE
    };
    sys::mount_setattr_propagation(tree.as_fd(), kind, true)?;
    Ok(tree)
}
