//! The container's filesystem view, set up by init inside its new mount namespace:
//! root propagation, the rootfs bind, every configured mount, `/dev`, `pivot_root`,
//! and after it the masked and read-only paths and the read-only root.

mod copy_up;
mod dev;
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
    let p = |s: Option<&CString>| s.map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer is either null or a NUL-terminated string alive for the call.
    let ret = unsafe {
        libc::mount(
            p(source),
            target.as_ptr(),
            p(fstype),
            flags as libc::c_ulong,
            p(data).cast(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

pub(crate) fn cstr(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap_or_default()
}

/// Everything before `pivot_root`: called by init in its new mount namespace, with the
/// host's view of the filesystem; [`enter`] then makes the rootfs `/`.
pub fn prepare(
    config: &Config,
    cgroups: &CgroupMountPlan,
    cwd: &Path,
    in_userns: bool,
) -> Result<Mounted> {
    let rootfs = &config.rootfs;
    let root_c = cstr(rootfs);
    let own_namespace = config.namespace(NamespaceKind::Mount).is_some();
    // Nothing we mount below may propagate back to the host.
    let propagation = config
        .root_propagation
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    if !own_namespace && rootfs.parent().is_none() {
        // Every mount would land on the host's own tree, and delete would detach its root.
        return Err(err("refuse rootfs", rootfs)(io::Error::other(
            "without a mount namespace its mounts would be the host's own",
        )));
    }
    if own_namespace {
        mount(None, &c"/".into(), None, propagation | libc::MS_REC, None)
            .map_err(err("set propagation of", Path::new("/")))?;
        if propagation & libc::MS_SHARED != 0 {
            pivot::make_parent_private(rootfs)?;
        }
    }
    // pivot_root needs the rootfs to be a mount point.
    mount(
        Some(&root_c),
        &root_c,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )
    .map_err(err("bind-mount the rootfs", rootfs))?;
    if !own_namespace {
        // Our mounts are the host's here: none may reach a peer of the host's mounts,
        // and delete detaches them all with this one bind.
        mount(None, &root_c, None, libc::MS_PRIVATE | libc::MS_REC, None)
            .map_err(err("make private", rootfs))?;
    }
    let root = std::fs::File::open(rootfs)
        .map(OwnedFd::from)
        .map_err(err("open rootfs", rootfs))?;

    // As runc: /dev gets the default nodes and links unless it is a bind mount.
    let mut dev_is_bind = false;
    for m in &config.mounts {
        mounts::mount_one(
            root.as_fd(),
            m,
            cgroups,
            in_userns,
            config.mount_label.as_deref(),
        )?;
        if !own_namespace {
            // A bind of a shared host mount joins the host's peer group: make it, and
            // all else below the rootfs, private before anything goes below it.
            mount(None, &root_c, None, libc::MS_PRIVATE | libc::MS_REC, None)
                .map_err(err("make private", rootfs))?;
        }
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

    Ok(Mounted { root, propagation })
}

/// The rootfs with everything mounted, before it becomes `/`.
pub struct Mounted {
    root: OwnedFd,
    propagation: u64,
}

/// Makes the prepared rootfs the process's `/` (pivot_root, or MS_MOVE + chroot).
pub fn enter(config: &Config, mounted: Mounted) -> Result<()> {
    if config.namespace(NamespaceKind::Mount).is_none() {
        // In the host's mount namespace, pivot_root or MS_MOVE would move the host's
        // own root: chroot is all there is (as runc).
        pivot::chroot_into(&config.rootfs)
    } else if config.no_pivot_root {
        pivot::move_root(&config.rootfs)
    } else {
        pivot::pivot_root(mounted.root, mounted.propagation)
    }
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
    Ok(())
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

fn readonly_path(root: std::os::fd::BorrowedFd<'_>, path: &Path) -> Result<()> {
    let Some(fd) = open_existing(root, path)? else {
        return Ok(());
    };
    let target = resolve::fd_path(&fd);
    mount(
        Some(&target),
        &target,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )
    .map_err(err("bind-mount read-only path", path))?;
    // The bind is a new mount on top: reopen to reach it rather than what it covers.
    let fd = open_existing(root, path)?
        .ok_or_else(|| err("reopen", path)(io::Error::from_raw_os_error(libc::ENOENT)))?;
    sys::mount_setattr(fd.as_fd(), attr::RDONLY, 0, true).map_err(err("make read-only", path))
}

fn mask_path(root: std::os::fd::BorrowedFd<'_>, path: &Path, null: &OwnedFd) -> Result<()> {
    let Some(fd) = open_existing(root, path)? else {
        return Ok(());
    };
    let target = resolve::fd_path(&fd);
    let is_dir = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd))
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .map_err(err("stat masked path", path))?;
    if is_dir {
        mount(
            Some(&c"tmpfs".into()),
            &target,
            Some(&c"tmpfs".into()),
            libc::MS_RDONLY,
            None,
        )
    } else {
        mount(
            Some(&resolve::fd_path(null)),
            &target,
            None,
            libc::MS_BIND,
            None,
        )
    }
    .map_err(err("mask", path))
}
