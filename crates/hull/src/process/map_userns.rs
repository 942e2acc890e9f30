//! User namespaces that exist only for their id maps, to idmap mounts with: a child is
//! parked in a new user namespace, the runtime writes its maps (host ids as the
//! runtime sees them), keeps a handle on the namespace and lets the child go. The
//! handle keeps the namespace alive; a mount idmapped with it keeps it after that.
//!
//! Made as root: writing a gid map then needs no `setgroups` denial (that is asked
//! only of a writer without CAP_SETGID over the namespace's parent).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::config::IdMap;
use crate::procfs::Procfs;
use crate::sys;
use nix::sys::signal::Signal;

/// The namespaces made for one container's creation, one per distinct pair of maps.
#[derive(Default)]
pub(crate) struct MapNamespaces {
    made: Vec<(Vec<IdMap>, Vec<IdMap>, OwnedFd)>,
}

impl MapNamespaces {
    /// A user namespace with exactly these maps: made on first use, then the same one.
    pub(crate) fn get(&mut self, uids: &[IdMap], gids: &[IdMap]) -> io::Result<BorrowedFd<'_>> {
        let found = self
            .made
            .iter()
            .position(|(u, g, _)| u == uids && g == gids);
        let at = match found {
            Some(at) => at,
            None => {
                self.made
                    .push((uids.to_vec(), gids.to_vec(), make(uids, gids)?));
                self.made.len() - 1
            }
        };
        Ok(self.made[at].2.as_fd())
    }
}

/// The parked child: killed and reaped however the making ends.
struct Parked(libc::pid_t);

impl Drop for Parked {
    fn drop(&mut self) {
        // Our own child, not reaped yet: its pid is still its own.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0), Signal::SIGKILL);
        let _ = super::wait_pid(self.0);
    }
}

fn make(uids: &[IdMap], gids: &[IdMap]) -> io::Result<OwnedFd> {
    let child = Parked(sys::park_in_new_userns()?);
    let pid = child.0;
    let proc = Procfs::open()?;
    proc.write(
        &format!("{pid}/uid_map"),
        super::idmap::map_text(uids).as_bytes(),
    )?;
    proc.write(
        &format!("{pid}/gid_map"),
        super::idmap::map_text(gids).as_bytes(),
    )?;
    // The namespace link is a magic link, which the verified procfs will not follow;
    // the pid is certainly our child's (not reaped), and the file must be a namespace.
    let ns = File::open(format!("/proc/{pid}/ns/user"))?;
    let on_nsfs = nix::sys::statfs::fstatfs(&ns)
        .is_ok_and(|st| st.filesystem_type() == nix::sys::statfs::NSFS_MAGIC);
    if !on_nsfs {
        return Err(io::Error::other(format!(
            "/proc/{pid}/ns/user is not a namespace"
        )));
    }
    drop(child);
    Ok(ns.into())
}
