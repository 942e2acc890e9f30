//! Idmapped mounts (OCI `mounts[].uidMappings`/`gidMappings`, options `idmap` and
//! `ridmap`), read from inside real containers: an id on disk is taken as an id inside
//! the mapping and shows as the host id it maps to; a file created through the mount
//! is stored with the id its creator's host id maps back to. Refusals are one line
//! naming the field, and leave nothing.

mod common;

use common::user::{rootless_bundle, User};
use common::*;
use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `[{containerID, hostID, size}]`.
fn map(container: u32, host: u32, size: u32) -> Value {
    json!([{"containerID": container, "hostID": host, "size": size}])
}

/// A host directory of the case with files owned (on disk) by 0:0, 100:100 and
/// 1000:1000, writable by anyone.
fn owned_files(case: &Case, name: &str) -> PathBuf {
    let dir = case.dir.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    for id in [0, 100, 1000] {
        let f = dir.join(format!("f{id}"));
        fs::write(&f, "x").unwrap();
        chown(&f, Some(id), Some(id)).unwrap();
    }
    dir
}

/// Mounts a small tmpfs on `dir` for the rest of the case.
fn tmpfs_on(case: &Case, dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "hull-test-idmap"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success(), "mounting a tmpfs on {}", dir.display());
    let dir = dir.to_path_buf();
    case.defer(move || {
        let _ = Command::new("umount").arg(&dir).status();
    });
}

/// `uid gid` of each path, one per line, as the container sees them.
fn owners(paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| format!("stat -c '%u %g' {p}; "))
        .collect()
}

/// Own mappings on a container without a user namespace: on-disk 0 and 100 fall in
/// the range and show as 1234+ (uids) and 2234+ (gids); 1000 lies outside it and shows
/// as the overflow id. Mappings without `idmap` imply it (as in runc).
#[test]
fn own_mappings_show_the_mapped_owners() {
    let case = Case::new("idmap_own");
    let src = owned_files(&case, "vol");
    let mut b = case.bundle("idmapown");
    b.add_mount(
        json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind"],
                       "uidMappings": map(0, 1234, 1000), "gidMappings": map(0, 2234, 1000)}),
    );
    b.add_mount(
        json!({"destination": "/mnt/plain", "type": "bind", "source": src,
                       "options": ["bind"]}),
    );
    b.sh(&format!(
        "{} {} grep ' /mnt/id ' /proc/self/mountinfo | grep -c idmapped",
        owners(&["/mnt/id/f0", "/mnt/id/f100", "/mnt/id/f1000"]),
        owners(&["/mnt/plain/f0"]),
    ));
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(
        out.stdout, "1234 2234\n1334 2334\n65534 65534\n0 0\n1\n",
        "{out}"
    );
    case.finish();
}

/// A file made through the idmapped mount is stored with the id its creator's maps
/// back to (host 1300 is 66 in the mapping); root, whom the mapping lacks, cannot
/// create one at all.
#[test]
fn writes_store_the_unmapped_owner() {
    let case = Case::new("idmap_write");
    let src = owned_files(&case, "vol");
    let mount = json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["rbind", "idmap"],
                       "uidMappings": map(0, 1234, 1000), "gidMappings": map(0, 2234, 1000)});
    let mut b = case.bundle("idmapwrite");
    b.add_mount(mount.clone());
    b.user(1300, 2300);
    b.sh("touch /mnt/id/new && stat -c '%u %g' /mnt/id/new");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "1300 2300", "{out}");
    let st = fs::metadata(src.join("new")).unwrap();
    assert_eq!((st.uid(), st.gid()), (66, 66));

    let mut b = case.bundle("idmaproot");
    b.add_mount(mount);
    b.sh("if touch /mnt/id/by-root 2>/dev/null; then echo created; else echo refused; fi");
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.out(), "refused", "{out}");
    assert!(!src.join("by-root").exists());
    case.finish();
}

/// `idmap` without mappings takes the container's user namespace: root's files on
/// disk show as root inside (a plain bind shows them as the overflow id), and a file
/// root makes inside is root's on disk.
#[test]
fn idmap_takes_the_containers_user_namespace() {
    let case = Case::new("idmap_userns");
    let src = owned_files(&case, "vol");
    let mut b = case.bundle("idmapuserns");
    b.user_namespace(0, 100000, 65536);
    // The container's root cannot make them in a rootfs owned by the host's.
    b.mkdir("/mnt/id").mkdir("/mnt/plain");
    b.add_mount(
        json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind", "idmap"]}),
    );
    b.add_mount(
        json!({"destination": "/mnt/plain", "type": "bind", "source": src,
                       "options": ["bind"]}),
    );
    b.sh(&format!(
        "{} touch /mnt/id/made",
        owners(&["/mnt/id/f0", "/mnt/id/f1000", "/mnt/plain/f0"])
    ));
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.stdout, "0 0\n1000 1000\n65534 65534\n", "{out}");
    let st = fs::metadata(src.join("made")).unwrap();
    assert_eq!((st.uid(), st.gid()), (0, 0));
    case.finish();
}

