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
//! // An OCI bundle: a directory with config.json and a root filesystem.
//! let (config, mut process) = spec::load("/path/to/bundle".as_ref())?;
//! let factory = Factory::new("/run/hull")?;
//! let mut container = factory.create("demo", config)?;
//! container.run(&mut process)?; // create init, then let it exec
//! let status = container.wait()?;
//! println!("exited with {}", status.code());
//! container.destroy()?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Threads
//! [`Container::start`] forks the calling process with `clone3`. The child is a copy of
//! the calling thread only and allocates memory while it sets the container up, so a
//! multi-threaded caller must not hold the allocator's lock in another thread at that
//! moment; the `hull` binary is single-threaded. Waiting for a container's init
//! ([`Container::wait`]) needs the caller to be its parent or a child subreaper.

pub mod cgroups;
pub mod config;
pub mod container;
pub mod error;
pub mod factory;
mod init;
mod mountinfo;
pub mod process;
mod procfs;
pub mod rootfs;
pub mod spec;
mod sys;

pub use config::Config;
pub use container::{Container, State, Status};
pub use error::{ConfigError, Error, ErrorCode, Result};
pub use factory::Factory;
pub use process::{ExitStatus, Process};
