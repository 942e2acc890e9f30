//! Checkpoint and restore with CRIU: the options (the seed's `CriuOpts` and what runc
//! added), which CRIU is good enough, and the requests hull sends to `criu swrk` for a
//! container's tree: its root, its cgroups, the mounts CRIU must treat as external
//! (binds from the host, masked files, the host's cgroup directories), namespaces the
//! container joined by path, and init's pipes. [`crate::Container::checkpoint`] and
//! [`crate::Container::restore`] drive it.

pub(crate) mod rpc;
pub(crate) mod swrk;

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::config::{Config, NamespaceKind};
use rpc::{CgMode, ExtMountMap, Opts};

/// The oldest CRIU hull drives (RPC fields and notifications it relies on).
pub const MIN_VERSION: (u32, u32) = (3, 11);

/// The file beside the images naming init's stdin, stdout and stderr at the checkpoint
/// (runc's name and form: a JSON list of three strings).
pub const DESCRIPTORS_FILE: &str = "descriptors.json";

/// How CRIU treats the container's cgroups (runc's `--manage-cgroups-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CgroupsMode {
    /// Restore properties only of cgroups CRIU makes (CRIU's default).
    Soft,
    /// Restore every property.
    Full,
    /// Like full, and fail where a property cannot be restored.
    Strict,
    /// Leave cgroups alone.
    Ignore,
}

/// A `--manage-cgroups-mode` that is none of the four.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a cgroups mode (soft, full, strict or ignore)")]
pub struct UnknownCgroupsMode(String);

impl std::str::FromStr for CgroupsMode {
    type Err = UnknownCgroupsMode;
    fn from_str(s: &str) -> Result<Self, UnknownCgroupsMode> {
        match s {
            "soft" => Ok(CgroupsMode::Soft),
            "full" => Ok(CgroupsMode::Full),
            "strict" => Ok(CgroupsMode::Strict),
            "ignore" => Ok(CgroupsMode::Ignore),
            _ => Err(UnknownCgroupsMode(s.to_string())),
        }
    }
}

/// How to checkpoint or restore a container (the seed's `CriuOpts`, with runc's
/// additions). Only `images_dir` is required.
#[derive(Debug, Default)]
pub struct CriuOptions {
    /// The CRIU program: `criu` on `PATH` when `None`.
    pub criu: Option<PathBuf>,
    /// Where the images go (made if missing) or come from.
    pub images_dir: PathBuf,
    /// Where CRIU writes its log (`dump.log`, `restore.log`) and scratch files; the
    /// container's state directory (`criu.work`) when `None`.
    pub work_dir: Option<PathBuf>,
    /// Images of a pre-dump this checkpoint only adds to (relative to `images_dir`).
    pub parent_image: Option<PathBuf>,
    /// Keep the container running after the checkpoint.
    pub leave_running: bool,
    /// Checkpoint and restore established TCP connections.
    pub tcp_established: bool,
    /// Allow unix sockets connected outside the container.
    pub external_unix_sockets: bool,
    /// The container's init is a shell job (its session's terminal is outside).
    pub shell_job: bool,
    /// Checkpoint and restore file locks.
    pub file_locks: bool,
    /// Only dump memory, to make a later checkpoint shorter (needs memory dirty
    /// tracking from the kernel).
    pub pre_dump: bool,
    /// Send memory pages to a CRIU page server at (address, port) instead of the images.
    pub page_server: Option<(String, i32)>,
    /// Leave memory behind, to be fetched on demand by a restore (userfaultfd).
    pub lazy_pages: bool,
    /// A descriptor CRIU writes a zero byte to once the lazy pages are being served.
    pub status_fd: Option<OwnedFd>,
    /// How CRIU treats the container's cgroups (CRIU's default, soft, when `None`).
    pub cgroups_mode: Option<CgroupsMode>,
    /// Namespaces not to checkpoint: on restore the container gets fresh, empty ones
    /// (runc's `--empty-ns`; only the network namespace is allowed, as in runc).
    pub empty_namespaces: Vec<NamespaceKind>,
    /// Deduplicate the images against the parent's as they are written.
    pub auto_dedup: bool,
    /// The LSM profile for the restored processes.
    pub lsm_profile: Option<String>,
    /// The SELinux context for the restored container's mounts.
    pub lsm_mount_context: Option<String>,
}

