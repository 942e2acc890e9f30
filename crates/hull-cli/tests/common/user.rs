//! Unprivileged users for the rootless tests: made with `useradd`, removed on drop,
//! and the runtime run as them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{runtime, Bundle, Case, Output};

/// A user made for the test (`useradd`), removed with its home on drop.
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// `$XDG_RUNTIME_DIR` of the user: inside the test's directory, theirs alone.
    pub runtime_dir: PathBuf,
}

impl User {
    /// A new user; with `subordinate_ids`, the ranges useradd gives in /etc/subuid and
    /// /etc/subgid, else none.
    pub fn new(case: &Case, label: &str, subordinate_ids: bool) -> User {
        let name = format!("hull{label}{}", std::process::id() % 100_000);
        let _ = Command::new("userdel").args(["-r", &name]).output();
        let mut useradd = Command::new("useradd");
        useradd.args(["-m", "-s", "/bin/sh"]);
        if !subordinate_ids {
            useradd.args(["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"]);
        }
        let out = useradd.arg(&name).output().unwrap();
        assert!(out.status.success(), "useradd: {out:?}");
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8(out.stdout)
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        let runtime_dir = case.dir.join(format!("xdg-{name}"));
        fs::create_dir_all(&runtime_dir).unwrap();
        let chown = Command::new("chown")
            .arg(format!("{name}:"))
            .arg(&runtime_dir)
            .status()
            .unwrap();
        assert!(chown.success());
        fs::set_permissions(
            &runtime_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        User {
            name,
            uid,
            gid,
            runtime_dir,
        }
    }

    /// The runtime as this user, with the user's environment. Output goes to files
    /// (a detached container keeps a pipe open until it ends).
    pub fn hull(&self, args: &[&str]) -> Output {
        self.hull_from(None, args)
    }

    /// [`User::hull`], started from the cgroup whose `cgroup.procs` is `cgroup` (a
    /// session in a cgroup delegated to the user), if given.
    pub fn hull_from(&self, cgroup: Option<&Path>, args: &[&str]) -> Output {
        let out = self.runtime_dir.with_extension("out");
        let err = self.runtime_dir.with_extension("err");
        let enter = match cgroup {
            Some(procs) => format!("echo $$ > {} && ", procs.display()),
            None => String::new(),
        };
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("{enter}exec \"$@\""))
            .arg("sh")
            .args(["runuser", "-u", &self.name, "--", "env"])
            .arg(format!("XDG_RUNTIME_DIR={}", self.runtime_dir.display()))
            .arg(runtime())
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        Output {
            code: status.code().unwrap_or(-1),
            stdout: fs::read_to_string(&out).unwrap_or_default(),
            stderr: fs::read_to_string(&err).unwrap_or_default(),
            stdout_path: out,
            command: format!("(as {}) hull {}", self.name, args.join(" ")),
        }
    }

    /// The user's state root, where runc's rule puts it.
    pub fn state_root(&self) -> PathBuf {
        self.runtime_dir.join("hull")
    }

    /// Panics if the user's state root holds anything (a refused command leaves nothing).
    #[track_caller]
    pub fn assert_no_state(&self) {
        let left = self.state_entries();
        assert!(
            left.is_empty(),
            "left in {}: {left:?}",
            self.state_root().display()
        );
    }

    pub fn state_entries(&self) -> Vec<String> {
        fs::read_dir(self.state_root())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The user's `/etc/subuid` range: (start, count).
    pub fn subordinate_uids(&self) -> (u32, u32) {
        let text = fs::read_to_string("/etc/subuid").unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{}:", self.name)))
            .expect("a range in /etc/subuid");
        let mut fields = line.split(':').skip(1).map(|f| f.parse().unwrap());
        (fields.next().unwrap(), fields.next().unwrap())
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-9", "-u", &self.name])
            .status();
        let _ = Command::new("userdel").args(["-r", &self.name]).output();
    }
}

/// A bundle as the user makes it: `hull spec --rootless` in a directory of theirs, with
/// the test's busybox rootfs.
pub fn rootless_bundle(case: &Case, user: &User, label: &str, args: &[&str]) -> Bundle {
    let mut b = case.bundle(label);
    fs::remove_file(b.dir.join("config.json")).ok();
    let chown = Command::new("chown")
        .arg(format!("{}:", user.name))
        .arg(&b.dir)
        .status()
        .unwrap();
    assert!(chown.success());
    user.hull(&["spec", "--rootless", "--bundle", b.dir_str()])
        .ok();
    b.config =
        serde_json::from_str(&fs::read_to_string(b.dir.join("config.json")).unwrap()).unwrap();
    b.set("/process/terminal", serde_json::json!(false));
    b.args(args);
    b
}
