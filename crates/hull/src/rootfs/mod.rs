//! The container's filesystem view, set up by init inside its new mount namespace:
//! root propagation, the rootfs bind, every configured mount, `/dev`, `pivot_root`,
//! and after it the masked and read-only paths and the read-only root. Idmapped binds
//! alone are made beforehand, by the runtime ([`idmapped`]).

mod copy_up;
mod dev;
pub mod idmapped;
mod mounts;
mod pivot;
pub mod resolve;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

use crate::config::{mount_options::attr, Config, NamespaceKind};
use crate::sys;

pub use mounts::CgroupMountPlan;
use resolve::{Kind, Symlinks};

/// A failed step of the filesystem setup: what was done, to which path, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {source}")]
pub struct RootfsError {
    pub op: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

pub(crate) type Result<T> = std::result::Result<T, RootfsError>;

pub(crate) fn err<'a, E: Into<io::Error>>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(E) -> RootfsError + 'a {
    move |e| RootfsError {
        op,
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// `mount(2)` with C strings; `None` for absent arguments.
pub(crate) fn mount(
    source: Option<&CString>,
    target: &CString,
    fstype: Option<&CString>,
    flags: u64,
    data: Option<&CString>,
) -> io::Result<()> {
    nix::mount::mount(
        source.map(CString::as_c_str),
        target.as_c_str(),
        fstype.map(CString::as_c_str),
        nix::mount::MsFlags::from_bits_retain(flags as libc::c_ulong),
        data.map(CString::as_c_str),
    )
    .map_err(io::Error::from)
}

pub(crate) fn cstr(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap_or_default()
}

/// Everything before `pivot_root`: called by init in its new mount namespace, with the
/// host's view of the filesystem; [`enter`] then makes the rootfs `/`. Without a mount
/// namespace of its own the container shares the host's filesystem as it is (the
/// config was refused if it asked for anything there: see `config::validate`).
pub fn prepare(
    config: &Config,
    cgroups: &CgroupMountPlan,
    idmapped: &mut idmapped::IdmappedMounts,
    cwd: &Path,
    in_userns: bool,
) -> Result<Mounted> {
    if config.namespace(NamespaceKind::Mount).is_none() {
        return Ok(Mounted::Host);
    }
    let rootfs = &config.rootfs;
    // Nothing we mount below may propagate back to the host.
    let asked = config
        .root_propagation
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    // An unbindable tree could not give us the rootfs bind, nor the binds of masked and
    // read-only paths: `/` becomes unbindable once they are made (see `finalize`).
    let propagation = if asked & libc::MS_UNBINDABLE != 0 {
        libc::MS_SLAVE | libc::MS_REC
    } else {
        asked
    };
    mount(None, &c"/".into(), None, propagation, None)
        .map_err(err("set propagation of", Path::new("/")))?;
    // After a recursive slave or private nothing is shared any more.
    let recursive_unshared =
        propagation & libc::MS_REC != 0 && propagation & (libc::MS_SLAVE | libc::MS_PRIVATE) != 0;
    if !recursive_unshared {
        pivot::make_parent_private(rootfs)?;
    }
    let root = bind_rootfs(rootfs)?;

    // As runc: /dev gets the default nodes and links unless it is a bind mount.
    let mut dev_is_bind = false;
    for (i, m) in config.mounts.iter().enumerate() {
        mounts::mount_one(
            root.as_fd(),
            m,
            idmapped.take(i),
            cgroups,
            in_userns,
            config.mount_label.as_deref(),
        )?;
        if m.destination == Path::new("/dev") {
            dev_is_bind = m.options.is_bind();
        }
    }
    dev::create_devices(root.as_fd(), &config.devices, !dev_is_bind, in_userns)?;
    if !dev_is_bind {
        dev::create_links(root.as_fd())?;
    }
    // runc makes a missing working directory; so do we, inside the rootfs.
    resolve::create(root.as_fd(), cwd, Kind::Dir, Symlinks::InRoot)
        .map_err(err("create cwd", cwd))?;

    Ok(Mounted::Rootfs {
        root,
        propagation: asked,
    })
}

/// Opens the rootfs once, refusing a symlink anywhere on its path (a rootfs swapped for
/// a link to a host directory since config.json was read is never followed), and binds
/// it onto itself (pivot_root needs a mount point), by descriptor. What is returned,
/// the root of that bind, is the rootfs for every later step.
fn bind_rootfs(rootfs: &Path) -> Result<OwnedFd> {
    let dir = sys::openat2_path(
        &cstr(rootfs),
        libc::O_PATH | libc::O_DIRECTORY,
        libc::RESOLVE_NO_SYMLINKS,
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => {
            err("open rootfs", rootfs)(io::Error::other("it is a symlink, or a path through one"))
        }
        _ => err("open rootfs", rootfs)(e),
    })?;
    let bind = sys::clone_mount(dir.as_fd(), true).map_err(err("bind-mount the rootfs", rootfs))?;
    sys::move_mount_onto(bind.as_fd(), dir.as_fd())
        .map_err(err("bind-mount the rootfs", rootfs))?;
    Ok(bind)
}

/// What [`prepare`] made ready for [`enter`].
pub enum Mounted {
    /// No mount namespace: the host's filesystem, untouched.
    Host,
    /// The rootfs with everything mounted, before it becomes `/`; the propagation asked
    /// for the container's `/`.
    Rootfs { root: OwnedFd, propagation: u64 },
}

/// Makes the prepared rootfs the process's `/` (pivot_root, or MS_MOVE + chroot).
pub fn enter(config: &Config, mounted: Mounted) -> Result<()> {
    let Mounted::Rootfs { root, propagation } = mounted else {
        return Ok(());
    };
    if config.no_pivot_root {
        pivot::move_root(root)?;
    } else {
        pivot::pivot_root(root)?;
    }
    // A shared root stays shared inside, as asked.
    if propagation & libc::MS_SHARED != 0 {
        mount(None, &c"/".into(), None, propagation, None)
            .map_err(err("set propagation of", Path::new("/")))?;
    }
    Ok(())
}

/// Everything after `pivot_root` that must come after sysctls were written: read-only
/// and masked paths, then the read-only root.
pub fn finalize(config: &Config) -> Result<()> {
    let root = std::fs::File::open("/")
        .map(OwnedFd::from)
        .map_err(err("open", Path::new("/")))?;
    for path in &config.readonly_paths {
        readonly_path(root.as_fd(), path)?;
    }
    if !config.masked_paths.is_empty() {
        let null = dev::verified_dev_null(root.as_fd())?;
        for path in &config.masked_paths {
            mask_path(root.as_fd(), path, &null)?;
        }
    }
    if config.readonly_rootfs {
        sys::mount_setattr(root.as_fd(), attr::RDONLY, 0, false)
            .map_err(err("make read-only", Path::new("/")))?;
    }
    // Last: nothing can be bound from an unbindable tree (see `prepare`).
    match config.root_propagation {
        Some(p) if p & libc::MS_UNBINDABLE != 0 => mount(None, &c"/".into(), None, p, None)
            .map_err(err("set propagation of", Path::new("/"))),
        _ => Ok(()),
    }
}

/// Opens a path that may be missing: `None` if it is.
fn open_existing(root: std::os::fd::BorrowedFd<'_>, path: &Path) -> Result<Option<OwnedFd>> {
    match resolve::open(
        root,
        path,
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Symlinks::InRoot,
    ) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(err("open", path)(e)),
    }
}

/// After pivot_root the container's `/proc` is not to be trusted (it may be no procfs
/// at all), so from here on mounts are made by descriptor, never through
/// `/proc/self/fd` paths.
fn readonly_path(root: std::os::fd::BorrowedFd<'_>, path: &Path) -> Result<()> {
    let Some(fd) = open_existing(root, path)? else {
        return Ok(());
    };
    let bind = sys::clone_mount(fd.as_fd(), true).map_err(err("bind read-only path", path))?;
    sys::mount_setattr(bind.as_fd(), attr::RDONLY, 0, true).map_err(err("make read-only", path))?;
    sys::move_mount_onto(bind.as_fd(), fd.as_fd()).map_err(err("bind read-only path", path))
}

fn mask_path(root: std::os::fd::BorrowedFd<'_>, path: &Path, null: &OwnedFd) -> Result<()> {
    let Some(fd) = open_existing(root, path)? else {
        return Ok(());
    };
    let is_dir = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd))
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .map_err(err("stat masked path", path))?;
    let cover = if is_dir {
        sys::new_tmpfs(true)
    } else {
        sys::clone_mount(null.as_fd(), false)
    }
    .map_err(err("mask", path))?;
    sys::move_mount_onto(cover.as_fd(), fd.as_fd()).map_err(err("mask", path))
}
