//! Making one configured mount inside the rootfs: binds (with their attributes applied
//! through `mount_setattr`), regular filesystems, and the cgroup filesystem, which
//! depends on the host's hierarchies.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use serde::{Deserialize, Serialize};

use super::resolve::{self, fd_path, Kind, Symlinks};
use super::{cstr, err, mount, Result};
use crate::config::mount_options::{attr, AttrChange};
use crate::config::Mount;
use crate::sys;

/// What init needs to know to mount `cgroup` inside the container, worked out by the
/// parent from the host's layout and the container's cgroup.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CgroupMountPlan {
    /// True on a pure v2 host: one cgroup2 mount.
    pub unified: bool,
    /// True when the container has its own cgroup namespace: mount fresh hierarchies
    /// rather than binding the host's directories.
    pub own_namespace: bool,
    /// (hierarchy key, the container's directory in it on the host), "" for v2.
    pub hierarchies: Vec<(String, PathBuf)>,
}

impl CgroupMountPlan {
    /// Where each hierarchy goes for a cgroup mount at `destination`: (hierarchy key,
    /// mount point in the container, the container's directory on the host). One
    /// cgroup2 mount at `destination` on a pure v2 host; else one directory per
    /// hierarchy below it (`unified` for v2, `systemd` for `name=systemd`).
    pub fn mount_points(&self, destination: &Path) -> Vec<(String, PathBuf, PathBuf)> {
        if self.unified {
            let host = self.hierarchies.first().map(|(_, p)| p.clone());
            return vec![(String::new(), destination.into(), host.unwrap_or_default())];
        }
        self.hierarchies
            .iter()
            .map(|(key, host)| {
                let name = match key.as_str() {
                    "" => "unified",
                    k => k.strip_prefix("name=").unwrap_or(k),
                };
                (key.clone(), destination.join(name), host.clone())
            })
            .collect()
    }
}

fn reopen(root: BorrowedFd<'_>, m: &Mount) -> Result<OwnedFd> {
    resolve::open(
        root,
        &m.destination,
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Symlinks::InRoot,
    )
    .map_err(err("reopen mount point", &m.destination))
}

/// Applies what `mount(2)` could not: attributes of a bind, recursive attributes (`rro`,
/// `rnosuid`, ...) over the mount and everything below it, and propagation. Every kind
/// of mount ends here: an attribute is applied or the mount fails, never dropped.
fn finish(root: BorrowedFd<'_>, m: &Mount) -> Result<()> {
    let o = &m.options;
    if o.propagation.is_empty()
        && (!o.is_bind() || o.attrs.is_empty())
        && o.recursive_attrs.is_empty()
    {
        return Ok(());
    }
    let fd = reopen(root, m)?;
    if o.is_bind() && !o.attrs.is_empty() {
        sys::mount_setattr(fd.as_fd(), o.attrs.set, o.attrs.clear, false)
            .map_err(err("set mount attributes on", &m.destination))?;
    }
    if !o.recursive_attrs.is_empty() {
        sys::mount_setattr(
            fd.as_fd(),
            o.recursive_attrs.set,
            o.recursive_attrs.clear,
            true,
        )
        .map_err(err("set recursive mount attributes on", &m.destination))?;
    }
    let target = fd_path(&fd);
    for p in &o.propagation {
        mount(None, &target, None, *p, None).map_err(err("set propagation of", &m.destination))?;
    }
    Ok(())
}

