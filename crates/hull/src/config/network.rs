//! The seed's networks: what the container's network namespace gets before anything of
//! the container runs: its loopback up, veth pairs whose host end joins a bridge of the
//! runtime's network namespace, and routes. The values here are typed (addresses,
//! prefixes, MACs) so that a config that parsed holds no malformed address; [`check`]
//! holds the rules between them. `crate::netdev::networks` applies them.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hull::config::network::{Network, Veth};
//! let (mut config, process) = hull::spec::load("/path/to/bundle".as_ref())?;
//! config.networks = vec![
//!     Network::Loopback,
//!     Network::Veth(Veth {
//!         bridge: "br0".into(),
//!         name: "eth0".into(),
//!         address: Some("10.88.0.2/16".parse()?),
//!         gateway: Some("10.88.0.1".parse()?),
//!         ..Veth::default()
//!     }),
//! ];
//! let mut container = hull::Factory::new("/run/my-hull")?.create("web", config)?;
//! container.run(process)?.wait()?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// One network of the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Network {
    /// The container's loopback device, up (127.0.0.1 and ::1).
    Loopback,
    /// A veth pair: one end in the container, the other on a host bridge.
    Veth(Veth),
}

/// A veth pair. Field names (camelCase) are those of the `hull.network.veth.*`
/// annotations and of the errors naming them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Veth {
    /// The bridge of the runtime's network namespace the host end joins.
    pub bridge: String,
    /// The host end's name; it must not exist yet. Deleting the container deletes it.
    /// Empty: a [`default_host_name`] of the container's id, given by
    /// [`crate::Factory::create`].
    #[serde(default)]
    pub host_name: String,
    /// The container end's name (`eth0`).
    pub name: String,
    /// The container end's MAC address; the kernel picks one when `None`.
    #[serde(default)]
    pub mac: Option<Mac>,
    /// The container end's IPv4 address and prefix.
    #[serde(default)]
    pub address: Option<IpNet>,
    /// The IPv4 default route's gateway.
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
    /// The container end's IPv6 address and prefix.
    #[serde(default)]
    pub ipv6_address: Option<IpNet>,
    /// The IPv6 default route's gateway.
    #[serde(default)]
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// Both ends' MTU; the kernel's default (1500) when `None`.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// The container end's transmit queue length.
    #[serde(default)]
    pub tx_queue_len: Option<u32>,
    /// The bridge port sends frames back out of the port they came in by (so that the
    /// container reaches itself through a NAT on the host).
    #[serde(default)]
    pub hairpin: bool,
}

/// A route of the container's network namespace (main table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Where it leads (`0.0.0.0/0` for a default route).
    pub destination: IpNet,
    /// The preferred source address.
    #[serde(default)]
    pub source: Option<IpAddr>,
    /// The next hop; without one the destination is on the interface's link.
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    /// The container's device it goes out of; the kernel finds it from the gateway
    /// when `None`.
    #[serde(default)]
    pub interface: Option<String>,
}

/// An address with its prefix length, as `10.0.0.2/24` or `fd00::2/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length: at most 32 for IPv4, 128 for IPv6.
    pub prefix: u8,
}

impl FromStr for IpNet {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<IpNet, InvalidValue> {
        let bad = || {
            InvalidValue(format!(
                "{s:?} is not an address/prefix (10.0.0.2/24, fd00::2/64)"
            ))
        };
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(InvalidValue(format!(
                "{s:?}: the prefix is longer than {max}"
            )));
        }
        Ok(IpNet { addr, prefix })
    }
}

