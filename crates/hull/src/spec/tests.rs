//! The conversion, without root: what converts (and is left to validation), and what
//! cannot be converted at all.

use super::*;
use serde_json::{json, Value};

/// Converts a minimal config.json with `patch`'s top-level fields laid over it, in a
/// bundle with a `rootfs` and a `vol` to bind.
fn convert(name: &str, patch: Value) -> Result<(Config, Process)> {
    let dir = std::env::temp_dir().join(format!("hull-spec-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    std::fs::create_dir_all(dir.join("vol")).unwrap();
    let mut config = json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0}},
        "linux": {"namespaces": [{"type": "mount"}]},
    });
    for (key, value) in patch.as_object().unwrap() {
        config[key] = value.clone();
    }
    let converted = from_json(config.to_string().as_bytes(), &dir);
    std::fs::remove_dir_all(&dir).unwrap();
    converted
}

/// `mounts[0]` of a config with just `mount`.
fn convert_mount(name: &str, mount: Value) -> Mount {
    let (config, _) = convert(name, json!({ "mounts": [mount] })).unwrap();
    config.mounts[0].clone()
}

fn ids(host: u32) -> Value {
    json!([{"containerID": 0, "hostID": host, "size": 10}])
}

fn process(name: &str, process: Value) -> Result<Process> {
    convert(name, json!({ "process": process })).map(|(_, p)| p)
}

#[test]
fn mount_mappings_and_idmap_options() {
    let plain = json!({"destination": "/v", "source": "vol", "options": ["rbind"]});
    let plain = convert_mount("plain", plain);
    assert_eq!(plain.idmap, None);
    assert!(
        plain.source.unwrap().ends_with("vol"),
        "a bind source is the bundle's"
    );

    // Mappings alone imply idmap, of the bind's own mount.
    let mapped = json!({"destination": "/v", "source": "vol", "options": ["rbind"],
                        "uidMappings": ids(1000), "gidMappings": ids(2000)});
    let idmap = convert_mount("mapped", mapped).idmap.unwrap();
    assert!(!idmap.recursive);
    assert_eq!(idmap.uid_mappings[0].host_id, 1000);
    assert_eq!(idmap.gid_mappings[0].host_id, 2000);

    let ridmap = json!({"destination": "/v", "source": "vol", "options": ["rbind", "ridmap"]});
    let idmap = convert_mount("ridmap", ridmap).idmap.unwrap();
    assert!(idmap.recursive && idmap.uses_containers());

    // A "bind" type makes a bind of any options.
    let typed = json!({"destination": "/v", "source": "vol", "type": "bind"});
    assert!(convert_mount("typed", typed).options.is_bind());
}

#[test]
fn mount_mappings_come_in_pairs() {
    for (name, half, missing) in [
        ("half", "uidMappings", "mounts[0].gidMappings"),
        ("otherhalf", "gidMappings", "mounts[0].uidMappings"),
    ] {
        let mut mount = json!({"destination": "/v", "source": "/", "options": ["bind"]});
        mount[half] = ids(1000);
        let (config, _) = convert(name, json!({ "mounts": [mount] })).unwrap();
        assert_eq!(config.validate().unwrap_err().field, missing);
    }
}

/// Values out of range convert as they are: the library's validation refuses them,
/// under the same field names.
#[test]
fn values_are_left_to_validation() {
    let p = process(
        "rlimits",
        json!({"cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0},
               "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2},
                           {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}]}),
    )
    .unwrap();
    assert_eq!(p.validate().unwrap_err().field, "process.rlimits[1].type");
    let p = process(
        "noargs",
        json!({"cwd": "/", "args": [], "user": {"uid": 0, "gid": 0}}),
    )
    .unwrap();
    assert_eq!(p.validate().unwrap_err().field, "process.args");

    let swap = json!({"namespaces": [{"type": "mount"}],
                      "resources": {"memory": {"limit": 1000000, "swap": 1000}}});
    let (config, _) = convert("swap", json!({ "linux": swap })).unwrap();
    let e = config.validate().unwrap_err();
    assert_eq!(e.field, "linux.resources.memory.swap");

    let hook = json!({"prestart": [{"path": "/bin/true", "timeout": -3}]});
    let (config, _) = convert("hook", json!({ "hooks": hook })).unwrap();
    assert_eq!(config.hooks.prestart[0].timeout, Some(0));
    assert_eq!(
        config.validate().unwrap_err().field,
        "hooks.prestart[0].timeout"
    );
}

