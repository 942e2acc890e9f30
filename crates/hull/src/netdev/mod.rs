//! The container's network devices, over hull's own rtnetlink client (`rtnl`): the
//! seed's networks and routes ([`networks`]), and here `linux.netDevices`
//! (runtime-spec 1.3): network devices of the runtime's network
//! namespace moved into the container's, renamed as asked, with their permanent global
//! addresses, and up. This module owns the names' rules (for the config's validation)
//! and the move itself, which the parent makes while init waits with its network
//! namespace made and before any hook or process of the container runs.
//!
//! A create that fails after the move puts the devices back where they were, under
//! their names, with their addresses: nothing of a failed create stays behind. A
//! container that was created keeps them: the spec forbids moving them out before its
//! network namespace goes ("Namespace Lifecycle and Container Termination"), and then
//! the kernel returns a physical device to the initial network namespace and destroys
//! a virtual one (veth, dummy, macvlan, ...). runc 1.3 does the same.

pub(crate) mod networks;
mod rtnl;

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rtnl::{Address, Socket};

/// `IFNAMSIZ`: a name and its NUL.
const IFNAMSIZ: usize = 16;

/// Why `name` cannot name a network device (the kernel's `dev_valid_name`), if it
/// cannot. A `template` may hold one `%d`, which the first free number replaces.
pub fn invalid_name(name: &str, template: bool) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() >= IFNAMSIZ {
        return Some("it is longer than 15 bytes");
    }
    if name == "." || name == ".." {
        return Some("it is . or ..");
    }
    if name.contains(['/', ':']) || name.chars().any(char::is_whitespace) {
        return Some("it contains a /, a : or a space");
    }
    match name.split_once('%') {
        None => None,
        Some((_, rest)) if template && rest.starts_with('d') && !rest.contains('%') => None,
        Some(_) if template => Some("a % must be the one %d of a template"),
        Some(_) => Some("it contains a %"),
    }
}

/// Whether the runtime's network namespace (the calling thread's) has a device `name`.
pub fn exists(name: &str) -> io::Result<bool> {
    Ok(link(name)?.is_some())
}

/// The device `name` of the runtime's network namespace (the calling thread's), if any.
pub(crate) fn link(name: &str) -> io::Result<Option<rtnl::Link>> {
    Socket::open()?.link(name)
}

/// A failure to move a device, naming it.
#[derive(Debug, thiserror::Error)]
#[error("linux.netDevices: {device}: {what}: {source}")]
pub struct NetDevError {
    device: String,
    what: String,
    source: io::Error,
}

/// A device moved into the container, with what it takes to put it back.
struct Device {
    host_name: String,
    /// Its index in the container's network namespace.
    index: i32,
    addresses: Vec<Address>,
    was_up: bool,
}

/// The devices a create moved into the container's network namespace: put back when
/// dropped, unless [`Moved::keep`] says the create succeeded.
pub(crate) struct Moved {
    runtime_netns: OwnedFd,
    host: Socket,
    container: Socket,
    devices: Vec<Device>,
}

impl Moved {
    /// The container was created: its devices stay with it.
    pub fn keep(mut self) {
        self.devices.clear();
    }

    fn put_back(&mut self, d: &Device) -> io::Result<()> {
        self.container.set_up(d.index, false)?;
        self.container
            .move_to(d.index, &d.host_name, self.runtime_netns.as_fd())?;
        let back = self
            .host
            .link(&d.host_name)?
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))?;
        for addr in &d.addresses {
            self.host.add_address(back.index, addr)?;
        }
        if d.was_up {
            self.host.set_up(back.index, true)?;
        }
        Ok(())
    }
}

impl Drop for Moved {
    fn drop(&mut self) {
        // Best effort, last moved first: an error has been reported already.
        let devices = std::mem::take(&mut self.devices);
        for d in devices.iter().rev() {
            let _ = self.put_back(d);
        }
    }
}

/// Moves each device of `devices` (its name here -> its name in the container) into
/// the network namespace of the process behind `pidfd`; what was moved before a
/// failure is put back.
pub(crate) fn move_in(
    devices: &BTreeMap<String, String>,
    pidfd: BorrowedFd<'_>,
) -> Result<Moved, NetDevError> {
    let whole = |what: &str, source| NetDevError {
        device: devices.keys().cloned().collect::<Vec<_>>().join(", "),
        what: what.to_string(),
        source,
    };
    let runtime_netns = std::fs::File::open("/proc/thread-self/ns/net")
        .map_err(|e| whole("open the runtime's network namespace", e))?;
    let host = Socket::open().map_err(|e| whole("open a netlink socket", e))?;
    let (netns, container) =
        enter(pidfd).map_err(|e| whole("enter the container's network namespace", e))?;
    let mut moved = Moved {
        runtime_netns: runtime_netns.into(),
        host,
        container,
        devices: Vec::new(),
    };
    for (host_name, name) in devices {
        move_one(&mut moved, host_name, name, netns.as_fd()).map_err(|(what, source)| {
            NetDevError {
                device: host_name.clone(),
                what,
                source,
            }
        })?;
    }
    Ok(moved)
}

type Step<T> = Result<T, (String, io::Error)>;

/// Names the step an I/O error comes from.
fn step(what: &'static str) -> impl Fn(io::Error) -> (String, io::Error) {
    move |e| (what.to_string(), e)
}

