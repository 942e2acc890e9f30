//! Who the container's process is: resource limits, groups, uid/gid, the five
//! capability sets and no_new_privileges. Ids are used as numbers only (CVE-2016-3697);
//! a capability set holds only what is configured: none when nothing is, never an
//! inheritable or ambient one unasked (CVE-2022-29162).

use super::error::{refused, InitResult, Step};
use crate::config::{CapSet, Capabilities, Rlimit};
use crate::sys::{self, CapSets};

pub fn set_rlimits(rlimits: &[Rlimit]) -> InitResult<()> {
    for r in rlimits {
        let name = crate::config::RLIMIT_NAMES
            .get(r.resource as usize)
            .unwrap_or(&"rlimit");
        sys::setrlimit(r.resource, r.soft, r.hard).step(format!("setrlimit {name}"))?;
    }
    Ok(())
}

/// The highest capability number this kernel knows: `PR_CAPBSET_READ` fails with
/// EINVAL past it. Asked of the kernel, never of a file the image could fake.
fn last_cap() -> usize {
    let known = |cap: usize| sys::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0).is_ok();
    let (mut lo, mut hi) = (0usize, 64usize);
    // Invariant: `lo` is known, `hi` is not.
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if known(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Switches to the process's user, groups and capabilities. A process without
/// capabilities configured gets none at all (an exec's were filled in from init's by
/// then): every set, the bounding set too, is exactly what the process asks for.
pub fn switch(process: &crate::process::Process) -> InitResult<()> {
    let user = &process.user;
    let caps = process.capabilities.unwrap_or_default();
    let last_cap = last_cap();
    let known = (1u64 << (last_cap + 1)).wrapping_sub(1);
    for cap in 0..=last_cap {
        if !caps.bounding.contains(cap) {
            sys::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0)
                .step(format!("drop capability {cap} from the bounding set"))?;
        }
    }
    // Keep the permitted set across the uid change; it is set exactly below.
    sys::prctl(libc::PR_SET_KEEPCAPS, 1, 0).step("set keepcaps")?;
    let gids: Vec<nix::unistd::Gid> = user.additional_gids.iter().map(|g| (*g).into()).collect();
    if let Err(e) = nix::unistd::setgroups(&gids) {
        // In a user namespace with setgroups denied only an empty list is possible.
        if !(e == nix::errno::Errno::EPERM && gids.is_empty()) {
            return Err(e).step(format!("setgroups {:?}", user.additional_gids));
        }
    }
    let gid = nix::unistd::Gid::from_raw(user.gid);
    nix::unistd::setresgid(gid, gid, gid).step(format!("setgid {}", user.gid))?;
    let uid = nix::unistd::Uid::from_raw(user.uid);
    nix::unistd::setresuid(uid, uid, uid).step(format!("setuid {}", user.uid))?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0, 0).step("clear keepcaps")?;
    apply(caps, known)?;
    if process.no_new_privileges {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).step("set no_new_privs")?;
    }
    Ok(())
}

fn apply(caps: Capabilities, known: u64) -> InitResult<()> {
    let sets = CapSets {
        effective: caps.effective.0 & known,
        permitted: caps.permitted.0 & known,
        inheritable: caps.inheritable.0 & known,
    };
    if let Err(e) = sys::capset(sets) {
        // Nothing can gain a capability it does not hold: name the ones asked for that
        // the runtime itself lacks (a sandbox that withholds some, say).
        let held = sys::capget().map(|c| c.permitted).unwrap_or(u64::MAX);
        let missing = CapSet(sets.permitted & !held);
        if missing.0 == 0 {
            return Err(e).step("set capabilities");
        }
        let names: Vec<&str> = missing.names().collect();
        return refused(format!(
            "set capabilities: hull itself does not hold {}, which the process asks for",
            names.join(", ")
        ));
    }
    sys::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as _, 0)
        .step("clear ambient capabilities")?;
    for cap in (0..64).filter(|c| CapSet(caps.ambient.0 & known).contains(*c)) {
        // The kernel allows only what is both permitted and inheritable; like runc, an
        // ambient capability outside them is skipped rather than fatal.
        let _ = sys::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as _,
            cap as _,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_capability_is_the_kernels_highest() {
        let last = last_cap();
        // CAP_AUDIT_READ (37) is older than any kernel hull runs on.
        assert!((37..63).contains(&last), "{last}");
        let known = |cap: usize| sys::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0);
        assert!(known(last).is_ok());
        assert!(known(last + 1).is_err(), "{} is known too", last + 1);
        // The same answer as the kernel's own file, where there is one.
        if let Ok(text) = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap") {
            assert_eq!(text.trim().parse::<usize>().unwrap(), last);
        }
    }
}
