//! A container's checkpoint and restore (the seed's `Checkpoint` and `Restore`): what
//! the container tells CRIU (see [`crate::criu`]) and what it does with CRIU's
//! notifications: after a dump that stopped it, the container is `Checkpointed`; after a
//! restore, the restored tree's root is its init, saved as such.

use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::{liveness, state, Container, Status};
use crate::cgroups::Layout;
use crate::config::NamespaceKind;
use crate::criu::rpc::{CgroupRoot, Req, ReqType};
use crate::criu::swrk::{Launch, Swrk, FIRST_INHERITED_FD};
use crate::criu::{self, CriuError, CriuOptions, DESCRIPTORS_FILE};
use crate::error::{Error, Result};
use crate::hooks;
use crate::process::{Process, ProcessHandle};

/// Where the container's root is bound for CRIU during a restore, in the state
/// directory (CRIU takes the work directory from our mount namespace, so it must run,
/// and find the root, in ours).
const RESTORE_ROOT: &str = "criu-root";

impl Container {
    /// Checkpoints the running (or paused) container into `opts.images_dir` with CRIU.
    /// Unless `opts.leave_running` (or a pre-dump), its processes are gone afterwards and
    /// it is [`Status::Checkpointed`] until restored or destroyed. On failure the
    /// container is as it was, and the error names CRIU's log.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use hull::CriuOptions;
    ///
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.load("demo")?;
    /// let opts = CriuOptions {
    ///     images_dir: "/var/lib/demo/checkpoint".into(),
    ///     ..CriuOptions::default()
    /// };
    /// container.checkpoint(&opts)?; // the container is stopped (not `leave_running`)
    /// # Ok(())
    /// # }
    /// ```
    pub fn checkpoint(&mut self, opts: &CriuOptions) -> Result<()> {
        match self.status() {
            Status::Running | Status::Paused => {}
            _ => return Err(self.wrong_state("checkpoint")),
        }
        self.check_criu(opts)?;
        let images = criu::open_dir(&opts.images_dir, "image directory", true)?;
        let work_dir = self.work_dir(opts);
        let work = criu::open_dir(&work_dir, "work directory", true)?;
        let descriptors = serde_json::to_vec(&self.state.external_descriptors)
            .map_err(|e| Error::io("serialize", DESCRIPTORS_FILE, e.into()))?;
        crate::safe_file::replace(&opts.images_dir.join(DESCRIPTORS_FILE), &descriptors, 0o600)
            .map_err(|e| Error::io("write", opts.images_dir.join(DESCRIPTORS_FILE), e))?;

        let mut rpc = criu::base_opts(opts, &images, &work, "dump.log");
        rpc.pid = Some(self.state.init_pid);
        rpc.root = Some(self.state.config.rootfs.to_string_lossy().into_owned());
        rpc.leave_running = Some(opts.leave_running || opts.pre_dump);
        rpc.freeze_cgroup = self
            .state
            .cgroup
            .freezer_dir()
            .map(|d| d.to_string_lossy().into_owned());
        rpc.external = criu::dump_external_namespaces(&self.state.config)?;
        rpc.ext_mnt = criu::dump_mount_map(&self.external_mounts()?);
        rpc.parent_img = opts
            .parent_image
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        rpc.track_mem = opts.pre_dump.then_some(true);
        rpc.ps = opts
            .page_server
            .as_ref()
            .map(|(address, port)| criu::rpc::PageServerInfo {
                address: Some(address.clone()),
                port: Some(*port),
            });
        let req = Req {
            r#type: if opts.pre_dump {
                ReqType::PreDump
            } else {
                ReqType::Dump
            } as i32,
            opts: Some(rpc),
            ..Req::default()
        };
        let swrk = Swrk::start(Launch {
            criu: opts.program(),
            stdio: [(); 3].map(|()| std::process::Stdio::null()),
            inherit: Vec::new(),
        });
        let log = work_dir.join("dump.log");
        let result = match swrk {
            // Network lock and unlock, post-dump: nothing of hull's to do.
            Ok(swrk) => swrk.call(&req, &mut |_, _| Ok(())),
            Err(e) => Err(e),
        };
        criu::failure("checkpoint", log, result, opts.program())?;
        if opts.leave_running || opts.pre_dump {
            return Ok(());
        }
        // CRIU ended the tree: the container holds nothing on the host any more but
        // its state, and a restore makes its cgroup anew.
        self.state.cgroup.remove()?;
        self.state.cgroup = crate::cgroups::Cgroup::default();
        self.state.checkpointed = true;
        self.state.save(&self.dir)
    }

    /// Restores the container from `opts.images_dir` (the seed's `Restore`): a container
    /// that was created but never started (as runc's `restore` makes one), or one that
    /// was checkpointed. Its cgroup is made with the config's limits, CRIU rebuilds the
    /// tree in it, and the tree's root becomes the container's init, a child of the
    /// caller (the returned handle). `process` gives the new stdio (for the pipes init had)
    /// and the console socket (for its terminal). On failure nothing of it is left.
    ///
    /// Hooks: prestart and createRuntime run once CRIU has made the namespaces.
    /// Of `process` only its stdio and console socket count: CRIU brings back the rest.
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use hull::CriuOptions;
    ///
    /// let (config, process) = hull::spec::load("/path/to/bundle".as_ref())?;
    /// let factory = hull::Factory::new("/run/hull")?;
    /// let mut container = factory.create("demo", config)?;
    /// let opts = CriuOptions {
    ///     images_dir: "/var/lib/demo/checkpoint".into(),
    ///     ..CriuOptions::default()
    /// };
    /// let init = container.restore(process, &opts)?;
    /// init.wait()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn restore(&mut self, mut process: Process, opts: &CriuOptions) -> Result<ProcessHandle> {
        let restorable = self.state.init_pid == 0
            || (!liveness::is_alive(self.state.init_pid, self.state.init_start_time));
        if !restorable {
            return Err(Error::NotStopped {
                id: self.state.id.clone(),
                status: self.status().as_str(),
            });
        }
        // CRIU makes the restored network namespace from its images; hull's move of
        // devices into a new one is not wired into that.
        if !self.state.config.net_devices.is_empty() {
            return Err(crate::ConfigError::new(
                "linux.netDevices",
                "restore cannot move network devices into the restored container",
            )
            .into());
        }
        // Nor are the seed's networks: CRIU would need each veth's outside end named
        // (and hull would set hairpin and record the host ends again).
        if !self.state.config.networks.is_empty() || !self.state.config.routes.is_empty() {
            return Err(crate::ConfigError::new(
                "networks",
                "restore cannot set up networks or routes in the restored container",
            )
            .into());
        }
        self.check_criu(opts)?;
        let images = criu::open_dir(&opts.images_dir, "image directory", false)?;
        let work_dir = self.work_dir(opts);
        let work = criu::open_dir(&work_dir, "work directory", true)?;
        let descriptors = read_descriptors(&opts.images_dir)?;
        let layout = Layout::detect()?;
        self.claim_cgroup(&layout, &process)?;
        let result = self.prepare_restore_host().and_then(|()| {
            self.run_restore(
                &mut process,
                opts,
                (&images, &work, &work_dir),
                &descriptors,
            )
        });
        remove_restore_root(&self.dir);
        result.inspect_err(|_| {
            self.undo_start(self.state.init_pid != 0);
            self.state.init_pid = 0;
            let _ = self.state.save(&self.dir);
        })
    }

    /// The cgroup with its limits, the mount points of the binds (a copied rootfs may
    /// lack them), and the root bound where CRIU takes it from.
    fn prepare_restore_host(&mut self) -> Result<()> {
        let config = &self.state.config;
        if config.readonly_rootfs && !config.rootfs.join("tmp").is_dir() {
            // CRIU pivots into the restored root through its /tmp (seen with 4.2; runc
            // fails the same way, with "Can't create a temporary directory").
            return Err(CriuError::Refused(
                "CRIU cannot restore a read-only root filesystem without a /tmp directory in it"
                    .into(),
            )
            .into());
        }
        self.make_cgroup()?;
        bind_restore_root(&self.state.config.rootfs, &self.dir)?;
        let rootfs = fs::File::open(&self.state.config.rootfs)
            .map_err(|e| Error::io("open", &self.state.config.rootfs, e))?;
        for m in &self.state.config.mounts {
            if m.options.flags & libc::MS_BIND == 0 {
                continue;
            }
            let source_is_dir = m.source.as_deref().is_some_and(Path::is_dir);
            let kind = if source_is_dir {
                crate::rootfs::resolve::Kind::Dir
            } else {
                crate::rootfs::resolve::Kind::File
            };
            crate::rootfs::resolve::create(
                rootfs.as_fd(),
                &m.destination,
                kind,
                crate::rootfs::resolve::Symlinks::InRoot,
            )
            .map_err(|e| Error::io("create mount point", &m.destination, e))?;
        }
        Ok(())
    }

    fn run_restore(
        &mut self,
        process: &mut Process,
        opts: &CriuOptions,
        (images, work, work_dir): (&fs::File, &fs::File, &Path),
        descriptors: &[String],
    ) -> Result<ProcessHandle> {
        let root = self.dir.join(RESTORE_ROOT);
        let mut rpc = criu::base_opts(opts, images, work, "restore.log");
        rpc.root = Some(root.to_string_lossy().into_owned());
        rpc.rst_sibling = Some(true);
        rpc.evasive_devices = Some(true);
        rpc.lsm_profile.clone_from(&opts.lsm_profile);
        rpc.lsm_mount_context.clone_from(&opts.lsm_mount_context);
        rpc.ext_mnt = criu::restore_mount_map(&self.external_mounts()?);
        // CRIU's own descriptors: its stdio are the new stdio, standing for the pipes
        // init had; then the namespaces joined by path.
        let mut inherit: Vec<OwnedFd> = Vec::new();
        for (i, old) in descriptors.iter().enumerate().take(3) {
            if old.starts_with("pipe:") {
                rpc.inherit_fd.push(criu::rpc::InheritFd {
                    key: old.clone(),
                    fd: i as i32,
                });
            }
        }
        for (key, fd) in criu::restore_external_namespaces(&self.state.config)? {
            rpc.inherit_fd.push(criu::rpc::InheritFd {
                key,
                fd: FIRST_INHERITED_FD + inherit.len() as i32,
            });
            inherit.push(fd);
        }
        // The process's stdio, or where it has none, the caller's own.
        let stdio = [
            process.stdin.take(),
            process.stdout.take(),
            process.stderr.take(),
        ]
        .map(|fd| fd.map_or_else(std::process::Stdio::inherit, std::process::Stdio::from));
        let swrk = Swrk::start(Launch {
            criu: opts.program(),
            stdio,
            inherit,
        });
        let log = work_dir.join("restore.log");
        let swrk = match swrk {
            Ok(swrk) => swrk,
            Err(e) => {
                criu::failure("restore", log, Err(e), opts.program())?;
                unreachable!("a failed start is an error");
            }
        };
        // CRIU goes into the container's cgroup first: the tree it makes is born there.
        self.place_process(swrk.pid())?;
        rpc.cg_root = cgroup_roots(swrk.pid());
        let req = Req {
            r#type: ReqType::Restore as i32,
            opts: Some(rpc),
            ..Req::default()
        };
        let mut restored = None;
        let template = self.state.oci(Status::Created.as_str(), 0);
        let hooks = self.state.config.hooks.clone();
        let console = process.console_socket.take();
        let result = swrk.call(&req, &mut |notify, fd| {
            let pid = notify.pid.unwrap_or(0);
            match notify.script.as_deref() {
                Some("setup-namespaces") => {
                    let mut state = template.clone();
                    state["pid"] = pid.into();
                    let state = state.to_string();
                    hooks::run_all("prestart", &hooks.prestart, &state)?;
                    Ok(hooks::run_all(
                        "createRuntime",
                        &hooks.create_runtime,
                        &state,
                    )?)
                }
                Some("post-restore") => {
                    restored = Some(pid);
                    Ok(())
                }
                Some("orphan-pts-master") => {
                    let (Some(master), Some(socket)) = (fd, console.as_ref()) else {
                        return Err("the restored terminal has no console socket to go to".into());
                    };
                    crate::fdpass::send_fd(socket.as_fd(), b"console", master.as_fd()).map_err(
                        |e| format!("sending the terminal to the console socket: {e}").into(),
                    )
                }
                _ => Ok(()),
            }
        });
        let resp = criu::failure("restore", log, result, opts.program())?;
        let pid = resp
            .restore
            .map(|r| r.pid)
            .or(restored)
            .filter(|p| *p > 0)
            .ok_or_else(|| CriuError::Refused("CRIU restored no process".into()))?;
        self.adopt_init(pid)
    }

    /// Makes the restored tree's root the container's init, and saves the state.
    fn adopt_init(&mut self, pid: i32) -> Result<ProcessHandle> {
        let start_time = liveness::stat(pid)
            .map(|(_, t)| t)
            .ok_or_else(|| Error::Init("the restored init exited at once".into()))?;
        let pidfd = crate::sys::pidfd_open(pid).map_err(|e| Error::sys("pidfd_open", e))?;
        self.state.init_pid = pid;
        self.state.init_start_time = start_time;
        self.state.checkpointed = false;
        self.state.created = state::now_rfc3339();
        self.record_namespaces_and_stdio(pid);
        self.state.save(&self.dir)?;
        Ok(ProcessHandle::new(pid, pidfd))
    }

    /// Checkpoint and restore need root (CRIU drives ptrace, namespaces and cgroups),
    /// a CRIU new enough, and the kernel features the options ask for.
    fn check_criu(&self, opts: &CriuOptions) -> Result<()> {
        if crate::process::unprivileged() {
            return Err(CriuError::Refused(
                "checkpoint and restore of a rootless container are not supported".into(),
            )
            .into());
        }
        criu::check_empty_namespaces(&opts.empty_namespaces)?;
        // CRIU would bring an idmapped bind back as a plain one: its files' owners
        // would change under the container.
        if let Some(i) = self
            .state
            .config
            .mounts
            .iter()
            .position(|m| m.idmap.is_some())
        {
            return Err(CriuError::Refused(format!(
                "mounts[{i}] is idmapped: checkpoint and restore of idmapped mounts are \
                 not supported"
            ))
            .into());
        }
        if opts.images_dir.as_os_str().is_empty() {
            return Err(CriuError::Refused("no image directory given".into()).into());
        }
        criu::check_version(opts.program())?;
        Ok(criu::check_features(opts)?)
    }

    fn work_dir(&self, opts: &CriuOptions) -> PathBuf {
        opts.work_dir
            .clone()
            .unwrap_or_else(|| self.dir.join("criu.work"))
    }

    /// The mounts CRIU leaves to hull: the config's binds, the cgroup hierarchies bound
    /// from the host, and (for a running container) the masked paths that are files.
    fn external_mounts(&self) -> Result<Vec<criu::ExternalMount>> {
        let config = &self.state.config;
        let own_cgroupns = config.namespace(NamespaceKind::Cgroup).is_some();
        let plan = self.cgroup_mount_plan(&Layout::detect()?)?;
        let cgroup_binds: Vec<(PathBuf, PathBuf)> = config
            .mounts
            .iter()
            .filter(|m| m.fstype == "cgroup" && !own_cgroupns)
            .flat_map(|m| plan.mount_points(&m.destination))
            .map(|(_, point, host)| (point, host))
            .collect();
        let masked_files: Vec<PathBuf> = config
            .masked_paths
            .iter()
            .filter(|p| self.is_masked_file(p))
            .cloned()
            .collect();
        Ok(criu::external_mounts(config, &cgroup_binds, &masked_files))
    }

    /// Whether `path` is masked by a file bound over it: seen through init's root while
    /// it runs; for a restore, any masked path (the images name only those there were).
    fn is_masked_file(&self, path: &Path) -> bool {
        if !liveness::is_alive(self.state.init_pid, self.state.init_start_time) {
            return true;
        }
        let inside = format!(
            "/proc/{}/root/{}",
            self.state.init_pid,
            path.to_string_lossy().trim_start_matches('/')
        );
        fs::metadata(inside).is_ok_and(|m| !m.is_dir())
    }
}