/// Makes `m` in the rootfs at `root`; `idmapped` is the detached idmapped copy of its
/// source the runtime made, when it has one.
pub fn mount_one(
    root: BorrowedFd<'_>,
    m: &Mount,
    idmapped: Option<OwnedFd>,
    cgroups: &CgroupMountPlan,
    in_userns: bool,
    mount_label: Option<&str>,
) -> Result<()> {
    if matches!(m.fstype.as_str(), "cgroup" | "cgroup2") {
        return mount_cgroup(root, m, cgroups);
    }
    let o = &m.options;
    let source = m.source.clone().unwrap_or_else(|| PathBuf::from(&m.fstype));
    // Binds of a file need a file to cover; everything else a directory. /proc and
    // /sys must be real directories, never symlinks (CVE-2019-16884 and friends).
    let (kind, symlinks) = if o.is_bind() {
        let is_dir = match &idmapped {
            Some(tree) => nix::sys::stat::fstat(tree.as_raw_fd())
                .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
                .map_err(err("stat bind source", &source))?,
            None => std::fs::metadata(&source)
                .map_err(err("stat bind source", &source))?
                .is_dir(),
        };
        (
            if is_dir { Kind::Dir } else { Kind::File },
            Symlinks::InRoot,
        )
    } else if matches!(m.fstype.as_str(), "proc" | "sysfs") {
        (Kind::Dir, Symlinks::Refuse)
    } else {
        (Kind::Dir, Symlinks::InRoot)
    };
    let dest = resolve::create(root, &m.destination, kind, symlinks).map_err(|e| {
        if symlinks == Symlinks::Refuse && e.raw_os_error() == Some(libc::ELOOP) {
            let why = format!(
                "{} must be mounted on a directory, and the rootfs has a symlink there or on the way",
                m.fstype
            );
            err("mount", &m.destination)(io::Error::other(why))
        } else {
            err("create mount point", &m.destination)(e)
        }
    })?;
    check_destination(root, &dest, m)?;
    let target = fd_path(&dest);
    if let Some(tree) = idmapped {
        sys::move_mount_onto(tree.as_fd(), dest.as_fd())
            .map_err(err("move the idmapped mount onto", &m.destination))?;
    } else if o.is_bind() {
        bind(&source, &target, o.flags & libc::MS_REC)
            .map_err(err("bind-mount onto", &m.destination))?;
    } else {
        let mut data = o.data.clone();
        crate::lsm::label_mount_data(mount_label, &m.fstype, &mut data);
        let data = CString::new(data.join(",")).unwrap_or_default();
        let mut flags = o.flags & !(libc::MS_BIND | libc::MS_REC);
        // What the tmpfs will cover, kept open to copy from once it is mounted (which
        // it must be writable for).
        let copy_from = (o.copy_up && m.fstype == "tmpfs")
            .then(|| {
                flags &= !libc::MS_RDONLY;
                resolve::open(
                    dest.as_fd(),
                    Path::new("."),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                    Symlinks::Refuse,
                )
            })
            .transpose()
            .map_err(err("open for tmpcopyup", &m.destination))?;
        let result = mount(
            Some(&cstr(&source)),
            &target,
            Some(&cstr(Path::new(&m.fstype))),
            flags,
            Some(&data),
        );
        match result {
            // A sysfs that belongs to another network namespace cannot be mounted from a
            // user namespace: bind the host's instead, as runc does.
            Err(e) if in_userns && m.fstype == "sysfs" && e.raw_os_error() == Some(libc::EPERM) => {
                bind(Path::new("/sys"), &target, libc::MS_REC)
                    .map_err(err("bind-mount /sys onto", &m.destination))?;
                set_bind_attrs(root, &m.destination, o.attrs)?;
            }
            other => other.map_err(err("mount", &m.destination))?,
        }
        if let Some(below) = copy_from {
            let tmpfs = reopen(root, m)?;
            // Reached by path again: it must be a tmpfs (ours), not what a swapped path
            // component leads to.
            let on_tmpfs = nix::sys::statfs::fstatfs(&tmpfs)
                .is_ok_and(|st| st.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC);
            if !on_tmpfs {
                return Err(err("copy up into", &m.destination)(io::Error::other(
                    "the mount point no longer leads to the new tmpfs",
                )));
            }
            super::copy_up::copy_tree(below.as_fd(), tmpfs.as_fd())
                .map_err(err("copy up what the tmpfs covers at", &m.destination))?;
            if o.flags & libc::MS_RDONLY != 0 {
                sys::mount_setattr(tmpfs.as_fd(), attr::RDONLY, 0, false)
                    .map_err(err("make read-only", &m.destination))?;
            }
        }
    }
    finish(root, m)
}

