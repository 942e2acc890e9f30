//! podman with `--runtime hull` (through conmon, as podman runs runc): run with exit
//! codes, a terminal, detached containers with exec, pause/unpause, stats, top, logs,
//! stop/start/kill/rm, and the limits and filesystems users ask for (`--memory`,
//! `--pids-limit`, `--read-only`, `--tmpfs`), each read back from the host or from
//! inside; checkpoint and restore, in place and exported under a new name.

use std::process::Command;

use engine_tests::*;

/// podman with its own config, storage and run directories, in the test's network
/// namespace.
struct Podman<'a> {
    scratch: &'a Scratch,
    netns: &'a Netns,
    parent: &'a CgroupParent,
}

impl Podman<'_> {
    /// podman for the test `setup`, configured, with the busybox image loaded.
    fn with_busybox(setup: &Setup) -> Podman<'_> {
        Podman::configure(&setup.scratch, &setup.wrapper);
        let podman = Podman {
            scratch: &setup.scratch,
            netns: &setup.netns,
            parent: &setup.parent,
        };
        run_ok(podman.cmd().arg("load").arg("-i").arg(images::busybox()));
        podman
    }

    fn configure(scratch: &Scratch, wrapper: &Wrapper) {
        // This machine's hard open-files limit is below podman's defaults.
        scratch.write(
            "containers.conf",
            &format!(
                r#"[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{events}"
runtime = "hull"
tmp_dir = "{tmp}"
volume_path = "{volumes}"

[engine.runtimes]
hull = ["{wrapper}"]

[network]
network_config_dir = "{network}"
"#,
                events = scratch.path("podman-events.log").display(),
                tmp = scratch.path("podman-tmp").display(),
                volumes = scratch.path("podman-volumes").display(),
                wrapper = wrapper.path.display(),
                network = scratch.path("podman-networks").display(),
            ),
        );
        scratch.write(
            "storage.conf",
            &format!(
                "[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                scratch.path("podman-storage").display(),
                scratch.path("podman-run").display()
            ),
        );
    }

    fn cmd(&self) -> Command {
        let mut cmd = self.netns.command("podman");
        cmd.env("CONTAINERS_CONF", self.scratch.path("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.scratch.path("storage.conf"));
        cmd
    }

    /// `podman run` in the test's cgroup, without a network of its own.
    fn run(&self, flags: &[&str], command: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.args([
            "run",
            "--network",
            "none",
            "--cgroup-parent",
            &self.parent.path,
        ])
        .args(flags)
        .arg(images::BUSYBOX)
        .args(command);
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        run_ok(self.cmd().args(args))
    }

    fn pid(&self, name: &str) -> u32 {
        self.ok(&["inspect", "-f", "{{.State.Pid}}", name])
            .trim()
            .parse()
            .unwrap()
    }

    fn status(&self, name: &str) -> String {
        self.ok(&["inspect", "-f", "{{.State.Status}}", name])
            .trim()
            .to_string()
    }
}

/// The command line of `cmd`, for a shell.
fn shell_line(cmd: &Command) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let env: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, quote(v?.to_str()?))))
        .collect();
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| quote(&a.to_string_lossy()))
        .collect();
    format!(
        "env {} {} {}",
        env.join(" "),
        cmd.get_program().to_string_lossy(),
        args.join(" ")
    )
}

