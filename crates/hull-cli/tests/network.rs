//! Networks without CNI, asked for by bundle annotations: `hull.network.loopback`
//! brings the container's `lo` up; `hull.network.veth.<field>` makes one veth pair
//! whose host end joins a bridge of the runtime's network namespace; and
//! `hull.network.routes` adds routes (`DEST [via GW] [src SRC] [dev IFACE]`, `;` between
//! them). Traffic goes between containers, to the bridge and to subnets behind it; the
//! ends get their MTU, MAC, queue length and hairpin mode; `events --stats` counts
//! what went through; deleting the container deletes the host end; a failed create and
//! every refused config leave no device behind.
//!
//! Every bridge, device and address lives in network namespaces the test makes (`ip
//! netns add`), never in the host's: the runtime itself runs in one (`nsenter --net`,
//! [`Netns::case`]), so that is where it finds the bridge and puts the host ends. Only
//! the tests' own addresses (10.77.0.0/16, fd00:77::/32) are ever sent traffic.
//!
//! What a container's network namespace holds is read from inside (busybox in the
//! container, `/sys/class/net`) and, for exact formats, with the host's `ip` entered
//! into the container's network namespace through its init's pid.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;

/// The bridge each test makes in its namespace.
const BR: &str = "br0";

/// A namespace of the test's own with bridge [`BR`] up, holding `addrs`.
fn lan(addrs: &[&str]) -> Netns {
    let ns = Netns::new("nw");
    ns.ip(&["link", "add", BR, "type", "bridge"]);
    ns.ip(&["link", "set", BR, "up"]);
    for a in addrs {
        add_addr(&ns, BR, a);
    }
    ns
}

/// Adds `cidr` to `dev` in `ns` (IPv6 without duplicate address detection, so that it
/// is usable at once).
fn add_addr(ns: &Netns, dev: &str, cidr: &str) {
    if cidr.contains(':') {
        ns.ip(&["addr", "add", cidr, "nodad", "dev", dev]);
    } else {
        ns.ip(&["addr", "add", cidr, "dev", dev]);
    }
}

/// A veth pair `a` <-> `b` of `ns`, both ends up, `a` holding `addrs`: a second network
/// of the test's namespace, which containers reach only through a route.
fn upstream(ns: &Netns, a: &str, b: &str, addrs: &[&str]) {
    ns.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
    ns.ip(&["link", "set", a, "up"]);
    ns.ip(&["link", "set", b, "up"]);
    for addr in addrs {
        add_addr(ns, a, addr);
    }
}

/// Sets annotation `key` (a string, as OCI annotations are).
fn annotate(b: &mut Bundle, key: &str, value: &str) {
    b.set(&format!("/annotations/{key}"), json!(value));
}

/// Sets `hull.network.veth.<field>` for each pair of `fields`.
fn veth(b: &mut Bundle, fields: &[(&str, &str)]) {
    for (field, value) in fields {
        annotate(b, &format!("hull.network.veth.{field}"), value);
    }
}

/// A bundle with a veth of `fields`, allowed to ping (CAP_NET_RAW: busybox's ping opens
/// a raw socket, and a new network namespace allows no unprivileged ICMP sockets).
fn net_bundle(case: &Case, label: &str, fields: &[(&str, &str)]) -> Bundle {
    let mut b = case.bundle(label);
    veth(&mut b, fields);
    for set in ["bounding", "effective", "permitted"] {
        b.caps(set, &["CAP_NET_RAW"]);
    }
    b
}

/// `exec <id> sh -c <script>`.
fn exec(case: &Case, id: &str, script: &str) -> Output {
    case.run(&["exec", id, "sh", "-c", script])
}

/// Asserts that container `id` gets an answer from `addr` to one ping (`ping6` for an
/// IPv6 address).
#[track_caller]
fn assert_pings(case: &Case, id: &str, addr: &str) {
    let ping = if addr.contains(':') { "ping6" } else { "ping" };
    let out = exec(case, id, &format!("{ping} -c 1 -W 2 {addr}"));
    assert_eq!(out.code, 0, "{id} got no answer from {addr}:\n{out}");
    assert!(out.stdout.contains("1 packets received"), "{out}");
}