impl CriuOptions {
    /// The CRIU program to run.
    pub fn program(&self) -> &Path {
        self.criu.as_deref().unwrap_or(Path::new("criu"))
    }
}

/// Why a checkpoint or restore could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CriuError {
    #[error("cannot run CRIU ({program}): {source}")]
    /// The CRIU binary could not be run.
    Missing {
        /// The CRIU binary hull tried.
        program: PathBuf,
        /// Why it could not be run.
        source: std::io::Error,
    },
    #[error("CRIU {found} ({program}) is older than the {}.{} hull needs", MIN_VERSION.0, MIN_VERSION.1)]
    /// CRIU is older than hull needs.
    TooOld {
        /// The CRIU binary that was run.
        program: PathBuf,
        /// The version it reported.
        found: String,
    },
    #[error("{0}")]
    /// CRIU refused the options or the container (the text says why).
    Refused(String),
    /// CRIU failed; its own log says why in detail.
    #[error("CRIU failed to {action}: {why} (CRIU's log: {})", log.display())]
    Failed {
        /// `checkpoint` or `restore`.
        action: &'static str,
        /// What CRIU reported.
        why: String,
        /// CRIU's log file of the operation.
        log: PathBuf,
    },
}

/// Checks that `program` is a CRIU hull can drive (`criu --version`).
pub fn check_version(program: &Path) -> Result<(), CriuError> {
    let output = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| CriuError::Missing {
            program: program.into(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let found = text
        .lines()
        .find_map(|l| l.strip_prefix("Version:"))
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let mut numbers = found.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    if !output.status.success() || version < MIN_VERSION {
        let found = if found.is_empty() {
            "of unknown version".to_string()
        } else {
            found
        };
        return Err(CriuError::TooOld {
            program: program.into(),
            found,
        });
    }
    Ok(())
}

/// The kernel features CRIU reports for what `opts` asks (pre-dump and parent images
/// need memory dirty tracking; lazy pages need userfaultfd): refused by name when
/// missing, as runc does, before anything is done.
pub fn check_features(opts: &CriuOptions) -> Result<(), CriuError> {
    let tracking = opts.pre_dump || opts.parent_image.is_some();
    if !tracking && !opts.lazy_pages {
        return Ok(());
    }
    let asked = rpc::Features {
        mem_track: tracking.then_some(true),
        lazy_pages: opts.lazy_pages.then_some(true),
    };
    let req = rpc::Req {
        r#type: rpc::ReqType::FeatureCheck as i32,
        features: Some(asked),
        ..rpc::Req::default()
    };
    let swrk = swrk::Swrk::start(swrk::Launch {
        criu: opts.program(),
        stdio: [(); 3].map(|()| std::process::Stdio::null()),
        inherit: Vec::new(),
    })
    .map_err(|e| talk_error(opts.program(), e))?;
    let resp = swrk
        .call(&req, &mut |_, _| Ok(()))
        .map_err(|e| talk_error(opts.program(), e))?;
    let found = resp.features.unwrap_or_default();
    if tracking && found.mem_track != Some(true) {
        return Err(CriuError::Refused(
            "--pre-dump and --parent-path need memory dirty tracking (the soft-dirty \
             bit), which CRIU reports this kernel does not have"
                .into(),
        ));
    }
    if opts.lazy_pages && found.lazy_pages != Some(true) {
        return Err(CriuError::Refused(
            "--lazy-pages needs userfaultfd, which CRIU reports this kernel does not offer".into(),
        ));
    }
    Ok(())
}

fn talk_error(program: &Path, e: swrk::SwrkError) -> CriuError {
    match e {
        swrk::SwrkError::Start(source) => CriuError::Missing {
            program: program.into(),
            source,
        },
        swrk::SwrkError::Talk(why) | swrk::SwrkError::Handler(why) => {
            CriuError::Refused(format!("CRIU ({}): {why}", program.display()))
        }
    }
}

/// What went wrong in a call, as one line that points at CRIU's log.
pub(crate) fn failure(
    action: &'static str,
    log: PathBuf,
    result: Result<rpc::Resp, swrk::SwrkError>,
    program: &Path,
) -> Result<rpc::Resp, CriuError> {
    let why = match result {
        Ok(resp) if resp.success => return Ok(resp),
        Ok(resp) => last_errors(&log).unwrap_or_else(|| {
            let why = resp
                .cr_errmsg
                .unwrap_or_else(|| "it reported a failure".into());
            why.trim().to_string()
        }),
        Err(swrk::SwrkError::Start(source)) => {
            return Err(CriuError::Missing {
                program: program.into(),
                source,
            })
        }
        Err(swrk::SwrkError::Talk(why)) | Err(swrk::SwrkError::Handler(why)) => why,
    };
    Err(CriuError::Failed { action, why, log })
}

/// The last errors CRIU logged (its first one is often harmless), without their
/// timestamps and source locations: `a; b; c`.
fn last_errors(log: &Path) -> Option<String> {
    let text = fs::read_to_string(log).ok()?;
    let errors: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_once("Error (").map(|(_, rest)| rest))
        .map(|rest| {
            rest.split_once("): ")
                .map_or(rest, |(_, message)| message)
                .trim()
        })
        .collect();
    let last = &errors[errors.len().saturating_sub(3)..];
    (!last.is_empty()).then(|| last.join("; "))
}

/// Makes `dir` (mode 0700) if missing, and opens it.
pub(crate) fn open_dir(dir: &Path, what: &str, make: bool) -> Result<fs::File, CriuError> {
    if make {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| CriuError::Refused(format!("{what} {}: {e}", dir.display())))?;
    }
    use std::os::unix::fs::OpenOptionsExt;
    fs::File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| CriuError::Refused(format!("{what} {}: {e}", dir.display())))
}