/// The cgroup CRIU is in (the container's), for `cg_root`: the restored tree goes
/// there, not to the cgroups the images name (the checkpointed container's, which a
/// restore under another id must not make again). Per v1 hierarchy, and the v2 one as
/// the default for every other.
fn cgroup_roots(criu_pid: i32) -> Vec<CgroupRoot> {
    let text = fs::read_to_string(format!("/proc/{criu_pid}/cgroup")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            Some(CgroupRoot {
                ctrl: (!controllers.is_empty()).then(|| controllers.to_string()),
                path: path.to_string(),
            })
        })
        .collect()
}

fn read_descriptors(images_dir: &Path) -> Result<Vec<String>> {
    let path = images_dir.join(DESCRIPTORS_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            CriuError::Refused(format!(
                "{}: not a list of descriptors: {e}",
                path.display()
            ))
            .into()
        }),
        // Images from elsewhere may come without it: no pipes to stand in for.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

/// Binds `rootfs` (recursively, private to this mount) at the state directory's
/// [`RESTORE_ROOT`].
fn bind_restore_root(rootfs: &Path, dir: &Path) -> Result<()> {
    use nix::mount::{mount, MsFlags};
    let root = dir.join(RESTORE_ROOT);
    fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;
    let none: Option<&str> = None;
    mount(
        Some(rootfs),
        &root,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .and_then(|()| {
        mount(
            none,
            &root,
            none,
            MsFlags::MS_PRIVATE | MsFlags::MS_REC,
            none,
        )
    })
    .map_err(|e| Error::io("bind the root for CRIU at", &root, e.into()))
}

/// Unmounts and removes [`RESTORE_ROOT`] if a restore (even one that crashed) left it:
/// before the state directory goes, or removing it would reach into the rootfs.
pub(super) fn remove_restore_root(dir: &Path) {
    let root = dir.join(RESTORE_ROOT);
    while nix::mount::umount2(&root, nix::mount::MntFlags::MNT_DETACH).is_ok() {}
    let _ = fs::remove_dir(&root);
}
