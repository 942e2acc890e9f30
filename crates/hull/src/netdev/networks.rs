//! The seed's networks ([`crate::config::network`]) made real: the container's loopback
//! up, each veth pair made with its peer straight in the container's network namespace
//! (named, addressed, up, its default routes), its host end a port of the bridge, then
//! the routes. The parent does it while init waits with its network namespace made, as
//! for `linux.netDevices`. A failure deletes every host end made so far (a veth takes
//! its peer along): nothing of a failed create stays behind. Deleting the container
//! deletes the host ends ([`remove_host_ends`]).

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use super::rtnl::{Address, HostSide, Peer, RouteSpec, Socket};
use crate::config::network::{Network, Route, Veth};
use crate::config::Config;
use crate::container::state::HostEnd;

/// A failure to set up one network or route, naming it and the step.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {what}: {source}")]
pub struct NetworkError {
    field: String,
    what: String,
    source: io::Error,
}

/// The host ends made by a create: deleted when dropped, unless [`Made::keep`] says the
/// create succeeded.
pub(crate) struct Made {
    host: Socket,
    host_ends: Vec<HostEnd>,
}

impl Made {
    /// The container was created: its veth pairs stay with it, their host ends to be
    /// recorded in its state.
    pub fn keep(mut self) -> Vec<HostEnd> {
        std::mem::take(&mut self.host_ends)
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        // Best effort: the error that brought us here has been reported.
        for end in std::mem::take(&mut self.host_ends) {
            let _ = self.host.delete_link(end.index);
        }
    }
}

type Step<T> = Result<T, (String, io::Error)>;

fn step(what: &'static str) -> impl Fn(io::Error) -> (String, io::Error) {
    move |e| (what.to_string(), e)
}

/// Sets up `config`'s networks and routes in the network namespace of the process
/// behind `pidfd`.
pub(crate) fn set_up(config: &Config, pidfd: BorrowedFd<'_>) -> Result<Made, NetworkError> {
    let whole = |what: &str, source| NetworkError {
        field: "networks".into(),
        what: what.into(),
        source,
    };
    let host = Socket::open().map_err(|e| whole("open a netlink socket", e))?;
    let (netns, mut container) =
        super::enter(pidfd).map_err(|e| whole("enter the container's network namespace", e))?;
    let mut made = Made {
        host,
        host_ends: Vec::new(),
    };
    for (i, network) in config.networks.iter().enumerate() {
        let done = match network {
            Network::Loopback => loopback(&mut container),
            Network::Veth(veth) => add_veth(&mut made, &mut container, veth, netns.as_fd()),
        };
        done.map_err(|(what, source)| NetworkError {
            field: format!("networks[{i}]"),
            what,
            source,
        })?;
    }
    for (i, route) in config.routes.iter().enumerate() {
        add_route(&mut container, route).map_err(|(what, source)| NetworkError {
            field: format!("routes[{i}]"),
            what,
            source,
        })?;
    }
    Ok(made)
}

fn loopback(container: &mut Socket) -> Step<()> {
    let lo = container
        .link("lo")
        .map_err(step("look up lo"))?
        .ok_or_else(|| step("look up lo")(io::Error::from_raw_os_error(libc::ENODEV)))?;
    container.set_up(lo.index, true).map_err(step("set lo up"))
}

