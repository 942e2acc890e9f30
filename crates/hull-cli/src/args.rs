//! The command line: this module owns what hull accepts and says about it. It names the
//! global options, the commands and each command's options and arguments, parses
//! `argv` into the commands' argument structs, and writes every `--help`.
//!
//! The forms are those runc's engines and users write: `--name value` and
//! `--name=value`; short options alone or clustered, a value taking the rest of the
//! cluster or the next word (`-td`, `-b DIR`, `-bDIR`, `-b=DIR`); options that collect
//! (`--env`) given as often as wanted, any other at most once; `--` before positional
//! arguments; the global options before the command or among its own (there they win
//! over those before it). The one long option spelled with one dash is containerd's
//! `-no-subreaper`. A value starting with a dash is taken only by an option meant for
//! one (`--memory -1`), or when attached (`--cpu-rt-runtime=-1`). A command's last
//! argument may take the rest of the line (exec's command, ps's options for ps(1)):
//! from its first word on, nothing is an option of ours, and before it a word starting
//! with a dash that names none of the command's options is its first word.
//!
//! A parse either gives a [`Cli`] or stops with [`Stop`]: help and the version are
//! printed and exit 0; a mistake is one line and exit code 2.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::commands::{
    checkpoint, create, delete, events, exec, features, kill, list, pause, ps, restore, run, spec,
    start, state, update, Command,
};

/// A parsed command line.
pub struct Cli {
    /// `--root`: where the containers' state is.
    pub root: Option<PathBuf>,
    /// `--log`: a file for the log, beside stderr.
    pub log: Option<PathBuf>,
    /// `--log-format json`.
    pub log_json: bool,
    /// `--debug`.
    pub debug: bool,
    /// `--criu`: the CRIU program.
    pub criu: Option<PathBuf>,
    /// The command, with its arguments (and the global `--systemd-cgroup` where it
    /// matters).
    pub command: Command,
}

/// Why the parse gave no command to run.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// Help or the version, for stdout; exit 0.
    Print(String),
    /// What is wrong with the command line, one line; exit 2.
    Error(String),
}

/// An option.
#[derive(Clone, Copy)]
struct Opt {
    long: &'static str,
    short: Option<u8>,
    /// The name of its value in the help; none for a flag.
    value: Option<&'static str>,
    /// Collects every value given, instead of taking one.
    many: bool,
    /// Its value may start with a dash.
    hyphen: bool,
    /// Also spelled with a single dash.
    one_dash: bool,
    help: &'static str,
}

const fn flag(long: &'static str, help: &'static str) -> Opt {
    Opt {
        long,
        short: None,
        value: None,
        many: false,
        hyphen: false,
        one_dash: false,
        help,
    }
}

const fn opt(long: &'static str, value: &'static str, help: &'static str) -> Opt {
    Opt {
        value: Some(value),
        ..flag(long, help)
    }
}

impl Opt {
    const fn short(self, c: u8) -> Opt {
        Opt {
            short: Some(c),
            ..self
        }
    }
    const fn many(self) -> Opt {
        Opt { many: true, ..self }
    }
    const fn hyphen(self) -> Opt {
        Opt {
            hyphen: true,
            ..self
        }
    }
    const fn one_dash(self) -> Opt {
        Opt {
            one_dash: true,
            ..self
        }
    }
}

/// A positional argument.
struct Arg {
    name: &'static str,
    required: bool,
    /// Takes the rest of the line.
    rest: bool,
    /// May start with a dash.
    hyphen: bool,
}

const ID: Arg = Arg {
    name: "ID",
    required: true,
    rest: false,
    hyphen: false,
};

/// A command: its name, its line in `hull --help`, its options and arguments, and how
/// its arguments struct is made from them (with the global `--systemd-cgroup`).
struct Spec {
    name: &'static str,
    about: &'static str,
    options: &'static [&'static [Opt]],
    args: &'static [Arg],
    build: fn(&Matches, bool) -> Result<Command, String>,
}

const GLOBAL: &[Opt] = &[
    opt(
        "root",
        "DIR",
        "State directory [default: /run/hull; a user's $XDG_RUNTIME_DIR/hull]",
    ),
    opt("log", "FILE", "Also write logs and errors to FILE"),
    opt(
        "log-format",
        "FORMAT",
        "Format of --log: text or json [default: text]",
    ),
    flag("debug", "Log debug detail"),
    flag(
        "systemd-cgroup",
        "Cgroups as systemd scopes (cgroupsPath slice:prefix:name)",
    ),
    opt("criu", "PATH", "The CRIU program [default: criu on PATH]"),
];

const HELP: &[Opt] = &[flag("help", "Print this help").short(b'h')];

const VERSION: &[Opt] = &[flag("version", "Print the version").short(b'V')];

/// `create` and `run`.
const CREATE: &[Opt] = &[
    opt(
        "bundle",
        "DIR",
        "The bundle directory (holds config.json) [default: .]",
    )
    .short(b'b'),
    opt("pid-file", "FILE", "Write init's pid to FILE"),
    opt(
        "preserve-fds",
        "N",
        "Pass N descriptors after stdio on [default: 0]",
    ),
    opt(
        "pidfd-socket",
        "SOCKET",
        "Send a pidfd of init to this unix socket",
    ),
    opt(
        "console-socket",
        "SOCKET",
        "Send the terminal's master to this unix socket",
    ),
    flag("no-pivot", "Do not use pivot_root (a rootfs on a ramdisk)"),
    flag(
        "no-new-keyring",
        "Accepted for runc compatibility (no session keyring is made)",
    ),
];

const RUN: &[Opt] = &[
    flag("detach", "Return once the container runs").short(b'd'),
    flag("keep", "Keep the container's state after it exits"),
    flag("no-subreaper", "Do not reap the container's orphans").one_dash(),
];