/// The options every request shares.
pub(crate) fn base_opts(
    opts: &CriuOptions,
    images: &fs::File,
    work: &fs::File,
    log_file: &str,
) -> Opts {
    Opts {
        images_dir_fd: images.as_raw_fd(),
        work_dir_fd: Some(work.as_raw_fd()),
        log_level: Some(4),
        log_file: Some(log_file.into()),
        manage_cgroups: Some(true),
        manage_cgroups_mode: opts.cgroups_mode.map(|m| {
            (match m {
                CgroupsMode::Soft => CgMode::Soft,
                CgroupsMode::Full => CgMode::Full,
                CgroupsMode::Strict => CgMode::Strict,
                CgroupsMode::Ignore => CgMode::Ignore,
            }) as i32
        }),
        notify_scripts: Some(true),
        shell_job: Some(opts.shell_job),
        ext_unix_sk: Some(opts.external_unix_sockets),
        tcp_established: Some(opts.tcp_established),
        file_locks: Some(opts.file_locks),
        empty_ns: empty_namespaces(&opts.empty_namespaces).filter(|f| *f != 0),
        auto_dedup: Some(opts.auto_dedup),
        lazy_pages: Some(opts.lazy_pages),
        status_fd: opts.status_fd.as_ref().map(|fd| fd.as_raw_fd()),
        orphan_pts_master: Some(true),
        ..Opts::default()
    }
}

fn empty_namespaces(kinds: &[NamespaceKind]) -> Option<u32> {
    Some(
        kinds
            .iter()
            .fold(0, |flags, k| flags | k.clone_flag() as u32),
    )
}

/// Refuses `--empty-ns` for any namespace but the network's (as runc).
pub fn check_empty_namespaces(kinds: &[NamespaceKind]) -> Result<(), CriuError> {
    match kinds.iter().find(|k| **k != NamespaceKind::Network) {
        Some(k) => Err(CriuError::Refused(format!(
            "--empty-ns: only the network namespace can be left empty, not {}",
            k.oci_name()
        ))),
        None => Ok(()),
    }
}

/// The name CRIU's images give the namespace `kind` joined from outside (runc's names).
fn external_namespace_key(kind: NamespaceKind) -> String {
    let name = match kind {
        NamespaceKind::Network => "Net",
        _ => "Pid",
    };
    format!("extRoot{name}NS")
}