impl IpNet {
    /// Whether the address has bits set past the prefix (`10.1.0.5/16`): not a network.
    pub fn has_host_bits(&self) -> bool {
        let (bits, width) = match self.addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        let host = u32::from(width - self.prefix);
        host > 0 && bits & (u128::MAX >> (128 - host)) != 0
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A unicast MAC address, as `02:42:ac:11:00:02`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl FromStr for Mac {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Mac, InvalidValue> {
        let bad = || InvalidValue(format!("{s:?} is not a MAC address (02:42:ac:11:00:02)"));
        let mut mac = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut mac {
            let part = parts.next().filter(|p| p.len() == 2).ok_or_else(bad)?;
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        if mac[0] & 1 != 0 {
            return Err(InvalidValue(format!(
                "{s} is a multicast address, not a unicast one"
            )));
        }
        if mac == [0; 6] {
            return Err(InvalidValue(format!("{s} is the all-zero address")));
        }
        Ok(Mac(mac))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Both are saved in the state as their text.
macro_rules! serde_as_text {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_text!(IpNet);
serde_as_text!(Mac);

/// FNV-1a, 64 bits: a cheap, stable hash for names derived from other names.
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The host end's name for the `n`th veth (from 0) of container `id` that names none:
/// `hull` and 11 hex digits of a hash of the id (and of `n` past the first), within the
/// kernel's 15 bytes; a clash with an existing device is refused when the container is
/// created, never taken over.
pub fn default_host_name(id: &str, n: usize) -> String {
    let hash = match n {
        0 => fnv1a(id),
        n => fnv1a(&format!("{id}\0{n}")),
    };
    format!("hull{:011x}", hash >> 20)
}

/// Gives each veth of `networks` that names no host end its [`default_host_name`].
pub fn name_host_ends(networks: &mut [Network], id: &str) {
    let unnamed = networks.iter_mut().filter_map(|n| match n {
        Network::Veth(veth) if veth.host_name.is_empty() => Some(veth),
        _ => None,
    });
    for (n, veth) in unnamed.enumerate() {
        veth.host_name = default_host_name(id, n);
    }
}

/// The MTUs a veth takes: Ethernet's minimum for IPv4 (68) to the kernel's maximum.
pub const MTU_RANGE: std::ops::RangeInclusive<u32> = 68..=65535;
/// IPv6 needs links of at least 1280 bytes.
pub const IPV6_MIN_MTU: u32 = 1280;

/// Why `veth` cannot be made, as (its field, the reason).
pub fn check_veth(veth: &Veth) -> Result<(), (&'static str, String)> {
    for (field, name) in [
        ("bridge", &veth.bridge),
        ("hostName", &veth.host_name),
        ("name", &veth.name),
    ] {
        if let Some(why) = crate::netdev::invalid_name(name, false) {
            return Err((field, format!("invalid device name {name:?}: {why}")));
        }
    }
    if veth.name == "lo" {
        return Err(("name", "lo is the container's loopback device".into()));
    }
    if let Some(a) = veth.address.filter(|a| !a.addr.is_ipv4()) {
        return Err(("address", format!("{a} is not an IPv4 address")));
    }
    if let Some(a) = veth.ipv6_address.filter(|a| !a.addr.is_ipv6()) {
        return Err(("ipv6Address", format!("{a} is not an IPv6 address")));
    }
    if veth.gateway.is_some() && veth.address.is_none() {
        return Err(("gateway", "needs an IPv4 address on the device".into()));
    }
    if veth.ipv6_gateway.is_some() && veth.ipv6_address.is_none() {
        return Err(("ipv6Gateway", "needs an IPv6 address on the device".into()));
    }
    if let Some(mtu) = veth.mtu {
        if !MTU_RANGE.contains(&mtu) {
            return Err((
                "mtu",
                format!(
                    "{mtu} is outside {}..={}",
                    MTU_RANGE.start(),
                    MTU_RANGE.end()
                ),
            ));
        }
        if veth.ipv6_address.is_some() && mtu < IPV6_MIN_MTU {
            return Err((
                "mtu",
                format!("{mtu} is below IPv6's minimum of {IPV6_MIN_MTU}"),
            ));
        }
    }
    Ok(())
}

/// Why `route` cannot be added, as (its field, the reason).
pub fn check_route(route: &Route) -> Result<(), (&'static str, String)> {
    let v4 = route.destination.addr.is_ipv4();
    if route.destination.has_host_bits() {
        return Err((
            "destination",
            format!("{} has bits set past its prefix", route.destination),
        ));
    }
    for (field, addr) in [("gateway", route.gateway), ("source", route.source)] {
        if addr.is_some_and(|a| a.is_ipv4() != v4) {
            return Err((
                field,
                format!(
                    "{} is not of the destination's family",
                    addr.expect("checked")
                ),
            ));
        }
    }
    if route.gateway.is_none() && route.interface.is_none() {
        return Err((
            "interface",
            "a route without a gateway needs an interface".into(),
        ));
    }
    if let Some(name) = &route.interface {
        if let Some(why) = crate::netdev::invalid_name(name, false) {
            return Err(("interface", format!("invalid device name {name:?}: {why}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn veth() -> Veth {
        Veth {
            bridge: "br0".into(),
            host_name: "vh0".into(),
            name: "eth0".into(),
            ..Veth::default()
        }
    }

    #[test]
    fn addresses_and_macs_parse_or_say_why_not() {
        let net: IpNet = "10.0.0.2/24".parse().unwrap();
        assert_eq!((net.addr, net.prefix), ("10.0.0.2".parse().unwrap(), 24));
        assert_eq!(
            "fd00::2/64".parse::<IpNet>().unwrap().to_string(),
            "fd00::2/64"
        );
        for bad in [
            "10.0.0.2",
            "10.0.0.2/33",
            "fd00::2/129",
            "10.0.0/24",
            "x/1",
            "10.0.0.2/-1",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        let mac: Mac = "02:42:AC:11:00:02".parse().unwrap();
        assert_eq!(mac.to_string(), "02:42:ac:11:00:02");
        for bad in [
            "01:00:5e:00:00:01",
            "00:00:00:00:00:00",
            "02:42:ac:11:00",
            "02:42:ac:11:00:02:03",
            "2:42:ac:11:00:02",
            "zz:42:ac:11:00:02",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
        assert!("ff:ff:ff:ff:ff:ff"
            .parse::<Mac>()
            .unwrap_err()
            .0
            .contains("multicast"));
    }

    #[test]
    fn networks_round_trip_through_the_state() {
        let n = vec![
            Network::Loopback,
            Network::Veth(Veth {
                mac: Some("02:00:00:00:00:01".parse().unwrap()),
                address: Some("10.0.0.2/24".parse().unwrap()),
                gateway: Some("10.0.0.1".parse().unwrap()),
                mtu: Some(1400),
                ..veth()
            }),
        ];
        let text = serde_json::to_string(&n).unwrap();
        assert!(
            text.contains(r#""type":"veth""#) && text.contains(r#""hostName":"vh0""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Vec<Network>>(&text).unwrap(), n);
    }

    #[test]
    fn default_host_names_fit_and_differ() {
        let a = default_host_name("web-1", 0);
        assert_eq!(a.len(), 15);
        assert!(a.starts_with("hull"));
        assert_eq!(a, default_host_name("web-1", 0));
        assert_ne!(a, default_host_name("web-2", 0));
        assert_ne!(a, default_host_name("web-1", 1));
        assert_eq!(crate::netdev::invalid_name(&a, false), None);
        let unnamed = || {
            Network::Veth(Veth {
                host_name: String::new(),
                ..veth()
            })
        };
        let named = |host_name| {
            Network::Veth(Veth {
                host_name,
                ..veth()
            })
        };
        let mut n = vec![unnamed(), Network::Loopback, unnamed()];
        name_host_ends(&mut n, "web-1");
        assert_eq!(n[0], named(a));
        assert_eq!(n[2], named(default_host_name("web-1", 1)));
    }

    #[test]
    fn veth_rules_name_the_field() {
        assert_eq!(check_veth(&veth()), Ok(()));
        let field = |v: Veth| check_veth(&v).unwrap_err().0;
        assert_eq!(
            field(Veth {
                host_name: "a-name-of-16-byt".into(),
                ..veth()
            }),
            "hostName"
        );
        assert_eq!(
            field(Veth {
                bridge: String::new(),
                ..veth()
            }),
            "bridge"
        );
        assert_eq!(
            field(Veth {
                name: "lo".into(),
                ..veth()
            }),
            "name"
        );
        assert_eq!(
            field(Veth {
                mtu: Some(67),
                ..veth()
            }),
            "mtu"
        );
        assert_eq!(
            field(Veth {
                mtu: Some(65536),
                ..veth()
            }),
            "mtu"
        );
        let v6 = Some("fd00::2/64".parse().unwrap());
        assert_eq!(
            field(Veth {
                mtu: Some(1000),
                ipv6_address: v6,
                ..veth()
            }),
            "mtu"
        );
        assert_eq!(
            field(Veth {
                address: v6,
                ..veth()
            }),
            "address"
        );
        assert_eq!(
            field(Veth {
                gateway: Some("10.0.0.1".parse().unwrap()),
                ..veth()
            }),
            "gateway"
        );
        assert_eq!(
            field(Veth {
                ipv6_gateway: Some("fd00::1".parse().unwrap()),
                ..veth()
            }),
            "ipv6Gateway"
        );
    }

    #[test]
    fn route_rules_name_the_field() {
        let route = |d: &str, g: Option<&str>, s: Option<&str>, i: Option<&str>| Route {
            destination: d.parse().unwrap(),
            gateway: g.map(|g| g.parse().unwrap()),
            source: s.map(|s| s.parse().unwrap()),
            interface: i.map(String::from),
        };
        assert_eq!(
            check_route(&route("10.1.0.0/16", Some("10.0.0.1"), None, None)),
            Ok(())
        );
        assert_eq!(
            check_route(&route("10.1.0.0/16", None, None, Some("eth0"))),
            Ok(())
        );
        let field = |r: Route| check_route(&r).unwrap_err().0;
        assert_eq!(
            field(route("10.1.0.0/16", Some("fd00::1"), None, None)),
            "gateway"
        );
        assert_eq!(
            field(route("fd01::/64", Some("fd00::1"), Some("10.0.0.2"), None)),
            "source"
        );
        assert_eq!(field(route("10.1.0.0/16", None, None, None)), "interface");
        assert_eq!(
            field(route("10.1.0.0/16", None, None, Some("a/b"))),
            "interface"
        );
    }
}
