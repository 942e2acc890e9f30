//! One conversation with `criu swrk`: CRIU runs as our child and takes one request over
//! a SOCK_SEQPACKET socketpair (its end is its fd 3); while it works it sends
//! notifications, each answered before it goes on, and a descriptor may come with one
//! (the restored terminal's master). Then the final answer, and CRIU exits.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use prost::Message;

use super::rpc::{Notify, Req, ReqType, Resp};
use crate::sys;

/// How CRIU is started.
pub struct Launch<'a> {
    pub criu: &'a Path,
    /// CRIU's stdin, stdout and stderr.
    pub stdio: [Stdio; 3],
    /// Descriptors CRIU gets as its fds 4, 5, … (for `inherit_fd`).
    pub inherit: Vec<OwnedFd>,
}

/// CRIU's fd for the first of [`Launch::inherit`].
pub const FIRST_INHERITED_FD: RawFd = 4;

/// Above every number CRIU's descriptors are moved to.
const STAGING_FD: RawFd = 64;

/// What answers CRIU's notifications: the notification, and the descriptor that came
/// with it; an error makes CRIU give up.
pub type NotifyHandler<'a> = dyn FnMut(&Notify, Option<OwnedFd>) -> Result<(), NotifyError> + 'a;

/// Why a notification handler failed: whatever the step it took did.
pub type NotifyError = Box<dyn std::error::Error + Send + Sync>;

/// A running `criu swrk`.
pub struct Swrk {
    child: Child,
    socket: OwnedFd,
}

/// What went wrong talking to CRIU.
#[derive(Debug)]
pub enum SwrkError {
    /// CRIU could not be started.
    Start(io::Error),
    /// The conversation broke (CRIU died, or sent something unreadable).
    Talk(String),
    /// A notification handler failed; CRIU was told and gave up.
    Handler(String),
}

impl Swrk {
    /// Starts CRIU, waiting for a request.
    pub fn start(launch: Launch<'_>) -> Result<Swrk, SwrkError> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| SwrkError::Start(e.into()))?;
        // Moved above every target number first, so that no dup2 overwrites a
        // descriptor still to be moved.
        let staged: Vec<OwnedFd> = std::iter::once(theirs.as_fd())
            .chain(launch.inherit.iter().map(|f| f.as_fd()))
            .map(|fd| sys::dup_above(fd, STAGING_FD))
            .collect::<io::Result<_>>()
            .map_err(SwrkError::Start)?;
        let fds = staged
            .iter()
            .enumerate()
            .map(|(i, fd)| (fd.as_raw_fd(), 3 + i as RawFd))
            .collect();
        let mut command = Command::new(launch.criu);
        command.args(["swrk", "3"]);
        let [stdin, stdout, stderr] = launch.stdio;
        command.stdin(stdin).stdout(stdout).stderr(stderr);
        sys::set_child_fds(&mut command, fds);
        let child = command.spawn().map_err(SwrkError::Start)?;
        Ok(Swrk {
            child,
            socket: ours,
        })
    }

    /// CRIU's pid (to put it in the container's cgroup before a restore).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `req` and returns CRIU's final answer. Each notification goes to
    /// `on_notify` with the descriptor that came with it; its error is CRIU's answer
    /// (CRIU then fails) and is returned once CRIU has finished.
    pub fn call(mut self, req: &Req, on_notify: &mut NotifyHandler<'_>) -> Result<Resp, SwrkError> {
        let result = self.converse(req, on_notify);
        // CRIU exits after one request; a CRIU that broke the conversation is ended.
        if result.is_err() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        result
    }

    fn converse(
        &mut self,
        req: &Req,
        on_notify: &mut NotifyHandler<'_>,
    ) -> Result<Resp, SwrkError> {
        self.send(req)?;
        let mut failed = None;
        loop {
            let (resp, fd) = self.receive()?;
            if resp.r#type != ReqType::Notify as i32 {
                return match failed {
                    Some(why) => Err(SwrkError::Handler(why)),
                    None => Ok(resp),
                };
            }
            let notify = resp.notify.unwrap_or_default();
            let answer = on_notify(&notify, fd);
            let ok = answer.is_ok();
            if let Err(why) = answer {
                failed.get_or_insert(why.to_string());
            }
            self.send(&Req {
                r#type: ReqType::Notify as i32,
                notify_success: Some(ok),
                ..Req::default()
            })?;
        }
    }

    fn send(&self, req: &Req) -> Result<(), SwrkError> {
        let bytes = req.encode_to_vec();
        nix::sys::socket::send(
            self.socket.as_raw_fd(),
            &bytes,
            nix::sys::socket::MsgFlags::MSG_NOSIGNAL,
        )
        .map(drop)
        .map_err(|e| SwrkError::Talk(format!("sending to criu: {e}")))
    }

    fn receive(&self) -> Result<(Resp, Option<OwnedFd>), SwrkError> {
        let mut buf = vec![0u8; 64 << 10];
        let (len, fd) = crate::fdpass::recv_fd(self.socket.as_fd(), &mut buf)
            .map_err(|e| SwrkError::Talk(format!("reading from criu: {e}")))?;
        if len == 0 {
            return Err(SwrkError::Talk("criu ended without an answer".into()));
        }
        if len > buf.len() {
            return Err(SwrkError::Talk(format!("an answer of {len} bytes")));
        }
        let resp = Resp::decode(&buf[..len])
            .map_err(|e| SwrkError::Talk(format!("an unreadable answer: {e}")))?;
        Ok((resp, fd))
    }
}
