//! The last steps of init: the environment, finding the program, the working
//! directory (checked to be inside the container, CVE-2024-21626), waiting on
//! exec.fifo for `start`, laying out the descriptors, and `execve`.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::error::{refused, InitError, InitResult, Step};
use crate::process::Process;
use crate::procfs::OwnFds;
use crate::seccomp::Filter;
use crate::sys;

/// Writes an error to the process's stderr (after `Ready`, nobody else will).
pub fn report(text: impl std::fmt::Display) {
    let _ = std::io::stderr().write_all(format!("hull: {text}\n").as_bytes());
}

/// Signal dispositions and mask go back to the defaults: the runtime ignores SIGPIPE
/// and may block signals it forwards, and neither must reach the container.
pub fn reset_signals() {
    for sig in 1..=libc::SIGRTMAX() {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            let _ = sys::default_signal_action(sig);
        }
    }
    let empty = nix::sys::signal::SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&empty),
        None,
    );
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn env_value<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

/// The process's environment with `HOME` filled in as runc does: from the user's
/// entry in the container's `/etc/passwd`, else `/`.
pub fn environment(process: &Process) -> InitResult<Vec<String>> {
    let mut env = process.env.clone();
    if env_value(&env, "HOME").is_none() {
        let home = home_of(process.user.uid).unwrap_or_else(|| "/".to_string());
        env.push(format!("HOME={home}"));
    }
    Ok(env)
}

/// The home directory of `uid` in the container's `/etc/passwd`. The file belongs to the
/// image: it is read only if it is a regular file, and at most 1 MiB of it.
fn home_of(uid: u32) -> Option<String> {
    let file = std::fs::File::options()
        .read(true)
        .custom_flags_nonblock()
        .open("/etc/passwd")
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(1 << 20).read_to_string(&mut text).ok()?;
    home_in(&text, uid)
}

/// The home directory (field 6) of the first entry of `passwd` whose uid (field 3)
/// is `uid`.
fn home_in(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 6 && f[2].parse() == Ok(uid)).then(|| f[5].to_string())
    })
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for std::fs::OpenOptions {
    /// A FIFO planted as /etc/passwd must not hang the runtime.
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::custom_flags(self, libc::O_NONBLOCK | libc::O_NOFOLLOW)
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Resolves `args[0]` as `execvp` would, against the container's `PATH`, so that a
/// missing program fails `create` with a clear error rather than after `start`.
pub fn find_program(process: &Process, env: &[String]) -> InitResult<CString> {
    let Some(name) = process.args.first() else {
        return refused("process.args is empty");
    };
    lookup(name, env)
}

/// Where `name` is: itself when it has a slash, else the first executable file of that
/// name in the directories of `env`'s `PATH` (an empty entry is the working directory).
fn lookup(name: &str, env: &[String]) -> InitResult<CString> {
    let found = if name.contains('/') {
        std::fs::metadata(name).step(format!("exec: {name:?}: stat {name}"))?;
        PathBuf::from(name)
    } else {
        env_value(env, "PATH")
            .unwrap_or(DEFAULT_PATH)
            .split(':')
            .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
            .find(|p| is_executable(p))
            .ok_or_else(|| {
                InitError::Refused(format!(
                    "exec: {name:?}: executable file not found in $PATH"
                ))
            })?
    };
    CString::new(found.as_os_str().as_bytes())
        .map_err(|_| InitError::Refused(format!("exec: {name:?}: contains a NUL byte")))
}

/// Changes to the working directory and makes sure it is inside the container: a
/// descriptor leaked from the host could otherwise make it a way out.
/// `Ok(false)` when the directory is not reachable yet (EACCES: root may not pass a
/// root-squashed or user-only directory that the process's own user can): try again
/// after the user switch.
pub fn enter_cwd(cwd: &Path, may_wait: bool) -> InitResult<bool> {
    match nix::unistd::chdir(cwd) {
        Err(nix::errno::Errno::EACCES) if may_wait => return Ok(false),
        other => other.step(format!("chdir to cwd {}", cwd.display()))?,
    }
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() => Ok(true),
        _ => refused(format!("cwd {} is outside the container", cwd.display())),
    }
}

/// Blocks until `start` opens exec.fifo for reading, then tells it we are going.
/// The fifo is reopened for writing through hull's own procfs handle, never the
/// container's `/proc`; and what opened must be the very fifo we hold.
pub fn wait_for_start(fifo: &OwnedFd, own_fds: &OwnFds) -> InitResult<()> {
    let mut f = std::fs::File::from(
        own_fds
            .reopen(fifo.as_fd(), nix::fcntl::OFlag::O_WRONLY)
            .step("open exec.fifo")?,
    );
    let held = nix::sys::stat::fstat(fifo.as_raw_fd()).step("stat exec.fifo")?;
    let opened = nix::sys::stat::fstat(f.as_raw_fd()).step("stat exec.fifo")?;
    if (held.st_dev, held.st_ino) != (opened.st_dev, opened.st_ino)
        || opened.st_mode & libc::S_IFMT != libc::S_IFIFO
    {
        return refused("what opened is not exec.fifo");
    }
    f.write_all(b"0").step("write exec.fifo")
}

