//! Harness for driving real container engines (containerd with its CRI plugin, `ctr`,
//! podman, Docker) with hull as their runtime, each engine private to the test:
//!
//! - [`Scratch`]: the test's own directory (roots, state, sockets, logs all below it),
//!   removed at the end after anything mounted there is detached;
//! - [`Netns`]: a network namespace the test made, where the engine and its
//!   networks live (never the host's), entered with `nsenter --net` only (no mount
//!   namespace games: the engine must see the host's cgroup mounts);
//! - [`Wrapper`]: a logging wrapper around the hull binary, so a failure shows every
//!   command line the engine sent;
//! - [`Daemon`]: a background engine process, stopped on drop;
//! - [`images`]: images made offline from the host's busybox-static, as a docker
//!   archive every engine can load.
//!
//! Needs root, the engines from Debian's packages (scripts/test.sh installs them),
//! and hull built (`cargo test --workspace` builds it before running these).

pub mod containerd;
pub mod images;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The runtime under test: `$HULL_TEST_RUNTIME` (to compare with runc, say), else the
/// hull binary of this build (next to the test binary's `deps/` directory).
pub fn hull() -> PathBuf {
    if let Some(runtime) = std::env::var_os("HULL_TEST_RUNTIME").filter(|r| !r.is_empty()) {
        return PathBuf::from(runtime);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the target directory");
    let hull = dir.join("hull");
    assert!(
        hull.exists(),
        "{} is missing: build it first (cargo build -p hull-cli)",
        hull.display()
    );
    hull
}

/// A unique name for this test process and `label`.
pub fn unique(label: &str) -> String {
    format!("{label}{}", std::process::id())
}

/// The test's own directory, below `$TMPDIR/hull-engine-tests/`. On drop, whatever is
/// still mounted below it is detached (deepest first), then it is removed.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        let dir = std::env::temp_dir()
            .join("hull-engine-tests")
            .join(unique(label));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("making the test directory");
        Scratch { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `contents` to `name` below the directory and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, contents).unwrap();
        path
    }

    /// Mount points at or below the directory, deepest first.
    pub fn mounts(&self) -> Vec<String> {
        let prefix = self.dir.to_string_lossy().into_owned();
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut found: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|m| m.replace("\\040", " "))
            .filter(|m| m == &prefix || m.starts_with(&format!("{prefix}/")))
            .collect();
        found.sort_by_key(|m| std::cmp::Reverse(m.len()));
        found
    }

    /// Live processes whose command line names the directory (engines, shims and
    /// their containers' runtimes).
    pub fn processes(&self) -> Vec<(u32, String)> {
        let dir = self.dir.to_string_lossy().into_owned();
        processes_matching(|cmdline| cmdline.contains(&dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for (pid, _) in self.processes() {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        for m in self.mounts() {
            let _ = Command::new("umount").arg("-l").arg(&m).status();
        }
        // Never recurse into a directory that still has something mounted below it.
        if self.mounts().is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Live (non-zombie) processes whose NUL-separated command line, joined with spaces,
/// satisfies `wanted`.
pub fn processes_matching(wanted: impl Fn(&str) -> bool) -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if matches!(
            stat.rsplit_once(") ").map(|(_, r)| r.chars().next()),
            Some(Some('Z')) | None
        ) {
            continue;
        }
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if wanted(&cmdline) {
            found.push((pid, cmdline));
        }
    }
    found
}

/// A network namespace made by the test (`ip netns add`), with `lo` up; deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(label: &str) -> Netns {
        let name = unique(label);
        if Path::new("/run/netns").join(&name).exists() {
            let _ = Command::new("ip").args(["netns", "delete", &name]).status();
        }
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        run_ok(Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]));
        Netns { name }
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// `program` to run inside this network namespace (and only it).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", self.path().display()))
            .arg("--")
            .arg(program);
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

/// An unprivileged user made for the test (`useradd`, with the subordinate id ranges it
/// gives), with a `$XDG_RUNTIME_DIR` of their own below the test's directory; on drop
/// every process of theirs is killed (podman keeps a pause process) and the user is
/// removed with their home.
pub struct User {
    pub name: String,
    pub runtime_dir: PathBuf,
}

