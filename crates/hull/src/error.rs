//! The library's top-level error: every failure carries one of the seed's error codes,
//! and keeps the typed error of the module it came from as its source.

use std::io;
use std::path::PathBuf;

use crate::cgroups::CgroupError;
pub use crate::netdev::NetDevError;
pub use crate::process::channel::ChannelError;

/// The seed's error codes: what kind of failure, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    IdInUse,
    InvalidIdFormat,
    ContainerNotExists,
    ContainerPaused,
    ContainerNotStopped,
    ContainerNotRunning,
    ProcessNotExecuted,
    ConfigInvalid,
    SystemError,
}

/// A configuration rejected: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, spelled as in config.json (`linux.namespaces[2].type`); empty when
    /// the file is not JSON at all.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// Field names and messages can quote the config (a JSON key, a value): control
    /// characters in them are escaped, so the error stays one line (found by fuzzing).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: one_line(&field.into()),
            message: one_line(&message.into()),
        }
    }
}

/// `s` with control characters escaped (`\n`, `\u{1b}`, …).
pub fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Errors of the library. Where container engines recognise an error by its words
/// (containerd and podman parse runc's), the text carries runc's: "already exists",
/// "does not exist", "container not running", "container paused".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("container {0:?} already exists")]
    IdInUse(String),
    #[error(
        "this program runs from a binary a container could overwrite (CVE-2019-5736): \
         call hull::sealed::ensure() first in main, or opt out with Factory::without_seal_check"
    )]
    Unsealed,
    #[error("invalid container id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("container {0:?} does not exist")]
    NotExists(String),
    #[error("container paused: {0:?}")]
    Paused(String),
    #[error("container {id:?} is not stopped: it is {status}")]
    NotStopped { id: String, status: &'static str },
    /// Worded as runc's: engines tell this error by the words "container not running".
    #[error("container not running: {id:?} is {status}")]
    NotRunning { id: String, status: &'static str },
    #[error("container {id:?} cannot {action}: it is {status}")]
    WrongState {
        id: String,
        action: &'static str,
        status: &'static str,
    },
    #[error("invalid config.json: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Criu(#[from] crate::criu::CriuError),
    #[error("linux.seccomp: {0}")]
    Seccomp(#[from] crate::seccomp::SeccompError),
    #[error(transparent)]
    NetDevice(#[from] NetDevError),
    /// A hook failed (the text names it and says how).
    #[error("{0}")]
    Hook(String),
    /// The container is gone, but something could not go with it (a cgroup that still
    /// holds a process that is not the container's, which hull neither kills nor
    /// empties); as runc, the container is deleted all the same.
    #[error("the container is gone, but this was left in place: {0}")]
    Left(String),
    /// `start` found init gone before it could run the program (killed, or a
    /// startContainer hook failed).
    #[error("container {0:?}: init exited before it could start")]
    NotExecuted(String),
    /// A failure inside the new container, reported by its init with its full text.
    #[error("in the container: {0}")]
    Init(String),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{context}: {source}")]
    Sys {
        context: &'static str,
        source: io::Error,
    },
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::IdInUse(_) => ErrorCode::IdInUse,
            Error::InvalidId { .. } => ErrorCode::InvalidIdFormat,
            Error::NotExists(_) => ErrorCode::ContainerNotExists,
            Error::Paused(_) => ErrorCode::ContainerPaused,
            Error::NotStopped { .. } => ErrorCode::ContainerNotStopped,
            Error::NotRunning { .. } | Error::WrongState { .. } => ErrorCode::ContainerNotRunning,
            Error::Config(_) => ErrorCode::ConfigInvalid,
            Error::NotExecuted(_) => ErrorCode::ProcessNotExecuted,
            _ => ErrorCode::SystemError,
        }
    }

    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sys(context: &'static str, source: impl Into<io::Error>) -> Self {
        Error::Sys {
            context,
            source: source.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_are_one_line() {
        // A JSON key with a raw newline, as the fuzzer sent one.
        let e = ConfigError::new("li\nnux", "control character (\\u0000-\\u001F)\n found");
        assert!(!e.to_string().contains('\n'), "{e}");
        assert_eq!(e.field, "li\\nnux");
    }
}