/// `checkpoint` and `restore`.
const CRIU: &[Opt] = &[
    opt(
        "image-path",
        "DIR",
        "The images' directory [default: ./checkpoint]",
    ),
    opt(
        "work-path",
        "DIR",
        "CRIU's log and work files [default: the state directory]",
    ),
    flag("tcp-established", "Established TCP connections too"),
    flag("ext-unix-sk", "Allow unix sockets connected outside"),
    flag("shell-job", "The process is a shell job"),
    flag("file-locks", "File locks too"),
    flag("lazy-pages", "Leave memory behind, fetched on demand"),
    opt(
        "manage-cgroups-mode",
        "MODE",
        "soft, full, strict or ignore",
    ),
    opt("empty-ns", "NS", "A namespace to leave empty (network)").many(),
    flag("auto-dedup", "Deduplicate memory images"),
];

const CHECKPOINT: &[Opt] = &[
    opt("parent-path", "DIR", "Images of an earlier pre-dump"),
    flag("leave-running", "Keep the container running"),
    flag("pre-dump", "Dump memory only, keep running"),
    opt(
        "page-server",
        "ADDR:PORT",
        "Send the memory to a CRIU page server",
    ),
    opt("status-fd", "FD", "Written to once lazy pages are served"),
];

const RESTORE: &[Opt] = &[
    opt(
        "bundle",
        "DIR",
        "The bundle directory (holds config.json) [default: .]",
    )
    .short(b'b'),
    flag("detach", "Return once the container runs").short(b'd'),
    opt("pid-file", "FILE", "Write init's pid to FILE"),
    opt(
        "console-socket",
        "SOCKET",
        "Send the terminal's master to this unix socket",
    ),
    flag("no-subreaper", "Do not reap the container's orphans").one_dash(),
    flag("no-pivot", "Accepted for runc compatibility"),
    opt(
        "lsm-profile",
        "PROFILE",
        "The LSM profile of the restored processes",
    ),
    opt(
        "lsm-mount-context",
        "CONTEXT",
        "The SELinux context of the mounts",
    ),
];

const EXEC: &[Opt] = &[
    opt("process", "FILE", "A process.json describing what to run").short(b'p'),
    opt("cwd", "DIR", "Working directory"),
    opt("env", "KEY=VALUE", "Set an environment variable")
        .short(b'e')
        .many(),
    opt("user", "UID[:GID]", "User and group ids").short(b'u'),
    opt("additional-gids", "GID", "A further group id")
        .short(b'g')
        .many(),
    opt("cap", "CAP", "Add a capability").short(b'c').many(),
    flag("no-new-privs", "Set no_new_privileges"),
    flag("tty", "Allocate a terminal").short(b't'),
    opt(
        "console-socket",
        "SOCKET",
        "Send the terminal's master to this unix socket",
    ),
    flag("detach", "Return once the process runs").short(b'd'),
    opt("pid-file", "FILE", "Write the process's pid to FILE"),
    opt(
        "preserve-fds",
        "N",
        "Pass N descriptors after stdio on [default: 0]",
    ),
    opt(
        "pidfd-socket",
        "SOCKET",
        "Send a pidfd of the process to this unix socket",
    ),
    flag("ignore-paused", "Run even in a paused container"),
    opt("cgroup", "PATH", "Run in this sub-cgroup of the container"),
    opt("apparmor", "PROFILE", "AppArmor profile"),
    opt("process-label", "LABEL", "SELinux label"),
];

const UPDATE: &[Opt] = &[
    opt(
        "resources",
        "FILE",
        "An OCI linux.resources JSON file, - for stdin",
    )
    .short(b'r'),
    opt("blkio-weight", "N", "Block IO weight"),
    opt("cpu-period", "US", "CPU CFS period"),
    opt("cpu-quota", "US", "CPU CFS quota, -1 for none").hyphen(),
    opt("cpu-share", "N", "CPU shares"),
    opt("cpu-rt-period", "US", "CPU realtime period"),
    opt("cpu-rt-runtime", "US", "CPU realtime runtime"),
    opt("cpuset-cpus", "CPUS", "CPUs to run on"),
    opt("cpuset-mems", "NODES", "Memory nodes to use"),
    opt("memory", "BYTES", "Memory limit (k, m, g), -1 for none").hyphen(),
    opt("memory-reservation", "BYTES", "Memory soft limit").hyphen(),
    opt("memory-swap", "BYTES", "Memory plus swap limit").hyphen(),
    opt("kernel-memory-tcp", "BYTES", "Kernel TCP buffer limit").hyphen(),
    opt("pids-limit", "N", "Most processes, -1 for none").hyphen(),
];

const FORMAT: &[Opt] = &[opt("format", "FORMAT", "table or json [default: table]").short(b'f')];