impl User {
    pub fn new(scratch: &Scratch, label: &str) -> User {
        let name = format!("hull{label}{}", std::process::id() % 100_000);
        let _ = Command::new("userdel").args(["-r", &name]).output();
        run_ok(Command::new("useradd").args(["-m", "-s", "/bin/sh", &name]));
        let runtime_dir = scratch.path(&format!("xdg-{name}"));
        fs::create_dir_all(&runtime_dir).unwrap();
        run_ok(
            Command::new("chown")
                .arg(format!("{name}:"))
                .arg(&runtime_dir),
        );
        fs::set_permissions(&runtime_dir, fs::Permissions::from_mode(0o700)).unwrap();
        User { name, runtime_dir }
    }

    /// `program` run as this user, in `netns`, with the user's runtime directory.
    pub fn command(&self, netns: &Netns, program: &str) -> Command {
        let mut cmd = netns.command("runuser");
        cmd.args(["-u", &self.name, "--", "env"])
            .arg(format!("XDG_RUNTIME_DIR={}", self.runtime_dir.display()))
            .arg(format!("HOME=/home/{}", self.name))
            .arg(program);
        cmd
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-9", "-u", &self.name])
            .status();
        std::thread::sleep(Duration::from_millis(200));
        let _ = Command::new("userdel").args(["-r", &self.name]).output();
    }
}

/// What an engine test starts from, all named after its label: a cgroup parent, the
/// test's directory, a network namespace and the logged hull wrapper. Fields drop in
/// order: the wrapper prints its log, then the namespace, the directory and the cgroups
/// go.
pub struct Setup {
    pub wrapper: Wrapper,
    pub netns: Netns,
    pub scratch: Scratch,
    pub parent: CgroupParent,
}

impl Setup {
    pub fn new(label: &str) -> Setup {
        let parent = CgroupParent::new(label);
        let scratch = Scratch::new(label);
        let netns = Netns::new(&format!("hull{label}"));
        let wrapper = Wrapper::new(&scratch);
        Setup {
            wrapper,
            netns,
            scratch,
            parent,
        }
    }
}

/// A wrapper script in front of hull that logs each command line an engine sends.
pub struct Wrapper {
    pub path: PathBuf,
    pub log: PathBuf,
}

impl Wrapper {
    pub fn new(scratch: &Scratch) -> Wrapper {
        let path = scratch.path("hull-logged");
        let log = scratch.path("runtime-calls.log");
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            hull().display()
        );
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        // Engines run by an unprivileged user log through it too.
        fs::write(&log, "").unwrap();
        fs::set_permissions(&log, fs::Permissions::from_mode(0o666)).unwrap();
        Wrapper { path, log }
    }

    /// Every command line the engine sent so far.
    pub fn calls(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Wrapper {
    fn drop(&mut self) {
        // In the test's output (shown on failure, or with --nocapture).
        println!(
            "--- hull was called as ({}):\n{}",
            self.log.display(),
            self.calls()
        );
    }
}

/// A background engine process; on drop it gets SIGTERM, then SIGKILL after a while.
pub struct Daemon {
    child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `cmd` with its output in `<scratch>/<name>.log`, and waits (bounded) until
    /// `socket` exists.
    pub fn start(scratch: &Scratch, name: &str, mut cmd: Command, socket: &Path) -> Daemon {
        let log = scratch.path(&format!("{name}.log"));
        let out = fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let mut daemon = Daemon {
            child,
            name: name.to_string(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !socket.exists() {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("{name} exited ({status}):\n{}", daemon.output());
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not come up:\n{}",
                daemon.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }

    pub fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The engine's pid (nsenter execs it in place).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.child.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if std::thread::panicking() {
            println!("--- {} log:\n{}", self.name, self.output());
        }
    }
}

/// Runs `cmd` to completion and returns its output; panics if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// Runs `cmd` and panics, with its output, unless it succeeds; returns its stdout.
#[track_caller]
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a finished command did: its exit code and its output (stdout, then stderr).
pub struct Ran {
    pub code: i32,
    pub out: String,
    command: String,
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit code {}\n{}",
            self.command, self.code, self.out
        )
    }
}

/// Runs `cmd` to completion and says what it did.
pub fn run_code(cmd: &mut Command) -> Ran {
    let out = run(cmd);
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        command: format!("{cmd:?}"),
    }
}

/// Runs `command` (a shell command line) with a pseudo-terminal as its stdin, stdout
/// and stderr (through `script`), as a user at a terminal would: for `run -it`.
///
/// The terminal's input stays open until the command ends, as a user's does: at the end
/// of its input `script` types end-of-file into the terminal, and podman's attach then
/// may drop a short-lived container's output (with runc as with hull: 5 in 30 runs).
pub fn in_terminal(command: &str) -> Output {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let input = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    drop(input);
    out
}

