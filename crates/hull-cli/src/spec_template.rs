//! The default `config.json` that `hull spec` writes.
//!
//! This module owns one thing: the template bundle configuration. It matches what
//! `runc spec` (runc 1.1) writes field for field, except that the hostname is `hull`.
//!
//! `hull spec --rootless` applies the same changes as `runc spec --rootless`:
//! - the `network` namespace is dropped and a `user` namespace is added (last in the list);
//! - `uidMappings` / `gidMappings` map container root to the caller's *effective* uid/gid
//!   (size 1);
//! - `/sys` becomes a read-only recursive bind of the host's `/sys` (an unprivileged user
//!   cannot mount a fresh sysfs without owning a network namespace);
//! - `gid=5` is dropped from the `/dev/pts` options (gid 5 is not mapped);
//! - `linux.resources` is dropped (the device cgroup rule needs privileges).
//!
//! Key order in the returned value follows `serde_json`'s map; the OCI format does not
//! depend on it.

use serde_json::{json, Value};

/// Capabilities given to the default process, in every set runc fills.
const DEFAULT_CAPS: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// Returns the default OCI runtime configuration, as `runc spec` (or `runc spec --rootless`
/// when `rootless` is true) would, with hostname `hull`.
pub fn default_spec(rootless: bool) -> Value {
    let mut spec = json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": DEFAULT_CAPS,
                "effective": DEFAULT_CAPS,
                "permitted": DEFAULT_CAPS,
                "ambient": DEFAULT_CAPS
            },
            "rlimits": [
                { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }
            ],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "hull",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"]
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"]
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]
            }
        ],
        "linux": {
            "resources": {
                "devices": [{ "allow": false, "access": "rwm" }]
            },
            "namespaces": [
                { "type": "pid" },
                { "type": "network" },
                { "type": "ipc" },
                { "type": "uts" },
                { "type": "mount" }
            ],
            "maskedPaths": hull::spec::DEFAULT_MASKED_PATHS,
            "readonlyPaths": hull::spec::DEFAULT_READONLY_PATHS
        }
    });
    if rootless {
        make_rootless(&mut spec);
    }
    spec
}

/// Applies runc's `--rootless` edits to the default spec (see the module docs).
fn make_rootless(spec: &mut Value) {
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );

    let linux = &mut spec["linux"];
    if let Some(linux) = linux.as_object_mut() {
        linux.remove("resources");
    }
    linux["namespaces"] = json!([
        { "type": "pid" },
        { "type": "ipc" },
        { "type": "uts" },
        { "type": "mount" },
        { "type": "user" }
    ]);
    linux["uidMappings"] = json!([{ "containerID": 0, "hostID": uid, "size": 1 }]);
    linux["gidMappings"] = json!([{ "containerID": 0, "hostID": gid, "size": 1 }]);

    if let Some(mounts) = spec["mounts"].as_array_mut() {
        for mount in mounts {
            match mount["destination"].as_str() {
                Some("/dev/pts") => {
                    if let Some(options) = mount["options"].as_array_mut() {
                        options.retain(|o| o != "gid=5");
                    }
                }
                Some("/sys") => {
                    *mount = json!({
                        "destination": "/sys",
                        "type": "none",
                        "source": "/sys",
                        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]
                    });
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespaces(spec: &Value) -> Vec<&str> {
        spec["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ns| ns["type"].as_str().unwrap())
            .collect()
    }

    fn mount<'a>(spec: &'a Value, destination: &str) -> &'a Value {
        spec["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["destination"] == destination)
            .unwrap_or_else(|| panic!("no mount at {destination}"))
    }

    #[test]
    fn default_spec_matches_runc() {
        let spec = default_spec(false);
        assert_eq!(spec["ociVersion"], "1.0.2-dev");
        assert_eq!(spec["process"]["args"], json!(["sh"]));
        assert_eq!(spec["process"]["terminal"], true);
        assert_eq!(spec["process"]["cwd"], "/");
        assert_eq!(spec["process"]["noNewPrivileges"], true);
        assert_eq!(spec["process"]["user"], json!({ "uid": 0, "gid": 0 }));
        for set in ["bounding", "effective", "permitted", "ambient"] {
            assert_eq!(
                spec["process"]["capabilities"][set],
                json!(DEFAULT_CAPS),
                "{set}"
            );
        }
        assert!(spec["process"]["capabilities"].get("inheritable").is_none());
        assert_eq!(
            spec["process"]["rlimits"],
            json!([{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }])
        );
        assert_eq!(spec["root"], json!({ "path": "rootfs", "readonly": true }));
        assert_eq!(spec["hostname"], "hull");
        assert_eq!(namespaces(&spec), ["pid", "network", "ipc", "uts", "mount"]);
        assert_eq!(spec["linux"]["maskedPaths"].as_array().unwrap().len(), 10);
        assert!(spec["linux"]["maskedPaths"]
            .as_array()
            .unwrap()
            .contains(&json!("/proc/kcore")));
        assert_eq!(spec["linux"]["readonlyPaths"].as_array().unwrap().len(), 5);
        assert_eq!(
            spec["linux"]["resources"]["devices"],
            json!([{ "allow": false, "access": "rwm" }])
        );
        assert_eq!(spec["mounts"].as_array().unwrap().len(), 7);
        assert_eq!(mount(&spec, "/sys")["type"], "sysfs");
        assert!(mount(&spec, "/dev/pts")["options"]
            .as_array()
            .unwrap()
            .contains(&json!("gid=5")));
        assert!(spec["linux"].get("uidMappings").is_none());
    }

    #[test]
    fn rootless_spec_matches_runc() {
        let spec = default_spec(true);
        let (uid, gid) = (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
        assert_eq!(namespaces(&spec), ["pid", "ipc", "uts", "mount", "user"]);
        assert_eq!(
            spec["linux"]["uidMappings"],
            json!([{ "containerID": 0, "hostID": uid, "size": 1 }])
        );
        assert_eq!(
            spec["linux"]["gidMappings"],
            json!([{ "containerID": 0, "hostID": gid, "size": 1 }])
        );
        assert!(spec["linux"].get("resources").is_none());
        assert_eq!(
            mount(&spec, "/sys"),
            &json!({
                "destination": "/sys",
                "type": "none",
                "source": "/sys",
                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]
            })
        );
        assert!(!mount(&spec, "/dev/pts")["options"]
            .as_array()
            .unwrap()
            .contains(&json!("gid=5")));
        // Everything else stays as in the default spec.
        let default = default_spec(false);
        for key in ["process", "root", "hostname", "ociVersion"] {
            assert_eq!(spec[key], default[key], "{key}");
        }
        assert_eq!(
            spec["linux"]["maskedPaths"],
            default["linux"]["maskedPaths"]
        );
        assert_eq!(
            spec["linux"]["readonlyPaths"],
            default["linux"]["readonlyPaths"]
        );
        assert_eq!(spec["mounts"].as_array().unwrap().len(), 7);
    }
}