/// Own mappings in a container with a user namespace: the mount's mappings are host
/// ids, and show through the container's own (host 100005 is 5 inside).
#[test]
fn own_mappings_inside_a_user_namespace() {
    let case = Case::new("idmap_own_userns");
    let src = owned_files(&case, "vol");
    let mut b = case.bundle("idmapownuserns");
    b.user_namespace(0, 100000, 65536);
    b.mkdir("/mnt/id");
    b.add_mount(
        json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind", "idmap"],
                       "uidMappings": map(0, 100005, 500), "gidMappings": map(0, 100007, 500)}),
    );
    b.sh(&owners(&["/mnt/id/f0", "/mnt/id/f100", "/mnt/id/f1000"]));
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(out.stdout, "5 7\n105 107\n65534 65534\n", "{out}");
    case.finish();
}

/// `ridmap` idmaps the mounts below an `rbind` too; `idmap` the bind's own mount only.
/// (crun 1.8.1 predates `ridmap`, and its idmapped `rbind` carries no submounts.)
#[test]
fn ridmap_reaches_submounts_and_idmap_does_not() {
    if !is_hull() {
        return;
    }
    let case = Case::new("idmap_ridmap");
    let src = owned_files(&case, "vol");
    let sub = src.join("sub");
    tmpfs_on(&case, &sub);
    fs::write(sub.join("g"), "x").unwrap();
    let mut b = case.bundle("ridmap");
    for (dest, opt) in [("/mnt/r", "ridmap"), ("/mnt/i", "idmap")] {
        b.add_mount(json!({"destination": dest, "type": "bind", "source": src,
                           "options": ["rbind", opt],
                           "uidMappings": map(0, 1234, 1000), "gidMappings": map(0, 1234, 1000)}));
    }
    b.sh(&owners(&[
        "/mnt/r/f0",
        "/mnt/r/sub/g",
        "/mnt/i/f0",
        "/mnt/i/sub/g",
    ]));
    let out = case.run_container(&b);
    out.ok();
    assert_eq!(
        out.stdout, "1234 1234\n1234 1234\n1234 1234\n0 0\n",
        "{out}"
    );
    case.finish();
}

/// Nothing mounted inside an idmapped bind reaches the host, even from a shared source:
/// the bind is a slave of the host's mount, not its peer. (crun 1.8.1 lets the tmpfs
/// below through to the host: its idmapped bind stays the source's peer.)
#[test]
fn mounts_inside_do_not_propagate_to_the_host() {
    if !is_hull() {
        return;
    }
    let case = Case::new("idmap_propagation");
    let src = owned_files(&case, "vol");
    fs::create_dir_all(src.join("inner")).unwrap();
    // The source its own shared mount (this host's / is private).
    mount_on_itself(&case, &src, "mount --make-shared \"$1\"");
    let mut b = case.bundle("idmapprop");
    b.add_mount(
        json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["rbind", "idmap"],
                       "uidMappings": map(0, 0, 65536), "gidMappings": map(0, 0, 65536)}),
    );
    b.add_mount(
        json!({"destination": "/mnt/id/inner", "type": "tmpfs", "source": "tmpfs",
                       "options": ["size=1m"]}),
    );
    b.sh("touch /mnt/id/inner/only-inside");
    case.run_container(&b).ok();
    assert!(!src.join("inner/only-inside").exists());
    assert_eq!(mounts_under(&src), [src.to_string_lossy()]);
    case.finish();
}

/// Makes `dir` a mount of its own (bound onto itself), then runs `then` on it (`$1`);
/// unmounted when the case ends.
fn mount_on_itself(case: &Case, dir: &Path, then: &str) {
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!("mount --bind \"$1\" \"$1\" && {then}"))
        .arg("sh")
        .arg(dir)
        .status();
    assert!(st.unwrap().success(), "{then}");
    let dir = dir.to_path_buf();
    case.defer(move || {
        let _ = Command::new("umount").arg("-R").arg(&dir).status();
    });
}

