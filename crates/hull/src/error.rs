//! The library's top-level error: every failure carries one of the seed's error codes,
//! and keeps the typed error of the module it came from as its source.

use std::io;
use std::path::PathBuf;

use crate::cgroups::CgroupError;
pub use crate::netdev::networks::NetworkError;
pub use crate::netdev::NetDevError;
pub use crate::process::channel::ChannelError;

/// The seed's error codes: what kind of failure, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The id is taken by another container.
    IdInUse,
    /// The id is not a valid container id.
    InvalidIdFormat,
    /// No container has that id.
    ContainerNotExists,
    /// The container is paused, and the operation needs it not to be.
    ContainerPaused,
    /// The container is not stopped, and the operation needs it to be.
    ContainerNotStopped,
    /// The container is not running, and the operation needs it to be.
    ContainerNotRunning,
    /// Init exited before it could run the container's program.
    ProcessNotExecuted,
    /// The configuration was refused.
    ConfigInvalid,
    /// Any other failure: a system call, a file, a helper program.
    SystemError,
}

/// A configuration rejected: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, spelled as in config.json (`linux.namespaces[2].type`); empty when
    /// the file is not JSON at all.
    pub field: String,
    /// Why the value is refused.
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
    /// A container with this id already exists.
    IdInUse(String),
    #[error(
        "this program runs from a binary a container could overwrite (CVE-2019-5736): \
         call hull::sealed::ensure() first in main, or opt out with Factory::without_seal_check"
    )]
    /// The program does not run from a sealed copy (see [`crate::sealed::ensure`]).
    Unsealed,
    #[error("invalid container id {id:?}: {reason}")]
    /// The id is not a valid container id (see [`crate::factory::validate_id`]).
    InvalidId {
        /// The id as given.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    #[error("container {0:?} does not exist")]
    /// No container has this id.
    NotExists(String),
    #[error("container paused: {0:?}")]
    /// The container (by id) is paused, and the operation needs it not to be.
    Paused(String),
    #[error("container {id:?} is not stopped: it is {status}")]
    /// The container must be stopped for the operation.
    NotStopped {
        /// The container's id.
        id: String,
        /// Its status, as the OCI names it.
        status: &'static str,
    },
    /// Worded as runc's: engines tell this error by the words "container not running".
    #[error("container not running: {id:?} is {status}")]
    NotRunning {
        /// The container's id.
        id: String,
        /// Its status, as the OCI names it.
        status: &'static str,
    },
    #[error("container {id:?} cannot {action}: it is {status}")]
    /// The container's status does not allow the operation.
    WrongState {
        /// The container's id.
        id: String,
        /// The operation (`start`, `pause`, …).
        action: &'static str,
        /// Its status, as the OCI names it.
        status: &'static str,
    },
    #[error("invalid config.json: {0}")]
    /// The configuration was refused.
    Config(#[from] ConfigError),
    #[error(transparent)]
    /// A cgroup operation failed.
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    /// The sync channel between hull and a container's init failed.
    Channel(#[from] ChannelError),
    #[error(transparent)]
    /// A checkpoint or restore failed.
    Criu(#[from] crate::criu::CriuError),
    #[error("linux.seccomp: {0}")]
    /// The seccomp profile could not be compiled or loaded.
    Seccomp(#[from] crate::seccomp::SeccompError),
    #[error(transparent)]
    /// A network device could not be moved into the container.
    NetDevice(#[from] NetDevError),
    #[error(transparent)]
    /// A network or route of the config could not be set up in the container.
    Network(#[from] NetworkError),
    /// A hook failed (the text names it and says how).
    #[error("{0}")]
    Hook(String),
    /// The container is gone, but something could not go with it (a cgroup that still
    /// holds a process that is not the container's, which hull neither kills nor
    /// empties; a veth's host end the kernel would not delete); as runc, the container
    /// is deleted all the same.
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
    /// An operation on a file failed.
    Io {
        /// What was done (`open`, `read`, …).
        context: &'static str,
        /// The file.
        path: PathBuf,
        /// The error the system returned.
        source: io::Error,
    },
    #[error("{context}: {source}")]
    /// A system call or operation not on a single file failed.
    Sys {
        /// What was done.
        context: &'static str,
        /// The error the system returned.
        source: io::Error,
    },
}

impl Error {
    /// The kind of failure, for callers that branch on it.
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

/// The library's result type.
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
