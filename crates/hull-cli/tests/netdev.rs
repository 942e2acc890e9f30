//! `linux.netDevices`: a device of the runtime's network namespace goes into the
//! container's, renamed, with its addresses, up; a created container keeps it (the
//! spec forbids moving it back), a failed create puts it back; and every config that
//! cannot work is refused with one line naming the field, leaving the device where it
//! was.
//!
//! Every device and address lives in network namespaces the test makes (`ip netns
//! add`), never in the host's: the runtime itself runs in one (`nsenter --net`). The
//! devices are veth pairs (this kernel has no dummy driver): the peer left behind lets
//! the container ping out, and goes with its pair when the container's namespace ends.

mod common;

use common::*;
use serde_json::json;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NETNS: AtomicUsize = AtomicUsize::new(0);

/// A network namespace of the test's own, deleted when dropped (with what is in it).
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let n = NETNS.fetch_add(1, Ordering::SeqCst);
        let name = format!("hull-nd{}-{n}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status();
        assert!(ok.is_ok_and(|s| s.success()), "ip netns add {name} failed");
        Netns { name }
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `nsenter --net=<path>`: what the runtime runs through to be in this namespace.
    fn enter(&self) -> [String; 2] {
        ["nsenter".to_string(), format!("--net={}", self.path())]
    }

    /// `ip -n <ns> <args>`, which must succeed; its stdout.
    #[track_caller]
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.name])
            .args(args)
            .output()
            .expect("running ip");
        assert!(
            out.status.success(),
            "ip -n {} {}: {}",
            self.name,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn has(&self, dev: &str) -> bool {
        Command::new("ip")
            .args(["-n", &self.name, "link", "show", "dev", dev])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// A veth pair `dev` <-> `peer`, both up: `dev` with 10.199.`net`.2/24 and
    /// fd00:199:`net`::2/64, `peer` with 10.199.`net`.1/24.
    fn veth(&self, dev: &str, peer: &str, net: u8) {
        self.ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
        self.ip(&["addr", "add", &format!("10.199.{net}.2/24"), "dev", dev]);
        let v6 = format!("fd00:199:{net}::2/64");
        self.ip(&["addr", "add", &v6, "nodad", "dev", dev]);
        self.ip(&["addr", "add", &format!("10.199.{net}.1/24"), "dev", peer]);
        self.ip(&["link", "set", dev, "up"]);
        self.ip(&["link", "set", peer, "up"]);
    }

    /// Asserts `dev` is here, up, with the addresses [`Netns::veth`] gave it.
    #[track_caller]
    fn assert_configured(&self, dev: &str, net: u8) {
        let link = self.ip(&["-o", "link", "show", "dev", dev]);
        assert!(link.contains(",UP"), "{dev} is not up: {link}");
        let addrs = self.ip(&["-o", "addr", "show", "dev", dev]);
        for want in [
            format!("10.199.{net}.2/24"),
            format!("fd00:199:{net}::2/64"),
        ] {
            assert!(addrs.contains(&want), "{dev} lacks {want}:\n{addrs}");
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A case whose runtime runs in `ns`.
fn case_in(name: &str, ns: &Netns) -> Case {
    let [program, arg] = ns.enter();
    Case::new(name).through(&[&program, &arg])
}

/// Waits (bounded) until `ns` no longer has `dev`: a network namespace is torn down
/// by the kernel after its last process has gone.
#[track_caller]
fn assert_gone_soon(ns: &Netns, dev: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while ns.has(dev) {
        assert!(Instant::now() < deadline, "{dev} is still in {}", ns.name);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The device goes in renamed, with its IPv4 and IPv6 addresses, up (the container
/// pings its peer through it) while the runtime's namespace no longer has it. Deleting
/// the container leaves it to the kernel: the container's namespace ends and a veth
/// pair with it (peer included), as with runc.
#[test]
fn a_device_moves_in_renamed_with_its_addresses_and_up() {
    if !is_hull() {
        return;
    }
    let host = Netns::new();
    host.veth("hv0", "hp0", 1);
    let case = case_in("netdev_move", &host);
    let mut b = case.bundle("netdevmove");
    b.set("/linux/netDevices", json!({"hv0": {"name": "eth7"}}));
    b.caps("bounding", &["CAP_NET_RAW"]);
    b.caps("effective", &["CAP_NET_RAW"]);
    b.caps("permitted", &["CAP_NET_RAW"]);
    b.sh("ip -o link show eth7; ip -o addr show dev eth7; \
         ping -c 1 -W 5 10.199.1.1 >/dev/null && echo ping=ok");
    let created = case.create(&b);
    assert!(!host.has("hv0"), "hv0 is still in the runtime's namespace");
    case.start(&b.id);
    case.wait_status(&b.id, "stopped");
    let out = created.reread_stdout();
    assert!(out.contains("eth7") && out.contains(",UP"), "{out}");
    for want in ["10.199.1.2/24", "fd00:199:1::2/64", "ping=ok"] {
        assert!(out.contains(want), "no {want} in:\n{out}");
    }
    case.delete(&b.id);
    assert!(!host.has("hv0"), "a deleted container's device came back");
    assert_gone_soon(&host, "hp0");
    case.finish();
}

/// A network namespace joined by path (an orchestrator's pod namespace) gets the
/// device, named by a `%d` template, and keeps it after the container is deleted: the
/// spec forbids moving it out.
#[test]
fn a_joined_namespace_gets_the_device_and_keeps_it() {
    if !is_hull() {
        return;
    }
    let host = Netns::new();
    let pod = Netns::new();
    host.veth("hv1", "hp1", 2);
    let case = case_in("netdev_joined", &host);
    let mut b = case.bundle("netdevjoined");
    b.namespace_path("network", &pod.path());
    b.set("/linux/netDevices", json!({"hv1": {"name": "net%d"}}));
    b.sh("cat /sys/class/net/net0/operstate");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "up");
    assert!(!host.has("hv1"));
    pod.assert_configured("net0", 2);
    assert!(host.has("hp1"), "the peer stays where it was");
    case.finish();
    pod.assert_configured("net0", 2);
}

/// A create that fails after the move (its createRuntime hook fails) puts the device
/// back under its name, with its addresses, up.
#[test]
fn a_failed_create_puts_the_device_back() {
    if !is_hull() {
        return;
    }
    let host = Netns::new();
    host.veth("hv2", "hp2", 3);
    let case = case_in("netdev_undo", &host);
    let mut b = case.bundle("netdevundo");
    b.set("/linux/netDevices", json!({"hv2": {"name": "eth0"}}));
    b.set(
        "/hooks/createRuntime",
        json!([{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]),
    );
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    out.assert_failed_with(1, &["createRuntime"]);
    case.assert_no_leaks();
    host.assert_configured("hv2", 3);
    case.finish();
}

/// Every config that cannot work is refused before anything is made, with one line
/// naming `linux.netDevices` (and the device), and the device stays where it was.
#[test]
fn impossible_configs_are_refused_and_leave_the_device() {
    if !is_hull() {
        return;
    }
    let host = Netns::new();
    let pod = Netns::new();
    host.veth("hv3", "hp3", 4);
    host.veth("hv4", "hp4", 5);
    pod.veth("taken0", "takenp0", 6);
    let case = case_in("netdev_refused", &host);
    let refused = |label: &str, devices: serde_json::Value, netns: Option<&str>, words: &[&str]| {
        let mut b = case.bundle(label);
        b.set("/linux/netDevices", devices);
        match netns {
            Some("none") => {
                b.remove_namespace("network");
            }
            Some(path) => {
                b.namespace_path("network", path);
            }
            None => {}
        }
        b.write();
        let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
        out.assert_bad_input(words);
        assert!(out.stderr.contains("linux.netDevices"), "{out}");
        case.assert_no_leaks();
        host.assert_configured("hv3", 4);
        host.assert_configured("hv4", 5);
    };
    let hv3 = json!({"hv3": {}});
    refused("nonetns", hv3.clone(), Some("none"), &["network namespace"]);
    refused(
        "ownnetns",
        hv3.clone(),
        Some(&host.path()),
        &["runtime's own"],
    );
    refused("missing", json!({"nope0": {}}), None, &["nope0"]);
    for bad in ["", "a/b", "a b", ".", "..", "sixteen_bytes_xx"] {
        refused("badkey", json!({ bad: {} }), None, &["invalid device name"]);
        // An empty name is no name, as in runc: the device keeps its own.
        if !bad.is_empty() {
            refused("badname", json!({"hv3": {"name": bad}}), None, &["hv3"]);
        }
    }
    refused(
        "samename",
        json!({"hv3": {"name": "eth0"}, "hv4": {"name": "eth0"}}),
        None,
        &["eth0"],
    );
    refused(
        "sameasother",
        json!({"hv3": {}, "hv4": {"name": "hv3"}}),
        None,
        &["hv3"],
    );
    // Found taken only once in the joined namespace: nothing was moved yet.
    let taken = json!({"hv3": {"name": "taken0"}});
    refused("taken", taken, Some(&pod.path()), &["taken0"]);
    assert!(pod.has("taken0"));
    case.finish();
}

/// `features` says so (runtime-spec 1.3's `linux.netDevices.enabled`).
#[test]
fn features_report_net_devices() {
    if !is_hull() {
        return;
    }
    let case = Case::new("netdev_features");
    let out = case.run(&["features"]);
    out.ok();
    let f: serde_json::Value = serde_json::from_str(out.out()).unwrap();
    assert_eq!(f["linux"]["netDevices"]["enabled"], true);
    case.finish();
}
