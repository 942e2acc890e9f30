//! Harness for the CLI integration tests.
//!
//! The tests drive a runc-compatible binary from the outside, so they can run against hull
//! or against any reference runtime:
//!
//! ```text
//! cargo test -p hull-cli --tests                                   # hull
//! HULL_TEST_RUNTIME=/usr/sbin/runc cargo test -p hull-cli --tests  # runc
//! ```
//!
//! Every test builds a [`Case`]: its own temporary directory under
//! `$TMPDIR/hull-tests/<case id>/`, its own state root (`--root <dir>/state`), and one or more
//! [`Bundle`]s, each with a unique container id `t<pid>-<n>-<label>`, its own rootfs (a static
//! busybox with one symlink per applet) and its own `linux.cgroupsPath` `/hull-test/<id>`.
//!
//! A test ends with [`Case::finish`], which force-deletes whatever the test left, then panics
//! if anything leaked: a state entry, a cgroup directory, a mount under the case directory or
//! a process in the container's cgroup or naming it. `Drop` only cleans up (it never panics),
//! so a test that failed earlier still leaves the machine clean.
//!
//! Runtime invocations write their stdout and stderr to files (never pipes): a container
//! started by `create` or `run --detach` inherits them, and a pipe would keep the reader
//! blocked until the container died.
#![allow(dead_code)] // each test file uses a subset of the harness

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod user;

/// The static busybox copied into every rootfs.
pub const BUSYBOX: &str = "/bin/busybox";

/// How long one runtime invocation may take before the harness kills it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// How long the leak check waits for things to disappear (a killed process, a cgroup).
const LEAK_GRACE: Duration = Duration::from_secs(5);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The runtime under test: `$HULL_TEST_RUNTIME`, else the `hull` binary of this package.
pub fn runtime() -> PathBuf {
    match std::env::var_os("HULL_TEST_RUNTIME") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_hull")),
    }
}