/// The host's `ip <args>` in the network namespace of the process `pid` (a container's
/// init), which must succeed; its stdout.
#[track_caller]
fn ip_in(pid: i64, args: &[&str]) -> String {
    let out = Command::new("nsenter")
        .arg(format!("--net=/proc/{pid}/ns/net"))
        .arg("ip")
        .args(args)
        .output()
        .expect("running nsenter ip");
    assert!(
        out.status.success(),
        "ip {} in the network namespace of {pid}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `s` with every run of whitespace made one space (to find `a via b dev c` in `ip`'s
/// output whatever its spacing).
fn squeeze(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `ip -d link show dev <dev>` of `ns` in one line.
#[track_caller]
fn host_end(ns: &Netns, dev: &str) -> String {
    squeeze(&ns.ip(&["-d", "link", "show", "dev", dev])).replace('\n', " ")
}

/// Asserts the host end `dev` is in `ns`, up, a port of [`BR`].
#[track_caller]
fn assert_on_bridge(ns: &Netns, dev: &str) {
    assert!(
        ns.has(dev),
        "no host end {dev} in {}: {:?}",
        ns.name,
        ns.links()
    );
    let link = host_end(ns, dev);
    assert!(
        link.contains(&format!("master {BR} ")),
        "{dev} is not on {BR}: {link}"
    );
    assert!(link.contains(",UP"), "{dev} is not up: {link}");
}

/// Whether the exact field `field` appears in `text` (not as the start of a longer
/// one: `networks` is not found in `networks[0].bridge`).
fn names_field(text: &str, field: &str) -> bool {
    text.match_indices(field).any(|(i, _)| {
        let next = text[i + field.len()..].chars().next();
        !matches!(next, Some(c) if c.is_alphanumeric() || c == '[' || c == '.' || c == '_')
    })
}

/// The names a veth field's error may go by: the annotation's, when the annotation is
/// refused as such, or the network's, when the library's rules refuse the network it
/// made (this test does not pin down which layer refuses what).
fn veth_field(field: &str) -> [String; 2] {
    [
        format!("annotations.hull.network.veth.{field}"),
        format!("networks[0].{field}"),
    ]
}

/// Asserts a failed invocation: a non-zero exit and one line on stderr; that line.
#[track_caller]
fn assert_one_line_failure(out: &Output) -> &str {
    assert_ne!(out.code, 0, "expected a failure:\n{out}");
    let err = out.stderr.trim();
    assert_eq!(err.lines().count(), 1, "expected one error line:\n{out}");
    err
}

/// Asserts a refused invocation: a non-zero exit, and one line on stderr naming one of
/// `fields` exactly.
#[track_caller]
fn assert_refused(out: &Output, fields: &[String]) {
    let err = assert_one_line_failure(out);
    assert!(
        fields.iter().any(|f| names_field(err, f)),
        "stderr should name one of {fields:?}:\n{out}"
    );
}

/// The counters of interface `name` in `events --stats <id>`, checking on the way that
/// the list has all eight counters of each interface and no `lo`.
#[track_caller]
fn iface_stats(case: &Case, id: &str, name: &str) -> Value {
    let out = case.run(&["events", "--stats", id]);
    out.ok();
    let ev: Value = serde_json::from_str(out.out())
        .unwrap_or_else(|e| panic!("events --stats is not JSON ({e}):\n{out}"));
    let list = ev["data"]["network_interfaces"]
        .as_array()
        .unwrap_or_else(|| panic!("no network_interfaces list:\n{out}"));
    for iface in list {
        assert_ne!(iface["name"], "lo", "lo is listed:\n{out}");
        for counter in COUNTERS {
            assert!(iface[counter].is_u64(), "no {counter} in {iface}:\n{out}");
        }
    }
    list.iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no interface {name} in network_interfaces:\n{out}"))
        .clone()
}

const COUNTERS: [&str; 8] = [
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
];

/// How much `counter` grew from `before` to `after`.
#[track_caller]
fn grew(before: &Value, after: &Value, counter: &str) -> u64 {
    let (b, a) = (
        before[counter].as_u64().unwrap(),
        after[counter].as_u64().unwrap(),
    );
    assert!(a >= b, "{counter} went down: {before} -> {after}");
    a - b
}

/// Two containers on one bridge ping each other both ways and the bridge's own
/// address, and talk TCP: a busybox `nc` echo server in one answers the other.
#[test]
fn two_containers_on_one_bridge_reach_each_other() {
    if !is_hull() {
        return;
    }
    let ns = lan(&["10.77.1.1/24"]);
    let case = ns.case("network_reach");
    let mut a = net_bundle(
        &case,
        "reacha",
        &[
            ("bridge", BR),
            ("hostName", "hva1"),
            ("address", "10.77.1.2/24"),
        ],
    );
    let mut b = net_bundle(
        &case,
        "reachb",
        &[
            ("bridge", BR),
            ("hostName", "hvb1"),
            ("address", "10.77.1.3/24"),
        ],
    );
    case.running(&mut a, &["sleep", "600"]);
    case.running(&mut b, &["sleep", "600"]);
    assert_on_bridge(&ns, "hva1");
    assert_on_bridge(&ns, "hvb1");

    assert_pings(&case, &a.id, "10.77.1.3");
    assert_pings(&case, &b.id, "10.77.1.2");
    assert_pings(&case, &a.id, "10.77.1.1");

    // An echo server in b for one connection; a connects once it listens (bounded
    // retries: a refused connection costs nothing).
    let server = case.spawn(&["exec", &b.id, "nc", "-l", "-p", "7777", "-e", "cat"]);
    let client = exec(
        &case,
        &a.id,
        "for i in $(seq 100); do \
             r=$(echo hello-over-tcp | nc -w 2 10.77.1.3 7777) && [ -n \"$r\" ] && break; \
             sleep 0.05; \
         done; echo \"answer=$r\"",
    );
    client.ok();
    assert_eq!(
        client.kv().get("answer").map(String::as_str),
        Some("hello-over-tcp"),
        "{client}"
    );
    let server = server.wait();
    assert_eq!(server.code, 0, "the echo server failed:\n{server}");

    case.run(&["delete", "--force", &a.id]).ok();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
    assert_eq!(ns.links(), BTreeSet::from(["lo".into(), BR.into()]));
}

/// `hull.network.routes` in each of its forms: `via` a gateway to a subnet that is
/// beyond the bridge (the test's namespace holds it on another network), `dev` and
/// `src` for an on-link subnet, and `default`. A subnet no route covers stays
/// unreachable, so it is the routes that make the others reachable.
#[test]
fn routes_reach_subnets_beyond_the_bridge() {
    if !is_hull() {
        return;
    }
    let ns = lan(&["10.77.2.1/24"]);
    // 10.77.3.1 behind the gateway 10.77.2.1; 10.77.4.1 answered on the bridge's link
    // (the test's namespace answers ARP for any of its addresses); 10.77.5.1 only by a
    // default route.
    upstream(
        &ns,
        "up0",
        "up1",
        &["10.77.3.1/24", "10.77.4.1/32", "10.77.5.1/32"],
    );
    let case = ns.case("network_routes");
    let mut a = net_bundle(
        &case,
        "routesa",
        &[
            ("bridge", BR),
            ("hostName", "hva2"),
            ("address", "10.77.2.2/24"),
        ],
    );
    annotate(
        &mut a,
        "hull.network.routes",
        "10.77.3.0/24 via 10.77.2.1; 10.77.4.0/24 dev eth0 src 10.77.2.2",
    );
    let mut b = net_bundle(
        &case,
        "routesb",
        &[
            ("bridge", BR),
            ("hostName", "hvb2"),
            ("address", "10.77.2.3/24"),
        ],
    );
    annotate(&mut b, "hull.network.routes", "default via 10.77.2.1");
    let pid_a = case.running(&mut a, &["sleep", "600"]);
    let pid_b = case.running(&mut b, &["sleep", "600"]);

    let routes_a = squeeze(&ip_in(pid_a, &["-4", "route", "show"]));
    assert!(
        routes_a.contains("10.77.3.0/24 via 10.77.2.1 dev eth0"),
        "no route to 10.77.3.0/24 via 10.77.2.1 in a:\n{routes_a}"
    );
    let on_link = routes_a.lines().find(|l| l.starts_with("10.77.4.0/24 "));
    assert!(
        on_link.is_some_and(|l| {
            l.contains(" dev eth0") && l.contains(" src 10.77.2.2") && !l.contains(" via ")
        }),
        "no route to 10.77.4.0/24 on eth0's link from 10.77.2.2 in a:\n{routes_a}"
    );
    assert!(
        !routes_a.contains("default"),
        "a has a default route:\n{routes_a}"
    );
    let routes_b = squeeze(&ip_in(pid_b, &["-4", "route", "show"]));
    assert!(
        routes_b.contains("default via 10.77.2.1 dev eth0"),
        "no default route in b:\n{routes_b}"
    );

    assert_pings(&case, &a.id, "10.77.3.1");
    assert_pings(&case, &a.id, "10.77.4.1");
    assert_pings(&case, &b.id, "10.77.5.1");
    let unrouted = exec(&case, &a.id, "ping -c 1 -W 1 10.77.5.1");
    assert_ne!(
        unrouted.code, 0,
        "a reached 10.77.5.1 without a route:\n{unrouted}"
    );

    case.run(&["delete", "--force", &a.id]).ok();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// MTU, MAC and transmit queue length of the container end, under the name given,
/// read from inside; the host end on the bridge with the same MTU and hairpin mode on.
#[test]
fn mtu_mac_txqueuelen_and_hairpin_are_set() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_link");
    let mut b = net_bundle(
        &case,
        "link",
        &[
            ("bridge", BR),
            ("hostName", "hvl3"),
            ("name", "lan3"),
            ("mac", "02:42:ac:11:00:02"),
            ("address", "10.77.6.2/24"),
            ("mtu", "1400"),
            ("txQueueLen", "321"),
            ("hairpin", "true"),
        ],
    );
    let pid = case.running(&mut b, &["sleep", "600"]);
    let out = exec(
        &case,
        &b.id,
        "cd /sys/class/net && for f in mtu address tx_queue_len operstate; do \
             echo \"$f=$(cat lan3/$f)\"; \
         done; echo \"devices=$(ls | sort | tr '\\n' ' ')\"",
    );
    out.ok();
    let kv = out.kv();
    for (key, want) in [
        ("mtu", "1400"),
        ("address", "02:42:ac:11:00:02"),
        ("tx_queue_len", "321"),
        ("operstate", "up"),
        ("devices", "lan3 lo"),
    ] {
        assert_eq!(kv.get(key).map(String::as_str), Some(want), "{key}:\n{out}");
    }
    let addrs = ip_in(pid, &["-o", "-4", "addr", "show", "dev", "lan3"]);
    assert!(addrs.contains("inet 10.77.6.2/24"), "{addrs}");

    // The host end keeps the bridge's MTU (1500), so that the bridge, whose MTU follows
    // its smallest port, stays as it was; and a MAC the bridge never takes over (fe:).
    assert_on_bridge(&ns, "hvl3");
    let host = host_end(&ns, "hvl3");
    for want in [" mtu 1500 ", "hairpin on", "link/ether fe:", " qlen 321"] {
        assert!(host.contains(want), "the host end lacks {want:?}: {host}");
    }
    let bridge = host_end(&ns, BR);
    assert!(
        bridge.contains(" mtu 1500 "),
        "the bridge's MTU changed: {bridge}"
    );

    // Without `hairpin` the port is left as the bridge makes it: hairpin off.
    let mut plain = net_bundle(&case, "plain", &[("bridge", BR), ("hostName", "hvp3")]);
    case.running(&mut plain, &["sleep", "600"]);
    let host = host_end(&ns, "hvp3");
    assert!(host.contains("hairpin off"), "{host}");

    case.run(&["delete", "--force", &b.id]).ok();
    case.run(&["delete", "--force", &plain.id]).ok();
    case.finish();
}

/// A device that is not a bridge (here a veth; a bond or a VRF would enslave the host end
/// as well) is refused as the bridge, naming the field, and nothing is made.
#[test]
fn a_bridge_that_is_not_a_bridge_is_refused() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_not_bridge");
    ns.ip(&[
        "link", "add", "notbr6", "type", "veth", "peer", "name", "notbr6p",
    ]);
    let before = ns.links();
    let b = net_bundle(
        &case,
        "notbridge",
        &[("bridge", "notbr6"), ("hostName", "hvn6")],
    );
    let out = case.run_container(&b);
    assert_refused(&out, &veth_field("bridge"));
    assert!(out.stderr.contains("not a bridge"), "{out}");
    assert_eq!(ns.links(), before);
    case.finish();
}

/// A veth naming only its bridge: the container end is `eth0`, the host end `hull` and
/// 11 hex digits, a different one for each container.
#[test]
fn default_names_are_eth0_and_hull_with_11_hex_digits() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_names");
    let before = ns.links();
    let mut host_ends = Vec::new();
    for label in ["namesa", "namesb"] {
        let mut b = net_bundle(&case, label, &[("bridge", BR)]);
        b.args(&["sleep", "600"]);
        case.create(&b);
        let new: Vec<String> = ns.links().difference(&before).cloned().collect();
        let name = new
            .iter()
            .find(|n| !host_ends.contains(*n))
            .unwrap_or_else(|| panic!("no new host end in {}: {new:?}", ns.name))
            .clone();
        assert!(
            name.len() == 15
                && name.starts_with("hull")
                && name[4..].chars().all(|c| c.is_ascii_hexdigit()),
            "host end {name:?} is not hull and 11 hex digits"
        );
        assert_eq!(new.len(), host_ends.len() + 1, "{new:?}");
        assert_on_bridge(&ns, &name);
        case.start(&b.id);
        let pid = case.wait_status(&b.id, "running")["pid"].as_i64().unwrap();
        let link = ip_in(pid, &["-o", "link", "show", "dev", "eth0"]);
        assert!(link.contains(",UP"), "eth0 is not up: {link}");
        host_ends.push(name);
    }
    case.finish();
    for name in &host_ends {
        assert!(!ns.has(name), "{name} outlived its container");
    }
}

/// IPv6: address (usable at once: no duplicate address detection to wait for) and
/// default route through the gateway, read back; containers ping6 each other, the
/// gateway, and a subnet only the gateway leads to.
#[test]
fn ipv6_addresses_gateways_and_ping6_between_containers() {
    if !is_hull() {
        return;
    }
    let ns = lan(&["fd00:77:1::1/64"]);
    upstream(&ns, "up0", "up1", &["fd00:77:2::1/64"]);
    let case = ns.case("network_ipv6");
    let mut a = net_bundle(
        &case,
        "ipv6a",
        &[
            ("bridge", BR),
            ("hostName", "hva4"),
            ("address", "10.77.7.2/24"),
            ("ipv6Address", "fd00:77:1::2/64"),
            ("ipv6Gateway", "fd00:77:1::1"),
        ],
    );
    // IPv6 only.
    let mut b = net_bundle(
        &case,
        "ipv6b",
        &[
            ("bridge", BR),
            ("hostName", "hvb4"),
            ("ipv6Address", "fd00:77:1::3/64"),
        ],
    );
    let pid_a = case.running(&mut a, &["sleep", "600"]);
    let pid_b = case.running(&mut b, &["sleep", "600"]);

    for (pid, want) in [(pid_a, "fd00:77:1::2/64"), (pid_b, "fd00:77:1::3/64")] {
        let addrs = squeeze(&ip_in(pid, &["-6", "addr", "show", "dev", "eth0"]));
        let line = addrs
            .lines()
            .find(|l| l.contains(&format!("inet6 {want} ")))
            .unwrap_or_else(|| panic!("no {want}:\n{addrs}"));
        assert!(
            !line.contains("tentative"),
            "{want} is not usable yet: {line}"
        );
    }
    let routes = squeeze(&ip_in(pid_a, &["-6", "route", "show"]));
    assert!(
        routes.contains("default via fd00:77:1::1 dev eth0"),
        "no IPv6 default route in a:\n{routes}"
    );
    let routes_b = squeeze(&ip_in(pid_b, &["-6", "route", "show"]));
    assert!(
        !routes_b.contains("default"),
        "b has a default route:\n{routes_b}"
    );
    let v4_b = ip_in(pid_b, &["-o", "-4", "addr", "show", "dev", "eth0"]);
    assert!(v4_b.trim().is_empty(), "b has an IPv4 address: {v4_b}");

    assert_pings(&case, &a.id, "fd00:77:1::3");
    assert_pings(&case, &b.id, "fd00:77:1::2");
    assert_pings(&case, &a.id, "fd00:77:1::1");
    assert_pings(&case, &a.id, "fd00:77:2::1");
    let inside = exec(&case, &a.id, "ip -6 route");
    inside.ok();
    assert!(
        squeeze(&inside.stdout).contains("default via fd00:77:1::1 dev eth0"),
        "{inside}"
    );

    case.run(&["delete", "--force", &a.id]).ok();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// `events --stats` counts the packets of a ping flood on each side: N echo requests
/// out of one container and into the other, N replies back.
#[test]
fn stats_count_the_packets_of_a_ping_flood() {
    if !is_hull() {
        return;
    }
    const N: u64 = 200;
    let ns = lan(&[]);
    let case = ns.case("network_stats");
    let mut a = net_bundle(
        &case,
        "statsa",
        &[
            ("bridge", BR),
            ("hostName", "hva5"),
            ("address", "10.77.8.2/24"),
        ],
    );
    let mut b = net_bundle(
        &case,
        "statsb",
        &[
            ("bridge", BR),
            ("hostName", "hvb5"),
            ("address", "10.77.8.3/24"),
        ],
    );
    case.running(&mut a, &["sleep", "600"]);
    case.running(&mut b, &["sleep", "600"]);
    let a0 = iface_stats(&case, &a.id, "eth0");
    let b0 = iface_stats(&case, &b.id, "eth0");

    let flood = exec(&case, &a.id, &format!("ping -q -A -c {N} -W 2 10.77.8.3"));
    flood.ok();
    assert!(
        flood.stdout.contains(&format!("{N} packets received")),
        "{flood}"
    );

    let a1 = iface_stats(&case, &a.id, "eth0");
    let b1 = iface_stats(&case, &b.id, "eth0");
    // An echo request or reply is at least 84 bytes of IP (20 + 8 + 56 of data).
    for (side, before, after, dir) in [
        ("a", &a0, &a1, "tx"),
        ("a", &a0, &a1, "rx"),
        ("b", &b0, &b1, "rx"),
        ("b", &b0, &b1, "tx"),
    ] {
        let packets = grew(before, after, &format!("{dir}_packets"));
        let bytes = grew(before, after, &format!("{dir}_bytes"));
        assert!(
            packets >= N && bytes >= N * 84,
            "{side}'s {dir} grew by {packets} packets, {bytes} bytes for {N} pings: \
             {before} -> {after}"
        );
    }

    case.run(&["delete", "--force", &a.id]).ok();
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}

/// Deleting the container deletes its host end, whatever state it was in: created
/// (`delete`), running (`delete --force`), stopped (`delete`); once `delete` returns,
/// the host end is gone, so the name is free again for a container made next.
#[test]
fn deleting_the_container_deletes_the_host_end() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_delete");
    let baseline = ns.links();

    let mut created = net_bundle(&case, "created", &[("bridge", BR), ("hostName", "hvc6")]);
    created.args(&["sleep", "600"]);
    case.create(&created);
    assert_on_bridge(&ns, "hvc6");
    case.delete(&created.id);
    assert!(
        !ns.has("hvc6"),
        "the host end of a deleted created container is left"
    );

    let mut running = net_bundle(&case, "running", &[("bridge", BR), ("hostName", "hvc6")]);
    case.running(&mut running, &["sleep", "600"]);
    assert_on_bridge(&ns, "hvc6");
    case.run(&["delete", "--force", &running.id]).ok();
    assert!(
        !ns.has("hvc6"),
        "the host end of a force-deleted container is left"
    );

    let mut stopped = net_bundle(&case, "stopped", &[("bridge", BR), ("hostName", "hvc6")]);
    stopped.args(&["true"]);
    case.create(&stopped);
    assert_on_bridge(&ns, "hvc6");
    case.start(&stopped.id);
    case.wait_status(&stopped.id, "stopped");
    case.delete(&stopped.id);
    assert!(
        !ns.has("hvc6"),
        "the host end of a deleted stopped container is left"
    );

    assert_eq!(ns.links(), baseline);
    case.finish();
}

/// A device that took the host end's name after the container's pair went (its network
/// namespace ended with its init) is somebody else's: deleting the container leaves it.
#[test]
fn a_device_that_took_the_host_ends_name_is_left_alone() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_name_reused");
    let mut b = net_bundle(&case, "reused", &[("bridge", BR), ("hostName", "hvr6")]);
    b.args(&["true"]);
    case.create(&b);
    assert_on_bridge(&ns, "hvr6");
    case.start(&b.id);
    case.wait_status(&b.id, "stopped");
    // The namespace, and the pair with it, goes once init is reaped: asynchronously.
    ns.wait_gone("hvr6");
    ns.ip(&[
        "link", "add", "hvr6", "type", "veth", "peer", "name", "hvr6p",
    ]);
    case.delete(&b.id);
    let kept = ns.has("hvr6");
    ns.ip(&["link", "del", "hvr6"]);
    assert!(
        kept,
        "delete removed a device that only shares the name of its host end"
    );
    case.finish();
}