/// Waits (bounded) until `check` holds, polling.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The cgroup directories named `path` (relative to each hierarchy's root) that exist.
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let path = path.trim_start_matches('/');
    let mut dirs = Vec::new();
    for entry in fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path().join(path);
        if dir.is_dir() {
            dirs.push(dir);
        }
    }
    let v2 = Path::new("/sys/fs/cgroup").join(path);
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() && v2.is_dir() {
        dirs.push(v2);
    }
    dirs
}

/// A container's cgroup file on the host: `file` of the v1 `controller` hierarchy (or
/// of the v2 one) below `cgroup` (the path engines give, from a hierarchy's root).
pub fn cgroup_file(controller: &str, cgroup: &str, file: &str) -> Option<String> {
    let cgroup = cgroup.trim_start_matches('/');
    [
        Path::new("/sys/fs/cgroup").join(controller).join(cgroup),
        Path::new("/sys/fs/cgroup").join(cgroup),
    ]
    .iter()
    .find_map(|dir| fs::read_to_string(dir.join(file)).ok())
    .map(|s| s.trim().to_string())
}

/// The cgroup of process `pid` in the v1 `controller` hierarchy (or the v2 one), as
/// `/proc/<pid>/cgroup` gives it (from the hierarchy's root).
pub fn cgroup_of(pid: u32, controller: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let line = |wanted: &dyn Fn(&str) -> bool| {
        text.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next(), parts.next()?, parts.next()?);
            wanted(controllers).then(|| path.to_string())
        })
    };
    line(&|c| c.split(',').any(|c| c == controller)).or_else(|| line(&|c| c.is_empty()))
}

/// A cgroup subtree that belongs to the test (the parent it gives an engine's
/// containers). On drop, whatever still runs in it is killed and its directories are
/// removed, so a failed test leaves no container behind.
pub struct CgroupParent {
    pub path: String,
}

impl CgroupParent {
    pub fn new(label: &str) -> CgroupParent {
        CgroupParent {
            path: format!("/hull-engine-tests/{}", unique(label)),
        }
    }

    /// The live processes in the subtree.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = cgroup_dirs(&self.path)
            .iter()
            .flat_map(|d| walk_dirs(d))
            .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| l.parse().ok())
                    .collect::<Vec<u32>>()
            })
            .filter(|&pid| pid > 0)
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Asserts that no process is left in the subtree, then removes it and asserts that
    /// every directory went.
    #[track_caller]
    pub fn assert_nothing_left(&self) {
        assert_eq!(
            self.pids(),
            Vec::<u32>::new(),
            "processes left in the cgroups"
        );
        assert_eq!(self.remove(), Vec::<PathBuf>::new(), "cgroups left");
    }

    /// Removes the subtree's (empty) directories, deepest first; returns those that
    /// could not go (a leak).
    pub fn remove(&self) -> Vec<PathBuf> {
        let mut left = Vec::new();
        let mut dirs: Vec<PathBuf> = cgroup_dirs(&self.path)
            .iter()
            .flat_map(|d| walk_dirs(d))
            .collect();
        dirs.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
        for d in dirs {
            if fs::remove_dir(&d).is_err() {
                left.push(d);
            }
        }
        // The shared top, once nobody uses it.
        for top in cgroup_dirs("/hull-engine-tests") {
            let _ = fs::remove_dir(top);
        }
        left
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        for _ in 0..50 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.remove();
    }
}

fn walk_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            all.extend(walk_dirs(&entry.path()));
        }
    }
    all
}

/// Network namespaces containerd's CNI made (`/run/netns/cni-*`) since this was made:
/// deleted on drop, for a test that failed before its pods were removed.
pub struct NewCniNetns {
    before: Vec<String>,
}

impl NewCniNetns {
    pub fn watch() -> NewCniNetns {
        NewCniNetns {
            before: Self::list(),
        }
    }

    fn list() -> Vec<String> {
        fs::read_dir("/run/netns")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("cni-"))
            .collect()
    }

    /// The ones made since [`NewCniNetns::watch`].
    pub fn new_ones(&self) -> Vec<String> {
        Self::list()
            .into_iter()
            .filter(|n| !self.before.contains(n))
            .collect()
    }
}

impl Drop for NewCniNetns {
    fn drop(&mut self) {
        for name in self.new_ones() {
            let _ = Command::new("ip").args(["netns", "delete", &name]).status();
        }
    }
}
