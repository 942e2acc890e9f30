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
    let joined_user = plan
        .join
        .iter()
        .any(|(kind, _)| *kind == NamespaceKind::User);
    if plan.new_user_namespace || joined_user {
        become_namespace_root()?;
    }
    if unshare != 0 {
        nix::sched::unshare(CloneFlags::from_bits_retain(unshare as libc::c_int))
            .map_err(|e| format!("unshare namespaces: {e}"))?;
    }
    if !plan.config.time_offsets.is_empty() {
        // Written by the parent: it holds CAP_SYS_TIME over the time namespace's owner
        // (a new user namespace is ours, but /proc/self/timens_offsets is not: we are
        // not dumpable, so it belongs to the host's root).
        chan.send(&Message::TimeOffsets)
            .map_err(|e| e.to_string())?;
        chan.expect("Go", Message::Go).map_err(|e| e.to_string())?;
    }
    if plan.fork_again {
        super::fork_into_namespaces(chan)?;
    }
    if plan.unshare & NamespaceKind::Cgroup.clone_flag() != 0 {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| format!("unshare cgroup namespace: {e}"))?;
    }
    Ok(())
}

/// In a new or joined user namespace our ids are still the host's, unmapped there (files
/// we made would fail with EOVERFLOW): become the namespace's root, which its maps define.
fn become_namespace_root() -> InitResult<()> {
    let root_gid = nix::unistd::Gid::from_raw(0);
    nix::unistd::setresgid(root_gid, root_gid, root_gid)
        .map_err(|e| format!("setgid 0 in the user namespace: {e}"))?;
    let root_uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresuid(root_uid, root_uid, root_uid)
        .map_err(|e| format!("setuid 0 in the user namespace: {e}"))
}
