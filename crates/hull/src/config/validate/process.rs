//! A process to run in a container (what [`Process::validate`] checks): a program, an
//! absolute working directory, `KEY=value` environment strings, a umask and an OOM
//! score adjustment in their ranges, known rlimits, each once and with its soft limit
//! within the hard one, and a scheduler and I/O priority the kernel takes.

use super::super::RLIMIT_NAMES;
use super::Result;
use crate::error::ConfigError;
use crate::process::Process;

pub(crate) fn check(p: &Process) -> Result<()> {
    if p.args.is_empty() {
        return Err(ConfigError::new("process.args", "must name a program"));
    }
    if !p.cwd.is_absolute() {
        return Err(ConfigError::new(
            "process.cwd",
            format!("{} is not an absolute path", p.cwd.display()),
        ));
    }
    if let Some(umask) = p.user.umask.filter(|u| *u > 0o777) {
        return Err(ConfigError::new(
            "process.user.umask",
            format!("{umask:o} is not a umask"),
        ));
    }
    if let Some(adj) = p.oom_score_adj.filter(|a| !(-1000..=1000).contains(a)) {
        return Err(ConfigError::new(
            "process.oomScoreAdj",
            format!("{adj} is outside -1000..1000"),
        ));
    }
    rlimits(p)?;
    for (i, kv) in p.env.iter().enumerate() {
        if !kv.contains('=') || kv.contains('\0') {
            return Err(ConfigError::new(
                format!("process.env[{i}]"),
                format!("{kv:?} is not KEY=value"),
            ));
        }
    }
    if let Some(s) = &p.scheduler {
        s.check()
            .map_err(|e| ConfigError::new("process.scheduler", e))?;
    }
    if let Some(io) = p.io_priority {
        io.check()
            .map_err(|(part, why)| ConfigError::new(format!("process.ioPriority.{part}"), why))?;
    }
    Ok(())
}

fn rlimits(p: &Process) -> Result<()> {
    for (i, r) in p.rlimits.iter().enumerate() {
        let field = format!("process.rlimits[{i}]");
        let Some(name) = RLIMIT_NAMES.get(r.resource as usize) else {
            return Err(ConfigError::new(
                format!("{field}.type"),
                format!("unknown rlimit {}", r.resource),
            ));
        };
        if p.rlimits[..i].iter().any(|o| o.resource == r.resource) {
            return Err(ConfigError::new(
                format!("{field}.type"),
                format!("duplicate {name}"),
            ));
        }
        if r.soft > r.hard {
            return Err(ConfigError::new(field, "soft limit exceeds hard limit"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::scheduling::{IoPriority, Scheduler, IOPRIO_CLASS_BE, SCHED_RR};
    use crate::config::Rlimit;

    fn true_() -> Process {
        Process {
            args: vec!["true".into()],
            cwd: "/".into(),
            env: vec!["PATH=/bin".into()],
            ..Process::default()
        }
    }

    fn field(p: &Process) -> String {
        check(p).expect_err("refused").field
    }

    #[test]
    fn a_plain_process_passes() {
        assert!(check(&true_()).is_ok());
    }

    #[test]
    fn a_program_is_named() {
        let p = Process {
            args: vec![],
            ..true_()
        };
        assert_eq!(field(&p), "process.args");
    }

    #[test]
    fn the_working_directory_is_absolute() {
        let p = Process {
            cwd: "tmp".into(),
            ..true_()
        };
        assert_eq!(field(&p), "process.cwd");
    }

    #[test]
    fn a_umask_is_nine_bits() {
        let mut p = true_();
        p.user.umask = Some(0o022);
        assert!(check(&p).is_ok());
        p.user.umask = Some(0o1000);
        assert_eq!(field(&p), "process.user.umask");
    }

    #[test]
    fn the_oom_score_adjustment_is_in_range() {
        let mut p = true_();
        p.oom_score_adj = Some(-1000);
        assert!(check(&p).is_ok());
        p.oom_score_adj = Some(1001);
        assert_eq!(field(&p), "process.oomScoreAdj");
    }

    fn rlimit(resource: u32, soft: u64, hard: u64) -> Rlimit {
        Rlimit {
            resource,
            soft,
            hard,
        }
    }

    #[test]
    fn rlimits_known_once_and_soft_within_hard() {
        let mut p = true_();
        p.rlimits = vec![rlimit(7, 1024, 4096), rlimit(16, 1, 1)];
        assert_eq!(field(&p), "process.rlimits[1].type");
        p.rlimits[1] = rlimit(7, 1, 1);
        let e = check(&p).unwrap_err();
        assert_eq!(e.field, "process.rlimits[1].type");
        assert_eq!(e.message, "duplicate RLIMIT_NOFILE");
        p.rlimits[1] = rlimit(4, 2, 1);
        assert_eq!(field(&p), "process.rlimits[1]");
    }

    #[test]
    fn environment_strings_are_key_value() {
        let mut p = true_();
        p.env.push("JUSTAKEY".into());
        assert_eq!(field(&p), "process.env[1]");
        p.env[1] = "A=b\0c".into();
        assert_eq!(field(&p), "process.env[1]");
    }

    #[test]
    fn the_scheduler_is_checked() {
        let p = Process {
            scheduler: Some(Scheduler {
                policy: SCHED_RR,
                priority: 0,
                ..Scheduler::default()
            }),
            ..true_()
        };
        assert_eq!(field(&p), "process.scheduler");
    }

    #[test]
    fn the_io_priority_is_checked() {
        let p = Process {
            io_priority: Some(IoPriority {
                class: IOPRIO_CLASS_BE,
                level: 8,
            }),
            ..true_()
        };
        assert_eq!(field(&p), "process.ioPriority.priority");
    }
}
