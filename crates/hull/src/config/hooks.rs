//! OCI hooks: programs run at set moments of a container's life, given the container's
//! state as JSON on stdin.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One hook: a program, its argv (with argv\[0\]), environment and timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// Absolute path of the program.
    pub path: PathBuf,
    /// The argument vector, `argv[0]` included; empty means the path alone.
    pub args: Vec<String>,
    /// `KEY=value` strings; `None` (no `env` in the config) inherits the runtime's
    /// environment for the hooks run on the host's side, and for createContainer and
    /// startContainer (run in the container's namespaces) gets the container process's,
    /// as runc does.
    pub env: Option<Vec<String>>,
    /// Seconds before the hook is killed and counted as failed.
    pub timeout: Option<u32>,
}

/// The hook kinds, as OCI names them (what `features` lists).
pub const KINDS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// The hooks of each moment, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hooks {
    /// Deprecated by OCI; run with `create_runtime`, before it.
    pub prestart: Vec<Hook>,
    /// Runtime namespace, after the container's namespaces exist, before pivot_root.
    pub create_runtime: Vec<Hook>,
    /// Container namespace, after `create_runtime`, before pivot_root.
    pub create_container: Vec<Hook>,
    /// Container namespace, at `start`, just before the program runs.
    pub start_container: Vec<Hook>,
    /// Runtime namespace, after the program started (failures are only reported).
    pub poststart: Vec<Hook>,
    /// Runtime namespace, after the container is deleted (failures are only reported).
    pub poststop: Vec<Hook>,
}

impl Hooks {
    /// Every list, under its OCI name (in the order of [`KINDS`]).
    pub fn by_kind(&self) -> [(&'static str, &[Hook]); 6] {
        [
            (KINDS[0], &self.prestart),
            (KINDS[1], &self.create_runtime),
            (KINDS[2], &self.create_container),
            (KINDS[3], &self.start_container),
            (KINDS[4], &self.poststart),
            (KINDS[5], &self.poststop),
        ]
    }

    /// Whether init must stop before pivot_root for the parent to run hooks.
    pub fn any_before_pivot(&self) -> bool {
        !(self.prestart.is_empty()
            && self.create_runtime.is_empty()
            && self.create_container.is_empty())
    }
}