fn add_veth(
    made: &mut Made,
    container: &mut Socket,
    veth: &Veth,
    netns: BorrowedFd<'_>,
) -> Step<()> {
    let bridge = made
        .host
        .link(&veth.bridge)
        .map_err(step("look up the bridge"))?
        .filter(|l| l.kind.as_deref() == Some("bridge"))
        .ok_or_else(|| {
            (
                format!(
                    "no bridge {} in the runtime's network namespace",
                    veth.bridge
                ),
                io::Error::from_raw_os_error(libc::ENODEV),
            )
        })?;
    // A bridge's MTU and MAC follow its ports unless set by hand: the host end takes
    // at least the bridge's MTU, so that joining never lowers it for everybody, and a
    // MAC starting fe:, above any the kernel makes, which the bridge never takes over.
    let host = HostSide {
        name: &veth.host_name,
        mac: host_end_mac(&veth.host_name),
        mtu: veth.mtu.unwrap_or(0).max(bridge.mtu),
        tx_queue_len: veth.tx_queue_len,
        master: bridge.index,
    };
    let peer = Peer {
        name: &veth.name,
        netns,
        mac: veth.mac.map(|m| m.0),
        mtu: veth.mtu,
        tx_queue_len: veth.tx_queue_len,
    };
    made.host.add_veth(&host, &peer).map_err(|e| {
        (
            format!(
                "make the veth pair {} (on {}) - {} (in the container)",
                veth.host_name, veth.bridge, veth.name
            ),
            e,
        )
    })?;
    let host_end = made
        .host
        .link(&veth.host_name)
        .map_err(step("look up the host end"))?
        .ok_or_else(|| step("look up the host end")(io::Error::from_raw_os_error(libc::ENODEV)))?;
    // From here on a failure deletes the pair.
    made.host_ends.push(HostEnd {
        name: host_end.name,
        index: host_end.index,
    });
    if veth.hairpin {
        made.host
            .set_hairpin(host_end.index, true)
            .map_err(step("set hairpin mode on the bridge port"))?;
    }
    made.host
        .set_up(host_end.index, true)
        .map_err(step("set the host end up"))?;
    let inside = container
        .link(&veth.name)
        .map_err(step("find the container end"))?
        .ok_or_else(|| {
            step("find the container end")(io::Error::from_raw_os_error(libc::ENODEV))
        })?;
    for net in [veth.address, veth.ipv6_address].into_iter().flatten() {
        container
            .add_address(inside.index, &Address::new(net.addr, net.prefix))
            .map_err(|e| (format!("add the address {net}"), e))?;
    }
    container
        .set_up(inside.index, true)
        .map_err(step("set the container end up"))?;
    let gateways = [
        veth.gateway.map(IpAddr::V4).map(|g| (g, "0.0.0.0/0")),
        veth.ipv6_gateway.map(IpAddr::V6).map(|g| (g, "::/0")),
    ];
    for (gateway, default) in gateways.into_iter().flatten() {
        let route = Route {
            destination: default.parse().expect("a valid default route"),
            source: None,
            gateway: Some(gateway),
            interface: None,
        };
        container
            .add_route(&route_spec(&route, Some(inside.index)))
            .map_err(|e| (format!("add the default route via {gateway}"), e))?;
    }
    Ok(())
}

/// The host end's MAC: `fe` and five bytes of a hash of its name (FNV-1a), unicast and
/// locally administered.
fn host_end_mac(name: &str) -> [u8; 6] {
    let b = crate::config::network::fnv1a(name).to_be_bytes();
    [0xfe, b[0], b[1], b[2], b[3], b[4]]
}

fn add_route(container: &mut Socket, route: &Route) -> Step<()> {
    let interface = match &route.interface {
        Some(name) => Some(
            container
                .link(name)
                .map_err(step("look up its interface"))?
                .ok_or_else(|| {
                    (
                        format!("no device {name} in the container"),
                        io::Error::from_raw_os_error(libc::ENODEV),
                    )
                })?
                .index,
        ),
        None => None,
    };
    container
        .add_route(&route_spec(route, interface))
        .map_err(|e| (format!("add the route to {}", route.destination), e))
}

fn route_spec(route: &Route, interface: Option<i32>) -> RouteSpec {
    RouteSpec {
        family: match route.destination.addr {
            IpAddr::V4(_) => libc::AF_INET as u8,
            IpAddr::V6(_) => libc::AF_INET6 as u8,
        },
        destination: octets(route.destination.addr),
        prefix_len: route.destination.prefix,
        gateway: route.gateway.map(octets),
        source: route.source.map(octets),
        interface,
    }
}

fn octets(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// Deletes the host ends still there of a container's veth pairs (in the calling
/// thread's network namespace): a container's network namespace can outlive its init
/// (a process that joined it, a bind mount of it), and its veth pairs with it. A device
/// of the same name but another index is somebody else's, and stays.
pub(crate) fn remove_host_ends(ends: &[HostEnd]) -> io::Result<()> {
    if ends.is_empty() {
        return Ok(());
    }
    let mut host = Socket::open()?;
    for end in ends {
        let ours = host.link(&end.name)?.filter(|l| l.index == end.index);
        if let Some(link) = ours {
            match host.delete_link(link.index) {
                Err(e) if e.raw_os_error() != Some(libc::ENODEV) => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_end_macs_are_unicast_local_and_above_the_kernels() {
        let mac = host_end_mac("hull0123456789a");
        assert_eq!(mac[0], 0xfe);
        assert_eq!(mac[0] & 1, 0, "unicast");
        assert_eq!(mac[0] & 2, 2, "locally administered");
        assert_ne!(mac, host_end_mac("hull0123456789b"));
    }
}