const COMMANDS: &[Spec] = &[
    Spec {
        name: "spec",
        about: "Write a default config.json into a bundle",
        options: &[&[
            opt("bundle", "DIR", "The bundle directory [default: .]").short(b'b'),
            flag("rootless", "A config for running without root"),
        ]],
        args: &[],
        build: |m, _| {
            Ok(Command::Spec(spec::Args {
                bundle: m.path("bundle").unwrap_or_else(|| ".".into()),
                rootless: m.flag("rootless"),
            }))
        },
    },
    Spec {
        name: "create",
        about: "Create a container: its init waits for `start`",
        options: &[CREATE],
        args: &[ID],
        build: |m, systemd| {
            Ok(Command::Create(create::Args {
                common: create_args(m, systemd)?,
                id: m.id()?,
            }))
        },
    },
    Spec {
        name: "start",
        about: "Let a created container run its program",
        options: &[],
        args: &[ID],
        build: |m, _| Ok(Command::Start(start::Args { id: m.id()? })),
    },
    Spec {
        name: "run",
        about: "Create and start a container, and (unless --detach) wait for it",
        options: &[CREATE, RUN],
        args: &[ID],
        build: |m, systemd| {
            Ok(Command::Run(run::Args {
                common: create_args(m, systemd)?,
                detach: m.flag("detach"),
                keep: m.flag("keep"),
                no_subreaper: m.flag("no-subreaper"),
                id: m.id()?,
            }))
        },
    },
    Spec {
        name: "state",
        about: "Print a container's OCI state as JSON",
        options: &[],
        args: &[ID],
        build: |m, _| Ok(Command::State(state::Args { id: m.id()? })),
    },
    Spec {
        name: "list",
        about: "List the containers",
        options: &[FORMAT, &[flag("quiet", "Print only the ids").short(b'q')]],
        args: &[],
        build: |m, _| {
            Ok(Command::List(list::Args {
                format: m.format()?,
                quiet: m.flag("quiet"),
            }))
        },
    },
    Spec {
        name: "kill",
        about: "Send a signal to a container's init (or every process with --all)",
        options: &[&[flag("all", "Signal every process of the container").short(b'a')]],
        args: &[
            ID,
            Arg {
                name: "SIGNAL",
                required: false,
                rest: false,
                hyphen: true,
            },
        ],
        build: |m, _| {
            Ok(Command::Kill(kill::Args {
                all: m.flag("all"),
                id: m.id()?,
                signal: m.words(1)?.pop().unwrap_or_else(|| "SIGTERM".into()),
            }))
        },
    },
    Spec {
        name: "delete",
        about: "Delete a stopped (or, with --force, any) container",
        options: &[&[flag("force", "Kill the container first if it runs").short(b'f')]],
        args: &[ID],
        build: |m, _| {
            Ok(Command::Delete(delete::Args {
                force: m.flag("force"),
                id: m.id()?,
            }))
        },
    },
    Spec {
        name: "pause",
        about: "Freeze every process of a container",
        options: &[],
        args: &[ID],
        build: |m, _| Ok(Command::Pause(pause::Args { id: m.id()? })),
    },
    Spec {
        name: "resume",
        about: "Thaw a paused container",
        options: &[],
        args: &[ID],
        build: |m, _| Ok(Command::Resume(pause::Args { id: m.id()? })),
    },
    Spec {
        name: "ps",
        about: "List a container's processes",
        options: &[FORMAT],
        args: &[
            ID,
            Arg {
                name: "PS_OPTIONS",
                required: false,
                rest: true,
                hyphen: true,
            },
        ],
        build: |m, _| {
            Ok(Command::Ps(ps::Args {
                format: m.format()?,
                id: m.id()?,
                ps_args: m.words(1)?,
            }))
        },
    },
    Spec {
        name: "events",
        about: "Print a container's statistics (and OOM events) as JSON",
        options: &[&[
            flag("stats", "Print one stats event and exit"),
            opt(
                "interval",
                "TIME",
                "How often to print stats: 500ms, 5s, 1m [default: 5s]",
            ),
        ]],
        args: &[ID],
        build: |m, _| {
            Ok(Command::Events(events::Args {
                stats: m.flag("stats"),
                interval: m
                    .value_with("interval", events::parse_interval)?
                    .unwrap_or(Duration::from_secs(5)),
                id: m.id()?,
            }))
        },
    },
    Spec {
        name: "update",
        about: "Change a running container's resource limits",
        options: &[UPDATE],
        args: &[ID],
        build: |m, _| {
            Ok(Command::Update(Box::new(update::Args {
                resources: m.value("resources")?,
                blkio_weight: m.value("blkio-weight")?,
                cpu_period: m.value("cpu-period")?,
                cpu_quota: m.value("cpu-quota")?,
                cpu_share: m.value("cpu-share")?,
                cpu_rt_period: m.value("cpu-rt-period")?,
                cpu_rt_runtime: m.value("cpu-rt-runtime")?,
                cpuset_cpus: m.value("cpuset-cpus")?,
                cpuset_mems: m.value("cpuset-mems")?,
                memory: m.value("memory")?,
                memory_reservation: m.value("memory-reservation")?,
                memory_swap: m.value("memory-swap")?,
                kernel_memory_tcp: m.value("kernel-memory-tcp")?,
                pids_limit: m.value("pids-limit")?,
                id: m.id()?,
            })))
        },
    },
    Spec {
        name: "exec",
        about: "Run a further process in a running container",
        options: &[EXEC],
        args: &[
            ID,
            Arg {
                name: "COMMAND",
                required: false,
                rest: true,
                hyphen: true,
            },
        ],
        build: |m, _| {
            Ok(Command::Exec(Box::new(exec::Args {
                process: m.path("process"),
                cwd: m.path("cwd"),
                env: m.values("env")?,
                user: m.value("user")?,
                additional_gids: m.values("additional-gids")?,
                cap: m.values("cap")?,
                no_new_privs: m.flag("no-new-privs"),
                tty: m.flag("tty"),
                console_socket: m.path("console-socket"),
                detach: m.flag("detach"),
                pid_file: m.path("pid-file"),
                preserve_fds: m.value("preserve-fds")?.unwrap_or(0),
                pidfd_socket: m.path("pidfd-socket"),
                ignore_paused: m.flag("ignore-paused"),
                cgroup: m.path("cgroup"),
                apparmor: m.value("apparmor")?,
                process_label: m.value("process-label")?,
                id: m.id()?,
                command: m.words(1)?,
            })))
        },
    },
    Spec {
        name: "features",
        about: "Print what this runtime supports (OCI features JSON)",
        options: &[],
        args: &[],
        build: |_, _| Ok(Command::Features(features::Args {})),
    },
    Spec {
        name: "checkpoint",
        about: "Save a running container to disk with CRIU",
        options: &[CRIU, CHECKPOINT],
        args: &[ID],
        build: |m, _| {
            Ok(Command::Checkpoint(Box::new(checkpoint::Args {
                criu: criu_args(m)?,
                parent_path: m.path("parent-path"),
                leave_running: m.flag("leave-running"),
                pre_dump: m.flag("pre-dump"),
                page_server: m.value("page-server")?,
                status_fd: m.value("status-fd")?,
                id: m.id()?,
            })))
        },
    },
    Spec {
        name: "restore",
        about: "Make a container from a bundle and restore its processes from a checkpoint",
        options: &[CRIU, RESTORE],
        args: &[ID],
        build: |m, systemd| {
            Ok(Command::Restore(Box::new(restore::Args {
                criu: criu_args(m)?,
                bundle: m.path("bundle").unwrap_or_else(|| ".".into()),
                detach: m.flag("detach"),
                pid_file: m.path("pid-file"),
                console_socket: m.path("console-socket"),
                no_subreaper: m.flag("no-subreaper"),
                no_pivot: m.flag("no-pivot"),
                lsm_profile: m.value("lsm-profile")?,
                lsm_mount_context: m.value("lsm-mount-context")?,
                systemd_cgroup: systemd,
                id: m.id()?,
            })))
        },
    },
];

