//! The parent <-> init channel: a `SOCK_SEQPACKET` socketpair carrying small typed
//! messages. Every message is length-checked on receipt; a peer that sends anything
//! else is treated as broken, never trusted.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType};

/// The largest message we accept: an error text, capped.
const MAX_MESSAGE: usize = 16 * 1024;

/// What travels between the parent and the container's init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Parent -> child: ids mapped, cgroups joined; go on.
    Go,
    /// Child -> parent: I made a new user namespace; write my uid/gid maps.
    MapIds,
    /// Child -> parent: the process that will become init, after the second fork.
    InitPid(i32),
    /// Child -> parent: the container is set up and waits for `start`.
    Ready,
    /// Child -> parent: setup failed; the text says where and why.
    Failed(String),
    /// Child -> parent: stopped before pivot_root; run the runtime's hooks.
    RunHooks,
    /// Parent -> child: hooks done; the container's state JSON, for the child's own hooks.
    HookState(String),
    /// Child -> parent: the seccomp filter is loaded; its notify listener is attached,
    /// for the profile's agent. The child goes on at once: a notified syscall waits
    /// until the agent, which gets the listener next, answers it.
    SeccompListener,
    /// Child -> parent: I made a new time namespace, still empty; write its offsets.
    TimeOffsets,
    /// Child -> parent: my network namespace is made; move the configured network
    /// devices into it (the parent answers `Go`).
    NetDevices,
}

const GO: u8 = 1;
const MAP_IDS: u8 = 2;
const INIT_PID: u8 = 3;
const READY: u8 = 4;
const FAILED: u8 = 5;
const RUN_HOOKS: u8 = 6;
const HOOK_STATE: u8 = 7;
const SECCOMP_LISTENER: u8 = 8;
const TIME_OFFSETS: u8 = 9;
const NET_DEVICES: u8 = 10;

impl Message {
    fn encode(&self) -> Vec<u8> {
        match self {
            Message::Go => vec![GO],
            Message::MapIds => vec![MAP_IDS],
            Message::InitPid(pid) => {
                let mut v = vec![INIT_PID];
                v.extend_from_slice(&pid.to_le_bytes());
                v
            }
            Message::Ready => vec![READY],
            Message::RunHooks => vec![RUN_HOOKS],
            Message::SeccompListener => vec![SECCOMP_LISTENER],
            Message::TimeOffsets => vec![TIME_OFFSETS],
            Message::NetDevices => vec![NET_DEVICES],
            Message::Failed(text) | Message::HookState(text) => {
                let tag = if matches!(self, Message::Failed(_)) {
                    FAILED
                } else {
                    HOOK_STATE
                };
                let mut v = vec![tag];
                let mut end = text.len().min(MAX_MESSAGE - 1);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                v.extend_from_slice(&text.as_bytes()[..end]);
                v
            }
        }
    }

