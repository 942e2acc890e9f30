//! A minimal rtnetlink client (a `NETLINK_ROUTE` socket) for what moving network devices
//! and the seed's networks need: a link by name, all links, a link's addresses, moving a
//! link to another network namespace under a new name, setting it up or down, adding an
//! address, making a veth pair, deleting a link, a bridge port's hairpin mode, adding a
//! route. The
//! messages are laid out here by hand after the kernel's uapi headers (`netlink.h`,
//! `rtnetlink.h`, `if_link.h`, `if_addr.h`), so hull's create path needs no netlink
//! crate. Only replies from the kernel (port 0) to our own request are read.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{
    self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

// linux/netlink.h
const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CREATE: u16 = 0x400;
// linux/rtnetlink.h
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_LINK: u8 = 253;
const RTN_UNICAST: u8 = 1;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;
// linux/netlink.h
const NLA_F_NESTED: u16 = 0x8000;
// linux/if_link.h
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_PROTINFO: u16 = 12;
const IFLA_TXQLEN: u16 = 13;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_BRPORT_MODE: u16 = 4;
// linux/veth.h
const VETH_INFO_PEER: u16 = 1;
// linux/if_addr.h
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_RT_PRIORITY: u16 = 9;
const IFA_PROTO: u16 = 11;
const IFA_F_NODAD: u32 = 0x02;
const IFA_F_PERMANENT: u32 = 0x80;
/// The flags an address can be given when it is added (nodad, optimistic,
/// homeaddress, managetempaddr, noprefixroute, mcautojoin); the others are the
/// kernel's account of its state.
const IFA_F_SETTABLE: u32 = 0x02 | 0x04 | 0x10 | 0x100 | 0x200 | 0x400;
// linux/rtnetlink.h
const RT_SCOPE_UNIVERSE: u8 = 0;

/// A network device: its index and name in its network namespace, whether it is up,
/// its MTU, and its kind (`bridge`, `veth`, ...; none for a physical device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: i32,
    pub name: String,
    pub up: bool,
    pub mtu: u32,
    pub kind: Option<String>,
}

/// An address of a device, as the kernel reports it, with what it takes to add it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub family: u8,
    pub prefix_len: u8,
    pub scope: u8,
    /// `IFA_F_*` (from the 32-bit `IFA_FLAGS` when the kernel sends it).
    pub flags: u32,
    /// The IPv4 label (`eth0:1`), if any.
    pub label: Option<String>,
    /// Attributes added back as they came: address, local address, broadcast, route
    /// metric, protocol.
    pub attrs: Vec<(u16, Vec<u8>)>,
}

impl Address {
    /// `addr`/`prefix_len` as a new address of global scope: an IPv4 one with its
    /// broadcast address (below /31), an IPv6 one without duplicate address detection (the config
    /// gave it; waiting a second or two for DAD would only delay the container).
    pub fn new(addr: std::net::IpAddr, prefix_len: u8) -> Address {
        let mut a = Address {
            family: 0,
            prefix_len,
            scope: 0,
            flags: 0,
            label: None,
            attrs: Vec::new(),
        };
        match addr {
            std::net::IpAddr::V4(v4) => {
                a.family = libc::AF_INET as u8;
                a.attrs = vec![
                    (IFA_LOCAL, v4.octets().to_vec()),
                    (IFA_ADDRESS, v4.octets().to_vec()),
                ];
                // A /31 or /32 has no broadcast address (RFC 3021): its other address
                // is the peer's.
                if prefix_len < 31 {
                    let host_bits = u32::MAX >> prefix_len;
                    let broadcast = (u32::from(v4) | host_bits).to_be_bytes();
                    a.attrs.push((IFA_BROADCAST, broadcast.to_vec()));
                }
            }
            std::net::IpAddr::V6(v6) => {
                a.family = libc::AF_INET6 as u8;
                a.flags = IFA_F_NODAD;
                a.attrs = vec![(IFA_ADDRESS, v6.octets().to_vec())];
            }
        }
        a
    }

    /// A permanent address of global scope: what runtime-spec 1.3 carries along with a
    /// device (not the link-local ones, nor those with a lifetime, made by autoconf).
    pub fn is_permanent_global(&self) -> bool {
        self.flags & IFA_F_PERMANENT != 0 && self.scope == RT_SCOPE_UNIVERSE
    }
}

