//! `hull`: a runc-compatible OCI runtime over the hull library. This file parses the
//! command line and reports errors; each command lives in `commands/`.

mod commands;
mod log;
mod signals;
mod spec_template;
mod tty;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "hull",
    version,
    about = "A runc-compatible OCI container runtime"
)]
struct Cli {
    /// Directory for the containers' state [default: /run/hull, or for an
    /// unprivileged user $XDG_RUNTIME_DIR/hull, as runc]
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    /// Also write logs and errors to this file.
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Format of --log: text or json.
    #[arg(long = "log-format", global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Log debug detail.
    #[arg(long, global = true)]
    debug: bool,
    /// The systemd cgroup driver: a container's cgroup is a transient scope unit
    /// (linux.cgroupsPath as slice:prefix:name).
    #[arg(long = "systemd-cgroup", global = true)]
    systemd_cgroup: bool,
    /// The CRIU program for checkpoint and restore [default: criu on PATH].
    #[arg(long, global = true)]
    criu: Option<PathBuf>,
    #[command(subcommand)]
    command: commands::Command,
}

/// runc's choice: root's state in /run, a user's in their runtime directory; also for
/// root of a user namespace that is not the real root (rootless podman runs its runtime
/// there), unless `USER` says root.
fn default_root() -> PathBuf {
    let users = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => dir,
        _ => return PathBuf::from("/run/hull"),
    };
    let in_user_namespace = std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"]);
    let honoured = !nix::unistd::geteuid().is_root()
        || (in_user_namespace && std::env::var("USER").map_or(true, |u| u != "root"));
    if honoured {
        PathBuf::from(users).join("hull")
    } else {
        PathBuf::from("/run/hull")
    }
}

/// The subcommand named on the command line, found without parsing it all: the sealed
/// re-exec (for the commands that put our code in a container) comes before the parse,
/// so the arguments are parsed once, in the sealed copy. Global options that take a
/// value are skipped with it.
fn subcommand(args: &[std::ffi::OsString]) -> Option<&str> {
    let mut rest = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = rest.next() {
        match arg {
            "--root" | "--log" | "--log-format" | "--criu" => {
                rest.next();
            }
            flag if flag.starts_with('-') => {}
            name => return Some(name),
        }
    }
    None
}

fn main() -> ExitCode {
    // Go's flag package (runc's engines) also spells long flags with one dash.
    let args: Vec<std::ffi::OsString> = std::env::args_os()
        .map(|arg| match arg.to_str() {
            Some("-no-subreaper") => "--no-subreaper".into(),
            _ => arg,
        })
        .collect();
    if matches!(subcommand(&args), Some("create" | "run" | "exec")) {
        if let Err(e) = hull::sealed::ensure() {
            eprintln!("hull: re-exec from a sealed copy of the runtime: {e}");
            return ExitCode::from(1);
        }
    }
    let cli = Cli::parse_from(args);
    // Before we open anything ourselves: descriptors handed to the container must be
    // the caller's, never one of ours that took a free number.
    let preserved = commands::check_preserved_fds(&cli.command).and(log::init(
        cli.log.as_deref(),
        cli.log_format == "json",
        cli.debug,
    ));
    if let Err(message) = preserved {
        log::error(&message);
        return ExitCode::from(1);
    }
    let mut command = cli.command;
    if cli.systemd_cgroup {
        command.use_systemd_cgroup();
    }
    let root = cli.root.unwrap_or_else(default_root);
    let result = commands::run(command, &root, cli.criu.as_deref());
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            log::error(&message);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subcommand;

    #[test]
    fn the_subcommand_is_found_past_global_options() {
        let args =
            |line: &str| -> Vec<std::ffi::OsString> { line.split(' ').map(Into::into).collect() };
        assert_eq!(subcommand(&args("hull run x")), Some("run"));
        assert_eq!(
            subcommand(&args(
                "hull --root /r --log l --log-format json --debug exec id sh"
            )),
            Some("exec")
        );
        assert_eq!(
            subcommand(&args("hull --root=/r create --bundle b id")),
            Some("create")
        );
        assert_eq!(subcommand(&args("hull --criu /c state run")), Some("state"));
        assert_eq!(subcommand(&args("hull --version")), None);
    }
}