/// Creates a container from a bundle with `mount` added; it must be refused with one
/// line naming `field` (for hull) and mentioning one of `keywords`, leaving nothing.
#[track_caller]
fn refused(
    case: &Case,
    label: &str,
    change: impl FnOnce(&mut Bundle),
    mount: Value,
    field: &str,
    keywords: &[&str],
) {
    let mut b = case.bundle(label);
    change(&mut b);
    let index = b.config["mounts"].as_array().unwrap().len();
    b.add_mount(mount);
    b.write();
    let out = case.run(&["create", "--bundle", b.dir_str(), &b.id]);
    // Other runtimes refuse in their own words (crun 1.8.1: "mount_setattr ...:
    // Operation not permitted" for idmap without mappings, "open `tmpfs`: Bad file
    // descriptor" for a tmpfs).
    out.assert_bad_input(if is_hull() { keywords } else { &[""] });
    if is_hull() {
        let want = format!("mounts[{index}].{field}:");
        assert!(out.stderr.contains(&want), "expected {want}:\n{out}");
    }
    case.assert_no_leaks();
}

#[test]
fn idmap_without_any_mappings_is_refused() {
    let case = Case::new("idmap_no_maps");
    let src = owned_files(&case, "vol");
    let mount = json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind", "idmap"]});
    refused(
        &case,
        "nomaps",
        |_| {},
        mount,
        "options",
        &["user namespace", "mapping"],
    );
    case.finish();
}

#[test]
fn uid_mappings_without_gid_mappings_are_refused() {
    let case = Case::new("idmap_half");
    let src = owned_files(&case, "vol");
    let mount = json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind", "idmap"], "uidMappings": map(0, 1234, 10)});
    refused(
        &case,
        "half",
        |_| {},
        mount,
        "gidMappings",
        &["gidMappings", "mapping"],
    );
    case.finish();
}

#[test]
fn overlapping_mappings_are_refused() {
    let case = Case::new("idmap_overlap");
    let src = owned_files(&case, "vol");
    let uids = json!([{"containerID": 0, "hostID": 1234, "size": 100},
                      {"containerID": 50, "hostID": 5000, "size": 100}]);
    let mount = json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind"], "uidMappings": uids, "gidMappings": map(0, 1234, 10)});
    refused(
        &case,
        "overlap",
        |_| {},
        mount,
        "uidMappings[1]",
        &["overlap", "invalid"],
    );
    case.finish();
}

/// A source on a filesystem without idmapping (sysfs) is refused by the kernel: said
/// so, naming the field.
#[test]
fn a_filesystem_without_idmapping_is_refused() {
    let case = Case::new("idmap_sysfs");
    let mount = json!({"destination": "/mnt/sys", "type": "bind", "source": "/sys/kernel",
                       "options": ["rbind"],
                       "uidMappings": map(0, 1234, 10), "gidMappings": map(0, 1234, 10)});
    refused(
        &case,
        "sysfs",
        |_| {},
        mount,
        "uidMappings",
        &["does not support idmapped", "invalid argument"],
    );
    case.finish();
}

/// Only binds are idmapped, as in runc.
#[test]
fn a_new_filesystem_with_mappings_is_refused() {
    let case = Case::new("idmap_tmpfs");
    let mount = json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs",
                       "options": ["idmap"],
                       "uidMappings": map(0, 1234, 10), "gidMappings": map(0, 1234, 10)});
    refused(
        &case,
        "tmpfs",
        |_| {},
        mount,
        "uidMappings",
        &["bind", "idmap"],
    );
    case.finish();
}

/// `features` says idmapped mounts are there, and lists both options.
#[test]
fn features_report_idmapped_mounts() {
    if !is_hull() {
        return;
    }
    let case = Case::new("idmap_features");
    let out = case.run(&["features"]);
    out.ok();
    let f: Value = serde_json::from_str(out.out()).unwrap();
    assert_eq!(f["linux"]["mountExtensions"]["idmap"]["enabled"], true);
    let options = f["mountOptions"].as_array().unwrap();
    for o in ["idmap", "ridmap"] {
        assert!(options.contains(&json!(o)), "{o} missing: {options:?}");
    }
    case.finish();
}

/// CRIU would restore an idmapped bind as a plain one: checkpoint refuses, and the
/// container runs on.
#[test]
fn checkpoint_of_an_idmapped_mount_is_refused() {
    if !is_hull() {
        return;
    }
    let case = Case::new("idmap_checkpoint");
    let src = owned_files(&case, "vol");
    let mut b = case.bundle("idmapcr");
    b.add_mount(
        json!({"destination": "/mnt/id", "type": "bind", "source": src,
                       "options": ["bind"],
                       "uidMappings": map(0, 1234, 1000), "gidMappings": map(0, 1234, 1000)}),
    );
    let index = b.config["mounts"].as_array().unwrap().len() - 1;
    case.running(&mut b, &["sleep", "60"]);
    let images = case.dir.join("images");
    let out = case.run(&[
        "checkpoint",
        "--image-path",
        images.to_str().unwrap(),
        &b.id,
    ]);
    out.assert_bad_input(&[&format!("mounts[{index}] is idmapped")]);
    assert_eq!(case.status(&b.id), "running");
    case.finish();
}

