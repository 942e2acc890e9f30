//! Docker with hull registered under `runtimes` (and as its default runtime), dockerd
//! started by the test with its own data-root, exec-root and socket, in the test's
//! network namespace with no bridge and no iptables: run with exit codes, a terminal,
//! a detached container with exec, logs, pause/unpause, stats, top, live update and
//! stop, and the memory and pids limits seen in the container's cgroup on the host.

use std::process::Command;
use std::time::Duration;

use engine_tests::*;

struct Docker {
    socket: std::path::PathBuf,
}

impl Docker {
    fn cmd(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.arg("-H")
            .arg(format!("unix://{}", self.socket.display()));
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        run_ok(self.cmd().args(args))
    }

    fn inspect(&self, format: &str, name: &str) -> String {
        self.ok(&["inspect", "-f", format, name]).trim().to_string()
    }
}

#[test]
fn docker_runs_containers_on_hull() {
    let parent = CgroupParent::new("docker");
    let scratch = Scratch::new("docker");
    let netns = Netns::new("hulldocker");
    let wrapper = Wrapper::new(&scratch);
    let socket = scratch.path("docker.sock");
    let config = serde_json::json!({
        "data-root": scratch.path("docker-data"),
        "exec-root": scratch.path("docker-exec"),
        "pidfile": scratch.path("docker.pid"),
        "hosts": [format!("unix://{}", socket.display())],
        "bridge": "none",
        "iptables": false,
        "ip-forward": false,
        "ip-masq": false,
        "storage-driver": "overlay2",
        "cgroup-parent": parent.path,
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        "runtimes": { "hull": { "path": wrapper.path } },
        "default-runtime": "hull",
    });
    let config = scratch.write("daemon.json", &config.to_string());
    let mut cmd = netns.command("dockerd");
    cmd.arg("--config-file").arg(&config);
    let _daemon = Daemon::start(&scratch, "dockerd", cmd, &socket);
    let docker = Docker { socket };
    wait_until("dockerd to answer", Duration::from_secs(60), || {
        run_code(docker.cmd().arg("info")).code == 0
    });
    run_ok(docker.cmd().arg("load").arg("-i").arg(images::busybox()));

    // run --rm: output and exit code.
    let ran = run_code(docker.cmd().args([
        "run",
        "--rm",
        "--network",
        "none",
        images::BUSYBOX,
        "sh",
        "-c",
        "echo hello; exit 5",
    ]));
    assert_eq!(ran.code, 5, "{ran}");
    assert!(ran.out.contains("hello"), "{ran}");

    // run -it: a terminal.
    let out = in_terminal(&format!(
        "docker -H unix://{} run --rm -it --network none {} sh -c tty",
        docker.socket.display(),
        images::BUSYBOX
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/"), "{text}");

    // run -d with limits, exec, logs, pause/unpause, stats, top, update, stop.
    docker.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "d1",
        "--memory",
        "64m",
        "--pids-limit",
        "50",
        images::BUSYBOX,
        "sh",
        "-c",
        "echo started; exec sleep 300",
    ]);
    let ran = run_code(docker.cmd().args(["exec", "d1", "sh", "-c", "exit 6"]));
    assert_eq!(ran.code, 6, "{ran}");
    wait_until("the log line", Duration::from_secs(10), || {
        run_code(docker.cmd().args(["logs", "d1"]))
            .out
            .contains("started")
    });
    let pid: u32 = docker.inspect("{{.State.Pid}}", "d1").parse().unwrap();
    let memory = cgroup_of(pid, "memory").unwrap();
    let limit = |file: &str| cgroup_file("memory", &memory, file);
    let memory_limit = || limit("memory.limit_in_bytes").or_else(|| limit("memory.max"));
    assert_eq!(memory_limit().as_deref(), Some("67108864"));
    let pids = cgroup_of(pid, "pids").unwrap();
    assert_eq!(
        cgroup_file("pids", &pids, "pids.max").as_deref(),
        Some("50")
    );
    docker.ok(&["pause", "d1"]);
    assert_eq!(docker.inspect("{{.State.Status}}", "d1"), "paused");
    docker.ok(&["unpause", "d1"]);
    assert_eq!(docker.inspect("{{.State.Status}}", "d1"), "running");
    let stats = docker.ok(&["stats", "--no-stream", "d1"]);
    assert!(stats.contains("d1"), "{stats}");
    let top = docker.ok(&["top", "d1"]);
    assert!(top.contains("sleep"), "{top}");
    docker.ok(&["update", "--memory", "128m", "--memory-swap", "256m", "d1"]);
    assert_eq!(memory_limit().as_deref(), Some("134217728"));
    docker.ok(&["stop", "-t", "2", "d1"]);
    assert_eq!(docker.inspect("{{.State.Status}}", "d1"), "exited");
    docker.ok(&["rm", "d1"]);

    // Nothing left.
    assert_eq!(docker.ok(&["ps", "-aq"]).trim(), "");
    assert_eq!(
        parent.pids(),
        Vec::<u32>::new(),
        "processes left in the cgroups"
    );
    assert!(wrapper.calls().contains("create"), "hull was never called");
}