/// A zero is "not given" for the limits engines send zeros for (as runc reads them).
#[test]
fn zero_limits_are_unset() {
    let resources = json!({"memory": {"limit": 0}, "cpu": {"shares": 0, "quota": 0},
                           "blockIO": {"weight": 0}});
    let linux = json!({"namespaces": [{"type": "mount"}], "resources": resources});
    let (config, _) = convert("zeros", json!({ "linux": linux })).unwrap();
    assert_eq!(config.cgroup.resources, Resources::default());
    assert_eq!(config.validate(), Ok(()));
}

/// What has no value in the library's types is refused by the conversion itself.
#[test]
fn what_cannot_be_converted_is_refused() {
    let user = json!({"uid": 0, "gid": 0});
    let cases: [(&str, Value, &str); 6] = [
        (
            "rootfs",
            json!({"root": {"path": "no-such-rootfs"}}),
            "root.path",
        ),
        ("version", json!({"ociVersion": "2.0.0"}), "ociVersion"),
        (
            "iso",
            json!({"process": {"cwd": "/", "args": ["x"], "user": user,
                               "scheduler": {"policy": "SCHED_ISO"}}}),
            "process.scheduler.policy",
        ),
        (
            "ioprio",
            json!({"process": {"cwd": "/", "args": ["x"], "user": user,
                               "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": -1}}}),
            "process.ioPriority.priority",
        ),
        (
            "console",
            json!({"process": {"cwd": "/", "args": ["x"], "user": user,
                               "consoleSize": {"height": 70000, "width": 80}}}),
            "process.consoleSize.height",
        ),
        (
            "nodes",
            json!({"linux": {"memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0-"}}}),
            "linux.memoryPolicy.nodes",
        ),
    ];
    for (name, patch, field) in cases {
        let e = convert(name, patch).expect_err(name);
        assert_eq!(e.field, field, "{name}: {e}");
    }
}

/// The scheduler flags as the spec spells them, and as hull read them with the oci-spec
/// crate (which knew only `SCHED_RESET_ON_FORK` and `SCHED_FLAG_D_L_OVERRUN`), in a
/// config and in a process object.
#[test]
fn scheduler_flags_are_read_as_the_spec_spells_them() {
    for (flags, expected) in [
        (
            json!(["SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_RESET_ON_FORK"]),
            scheduling::SCHED_FLAG_DL_OVERRUN | scheduling::SCHED_FLAG_RESET_ON_FORK,
        ),
        (
            json!(["SCHED_FLAG_D_L_OVERRUN", "SCHED_RESET_ON_FORK"]),
            scheduling::SCHED_FLAG_DL_OVERRUN | scheduling::SCHED_FLAG_RESET_ON_FORK,
        ),
        (
            json!([
                "SCHED_FLAG_RECLAIM",
                "SCHED_FLAG_KEEP_POLICY",
                "SCHED_FLAG_KEEP_PARAMS"
            ]),
            scheduling::SCHED_FLAG_RECLAIM
                | scheduling::SCHED_FLAG_KEEP_POLICY
                | scheduling::SCHED_FLAG_KEEP_PARAMS,
        ),
    ] {
        let object = json!({"cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0},
                            "scheduler": {"policy": "SCHED_DEADLINE", "flags": flags}});
        let p = process("flags", object.clone()).unwrap();
        assert_eq!(p.scheduler.unwrap().flags, expected, "{flags}");
        let p = process_from_json(object.to_string().as_bytes()).unwrap();
        assert_eq!(p.scheduler.unwrap().flags, expected, "{flags}");
    }
    let unknown = json!({"cwd": "/", "user": {}, "scheduler": {"policy": "SCHED_OTHER",
                                                             "flags": ["SCHED_FLAG_X"]}});
    let e = process_from_json(unknown.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.field, "process.scheduler.flags[0]");
}

