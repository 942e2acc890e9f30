//! `hull features`: what this hull supports, in the OCI features JSON, built from the
//! same tables the implementation uses, so it cannot drift from what hull does.

use serde_json::json;

use hull::config::capability::NAMES as CAPABILITIES;
use hull::config::hooks::KINDS as HOOKS;
use hull::config::scheduling;
use hull::config::seccomp as seccomp_config;
use hull::config::{mount_options, NamespaceKind};

use super::CmdResult;

pub struct Args {}

pub fn run(_: Args, criu: Option<&std::path::Path>) -> CmdResult {
    // As runc reports it, and only when a CRIU hull can drive is there.
    let criu = criu.unwrap_or(std::path::Path::new("criu"));
    let checkpoint = hull::criu::check_version(criu).is_ok();
    let mut namespaces: Vec<&str> = NamespaceKind::ALL.iter().map(|k| k.oci_name()).collect();
    namespaces.sort_unstable();
    let mut features = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": hull::container::state::OCI_VERSION,
        "hooks": HOOKS,
        "mountOptions": mount_options::names().collect::<Vec<_>>(),
        "linux": {
            "namespaces": namespaces,
            "capabilities": CAPABILITIES.as_slice(),
            "cgroup": { "v1": true, "v2": true, "systemd": true, "systemdUser": true, "rdma": true },
            "seccomp": {
                "enabled": true,
                "actions": seccomp_config::ACTIONS.map(|(name, _)| name),
                "operators": seccomp_config::OPERATORS.map(|(name, _)| name),
                "archs": hull::seccomp::ARCHITECTURES,
                "knownFlags": hull::seccomp::FLAGS.map(|(name, _)| name),
                "supportedFlags": hull::seccomp::supported_flags(),
            },
            "apparmor": { "enabled": true },
            "selinux": { "enabled": true },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": true } },
            "netDevices": { "enabled": true },
            "memoryPolicy": {
                "modes": scheduling::MPOL_MODE_NAMES.map(|(name, _)| name),
                "flags": scheduling::MPOL_FLAG_NAMES.map(|(name, _)| name),
            }
        },
        "annotations": {
            "dev.hull.version": env!("CARGO_PKG_VERSION"),
            "io.github.seccomp.libseccomp.version": hull::seccomp::library_version(),
        }
    });
    if checkpoint {
        features["annotations"]["org.opencontainers.runc.checkpoint.enabled"] = "true".into();
    }
    let text = serde_json::to_string_pretty(&features).map_err(|e| e.to_string())?;
    super::print(&(text + "\n"))
}