fn move_one(moved: &mut Moved, host_name: &str, name: &str, netns: BorrowedFd<'_>) -> Step<()> {
    let link = moved
        .host
        .link(host_name)
        .map_err(step("look it up"))?
        .ok_or_else(|| {
            step("no such device in the runtime's network namespace")(io::Error::from_raw_os_error(
                libc::ENODEV,
            ))
        })?;
    let addresses: Vec<Address> = moved
        .host
        .addresses(link.index)
        .map_err(step("read its addresses"))?
        .into_iter()
        .filter(Address::is_permanent_global)
        .collect();
    let target = match name.contains("%d") {
        true => {
            let taken = moved
                .container
                .links()
                .map_err(step("list the container's devices"))?;
            let taken: Vec<String> = taken.into_iter().map(|l| l.name).collect();
            expand(name, &taken).ok_or_else(|| {
                (
                    format!("no free name for the template {name}"),
                    io::Error::from_raw_os_error(libc::ENFILE),
                )
            })?
        }
        false => name.to_string(),
    };
    // The spec's check: a name taken in the container is an error, never a rename.
    if moved
        .container
        .link(&target)
        .map_err(step("look up its name in the container"))?
        .is_some()
    {
        return Err((
            format!("the name {target} is taken in the container's network namespace"),
            io::Error::from_raw_os_error(libc::EEXIST),
        ));
    }
    moved
        .host
        .move_to(link.index, &target, netns)
        .map_err(step("move it into the container's network namespace"))?;
    let inside = moved
        .container
        .link(&target)
        .map_err(step("find it in the container"))?
        .ok_or_else(|| {
            step("find it in the container")(io::Error::from_raw_os_error(libc::ENODEV))
        })?;
    // From here on a failure puts it back.
    moved.devices.push(Device {
        host_name: host_name.to_string(),
        index: inside.index,
        addresses: addresses.clone(),
        was_up: link.up,
    });
    // The kernel flushed its addresses on the way: they come back, relabelled for an
    // IPv4 label that named the device.
    moved
        .container
        .set_up(inside.index, true)
        .map_err(step("set it up"))?;
    for mut addr in addresses {
        addr.label = addr
            .label
            .and_then(|label| relabel(&label, host_name, &target));
        moved
            .container
            .add_address(inside.index, &addr)
            .map_err(step("add its address"))?;
    }
    Ok(())
}

/// A socket in the network namespace of the process behind `pidfd`, and a handle on
/// that namespace: made by a thread of its own, since `setns` moves only the calling
/// thread, and the caller's threads stay where they are.
fn enter(pidfd: BorrowedFd<'_>) -> io::Result<(OwnedFd, Socket)> {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(pidfd, nix::sched::CloneFlags::CLONE_NEWNET)?;
            let netns = std::fs::File::open("/proc/thread-self/ns/net")?;
            Ok((netns.into(), Socket::open()?))
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the thread panicked")))
    })
}

/// The name a `%d` template gives: with the lowest number no device in `taken` has.
fn expand(template: &str, taken: &[String]) -> Option<String> {
    (0u32..)
        .map(|n| template.replacen("%d", &n.to_string(), 1))
        .take_while(|name| name.len() < IFNAMSIZ)
        .find(|name| !taken.contains(name))
}

/// An IPv4 label for the device renamed from `old` to `new`: `old` itself needs none
/// (the kernel gives the device's name), `old:x` becomes `new:x`, others stay.
fn relabel(label: &str, old: &str, new: &str) -> Option<String> {
    if label == old {
        return None;
    }
    match label.strip_prefix(old).and_then(|r| r.strip_prefix(':')) {
        Some(alias) => Some(format!("{new}:{alias}")).filter(|l| l.len() < IFNAMSIZ),
        None => Some(label.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kernel() {
        for good in ["eth0", "dummy-1", "a", "x.y", "fifteen_bytes_x"] {
            assert_eq!(invalid_name(good, false), None, "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "eth0:1",
            "a b",
            "tab\t",
            "sixteen_bytes_xx",
            "eth%d",
        ] {
            assert!(invalid_name(bad, false).is_some(), "{bad:?}");
        }
        assert_eq!(invalid_name("eth%d", true), None);
        assert!(invalid_name("eth%s", true).is_some());
        assert!(invalid_name("e%d%d", true).is_some());
    }

    #[test]
    fn templates_take_the_first_free_number() {
        let taken = ["lo".to_string(), "eth0".into(), "eth2".into()];
        assert_eq!(expand("eth%d", &taken).as_deref(), Some("eth1"));
        assert_eq!(expand("net%d", &taken).as_deref(), Some("net0"));
        let full: Vec<String> = (0..10).map(|n| format!("fourteen_bytes{n}")).collect();
        assert_eq!(expand("fourteen_bytes%d", &full), None);
    }

    #[test]
    fn ipv4_labels_follow_the_new_name() {
        assert_eq!(relabel("dummy0", "dummy0", "eth0"), None);
        assert_eq!(
            relabel("dummy0:web", "dummy0", "eth0").as_deref(),
            Some("eth0:web")
        );
        assert_eq!(relabel("other", "dummy0", "eth0").as_deref(), Some("other"));
        assert_eq!(relabel("d:0123456789a", "d", "fourteen_bytes"), None);
    }
}
