//! Runs one small container per thread with hull's library, each one's output read back
//! through a pipe, and prints what each printed and how it ended.
//!
//! ```text
//! cargo run --example parallel -- ROOTFS [THREADS]
//! ```
//!
//! ROOTFS is a directory with a static busybox at `bin/sh` (the test suite makes one from
//! Debian's `busybox-static`). Needs root. The config is built in code, not read from an
//! OCI bundle: the library checks it all the same (`Factory::create`).

use std::io::Read;
use std::path::PathBuf;

use hull::config::{mount_options, CgroupConfig, Mount, Namespace, NamespaceKind, User};
use hull::{Config, Factory, Process};

fn config(rootfs: PathBuf, id: &str) -> Config {
    let namespaces = [NamespaceKind::Pid, NamespaceKind::Mount, NamespaceKind::Ipc];
    Config {
        rootfs,
        readonly_rootfs: true,
        namespaces: namespaces
            .into_iter()
            .map(|kind| Namespace { kind, path: None })
            .collect(),
        mounts: vec![
            Mount {
                source: Some("proc".into()),
                destination: "/proc".into(),
                fstype: "proc".into(),
                ..Mount::default()
            },
            Mount {
                source: Some("tmpfs".into()),
                destination: "/dev".into(),
                fstype: "tmpfs".into(),
                options: mount_options::parse(&["nosuid".into(), "mode=755".into()])
                    .expect("valid options"),
                ..Mount::default()
            },
        ],
        cgroup: CgroupConfig {
            path: Some(format!("/hull-example/{id}").into()),
            ..CgroupConfig::default()
        },
        ..Config::default()
    }
}

/// Runs `script` in a new container named `id`; returns its output and exit code.
fn run(factory: &Factory, rootfs: PathBuf, id: &str, script: &str) -> hull::Result<(String, i32)> {
    let (reader, writer) = nix::unistd::pipe().map_err(|e| hull::Error::Sys {
        context: "pipe",
        source: e.into(),
    })?;
    let process = Process {
        args: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec!["PATH=/bin".into()],
        cwd: "/".into(),
        user: User::default(), // root of the container, with no capability
        stdout: Some(writer),
        ..Process::default()
    };
    let mut container = factory.create(id, config(rootfs, id))?;
    // `run` takes the process, our end of the pipe's writer with it: the reader sees the
    // end once the container's copy is gone.
    let outcome = container.run(process).and_then(|init| init.wait());
    let mut output = String::new();
    let _ = std::fs::File::from(reader).read_to_string(&mut output);
    container.destroy()?;
    Ok((output, outcome?.code()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // First: from here on this program runs from a sealed copy of itself, so no
    // container can overwrite it through /proc/<pid>/exe (CVE-2019-5736).
    hull::sealed::ensure()?;
    let mut args = std::env::args().skip(1);
    let rootfs = PathBuf::from(args.next().ok_or("usage: parallel ROOTFS [THREADS]")?);
    let threads: usize = args.next().map_or(Ok(4), |n| n.parse())?;
    let state = std::env::temp_dir().join(format!("hull-example-{}", std::process::id()));
    let factory = Factory::new(&state)?;
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|n| {
                let (factory, rootfs) = (&factory, rootfs.clone());
                scope.spawn(move || {
                    let id = format!("example-{}-{n}", std::process::id());
                    let script = format!("echo hello from container {n}; exit {n}");
                    run(factory, rootfs, &id, &script)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread panicked"))
            .collect::<Vec<_>>()
    });
    let _ = std::fs::remove_dir(&state);
    for (n, result) in results.into_iter().enumerate() {
        let (output, code) = result?;
        println!("container {n}: exit code {code}, said {:?}", output.trim());
    }
    Ok(())
}