/// What `runc spec` writes converts whole (runc 1.1's, with a cgroup namespace).
#[test]
fn a_runc_spec_config_converts() {
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let (config, p) = convert(
        "runc",
        json!({
            "ociVersion": "1.0.2-dev",
            "process": {
                "terminal": true,
                "user": {"uid": 0, "gid": 0},
                "args": ["sh"],
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "TERM=xterm"],
                "cwd": "/",
                "capabilities": {"bounding": caps, "effective": caps, "permitted": caps,
                                 "ambient": caps},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": true
            },
            "root": {"path": "rootfs", "readonly": true},
            "hostname": "runc",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                             "mode=0620", "gid=5"]},
                {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                 "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
            ],
            "linux": {
                "resources": {"devices": [{"allow": false, "access": "rwm"}]},
                "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                               {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
                "maskedPaths": ["/proc/kcore", "/sys/firmware"],
                "readonlyPaths": ["/proc/sys"]
            }
        }),
    )
    .unwrap();
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(p.validate(), Ok(()));
    assert!(config.readonly_rootfs);
    assert_eq!(config.hostname.as_deref(), Some("runc"));
    assert_eq!(config.mounts.len(), 4);
    assert_eq!(config.mounts[2].fstype, "devpts");
    assert_eq!(config.namespaces.len(), 6);
    assert_eq!(config.namespaces[5].kind, NamespaceKind::Cgroup);
    assert_eq!(
        config.masked_paths,
        [Path::new("/proc/kcore"), Path::new("/sys/firmware")]
    );
    let rule = &config.cgroup.devices[0];
    assert_eq!(
        (rule.allow, rule.kind, rule.access.as_str()),
        (false, 'a', "rwm")
    );
    assert!(p.terminal && p.no_new_privileges);
    assert_eq!(p.args, ["sh"]);
    let caps = p.capabilities.unwrap();
    assert_eq!(
        caps.bounding.names().collect::<Vec<_>>(),
        ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
    );
    assert_eq!(caps.inheritable, CapSet::default());
    assert_eq!(caps.ambient, caps.bounding);
    assert_eq!(p.rlimits[0].resource, 7, "RLIMIT_NOFILE");
    assert_eq!((p.rlimits[0].soft, p.rlimits[0].hard), (1024, 1024));
}

