//! Entering the container's namespaces from inside init, for what `clone3` could not do
//! at birth: joining namespaces by path (user first), making a user namespace after
//! those joins, and the second fork that really enters a pid or time namespace.
//! Also the cgroup namespace, which is made only once the parent has put us in our
//! cgroup so that its root is the container's cgroup.

use nix::sched::CloneFlags;

use super::error::{InitResult, Step};
use super::InitPlan;
use crate::config::NamespaceKind;
use crate::sys::OnlyThread;

use crate::process::channel::{Channel, Message};

pub fn enter(plan: &InitPlan<'_>, chan: &Channel, only: &OnlyThread) -> InitResult<()> {
    for (kind, fd) in &plan.join {
        // The kernel checks that the descriptor is a namespace of that kind.
        let flags = CloneFlags::from_bits_retain(kind.clone_flag() as libc::c_int);
        nix::sched::setns(fd, flags)
            .map_err(std::io::Error::from)
            .step(format!("join {} namespace", kind.oci_name()))?;
    }
    let mut unshare = plan.unshare & !NamespaceKind::Cgroup.clone_flag();
    if unshare & NamespaceKind::User.clone_flag() != 0 {
        nix::sched::unshare(CloneFlags::CLONE_NEWUSER).step("unshare user namespace")?;
        chan.send(&Message::MapIds)?;
        chan.expect("Go", Message::Go)?;
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
            .step("unshare namespaces")?;
    }
    if !plan.config.time_offsets.is_empty() {
        // Written by the parent: it holds CAP_SYS_TIME over the time namespace's owner
        // (a new user namespace is ours, but /proc/self/timens_offsets is not: we are
        // not dumpable, so it belongs to the host's root).
        chan.send(&Message::TimeOffsets)?;
        chan.expect("Go", Message::Go)?;
    }
    if plan.fork_again {
        super::fork_into_namespaces(chan, only)?;
    }
    if plan.unshare & NamespaceKind::Cgroup.clone_flag() != 0 {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP).step("unshare cgroup namespace")?;
    }
    Ok(())
}

/// In a new or joined user namespace our ids are still the host's, unmapped there (files
/// we made would fail with EOVERFLOW): become the namespace's root, which its maps define.
fn become_namespace_root() -> InitResult<()> {
    let root_gid = nix::unistd::Gid::from_raw(0);
    nix::unistd::setresgid(root_gid, root_gid, root_gid).step("setgid 0 in the user namespace")?;
    let root_uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresuid(root_uid, root_uid, root_uid).step("setuid 0 in the user namespace")
}
