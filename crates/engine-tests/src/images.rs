//! Container images made offline from the host's busybox-static: one layer (busybox and
//! a link per applet, `/etc/passwd`, `/etc/group`, the usual empty directories) and a
//! config, packed as a docker archive (`manifest.json` with `RepoTags`), the format
//! `docker load`, `podman load` and `ctr images import` all take.
//!
//! Each image is built once per run: kept under `$TMPDIR/hull-engine-tests/images/`,
//! named after busybox's digest, and reused by every later test.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use sha2::{Digest, Sha256};

/// The image every test container runs: busybox with `sh` as its command.
pub const BUSYBOX: &str = "hull.test/busybox:latest";
/// The pod sandbox ("pause") image for CRI: sleeps until it is told to stop.
pub const PAUSE: &str = "hull.test/pause:latest";

const BUSYBOX_BIN: &str = "/bin/busybox";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The docker archive of image `name` whose command is `cmd`, built if missing.
pub fn archive(name: &str, cmd: &[&str]) -> PathBuf {
    let busybox = fs::read(BUSYBOX_BIN).expect("busybox-static is installed");
    let key = sha256_hex(format!("{}{name}{cmd:?}", sha256_hex(&busybox)).as_bytes());
    let dir = std::env::temp_dir()
        .join("hull-engine-tests")
        .join("images");
    let path = dir.join(format!("{}.tar", &key[..16]));
    if path.exists() {
        return path;
    }
    fs::create_dir_all(&dir).unwrap();
    let work = dir.join(format!("build-{}-{}", std::process::id(), &key[..8]));
    let _ = fs::remove_dir_all(&work);
    build(&work, name, cmd);
    let tmp = dir.join(format!(".{}.{}", &key[..16], std::process::id()));
    tar(&work.join("archive"), &tmp);
    fs::rename(&tmp, &path).unwrap();
    fs::remove_dir_all(&work).unwrap();
    path
}

/// The busybox image (see [`BUSYBOX`]).
pub fn busybox() -> PathBuf {
    archive(BUSYBOX, &["sh"])
}

/// The pause image (see [`PAUSE`]): a shell that sleeps and exits on TERM or INT.
pub fn pause() -> PathBuf {
    archive(
        PAUSE,
        &[
            "/bin/sh",
            "-c",
            "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done",
        ],
    )
}

fn build(work: &Path, name: &str, cmd: &[&str]) {
    let rootfs = work.join("rootfs");
    for d in [
        "bin", "etc", "dev", "proc", "sys", "tmp", "root", "run", "var",
    ] {
        fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::copy(BUSYBOX_BIN, rootfs.join("bin/busybox")).unwrap();
    let applets = Command::new(BUSYBOX_BIN).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&applets.stdout).lines() {
        let applet = applet.trim();
        if !applet.is_empty() && applet != "busybox" && !applet.contains('/') {
            let _ = symlink("busybox", rootfs.join("bin").join(applet));
        }
    }
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .unwrap();
    fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();

    let archive = work.join("archive");
    fs::create_dir_all(&archive).unwrap();
    let layer_tmp = work.join("layer.tar");
    tar(&rootfs, &layer_tmp);
    let layer = fs::read(&layer_tmp).unwrap();
    let layer_id = sha256_hex(&layer);
    fs::create_dir_all(archive.join(&layer_id)).unwrap();
    fs::rename(&layer_tmp, archive.join(&layer_id).join("layer.tar")).unwrap();

    let config = json!({
        "architecture": architecture(),
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": cmd,
            "WorkingDir": "/"
        },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{layer_id}")] },
        "history": [{ "created": "1970-01-01T00:00:00Z", "created_by": "hull engine tests" }]
    })
    .to_string();
    let config_id = sha256_hex(config.as_bytes());
    fs::write(archive.join(format!("{config_id}.json")), &config).unwrap();
    let manifest = json!([{
        "Config": format!("{config_id}.json"),
        "RepoTags": [name],
        "Layers": [format!("{layer_id}/layer.tar")]
    }]);
    fs::write(archive.join("manifest.json"), manifest.to_string()).unwrap();
}

/// A reproducible tar of `dir`'s contents.
fn tar(dir: &Path, out: &Path) {
    let status = Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@0",
            "-cf",
        ])
        .arg(out)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar of {}", dir.display());
}
