//! The image's symlinks never lead hull out of the rootfs (CVE class 3, and the
//! shared-volume race of class 4): mount destinations, /dev and its entries, the
//! /dev/null that masks paths, /dev/console, /proc and /sys. Each is either resolved
//! inside the rootfs or refused; the host side is checked for anything made there.
//!
//! "Host side" is a directory of the test's own (`<case>/host`) that the image's
//! symlinks name by its absolute host path: followed on the host, they would make
//! files there.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;

/// An empty host directory the image will point at.
fn host_side(case: &Case) -> PathBuf {
    let dir = case.dir.join("host");
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[track_caller]
fn assert_untouched(dir: &Path) {
    let entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        entries.is_empty(),
        "made on the host through a symlink: {entries:?}"
    );
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(dir.to_str().unwrap()),
        "a host mount at {}",
        dir.display()
    );
}

/// A bind destination below an image symlink to an absolute host path, and one with
/// `..` enough to climb out of any rootfs: both mount points are made inside the
/// rootfs, and the volume shows there. Seen failing with RESOLVE_IN_ROOT taken out of
/// rootfs/resolve.rs: the mount point appeared in the host directory.
#[test]
fn mount_destinations_through_symlinks_stay_in_the_rootfs() {
    let case = Case::new("symlink_dest");
    let host = host_side(&case);
    let mut b = case.bundle("symlinkdest");
    symlink(&host, b.rootfs.join("abs")).unwrap();
    let climb = format!("../../../../../../../../..{}", host.display());
    symlink(&climb, b.rootfs.join("rel")).unwrap();
    let vol = case.dir.join("vol");
    fs::create_dir_all(&vol).unwrap();
    fs::write(vol.join("marker"), "from the volume").unwrap();
    for dest in ["/abs/vol", "/rel/vol"] {
        b.add_mount(json!({ "destination": dest, "type": "bind", "source": vol, "options": ["rbind", "ro"] }));
    }
    b.sh("cat /abs/vol/marker; echo; cat /rel/vol/marker");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(
        out.out().lines().collect::<Vec<_>>(),
        ["from the volume"; 2],
        "{out}"
    );
    assert_untouched(&host);
    case.finish();
}

/// An image whose /dev is a symlink to the host, with no tmpfs over it: the device
/// nodes and /dev's own mounts (pts, shm, mqueue) go inside the rootfs. And an image
/// whose /dev/null points at a host file: the host file stays as it was. Seen failing
/// with RESOLVE_IN_ROOT taken out of rootfs/resolve.rs.
#[test]
fn dev_and_its_entries_through_symlinks_stay_in_the_rootfs() {
    let case = Case::new("symlink_dev");
    let host = host_side(&case);
    let canary = case.dir.join("canary");
    fs::write(&canary, "canary").unwrap();

    let mut whole = case.bundle("symlinkdevdir");
    whole.remove_mount("/dev");
    fs::remove_dir(whole.rootfs.join("dev")).unwrap();
    symlink(&host, whole.rootfs.join("dev")).unwrap();
    whole.sh("test -c /dev/null && echo null=char; test -d /dev/pts && echo pts=dir");
    let out = case.run_container(&whole);
    out.ok();
    assert_eq!(out.out(), "null=char\npts=dir", "{out}");

    let mut entry = case.bundle("symlinkdevnull");
    entry.remove_mount("/dev");
    symlink(&canary, entry.rootfs.join("dev/null")).unwrap();
    symlink(&canary, entry.rootfs.join("dev/zero")).unwrap();
    entry.sh("test -c /dev/null && echo null=char; test -c /dev/zero && echo zero=char");
    let out = case.run_container(&entry);
    if out.code == 0 {
        assert_eq!(out.out(), "null=char\nzero=char", "{out}");
    } else {
        out.assert_bad_input(&["/dev/null", "/dev/zero"]);
    }

    assert_untouched(&host);
    let meta = fs::symlink_metadata(&canary).unwrap();
    assert!(meta.is_file() && !meta.file_type().is_char_device());
    assert_eq!(fs::read_to_string(&canary).unwrap(), "canary");
    case.finish();
}

/// CVE-2025-31133: masked paths are covered with the container's /dev/null. With /dev
/// a bind mount of the image's (so no fresh node replaces it) and /dev/null a symlink
/// into procfs, masking must not become a bind of that procfs file (core_pattern) over
/// the masked paths: hull refuses the fake null device. Seen failing with the check in
/// rootfs/dev.rs taken out; runc 1.1.5 fails it too (core_pattern mounted twice).
#[test]
fn masking_never_uses_a_fake_dev_null() {
    let case = Case::new("symlink_masknull");
    let mut b = case.bundle("symlinkmasknull");
    let dev = case.dir.join("dev");
    fs::create_dir_all(&dev).unwrap();
    symlink("/proc/sys/kernel/core_pattern", dev.join("null")).unwrap();
    b.remove_mount("/dev");
    b.remove_mount("/dev/pts");
    b.remove_mount("/dev/shm");
    b.remove_mount("/dev/mqueue");
    b.add_mount(
        json!({ "destination": "/dev", "type": "bind", "source": dev, "options": ["rbind"] }),
    );
    b.set(
        "/linux/maskedPaths",
        json!(["/proc/keys", "/proc/timer_list"]),
    );
    b.sh("grep -c core_pattern /proc/self/mountinfo; true");
    let out = case.run_container(&b);
    if is_hull() {
        out.assert_bad_input(&["/dev/null"]);
    } else {
        assert_eq!(out.out(), "0", "core_pattern was mounted:\n{out}");
    }
    case.finish();
}