fn runtime_name() -> String {
    runtime()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// True when the runtime under test is runc (some assertions document where runc differs).
pub fn is_runc() -> bool {
    runtime_name().contains("runc")
}

/// True when the runtime under test is hull (some assertions are stricter for hull).
pub fn is_hull() -> bool {
    runtime_name().starts_with("hull")
}

fn unique(label: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("t{}-{}-{}", std::process::id(), n, label)
}

/// The result of one runtime invocation.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code; 128+N when the process was killed by signal N.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Where stdout was written; a container started from this invocation keeps writing here.
    pub stdout_path: PathBuf,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// Panics with the whole invocation unless it exited 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success:\n{self}");
        self
    }

    /// Panics unless the invocation exited with `code`.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code:\n{self}");
        self
    }

    /// stdout, trimmed.
    pub fn out(&self) -> &str {
        self.stdout.trim()
    }

    /// stdout as lines of whitespace-separated words.
    pub fn words(&self) -> Vec<Vec<&str>> {
        self.stdout
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect()
    }

    /// stdout parsed as `key=value` lines (lines without `=` are ignored).
    pub fn kv(&self) -> BTreeMap<String, String> {
        parse_kv(&self.stdout)
    }

    /// Re-reads stdout from its file (for a container that kept writing after the runtime exited).
    pub fn reread_stdout(&self) -> String {
        fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// Asserts the shape of a failed invocation of the runtime on bad input: exit code 1,
    /// a non-empty stderr mentioning one of `keywords` (case-insensitive); and for hull,
    /// exactly one line. (runc prefixes its message with `time=... level=error msg=...` and
    /// may print more than one line, so only the keyword is checked for other runtimes.)
    #[track_caller]
    pub fn assert_bad_input(&self, keywords: &[&str]) {
        self.assert_failed_with(1, keywords);
    }

    /// Like [`Output::assert_bad_input`] with another exit code (`exec` fails with 255,
    /// as runc's does).
    #[track_caller]
    pub fn assert_failed_with(&self, code: i32, keywords: &[&str]) {
        assert_eq!(self.code, code, "expected exit code {code}:\n{self}");
        let err = self.stderr.trim();
        assert!(
            !err.is_empty(),
            "expected an error message on stderr:\n{self}"
        );
        let lower = err.to_lowercase();
        assert!(
            keywords.iter().any(|k| lower.contains(&k.to_lowercase())),
            "stderr should mention one of {keywords:?}:\n{self}"
        );
        if is_hull() {
            assert_eq!(
                err.lines().count(),
                1,
                "hull must print exactly one error line:\n{self}"
            );
        }
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Parses `key=value` lines; the first `=` splits, values are trimmed.
pub fn parse_kv(s: &str) -> BTreeMap<String, String> {
    s.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// A runtime invocation still running in the background (`run` in the foreground while the
/// test acts on the container from the side).
pub struct Running {
    child: Child,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    command: String,
}

impl Running {
    /// Whether the runtime has exited, without reaping it (for `wait`).
    pub fn exited(&self) -> bool {
        let status = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
        status.map_or(true, |s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
    }

    /// Sends signal number `signal` to the runtime itself.
    pub fn signal(&self, signal: i32) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} of the runtime failed");
    }

    /// Stops a runtime that streams until killed (runc's `events`) and collects its
    /// output.
    pub fn stop(mut self) -> Output {
        let _ = self.child.kill();
        self.wait()
    }

    /// Waits (bounded) for the runtime to exit.
    #[track_caller]
    pub fn wait(mut self) -> Output {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            match self.child.try_wait().expect("waiting for the runtime") {
                Some(status) => break status,
                None if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "runtime did not exit within {COMMAND_TIMEOUT:?}: {}",
                        self.command
                    );
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        Output {
            code,
            stdout: fs::read_to_string(&self.stdout_path).unwrap_or_default(),
            stderr: fs::read_to_string(&self.stderr_path).unwrap_or_default(),
            stdout_path: self.stdout_path,
            command: self.command,
        }
    }
}

/// One test: a private directory, a private state root, and the containers it made.
pub struct Case {
    pub name: String,
    /// `$TMPDIR/hull-tests/<case id>`: everything of this test lives below.
    pub dir: PathBuf,
    /// The runtime's `--root`.
    pub root: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
    cleanups: std::cell::RefCell<Vec<Box<dyn FnOnce()>>>,
    calls: AtomicUsize,
    finished: bool,
    /// A command every runtime invocation runs through (see [`Case::through`]).
    prefix: Vec<String>,
}

impl Case {
    pub fn new(name: &str) -> Case {
        let case_id = unique(name);
        let dir = std::env::temp_dir().join("hull-tests").join(&case_id);
        if dir.exists() {
            let _ = fs::remove_dir_all(&dir);
        }
        fs::create_dir_all(dir.join("out")).expect("creating the case directory");
        Case {
            name: name.to_string(),
            root: dir.join("state"),
            dir,
            ids: Default::default(),
            cleanups: Default::default(),
            calls: AtomicUsize::new(0),
            finished: false,
            prefix: Vec::new(),
        }
    }

    /// Runs every runtime invocation of this case through `prefix` (`nsenter
    /// --net=<path>`, say: the runtime then runs in that network namespace).
    pub fn through(mut self, prefix: &[&str]) -> Case {
        self.prefix = prefix.iter().map(|s| s.to_string()).collect();
        self
    }

    /// A fresh bundle with `value` at JSON pointer `pointer`: create must refuse it with
    /// one clear line mentioning one of `keywords`, and leave nothing.
    #[track_caller]
    pub fn assert_config_refused(
        &self,
        label: &str,
        pointer: &str,
        value: Value,
        keywords: &[&str],
    ) {
        let mut b = self.bundle(label);
        b.set(pointer, value);
        b.write();
        let out = self.run(&["create", "--bundle", b.dir_str(), &b.id]);
        out.assert_bad_input(keywords);
        self.assert_no_leaks();
    }

    /// Registers a container id this test will use (checked for leaks at the end).
    pub fn new_id(&self, label: &str) -> String {
        let id = unique(label);
        self.ids.borrow_mut().push(id.clone());
        id
    }

    /// A fresh bundle with a unique id, a busybox rootfs and the default config.
    pub fn bundle(&self, label: &str) -> Bundle {
        let id = self.new_id(label);
        let dir = self.dir.join(&id);
        let rootfs = dir.join("rootfs");
        build_rootfs(&rootfs);
        let mut config = default_config();
        config["linux"]["cgroupsPath"] = json!(format!("/hull-test/{id}"));
        Bundle {
            id,
            dir,
            rootfs,
            config,
        }
    }

    /// Runs a function when the case is finished (before the leak check) or dropped.
    pub fn defer(&self, f: impl FnOnce() + 'static) {
        self.cleanups.borrow_mut().push(Box::new(f));
    }

    fn output_files(&self) -> (PathBuf, PathBuf) {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let out = self.dir.join("out");
        (
            out.join(format!("{n}.stdout")),
            out.join(format!("{n}.stderr")),
        )
    }

    fn spawn_cmd(&self, cmd: Command, shown: String) -> Running {
        self.spawn_cmd_to(cmd, shown, None)
    }

    /// Starts `cmd` with its stdout to `stdout`, or to a file of the case.
    fn spawn_cmd_to(&self, mut cmd: Command, shown: String, stdout: Option<Stdio>) -> Running {
        let (stdout_path, stderr_path) = self.output_files();
        let stdout = stdout.unwrap_or_else(|| {
            Stdio::from(fs::File::create(&stdout_path).expect("creating stdout file"))
        });
        let stderr = fs::File::create(&stderr_path).expect("creating stderr file");
        cmd.stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::from(stderr));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
        Running {
            child,
            stdout_path,
            stderr_path,
            command: shown,
        }
    }

    fn runtime_command(&self, args: &[&str]) -> (Command, String) {
        let rt = runtime();
        let mut cmd = match self.prefix.split_first() {
            Some((program, prefix_args)) => {
                let mut cmd = Command::new(program);
                cmd.args(prefix_args).arg(&rt);
                cmd
            }
            None => Command::new(&rt),
        };
        cmd.arg("--root").arg(&self.root).args(args);
        let shown = format!(
            "{}{} --root {} {}",
            self.prefix
                .iter()
                .map(|p| format!("{p} "))
                .collect::<String>(),
            rt.display(),
            self.root.display(),
            args.join(" ")
        );
        (cmd, shown)
    }

    /// Starts `runtime --root <root> <args>` without waiting.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let (cmd, shown) = self.runtime_command(args);
        self.spawn_cmd(cmd, shown)
    }

    /// Runs `runtime --root <root> <args>` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.spawn(args).wait()
    }

    /// [`Case::run`] with `stdout` (a pipe, say) as the runtime's standard output, which
    /// a container it makes inherits; `Output::stdout` is then empty.
    pub fn run_with_stdout(&self, args: &[&str], stdout: Stdio) -> Output {
        let (cmd, shown) = self.runtime_command(args);
        self.spawn_cmd_to(cmd, shown, Some(stdout)).wait()
    }

    /// Runs the runtime with `file` open for reading as fd 3 (not close-on-exec), through the
    /// host's `/bin/sh` so that no unsafe `pre_exec` is needed.
    pub fn run_with_fd3(&self, file: &Path, args: &[&str]) -> Output {
        let (inner, shown) = self.runtime_command(args);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg("exec 3<\"$0\" && exec \"$@\"")
            .arg(file)
            .arg(inner.get_program())
            .args(inner.get_args());
        self.spawn_cmd(cmd, format!("3<{} {shown}", file.display()))
            .wait()
    }

    /// Writes the bundle's config and runs the container in the foreground (`run`).
    pub fn run_container(&self, b: &Bundle) -> Output {
        self.run_container_with(b, &[])
    }

    /// Like [`Case::run_container`] with extra flags for `run` (e.g. `--no-pivot`).
    pub fn run_container_with(&self, b: &Bundle, flags: &[&str]) -> Output {
        b.write();
        let bundle = b.dir.to_str().unwrap();
        let mut args = vec!["run", "--bundle", bundle];
        args.extend_from_slice(flags);
        args.push(&b.id);
        self.run(&args)
    }

    /// Writes the bundle's config and `create`s the container; panics on failure.
    #[track_caller]
    pub fn create(&self, b: &Bundle) -> Output {
        self.create_with(b, &[])
    }

    /// `create` with extra flags; panics on failure.
    #[track_caller]
    pub fn create_with(&self, b: &Bundle, flags: &[&str]) -> Output {
        b.write();
        let bundle = b.dir.to_str().unwrap();
        let mut args = vec!["create", "--bundle", bundle];
        args.extend_from_slice(flags);
        args.push(&b.id);
        let out = self.run(&args);
        out.ok();
        out
    }

    /// Creates and starts `b` running `args`; returns its init's pid once it runs.
    #[track_caller]
    pub fn running(&self, b: &mut Bundle, args: &[&str]) -> i64 {
        b.args(args);
        self.create(b);
        self.start(&b.id);
        self.wait_status(&b.id, "running")["pid"].as_i64().unwrap()
    }

    #[track_caller]
    pub fn start(&self, id: &str) {
        self.run(&["start", id]).ok();
    }

    #[track_caller]
    pub fn kill(&self, id: &str, signal: &str) {
        self.run(&["kill", id, signal]).ok();
    }

    #[track_caller]
    pub fn delete(&self, id: &str) {
        self.run(&["delete", id]).ok();
    }

    /// `state <id>` parsed; panics on failure.
    #[track_caller]
    pub fn state(&self, id: &str) -> Value {
        let out = self.run(&["state", id]);
        out.ok();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("state is not JSON ({e}):\n{out}"))
    }

    /// The `status` field of `state <id>`.
    #[track_caller]
    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap_or("").to_string()
    }

    /// Polls `state` until the container exists and reaches `status` (bounded: 10 s).
    #[track_caller]
    pub fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait_status_within(id, status, Duration::from_secs(10))
    }

    /// [`Case::wait_status`] with another bound (an emulated machine is slow).
    #[track_caller]
    pub fn wait_status_within(&self, id: &str, status: &str, bound: Duration) -> Value {
        let deadline = Instant::now() + bound;
        loop {
            let out = self.run(&["state", id]);
            let state: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
            if out.code == 0 && state["status"] == status {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "container {id} did not reach status {status:?}; last state:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Ids of the state root's entries (what the runtime still has state for).
    pub fn state_entries(&self) -> Vec<String> {
        match fs::read_dir(&self.root) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Ends the test: force-deletes every container of the case, then panics if anything
    /// leaked (state entries, cgroups, mounts, processes). Cleans up either way.
    #[track_caller]
    pub fn finish(mut self) {
        self.finished = true;
        self.force_delete_all();
        self.run_cleanups();
        let leaks = self.wait_for_no_leaks();
        self.scrub(&leaks);
        assert!(
            leaks.is_empty(),
            "test {} leaked:\n  {}",
            self.name,
            leaks.join("\n  ")
        );
    }

    /// Panics if anything of this case is left (state entries, cgroups, mounts, processes),
    /// waiting a bounded time for dying processes; for checking that a failed command left
    /// nothing behind, before `finish` force-deletes.
    #[track_caller]
    pub fn assert_no_leaks(&self) {
        let leaks = self.wait_for_no_leaks();
        assert!(leaks.is_empty(), "left behind:\n  {}", leaks.join("\n  "));
    }

    /// `delete --force` of every id of the case. Never panics (it also runs from `Drop`
    /// while a failed test unwinds): errors are expected, most containers are already gone.
    fn force_delete_all(&self) {
        let ids = self.ids.borrow().clone();
        for id in ids {
            let (mut cmd, _) = self.runtime_command(&["delete", "--force", &id]);
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let Ok(mut child) = cmd.spawn() else {
                continue;
            };
            let deadline = Instant::now() + COMMAND_TIMEOUT;
            while let Ok(None) = child.try_wait() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn run_cleanups(&self) {
        let cleanups: Vec<_> = self.cleanups.borrow_mut().drain(..).collect();
        for f in cleanups.into_iter().rev() {
            f();
        }
    }

    fn wait_for_no_leaks(&self) -> Vec<String> {
        let deadline = Instant::now() + LEAK_GRACE;
        loop {
            let leaks = self.leaks();
            if leaks.is_empty() || Instant::now() > deadline {
                return leaks;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything this case left behind, one description per leak.
    pub fn leaks(&self) -> Vec<String> {
        let mut leaks = Vec::new();
        for e in self.state_entries() {
            leaks.push(format!("state root entry {}", self.root.join(e).display()));
        }
        let ids = self.ids.borrow().clone();
        for id in &ids {
            for dir in cgroup_dirs(id) {
                if dir.exists() {
                    leaks.push(format!("cgroup {}", dir.display()));
                }
            }
        }
        for m in mounts_under(&self.dir) {
            leaks.push(format!("mount {m}"));
        }
        for (pid, why) in processes_of(&ids, &self.dir) {
            leaks.push(format!("process {pid} ({why})"));
        }
        leaks
    }

    /// Best-effort removal of whatever is left: processes, cgroups, mounts, files.
    fn scrub(&self, _leaks: &[String]) {
        let ids = self.ids.borrow().clone();
        for (pid, _) in processes_of(&ids, &self.dir) {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        for id in &ids {
            for dir in cgroup_dirs(id) {
                for _ in 0..50 {
                    if !dir.exists() || fs::remove_dir(&dir).is_ok() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        let mut mounts = mounts_under(&self.dir);
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").arg("-l").arg(&m).status();
        }
        // Never recurse into a directory that still has something mounted below it: a leaked
        // bind mount of a host directory would be emptied.
        if mounts_under(&self.dir).is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // The test failed (or forgot `finish`): clean up without asserting.
        self.force_delete_all();
        self.run_cleanups();
        let leaks = self.leaks();
        self.scrub(&leaks);
        if !std::thread::panicking() {
            eprintln!(
                "warning: test {} did not call Case::finish; leaks: {leaks:?}",
                self.name
            );
        }
    }
}

/// Every cgroup directory a container with cgroupsPath `/hull-test/<id>` may have: one per
/// v1 hierarchy and the unified (v2) one.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(rd) = fs::read_dir("/sys/fs/cgroup") {
        for e in rd.filter_map(|e| e.ok()) {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                dirs.push(e.path().join("hull-test").join(id));
            }
        }
    }
    // Pure v2 host: /sys/fs/cgroup is the unified hierarchy itself.
    dirs.push(PathBuf::from("/sys/fs/cgroup/hull-test").join(id));
    dirs
}

/// True when a cgroup v2 hierarchy is mounted (pure v2 at /sys/fs/cgroup, or hybrid at
/// /sys/fs/cgroup/unified).
pub fn cgroup_v2_mounted() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        || Path::new("/sys/fs/cgroup/unified/cgroup.controllers").exists()
}

/// True when the host has cgroup v1 hierarchies (pure v1 or hybrid, like this host).
pub fn cgroup_v1_present() -> bool {
    !Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// The cgroup v1 hierarchies mounted in the test's mount namespace, each as the set of its
/// controllers (`{"cpu"}`, `{"name=systemd"}`), as /proc/<pid>/cgroup names them. A runtime
/// can only place a container in the hierarchies it finds mounted; a hierarchy mounted
/// elsewhere (another mount namespace) shows in /proc/<pid>/cgroup at its root.
pub fn mounted_v1_hierarchies() -> Vec<std::collections::BTreeSet<String>> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    parse_mountinfo(&info)
        .into_iter()
        .filter(|m| m.fstype == "cgroup")
        .map(|m| {
            m.super_options
                .into_iter()
                .filter(|o| o != "rw" && o != "ro" && (!o.contains('=') || o.starts_with("name=")))
                .filter(|o| !["clone_children", "noprefix", "xattr"].contains(&o.as_str()))
                .collect()
        })
        .collect()
}

/// Whether a /proc/<pid>/cgroup line (`4:memory:/path`) is for a v1 hierarchy mounted here, or
/// for the v2 hierarchy when one is mounted.
pub fn cgroup_line_is_mounted(line: &str) -> bool {
    let mut parts = line.splitn(3, ':');
    let _id = parts.next();
    let controllers = parts.next().unwrap_or("");
    if controllers.is_empty() {
        return cgroup_v2_mounted();
    }
    let set: std::collections::BTreeSet<String> =
        controllers.split(',').map(str::to_string).collect();
    mounted_v1_hierarchies().contains(&set)
}

/// Mount points in the test process's mount table at or below `dir`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().into_owned();
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    parse_mountinfo(&info)
        .into_iter()
        .filter(|m| m.mount_point == prefix || m.mount_point.starts_with(&format!("{prefix}/")))
        .map(|m| m.mount_point)
        .collect()
}

/// Live (non-zombie) processes that belong to one of `ids`: in its cgroup, or with the id or
/// a path under `dir` on their command line.
///
/// Zombies are skipped: this machine's pid 1 reaps orphans lazily, and a zombie holds nothing.
pub fn processes_of(ids: &[String], dir: &Path) -> Vec<(u32, String)> {
    let me = std::process::id();
    let dir = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return found;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let p = e.path();
        let stat = fs::read_to_string(p.join("stat")).unwrap_or_default();
        let state = stat.rsplit_once(") ").map(|(_, r)| r.chars().next());
        if matches!(state, Some(Some('Z')) | Some(Some('X')) | None) {
            continue;
        }
        let cgroup = fs::read_to_string(p.join("cgroup")).unwrap_or_default();
        let cmdline = fs::read(p.join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        for id in ids {
            let in_cgroup = cgroup.lines().any(|l| {
                let path = l.splitn(3, ':').nth(2).unwrap_or("");
                path.ends_with(&format!("/hull-test/{id}"))
                    || path.contains(&format!("/hull-test/{id}/"))
            });
            if in_cgroup {
                found.push((pid, format!("in cgroup of {id}: {}", args.join(" "))));
            } else if args.iter().any(|a| a == id || a.starts_with(&dir)) {
                found.push((pid, format!("cmdline names {id}: {}", args.join(" "))));
            } else {
                continue;
            }
            break;
        }
    }
    found
}

/// One line of /proc/<pid>/mountinfo.
#[derive(Debug, Clone)]
pub struct MountInfo {
    pub root: String,
    pub mount_point: String,
    /// Per-mount options (`rw,nosuid,...`).
    pub options: Vec<String>,
    /// Optional fields (`shared:N`, `master:N`, ...).
    pub optional: Vec<String>,
    pub fstype: String,
    pub source: String,
    /// Superblock options.
    pub super_options: Vec<String>,
}

impl MountInfo {
    pub fn has_option(&self, o: &str) -> bool {
        self.options.iter().any(|x| x == o)
    }
    pub fn has_super_option(&self, o: &str) -> bool {
        self.super_options.iter().any(|x| x == o)
    }
}

/// Parses mountinfo text (octal escapes such as `\040` are decoded).
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    fn unescape(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && i + 4 <= b.len() {
                let digits = std::str::from_utf8(&b[i + 1..i + 4]).ok();
                if let Some(v) = digits.and_then(|d| u8::from_str_radix(d, 8).ok()) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            if l.len() < 6 || r.len() < 3 {
                return None;
            }
            Some(MountInfo {
                root: unescape(l[3]),
                mount_point: unescape(l[4]),
                options: split(l[5]),
                optional: l[6..].iter().map(|s| s.to_string()).collect(),
                fstype: r[0].to_string(),
                source: unescape(r[1]),
                super_options: split(r[2]),
            })
        })
        .collect()
}

/// The last mount at `point` in a parsed mount table (the one that is visible).
#[track_caller]
pub fn mount_at<'a>(mounts: &'a [MountInfo], point: &str) -> &'a MountInfo {
    mounts
        .iter()
        .rev()
        .find(|m| m.mount_point == point)
        .unwrap_or_else(|| panic!("no mount at {point} in {mounts:#?}"))
}

/// A bundle: a directory with `config.json` and `rootfs/`.
pub struct Bundle {
    pub id: String,
    pub dir: PathBuf,
    pub rootfs: PathBuf,
    /// The config, written by [`Bundle::write`] (and by every `Case` helper that uses it).
    pub config: Value,
}

impl Bundle {
    pub fn write(&self) {
        let text = serde_json::to_string_pretty(&self.config).unwrap();
        fs::write(self.dir.join("config.json"), text).expect("writing config.json");
    }

    pub fn dir_str(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// Sets any value by JSON pointer (`/linux/sysctl/net.ipv4.ip_forward`), creating objects
    /// on the way.
    pub fn set(&mut self, pointer: &str, value: Value) -> &mut Self {
        let mut cur = &mut self.config;
        let parts: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|p| p.replace("~1", "/").replace("~0", "~"))
            .collect();
        for (i, part) in parts.iter().enumerate() {
            if !cur.is_object() {
                *cur = json!({});
            }
            let obj = cur.as_object_mut().unwrap();
            if i + 1 == parts.len() {
                obj.insert(part.clone(), value);
                return self;
            }
            cur = obj.entry(part.clone()).or_insert_with(|| json!({}));
        }
        self.config = value;
        self
    }

    /// Removes a value by JSON pointer (no-op if absent).
    pub fn unset(&mut self, pointer: &str) -> &mut Self {
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            let parent = if parent.is_empty() {
                Some(&mut self.config)
            } else {
                self.config.pointer_mut(parent)
            };
            if let Some(Value::Object(o)) = parent {
                o.remove(key);
            }
        }
        self
    }

    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.set("/process/args", json!(args))
    }

    /// `sh -c <script>`.
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.args(&["sh", "-c", script])
    }

    pub fn env(&mut self, env: &[&str]) -> &mut Self {
        self.set("/process/env", json!(env))
    }

    pub fn user(&mut self, uid: u32, gid: u32) -> &mut Self {
        self.set("/process/user/uid", json!(uid));
        self.set("/process/user/gid", json!(gid))
    }

    pub fn additional_gids(&mut self, gids: &[u32]) -> &mut Self {
        self.set("/process/user/additionalGids", json!(gids))
    }

    pub fn umask(&mut self, umask: u32) -> &mut Self {
        self.set("/process/user/umask", json!(umask))
    }

    pub fn cwd(&mut self, cwd: &str) -> &mut Self {
        self.set("/process/cwd", json!(cwd))
    }

    /// Sets one capability set (`bounding`, `effective`, `permitted`, `inheritable`, `ambient`).
    pub fn caps(&mut self, set: &str, caps: &[&str]) -> &mut Self {
        self.set(&format!("/process/capabilities/{set}"), json!(caps))
    }

    pub fn no_new_privileges(&mut self, on: bool) -> &mut Self {
        self.set("/process/noNewPrivileges", json!(on))
    }

    /// Adds (or replaces) one rlimit, e.g. `RLIMIT_NOFILE`.
    pub fn rlimit(&mut self, kind: &str, soft: u64, hard: u64) -> &mut Self {
        let list = self.config["process"]["rlimits"].take();
        let mut list: Vec<Value> = list.as_array().cloned().unwrap_or_default();
        list.retain(|r| r["type"] != kind);
        list.push(json!({"type": kind, "soft": soft, "hard": hard}));
        self.set("/process/rlimits", json!(list))
    }

    pub fn oom_score_adj(&mut self, v: i32) -> &mut Self {
        self.set("/process/oomScoreAdj", json!(v))
    }

    pub fn hostname(&mut self, h: &str) -> &mut Self {
        self.set("/hostname", json!(h))
    }

    pub fn domainname(&mut self, d: &str) -> &mut Self {
        self.set("/domainname", json!(d))
    }

    pub fn readonly_root(&mut self, ro: bool) -> &mut Self {
        self.set("/root/readonly", json!(ro))
    }

    fn namespaces(&mut self) -> &mut Vec<Value> {
        if !self.config["linux"]["namespaces"].is_array() {
            self.config["linux"]["namespaces"] = json!([]);
        }
        self.config["linux"]["namespaces"].as_array_mut().unwrap()
    }

    /// Adds a new namespace of `kind` (replacing an entry of the same kind).
    pub fn add_namespace(&mut self, kind: &str) -> &mut Self {
        let ns = self.namespaces();
        ns.retain(|n| n["type"] != kind);
        ns.push(json!({"type": kind}));
        self
    }

    /// Joins the namespace at `path` for `kind`.
    pub fn namespace_path(&mut self, kind: &str, path: &str) -> &mut Self {
        let ns = self.namespaces();
        ns.retain(|n| n["type"] != kind);
        ns.push(json!({"type": kind, "path": path}));
        self
    }

    /// A createRuntime hook that fails (exit 3): the create fails after the runtime
    /// made what comes before hooks (cgroups, moved devices, veth pairs), which must
    /// then all go.
    pub fn failing_create_runtime_hook(&mut self) -> &mut Self {
        self.set(
            "/hooks/createRuntime",
            json!([{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]),
        )
    }

    pub fn remove_namespace(&mut self, kind: &str) -> &mut Self {
        self.namespaces().retain(|n| n["type"] != kind);
        self
    }

    pub fn add_mount(&mut self, m: Value) -> &mut Self {
        self.config["mounts"].as_array_mut().unwrap().push(m);
        self
    }

    /// Removes the mounts whose destination is `dest`.
    pub fn remove_mount(&mut self, dest: &str) -> &mut Self {
        self.config["mounts"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["destination"] != dest);
        self
    }

    pub fn masked_paths(&mut self, paths: &[&str]) -> &mut Self {
        self.set("/linux/maskedPaths", json!(paths))
    }

    pub fn readonly_paths(&mut self, paths: &[&str]) -> &mut Self {
        self.set("/linux/readonlyPaths", json!(paths))
    }

    pub fn sysctl(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.config["linux"]["sysctl"].is_object() {
            self.config["linux"]["sysctl"] = json!({});
        }
        self.config["linux"]["sysctl"][key] = json!(value);
        self
    }

    /// A user namespace with one uid and one gid mapping.
    pub fn user_namespace(&mut self, container: u32, host: u32, size: u32) -> &mut Self {
        self.add_namespace("user");
        let m = json!([{"containerID": container, "hostID": host, "size": size}]);
        self.set("/linux/uidMappings", m.clone());
        self.set("/linux/gidMappings", m)
    }

    /// A time namespace with these monotonic and boottime offsets (seconds).
    pub fn time_offsets(&mut self, monotonic: i64, boottime: i64) -> &mut Self {
        self.add_namespace("time");
        self.set(
            "/linux/timeOffsets",
            json!({
                "monotonic": {"secs": monotonic, "nanosecs": 0},
                "boottime": {"secs": boottime, "nanosecs": 0}
            }),
        )
    }

    /// Adds a linux.devices entry (and allows it in the device cgroup).
    pub fn device(&mut self, path: &str, kind: &str, major: i64, minor: i64) -> &mut Self {
        let dev = json!({"path": path, "type": kind, "major": major, "minor": minor,
                         "fileMode": 0o666, "uid": 0, "gid": 0});
        match self.config["linux"]["devices"].as_array_mut() {
            Some(list) => list.push(dev),
            None => self.config["linux"]["devices"] = json!([dev]),
        }
        let rule = json!({"allow": true, "type": kind, "major": major, "minor": minor,
                          "access": "rwm"});
        self.config["linux"]["resources"]["devices"]
            .as_array_mut()
            .unwrap()
            .push(rule);
        self
    }

    pub fn rootfs_propagation(&mut self, p: &str) -> &mut Self {
        self.set("/linux/rootfsPropagation", json!(p))
    }

    /// Creates a file in the rootfs (parents included).
    pub fn file(&self, path: &str, contents: &str) -> &Self {
        let p = self.rootfs.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, contents).unwrap();
        self
    }

    /// Creates a directory in the rootfs (parents included).
    pub fn mkdir(&self, path: &str) -> &Self {
        fs::create_dir_all(self.rootfs.join(path.trim_start_matches('/'))).unwrap();
        self
    }
}