fn create_args(m: &Matches, systemd_cgroup: bool) -> Result<create::CreateArgs, String> {
    Ok(create::CreateArgs {
        bundle: m.path("bundle").unwrap_or_else(|| ".".into()),
        pid_file: m.path("pid-file"),
        preserve_fds: m.value("preserve-fds")?.unwrap_or(0),
        pidfd_socket: m.path("pidfd-socket"),
        console_socket: m.path("console-socket"),
        no_pivot: m.flag("no-pivot"),
        systemd_cgroup,
    })
}

fn criu_args(m: &Matches) -> Result<checkpoint::CriuArgs, String> {
    Ok(checkpoint::CriuArgs {
        image_path: m.path("image-path"),
        work_path: m.path("work-path"),
        tcp_established: m.flag("tcp-established"),
        ext_unix_sk: m.flag("ext-unix-sk"),
        shell_job: m.flag("shell-job"),
        file_locks: m.flag("file-locks"),
        lazy_pages: m.flag("lazy-pages"),
        manage_cgroups_mode: m.value("manage-cgroups-mode")?,
        empty_ns: m.values("empty-ns")?,
        auto_dedup: m.flag("auto-dedup"),
    })
}

/// What one level of the line (before the command, or the command's own) gave: the
/// options in the order given, with their values, and each positional argument's words.
struct Matches {
    tables: Vec<&'static [Opt]>,
    given: Vec<(&'static str, Vec<OsString>)>,
    args: Vec<Vec<OsString>>,
}

impl Matches {
    /// The values of option `long`, if given (none for a flag).
    fn given(&self, long: &str) -> Option<&[OsString]> {
        debug_assert!(
            self.tables.iter().flat_map(|&t| t).any(|o| o.long == long),
            "--{long} is no option here"
        );
        self.given
            .iter()
            .find(|(l, _)| *l == long)
            .map(|(_, v)| v.as_slice())
    }

    fn flag(&self, long: &str) -> bool {
        self.given(long).is_some()
    }

    fn path(&self, long: &str) -> Option<PathBuf> {
        self.given(long)?.first().map(PathBuf::from)
    }

    /// The value of `long` as `parse` reads it.
    fn value_with<T, E: std::fmt::Display>(
        &self,
        long: &str,
        parse: fn(&str) -> Result<T, E>,
    ) -> Result<Option<T>, String> {
        let values = self.given(long).unwrap_or_default();
        values.first().map(|v| read(long, v, parse)).transpose()
    }

    fn value<T: FromStr>(&self, long: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        self.value_with(long, str::parse)
    }

    /// Every value of `long`, in order.
    fn values<T: FromStr>(&self, long: &str) -> Result<Vec<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        let values = self.given(long).unwrap_or_default();
        values.iter().map(|v| read(long, v, str::parse)).collect()
    }

    /// `--format`: table or json.
    fn format(&self) -> Result<String, String> {
        let format = self.value_with("format", |s| match s {
            "table" | "json" => Ok(s.to_string()),
            _ => Err("table or json"),
        })?;
        Ok(format.unwrap_or_else(|| "table".into()))
    }

    /// The words of positional argument `i`.
    fn words(&self, i: usize) -> Result<Vec<String>, String> {
        self.args[i]
            .iter()
            .map(|w| {
                w.to_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{}: not UTF-8", w.to_string_lossy()))
            })
            .collect()
    }

    /// The container's id, the first argument (one word, required by the parse).
    fn id(&self) -> Result<String, String> {
        Ok(self.words(0)?.pop().unwrap_or_default())
    }

    fn find(&self, pred: impl Fn(&Opt) -> bool) -> Option<&'static Opt> {
        self.tables.iter().flat_map(|&t| t).find(|o| pred(o))
    }

    /// Option `o`, given with the `attached` value or taking its value from `words`.
    fn take(
        &mut self,
        o: &'static Opt,
        attached: Option<&str>,
        words: &mut impl Iterator<Item = OsString>,
    ) -> Result<(), String> {
        let value = match (o.value, attached) {
            (None, None) => None,
            (None, Some(_)) => return Err(format!("'--{}' takes no value", o.long)),
            (Some(_), Some(v)) if !v.is_empty() => Some(OsString::from(v)),
            (Some(_), Some(_)) => return Err(format!("'--{}' needs a value", o.long)),
            (Some(_), None) => match words.next() {
                Some(v) if o.hyphen || !v.as_bytes().starts_with(b"-") || v == "-" => Some(v),
                _ => return Err(format!("'--{}' needs a value", o.long)),
            },
        };
        match self.given.iter_mut().find(|(l, _)| *l == o.long) {
            Some((_, values)) if o.many => values.extend(value),
            Some(_) => return Err(format!("'--{}' is given more than once", o.long)),
            None => self.given.push((o.long, value.into_iter().collect())),
        }
        Ok(())
    }

    /// A cluster of short options (`-td`, `-bDIR`): flags, then maybe one that takes
    /// the rest of the word (after an optional `=`) or the next word as its value.
    fn shorts(
        &mut self,
        text: &str,
        words: &mut impl Iterator<Item = OsString>,
    ) -> Result<(), String> {
        for (i, c) in text.char_indices().skip(1) {
            let o = u8::try_from(c)
                .ok()
                .and_then(|c| self.find(|o| o.short == Some(c)))
                .ok_or_else(|| format!("unknown option '-{c}'"))?;
            if o.value.is_some() {
                let rest = &text[i + 1..];
                let attached = (!rest.is_empty()).then(|| rest.strip_prefix('=').unwrap_or(rest));
                return self.take(o, attached, words);
            }
            self.take(o, None, words)?;
            if matches!(o.long, "help" | "version") {
                break;
            }
        }
        Ok(())
    }
}

