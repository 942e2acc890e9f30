//! Running OCI hooks: each one a child process with the container's state JSON on
//! stdin, its own argv and environment, killed when its timeout passes. A failure
//! names the hook and says why (exit status, signal, timeout, and its stderr).

use std::io::{self, Read, Seek, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::config::hooks::Hook;
use crate::sys;

/// A hook that failed: its kind (`prestart`, ...), its program, and how it failed.
#[derive(Debug, thiserror::Error)]
#[error("{kind} hook {}: {failure}", path.display())]
pub struct HookError {
    kind: String,
    path: PathBuf,
    failure: Failure,
}

/// How a hook failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("memfd: {0}")]
    Memfd(io::Error),
    #[error("dup: {0}")]
    Dup(io::Error),
    #[error("cannot run: {0}")]
    Spawn(io::Error),
    #[error("wait: {0}")]
    Wait(io::Error),
    #[error("timed out after {0}s")]
    TimedOut(u32),
    /// It ran and failed; its stderr, if it said anything.
    #[error("{}", ended(.status, .stderr))]
    Ended { status: ExitStatus, stderr: String },
}

fn ended(status: &ExitStatus, stderr: &str) -> String {
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (_, Some(sig)) => format!("killed by signal {sig}"),
        _ => "failed".to_string(),
    };
    if stderr.is_empty() {
        how
    } else {
        format!("{how}: {stderr}")
    }
}

/// The hooks that failed of those [`run_every`] ran, in one line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct HookErrors(Vec<HookError>);

impl HookError {
    fn new(kind: &str, hook: &Hook, failure: Failure) -> HookError {
        HookError {
            kind: kind.to_string(),
            path: hook.path.clone(),
            failure,
        }
    }
}

/// Runs `hooks` in order with `state` on their stdin; stops at the first failure. A
/// hook without an `env` of its own inherits ours, as runc's and crun's do.
pub fn run_all(kind: &str, hooks: &[Hook], state: &str) -> Result<(), HookError> {
    run_all_with_env(kind, hooks, state, None)
}

/// As [`run_all`], but a hook without an `env` of its own gets `env` (startContainer's
/// hooks get the container process's environment, as in runc and crun).
pub fn run_all_with_env(
    kind: &str,
    hooks: &[Hook],
    state: &str,
    env: Option<&[String]>,
) -> Result<(), HookError> {
    hooks
        .iter()
        .try_for_each(|h| run(h, state, env).map_err(|e| HookError::new(kind, h, e)))
}

/// Runs every one of `hooks`, whatever fails: for poststart and poststop, whose failures
/// the spec makes warnings that let "the remaining hooks and lifecycle continue". The
/// failures, if any, come back in one line.
pub fn run_every(kind: &str, hooks: &[Hook], state: &str) -> Result<(), HookErrors> {
    let failures: Vec<HookError> = hooks
        .iter()
        .filter_map(|h| {
            run(h, state, None)
                .err()
                .map(|e| HookError::new(kind, h, e))
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(HookErrors(failures))
    }
}

fn run(hook: &Hook, state: &str, default_env: Option<&[String]>) -> Result<(), Failure> {
    let mut cmd = Command::new(&hook.path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    if let Some(env) = hook.env.as_deref().or(default_env) {
        cmd.env_clear();
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    // stderr into an anonymous file: a pipe would stall a chatty hook.
    let mut errors = std::fs::File::from(sys::memfd("hook-stderr").map_err(Failure::Memfd)?);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(errors.try_clone().map_err(Failure::Dup)?)
        .spawn()
        .map_err(Failure::Spawn)?;
    // A hook that does not read its stdin must not block us.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(state.as_bytes());
    }
    let deadline = hook
        .timeout
        .map(|t| Instant::now() + Duration::from_secs(t.into()));
    let status = loop {
        if let Some(status) = child.try_wait().map_err(Failure::Wait)? {
            break status;
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::TimedOut(hook.timeout.unwrap_or(0)));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if status.success() {
        return Ok(());
    }
    let mut stderr = String::new();
    let _ = errors.seek(std::io::SeekFrom::Start(0));
    let _ = Read::by_ref(&mut errors)
        .take(4096)
        .read_to_string(&mut stderr);
    Err(Failure::Ended {
        status,
        stderr: stderr.trim().to_string(),
    })
}