/// One request being built: the header, a fixed part, attributes.
struct Request(Vec<u8>);

impl Request {
    fn new(kind: u16, flags: u16) -> Request {
        let mut buf = vec![0u8; NLMSG_HDRLEN];
        buf[4..6].copy_from_slice(&kind.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        Request(buf)
    }

    /// The fixed part (`ifinfomsg`, `ifaddrmsg`: both a multiple of 4 bytes).
    fn fixed(mut self, bytes: &[u8]) -> Request {
        self.0.extend_from_slice(bytes);
        self
    }

    fn attr(mut self, kind: u16, data: &[u8]) -> Request {
        let len = 4 + data.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().next_multiple_of(4), 0);
        self
    }

    /// A NUL-terminated string attribute.
    fn string(self, kind: u16, s: &str) -> Request {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.attr(kind, &data)
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[0..4].copy_from_slice(&len.to_ne_bytes());
        self.0[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.0
    }
}

/// `struct ifinfomsg` for link `index`, with `flags` set among those in `change`.
fn ifinfomsg(index: i32, flags: u32, change: u32) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[0] = libc::AF_UNSPEC as u8;
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m[8..12].copy_from_slice(&flags.to_ne_bytes());
    m[12..16].copy_from_slice(&change.to_ne_bytes());
    m
}

/// `struct ifaddrmsg`.
fn ifaddrmsg(family: u8, prefix_len: u8, flags: u8, scope: u8, index: i32) -> [u8; 8] {
    let mut m = [family, prefix_len, flags, scope, 0, 0, 0, 0];
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m
}

/// One message of a reply: its type, sequence number and payload.
#[derive(Debug, PartialEq, Eq)]
struct Reply<'a> {
    kind: u16,
    seq: u32,
    payload: &'a [u8],
}

/// The messages in one datagram from the kernel.
fn replies(mut buf: &[u8]) -> io::Result<Vec<Reply<'_>>> {
    let malformed = || io::Error::new(io::ErrorKind::InvalidData, "malformed netlink reply");
    let mut out = Vec::new();
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Err(malformed());
        }
        out.push(Reply {
            kind: u16::from_ne_bytes(buf[4..6].try_into().expect("2 bytes")),
            seq: u32::from_ne_bytes(buf[8..12].try_into().expect("4 bytes")),
            payload: &buf[NLMSG_HDRLEN..len],
        });
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    Ok(out)
}

/// The attributes after a fixed part; stops at the first malformed one.
fn attributes(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        if len < 4 || len > buf.len() {
            break;
        }
        // The top two bits are the nested and byte-order flags, not the type.
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        out.push((kind, &buf[4..len]));
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    out
}

fn c_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// A `RTM_NEWLINK` payload as a [`Link`].
fn parse_link(payload: &[u8]) -> Option<Link> {
    let fixed = payload.get(..16)?;
    let index = i32::from_ne_bytes(fixed[4..8].try_into().ok()?);
    let flags = u32::from_ne_bytes(fixed[8..12].try_into().ok()?);
    let (mut name, mut mtu, mut kind) = (None, 0, None);
    for (attr, data) in attributes(&payload[16..]) {
        match attr {
            IFLA_IFNAME => name = Some(c_string(data)),
            IFLA_MTU if data.len() >= 4 => mtu = u32::from_ne_bytes(data[..4].try_into().ok()?),
            IFLA_LINKINFO => {
                kind = attributes(data)
                    .into_iter()
                    .find(|(k, _)| *k == IFLA_INFO_KIND)
                    .map(|(_, d)| c_string(d))
            }
            _ => {}
        }
    }
    Some(Link {
        index,
        name: name?,
        up: flags & libc::IFF_UP as u32 != 0,
        mtu,
        kind,
    })
}