/// The host end is deleted by the runtime, not left to the kernel: a second container
/// joined the first one's network namespace (by path), so the namespace, and a veth
/// pair in it, outlives the first container; deleting that container still deletes
/// its host end (and the container end with it).
#[test]
fn the_host_end_goes_with_its_container_while_the_namespace_lives_on() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_shared");
    let baseline = ns.links();
    let mut owner = net_bundle(&case, "owner", &[("bridge", BR), ("hostName", "hvs6")]);
    let owner_pid = case.running(&mut owner, &["sleep", "600"]);
    let mut sidecar = case.bundle("sidecar");
    sidecar.namespace_path("network", &format!("/proc/{owner_pid}/ns/net"));
    let sidecar_pid = case.running(&mut sidecar, &["sleep", "600"]);
    assert_on_bridge(&ns, "hvs6");

    case.run(&["delete", "--force", &owner.id]).ok();
    assert!(!ns.has("hvs6"), "the host end outlived its container");
    let left = ip_in(sidecar_pid, &["-o", "link", "show"]);
    assert!(!left.contains("eth0"), "the container end is left: {left}");
    assert_eq!(ns.links(), baseline);

    case.run(&["delete", "--force", &sidecar.id]).ok();
    case.finish();
}

/// `hull.network.loopback` alone: `lo` up, 127.0.0.1 answering a ping and a TCP
/// connection, and no other device in the container nor new one in the runtime's
/// namespace. (hull brings `lo` up in every network namespace of the container's own,
/// as runc does, so this holds without the annotation too: it checks the annotation
/// is accepted and changes nothing else.)
#[test]
fn loopback_only_gives_a_working_lo() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_lo");
    let baseline = ns.links();
    let mut b = net_bundle(&case, "lo", &[]);
    annotate(&mut b, "hull.network.loopback", "true");
    b.sh("echo \"devices=$(ls /sys/class/net | tr '\\n' ' ')\"; \
         echo \"lo=$(cat /sys/class/net/lo/operstate) $(cat /sys/class/net/lo/flags)\"; \
         ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping=ok; \
         nc -l -p 7777 -e cat & \
         for i in $(seq 100); do \
             r=$(echo over-lo | nc -w 2 127.0.0.1 7777) && [ -n \"$r\" ] && break; \
             sleep 0.05; \
         done; echo \"tcp=$r\"");
    let out = case.run_container(&b);
    out.ok();
    let kv = out.kv();
    assert_eq!(kv.get("devices").map(String::as_str), Some("lo"), "{out}");
    assert_eq!(kv.get("ping").map(String::as_str), Some("ok"), "{out}");
    assert_eq!(kv.get("tcp").map(String::as_str), Some("over-lo"), "{out}");
    // IFF_UP (0x1) in lo's flags (operstate of lo is "unknown" when up).
    let lo = kv.get("lo").map(String::as_str).unwrap_or("");
    let flags = lo.split_whitespace().nth(1).unwrap_or("");
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
    assert_eq!(flags & 1, 1, "lo is not up:\n{out}");
    assert_eq!(ns.links(), baseline);
    case.finish();
}