/// The namespaces the container joined by path that CRIU must leave outside: the
/// network and pid ones, as in runc.
pub(crate) fn external_namespaces(config: &Config) -> Vec<(NamespaceKind, PathBuf)> {
    config
        .namespaces
        .iter()
        .filter(|n| matches!(n.kind, NamespaceKind::Network | NamespaceKind::Pid))
        .filter_map(|n| n.path.clone().map(|p| (n.kind, p)))
        .collect()
}

/// `--external` entries for a dump: `net[<inode>]:extRootNetNS`.
pub(crate) fn dump_external_namespaces(config: &Config) -> Result<Vec<String>, CriuError> {
    use std::os::unix::fs::MetadataExt;
    external_namespaces(config)
        .into_iter()
        .map(|(kind, path)| {
            let inode = fs::metadata(&path)
                .map_err(|e| CriuError::Refused(format!("namespace {}: {e}", path.display())))?
                .ino();
            let short = if kind == NamespaceKind::Network {
                "net"
            } else {
                "pid"
            };
            Ok(format!("{short}[{inode}]:{}", external_namespace_key(kind)))
        })
        .collect()
}

/// The namespaces joined by path, opened for a restore: (`inherit_fd` key, descriptor).
pub(crate) fn restore_external_namespaces(
    config: &Config,
) -> Result<Vec<(String, OwnedFd)>, CriuError> {
    external_namespaces(config)
        .into_iter()
        .map(|(kind, path)| {
            let file = fs::File::open(&path)
                .map_err(|e| CriuError::Refused(format!("namespace {}: {e}", path.display())))?;
            Ok((external_namespace_key(kind), OwnedFd::from(file)))
        })
        .collect()
}

/// A mount CRIU leaves to the caller: `name` in the images, at `mount_point` in the
/// container, `source` on the host at restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExternalMount {
    pub mount_point: PathBuf,
    pub name: String,
    pub source: PathBuf,
}

/// The name masked files share in the images (each is `/dev/null` bound over).
const MASK_NAME: &str = "/dev/null";

/// The container's external mounts: every bind from the config (named by its
/// destination), the cgroup hierarchies bound from the host (`cgroup_binds`:
/// destination and host directory), and the masked paths that are files
/// (`masked_files`).
pub(crate) fn external_mounts(
    config: &Config,
    cgroup_binds: &[(PathBuf, PathBuf)],
    masked_files: &[PathBuf],
) -> Vec<ExternalMount> {
    let binds = config
        .mounts
        .iter()
        .filter(|m| m.options.flags & libc::MS_BIND != 0 && m.fstype != "cgroup")
        .map(|m| (m.destination.clone(), m.source.clone().unwrap_or_default()));
    binds
        .chain(cgroup_binds.iter().cloned())
        .map(|(mount_point, source)| ExternalMount {
            name: mount_point.to_string_lossy().into_owned(),
            mount_point,
            source,
        })
        .chain(masked_files.iter().map(|path| ExternalMount {
            mount_point: path.clone(),
            name: MASK_NAME.into(),
            source: MASK_NAME.into(),
        }))
        .collect()
}

/// `ext_mnt` for a dump: mount point -> name.
pub(crate) fn dump_mount_map(mounts: &[ExternalMount]) -> Vec<ExtMountMap> {
    mounts
        .iter()
        .map(|m| ExtMountMap {
            key: m.mount_point.to_string_lossy().into_owned(),
            val: m.name.clone(),
        })
        .collect()
}

