//! `hull::asyncio` (feature `tokio`): a program on a single-threaded tokio runtime waits
//! for many containers' exits, and for an OOM event, without a thread per container.
//! Needs root and busybox (scripts/test.sh installs it).

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hull::asyncio::{wait_exit, AsyncOomEvents};
use hull::{ExitStatus, Factory, Process};
use tokio::task::JoinSet;
use tokio::time::timeout;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A throwaway busybox bundle and state root shared by a test's containers, which are
/// destroyed and removed on drop.
struct Scratch {
    dir: PathBuf,
    name: String,
    ids: Vec<String>,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("async{}-{n}-{name}", std::process::id());
        let dir = std::env::temp_dir().join("hull-lib-tests").join(&name);
        let bin = dir.join("bundle/rootfs/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static is installed");
        for applet in ["sh", "head", "tr", "echo"] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
        Scratch {
            dir,
            name,
            ids: Vec::new(),
        }
    }

    fn factory(&self) -> Factory {
        // libtest's main is not ours to re-exec from a sealed copy (see library.rs).
        Factory::new(self.dir.join("state"))
            .unwrap()
            .without_seal_check()
    }

    /// A new container id and its config: `script` under `sh -c`, stdin from a pipe
    /// whose write end is returned (the scripts wait on it with `read`).
    fn config(&mut self, script: &str) -> (String, hull::Config, Process, OwnedFd) {
        let id = format!("{}-{}", self.name, self.ids.len());
        let config = serde_json::json!({
            "ociVersion": "1.2.0",
            "root": { "path": "rootfs", "readonly": true },
            "process": {
                "args": ["sh", "-c", script],
                "env": ["PATH=/bin"],
                "cwd": "/",
                "user": { "uid": 0, "gid": 0 }
            },
            "linux": {
                "cgroupsPath": format!("/hull-lib-test/{id}"),
                "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }]
            }
        });
        let bundle = self.dir.join("bundle");
        let (config, mut process) =
            hull::spec::from_json(config.to_string().as_bytes(), &bundle).unwrap();
        // Close-on-exec: no container may hold another's write end.
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        process.stdin = Some(r);
        self.ids.push(id.clone());
        (id, config, process, w)
    }

    /// Asserts that nothing of the containers is left on the host.
    fn assert_clean(&self) {
        for id in &self.ids {
            let state = self.dir.join("state").join(id);
            assert!(!state.exists(), "state dir left: {}", state.display());
            for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
                let cg = entry.path().join("hull-lib-test").join(id);
                assert!(!cg.exists(), "cgroup left: {}", cg.display());
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let factory = self.factory();
        for id in &self.ids {
            if let Ok(c) = factory.load(id) {
                let _ = c.destroy();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// 50 containers block on their stdin; all 50 waits are pending on the one runtime
/// thread when a task of that same thread releases them, so a wait that blocked the
/// thread would never see them exit (a watchdog thread releases them after 60s to end
/// the test, failed, instead of hanging). Every exit code arrives.
#[tokio::test(flavor = "current_thread")]
async fn fifty_containers_waited_on_one_thread() {
    const N: usize = 50;
    let mut scratch = Scratch::new("fifty");
    let factory = scratch.factory();
    let began = Instant::now();
    let mut containers = Vec::new();
    let mut waits = JoinSet::new();
    let mut gates = Vec::new();
    for i in 0..N {
        let (id, config, process, gate) = scratch.config(&format!("read x; exit {i}"));
        let mut container = factory.create(&id, config).unwrap();
        let init = container.run(process).unwrap();
        containers.push(container);
        gates.push(gate);
        waits.spawn(async move { (i, wait_exit(&init).await) });
    }
    let started = began.elapsed();

    let gates = Arc::new(Mutex::new(Some(gates)));
    let watchdog = {
        let gates = Arc::clone(&gates);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(60));
            gates.lock().unwrap().take().is_some()
        })
    };
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        gates.lock().unwrap().take();
    });

    let mut codes = vec![None; N];
    while let Some(done) = waits.join_next().await {
        let (i, status) = done.unwrap();
        codes[i] = Some(status.unwrap());
    }
    releaser.await.unwrap();
    let waited = began.elapsed() - started;
    assert!(
        !watchdog.is_finished() || !watchdog.join().unwrap(),
        "the waits blocked the runtime's thread"
    );
    for (i, code) in codes.into_iter().enumerate() {
        assert_eq!(code, Some(ExitStatus::Exited(i as i32)), "container {i}");
    }
    for container in containers {
        container.destroy().unwrap();
    }
    scratch.assert_clean();
    eprintln!("{N} containers: started in {started:?}, all exits waited in {waited:?}");
}

/// A container over its memory limit: the OOM event arrives through `AsyncOomEvents`,
/// alongside the wait for its exit, on the one runtime thread.
#[tokio::test(flavor = "current_thread")]
async fn oom_event_received_asynchronously() {
    let mut scratch = Scratch::new("oom");
    // The shell buffers the command substitution: 100 MB against a 32 MB limit.
    let (id, mut config, process, gate) =
        scratch.config("read x; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived");
    config.cgroup.resources.memory.limit = Some(32 << 20);
    config.cgroup.resources.memory.swap = Some(32 << 20);
    let mut container = scratch.factory().create(&id, config).unwrap();
    let init = container.run(process).unwrap();
    let mut events = AsyncOomEvents::new(container.notify_oom().unwrap()).unwrap();
    drop(gate);

    let limit = Duration::from_secs(60);
    let (oom, exit) = tokio::join!(
        timeout(limit, events.next()),
        timeout(limit, wait_exit(&init))
    );
    let oom = oom.expect("no OOM event within 60s").unwrap();
    assert!(oom.is_some_and(|n| n >= 1), "{oom:?}");
    exit.expect("no exit within 60s").unwrap();
    drop(events);
    container.destroy().unwrap();
    scratch.assert_clean();
}