#[test]
fn podman_runs_containers_on_hull() {
    let setup = Setup::new("podman");
    let (parent, wrapper) = (&setup.parent, &setup.wrapper);
    let podman = Podman::with_busybox(&setup);

    // run --rm: output and exit code.
    let ran = run_code(&mut podman.run(&["--rm"], &["sh", "-c", "echo hello; exit 5"]));
    assert_eq!(ran.code, 5, "{ran}");
    assert!(ran.out.contains("hello"), "{ran}");

    // run -it: a terminal.
    let out = in_terminal(&shell_line(
        &podman.run(&["--rm", "-it"], &["sh", "-c", "tty"]),
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/"), "{text}");

    // run -d, exec, logs, pause/unpause, stats, top.
    podman.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--cgroup-parent",
        &parent.path,
        "--name",
        "c1",
        "--memory",
        "64m",
        "--pids-limit",
        "50",
        images::BUSYBOX,
        "sh",
        "-c",
        "echo started; exec sleep 300",
    ]);
    let ran = run_code(podman.cmd().args(["exec", "c1", "sh", "-c", "exit 6"]));
    assert_eq!(ran.code, 6, "{ran}");
    wait_until("the log line", std::time::Duration::from_secs(10), || {
        podman.ok(&["logs", "c1"]).contains("started")
    });
    podman.ok(&["pause", "c1"]);
    assert_eq!(podman.status("c1"), "paused");
    podman.ok(&["unpause", "c1"]);
    assert_eq!(podman.status("c1"), "running");
    let stats = podman.ok(&["stats", "--no-stream", "c1"]);
    assert!(stats.contains("c1"), "{stats}");
    let top = podman.ok(&["top", "c1"]);
    assert!(top.contains("sleep"), "{top}");

    // The limits, in the container's cgroup on the host.
    let pid = podman.pid("c1");
    let memory = cgroup_of(pid, "memory").unwrap();
    let limit = cgroup_file("memory", &memory, "memory.limit_in_bytes")
        .or_else(|| cgroup_file("memory", &memory, "memory.max"));
    assert_eq!(limit.as_deref(), Some("67108864"));
    let pids = cgroup_of(pid, "pids").unwrap();
    assert_eq!(
        cgroup_file("pids", &pids, "pids.max").as_deref(),
        Some("50")
    );

    // stop, start, kill, rm.
    podman.ok(&["stop", "-t", "2", "c1"]);
    assert_eq!(podman.status("c1"), "exited");
    podman.ok(&["start", "c1"]);
    assert_eq!(podman.status("c1"), "running");
    podman.ok(&["kill", "c1"]);
    wait_until("c1 to exit", std::time::Duration::from_secs(10), || {
        podman.status("c1") == "exited"
    });
    podman.ok(&["rm", "c1"]);

    // --read-only and --tmpfs.
    let ran = run_code(&mut podman.run(
        &["--rm", "--read-only", "--tmpfs", "/scratch"],
        &[
            "sh",
            "-c",
            "touch /file 2>/dev/null && echo wrote; grep ' /scratch ' /proc/mounts; \
             touch /scratch/file && echo scratch-ok",
        ],
    ));
    assert_eq!(ran.code, 0, "{ran}");
    assert!(!ran.out.contains("wrote"), "the root was writable:\n{ran}");
    assert!(
        ran.out.contains("tmpfs") && ran.out.contains("scratch-ok"),
        "{ran}"
    );

    // Nothing left.
    assert_eq!(podman.ok(&["ps", "-aq"]).trim(), "");
    assert_eq!(
        parent.pids(),
        Vec::<u32>::new(),
        "processes left in the cgroups"
    );
    assert!(wrapper.calls().contains("create"), "hull was never called");
    run_ok(podman.cmd().args(["rmi", "-a", "-f"]));
}

/// The count a counter container (see [`COUNTER`]) has reached, read through `exec`.
fn count(podman: &Podman, name: &str) -> u64 {
    podman
        .ok(&["exec", name, "cat", "/count"])
        .trim()
        .parse()
        .unwrap()
}

/// Counts up in /count, ten times a second.
const COUNTER: &str =
    "i=0; while :; do i=$((i+1)); echo $i >/count.new; mv /count.new /count; sleep 0.1; done";

/// `podman container checkpoint` and `restore` with hull as the runtime (podman asks
/// `hull checkpoint --help` first, then drives CRIU through hull): a counter goes on
/// from where it was, in place and, from an exported archive, under a new name.
#[test]
fn podman_checkpoints_and_restores_on_hull() {
    let setup = Setup::new("podmancr");
    let (parent, wrapper) = (&setup.parent, &setup.wrapper);
    let podman = Podman::with_busybox(&setup);
    run_ok(&mut podman.run(&["-d", "--name", "cr"], &["sh", "-c", COUNTER]));
    wait_until("the counter", std::time::Duration::from_secs(10), || {
        count(&podman, "cr") >= 10
    });

    // In place.
    podman.ok(&["container", "checkpoint", "cr"]);
    assert_eq!(podman.status("cr"), "exited");
    let reached = wrapper.calls();
    assert!(
        reached.contains("checkpoint"),
        "hull was not asked to checkpoint"
    );
    podman.ok(&["container", "restore", "cr"]);
    assert_eq!(podman.status("cr"), "running");
    let after = count(&podman, "cr");
    assert!(after >= 10, "the restored counter started over: {after}");
    assert!(
        cgroup_of(podman.pid("cr"), "pids").is_some_and(|cgroup| cgroup.starts_with(&parent.path)),
        "the restored container is not in its cgroup"
    );

    // Exported, then imported under a new name.
    let archive = setup.scratch.path("cr.tar.gz");
    podman.ok(&[
        "container",
        "checkpoint",
        "--export",
        archive.to_str().unwrap(),
        "cr",
    ]);
    let before = after;
    podman.ok(&[
        "container",
        "restore",
        "--import",
        archive.to_str().unwrap(),
        "--name",
        "cr2",
    ]);
    assert_eq!(podman.status("cr2"), "running");
    let imported = count(&podman, "cr2");
    assert!(
        imported >= before,
        "the imported counter started over: {imported}"
    );

    podman.ok(&["rm", "-f", "cr", "cr2"]);
    assert_eq!(podman.ok(&["ps", "-aq"]).trim(), "");
    assert_eq!(
        parent.pids(),
        Vec::<u32>::new(),
        "processes left in the cgroups"
    );
    assert!(
        wrapper.calls().contains("restore"),
        "hull was never asked to restore"
    );
    run_ok(podman.cmd().args(["rmi", "-a", "-f"]));
}