/// `ext_mnt` for a restore: name -> host source (each name once).
pub(crate) fn restore_mount_map(mounts: &[ExternalMount]) -> Vec<ExtMountMap> {
    let mut map: Vec<ExtMountMap> = Vec::new();
    for m in mounts {
        if !map.iter().any(|e| e.key == m.name) {
            map.push(ExtMountMap {
                key: m.name.clone(),
                val: m.source.to_string_lossy().into_owned(),
            });
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Mount, MountOptions};

    fn bind(source: &str, destination: &str) -> Mount {
        Mount {
            source: Some(source.into()),
            destination: destination.into(),
            fstype: "bind".into(),
            options: MountOptions {
                flags: libc::MS_BIND | libc::MS_REC,
                ..MountOptions::default()
            },
            idmap: None,
        }
    }

    #[test]
    fn external_mounts_are_named_for_dump_and_mapped_for_restore() {
        let config = Config {
            mounts: vec![
                bind("/srv/data", "/data"),
                Mount {
                    source: Some("proc".into()),
                    destination: "/proc".into(),
                    fstype: "proc".into(),
                    options: MountOptions::default(),
                    idmap: None,
                },
            ],
            ..Config::default()
        };
        let cgroups = [(
            PathBuf::from("/sys/fs/cgroup/memory"),
            PathBuf::from("/sys/fs/cgroup/memory/c1"),
        )];
        let masked = [PathBuf::from("/proc/kcore"), PathBuf::from("/proc/keys")];
        let mounts = external_mounts(&config, &cgroups, &masked);
        let pairs = |map: Vec<ExtMountMap>| -> Vec<(String, String)> {
            map.into_iter().map(|e| (e.key, e.val)).collect()
        };
        assert_eq!(
            pairs(dump_mount_map(&mounts)),
            [
                ("/data", "/data"),
                ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory"),
                ("/proc/kcore", "/dev/null"),
                ("/proc/keys", "/dev/null"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(
            pairs(restore_mount_map(&mounts)),
            [
                ("/data", "/srv/data"),
                ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/c1"),
                ("/dev/null", "/dev/null"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn only_the_network_namespace_may_be_left_empty() {
        assert!(check_empty_namespaces(&[NamespaceKind::Network]).is_ok());
        let err = check_empty_namespaces(&[NamespaceKind::Pid]).unwrap_err();
        assert!(err.to_string().contains("not pid"), "{err}");
        assert_eq!(
            empty_namespaces(&[NamespaceKind::Network]),
            Some(libc::CLONE_NEWNET as u32)
        );
    }

    #[test]
    fn cgroups_modes_parse_as_runc_spells_them() {
        assert_eq!("full".parse(), Ok(CgroupsMode::Full));
        assert!("hard".parse::<CgroupsMode>().is_err());
    }

    #[test]
    fn every_request_carries_the_options_asked_and_hulls_fixed_ones() {
        let dir = crate::test_util::Scratch::new("criu-opts");
        let images = open_dir(&dir.join("images"), "images", true).unwrap();
        let work = open_dir(&dir.join("work"), "work", true).unwrap();
        let opts = CriuOptions {
            shell_job: true,
            tcp_established: true,
            file_locks: false,
            auto_dedup: true,
            cgroups_mode: Some(CgroupsMode::Strict),
            empty_namespaces: vec![NamespaceKind::Network],
            ..CriuOptions::default()
        };
        let o = base_opts(&opts, &images, &work, "dump.log");
        assert_eq!(o.images_dir_fd, images.as_raw_fd());
        assert_eq!(o.work_dir_fd, Some(work.as_raw_fd()));
        assert_eq!(o.log_file.as_deref(), Some("dump.log"));
        assert_eq!(o.log_level, Some(4));
        assert_eq!(
            (o.shell_job, o.tcp_established, o.file_locks, o.auto_dedup),
            (Some(true), Some(true), Some(false), Some(true))
        );
        assert_eq!(o.ext_unix_sk, Some(false));
        assert_eq!(o.manage_cgroups, Some(true));
        assert_eq!(o.manage_cgroups_mode, Some(CgMode::Strict as i32));
        assert_eq!(o.empty_ns, Some(libc::CLONE_NEWNET as u32));
        assert_eq!(o.orphan_pts_master, Some(true));
        assert_eq!(o.status_fd, None);
        // Nothing asked: CRIU's defaults, and no empty namespace mask at all.
        let o = base_opts(&CriuOptions::default(), &images, &work, "x.log");
        assert_eq!((o.manage_cgroups_mode, o.empty_ns), (None, None));
        let modes = [
            (CgroupsMode::Soft, CgMode::Soft),
            (CgroupsMode::Full, CgMode::Full),
            (CgroupsMode::Ignore, CgMode::Ignore),
        ];
        for (mode, wire) in modes {
            let opts = CriuOptions {
                cgroups_mode: Some(mode),
                ..CriuOptions::default()
            };
            let o = base_opts(&opts, &images, &work, "x.log");
            assert_eq!(o.manage_cgroups_mode, Some(wire as i32), "{mode:?}");
        }
    }

    #[test]
    fn directories_are_made_private_or_must_exist() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::test_util::Scratch::new("criu-dir");
        open_dir(&dir.join("a/b"), "images", true).unwrap();
        let mode = fs::metadata(dir.join("a/b")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let err = open_dir(&dir.join("missing"), "images", false).unwrap_err();
        assert!(err.to_string().starts_with("images "), "{err}");
        dir.write("file", "");
        assert!(open_dir(&dir.join("file"), "work", false).is_err());
    }

    #[test]
    fn the_last_errors_of_criu_s_log_say_why() {
        let dir = crate::test_util::Scratch::new("criu-log");
        let log = dir.write(
            "dump.log",
            "(00.001) Version: 3.19\n\
             (00.002) Error (criu/a.c:1): first, often harmless\n\
             (00.003) Warn  (criu/b.c:2): not an error\n\
             (00.004) Error (criu/c.c:3): second\n\
             (00.005) Error (criu/d.c:4): third\n\
             (00.006) Error (criu/e.c:5): fourth\n",
        );
        assert_eq!(last_errors(&log).as_deref(), Some("second; third; fourth"));
        let clean = dir.write("clean.log", "(00.001) Dumping finished successfully\n");
        assert_eq!(last_errors(&clean), None);
        assert_eq!(last_errors(&dir.join("missing.log")), None);

        // A failure points at the log, with its errors or CRIU's own message.
        let failed = rpc::Resp {
            success: false,
            cr_errmsg: Some(" no space \n".into()),
            ..rpc::Resp::default()
        };
        let program = Path::new("criu");
        match failure("dump", log.clone(), Ok(failed.clone()), program) {
            Err(CriuError::Failed { action, why, .. }) => {
                assert_eq!((action, why.as_str()), ("dump", "second; third; fourth"))
            }
            other => panic!("{other:?}"),
        }
        let err = failure("dump", dir.join("missing.log"), Ok(failed), program).unwrap_err();
        assert!(
            err.to_string().contains("failed to dump: no space"),
            "{err}"
        );
        let ok = rpc::Resp {
            success: true,
            ..rpc::Resp::default()
        };
        assert!(failure("dump", log.clone(), Ok(ok), program).is_ok());
        let missing = failure(
            "restore",
            log,
            Err(swrk::SwrkError::Start(std::io::Error::from_raw_os_error(
                libc::ENOENT,
            ))),
            program,
        );
        assert!(matches!(missing, Err(CriuError::Missing { .. })));
    }

    #[test]
    fn a_program_that_is_not_a_recent_criu_is_refused() {
        let missing = check_version(Path::new("/nonexistent/criu")).unwrap_err();
        assert!(matches!(missing, CriuError::Missing { .. }), "{missing}");
        // Runs and succeeds, but names no version.
        let err = check_version(Path::new("/bin/true")).unwrap_err();
        assert!(err.to_string().contains("of unknown version"), "{err}");
    }

    #[test]
    fn namespaces_joined_by_path_are_external_by_inode() {
        use std::os::unix::fs::MetadataExt;
        let dir = crate::test_util::Scratch::new("criu-ns");
        let net = dir.write("net", "");
        let config = Config {
            namespaces: vec![
                crate::config::Namespace {
                    kind: NamespaceKind::Network,
                    path: Some(net.clone()),
                },
                crate::config::Namespace {
                    kind: NamespaceKind::Pid,
                    path: None,
                },
                crate::config::Namespace {
                    kind: NamespaceKind::Ipc,
                    path: Some("/proc/1/ns/ipc".into()),
                },
            ],
            ..Config::default()
        };
        assert_eq!(
            external_namespaces(&config),
            [(NamespaceKind::Network, net.clone())]
        );
        let ino = fs::metadata(&net).unwrap().ino();
        assert_eq!(
            dump_external_namespaces(&config).unwrap(),
            [format!("net[{ino}]:extRootNetNS")]
        );
        assert_eq!(external_namespace_key(NamespaceKind::Pid), "extRootPidNS");
        let restored = restore_external_namespaces(&config).unwrap();
        assert_eq!(restored.len(), 1);
        assert_eq!(restored[0].0, "extRootNetNS");
    }
}
