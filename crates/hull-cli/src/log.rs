//! Logging as runc does it: errors always go to stderr as one line; with `--log FILE`
//! every message also goes to FILE, as text or as the JSON lines containerd reads
//! (`{"level":…,"msg":…,"time":…}`). Debug messages appear only with `--debug`.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

struct Logger {
    file: Option<File>,
    json: bool,
    debug: bool,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Sets logging up. The log file is appended to, made if missing, and never reached
/// through a symlink (it may be in a directory a container shares), except the
/// caller's own descriptors (`/dev/stderr`, `/proc/self/fd/2`, ...). A log that cannot
/// be opened is an error, as in runc; errors still reach stderr.
pub fn init(path: Option<&Path>, json: bool, debug: bool) -> Result<(), String> {
    let (file, opened) = match path.map(open).transpose() {
        Ok(file) => (file, Ok(())),
        Err(e) => (None, Err(e)),
    };
    let _ = LOGGER.set(Logger { file, json, debug });
    opened
}

fn open(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let callers_own = ["/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/"]
        .iter()
        .any(|p| path.to_str().is_some_and(|s| s.starts_with(p)));
    let nofollow = if callers_own { 0 } else { libc::O_NOFOLLOW };
    File::options()
        .create(true)
        .append(true)
        .custom_flags(nofollow | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => format!("--log {}: is a symlink", path.display()),
            _ => format!("--log {}: {e}", path.display()),
        })
}

fn write(level: &str, msg: &str) {
    let Some(logger) = LOGGER.get() else { return };
    if let Some(mut file) = logger.file.as_ref() {
        let time = hull::container::state::now_rfc3339();
        let line = if logger.json {
            let obj = serde_json::json!({ "level": level, "msg": msg, "time": time });
            format!("{obj}\n")
        } else {
            format!("time={time:?} level={level} msg={msg:?}\n")
        };
        let _ = file.write_all(line.as_bytes());
    }
}

/// The one line a failed command prints (control characters escaped: a message can
/// quote a path or a value from the config).
pub fn error(msg: &str) {
    let msg = &hull::error::one_line(msg);
    let _ = writeln!(std::io::stderr(), "hull: {msg}");
    write("error", msg);
}

/// A warning: to stderr and the log, without failing the command.
pub fn warn(msg: &str) {
    let _ = writeln!(std::io::stderr(), "hull: warning: {msg}");
    write("warning", msg);
}

pub fn debug(msg: &str) {
    if LOGGER.get().is_some_and(|l| l.debug) {
        if LOGGER.get().is_some_and(|l| l.file.is_none()) {
            let _ = writeln!(std::io::stderr(), "hull: debug: {msg}");
        }
        write("debug", msg);
    }
}
