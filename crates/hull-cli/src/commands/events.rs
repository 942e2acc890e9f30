//! `hull events`: the container's statistics as runc's JSON events, once (`--stats`)
//! or every `--interval` together with OOM events, until the container stops.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{load, CmdResult};

#[derive(clap::Args)]
pub struct Args {
    /// Print one stats event and exit.
    #[arg(long)]
    stats: bool,
    /// How often to print stats: 5s, 500ms, 1m.
    #[arg(long, default_value = "5s", value_parser = parse_interval)]
    interval: Duration,
    pub id: String,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid interval {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(format!("invalid interval {s:?}: use ms, s or m")),
    };
    if secs <= 0.0 {
        return Err(format!("invalid interval {s:?}: must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn print(event: serde_json::Value) {
    println!("{event}");
}

pub fn run(args: Args, root: &Path) -> CmdResult {
    let container = load(root, &args.id)?;
    let stats_event = |c: &hull::Container| -> Result<serde_json::Value, String> {
        let stats = c.stats().map_err(|e| e.to_string())?;
        Ok(json!({ "type": "stats", "id": args.id, "data": stats }))
    };
    if args.stats {
        print(stats_event(&container)?);
        return Ok(0);
    }
    // Without a memory controller there are no OOM events, but stats still stream.
    let mut oom = container.notify_oom().ok();
    let mut next = Instant::now();
    loop {
        if matches!(container.status(), hull::Status::Stopped) {
            return Ok(0);
        }
        let now = Instant::now();
        if now >= next {
            match stats_event(&container) {
                Ok(event) => print(event),
                Err(_) if matches!(container.status(), hull::Status::Stopped) => return Ok(0),
                Err(e) => return Err(e),
            }
            next = now + args.interval;
        }
        let wait = next.saturating_duration_since(Instant::now());
        let Some(events) = oom.as_mut() else {
            std::thread::sleep(wait.min(Duration::from_millis(500)));
            continue;
        };
        let mut fds = [nix::poll::PollFd::new(
            events.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let timeout = nix::poll::PollTimeout::try_from(wait.min(Duration::from_millis(500)))
            .unwrap_or(nix::poll::PollTimeout::MAX);
        if let Ok(n) = nix::poll::poll(&mut fds, timeout) {
            if n > 0 {
                match events.wait() {
                    Ok(Some(_)) => print(json!({ "type": "oom", "id": args.id })),
                    _ => oom = None,
                }
            }
        }
    }
}