/// Value `v` of option `long`, read by `parse`.
fn read<T, E: std::fmt::Display>(
    long: &str,
    v: &OsStr,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, String> {
    let text = v.to_string_lossy();
    v.to_str()
        .ok_or_else(|| "not UTF-8".to_string())
        .and_then(|s| parse(s).map_err(|e| e.to_string()))
        .map_err(|e| format!("invalid value '{text}' for '--{long}': {e}"))
}

/// Parses one level of the line: `words` against the options in `tables` and the
/// positional `params`. Stops early at `--help` or `--version` (left in the matches).
fn scan(
    words: &mut impl Iterator<Item = OsString>,
    tables: Vec<&'static [Opt]>,
    params: &[Arg],
) -> Result<Matches, String> {
    let mut m = Matches {
        tables,
        given: Vec::new(),
        args: params.iter().map(|_| Vec::new()).collect(),
    };
    let mut at = 0;
    let mut escaped = false;
    while let Some(word) = words.next() {
        let param = params.get(at);
        let trailing = param.is_some_and(|p| p.rest && !m.args[at].is_empty());
        let bytes = word.as_bytes();
        let dashed = !escaped && !trailing && bytes.len() > 1 && bytes[0] == b'-';
        let hyphen_ok = param.is_some_and(|p| p.hyphen);
        let is_option = match (dashed, word.to_str()) {
            (false, _) => false,
            (true, _) if bytes == b"--" => {
                escaped = true;
                continue;
            }
            (true, Some(text)) => {
                if let Some(long) = text.strip_prefix("--") {
                    let (name, attached) = match long.split_once('=') {
                        Some((name, value)) => (name, Some(value)),
                        None => (long, None),
                    };
                    match m.find(|o| o.long == name) {
                        Some(o) => {
                            m.take(o, attached, words)?;
                            true
                        }
                        None if hyphen_ok => false,
                        None => return Err(format!("unknown option '--{name}'")),
                    }
                } else if let Some(o) = m.find(|o| o.one_dash && o.long == &text[1..]) {
                    m.take(o, None, words)?;
                    true
                } else if hyphen_ok
                    && text[1..]
                        .bytes()
                        .any(|c| m.find(|o| o.short == Some(c)).is_none())
                {
                    false
                } else {
                    m.shorts(text, words)?;
                    true
                }
            }
            (true, None) if hyphen_ok => false,
            (true, None) => return Err(format!("unknown option '{}'", word.to_string_lossy())),
        };
        if is_option {
            if m.given
                .last()
                .is_some_and(|(l, _)| matches!(*l, "help" | "version"))
            {
                return Ok(m);
            }
            continue;
        }
        let Some(param) = param else {
            return Err(format!("unexpected argument '{}'", word.to_string_lossy()));
        };
        m.args[at].push(word);
        if !param.rest {
            at += 1;
        }
    }
    match params
        .iter()
        .zip(&m.args)
        .find(|(p, a)| p.required && a.is_empty())
    {
        Some((p, _)) => Err(format!("missing {}", p.name)),
        None => Ok(m),
    }
}

/// Parses the arguments after the program's name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, Stop> {
    let mut words = args.into_iter();
    let command = Arg {
        name: "command",
        required: false,
        rest: true,
        hyphen: false,
    };
    let top = scan(&mut words, vec![GLOBAL, HELP, VERSION], &[command]).map_err(Stop::Error)?;
    if top.flag("help") {
        return Err(Stop::Print(help()));
    }
    if top.flag("version") {
        return Err(Stop::Print(format!("hull {}\n", env!("CARGO_PKG_VERSION"))));
    }
    let mut rest = top.args[0].iter().cloned();
    let Some(name) = rest.next() else {
        return Err(Stop::Error(
            "no command given (hull --help lists them)".into(),
        ));
    };
    let spec = find_command(&name)?;
    let Some(spec) = spec else {
        // `hull help [COMMAND]`.
        let text = match (rest.next(), rest.next()) {
            (None, _) => help(),
            (Some(name), None) => find_command(&name)?.map_or_else(help, command_help),
            (Some(_), Some(extra)) => {
                return Err(Stop::Error(format!(
                    "help: unexpected argument '{}'",
                    extra.to_string_lossy()
                )))
            }
        };
        return Err(Stop::Print(text));
    };
    let mut tables = spec.options.to_vec();
    tables.extend([GLOBAL, HELP]);
    let own = scan(&mut rest, tables, spec.args)
        .map_err(|e| Stop::Error(format!("{}: {e}", spec.name)))?;
    if own.flag("help") {
        return Err(Stop::Print(command_help(spec)));
    }
    // A global option among the command's own wins over one before the command.
    let path = |long: &str| own.path(long).or_else(|| top.path(long));
    let log_format = match own.value_with("log-format", log_format) {
        Ok(None) => top.value_with("log-format", log_format),
        other => other,
    };
    let log_json = log_format.map_err(Stop::Error)? == Some(true);
    let systemd_cgroup = own.flag("systemd-cgroup") || top.flag("systemd-cgroup");
    let command = (spec.build)(&own, systemd_cgroup)
        .map_err(|e| Stop::Error(format!("{}: {e}", spec.name)))?;
    Ok(Cli {
        root: path("root"),
        log: path("log"),
        log_json,
        debug: own.flag("debug") || top.flag("debug"),
        criu: path("criu"),
        command,
    })
}

/// `--log-format`: whether it is json.
fn log_format(s: &str) -> Result<bool, &'static str> {
    match s {
        "text" => Ok(false),
        "json" => Ok(true),
        _ => Err("text or json"),
    }
}

/// The command called `name`: none for `help`.
fn find_command(name: &OsStr) -> Result<Option<&'static Spec>, Stop> {
    match COMMANDS.iter().find(|c| name == c.name) {
        Some(spec) => Ok(Some(spec)),
        None if name == "help" => Ok(None),
        None => Err(Stop::Error(format!(
            "unknown command '{}' (hull --help lists them)",
            name.to_string_lossy()
        ))),
    }
}

fn option_lines(options: &[&[Opt]]) -> String {
    let mut text = String::new();
    for o in options.iter().flat_map(|t| t.iter()) {
        let short = o
            .short
            .map_or("    ".into(), |c| format!("-{}, ", char::from(c)));
        let name = match o.value {
            Some(value) => format!("--{} {value}", o.long),
            None => format!("--{}", o.long),
        };
        text += &format!("  {short}{name:<28} {}\n", o.help);
    }
    text
}