/// Without root on the host the kernel idmaps no host directory: a rootless container
/// asking for it is refused in one line naming the mount, and nothing is left.
#[test]
fn rootless_idmapped_mounts_are_refused() {
    if !is_hull() {
        return;
    }
    let case = Case::new("idmap_rootless");
    let user = User::new(&case, "ridm", false);
    let mut b = rootless_bundle(&case, &user, "idmaprootless", &["true"]);
    let vol = b.dir.join("vol");
    fs::create_dir_all(&vol).unwrap();
    let index = b.config["mounts"].as_array().unwrap().len();
    b.add_mount(
        json!({"destination": "/mnt/id", "type": "bind", "source": vol,
                       "options": ["rbind", "idmap"]}),
    );
    b.write();
    let out = user.hull(&["run", "--bundle", b.dir_str(), &b.id]);
    out.assert_bad_input(&[&format!("mounts[{index}].options: idmapped mounts need")]);
    user.assert_no_state();
    case.finish();
}

/// In a user namespace the container's root holds CAP_SYS_ADMIN over its mounts; a
/// mount it makes inside an idmapped bind of a shared host source never reaches the
/// host, whatever propagation the config asks for `/` (unbindable and shared left the
/// bind the host's peer before).
#[test]
fn a_user_namespace_root_cannot_mount_onto_the_host_through_an_idmapped_bind() {
    if !is_hull() {
        return;
    }
    let case = Case::new("idmap_userns_mount");
    let src = owned_files(&case, "vol");
    fs::create_dir_all(src.join("sub")).unwrap();
    mount_on_itself(&case, &src, "mount --make-shared \"$1\"");
    for propagation in ["unbindable", "rshared", "runbindable"] {
        let mut b = case.bundle(&format!("userns{}", &propagation[..2]));
        b.user_namespace(0, 100000, 65536);
        b.rootfs_propagation(propagation);
        let caps = json!(["CAP_SYS_ADMIN"]);
        for set in ["bounding", "effective", "permitted"] {
            b.set(&format!("/process/capabilities/{set}"), caps.clone());
        }
        b.add_mount(
            json!({"destination": "/data", "type": "bind", "source": src,
                           "options": ["bind", "idmap"]}),
        );
        // The container's root (a mapped id) may not make it in the host-owned rootfs.
        fs::create_dir_all(b.rootfs.join("data")).unwrap();
        b.sh("mount -t tmpfs evil /data/sub; echo mounted=$?");
        let out = case.run_container(&b);
        out.ok();
        assert_eq!(
            mounts_under(&src),
            [src.to_string_lossy()],
            "{propagation}: a mount reached the host\n{out}"
        );
    }
    case.finish();
}

/// A source on a read-only host mount (or an rbind) is refused for an idmapped bind in
/// a user namespace: the container's root could remount the copy read-write (a plain
/// bind keeps the host's read-only flag locked; the idmapped copy would not).
#[test]
fn idmapped_binds_that_would_lose_the_host_locks_are_refused() {
    let case = Case::new("idmap_locks");
    // Outside the case's directory: the leak checks count mounts below it.
    let src = std::env::temp_dir().join(format!("hull-idmap-ro-{}", std::process::id()));
    fs::create_dir_all(&src).unwrap();
    {
        // Cleanups run last first: this one after the unmount.
        let src = src.clone();
        case.defer(move || {
            let _ = fs::remove_dir(&src);
        });
    }
    mount_on_itself(&case, &src, "mount -o remount,bind,ro \"$1\"");
    let userns = |b: &mut Bundle| {
        b.user_namespace(0, 100000, 65536);
    };
    refused(
        &case,
        "rosrc",
        userns,
        json!({"destination": "/data", "type": "bind", "source": src, "options": ["bind", "idmap"]}),
        "options",
        &["read-only"],
    );
    let rw = owned_files(&case, "rw");
    refused(
        &case,
        "rbind",
        userns,
        json!({"destination": "/data", "type": "bind", "source": rw, "options": ["rbind", "idmap"]}),
        "options",
        &["rbind"],
    );
    assert!(!rw.join("x").exists());
    case.finish();
}