/// A create that fails after the veth could be made (a route the kernel refuses: its
/// gateway is on no link of the container; a failing createRuntime hook) leaves no
/// device in the runtime's namespace and nothing of the container.
#[test]
fn a_failed_create_leaves_no_interface_behind() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let case = ns.case("network_undo");
    let baseline = ns.links();
    let fields = [
        ("bridge", BR),
        ("hostName", "hvf7"),
        ("address", "10.77.9.2/24"),
    ];

    let mut b = net_bundle(&case, "badroute", &fields);
    annotate(
        &mut b,
        "hull.network.routes",
        "10.77.10.0/24 via 10.77.99.1",
    );
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    let lower = assert_one_line_failure(&out).to_lowercase();
    assert!(
        ["route", "10.77.10.0", "10.77.99.1"]
            .iter()
            .any(|w| lower.contains(w)),
        "the error does not say which route failed:\n{out}"
    );
    case.assert_no_leaks();
    assert_eq!(ns.links(), baseline, "a failed create left a device");

    // With the default host end name too.
    for host_name in [Some("hvf7"), None] {
        let mut b = net_bundle(&case, "badhook", &fields[..1]);
        veth(&mut b, &[("address", "10.77.9.2/24")]);
        if let Some(n) = host_name {
            veth(&mut b, &[("hostName", n)]);
        }
        b.failing_create_runtime_hook();
        b.write();
        let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
        out.assert_failed_with(1, &["createRuntime"]);
        case.assert_no_leaks();
        assert_eq!(ns.links(), baseline, "a failed create left a device");
    }
    case.finish();
}