/// Moves each wanted descriptor to its place (0-2 for stdio, 3.. for extra files);
/// everything else is closed by `execve`.
fn arrange_fds(process: &Process, tty: Option<&OwnedFd>) -> InitResult<()> {
    let mut wanted: Vec<(BorrowedFd<'_>, RawFd)> = Vec::new();
    let stdio = match tty {
        Some(tty) => [Some(tty), Some(tty), Some(tty)],
        None => [&process.stdin, &process.stdout, &process.stderr].map(Option::as_ref),
    };
    for (target, fd) in stdio.into_iter().enumerate() {
        if let Some(fd) = fd {
            wanted.push((fd.as_fd(), target as RawFd));
        }
    }
    for (i, fd) in process.extra_files.iter().enumerate() {
        wanted.push((fd.as_fd(), 3 + i as RawFd));
    }
    let first_free = 3 + process.extra_files.len() as RawFd;
    // Copy every source above the targets first, so no dup2 overwrites a later source.
    let mut staged = Vec::with_capacity(wanted.len());
    for (src, target) in wanted {
        let tmp = sys::dup_above(src, first_free).step(format!("dup fd {}", src.as_raw_fd()))?;
        staged.push((tmp, target));
    }
    for (tmp, target) in &staged {
        // The copy dup2 makes has no close-on-exec flag.
        nix::unistd::dup2(tmp.as_raw_fd(), *target)
            .map_err(std::io::Error::from)
            .step(format!("dup2 to fd {target}"))?;
    }
    sys::cloexec_from(first_free).step("mark descriptors close-on-exec")
}

/// Lays out the descriptors and execs the program; `seccomp`, if given, is loaded
/// last, so that `execve` is the only syscall it sees of ours.
pub fn exec(
    process: &Process,
    program: &CString,
    env: &[String],
    tty: Option<&OwnedFd>,
    seccomp: Option<&Filter>,
) -> InitResult<std::convert::Infallible> {
    arrange_fds(process, tty)?;
    let umask = process.user.umask.unwrap_or(0o022) as libc::mode_t;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(umask));
    let to_c = |v: &[String]| -> Vec<CString> {
        v.iter()
            .map(|s| CString::new(s.as_bytes()).unwrap_or_default())
            .collect()
    };
    let args = to_c(&process.args);
    let env = to_c(env);
    if let Some(filter) = seccomp {
        filter.load().step("load the seccomp filter")?;
    }
    let err = nix::unistd::execve(program, &args, &env).unwrap_err();
    Err(err).step(format!("exec {:?}", process.args[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Scratch;

    fn env(vars: &[&str]) -> Vec<String> {
        vars.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn env_values_are_found_by_their_whole_key() {
        let e = env(&[
            "HOMEDIR=/x",
            "HOME",
            "PATH=/bin",
            "HOME=/root",
            "HOME=/later",
        ]);
        assert_eq!(env_value(&e, "HOME"), Some("/root"));
        assert_eq!(env_value(&e, "PATH"), Some("/bin"));
        assert_eq!(env_value(&e, "HOMEDIR"), Some("/x"));
        assert_eq!(env_value(&e, "HOM"), None);
        assert_eq!(env_value(&env(&["EMPTY="]), "EMPTY"), Some(""));
    }

    #[test]
    fn home_comes_from_the_first_entry_with_the_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\n\
                      broken:x:1000\n\
                      name:x:notanumber:0::/nowhere:/bin/sh\n\
                      app:x:1000:1000:App:/home/app:/bin/sh\n\
                      dup:x:1000:1000::/home/dup:/bin/sh\n\
                      nohome:x:1001:1001::\n";
        assert_eq!(home_in(passwd, 0).as_deref(), Some("/root"));
        assert_eq!(home_in(passwd, 1000).as_deref(), Some("/home/app"));
        // Six fields, the sixth empty: an empty home, as the file says.
        assert_eq!(home_in(passwd, 1001).as_deref(), Some(""));
        assert_eq!(home_in(passwd, 65534), None);
        assert_eq!(home_in("", 0), None);
    }

    fn executable(dir: &Scratch, rel: &str, mode: u32) {
        let path = dir.write(rel, "#!/bin/sh\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn programs_are_searched_along_path_as_execvp_does() {
        let dir = Scratch::new("find-program");
        executable(&dir, "a/tool", 0o644); // not executable: skipped
        std::fs::create_dir_all(dir.join("b/tool")).unwrap(); // a directory: skipped
        executable(&dir, "c/tool", 0o755);
        executable(&dir, "d/tool", 0o755);
        let path = ["a", "b", "c", "d"]
            .map(|d| dir.join(d).display().to_string())
            .join(":");
        let found = lookup("tool", &env(&[&format!("PATH={path}")])).unwrap();
        assert_eq!(
            found.to_str().unwrap(),
            dir.join("c/tool").to_str().unwrap()
        );

        let missing = lookup("nosuch", &env(&[&format!("PATH={path}")])).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("executable file not found in $PATH"),
            "{missing}"
        );
        // Only the owner's execute bit is enough.
        executable(&dir, "e/mine", 0o700);
        let path = format!("PATH={}", dir.join("e").display());
        assert!(lookup("mine", &env(&[&path])).is_ok());
    }

    #[test]
    fn a_name_with_a_slash_is_taken_as_a_path() {
        let dir = Scratch::new("find-slash");
        executable(&dir, "bin/prog", 0o755);
        let path = dir.join("bin/prog").display().to_string();
        // Not searched along PATH, whatever PATH says.
        assert_eq!(
            lookup(&path, &env(&["PATH=/nonexistent"]))
                .unwrap()
                .to_str()
                .unwrap(),
            path
        );
        let missing = dir.join("bin/none").display().to_string();
        let err = lookup(&missing, &[]).unwrap_err();
        assert!(err.to_string().contains("stat"), "{err}");
    }

    #[test]
    fn without_path_the_default_one_is_searched() {
        // `sh` is in one of the default directories on any host these tests run on.
        let found = lookup("sh", &env(&["HOME=/"])).unwrap();
        let found = found.to_str().unwrap();
        assert!(
            DEFAULT_PATH.split(':').any(|d| found == format!("{d}/sh")),
            "{found}"
        );
    }
}
