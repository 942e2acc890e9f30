//! Signals as hull sends them to a container's processes: a checked number, by name
//! (`KILL`, `SIGKILL`, `RTMIN+3`) or by value, real-time signals included (which
//! `nix::sys::signal::Signal` cannot hold).

use std::fmt;
use std::str::FromStr;

/// `RTMIN` as glibc, Docker, runc and `kill -l` number it: the kernel's first real-time
/// signal (32) plus the two glibc's threads take. Not `libc::SIGRTMIN()`, which is 35
/// under musl (it takes three), and would shift every `RTMIN+n` a container is sent.
const RTMIN: i32 = 34;
/// The kernel's last real-time signal.
const RTMAX: i32 = 64;

/// A signal number Linux accepts: 1 to `SIGRTMAX`, or 0, which only checks that the
/// process exists (as `kill(1)` and runc allow).
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use hull::Signal;
///
/// assert_eq!("SIGTERM".parse::<Signal>()?, Signal::TERM);
/// assert_eq!("9".parse::<Signal>()?, Signal::KILL);
/// assert_eq!(Signal::from_number(2)?.number(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

/// A signal hull does not know, by name or number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid signal {0:?}")]
pub struct InvalidSignal(pub String);

impl Signal {
    /// `SIGHUP`.
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// `SIGINT`.
    pub const INT: Signal = Signal(libc::SIGINT);
    /// `SIGQUIT`.
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// `SIGKILL`: cannot be caught.
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// `SIGUSR1`.
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// `SIGUSR2`.
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// `SIGTERM`.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// `SIGCONT`.
    pub const CONT: Signal = Signal(libc::SIGCONT);
    /// `SIGSTOP`: cannot be caught.
    pub const STOP: Signal = Signal(libc::SIGSTOP);

    /// The signal numbered `n`, if Linux has one.
    pub fn from_number(n: i32) -> Result<Signal, InvalidSignal> {
        if (0..=RTMAX).contains(&n) {
            Ok(Signal(n))
        } else {
            Err(InvalidSignal(n.to_string()))
        }
    }

    /// The number to pass to the kernel.
    pub fn number(self) -> i32 {
        self.0
    }
}

impl FromStr for Signal {
    type Err = InvalidSignal;

    /// A number, or a name with or without `SIG`, in any case; `RTMIN+n` and `RTMAX-n`
    /// for real-time signals.
    fn from_str(s: &str) -> Result<Signal, InvalidSignal> {
        let invalid = || InvalidSignal(s.to_string());
        if let Ok(n) = s.parse::<i32>() {
            return Signal::from_number(n).map_err(|_| invalid());
        }
        let upper = s.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        // RTMIN counts up (`+n`), RTMAX down (`-n`).
        let realtime = |base: i32, rest: &str, sign: char| -> Result<Signal, InvalidSignal> {
            let offset = match rest.strip_prefix(sign) {
                _ if rest.is_empty() => 0,
                Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => {
                    n.parse::<i32>().map_err(|_| invalid())?
                }
                _ => return Err(invalid()),
            };
            let n = if sign == '+' {
                base + offset
            } else {
                base - offset
            };
            if !(RTMIN..=RTMAX).contains(&n) {
                return Err(invalid());
            }
            Ok(Signal(n))
        };
        if let Some(rest) = name.strip_prefix("RTMIN") {
            return realtime(RTMIN, rest, '+');
        }
        if let Some(rest) = name.strip_prefix("RTMAX") {
            return realtime(RTMAX, rest, '-');
        }
        format!("SIG{name}")
            .parse::<nix::sys::signal::Signal>()
            .map(Signal::from)
            .map_err(|_| invalid())
    }
}

impl From<nix::sys::signal::Signal> for Signal {
    fn from(signal: nix::sys::signal::Signal) -> Signal {
        Signal(signal as i32)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match nix::sys::signal::Signal::try_from(self.0) {
            Ok(s) => f.write_str(s.as_str()),
            Err(_) => write!(f, "signal {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!("KILL".parse(), Ok(Signal::KILL));
        assert_eq!("sigterm".parse(), Ok(Signal::TERM));
        assert_eq!("SIGUSR1".parse(), Ok(Signal::USR1));
        assert_eq!("9".parse(), Ok(Signal::KILL));
        assert_eq!("0".parse::<Signal>().map(Signal::number), Ok(0));
        for bad in [
            "NOPE",
            "-1",
            "1000",
            "RTMIN+99",
            "RTMIN-1",
            "SIGRTMAX+1",
            "",
        ] {
            assert!(bad.parse::<Signal>().is_err(), "{bad}");
        }
    }

    #[test]
    fn real_time_signals_by_name() {
        // As `kill -l` numbers them, whichever libc hull is built with.
        assert_eq!("RTMIN".parse::<Signal>().map(Signal::number), Ok(34));
        assert_eq!("SIGRTMIN+3".parse::<Signal>().map(Signal::number), Ok(37));
        assert_eq!("rtmax-2".parse::<Signal>().map(Signal::number), Ok(62));
        assert_eq!(Signal::KILL.to_string(), "SIGKILL");
    }
}
