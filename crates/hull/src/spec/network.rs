//! The `hull.network.*` annotations -> [`Config::networks`] and [`Config::routes`]: how
//! a bundle without CNI asks for a loopback, one veth on a host bridge and routes. This
//! module owns their names and their text forms (booleans, numbers, addresses, the
//! `ip route` words of a route); the rules between values are
//! [`check_veth`]'s and [`check_route`]'s, whose refusals are reported here under the
//! annotation's name. Every other key under `hull.network.` is refused: a misspelt
//! annotation must not leave the container without the network it asked for.
//!
//! [`Config::networks`]: crate::config::Config::networks
//! [`Config::routes`]: crate::config::Config::routes

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::bad;
use crate::config::network::{
    check_route, check_veth, default_host_name, IpNet, Network, Route, Veth,
};
use crate::config::InvalidValue;
use crate::error::ConfigError;

/// What every key of these annotations starts with.
const PREFIX: &str = "hull.network.";

/// The veth's fields, as `hull.network.veth.<field>` spells them (and
/// [`check_veth`] names them).
const VETH_FIELDS: [&str; 11] = [
    "bridge",
    "hostName",
    "name",
    "mac",
    "address",
    "gateway",
    "ipv6Address",
    "ipv6Gateway",
    "mtu",
    "txQueueLen",
    "hairpin",
];

/// The container end's name when `hull.network.veth.name` is not given.
const DEFAULT_NAME: &str = "eth0";

/// The error's field for annotation `key`.
fn field(key: &str) -> String {
    format!("annotations.{key}")
}

/// The networks and routes the `hull.network.*` annotations ask for: a loopback first
/// (`loopback: true`), then a veth when any `veth.<field>` is given, and the routes of
/// `routes`. Other annotations are not looked at.
pub(super) fn from_annotations(
    annotations: &BTreeMap<String, String>,
) -> Result<(Vec<Network>, Vec<Route>), ConfigError> {
    let mut loopback = false;
    let mut veth: BTreeMap<&str, &str> = BTreeMap::new();
    let mut routes = Vec::new();
    for (key, value) in annotations {
        let Some(name) = key.strip_prefix(PREFIX) else {
            continue;
        };
        match name {
            "loopback" => loopback = boolean(key, value)?,
            "routes" => routes = parse_routes(value)?,
            _ => match name
                .strip_prefix("veth.")
                .and_then(|f| VETH_FIELDS.iter().find(|known| **known == f))
            {
                Some(f) => {
                    veth.insert(f, value);
                }
                None => return Err(bad(field(key), "unknown hull.network annotation")),
            },
        }
    }
    let mut networks = Vec::new();
    if loopback {
        networks.push(Network::Loopback);
    }
    if !veth.is_empty() {
        networks.push(Network::Veth(parse_veth(&veth)?));
    }
    Ok((networks, routes))
}

/// `true` or `false`, nothing else.
fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(
            field(key),
            format!("{value:?} is neither true nor false"),
        )),
    }
}

/// A value of a `FromStr` type whose error is no [`InvalidValue`], as "`value` is not
/// `what`".
fn parse_as<T: FromStr>(key: &str, value: &str, what: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| bad(field(key), format!("{value:?} is not {what}")))
}

/// A decimal number of at most `u32::MAX`, digits only (no sign, no blanks).
fn number(key: &str, value: &str) -> Result<u32, ConfigError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            field(key),
            format!("{value:?} is not a decimal number"),
        ));
    }
    value
        .parse()
        .map_err(|_| bad(field(key), format!("{value} is more than {}", u32::MAX)))
}

