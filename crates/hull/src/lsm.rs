//! Linux security modules: a process's AppArmor profile or SELinux label, and the
//! SELinux context of the filesystems hull mounts. Labels are written to the
//! process's own attribute files just before exec (so the kernel applies them at
//! execve), through the procfs handle the process opened before it entered the
//! container: a running container's mounts over `/proc` never redirect them
//! (CVE-2025-52881). A container that asks for a module the host does
//! not run is refused: running it unconfined would be less isolation than asked (runc
//! fails such a container too, only later).

use crate::config::Config;
use crate::error::ConfigError;
use crate::init::{InitResult, Step};
use crate::process::Process;
use crate::procfs::Procfs;

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.starts_with('Y'))
}

fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

/// Refuses a profile or label this host cannot apply: the process's, and the
/// container's mount label when `config` is given (at create).
pub(crate) fn check(config: Option<&Config>, process: &Process) -> Result<(), ConfigError> {
    if process.apparmor_profile.is_some() && !apparmor_enabled() {
        return Err(ConfigError::new(
            "process.apparmorProfile",
            "AppArmor is not enabled on this host",
        ));
    }
    if process.selinux_label.is_some() && !selinux_enabled() {
        return Err(ConfigError::new(
            "process.selinuxLabel",
            "SELinux is not enabled on this host",
        ));
    }
    if let Some(label) = config.and_then(|c| c.mount_label.as_deref()) {
        if !selinux_enabled() {
            return Err(ConfigError::new(
                "linux.mountLabel",
                "SELinux is not enabled on this host",
            ));
        }
        // It goes into mount data as context="...": a quote would end it early.
        if label.contains('"') {
            return Err(ConfigError::new(
                "linux.mountLabel",
                "must not contain '\"'",
            ));
        }
    }
    Ok(())
}

/// Sets the profile and label the process takes at exec. Runs in the process itself,
/// inside the container, before its seccomp filter could refuse the writes.
pub(crate) fn apply_on_exec(process: &Process, proc: &Procfs) -> InitResult<()> {
    if let Some(profile) = &process.apparmor_profile {
        let text = format!("exec {profile}");
        // attr/apparmor/ since Linux 5.8; before, AppArmor owned attr/ itself.
        proc.write_own("attr/apparmor/exec", text.as_bytes())
            .or_else(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => proc.write_own("attr/exec", text.as_bytes()),
                _ => Err(e),
            })
            .step(format!("apply AppArmor profile {profile:?}"))?;
    }
    if let Some(label) = &process.selinux_label {
        proc.write_own("attr/exec", label.as_bytes())
            .step(format!("set SELinux label {label:?}"))?;
    }
    Ok(())
}

/// A mount's data with the container's SELinux mount label added, for the filesystems
/// that take one (not procfs, sysfs or binds, which keep their own).
pub(crate) fn label_mount_data(config_label: Option<&str>, fstype: &str, data: &mut Vec<String>) {
    if let Some(label) = config_label {
        if !matches!(fstype, "proc" | "sysfs" | "bind" | "cgroup" | "cgroup2") {
            data.push(format!("context=\"{label}\""));
        }
    }
}
