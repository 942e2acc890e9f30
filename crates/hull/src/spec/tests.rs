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
