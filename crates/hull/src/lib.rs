//! # hull
//!
//! A container runtime library: it creates containers with Linux namespaces, cgroups,
//! capabilities and filesystem isolation, and manages their life, in the spirit of
//! Docker's original `libcontainer`. The `hull` binary is a runc-compatible OCI runtime
//! built on it.
//!
//! ```no_run
//! use hull::{spec, Factory};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // First thing: run from a sealed copy of this program (CVE-2019-5736); containers
//! // refuse to start otherwise (see `Factory::without_seal_check`).
//! hull::sealed::ensure()?;
//! // An OCI bundle: a directory with config.json and a root filesystem.
//! // What to run (a `Process`) goes in; a handle on the started process comes out.
//! let (config, process) = spec::load("/path/to/bundle".as_ref())?;
//! let factory = Factory::new("/run/hull")?;
//! let mut container = factory.create("demo", config)?;
//! let init = container.run(process)?; // create init, then let it exec
//! let status = init.wait()?;
//! println!("exited with {}", status.code());
//! container.destroy()?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Threads
//! [`Container::start`] forks the calling process. A single-threaded caller (the `hull`
//! binary) gets the fast path: one `clone3` that makes init in its namespaces and its
//! cgroup at once. A caller with other threads is forked with glibc's `fork()`, whose
//! handlers make the allocator safe to use in the child; init then makes its namespaces
//! with `unshare` and a second fork. That fork (as every second fork hull makes, also
//! for [`Container::exec_process`]) makes a sibling (`CLONE_PARENT`): the container's
//! process is always the caller's own child, and [`ProcessHandle::wait`] works from any
//! thread of the caller without anything else set up.
//!
//! ## Async use
//! Nothing in hull needs a thread per container to wait. The waits are descriptors an
//! event loop can own:
//! - a process's exit: a [`ProcessHandle`] is `AsFd`, its pidfd readable once the
//!   process has exited; then [`ProcessHandle::try_wait`] reaps it without blocking;
//! - OOM and memory pressure events: [`cgroups::oom::OomEvents`] is `AsFd`, readable
//!   when the kernel has signalled, and [`cgroups::oom::OomEvents::try_next`] takes what
//!   is pending without blocking.
//!
//! With the cargo feature `tokio`, `hull::asyncio` does this on tokio's reactor:
//! `wait_exit(&handle).await` and `AsyncOomEvents::next().await`, on a runtime of
//! either flavour with I/O enabled. Starting and destroying containers stays
//! synchronous (they fork, and take milliseconds): call them where blocking briefly is
//! acceptable, or from `spawn_blocking`.
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn demo(factory: hull::Factory, config: hull::Config, process: hull::Process)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! use hull::asyncio::{wait_exit, AsyncOomEvents};
//!
//! let mut container = factory.create("demo", config)?;
//! let init = container.run(process)?;
//! let mut ooms = AsyncOomEvents::new(container.notify_oom()?)?;
//! let status = loop {
//!     tokio::select! {
//!         status = wait_exit(&init) => break status?,
//!         Ok(Some(n)) = ooms.next() => eprintln!("{n} OOM event(s)"),
//!     }
//! };
//! println!("exited with {}", status.code());
//! container.destroy()?;
//! # Ok(())
//! # }
//! ```

// Every `unsafe` block lives in `sys`, each one argued.
#![deny(unsafe_code, unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![warn(missing_docs)]

#[cfg(feature = "tokio")]
pub mod asyncio;

pub mod cgroups;
pub mod config;
pub mod container;
pub mod criu;
pub mod error;
pub mod factory;
pub mod fdpass;
mod hooks;
mod init;
mod lsm;
mod mountinfo;
mod netdev;
pub mod process;
mod procfs;
mod rootfs;
pub mod safe_file;
pub mod sealed;
pub mod seccomp;
pub mod signal;
pub mod spec;
#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod test_util;

pub use config::Config;
pub use container::{Container, ExecOptions, Overview, State, Status};
pub use criu::{CgroupsMode, CriuOptions};
pub use error::{ConfigError, Error, ErrorCode, Result};
pub use factory::Factory;
pub use process::{ExitStatus, Process, ProcessHandle};
pub use signal::Signal;