/// Every network config that cannot work is refused before anything is made: a
/// non-zero exit, one line naming the field, nothing of the container left, no device
/// made in the runtime's namespace, and a device already there under the host end's
/// name kept.
#[test]
fn bad_network_configs_are_refused_naming_the_field() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    // A device that is not the runtime's to touch, under the name a veth asks for.
    ns.ip(&[
        "link", "add", "taken0", "type", "veth", "peer", "name", "takenp0",
    ]);
    let case = ns.case("network_refused");
    let baseline = ns.links();
    let refused = |label: &str, fields: &[(&str, &str)], names: &[String]| {
        let mut b = case.bundle(label);
        veth(&mut b, fields);
        b.write();
        let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
        assert_refused(&out, names);
        case.assert_no_leaks();
        assert_eq!(ns.links(), baseline, "a refused create changed the devices");
    };
    let ok = [("bridge", BR), ("hostName", "hvr8")];
    let with = |field: &'static str, value: &'static str| {
        let mut f: Vec<(&str, &str)> = ok.iter().filter(|(k, _)| *k != field).cloned().collect();
        f.push((field, value));
        f
    };

    refused("nobridge", &with("bridge", "nobr0"), &veth_field("bridge"));
    refused(
        "bridgeless",
        &[("hostName", "hvr8"), ("address", "10.77.11.2/24")],
        &veth_field("bridge"),
    );
    refused(
        "taken",
        &with("hostName", "taken0"),
        &veth_field("hostName"),
    );
    assert!(
        ns.has("taken0") && ns.has("takenp0"),
        "the taken device went"
    );
    for (field, bad) in [
        ("address", "10.77.11.2"),
        ("address", "10.77.11.2/33"),
        ("address", "10.77.11/24"),
        ("address", "fd00:77::2/64"),
        ("ipv6Address", "fd00:77::2"),
        ("ipv6Address", "10.77.11.2/24"),
        ("gateway", "10.77.11"),
        ("ipv6Gateway", "fd00:77::zz"),
        ("mtu", "67"),
        ("mtu", "65536"),
        ("mtu", "0"),
        ("mtu", "-1"),
        ("mtu", "1500x"),
        ("txQueueLen", "many"),
        ("mac", "01:00:5e:00:00:01"),
        ("mac", "ff:ff:ff:ff:ff:ff"),
        ("mac", "00:00:00:00:00:00"),
        ("mac", "02:42:ac:11:00"),
        ("name", "sixteen_bytes_xx"),
        ("hostName", "sixteen_bytes_xx"),
        ("bridge", "sixteen_bytes_xx"),
    ] {
        let mut fields = with(field, bad);
        // A gateway needs an address of its family to be judged on its own.
        if field == "gateway" {
            fields.push(("address", "10.77.11.2/24"));
        }
        if field == "ipv6Gateway" {
            fields.push(("ipv6Address", "fd00:77::2/64"));
        }
        refused(&field.to_lowercase(), &fields, &veth_field(field));
    }

    // Routes that are no routes; the field is the annotation or the route's.
    for bad in [
        "10.77.12.0/24 via",
        "10.77.12.0 via 10.77.11.1",
        "10.77.12.0/24 via 10.77.11.1 weight 3",
        "fd00:78::/64 via 10.77.11.1",
    ] {
        let mut b = case.bundle("badroute");
        veth(&mut b, &[("bridge", BR), ("address", "10.77.11.2/24")]);
        annotate(&mut b, "hull.network.routes", bad);
        b.write();
        let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
        let err = assert_one_line_failure(&out);
        assert!(
            err.contains("annotations.hull.network.routes") || err.contains("routes[0]"),
            "stderr should name the routes annotation or routes[0]:\n{out}"
        );
        case.assert_no_leaks();
        assert_eq!(ns.links(), baseline, "a refused create changed the devices");
    }
    case.finish();
    assert!(ns.has("taken0"), "the taken device went");
}

/// Networks need a network namespace of the container's own: none (the runtime's
/// would be shared) or one joined by path is refused naming `networks`, for a veth and
/// for the loopback alone, and neither namespace gains a device.
#[test]
fn networks_need_a_network_namespace_of_the_containers_own() {
    if !is_hull() {
        return;
    }
    let ns = lan(&[]);
    let pod = Netns::new("nw");
    let case = ns.case("network_nonetns");
    let baseline = ns.links();
    let pod_baseline = pod.links();
    for netns in [None, Some(pod.path())] {
        for loopback_only in [false, true] {
            let mut b = case.bundle("nonetns");
            if loopback_only {
                annotate(&mut b, "hull.network.loopback", "true");
            } else {
                veth(&mut b, &[("bridge", BR), ("hostName", "hvn9")]);
            }
            match &netns {
                None => b.remove_namespace("network"),
                Some(path) => b.namespace_path("network", path),
            };
            b.write();
            let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
            assert_refused(&out, &["networks".to_string()]);
            case.assert_no_leaks();
            assert_eq!(ns.links(), baseline);
            assert_eq!(pod.links(), pod_baseline);
        }
    }
    case.finish();
}