/// Files under /proc that a mount may cover (what lxcfs provides), as runc allows.
const PROC_FILES: [&str; 10] = [
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// A mount point that lies on procfs or sysfs (an earlier mount put them inside the
/// rootfs) is refused unless the config names it directly, with no symlink on the way,
/// and it is one of the /proc files above or under /sys: an image's symlink must not
/// steer a volume over /proc/self/fd or a masked path (CVE-2019-16884).
fn check_destination(root: BorrowedFd<'_>, dest: &OwnedFd, m: &Mount) -> Result<()> {
    use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC, SYSFS_MAGIC};
    let fs = fstatfs(dest)
        .map_err(err("statfs mount point", &m.destination))?
        .filesystem_type();
    let allowed = if fs == PROC_SUPER_MAGIC {
        PROC_FILES.iter().any(|f| m.destination == Path::new(f))
    } else if fs == SYSFS_MAGIC {
        m.destination.starts_with("/sys")
    } else {
        return Ok(());
    };
    let same = |a: &OwnedFd, b: &OwnedFd| {
        let (Ok(a), Ok(b)) = (
            nix::sys::stat::fstat(a.as_raw_fd()),
            nix::sys::stat::fstat(b.as_raw_fd()),
        ) else {
            return false;
        };
        (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    };
    let direct = resolve::open(
        root,
        &m.destination,
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Symlinks::Refuse,
    )
    .is_ok_and(|fd| same(&fd, dest));
    if allowed && direct {
        return Ok(());
    }
    Err(err("refuse mount point", &m.destination)(io::Error::other(
        "it lies on procfs or sysfs",
    )))
}

fn bind(source: &Path, target: &CString, rec: u64) -> io::Result<()> {
    let src = crate::sys::open_path(source, 0)?;
    mount(
        Some(&fd_path(&src)),
        target,
        None,
        libc::MS_BIND | rec,
        None,
    )
}

/// `cgroup` mounts: on a v2 host one cgroup2 filesystem; on v1 and hybrid hosts a tmpfs
/// with one directory per hierarchy, each either a fresh mount (own cgroup namespace)
/// or a bind of the container's cgroup directory on the host.
fn mount_cgroup(root: BorrowedFd<'_>, m: &Mount, plan: &CgroupMountPlan) -> Result<()> {
    let flags = m.options.flags & !(libc::MS_BIND | libc::MS_REC);
    let dest = resolve::create(root, &m.destination, Kind::Dir, Symlinks::Refuse)
        .map_err(err("create mount point", &m.destination))?;
    let target = fd_path(&dest);
    let points = plan.mount_points(&m.destination);
    if plan.unified {
        let (_, _, host) = &points[0];
        mount_hierarchy("", host, &target, flags, plan.own_namespace)
            .map_err(err("mount cgroup2 on", &m.destination))?;
        if !plan.own_namespace {
            set_bind_attrs(root, &m.destination, m.options.attrs)?;
        }
        return finish(root, m);
    }
    mount(
        Some(&c"tmpfs".into()),
        &target,
        Some(&c"tmpfs".into()),
        flags & !libc::MS_RDONLY,
        Some(&c"mode=755".into()),
    )
    .map_err(err("mount tmpfs for cgroups on", &m.destination))?;
    for (key, sub, host) in &points {
        let fd =
            resolve::create(root, sub, Kind::Dir, Symlinks::Refuse).map_err(err("create", sub))?;
        mount_hierarchy(key, host, &fd_path(&fd), flags, plan.own_namespace)
            .map_err(err("mount cgroup on", sub))?;
        if !plan.own_namespace {
            set_bind_attrs(root, sub, m.options.attrs)?;
        }
        // Co-mounted controllers (cpu,cpuacct) are reachable under each name.
        if key.contains(',') {
            for alias in key.split(',') {
                let link = m.destination.join(alias);
                let parent = resolve::open(
                    root,
                    &m.destination,
                    OFlag::O_PATH | OFlag::O_DIRECTORY,
                    Symlinks::Refuse,
                )
                .map_err(err("open", &m.destination))?;
                let name = sub.file_name().unwrap_or_default();
                nix::unistd::symlinkat(name, Some(std::os::fd::AsRawFd::as_raw_fd(&parent)), alias)
                    .or_else(|e| {
                        if e == nix::errno::Errno::EEXIST {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })
                    .map_err(err("symlink", &link))?;
            }
        }
    }
    if flags & libc::MS_RDONLY != 0 {
        let fd = reopen(root, m)?;
        sys::mount_setattr(fd.as_fd(), attr::RDONLY, 0, false)
            .map_err(err("make read-only", &m.destination))?;
    }
    // Recursive attributes reach every hierarchy below; propagation as asked.
    finish(root, m)
}

/// Mounts one hierarchy on `target`: a fresh cgroup filesystem in the container's own
/// cgroup namespace, else a bind of the container's directory on the host. A read-only
/// bind is finished by the caller, which can reach the new mount.
fn mount_hierarchy(
    key: &str,
    host: &Path,
    target: &CString,
    flags: u64,
    own_namespace: bool,
) -> io::Result<()> {
    if !own_namespace {
        return bind(host, target, libc::MS_REC);
    }
    let (fstype, data) = if key.is_empty() {
        (c"cgroup2", String::new())
    } else if key.starts_with("name=") {
        (c"cgroup", format!("none,{key}"))
    } else {
        (c"cgroup", key.to_string())
    };
    let data = CString::new(data).unwrap_or_default();
    mount(
        Some(&fstype.into()),
        target,
        Some(&fstype.into()),
        flags,
        Some(&data),
    )
}

/// Sets `attrs` (`MOUNT_ATTR_*`: ro, nosuid, nodev, noexec, ...) on the bind mount at
/// `path` and below it: the flags that `mount(2)` ignores on a bind.
fn set_bind_attrs(root: BorrowedFd<'_>, path: &Path, attrs: AttrChange) -> Result<()> {
    if attrs.is_empty() {
        return Ok(());
    }
    let fd = resolve::open(
        root,
        path,
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Symlinks::Refuse,
    )
    .map_err(err("reopen mount point", path))?;
    // The clear bits too: an atime mode is only taken with the whole atime field cleared.
    sys::mount_setattr(fd.as_fd(), attrs.set, attrs.clear, true)
        .map_err(err("set mount attributes on", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(plan: &CgroupMountPlan, dest: &str) -> Vec<(String, String, String)> {
        plan.mount_points(Path::new(dest))
            .into_iter()
            .map(|(k, at, host)| (k, at.display().to_string(), host.display().to_string()))
            .collect()
    }

    fn owned(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        list.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn a_pure_v2_host_gets_one_cgroup2_mount_at_the_destination() {
        let plan = CgroupMountPlan {
            unified: true,
            own_namespace: false,
            hierarchies: vec![(String::new(), "/sys/fs/cgroup/c1".into())],
        };
        assert_eq!(
            points(&plan, "/sys/fs/cgroup"),
            owned(&[("", "/sys/fs/cgroup", "/sys/fs/cgroup/c1")])
        );
        // Even without a known directory (own namespace: nothing is bound).
        let bare = CgroupMountPlan {
            unified: true,
            ..CgroupMountPlan::default()
        };
        assert_eq!(points(&bare, "/cg"), owned(&[("", "/cg", "")]));
    }

    #[test]
    fn v1_hierarchies_each_get_a_directory_named_as_the_host_names_them() {
        let plan = CgroupMountPlan {
            unified: false,
            own_namespace: true,
            hierarchies: vec![
                ("cpu,cpuacct".into(), "/h/cpu,cpuacct/c1".into()),
                ("memory".into(), "/h/memory/c1".into()),
                ("name=systemd".into(), "/h/systemd/c1".into()),
                (String::new(), "/h/unified/c1".into()),
            ],
        };
        assert_eq!(
            points(&plan, "/sys/fs/cgroup"),
            owned(&[
                (
                    "cpu,cpuacct",
                    "/sys/fs/cgroup/cpu,cpuacct",
                    "/h/cpu,cpuacct/c1"
                ),
                ("memory", "/sys/fs/cgroup/memory", "/h/memory/c1"),
                ("name=systemd", "/sys/fs/cgroup/systemd", "/h/systemd/c1"),
                ("", "/sys/fs/cgroup/unified", "/h/unified/c1"),
            ])
        );
        assert!(CgroupMountPlan::default()
            .mount_points(Path::new("/x"))
            .is_empty());
    }

    #[test]
    fn the_plan_crosses_to_init_intact() {
        let plan = CgroupMountPlan {
            unified: false,
            own_namespace: true,
            hierarchies: vec![("pids".into(), "/h/pids/c".into())],
        };
        let json = serde_json::to_string(&plan).unwrap();
        let back: CgroupMountPlan = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (back.unified, back.own_namespace, back.hierarchies),
            (plan.unified, plan.own_namespace, plan.hierarchies)
        );
    }

    #[test]
    fn only_the_lxcfs_files_of_proc_may_be_covered() {
        for f in PROC_FILES {
            assert!(f.starts_with("/proc/"), "{f}");
        }
        for never in [
            "/proc/self/fd",
            "/proc/sys/kernel/core_pattern",
            "/proc/kcore",
        ] {
            assert!(!PROC_FILES.contains(&never), "{never}");
        }
    }
}
