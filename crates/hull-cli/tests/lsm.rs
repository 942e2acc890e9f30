//! Linux security modules: a profile or label is applied where the host runs the
//! module, and refused with the field named (and nothing left) where it does not;
//! never silently ignored. This host's kernel may run neither: then the refusals are
//! what is checked, and the applied labels are checked on a host that runs them.
//!
//! runc 1.1.5 fails these too, each in its own words: "unable to apply apparmor
//! profile: ... write /proc/self/attr/exec: invalid argument"; "selinux label is
//! specified in config, but selinux is disabled or not supported"; mountLabel makes
//! the mount of /dev fail with "context=...: invalid argument".

mod common;

use common::*;
use serde_json::json;

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.starts_with('Y'))
}

fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

#[test]
fn an_apparmor_profile_is_applied_or_refused() {
    let case = Case::new("lsm_apparmor");
    if apparmor_enabled() {
        let mut b = case.bundle("apparmoron");
        b.set("/process/apparmorProfile", json!("unconfined"));
        b.sh("cat /proc/self/attr/apparmor/current");
        let out = case.run_container(&b);
        out.ok();
        assert!(out.out().starts_with("unconfined"), "{out}");
    } else {
        case.assert_config_refused(
            "apparmoroff",
            "/process/apparmorProfile",
            json!("docker-default"),
            &["apparmor"],
        );
    }
    case.finish();
}

#[test]
fn selinux_labels_are_applied_or_refused() {
    let case = Case::new("lsm_selinux");
    if selinux_enabled() {
        let label = "system_u:system_r:unconfined_t:s0";
        let mut b = case.bundle("selinuxon");
        b.set("/process/selinuxLabel", json!(label));
        b.sh("cat /proc/self/attr/current");
        let out = case.run_container(&b);
        out.ok();
        assert!(out.out().starts_with(label), "{out}");
    } else {
        let label = "system_u:system_r:container_t:s0";
        case.assert_config_refused(
            "selinuxoff",
            "/process/selinuxLabel",
            json!(label),
            &["selinux"],
        );
        let mount_label = "system_u:object_r:container_file_t:s0";
        case.assert_config_refused(
            "mountlabeloff",
            "/linux/mountLabel",
            json!(mount_label),
            &["mountLabel", "context"],
        );
    }
    case.finish();
}

/// exec's own flags: refused where the host lacks the module, with runc's exit code
/// for exec's own failures; the container is untouched.
#[test]
fn exec_refuses_a_module_the_host_does_not_run() {
    let case = Case::new("lsm_exec");
    let mut b = case.bundle("lsmexec");
    b.args(&["sleep", "60"]);
    case.create(&b);
    case.start(&b.id);
    for (flag, value, enabled) in [
        ("--apparmor", "docker-default", apparmor_enabled()),
        (
            "--process-label",
            "system_u:system_r:container_t:s0",
            selinux_enabled(),
        ),
    ] {
        if enabled {
            continue;
        }
        let out = case.run(&["exec", flag, value, &b.id, "true"]);
        out.assert_failed_with(255, &["apparmor", "selinux", "invalid argument"]);
        assert_eq!(case.status(&b.id), "running");
    }
    case.run(&["delete", "--force", &b.id]).ok();
    case.finish();
}
