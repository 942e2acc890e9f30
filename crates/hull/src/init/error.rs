//! Why setting up a container's process failed. The child sends the text to the parent
//! (`Message::Failed`), which reports it as its own (`Error::Init`): the wording is what
//! users, and tests, see.

use crate::cgroups::CgroupError;
use crate::hooks::HookError;
use crate::process::channel::ChannelError;
use crate::rootfs::RootfsError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum InitError {
    /// A step failed: what it was (with what it worked on), and the error it met.
    #[error("{step}: {source}")]
    Step {
        step: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// What init found is not what it may go on with (the image's, the configuration's).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
}

pub(crate) type InitResult<T> = Result<T, InitError>;

/// Names the step a failure belongs to: "setuid 1000: EPERM: Operation not permitted".
pub(crate) trait Step<T> {
    fn step(self, step: impl Into<String>) -> InitResult<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Step<T> for Result<T, E> {
    fn step(self, step: impl Into<String>) -> InitResult<T> {
        self.map_err(|e| InitError::Step {
            step: step.into(),
            source: Box::new(e),
        })
    }
}

/// A refusal with this text.
pub(crate) fn refused<T>(text: impl Into<String>) -> InitResult<T> {
    Err(InitError::Refused(text.into()))
}