/// The veth of the `veth.<field>` annotations (`fields`: field -> value), checked by
/// [`check_veth`].
fn parse_veth(fields: &BTreeMap<&str, &str>) -> Result<Veth, ConfigError> {
    let key = |f: &str| format!("{PREFIX}veth.{f}");
    let Some(bridge) = fields.get("bridge") else {
        // Named after the first one given, so that the message says why a veth is made.
        let given = fields.keys().next().expect("a field is given");
        return Err(bad(
            field(&key("bridge")),
            format!("is required with {}", key(given)),
        ));
    };
    let mut veth = Veth {
        bridge: bridge.to_string(),
        name: DEFAULT_NAME.to_string(),
        ..Veth::default()
    };
    for (&f, &value) in fields {
        let k = key(f);
        let invalid = |e: InvalidValue| bad(field(&k), e);
        match f {
            "bridge" => {}
            "hostName" => veth.host_name = value.to_string(),
            "name" => veth.name = value.to_string(),
            "mac" => veth.mac = Some(value.parse().map_err(invalid)?),
            "address" => veth.address = Some(value.parse::<IpNet>().map_err(invalid)?),
            "ipv6Address" => veth.ipv6_address = Some(value.parse::<IpNet>().map_err(invalid)?),
            "gateway" => veth.gateway = Some(parse_as::<Ipv4Addr>(&k, value, "an IPv4 address")?),
            "ipv6Gateway" => {
                veth.ipv6_gateway = Some(parse_as::<Ipv6Addr>(&k, value, "an IPv6 address")?)
            }
            "mtu" => veth.mtu = Some(number(&k, value)?),
            "txQueueLen" => veth.tx_queue_len = Some(number(&k, value)?),
            "hairpin" => veth.hairpin = boolean(&k, value)?,
            _ => unreachable!("{f} is one of VETH_FIELDS"),
        }
    }
    // An absent host end's name is the library's to give (from the container's id);
    // any valid name stands in for it here. One given empty is checked as it is.
    let mut checked = veth.clone();
    if !fields.contains_key("hostName") {
        checked.host_name = default_host_name("", 0);
    }
    check_veth(&checked).map_err(|(f, why)| bad(field(&key(f)), why))?;
    Ok(veth)
}

/// The routes of `hull.network.routes`: `;`-separated, each checked by
/// [`check_route`].
fn parse_routes(text: &str) -> Result<Vec<Route>, ConfigError> {
    let key = format!("{PREFIX}routes");
    text.split(';')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .enumerate()
        .map(|(i, r)| {
            let fail = |why: String| bad(field(&key), format!("route {} ({r:?}): {why}", i + 1));
            let route = parse_route(r).map_err(fail)?;
            check_route(&route).map_err(|(f, why)| {
                let word = match f {
                    "gateway" => "via",
                    "source" => "src",
                    "interface" => "dev",
                    other => other,
                };
                fail(format!("{word}: {why}"))
            })?;
            Ok(route)
        })
        .collect()
}

