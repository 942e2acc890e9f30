//! Entering the container's namespaces from inside init, for what `clone3` could not do
//! at birth: joining namespaces by path (user first), making a user namespace after
//! those joins, and the second fork that really enters a pid or time namespace.
//! Also the cgroup namespace, which is made only once the parent has put us in our
//! cgroup so that its root is the container's cgroup.

use std::os::fd::AsRawFd;

use nix::sched::CloneFlags;

use super::{InitPlan, InitResult};
use crate::config::NamespaceKind;
use crate::process::channel::{Channel, Message};
use crate::sys::{self, Forked};

pub fn enter(plan: &InitPlan<'_>, chan: &Channel) -> InitResult<()> {
    for (kind, fd) in &plan.join {
        // SAFETY: setns on a descriptor we own; the kernel checks its type against 0 = any.
        if unsafe { libc::setns(fd.as_raw_fd(), kind.clone_flag() as libc::c_int) } < 0 {
            return Err(format!(
                "join {} namespace: {}",
                kind.oci_name(),
                std::io::Error::last_os_error()
            ));
        }
    }
    let mut unshare = plan.unshare & !NamespaceKind::Cgroup.clone_flag();
    if unshare & NamespaceKind::User.clone_flag() != 0 {
        nix::sched::unshare(CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("unshare user namespace: {e}"))?;
        chan.send(&Message::MapIds).map_err(|e| e.to_string())?;
        chan.expect("Go", Message::Go).map_err(|e| e.to_string())?;
        unshare &= !NamespaceKind::User.clone_flag();
    }
    if unshare != 0 {
        nix::sched::unshare(CloneFlags::from_bits_retain(unshare as libc::c_int))
            .map_err(|e| format!("unshare namespaces: {e}"))?;
    }
    if plan.fork_again {
        match sys::fork().map_err(|e| format!("fork into the pid namespace: {e}"))? {
            Forked::Parent(child) => {
                let _ = chan.send(&Message::InitPid(child));
                // SAFETY: this intermediate process has done its job.
                unsafe { libc::_exit(0) }
            }
            Forked::Child => chan.expect("Go", Message::Go).map_err(|e| e.to_string())?,
        }
    }
    if plan.unshare & NamespaceKind::Cgroup.clone_flag() != 0 {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| format!("unshare cgroup namespace: {e}"))?;
    }
    Ok(())
}
