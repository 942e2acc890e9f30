//! The library from a threaded program, as an engine embeds it: four threads, each
//! running ten containers one after another through the README's own calls, with
//! nothing special set up (no subreaper): every exit code and every line of output
//! comes back right, and nothing is left. Needs root and busybox.

use std::io::Read;
use std::path::{Path, PathBuf};

use hull::{ExitStatus, Factory};

const THREADS: usize = 4;
const CONTAINERS: usize = 10;

/// A busybox rootfs shared by every container of the test (read-only).
fn rootfs(dir: &Path) -> PathBuf {
    let bin = dir.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static is installed");
    std::os::unix::fs::symlink("busybox", bin.join("sh")).unwrap();
    dir.join("rootfs")
}

/// Runs `sh -c "echo <tag>; exit <code>"` in a new container and returns what it
/// printed and how it ended.
fn run_one(factory: &Factory, bundle: &Path, id: &str, code: i32) -> (String, ExitStatus) {
    let config = serde_json::json!({
        "ociVersion": "1.3.0",
        "root": { "path": "rootfs", "readonly": true },
        "process": {
            "args": ["sh", "-c", format!("echo {id}; exit {code}")],
            "env": ["PATH=/bin"], "cwd": "/", "user": { "uid": 0, "gid": 0 }
        },
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] }
        ],
        "linux": {
            "cgroupsPath": format!("/hull-lib-test/{id}"),
            "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }]
        }
    });
    let (config, mut process) =
        hull::spec::from_json(config.to_string().as_bytes(), bundle).unwrap();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    process.stdout = Some(writer);
    let mut container = factory.create(id, config).unwrap();
    // The process (and our end of the pipe's writer with it) is the container's now:
    // the reader sees the end once the container's copy is gone.
    let status = container.run(process).unwrap().wait().unwrap();
    let mut out = String::new();
    std::fs::File::from(reader)
        .read_to_string(&mut out)
        .unwrap();
    container.destroy().unwrap();
    (out, status)
}

#[test]
fn four_threads_run_ten_containers_each() {
    let dir = std::env::temp_dir()
        .join("hull-lib-tests")
        .join(format!("threads{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    rootfs(&dir);
    // libtest's main is not ours to re-exec sealed (library.rs tests the default).
    let factory = Factory::new(dir.join("state"))
        .unwrap()
        .without_seal_check();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (factory, dir) = (&factory, &dir);
            scope.spawn(move || {
                for n in 0..CONTAINERS {
                    let id = format!("thr{}-{t}-{n}", std::process::id());
                    let code = (t * CONTAINERS + n) as i32 % 7;
                    let (out, status) = run_one(factory, dir, &id, code);
                    assert_eq!(out.trim(), id);
                    assert_eq!(status, ExitStatus::Exited(code), "{id}");
                }
            });
        }
    });
    let left: Vec<_> = std::fs::read_dir(dir.join("state"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "state left: {left:?}");
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let parent = entry.path().join("hull-lib-test");
        let cgroups: Vec<_> = std::fs::read_dir(&parent)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("thr{}-", std::process::id()))
            })
            .map(|e| e.path())
            .collect();
        assert!(cgroups.is_empty(), "cgroups left: {cgroups:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