/// The default config: `runc spec` (runc 1.1.5) with `terminal: false`, `args: ["true"]` and
/// no ambient capabilities (`runc spec` lists ambient capabilities that the kernel refuses to
/// raise because they are not inheritable; runc ignores that failure silently).
pub fn default_config() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["true"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": caps.clone(),
                "effective": caps.clone(),
                "permitted": caps
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "hull",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

fn applets() -> &'static [String] {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS.get_or_init(|| {
        let out = Command::new(BUSYBOX)
            .arg("--list")
            .output()
            .expect("running busybox --list (is busybox-static installed?)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
            .map(str::to_string)
            .collect()
    })
}

/// `/etc/passwd` of every rootfs.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                          user:x:1000:1000:user:/home/user:/bin/sh\n\
                          nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
/// `/etc/group` of every rootfs: `user` is also a member of `users` (100).
pub const GROUP: &str = "root:x:0:\nwheel:x:10:\nusers:x:100:user\nuser:x:1000:\n\
                         nogroup:x:65534:\n";

/// A minimal rootfs: busybox and its applets in /bin, /etc/passwd and /etc/group, and the
/// usual empty directories.
pub fn build_rootfs(rootfs: &Path) {
    for d in [
        "bin",
        "etc",
        "proc",
        "sys",
        "dev",
        "tmp",
        "root",
        "home/user",
        "mnt",
        "run",
        "var",
    ] {
        fs::create_dir_all(rootfs.join(d)).expect("creating rootfs directories");
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::copy(BUSYBOX, rootfs.join("bin/busybox")).expect("copying busybox");
    for a in applets() {
        let link = rootfs.join("bin").join(a);
        if !link.exists() {
            symlink("busybox", link).expect("creating applet symlink");
        }
    }
    let mut f = fs::File::create(rootfs.join("etc/passwd")).unwrap();
    f.write_all(PASSWD.as_bytes()).unwrap();
    fs::write(rootfs.join("etc/group"), GROUP).unwrap();
}

/// Capability names in bit order (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40), from
/// linux/capability.h. Deliberately not hull's own table: the tests check hull's name to bit
/// translation against this independent copy.
pub const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The bitmask of a set of capability names, as /proc/<pid>/status shows it.
pub fn cap_mask(names: &[&str]) -> u64 {
    names.iter().fold(0, |m, n| {
        let bit = CAPS
            .iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("unknown capability {n}"));
        m | (1u64 << bit)
    })
}