/// A `RTM_NEWADDR` payload: the device's index and the [`Address`].
fn parse_address(payload: &[u8]) -> Option<(i32, Address)> {
    let fixed = payload.get(..8)?;
    let index = i32::from_ne_bytes(fixed[4..8].try_into().ok()?);
    let mut addr = Address {
        family: fixed[0],
        prefix_len: fixed[1],
        flags: fixed[2] as u32,
        scope: fixed[3],
        label: None,
        attrs: Vec::new(),
    };
    for (kind, data) in attributes(&payload[8..]) {
        match kind {
            IFA_FLAGS if data.len() >= 4 => {
                addr.flags = u32::from_ne_bytes(data[..4].try_into().ok()?)
            }
            IFA_LABEL => addr.label = Some(c_string(data)),
            IFA_ADDRESS | IFA_LOCAL | IFA_BROADCAST | IFA_RT_PRIORITY | IFA_PROTO => {
                addr.attrs.push((kind, data.to_vec()))
            }
            _ => {}
        }
    }
    Some((index, addr))
}

/// A `NETLINK_ROUTE` socket in the network namespace of the thread that opened it
/// (a socket stays in its namespace whichever thread uses it).
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

impl Socket {
    pub fn open() -> io::Result<Socket> {
        let fd = socket::socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
        Ok(Socket { fd, seq: 0 })
    }

    /// Sends `req` and collects the payloads of the kernel's answer: up to its ack for
    /// a request, up to the end for a dump. An error the kernel sends is returned as one.
    fn call(&mut self, req: Request) -> io::Result<Vec<(u16, Vec<u8>)>> {
        self.seq = self.seq.wrapping_add(1);
        let msg = req.finish(self.seq);
        let kernel = NetlinkAddr::new(0, 0);
        socket::sendto(self.fd.as_raw_fd(), &msg, &kernel, MsgFlags::empty())?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = Vec::new();
        loop {
            let (n, from) = socket::recvfrom::<NetlinkAddr>(self.fd.as_raw_fd(), &mut buf)?;
            if from.is_none_or(|a| a.pid() != 0) {
                continue;
            }
            for reply in replies(&buf[..n])? {
                if reply.seq != self.seq {
                    continue;
                }
                match reply.kind {
                    NLMSG_ERROR | NLMSG_DONE => {
                        let code = reply
                            .payload
                            .get(..4)
                            .map_or(0, |b| i32::from_ne_bytes(b.try_into().expect("4 bytes")));
                        return match code {
                            0 => Ok(out),
                            e => Err(io::Error::from_raw_os_error(-e)),
                        };
                    }
                    kind => out.push((kind, reply.payload.to_vec())),
                }
            }
        }
    }

    /// The device called `name`, if there is one.
    pub fn link(&mut self, name: &str) -> io::Result<Option<Link>> {
        let req = Request::new(RTM_GETLINK, NLM_F_ACK)
            .fixed(&ifinfomsg(0, 0, 0))
            .string(IFLA_IFNAME, name);
        match self.call(req) {
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
            Ok(replies) => Ok(replies
                .iter()
                .filter(|(kind, _)| *kind == RTM_NEWLINK)
                .find_map(|(_, payload)| parse_link(payload))),
        }
    }

    /// Every device of the namespace.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let req = Request::new(RTM_GETLINK, NLM_F_DUMP).fixed(&ifinfomsg(0, 0, 0));
        Ok(self
            .call(req)?
            .iter()
            .filter(|(kind, _)| *kind == RTM_NEWLINK)
            .filter_map(|(_, payload)| parse_link(payload))
            .collect())
    }

    /// The addresses of device `index`, of every family.
    pub fn addresses(&mut self, index: i32) -> io::Result<Vec<Address>> {
        let req = Request::new(RTM_GETADDR, NLM_F_DUMP).fixed(&ifaddrmsg(0, 0, 0, 0, 0));
        Ok(self
            .call(req)?
            .iter()
            .filter(|(kind, _)| *kind == RTM_NEWADDR)
            .filter_map(|(_, payload)| parse_address(payload))
            .filter(|(i, _)| *i == index)
            .map(|(_, addr)| addr)
            .collect())
    }

    /// Moves device `index` into the network namespace `netns`, named `name` there
    /// (one message: the kernel renames it on the way, so a name taken on either side
    /// is no obstacle).
    pub fn move_to(&mut self, index: i32, name: &str, netns: BorrowedFd<'_>) -> io::Result<()> {
        let fd = netns.as_raw_fd() as u32;
        self.call(move_request(index, name, fd)).map(drop)
    }

    pub fn set_up(&mut self, index: i32, up: bool) -> io::Result<()> {
        let flag = libc::IFF_UP as u32;
        let req = Request::new(RTM_NEWLINK, NLM_F_ACK).fixed(&ifinfomsg(
            index,
            if up { flag } else { 0 },
            flag,
        ));
        self.call(req).map(drop)
    }

    /// Adds `addr` to device `index` (replacing the same address if it is there).
    pub fn add_address(&mut self, index: i32, addr: &Address) -> io::Result<()> {
        self.call(address_request(index, addr)).map(drop)
    }
}

