//! `hull checkpoint`: saves a running container to disk with CRIU, as runc's command:
//! afterwards the container is gone (its processes and its state) unless
//! `--leave-running` or `--pre-dump`.

use std::path::{Path, PathBuf};

use super::{hook_warning, locked, CmdResult};

/// The CRIU flags `checkpoint` and `restore` share.
pub struct CriuArgs {
    /// Where the images are written (or read); ./checkpoint by default, as runc.
    pub image_path: Option<PathBuf>,
    /// Where CRIU's log and work files go (the container's state directory by default).
    pub work_path: Option<PathBuf>,
    /// Checkpoint and restore established TCP connections.
    pub tcp_established: bool,
    /// Allow unix sockets connected outside the container.
    pub ext_unix_sk: bool,
    /// The container's process is a shell job.
    pub shell_job: bool,
    /// Checkpoint and restore file locks.
    pub file_locks: bool,
    /// Memory is left behind and fetched on demand (userfaultfd).
    pub lazy_pages: bool,
    /// How CRIU treats the cgroups: soft, full, strict or ignore.
    pub manage_cgroups_mode: Option<hull::CgroupsMode>,
    /// A namespace to leave empty: not checkpointed, made fresh on restore (network).
    pub empty_ns: Vec<String>,
    /// Deduplicate memory images as they are written.
    pub auto_dedup: bool,
}

impl CriuArgs {
    /// The library's options from these flags, with CRIU at `criu`.
    pub fn options(&self, criu: Option<&Path>) -> Result<hull::CriuOptions, String> {
        let empty_namespaces = self
            .empty_ns
            .iter()
            .map(|name| {
                hull::config::NamespaceKind::from_oci_name(name)
                    .ok_or_else(|| format!("--empty-ns {name:?}: not a namespace"))
            })
            .collect::<Result<_, _>>()?;
        let images_dir = match &self.image_path {
            Some(path) => path.clone(),
            None => std::env::current_dir()
                .map_err(|e| format!("current directory: {e}"))?
                .join("checkpoint"),
        };
        Ok(hull::CriuOptions {
            criu: criu.map(Path::to_path_buf),
            images_dir,
            work_dir: self.work_path.clone(),
            tcp_established: self.tcp_established,
            external_unix_sockets: self.ext_unix_sk,
            shell_job: self.shell_job,
            file_locks: self.file_locks,
            lazy_pages: self.lazy_pages,
            cgroups_mode: self.manage_cgroups_mode,
            empty_namespaces,
            auto_dedup: self.auto_dedup,
            ..hull::CriuOptions::default()
        })
    }
}

pub struct Args {
    pub criu: CriuArgs,
    /// Images of an earlier pre-dump, relative to --image-path.
    pub parent_path: Option<PathBuf>,
    /// Keep the container running after the checkpoint.
    pub leave_running: bool,
    /// Dump memory only, and keep the container running.
    pub pre_dump: bool,
    /// Send the memory to a CRIU page server at ADDRESS:PORT.
    pub page_server: Option<String>,
    /// A descriptor CRIU writes a zero byte to once lazy pages are served.
    pub status_fd: Option<i32>,
    pub id: String,
}

pub fn run(args: Args, root: &Path, criu: Option<&Path>) -> CmdResult {
    let mut opts = args.criu.options(criu)?;
    opts.parent_image = args.parent_path;
    opts.leave_running = args.leave_running;
    opts.pre_dump = args.pre_dump;
    opts.page_server = args.page_server.as_deref().map(page_server).transpose()?;
    opts.status_fd = args.status_fd.map(status_fd).transpose()?;
    let mut container = locked(root, &args.id)?;
    container.checkpoint(&opts).map_err(|e| e.to_string())?;
    if !opts.leave_running && !opts.pre_dump {
        hook_warning(container.destroy())?;
    }
    Ok(0)
}

/// `ADDRESS:PORT` (the address may itself hold colons, IPv6).
fn page_server(value: &str) -> Result<(String, i32), String> {
    let bad = || format!("--page-server {value:?}: not ADDRESS:PORT");
    let (address, port) = value.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    Ok((address.to_string(), port))
}

/// The caller's descriptor `fd`, which must be open.
fn status_fd(fd: i32) -> Result<std::os::fd::OwnedFd, String> {
    crate::sys::caller_fd(fd).ok_or_else(|| format!("--status-fd {fd}: not an open descriptor"))
}