/// The host's namespace link for `kind` (`net:[4026531840]`), as seen by the test process.
pub fn host_ns(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap_or_else(|e| panic!("reading /proc/self/ns/{kind}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// Accepts one connection on `listener` and receives the message the runtime sends on
/// it, with the descriptor attached (a pty master, a pidfd, a seccomp listener).
pub fn accept_fd(listener: &std::os::unix::net::UnixListener) -> (Vec<u8>, std::os::fd::OwnedFd) {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (conn, _) = listener.accept().unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    let len = msg.bytes;
    let fd = msg
        .cmsgs()
        .unwrap()
        .find_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
        .expect("no descriptor came with the message");
    // SAFETY: received just now, owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    buf.truncate(len);
    (buf, fd)
}

static NETNS: AtomicUsize = AtomicUsize::new(0);

/// A network namespace of the test's own (`ip netns add`), deleted when dropped, with
/// every device in it. Tests that make devices, bridges or addresses make them here,
/// never in the host's namespace, and run the runtime in it ([`Netns::case`]).
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A new namespace `hull-<tag><pid>-<n>`.
    pub fn new(tag: &str) -> Netns {
        let n = NETNS.fetch_add(1, Ordering::SeqCst);
        let name = format!("hull-{tag}{}-{n}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status();
        assert!(ok.is_ok_and(|s| s.success()), "ip netns add {name} failed");
        Netns { name }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `nsenter --net=<path>`: what the runtime runs through to be in this namespace.
    pub fn enter(&self) -> [String; 2] {
        ["nsenter".to_string(), format!("--net={}", self.path())]
    }

    /// A case whose runtime runs in this namespace.
    pub fn case(&self, name: &str) -> Case {
        let [program, arg] = self.enter();
        Case::new(name).through(&[&program, &arg])
    }

    /// `ip -n <ns> <args>`, which must succeed; its stdout.
    #[track_caller]
    pub fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.name])
            .args(args)
            .output()
            .expect("running ip");
        assert!(
            out.status.success(),
            "ip -n {} {}: {}",
            self.name,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether device `dev` is in this namespace.
    pub fn has(&self, dev: &str) -> bool {
        Command::new("ip")
            .args(["-n", &self.name, "link", "show", "dev", dev])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// The names of the devices in this namespace (`lo` included).
    #[track_caller]
    pub fn links(&self) -> std::collections::BTreeSet<String> {
        self.ip(&["-o", "link", "show"])
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect()
    }

    /// Waits (bounded: 10 s) until `dev` is no longer here: a network namespace is torn
    /// down by the kernel after its last process has gone, and its veth pairs with it.
    #[track_caller]
    pub fn wait_gone(&self, dev: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.has(dev) {
            assert!(Instant::now() < deadline, "{dev} is still in {}", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Polls `ready` every 20 ms until it holds; panics naming `what` after 10 s.
#[track_caller]
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads the terminal until `needle` appears (bounded).
pub fn read_until(master: &mut fs::File, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle:?} never came; the terminal showed:\n{seen}"
        );
        let mut fds = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(master),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16)).unwrap_or(0) > 0 {
            let n = std::io::Read::read(master, &mut buf).unwrap_or(0);
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
    seen
}