/// The runtime's end of a veth pair: a port of bridge `master`.
pub struct HostSide<'a> {
    pub name: &'a str,
    pub mac: [u8; 6],
    pub mtu: u32,
    pub tx_queue_len: Option<u32>,
    pub master: i32,
}

/// The container's end of a veth pair, made in another network namespace.
pub struct Peer<'a> {
    pub name: &'a str,
    pub netns: BorrowedFd<'a>,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    pub tx_queue_len: Option<u32>,
}

/// A route of the main table.
pub struct RouteSpec {
    pub family: u8,
    pub destination: Vec<u8>,
    pub prefix_len: u8,
    pub gateway: Option<Vec<u8>>,
    pub source: Option<Vec<u8>>,
    pub interface: Option<i32>,
}

impl Socket {
    /// Makes a veth pair: `name` here (with `mtu`, a port of bridge `master`), its peer
    /// in the peer's namespace under its own name. Refused if `name` exists here.
    pub fn add_veth(&mut self, host: &HostSide<'_>, peer: &Peer<'_>) -> io::Result<()> {
        self.call(veth_request(host, peer)).map(drop)
    }

    /// Deletes device `index` (a veth takes its peer with it).
    pub fn delete_link(&mut self, index: i32) -> io::Result<()> {
        let req = Request::new(RTM_DELLINK, NLM_F_ACK).fixed(&ifinfomsg(index, 0, 0));
        self.call(req).map(drop)
    }

    /// Sets hairpin mode of bridge port `index`: frames may leave by the port they came in.
    pub fn set_hairpin(&mut self, index: i32, on: bool) -> io::Result<()> {
        self.call(hairpin_request(index, on)).map(drop)
    }

    /// Adds `route` to the main table; refused if the same route is there.
    pub fn add_route(&mut self, route: &RouteSpec) -> io::Result<()> {
        self.call(route_request(route)).map(drop)
    }
}