/// Every field of `linux.resources` lands where it belongs (a misspelt JSON name would be
/// ignored, as unknown fields are).
#[test]
fn every_resource_is_read() {
    let resources = json!({
        "memory": {"limit": -1, "reservation": 500, "swap": 2000, "kernelTCP": 100,
                   "swappiness": 10, "disableOOMKiller": true, "useHierarchy": true,
                   "checkBeforeUpdate": true},
        "cpu": {"shares": 1024, "quota": 50000, "burst": 1000, "period": 100000,
                "realtimeRuntime": 1000, "realtimePeriod": 10000, "cpus": "0-1", "mems": "0",
                "idle": 1},
        "pids": {"limit": 100},
        "blockIO": {"weight": 500, "leafWeight": 300,
                    "weightDevice": [{"major": 8, "minor": 1, "weight": 100, "leafWeight": 50}],
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}],
                    "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2}],
                    "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 3}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 4}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 1048576}],
        "network": {"classID": 5, "priorities": [{"name": "eth0", "priority": 3}]},
        "rdma": {"mlx5_0": {"hcaHandles": 3, "hcaObjects": 100}},
        "unified": {"memory.high": "1000000"}
    });
    let r = resources_from_json(resources.to_string().as_bytes()).unwrap();
    let m = &r.memory;
    assert_eq!(
        (m.limit, m.reservation, m.swap, m.kernel_tcp),
        (Some(-1), Some(500), Some(2000), Some(100))
    );
    assert_eq!(
        (m.swappiness, m.disable_oom_killer, m.check_before_update),
        (Some(10), Some(true), Some(true))
    );
    let c = &r.cpu;
    assert_eq!(
        (c.shares, c.quota, c.burst, c.period),
        (Some(1024), Some(50000), Some(1000), Some(100000))
    );
    assert_eq!(
        (c.realtime_runtime, c.realtime_period, c.idle),
        (Some(1000), Some(10000), Some(1))
    );
    assert_eq!(
        (c.cpus.as_deref(), c.mems.as_deref()),
        (Some("0-1"), Some("0"))
    );
    assert_eq!(r.pids_limit, Some(100));
    let b = &r.block_io;
    assert_eq!((b.weight, b.leaf_weight), (Some(500), Some(300)));
    let w = &b.weight_devices[0];
    assert_eq!(
        (w.major, w.minor, w.weight, w.leaf_weight),
        (8, 1, Some(100), Some(50))
    );
    let rates = [
        &b.throttle_read_bps,
        &b.throttle_write_bps,
        &b.throttle_read_iops,
        &b.throttle_write_iops,
    ];
    assert_eq!(rates.map(|t| t[0].rate), [1, 2, 3, 4]);
    assert_eq!(r.hugepage_limits["2MB"], 1048576);
    assert_eq!(
        (r.network.class_id, r.network.priorities["eth0"]),
        (Some(5), 3)
    );
    assert_eq!(
        (r.rdma["mlx5_0"].hca_handles, r.rdma["mlx5_0"].hca_objects),
        (Some(3), Some(100))
    );
    assert_eq!(r.unified["memory.high"], "1000000");

    let e = resources_from_json(br#"{"hugepageLimits": [{"pageSize": "2MB", "limit": -1}]}"#);
    assert_eq!(
        e.unwrap_err().field,
        "linux.resources.hugepageLimits[0].limit"
    );
}