/// One route in `ip route`'s words: `DEST [via GW] [src SRC] [dev IFACE]`, the words
/// after DEST in any order, each at most once. DEST `default` is `0.0.0.0/0`, or `::/0`
/// when the gateway (or, without one, the source) is an IPv6 address.
fn parse_route(text: &str) -> Result<Route, String> {
    let mut words = text.split_whitespace();
    let dest = words.next().ok_or("no destination")?;
    let (mut gateway, mut source, mut interface) = (None, None, None);
    while let Some(word) = words.next() {
        let given = match word {
            "via" => gateway.is_some(),
            "src" => source.is_some(),
            "dev" => interface.is_some(),
            _ => {
                return Err(format!(
                    "unknown word {word:?} (a route is DEST [via GW] [src SRC] [dev IFACE])"
                ))
            }
        };
        if given {
            return Err(format!("{word} is given twice"));
        }
        let value = words
            .next()
            .ok_or_else(|| format!("{word} is missing its value"))?;
        let address = || {
            value
                .parse::<IpAddr>()
                .map(Some)
                .map_err(|_| format!("{word}: {value:?} is not an IP address"))
        };
        match word {
            "via" => gateway = address()?,
            "src" => source = address()?,
            _ => interface = Some(value.to_string()),
        }
    }
    let destination = if dest == "default" {
        let Some(known) = gateway.or(source) else {
            return Err(
                "default without via or src is IPv4 or IPv6: write 0.0.0.0/0 or ::/0".into(),
            );
        };
        let v6 = known.is_ipv6();
        let any = if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        IpNet {
            addr: any,
            prefix: 0,
        }
    } else if dest.contains('/') {
        dest.parse::<IpNet>().map_err(|e| e.0)?
    } else {
        return Err(format!(
            "the destination {dest:?} is neither default nor an address/prefix \
             (10.1.0.0/16, fd01::/64)"
        ));
    };
    Ok(Route {
        destination,
        source,
        gateway,
        interface,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<(Vec<Network>, Vec<Route>), ConfigError> {
        from_annotations(&annotations(pairs))
    }

    /// The error of `pairs`, as the CLI prints it.
    fn error(pairs: &[(&str, &str)]) -> String {
        parse(pairs).expect_err("refused").to_string()
    }

    fn route(d: &str, g: Option<&str>, s: Option<&str>, i: Option<&str>) -> Route {
        Route {
            destination: d.parse().unwrap(),
            gateway: g.map(|g| g.parse().unwrap()),
            source: s.map(|s| s.parse().unwrap()),
            interface: i.map(String::from),
        }
    }

    #[test]
    fn none_asks_for_nothing() {
        assert_eq!(parse(&[]), Ok((vec![], vec![])));
        let other = [
            ("org.example.x", "1"),
            ("hull.networks", "x"),
            ("hull.network", ""),
        ];
        assert_eq!(parse(&other), Ok((vec![], vec![])));
        assert_eq!(
            parse(&[
                ("hull.network.loopback", "false"),
                ("hull.network.routes", " ; ")
            ]),
            Ok((vec![], vec![]))
        );
    }

    #[test]
    fn every_annotation_is_read() {
        let (networks, routes) = parse(&[
            ("hull.network.loopback", "true"),
            ("hull.network.veth.bridge", "br0"),
            ("hull.network.veth.hostName", "vh-web"),
            ("hull.network.veth.name", "net0"),
            ("hull.network.veth.mac", "02:42:AC:11:00:02"),
            ("hull.network.veth.address", "10.0.0.2/24"),
            ("hull.network.veth.gateway", "10.0.0.1"),
            ("hull.network.veth.ipv6Address", "fd00::2/64"),
            ("hull.network.veth.ipv6Gateway", "fd00::1"),
            ("hull.network.veth.mtu", "1400"),
            ("hull.network.veth.txQueueLen", "0"),
            ("hull.network.veth.hairpin", "true"),
            (
                "hull.network.routes",
                " 10.1.0.0/16 via 10.0.0.254 ;; fd01::/64 dev net0 src fd00::2;\
                 default dev net0 via 10.0.0.1 src 10.0.0.2 ;default via fd00::1;",
            ),
        ])
        .unwrap();
        let veth = Veth {
            bridge: "br0".into(),
            host_name: "vh-web".into(),
            name: "net0".into(),
            mac: Some("02:42:ac:11:00:02".parse().unwrap()),
            address: Some("10.0.0.2/24".parse().unwrap()),
            gateway: Some("10.0.0.1".parse().unwrap()),
            ipv6_address: Some("fd00::2/64".parse().unwrap()),
            ipv6_gateway: Some("fd00::1".parse().unwrap()),
            mtu: Some(1400),
            tx_queue_len: Some(0),
            hairpin: true,
        };
        assert_eq!(networks, [Network::Loopback, Network::Veth(veth)]);
        assert_eq!(
            routes,
            [
                route("10.1.0.0/16", Some("10.0.0.254"), None, None),
                route("fd01::/64", None, Some("fd00::2"), Some("net0")),
                route(
                    "0.0.0.0/0",
                    Some("10.0.0.1"),
                    Some("10.0.0.2"),
                    Some("net0")
                ),
                route("::/0", Some("fd00::1"), None, None),
            ]
        );
    }

    #[test]
    fn a_veth_takes_defaults() {
        let (networks, routes) = parse(&[("hull.network.veth.bridge", "br0")]).unwrap();
        let veth = Veth {
            bridge: "br0".into(),
            host_name: String::new(),
            name: "eth0".into(),
            ..Veth::default()
        };
        assert_eq!(networks, [Network::Veth(veth)]);
        assert!(routes.is_empty());
        // The family of a default route: its gateway's, else its source's.
        let (_, routes) = parse(&[(
            "hull.network.routes",
            "default via 10.0.0.1; default src fd00::2 dev eth0",
        )])
        .unwrap();
        assert_eq!(routes[0].destination.to_string(), "0.0.0.0/0");
        assert_eq!(routes[1].destination.to_string(), "::/0");
    }

    #[test]
    fn bad_veth_values_name_the_annotation() {
        let br = ("hull.network.veth.bridge", "br0");
        for (pairs, expected) in [
            (
                vec![("hull.network.veth.address", "10.0.0.2/24")],
                "annotations.hull.network.veth.bridge: is required with \
                 hull.network.veth.address",
            ),
            (
                vec![br, ("hull.network.veth.address", "10.0.0.2")],
                "annotations.hull.network.veth.address: \"10.0.0.2\" is not an \
                 address/prefix (10.0.0.2/24, fd00::2/64)",
            ),
            (
                vec![br, ("hull.network.veth.address", "fd00::2/64")],
                "annotations.hull.network.veth.address: fd00::2/64 is not an IPv4 address",
            ),
            (
                vec![br, ("hull.network.veth.mtu", "70000")],
                "annotations.hull.network.veth.mtu: 70000 is outside 68..=65535",
            ),
            (
                vec![br, ("hull.network.veth.name", "a-name-of-16-byt")],
                "annotations.hull.network.veth.name: invalid device name \
                 \"a-name-of-16-byt\": it is longer than 15 bytes",
            ),
            (
                vec![br, ("hull.network.veth.mac", "01:00:5e:00:00:01")],
                "annotations.hull.network.veth.mac: 01:00:5e:00:00:01 is a multicast \
                 address, not a unicast one",
            ),
            (
                vec![br, ("hull.network.veth.gateway", "10.0.0.1")],
                "annotations.hull.network.veth.gateway: needs an IPv4 address on the device",
            ),
            (
                vec![br, ("hull.network.veth.hostName", "")],
                "annotations.hull.network.veth.hostName: invalid device name \"\": it is \
                 empty",
            ),
        ] {
            assert_eq!(error(&pairs), expected);
        }
        for (f, value) in [
            ("bridge", ""),
            ("bridge", "a/b"),
            ("name", "lo"),
            ("mac", "02:42:ac:11:00"),
            ("gateway", "fd00::1"),
            ("gateway", "10.0.0.1/24"),
            ("ipv6Address", "10.0.0.2/24"),
            ("ipv6Gateway", "10.0.0.1"),
            ("mtu", "67"),
            ("mtu", "+1400"),
            ("mtu", " 1400"),
            ("mtu", "1400.0"),
            ("mtu", "4294967296"),
            ("txQueueLen", "-1"),
            ("txQueueLen", ""),
            ("hairpin", "yes"),
            ("hairpin", "True"),
        ] {
            let key = format!("hull.network.veth.{f}");
            let pairs = [("hull.network.veth.bridge", "br0"), (&key, value)];
            let e = parse(&pairs).expect_err(&key);
            assert_eq!(e.field, format!("annotations.{key}"), "{value:?}: {e}");
        }
        // IPv6 on a link below its minimum MTU: named as check_veth names it.
        let e = parse(&[
            br,
            ("hull.network.veth.ipv6Address", "fd00::2/64"),
            ("hull.network.veth.mtu", "1000"),
        ])
        .unwrap_err();
        assert_eq!(e.field, "annotations.hull.network.veth.mtu");
    }

    #[test]
    fn unknown_keys_and_bad_booleans_are_refused() {
        for key in [
            "hull.network.veth.mtuu",
            "hull.network.veth.Bridge",
            "hull.network.veth.host_name",
            "hull.network.veth.",
            "hull.network.veth",
            "hull.network.route",
            "hull.network.",
            "hull.network.loopback.x",
        ] {
            assert_eq!(
                error(&[("hull.network.veth.bridge", "br0"), (key, "1")]),
                format!("annotations.{key}: unknown hull.network annotation")
            );
        }
        for value in ["", "1", "yes", "TRUE", " true"] {
            let e = parse(&[("hull.network.loopback", value)]).unwrap_err();
            assert_eq!(e.field, "annotations.hull.network.loopback", "{value:?}");
        }
    }

    #[test]
    fn bad_routes_say_which_and_why() {
        let e = |routes: &str| error(&[("hull.network.routes", routes)]);
        assert_eq!(
            e("10.1.0.0/16 via 10.0.0.1; 10.2.0.0/16 gw 10.0.0.1"),
            "annotations.hull.network.routes: route 2 (\"10.2.0.0/16 gw 10.0.0.1\"): \
             unknown word \"gw\" (a route is DEST [via GW] [src SRC] [dev IFACE])"
        );
        assert_eq!(
            e("10.1.0.0/16 via 10.0.0.1 via 10.0.0.2"),
            "annotations.hull.network.routes: route 1 (\"10.1.0.0/16 via 10.0.0.1 via \
             10.0.0.2\"): via is given twice"
        );
        assert_eq!(
            e("10.1.0.0/16 via 10.0.0.1 dev eth0 via x"),
            "annotations.hull.network.routes: route 1 (\"10.1.0.0/16 via 10.0.0.1 dev eth0 \
             via x\"): via is given twice"
        );
        assert_eq!(
            e("10.1.0.0/16 dev"),
            "annotations.hull.network.routes: route 1 (\"10.1.0.0/16 dev\"): dev is \
             missing its value"
        );
        assert_eq!(
            e("default via fd00::1 src 10.0.0.2"),
            "annotations.hull.network.routes: route 1 (\"default via fd00::1 src \
             10.0.0.2\"): src: 10.0.0.2 is not of the destination's family"
        );
        assert_eq!(
            e("10.1.0.0 via 10.0.0.1"),
            "annotations.hull.network.routes: route 1 (\"10.1.0.0 via 10.0.0.1\"): the \
             destination \"10.1.0.0\" is neither default nor an address/prefix \
             (10.1.0.0/16, fd01::/64)"
        );
        assert_eq!(
            e("10.1.0.0/16"),
            "annotations.hull.network.routes: route 1 (\"10.1.0.0/16\"): dev: a route \
             without a gateway needs an interface"
        );
        for bad in [
            "10.1.0.0 via 10.0.0.1",
            "10.1.0.0/33 via 10.0.0.1",
            "defaults via 10.0.0.1",
            "via 10.0.0.1",
            "10.1.0.0/16 via 10.0.0.1/24",
            "10.1.0.0/16 via gateway",
            "10.1.0.0/16 src",
            "10.1.0.0/16 dev eth0 dev eth1",
            "10.1.0.0/16 dev a/b",
            "10.1.0.0/16 dev a-name-of-16-byt",
            "fd01::/64 via 10.0.0.1",
            "default via 10.0.0.1 src fd00::2",
            "default dev eth0",
            "10.1.0.0/16 via 10.0.0.1 metric 5",
        ] {
            let e = parse(&[("hull.network.routes", bad)]).expect_err(bad);
            assert_eq!(e.field, "annotations.hull.network.routes", "{bad}");
            assert!(e.message.starts_with("route 1 ("), "{bad}: {e}");
        }
    }
}