fn veth_request(host: &HostSide<'_>, peer: &Peer<'_>) -> Request {
    let mut peer_attrs = Request(ifinfomsg(0, 0, 0).to_vec())
        .string(IFLA_IFNAME, peer.name)
        .attr(
            IFLA_NET_NS_FD,
            &(peer.netns.as_raw_fd() as u32).to_ne_bytes(),
        );
    if let Some(mac) = peer.mac {
        peer_attrs = peer_attrs.attr(IFLA_ADDRESS, &mac);
    }
    if let Some(mtu) = peer.mtu {
        peer_attrs = peer_attrs.attr(IFLA_MTU, &mtu.to_ne_bytes());
    }
    if let Some(len) = peer.tx_queue_len {
        peer_attrs = peer_attrs.attr(IFLA_TXQLEN, &len.to_ne_bytes());
    }
    let data = Request(Vec::new()).attr(VETH_INFO_PEER, &peer_attrs.0);
    let info = Request(Vec::new())
        .string(IFLA_INFO_KIND, "veth")
        .attr(IFLA_INFO_DATA, &data.0);
    let mut req = Request::new(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
        .fixed(&ifinfomsg(0, 0, 0))
        .string(IFLA_IFNAME, host.name)
        .attr(IFLA_MASTER, &(host.master as u32).to_ne_bytes())
        .attr(IFLA_ADDRESS, &host.mac)
        .attr(IFLA_MTU, &host.mtu.to_ne_bytes());
    if let Some(len) = host.tx_queue_len {
        req = req.attr(IFLA_TXQLEN, &len.to_ne_bytes());
    }
    req.attr(IFLA_LINKINFO, &info.0)
}

fn hairpin_request(index: i32, on: bool) -> Request {
    let mut port = ifinfomsg(index, 0, 0);
    port[0] = libc::AF_BRIDGE as u8;
    // Nested: without the flag the bridge reads the attribute as an old STP state.
    let mode = Request(Vec::new()).attr(IFLA_BRPORT_MODE, &[u8::from(on)]);
    Request::new(RTM_SETLINK, NLM_F_ACK)
        .fixed(&port)
        .attr(IFLA_PROTINFO | NLA_F_NESTED, &mode.0)
}

fn route_request(route: &RouteSpec) -> Request {
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    let scope = if route.gateway.is_some() {
        0
    } else {
        RT_SCOPE_LINK
    };
    let mut rtmsg = [0u8; 12];
    rtmsg[..8].copy_from_slice(&[
        route.family,
        route.prefix_len,
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_BOOT,
        scope,
        RTN_UNICAST,
    ]);
    let mut req = Request::new(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL).fixed(&rtmsg);
    if route.prefix_len > 0 {
        req = req.attr(RTA_DST, &route.destination);
    }
    if let Some(gateway) = &route.gateway {
        req = req.attr(RTA_GATEWAY, gateway);
    }
    if let Some(source) = &route.source {
        req = req.attr(RTA_PREFSRC, source);
    }
    if let Some(index) = route.interface {
        req = req.attr(RTA_OIF, &index.to_ne_bytes());
    }
    req
}

fn move_request(index: i32, name: &str, netns_fd: u32) -> Request {
    Request::new(RTM_NEWLINK, NLM_F_ACK)
        .fixed(&ifinfomsg(index, 0, 0))
        .string(IFLA_IFNAME, name)
        .attr(IFLA_NET_NS_FD, &netns_fd.to_ne_bytes())
}

fn address_request(index: i32, addr: &Address) -> Request {
    let flags = addr.flags & IFA_F_SETTABLE;
    let mut req = Request::new(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE).fixed(
        &ifaddrmsg(addr.family, addr.prefix_len, flags as u8, addr.scope, index),
    );
    for (kind, data) in &addr.attrs {
        req = req.attr(*kind, data);
    }
    if let Some(label) = &addr.label {
        req = req.string(IFA_LABEL, label);
    }
    req.attr(IFA_FLAGS, &flags.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u32, kind: u16, seq: u32) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&len.to_ne_bytes());
        h.extend_from_slice(&kind.to_ne_bytes());
        h.extend_from_slice(&0u16.to_ne_bytes());
        h.extend_from_slice(&seq.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h
    }

    #[test]
    fn a_move_is_one_newlink_with_the_name_and_the_namespace() {
        let msg = move_request(7, "eth1", 9).finish(42);
        // header + ifinfomsg + "eth1\0" padded to 8 (+4) + a u32 (+4 +4)
        assert_eq!(msg.len(), 16 + 16 + 12 + 8);
        assert_eq!(u32::from_ne_bytes(msg[0..4].try_into().unwrap()), 52);
        assert_eq!(
            u16::from_ne_bytes(msg[4..6].try_into().unwrap()),
            RTM_NEWLINK
        );
        assert_eq!(
            u16::from_ne_bytes(msg[6..8].try_into().unwrap()),
            NLM_F_REQUEST | NLM_F_ACK
        );
        assert_eq!(u32::from_ne_bytes(msg[8..12].try_into().unwrap()), 42);
        assert_eq!(i32::from_ne_bytes(msg[20..24].try_into().unwrap()), 7);
        let attrs = attributes(&msg[32..]);
        assert_eq!(attrs[0], (IFLA_IFNAME, &b"eth1\0"[..]));
        assert_eq!(attrs[1], (IFLA_NET_NS_FD, &9u32.to_ne_bytes()[..]));
    }

    #[test]
    fn an_address_reported_is_added_back_alike() {
        // What the kernel sends for 10.199.0.2/24 brd 10.199.0.255 on device 5.
        let ip = [10, 199, 0, 2];
        let mut payload = ifaddrmsg(libc::AF_INET as u8, 24, 0x80, 0, 5).to_vec();
        let mut body = Request(Vec::new())
            .attr(IFA_ADDRESS, &ip)
            .attr(IFA_LOCAL, &ip)
            .attr(IFA_BROADCAST, &[10, 199, 0, 255])
            .string(IFA_LABEL, "d0")
            .attr(IFA_FLAGS, &(0x80u32 | 0x200).to_ne_bytes())
            .attr(6, &[0; 16]) // IFA_CACHEINFO: not carried over
            .0;
        payload.append(&mut body);
        let (index, addr) = parse_address(&payload).unwrap();
        assert_eq!(index, 5);
        assert!(addr.is_permanent_global());
        assert_eq!(addr.label.as_deref(), Some("d0"));
        assert_eq!(addr.attrs.len(), 3);

        let msg = address_request(11, &addr).finish(1);
        assert_eq!(
            u16::from_ne_bytes(msg[4..6].try_into().unwrap()),
            RTM_NEWADDR
        );
        let (again_index, again) = parse_address(&msg[16..]).unwrap();
        assert_eq!(again_index, 11);
        assert_eq!(again.attrs, addr.attrs);
        assert_eq!(again.label, addr.label);
        // Only the settable flags go back: noprefixroute, not the kernel's "permanent".
        assert_eq!(again.flags, 0x200);
    }

    #[test]
    fn link_local_and_temporary_addresses_stay_behind() {
        let with = |flags: u8, scope: u8| {
            parse_address(&ifaddrmsg(libc::AF_INET6 as u8, 64, flags, scope, 1))
                .unwrap()
                .1
        };
        assert!(with(0x80, 0).is_permanent_global());
        assert!(!with(0x80, 253).is_permanent_global()); // RT_SCOPE_LINK
        assert!(!with(0x00, 0).is_permanent_global()); // a lifetime: autoconf
    }

    #[test]
    fn links_replies_and_errors_are_parsed() {
        let mut link = ifinfomsg(3, libc::IFF_UP as u32, 0).to_vec();
        link.extend(Request(Vec::new()).string(IFLA_IFNAME, "dummy0").0);
        let mut buf = header((16 + link.len()) as u32, RTM_NEWLINK, 9);
        buf.extend(&link);
        let mut err = header(16 + 4, NLMSG_ERROR, 9);
        err.extend((-libc::ENODEV).to_ne_bytes());
        buf.extend(&err);
        let got = replies(&buf).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            parse_link(got[0].payload),
            Some(Link {
                index: 3,
                name: "dummy0".into(),
                up: true,
                mtu: 0,
                kind: None,
            })
        );
        assert_eq!((got[1].kind, got[1].seq), (NLMSG_ERROR, 9));
        // A length past the end is refused, not read.
        let mut short = header(400, RTM_NEWLINK, 1);
        short.extend([0; 8]);
        assert!(replies(&short).is_err());
    }

    #[test]
    fn a_veth_carries_its_peer_nested_with_the_peers_namespace() {
        use std::os::fd::AsFd;
        let netns = std::fs::File::open("/proc/self/ns/net").unwrap();
        let peer = Peer {
            name: "eth0",
            netns: netns.as_fd(),
            mac: Some([2, 0, 0, 0, 0, 1]),
            mtu: Some(1400),
            tx_queue_len: None,
        };
        let host = HostSide {
            name: "vh0",
            mac: [0xfe, 1, 2, 3, 4, 5],
            mtu: 1500,
            tx_queue_len: Some(50),
            master: 9,
        };
        let msg = veth_request(&host, &peer).finish(1);
        let flags = u16::from_ne_bytes(msg[6..8].try_into().unwrap());
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        let attrs = attributes(&msg[32..]);
        assert_eq!(attrs[0], (IFLA_IFNAME, &b"vh0\0"[..]));
        assert_eq!(attrs[1], (IFLA_MASTER, &9u32.to_ne_bytes()[..]));
        assert_eq!(attrs[2], (IFLA_ADDRESS, &[0xfe, 1, 2, 3, 4, 5][..]));
        assert_eq!(attrs[3], (IFLA_MTU, &1500u32.to_ne_bytes()[..]));
        assert_eq!(attrs[4], (IFLA_TXQLEN, &50u32.to_ne_bytes()[..]));
        assert_eq!(attrs[5].0, IFLA_LINKINFO);
        let info = attributes(attrs[5].1);
        assert_eq!(info[0], (IFLA_INFO_KIND, &b"veth\0"[..]));
        let data = attributes(info[1].1);
        assert_eq!(data[0].0, VETH_INFO_PEER);
        let peer_attrs = attributes(&data[0].1[16..]);
        let fd = (netns.as_raw_fd() as u32).to_ne_bytes();
        assert_eq!(peer_attrs[0], (IFLA_IFNAME, &b"eth0\0"[..]));
        assert_eq!(peer_attrs[1], (IFLA_NET_NS_FD, &fd[..]));
        assert_eq!(peer_attrs[2], (IFLA_ADDRESS, &[2, 0, 0, 0, 0, 1][..]));
        assert_eq!(peer_attrs[3], (IFLA_MTU, &1400u32.to_ne_bytes()[..]));
    }

    #[test]
    fn hairpin_is_a_nested_bridge_port_mode() {
        let msg = hairpin_request(5, true).finish(1);
        assert_eq!(msg[16], libc::AF_BRIDGE as u8);
        // The nested flag is on the wire (the parser here masks it off).
        assert_eq!(
            u16::from_ne_bytes(msg[34..36].try_into().unwrap()),
            IFLA_PROTINFO | NLA_F_NESTED
        );
        let protinfo = attributes(&msg[32..]);
        assert_eq!(attributes(protinfo[0].1), [(IFLA_BRPORT_MODE, &[1u8][..])]);
    }

    #[test]
    fn routes_are_unicast_in_the_main_table() {
        let via = RouteSpec {
            family: libc::AF_INET as u8,
            destination: vec![10, 1, 0, 0],
            prefix_len: 16,
            gateway: Some(vec![10, 0, 0, 1]),
            source: None,
            interface: Some(3),
        };
        let msg = route_request(&via).finish(1);
        assert_eq!(
            &msg[16..24],
            &[
                libc::AF_INET as u8,
                16,
                0,
                0,
                RT_TABLE_MAIN,
                RTPROT_BOOT,
                0,
                RTN_UNICAST
            ]
        );
        let attrs = attributes(&msg[28..]);
        assert_eq!(attrs[0], (RTA_DST, &[10, 1, 0, 0][..]));
        assert_eq!(attrs[1], (RTA_GATEWAY, &[10, 0, 0, 1][..]));
        assert_eq!(attrs[2], (RTA_OIF, &3i32.to_ne_bytes()[..]));
        // A default route carries no destination; one without a gateway is on the link.
        let default_on_link = RouteSpec {
            prefix_len: 0,
            gateway: None,
            ..via
        };
        let msg = route_request(&default_on_link).finish(1);
        assert_eq!(msg[22], RT_SCOPE_LINK);
        assert!(attributes(&msg[28..]).iter().all(|(k, _)| *k != RTA_DST));
    }

    #[test]
    fn addresses_from_the_config_carry_broadcast_or_nodad() {
        let v4 = Address::new("10.0.0.2".parse().unwrap(), 24);
        assert_eq!(v4.attrs[2], (IFA_BROADCAST, vec![10, 0, 0, 255]));
        assert_eq!(
            Address::new("10.0.0.2".parse().unwrap(), 0).attrs[2].1,
            [255; 4]
        );
        // A /31 or /32 has none: the other address of a /31 is the peer's.
        for point_to_point in [31, 32] {
            let a = Address::new("10.0.0.2".parse().unwrap(), point_to_point);
            assert!(a.attrs.iter().all(|(k, _)| *k != IFA_BROADCAST));
        }
        let v6 = Address::new("fd00::2".parse().unwrap(), 64);
        assert_eq!((v6.family, v6.flags), (libc::AF_INET6 as u8, IFA_F_NODAD));
    }

    #[test]
    fn the_kernel_answers_about_loopback() {
        // Unprivileged: reading links needs no capability.
        let mut sock = Socket::open().unwrap();
        let lo = sock.link("lo").unwrap().expect("every namespace has lo");
        assert_eq!(lo.name, "lo");
        assert!(lo.mtu >= 1500 && lo.kind.is_none(), "{lo:?}");
        assert!(sock.links().unwrap().iter().any(|l| l.index == lo.index));
        assert_eq!(sock.link("no-such-dev0").unwrap(), None);
    }
}
