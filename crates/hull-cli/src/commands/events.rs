//! `hull events`: the container's statistics as runc's JSON events, once (`--stats`)
//! or every `--interval` together with OOM events, until the container stops.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{load, CmdResult};

pub struct Args {
    /// Print one stats event and exit.
    pub stats: bool,
    /// How often to print stats: 5s, 500ms, 1m.
    pub interval: Duration,
    pub id: String,
}

pub fn parse_interval(s: &str) -> Result<Duration, String> {
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

/// Prints one event line; false once nobody reads our output any more.
fn print(event: serde_json::Value) -> bool {
    use std::io::Write;
    writeln!(std::io::stdout(), "{event}").is_ok()
}

/// Whether an OOM event is waiting, within `timeout`.
fn readable(events: &hull::cgroups::oom::OomEvents, timeout: Duration) -> bool {
    let mut fds = [nix::poll::PollFd::new(
        events.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let timeout = nix::poll::PollTimeout::try_from(timeout).unwrap_or(nix::poll::PollTimeout::MAX);
    matches!(nix::poll::poll(&mut fds, timeout), Ok(n) if n > 0)
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
    let oom_event = || json!({ "type": "oom", "id": args.id });
    // Without a memory controller there are no OOM events, but stats still stream.
    let mut oom = container.notify_oom().ok();
    let mut next = Instant::now();
    loop {
        if matches!(container.status(), hull::Status::Stopped) {
            // An OOM kill is often what stopped it: report what is pending first.
            while let Some(events) = oom.as_mut().filter(|e| readable(e, Duration::ZERO)) {
                match events.next_change() {
                    Ok(Some(0)) => true,
                    Ok(Some(_)) => print(oom_event()),
                    _ => break,
                };
            }
            return Ok(0);
        }
        let now = Instant::now();
        if now >= next {
            match stats_event(&container) {
                Ok(event) => {
                    if !print(event) {
                        return Ok(0);
                    }
                }
                Err(_) if matches!(container.status(), hull::Status::Stopped) => continue,
                Err(e) => return Err(e),
            }
            next = now + args.interval;
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(500));
        let Some(events) = oom.as_mut() else {
            std::thread::sleep(wait);
            continue;
        };
        if readable(events, wait) {
            match events.next_change() {
                Ok(Some(0)) => {}
                Ok(Some(_)) if !print(oom_event()) => return Ok(0),
                Ok(Some(_)) => {}
                _ => oom = None,
            }
        }
    }
}