    fn decode(buf: &[u8]) -> Result<Message, ChannelError> {
        let bad = || ChannelError::Malformed(buf.len(), buf.first().copied());
        match (buf.first().copied(), buf.len()) {
            (Some(GO), 1) => Ok(Message::Go),
            (Some(MAP_IDS), 1) => Ok(Message::MapIds),
            (Some(READY), 1) => Ok(Message::Ready),
            (Some(RUN_HOOKS), 1) => Ok(Message::RunHooks),
            (Some(SECCOMP_LISTENER), 1) => Ok(Message::SeccompListener),
            (Some(TIME_OFFSETS), 1) => Ok(Message::TimeOffsets),
            (Some(NET_DEVICES), 1) => Ok(Message::NetDevices),
            (Some(HOOK_STATE), _) => Ok(Message::HookState(
                String::from_utf8_lossy(&buf[1..]).into_owned(),
            )),
            (Some(INIT_PID), 5) => {
                let pid = i32::from_le_bytes(buf[1..5].try_into().map_err(|_| bad())?);
                if pid <= 0 {
                    return Err(bad());
                }
                Ok(Message::InitPid(pid))
            }
            (Some(FAILED), _) => Ok(Message::Failed(
                String::from_utf8_lossy(&buf[1..]).into_owned(),
            )),
            _ => Err(bad()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// A failure of the sync channel between hull and a container's init.
pub enum ChannelError {
    #[error("sync channel: {0}")]
    /// Reading or writing the socket failed.
    Io(#[from] io::Error),
    #[error("sync channel: the other side closed it")]
    /// The other side closed the channel (typically: init died).
    Closed,
    #[error("sync channel: malformed message ({0} bytes, tag {1:?})")]
    /// A message that does not parse: its length and its tag byte.
    Malformed(usize, Option<u8>),
    #[error("sync channel: message larger than {MAX_MESSAGE} bytes")]
    /// A message longer than the channel allows.
    TooLarge,
    #[error("sync channel: expected {expected}, got {got}")]
    /// A message other than the one expected at this step.
    Unexpected {
        /// The message that was expected.
        expected: &'static str,
        /// The message that came, as text.
        got: String,
    },
}

/// One end of the channel.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    /// A connected pair: (parent end, child end), both close-on-exec.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let (a, b) = socket::socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    /// Sends `msg` with `fd` attached.
    pub fn send_with_fd(&self, msg: &Message, fd: BorrowedFd<'_>) -> Result<(), ChannelError> {
        crate::fdpass::send_fd(self.fd.as_fd(), &msg.encode(), fd).map_err(ChannelError::Io)
    }

    pub fn send(&self, msg: &Message) -> Result<(), ChannelError> {
        let buf = msg.encode();
        loop {
            match socket::send(self.fd.as_raw_fd(), &buf, MsgFlags::MSG_NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(ChannelError::Io(e.into())),
            }
        }
    }

    /// Receives a message; a descriptor that came with it is closed.
    pub fn recv(&self) -> Result<Message, ChannelError> {
        self.recv_with_fd().map(|(msg, _)| msg)
    }

    /// Receives a message and the descriptor attached to it, if any.
    pub fn recv_with_fd(&self) -> Result<(Message, Option<OwnedFd>), ChannelError> {
        let mut buf = vec![0u8; MAX_MESSAGE + 1];
        let (n, fd) = crate::fdpass::recv_fd(self.fd.as_fd(), &mut buf)?;
        match n {
            0 => Err(ChannelError::Closed),
            n if n > MAX_MESSAGE => Err(ChannelError::TooLarge),
            n => Ok((Message::decode(&buf[..n])?, fd)),
        }
    }

    /// Receives and insists on one kind of message.
    pub fn expect(&self, expected: &'static str, want: Message) -> Result<(), ChannelError> {
        match self.recv()? {
            got if got == want => Ok(()),
            got => Err(ChannelError::Unexpected {
                expected,
                got: format!("{got:?}"),
            }),
        }
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let (a, b) = Channel::pair().unwrap();
        for m in [
            Message::Go,
            Message::MapIds,
            Message::InitPid(42),
            Message::Ready,
            Message::Failed("mount /proc: EPERM".into()),
            Message::RunHooks,
            Message::HookState("{\"id\":\"x\"}".into()),
            Message::SeccompListener,
            Message::NetDevices,
        ] {
            a.send(&m).unwrap();
            assert_eq!(b.recv().unwrap(), m);
        }
    }

    #[test]
    fn a_descriptor_travels_with_its_message() {
        let (a, b) = Channel::pair().unwrap();
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        a.send_with_fd(&Message::SeccompListener, file.as_fd())
            .unwrap();
        let (msg, fd) = b.recv_with_fd().unwrap();
        assert_eq!(msg, Message::SeccompListener);
        let (ours, theirs) = (
            nix::sys::stat::fstat(file.as_raw_fd()).unwrap(),
            nix::sys::stat::fstat(fd.unwrap().as_raw_fd()).unwrap(),
        );
        assert_eq!((ours.st_dev, ours.st_ino), (theirs.st_dev, theirs.st_ino));
        a.send(&Message::Go).unwrap();
        let (msg, fd) = b.recv_with_fd().unwrap();
        assert_eq!(msg, Message::Go);
        assert!(fd.is_none());
    }

    #[test]
    fn malformed_and_oversized_messages_are_rejected() {
        let (a, b) = Channel::pair().unwrap();
        let raw = |bytes: &[u8]| {
            socket::send(a.fd.as_raw_fd(), bytes, MsgFlags::empty()).unwrap();
        };
        raw(&[INIT_PID, 1, 2]);
        assert!(matches!(
            b.recv(),
            Err(ChannelError::Malformed(3, Some(INIT_PID)))
        ));
        raw(&[INIT_PID, 0, 0, 0, 0]);
        assert!(matches!(b.recv(), Err(ChannelError::Malformed(..))));
        raw(&[99]);
        assert!(matches!(
            b.recv(),
            Err(ChannelError::Malformed(1, Some(99)))
        ));
        raw(&[GO, 0]);
        assert!(matches!(
            b.recv(),
            Err(ChannelError::Malformed(2, Some(GO)))
        ));
        raw(&vec![FAILED; MAX_MESSAGE + 10]);
        assert!(matches!(b.recv(), Err(ChannelError::TooLarge)));
        drop(a);
        assert!(matches!(b.recv(), Err(ChannelError::Closed)));
    }
}