/// `hull --help`.
fn help() -> String {
    let mut text = String::from(
        "hull: a runc-compatible OCI container runtime\n\n\
         Usage: hull [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGUMENTS]\n\nCommands:\n",
    );
    for c in COMMANDS {
        text += &format!("  {:<11} {}\n", c.name, c.about);
    }
    text += "  help        Print this help, or a command's\n\n\
             Global options (before the command or among its own):\n";
    text + &option_lines(&[GLOBAL, HELP, VERSION])
}

/// `hull COMMAND --help`.
fn command_help(spec: &Spec) -> String {
    let mut usage = format!("Usage: hull {} [OPTIONS]", spec.name);
    for a in spec.args {
        usage += &match (a.required, a.rest) {
            (true, _) => format!(" {}", a.name),
            (false, false) => format!(" [{}]", a.name),
            (false, true) => format!(" [{}]...", a.name),
        };
    }
    let mut options = spec.options.to_vec();
    options.push(HELP);
    format!(
        "hull {}: {}\n\n{usage}\n\nOptions (and the global ones, hull --help):\n{}",
        spec.name,
        spec.about,
        option_lines(&options)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `line`, words split at spaces.
    fn parse_line(line: &str) -> Result<Cli, Stop> {
        parse(line.split(' ').map(OsString::from))
    }

    fn ok(line: &str) -> Cli {
        parse_line(line).unwrap_or_else(|stop| panic!("{line}: {stop:?}"))
    }

    /// The one-line error `line` stops with.
    fn error(line: &str) -> String {
        match parse_line(line) {
            Err(Stop::Error(e)) => e,
            Ok(_) => panic!("{line}: parsed"),
            Err(stop) => panic!("{line}: {stop:?}"),
        }
    }

    fn printed(line: &str) -> String {
        match parse_line(line) {
            Err(Stop::Print(text)) => text,
            Ok(_) => panic!("{line}: parsed"),
            Err(stop) => panic!("{line}: {stop:?}"),
        }
    }

    fn exec(line: &str) -> Box<exec::Args> {
        match ok(line).command {
            Command::Exec(a) => a,
            _ => panic!("{line}: not exec"),
        }
    }

    fn create(line: &str) -> create::Args {
        match ok(line).command {
            Command::Create(a) => a,
            _ => panic!("{line}: not create"),
        }
    }

    #[test]
    fn an_engines_create_line() {
        let cli = ok("--root /r --log /l --log-format json create --bundle /b \
                      --pid-file /p --console-socket /s c1");
        assert_eq!(cli.root, Some("/r".into()));
        assert_eq!(cli.log, Some("/l".into()));
        assert!(cli.log_json && !cli.debug && cli.criu.is_none());
        let Command::Create(a) = cli.command else {
            panic!("not create")
        };
        assert_eq!(a.id, "c1");
        assert_eq!(a.common.bundle, PathBuf::from("/b"));
        assert_eq!(a.common.pid_file, Some("/p".into()));
        assert_eq!(a.common.console_socket, Some("/s".into()));
        assert!(!a.common.no_pivot && !a.common.systemd_cgroup);
    }

    #[test]
    fn defaults() {
        let cli = ok("create c1");
        assert!(cli.root.is_none() && cli.log.is_none() && !cli.log_json);
        let Command::Create(a) = cli.command else {
            panic!("not create")
        };
        assert_eq!(a.common.bundle, PathBuf::from("."));
        assert_eq!(a.common.preserve_fds, 0);
        let Command::Kill(k) = ok("kill c1").command else {
            panic!("not kill")
        };
        assert_eq!(k.signal, "SIGTERM");
        assert!(!k.all);
        let Command::Events(e) = ok("events c1").command else {
            panic!("not events")
        };
        assert_eq!(e.interval, Duration::from_secs(5));
        let Command::List(l) = ok("list").command else {
            panic!("not list")
        };
        assert_eq!(l.format, "table");
    }

    #[test]
    fn values_attached_or_apart_long_or_short() {
        for line in [
            "create --bundle /b c1",
            "create --bundle=/b c1",
            "create -b /b c1",
            "create -b/b c1",
            "create -b=/b c1",
        ] {
            assert_eq!(create(line).common.bundle, PathBuf::from("/b"), "{line}");
        }
        assert_eq!(
            create("create --bundle - c1").common.bundle,
            PathBuf::from("-")
        );
        let Command::Events(e) = ok("events --interval 500ms c1").command else {
            panic!("not events")
        };
        assert_eq!(e.interval, Duration::from_millis(500));
    }

    #[test]
    fn short_flags_cluster() {
        let a = exec("exec -td c1 sh");
        assert!(a.tty && a.detach);
        let Command::List(l) = ok("list -qf json").command else {
            panic!("not list")
        };
        assert!(l.quiet);
        assert_eq!(l.format, "json");
        let Command::Run(r) = ok("run -db /b c1").command else {
            panic!("not run")
        };
        assert!(r.detach);
        assert_eq!(r.common.bundle, PathBuf::from("/b"));
    }

    #[test]
    fn repeated_options_collect() {
        let a = exec(
            "exec -e A=1 --env B=2 --env=C=3 --cap CAP_A -c CAP_B \
             --additional-gids 5 -g 6 c1 true",
        );
        assert_eq!(a.env, ["A=1", "B=2", "C=3"]);
        assert_eq!(a.cap, ["CAP_A", "CAP_B"]);
        assert_eq!(a.additional_gids, [5, 6]);
        let Command::Checkpoint(c) = ok("checkpoint --empty-ns network --empty-ns ipc c1").command
        else {
            panic!("not checkpoint")
        };
        assert_eq!(c.criu.empty_ns, ["network", "ipc"]);
    }

    #[test]
    fn other_options_are_given_once() {
        assert_eq!(
            error("create --bundle /a --bundle /b c1"),
            "create: '--bundle' is given more than once"
        );
        assert_eq!(
            error("delete -f --force c1"),
            "delete: '--force' is given more than once"
        );
        assert_eq!(
            error("--root /a --root /b state c1"),
            "'--root' is given more than once"
        );
    }

    #[test]
    fn global_options_before_or_after_the_command() {
        let cli = ok("state --root /r --debug --log-format json c1");
        assert_eq!(cli.root, Some("/r".into()));
        assert!(cli.debug && cli.log_json);
        // Among the command's own, they win.
        let cli = ok("--root /a --log-format json state --root /b --log-format text c1");
        assert_eq!(cli.root, Some("/b".into()));
        assert!(!cli.log_json);
        assert_eq!(ok("state c1 --root /r").root, Some("/r".into()));
        assert_eq!(ok("--criu=/c features").criu, Some("/c".into()));
    }

    #[test]
    fn systemd_cgroup_reaches_the_commands_that_make_a_cgroup() {
        assert!(create("--systemd-cgroup create c1").common.systemd_cgroup);
        assert!(create("create --systemd-cgroup c1").common.systemd_cgroup);
        let Command::Run(r) = ok("--systemd-cgroup run c1").command else {
            panic!("not run")
        };
        assert!(r.common.systemd_cgroup);
        let Command::Restore(r) = ok("--systemd-cgroup restore c1").command else {
            panic!("not restore")
        };
        assert!(r.systemd_cgroup);
    }

    #[test]
    fn exec_leaves_the_words_after_its_command_to_it() {
        let a = exec("exec c1 sh -c x --tty -e A=1 --");
        assert_eq!(a.id, "c1");
        assert_eq!(a.command, ["sh", "-c", "x", "--tty", "-e", "A=1", "--"]);
        assert!(!a.tty && a.env.is_empty());
        let a = exec("exec --user 1000:1000 --cwd / --env A=B c1 ls -l");
        assert_eq!(a.user.as_deref(), Some("1000:1000"));
        assert_eq!(a.cwd, Some("/".into()));
        assert_eq!(a.command, ["ls", "-l"]);
        // Before the command, the options are exec's own...
        let a = exec("exec c1 --tty -e A=1 sh");
        assert!(a.tty);
        assert_eq!((a.env, a.command), (vec!["A=1".into()], vec!["sh".into()]));
        // ... and what names none of them is the command.
        assert_eq!(exec("exec c1 --nothing").command, ["--nothing"]);
        assert_eq!(exec("exec c1 -it sh").command, ["-it", "sh"]);
        assert_eq!(exec("exec c1 -- sh").command, ["sh"]);
        assert_eq!(exec("exec -- c1 sh").command, ["sh"]);
        assert!(exec("exec -p /p.json c1").command.is_empty());
    }

    #[test]
    fn exec_of_an_engine() {
        let a = exec("exec --process /p.json --detach --pid-file /pid --console-socket /s c1");
        assert_eq!(a.process, Some("/p.json".into()));
        assert!(a.detach && !a.tty);
        assert_eq!(a.pid_file, Some("/pid".into()));
        assert_eq!(a.console_socket, Some("/s".into()));
        assert!(a.command.is_empty());
    }

    #[test]
    fn kill_and_ps_arguments_may_start_with_a_dash() {
        let Command::Kill(k) = ok("kill c1 -9").command else {
            panic!("not kill")
        };
        assert_eq!((k.id.as_str(), k.signal.as_str()), ("c1", "-9"));
        let Command::Kill(k) = ok("kill --all c1 KILL").command else {
            panic!("not kill")
        };
        assert!(k.all);
        assert_eq!(k.signal, "KILL");
        let Command::Kill(k) = ok("kill c1 KILL -a").command else {
            panic!("not kill")
        };
        assert!(k.all);
        assert_eq!(error("kill -9 c1"), "kill: unknown option '-9'");
        let Command::Ps(p) = ok("ps c1 -ef").command else {
            panic!("not ps")
        };
        assert_eq!(p.ps_args, ["-ef"]);
        let Command::Ps(p) = ok("ps c1 -f json").command else {
            panic!("not ps")
        };
        assert_eq!((p.format.as_str(), p.ps_args.len()), ("json", 0));
    }

    #[test]
    fn update_values_that_may_be_negative() {
        let Command::Update(u) =
            ok("update --memory -1 --cpu-quota -1 --pids-limit -1 --cpu-rt-runtime=-1 c1").command
        else {
            panic!("not update")
        };
        assert_eq!(u.memory.as_deref(), Some("-1"));
        assert_eq!(
            (u.cpu_quota, u.pids_limit, u.cpu_rt_runtime),
            (Some(-1), Some(-1), Some(-1))
        );
        assert_eq!(
            error("update --cpu-rt-runtime -1 c1"),
            "update: '--cpu-rt-runtime' needs a value"
        );
        let Command::Update(u) = ok("update --resources - c1").command else {
            panic!("not update")
        };
        assert_eq!(u.resources.as_deref(), Some("-"));
    }

    #[test]
    fn containerds_one_dash_no_subreaper() {
        let Command::Restore(r) = ok("restore --bundle /b --detach --pid-file /p \
                                      -no-subreaper --image-path /d c1")
        .command
        else {
            panic!("not restore")
        };
        assert!(r.no_subreaper && r.detach);
        assert_eq!(r.criu.image_path, Some("/d".into()));
        let Command::Run(r) = ok("run -no-subreaper c1").command else {
            panic!("not run")
        };
        assert!(r.no_subreaper);
        // Only that one: as before, any other long option needs two dashes.
        assert_eq!(
            error("restore -image-path /d c1"),
            "restore: unknown option '-i'"
        );
        assert_eq!(
            error("create -no-subreaper c1"),
            "create: unknown option '-n'"
        );
        assert_eq!(
            exec("exec c1 prog -no-subreaper").command,
            ["prog", "-no-subreaper"]
        );
    }

    #[test]
    fn checkpoint_of_an_engine() {
        let Command::Checkpoint(c) = ok("checkpoint --image-path /d --work-path /w \
                                         --file-locks --leave-running \
                                         --manage-cgroups-mode soft c1")
        .command
        else {
            panic!("not checkpoint")
        };
        assert_eq!(c.criu.image_path, Some("/d".into()));
        assert_eq!(c.criu.work_path, Some("/w".into()));
        assert!(c.criu.file_locks && c.leave_running && !c.pre_dump);
        assert_eq!(c.criu.manage_cgroups_mode, Some(hull::CgroupsMode::Soft));
    }

    #[test]
    fn double_dash_ends_the_options() {
        assert_eq!(create("create -- c1").id, "c1");
        let Command::State(s) = ok("state -- --odd").command else {
            panic!("not state")
        };
        assert_eq!(s.id, "--odd");
        assert_eq!(error("state c1 -- --"), "state: unexpected argument '--'");
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("", "unknown command '' (hull --help lists them)"),
            ("--root /r", "no command given (hull --help lists them)"),
            ("bogus c1", "unknown command 'bogus' (hull --help lists them)"),
            ("--bogus state c1", "unknown option '--bogus'"),
            ("--rootless true state c1", "unknown option '--rootless'"),
            ("create --bogus c1", "create: unknown option '--bogus'"),
            ("create -x c1", "create: unknown option '-x'"),
            ("create c1 extra", "create: unexpected argument 'extra'"),
            ("create --bundle", "create: '--bundle' needs a value"),
            ("create --bundle --pid-file /p c1", "create: '--bundle' needs a value"),
            ("create --bundle= c1", "create: '--bundle' needs a value"),
            ("create -b", "create: '--bundle' needs a value"),
            ("--log", "'--log' needs a value"),
            ("create --bundle /b", "create: missing ID"),
            ("exec", "exec: missing ID"),
            ("delete --force=true c1", "delete: '--force' takes no value"),
            ("delete -f= c1", "delete: unknown option '-='"),
            ("state c1 --version", "state: unknown option '--version'"),
            ("spec --rootless true", "spec: unexpected argument 'true'"),
            (
                "create --preserve-fds x c1",
                "create: invalid value 'x' for '--preserve-fds': invalid digit found in string",
            ),
            ("create --preserve-fds -1 c1", "create: '--preserve-fds' needs a value"),
            (
                "exec --additional-gids 1,2 c1 true",
                "exec: invalid value '1,2' for '--additional-gids': invalid digit found in string",
            ),
            (
                "events --interval 0s c1",
                "events: invalid value '0s' for '--interval': invalid interval \"0s\": must be positive",
            ),
            ("list --format yaml", "list: invalid value 'yaml' for '--format': table or json"),
            (
                "--log-format xml state c1",
                "invalid value 'xml' for '--log-format': text or json",
            ),
            (
                "checkpoint --manage-cgroups-mode hard c1",
                "checkpoint: invalid value 'hard' for '--manage-cgroups-mode': \
                 \"hard\" is not a cgroups mode (soft, full, strict or ignore)",
            ),
            ("help bogus", "unknown command 'bogus' (hull --help lists them)"),
            ("help state c1", "help: unexpected argument 'c1'"),
        ];
        for (line, message) in cases {
            assert_eq!(error(line), message, "{line}");
        }
        assert_eq!(
            parse(std::iter::empty()).err(),
            Some(Stop::Error(
                "no command given (hull --help lists them)".into()
            ))
        );
    }

    #[test]
    fn every_command_has_help() {
        for spec in COMMANDS {
            let id = if spec.args.is_empty() { "" } else { " c1" };
            for line in [
                format!("{} --help", spec.name),
                format!("{} -h", spec.name),
                format!("help {}", spec.name),
                format!("--root /r {}{id} --help", spec.name),
            ] {
                let text = printed(&line);
                assert!(
                    text.starts_with(&format!("hull {}: ", spec.name)),
                    "{line}: {text}"
                );
                assert!(text.contains("  -h, --help "), "{line}: {text}");
            }
        }
        let text = printed("checkpoint --help");
        for option in ["--image-path DIR", "--leave-running", "--status-fd FD"] {
            assert!(text.contains(option), "{text}");
        }
        assert!(printed("exec -h").contains("Usage: hull exec [OPTIONS] ID [COMMAND]..."));
        // Help stops the parse where it comes...
        assert!(printed("create --help --bogus").starts_with("hull create: "));
        assert_eq!(
            error("create --bogus --help"),
            "create: unknown option '--bogus'"
        );
        // ... unless it is for the command exec runs.
        assert_eq!(exec("exec c1 sh --help").command, ["sh", "--help"]);
    }

    #[test]
    fn hulls_own_help_and_version() {
        for line in ["--help", "-h", "help", "--help state", "--debug -h"] {
            let text = printed(line);
            assert!(text.starts_with("hull: a runc-compatible"), "{line}");
            for c in COMMANDS {
                assert!(text.contains(&format!("\n  {:<11} {}\n", c.name, c.about)));
            }
        }
        let version = format!("hull {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(printed("--version"), version);
        assert_eq!(printed("-V"), version);
        assert_eq!(printed("--version --bogus"), version);
        assert_eq!(error("-v"), "unknown option '-v'");
    }

    #[test]
    fn every_option_of_every_command_parses() {
        for spec in COMMANDS {
            let mut tables = spec.options.to_vec();
            tables.push(GLOBAL);
            for o in tables.iter().flat_map(|&t| t) {
                let value = match o.long {
                    "log-format" | "format" => " json",
                    "manage-cgroups-mode" => " soft",
                    "interval" => " 1s",
                    "empty-ns" => " network",
                    _ if o.value.is_some() => " 1",
                    _ => "",
                };
                let id = if spec.args.is_empty() { "" } else { " c1" };
                let line = format!("{} --{}{value}{id}", spec.name, o.long);
                assert!(parse_line(&line).is_ok(), "{line}");
            }
        }
    }

    #[test]
    fn words_need_not_be_utf8_where_they_are_paths() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(b"/b\xff".to_vec());
        let line = ["create".into(), "--bundle".into(), odd.clone(), "c1".into()];
        let Ok(Cli {
            command: Command::Create(a),
            ..
        }) = parse(line)
        else {
            panic!("not create")
        };
        assert_eq!(a.common.bundle, PathBuf::from(odd.clone()));
        let line = ["state".into(), odd];
        assert_eq!(
            parse(line).err(),
            Some(Stop::Error("state: /b\u{fffd}: not UTF-8".into()))
        );
    }
}