/// Fields hull does not know are ignored (a newer spec's, another platform's); a field of
/// the wrong type is refused, naming it, in a config as in the objects of `exec` and
/// `update`.
#[test]
fn unknown_fields_are_ignored_and_wrong_types_named() {
    let extra = json!({"someNewField": {"x": 1}, "windows": {"layerFolders": []},
                       "process": {"cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0},
                                   "someNewProcessField": true}});
    let (_, p) = convert("unknown", extra).unwrap();
    assert_eq!(p.args, ["true"]);

    let memory = json!({"namespaces": [{"type": "mount"}],
                        "resources": {"memory": {"limit": "1G"}}});
    let e = convert("wrongtype", json!({ "linux": memory })).unwrap_err();
    assert_eq!(e.field, "linux.resources.memory.limit");
    assert!(e.to_string().contains("expected i64"), "{e}");

    let e = process_from_json(br#"{"cwd": "/", "user": {"uid": "root"}}"#).unwrap_err();
    assert_eq!(e.field, "process.user.uid");
    let e = process_from_json(br#"{"cwd": "/"}"#).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.to_string().contains("`user`")),
        ("process", true)
    );
    let e = resources_from_json(br#"{"pids": {"limit": 1.5}}"#).unwrap_err();
    assert_eq!(e.field, "linux.resources.pids.limit");
    let e = resources_from_json(b"[").unwrap_err();
    assert_eq!(e.field, "linux.resources");
    let ns = json!({"namespaces": [{"type": "mount"}, {"type": "mnt"}]});
    let e = convert("nstype", json!({ "linux": ns })).unwrap_err();
    assert_eq!(e.field, "linux.namespaces[1].type");
}

/// A config without `linux` gets namespaces of its own and runc's masked and read-only
/// paths (as it did with the oci-spec crate's default Linux object).
#[test]
fn a_config_without_linux_is_isolated() {
    let (config, _) = convert("nolinux", json!({ "linux": null })).unwrap();
    let kinds: Vec<NamespaceKind> = config.namespaces.iter().map(|n| n.kind).collect();
    use NamespaceKind::*;
    assert_eq!(kinds, [Pid, Network, Ipc, Uts, Mount, Cgroup]);
    assert_eq!(config.masked_paths.len(), 10);
    assert_eq!(config.readonly_paths.len(), 5);
    // An empty `linux` asks for nothing.
    let (config, _) = convert("emptylinux", json!({ "linux": {} })).unwrap();
    assert!(config.namespaces.is_empty() && config.masked_paths.is_empty());
}

/// Capability names in any case, with or without `CAP_`; an unknown one is named.
#[test]
fn capabilities_by_name() {
    let caps = json!({"bounding": ["CAP_CHOWN", "kill", "Cap_Net_Raw"],
                      "effective": ["chown", "CAP_FOO"]});
    let object = json!({"cwd": "/", "args": ["true"], "user": {"uid": 0, "gid": 0},
                        "capabilities": caps});
    let e = process("caps", object.clone()).unwrap_err();
    assert_eq!(e.field, "process.capabilities.effective[1]");
    assert!(e.to_string().contains("CAP_FOO"), "{e}");
    let mut object = object;
    object["capabilities"]["effective"] = json!(["chown"]);
    let caps = process("caps", object).unwrap().capabilities.unwrap();
    assert_eq!(
        caps.bounding.names().collect::<Vec<_>>(),
        ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    );
    assert_eq!(caps.effective.names().collect::<Vec<_>>(), ["CAP_CHOWN"]);
    assert_eq!(caps.permitted, CapSet::default());
}

/// `execCPUAffinity` lists only in the spec's form: no blanks, signs or empty lists.
#[test]
fn exec_cpu_affinity_lists() {
    let with = |affinity: Value| {
        let object = json!({"cwd": "/", "user": {}, "execCPUAffinity": affinity});
        process_from_json(object.to_string().as_bytes())
    };
    let a = with(json!({"initial": "0-1,3", "final": "2"})).unwrap();
    let a = a.exec_cpu_affinity.unwrap();
    assert_eq!(a.initial, Some(BitSet(vec![0b1011])));
    assert_eq!(a.last, Some(BitSet(vec![0b100])));
    let a = with(json!({"final": null}))
        .unwrap()
        .exec_cpu_affinity
        .unwrap();
    assert_eq!((a.initial, a.last), (None, None));
    for bad in [
        "", " 1", "+1", "1,", "1,,2", "1-", "-1", "3-1", "0x1", "8192",
    ] {
        let e = with(json!({ "final": bad })).expect_err(bad);
        assert_eq!(e.field, "process.execCPUAffinity.final", "{bad:?}");
    }
}

/// `linux.intelRdt` is refused as soon as it asks for anything, its monitoring flags
/// spelled as the spec spells them (`enableCMT`) or as hull read them with the oci-spec
/// crate (`enableCmt`).
#[test]
fn intel_rdt_monitoring_is_refused() {
    for rdt in [
        json!({"enableCMT": true}),
        json!({"enableMBM": false}),
        json!({"enableCmt": true}),
        json!({"enableMonitoring": true}),
        json!({"closID": "x"}),
    ] {
        let linux = json!({"namespaces": [{"type": "mount"}], "intelRdt": rdt});
        let e = convert("rdt", json!({ "linux": linux })).expect_err("refused");
        assert_eq!(e.field, "linux.intelRdt", "{rdt}");
    }
    let linux = json!({"namespaces": [{"type": "mount"}], "intelRdt": {}});
    convert("nordt", json!({ "linux": linux })).unwrap();
}

/// `hull.network.*` annotations become `networks` and `routes`; the annotations stay
/// in the config as they are.
#[test]
fn network_annotations_convert() {
    let annotations = json!({
        "org.example.owner": "web",
        "hull.network.loopback": "true",
        "hull.network.veth.bridge": "br0",
        "hull.network.veth.address": "10.0.0.2/24",
        "hull.network.veth.gateway": "10.0.0.1",
        "hull.network.veth.mtu": "1400",
        "hull.network.routes": "10.1.0.0/16 via 10.0.0.254 src 10.0.0.2; 10.2.0.0/16 dev eth0",
    });
    let linux = json!({"namespaces": [{"type": "mount"}, {"type": "network"}]});
    let (config, _) = convert(
        "netann",
        json!({"annotations": annotations, "linux": linux}),
    )
    .unwrap();
    use crate::config::network::{Network, Route, Veth};
    let veth = Veth {
        bridge: "br0".into(),
        host_name: String::new(),
        name: "eth0".into(),
        address: Some("10.0.0.2/24".parse().unwrap()),
        gateway: Some("10.0.0.1".parse().unwrap()),
        mtu: Some(1400),
        ..Veth::default()
    };
    assert_eq!(config.networks, [Network::Loopback, Network::Veth(veth)]);
    assert_eq!(
        config.routes,
        [
            Route {
                destination: "10.1.0.0/16".parse().unwrap(),
                source: Some("10.0.0.2".parse().unwrap()),
                gateway: Some("10.0.0.254".parse().unwrap()),
                interface: None,
            },
            Route {
                destination: "10.2.0.0/16".parse().unwrap(),
                source: None,
                gateway: None,
                interface: Some("eth0".into()),
            },
        ]
    );
    assert_eq!(config.annotations.len(), 7);
    assert!(config.net_devices.is_empty());

    // A typo is refused by the conversion, naming the annotation.
    let typo = json!({"hull.network.veth.bridge": "br0", "hull.network.veth.mtuu": "1400"});
    let e = convert("nettypo", json!({ "annotations": typo })).unwrap_err();
    assert_eq!(
        e.to_string(),
        "annotations.hull.network.veth.mtuu: unknown hull.network annotation"
    );
    let mtu = json!({"hull.network.veth.bridge": "br0", "hull.network.veth.mtu": "70000"});
    let e = convert("netmtu", json!({ "annotations": mtu })).unwrap_err();
    assert_eq!(
        e.to_string(),
        "annotations.hull.network.veth.mtu: 70000 is outside 68..=65535"
    );
}

/// Networks and routes need a network namespace of the container's own: the library's
/// validation refuses them without one, or in one joined by path.
#[test]
fn network_annotations_need_a_network_namespace() {
    let veth = json!({"hull.network.veth.bridge": "br0"});
    let (config, _) = convert("netnons", json!({ "annotations": veth })).unwrap();
    assert_eq!(config.networks.len(), 1);
    let e = config.validate().unwrap_err();
    assert_eq!(e.field, "networks");
    assert!(e.message.contains("network namespace"), "{e}");

    let loopback = json!({"hull.network.loopback": "true"});
    let joined = json!({"namespaces": [{"type": "mount"},
                                       {"type": "network", "path": "/proc/self/ns/net"}]});
    let (config, _) = convert(
        "netjoined",
        json!({"annotations": loopback, "linux": joined}),
    )
    .unwrap();
    assert_eq!(config.validate().unwrap_err().field, "networks");

    let routes = json!({"hull.network.routes": "10.1.0.0/16 dev eth0"});
    let (config, _) = convert("netroutes", json!({ "annotations": routes })).unwrap();
    assert!(config.networks.is_empty());
    assert_eq!(config.validate().unwrap_err().field, "routes");
}
