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

/// What these tests add to the harness's [`Netns`]: veth pairs with addresses.
trait NetdevNs {
    fn veth(&self, dev: &str, peer: &str, net: u8);
    fn assert_configured(&self, dev: &str, net: u8);
}

impl NetdevNs for Netns {
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

    /// Asserts `dev` is here, up, with the addresses [`NetdevNs::veth`] gave it.
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

/// The device goes in renamed, with its IPv4 and IPv6 addresses, up (the container
/// pings its peer through it) while the runtime's namespace no longer has it. Deleting
/// the container leaves it to the kernel: the container's namespace ends and a veth
/// pair with it (peer included), as with runc.
#[test]
fn a_device_moves_in_renamed_with_its_addresses_and_up() {
    if !is_hull() {
        return;
    }
    let host = Netns::new("nd");
    host.veth("hv0", "hp0", 1);
    let case = host.case("netdev_move");
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
    host.wait_gone("hp0");
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
    let host = Netns::new("nd");
    let pod = Netns::new("nd");
    host.veth("hv1", "hp1", 2);
    let case = host.case("netdev_joined");
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
    let host = Netns::new("nd");
    host.veth("hv2", "hp2", 3);
    let case = host.case("netdev_undo");
    let mut b = case.bundle("netdevundo");
    b.set("/linux/netDevices", json!({"hv2": {"name": "eth0"}}));
    b.failing_create_runtime_hook();
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
    let host = Netns::new("nd");
    let pod = Netns::new("nd");
    host.veth("hv3", "hp3", 4);
    host.veth("hv4", "hp4", 5);
    pod.veth("taken0", "takenp0", 6);
    let case = host.case("netdev_refused");
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