/// CVE-2025-52565: the terminal is bound over /dev/console; an image that makes
/// /dev/console a symlink into procfs must not get the pty bound over the procfs file.
/// hull refuses the symlink; the check is that core_pattern is never a mount point.
/// Seen failing with init/console.rs following the symlink inside the root (the pty
/// showed up at /proc/sys/kernel/core_pattern); runc 1.1.5 fails it too.
#[test]
fn a_console_symlink_never_leads_the_terminal_into_procfs() {
    let case = Case::new("symlink_console");
    let mut b = case.bundle("symlinkconsole");
    b.remove_mount("/dev");
    symlink(
        "/proc/sys/kernel/core_pattern",
        b.rootfs.join("dev/console"),
    )
    .unwrap();
    b.set("/process/terminal", json!(true));
    b.args(&["sleep", "60"]);
    b.write();
    let socket = case.dir.join("console.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = case.run(&[
        "create",
        "--bundle",
        b.dir_str(),
        "--console-socket",
        socket.to_str().unwrap(),
        &b.id,
    ]);
    if out.code == 0 {
        let pid = case.state(&b.id)["pid"].as_i64().unwrap();
        let mounts = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
        assert!(!mounts.contains("core_pattern"), "{mounts}");
        case.run(&["delete", "--force", &b.id]).ok();
    } else {
        out.assert_bad_input(&["/dev/console"]);
        case.assert_no_leaks();
    }
    case.finish();
}

/// /proc and /sys replaced by symlinks to a fake tree in the image (a fake
/// core_pattern that a sysctl would then be written to): refused, naming the path.
#[test]
fn proc_and_sys_as_symlinks_are_refused() {
    let case = Case::new("symlink_procsys");
    for (label, dir) in [("symlinkproc", "proc"), ("symlinksys", "sys")] {
        let b = case.bundle(label);
        let fake = b.rootfs.join("fake").join(dir);
        fs::create_dir_all(fake.join("sys/kernel")).unwrap();
        fs::write(fake.join("sys/kernel/core_pattern"), "fake").unwrap();
        fs::remove_dir(b.rootfs.join(dir)).unwrap();
        symlink(format!("/fake/{dir}"), b.rootfs.join(dir)).unwrap();
        b.write();
        let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
        out.assert_bad_input(&[&format!("/{dir}")]);
        case.assert_no_leaks();
        assert_eq!(
            fs::read_to_string(fake.join("sys/kernel/core_pattern")).unwrap(),
            "fake"
        );
    }
    case.finish();
}

/// CVE class 4: a container swaps a directory and a symlink (to the host side's
/// absolute path) in a volume it shares with the next containers, whose mounts go
/// through that path. After many rounds nothing was made on the host side, whether a
/// round's container started or failed to. Seen failing with RESOLVE_IN_ROOT taken out
/// of rootfs/resolve.rs (`host/made` appeared).
#[test]
fn a_symlink_swapped_in_a_shared_volume_never_leads_outside() {
    let case = Case::new("symlink_race");
    let host = host_side(&case);
    let shared = case.dir.join("shared");
    fs::create_dir_all(&shared).unwrap();
    let mut attacker = case.bundle("raceattacker");
    attacker.add_mount(json!({ "destination": "/shared", "type": "bind", "source": shared, "options": ["rbind", "rw"] }));
    attacker.sh(&format!(
        "while :; do rm -rf /shared/link; mkdir /shared/link; rm -rf /shared/link; ln -s {} /shared/link; done",
        host.display()
    ));
    case.create(&attacker);
    case.start(&attacker.id);
    let mut started = 0;
    for round in 0..40 {
        let mut victim = case.bundle(&format!("racevictim{round}"));
        victim.add_mount(json!({ "destination": "/vol", "type": "bind", "source": shared, "options": ["rbind", "rw"] }));
        victim.add_mount(json!({ "destination": "/vol/link/made", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"] }));
        victim.args(&["true"]);
        if case.run_container(&victim).code == 0 {
            started += 1;
        }
        case.run(&["delete", "--force", &victim.id]);
    }
    case.run(&["delete", "--force", &attacker.id]).ok();
    assert_untouched(&host);
    eprintln!("{started} of 40 rounds started");
    case.finish();
}
