//! A small blocking D-Bus client: just what the systemd cgroup driver needs (method calls
//! to systemd and their replies), over a unix socket, with no async runtime and no
//! thread, so that `create` stays single-threaded and fast.
//!
//! It speaks the wire protocol of the D-Bus specification: SASL `EXTERNAL`
//! authentication by uid, then little-endian messages whose header fields and bodies are
//! marshalled with the specification's alignment rules. Only the types systemd's calls
//! use are written (`y b u t s o g`, arrays, structs, variants) and only strings and
//! object paths are read back.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A value in a D-Bus variant, as systemd's unit properties take them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    U64(u64),
    Str(String),
    /// `au`
    U32s(Vec<u32>),
    /// `ay`
    Bytes(Vec<u8>),
}

impl Value {
    fn signature(&self) -> &'static str {
        match self {
            Value::Bool(_) => "b",
            Value::U64(_) => "t",
            Value::Str(_) => "s",
            Value::U32s(_) => "au",
            Value::Bytes(_) => "ay",
        }
    }
}

/// An argument of a method call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Str(String),
    Bool(bool),
    /// `a(sv)`: named properties.
    Properties(Vec<(String, Value)>),
    /// `a(sa(sv))`: auxiliary units, always empty here.
    NoAuxUnits,
}

impl Arg {
    fn signature(&self) -> &'static str {
        match self {
            Arg::Str(_) => "s",
            Arg::Bool(_) => "b",
            Arg::Properties(_) => "a(sv)",
            Arg::NoAuxUnits => "a(sa(sv))",
        }
    }
}

/// Little-endian marshalling with D-Bus alignment; offsets count from the message start.
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, align: usize) {
        while self.buf.len() % align != 0 {
            self.buf.push(0);
        }
    }
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.pad(8);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    fn signature(&mut self, s: &str) {
        self.u8(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    /// An array whose elements align to `align`: the length excludes the padding
    /// before the first element.
    fn array(&mut self, align: usize, elements: impl FnOnce(&mut Writer)) {
        self.u32(0);
        let at = self.buf.len() - 4;
        self.pad(align);
        let start = self.buf.len();
        elements(self);
        let len = (self.buf.len() - start) as u32;
        self.buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Bool(b) => self.u32(u32::from(*b)),
            Value::U64(n) => self.u64(*n),
            Value::Str(s) => self.string(s),
            Value::U32s(list) => self.array(4, |w| list.iter().for_each(|n| w.u32(*n))),
            Value::Bytes(bytes) => self.array(1, |w| bytes.iter().for_each(|b| w.u8(*b))),
        }
    }
    fn variant(&mut self, v: &Value) {
        self.signature(v.signature());
        self.value(v);
    }
    fn arg(&mut self, arg: &Arg) {
        match arg {
            Arg::Str(s) => self.string(s),
            Arg::Bool(b) => self.u32(u32::from(*b)),
            Arg::Properties(props) => self.array(8, |w| {
                for (name, value) in props {
                    w.pad(8);
                    w.string(name);
                    w.variant(value);
                }
            }),
            Arg::NoAuxUnits => self.array(8, |_| {}),
        }
    }
}

/// Header field codes.
const PATH: u8 = 1;
const INTERFACE: u8 = 2;
const MEMBER: u8 = 3;
const ERROR_NAME: u8 = 4;
const REPLY_SERIAL: u8 = 5;
const DESTINATION: u8 = 6;
const SIGNATURE: u8 = 8;

/// One method call, marshalled.
fn method_call(
    serial: u32,
    destination: Option<&str>,
    path: &str,
    interface: &str,
    member: &str,
    args: &[Arg],
) -> Vec<u8> {
    let mut body = Writer::default();
    for arg in args {
        body.arg(arg);
    }
    let signature: String = args.iter().map(Arg::signature).collect();
    let mut w = Writer::default();
    w.u8(b'l');
    w.u8(1); // method call
    w.u8(0);
    w.u8(1); // protocol version
    w.u32(body.buf.len() as u32);
    w.u32(serial);
    w.array(8, |w| {
        let mut field = |code: u8, sig: &str, put: &dyn Fn(&mut Writer)| {
            w.pad(8);
            w.u8(code);
            w.signature(sig);
            put(w);
        };
        field(PATH, "o", &|w| w.string(path));
        field(INTERFACE, "s", &|w| w.string(interface));
        field(MEMBER, "s", &|w| w.string(member));
        if let Some(d) = destination {
            field(DESTINATION, "s", &|w| w.string(d));
        }
        if !signature.is_empty() {
            field(SIGNATURE, "g", &|w| w.signature(&signature));
        }
    });
    w.pad(8);
    w.buf.extend_from_slice(&body.buf);
    w.buf
}

/// A message read back: what the driver needs of it.
#[derive(Debug, Default, PartialEq)]
struct Reply {
    kind: u8,
    reply_serial: Option<u32>,
    error_name: Option<String>,
    /// The body's first string or object path, if it starts with one (an error's text,
    /// a job's path).
    first_string: Option<String>,
}

/// Reads with D-Bus alignment from a whole message.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn align(&mut self, n: usize) {
        self.at = self.at.div_ceil(n) * n;
    }
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| bad("a message shorter than it says"))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> io::Result<u32> {
        self.align(4);
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn string(&mut self) -> io::Result<String> {
        let len = self.u32()? as usize;
        let s = String::from_utf8_lossy(self.take(len)?).into_owned();
        self.take(1)?;
        Ok(s)
    }
    fn signature(&mut self) -> io::Result<String> {
        let len = self.u8()? as usize;
        let s = String::from_utf8_lossy(self.take(len)?).into_owned();
        self.take(1)?;
        Ok(s)
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("D-Bus: {what}"))
}

/// Parses one whole message (header and body).
fn parse(message: &[u8]) -> io::Result<Reply> {
    if message.first() != Some(&b'l') {
        return Err(bad("a message that is not little-endian"));
    }
    let mut r = Reader {
        buf: message,
        at: 1,
    };
    let mut reply = Reply {
        kind: r.u8()?,
        ..Reply::default()
    };
    r.take(2)?;
    let _body_len = r.u32()?;
    let _serial = r.u32()?;
    let fields_len = r.u32()? as usize;
    r.align(8);
    let fields_end = r.at + fields_len;
    let mut signature = String::new();
    while r.at < fields_end {
        r.align(8);
        let code = r.u8()?;
        let sig = r.signature()?;
        match (code, sig.as_str()) {
            (REPLY_SERIAL, "u") => reply.reply_serial = Some(r.u32()?),
            (ERROR_NAME, "s") => reply.error_name = Some(r.string()?),
            (SIGNATURE, "g") => signature = r.signature()?,
            (_, "s" | "o") => {
                r.string()?;
            }
            (_, "u") => {
                r.u32()?;
            }
            (_, "g") => {
                r.signature()?;
            }
            _ => return Err(bad("a header field of an unexpected type")),
        }
    }
    r.at = fields_end;
    r.align(8);
    let inner;
    let first = match signature.as_bytes().first() {
        // A property's value: a variant, whose own signature comes first.
        Some(b'v') => {
            inner = r.signature()?;
            inner.as_str()
        }
        _ => signature.as_str(),
    };
    if first.starts_with('s') || first.starts_with('o') {
        reply.first_string = Some(r.string()?);
    }
    Ok(reply)
}

/// How long systemd may take to answer a call.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to systemd: its private socket, or a bus (then `Hello` first and
/// calls addressed to `org.freedesktop.systemd1`).
pub struct Connection {
    stream: BufReader<UnixStream>,
    serial: u32,
    on_bus: bool,
}

impl Connection {
    /// Connects and authenticates (SASL EXTERNAL with our uid); `on_bus` for a
    /// message bus rather than systemd's own socket.
    pub fn open(path: &Path, on_bus: bool) -> io::Result<Connection> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        let mut conn = Connection {
            stream: BufReader::new(stream),
            serial: 0,
            on_bus,
        };
        let uid = nix::unistd::geteuid().as_raw().to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        // BEGIN goes with AUTH, as systemd's own clients send it: sent after the OK,
        // it can reach systemd in one read with the first call, and systemd (252
        // seen) then leaves that call unanswered until more comes.
        let hello = format!("\0AUTH EXTERNAL {hex}\r\nBEGIN\r\n");
        conn.stream.get_mut().write_all(hello.as_bytes())?;
        let mut line = String::new();
        conn.stream.read_line(&mut line)?;
        if !line.starts_with("OK ") {
            return Err(bad(&format!("authentication refused: {}", line.trim())));
        }
        if on_bus {
            conn.call(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "Hello",
                &[],
            )?;
        }
        Ok(conn)
    }

    /// Calls a method of systemd's manager and returns the reply's first string or
    /// object path; a D-Bus error becomes an error with its name and text.
    pub fn call_manager(&mut self, member: &str, args: &[Arg]) -> io::Result<Option<String>> {
        let destination = self.on_bus.then_some("org.freedesktop.systemd1");
        self.call(
            destination,
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
            member,
            args,
        )
    }

    /// A string property of systemd's manager (`ControlGroup`, say).
    pub fn get_manager_property(&mut self, name: &str) -> io::Result<Option<String>> {
        self.get_property("/org/freedesktop/systemd1", "Manager", name)
    }

    /// A string property of the unit `unit` (`ActiveState`, say).
    pub fn get_unit_property(&mut self, unit: &str, name: &str) -> io::Result<Option<String>> {
        let path = self
            .call_manager("GetUnit", &[Arg::Str(unit.into())])?
            .ok_or_else(|| bad("GetUnit without a path"))?;
        self.get_property(&path, "Unit", name)
    }

    /// A string property of object `path`, interface `org.freedesktop.systemd1.<interface>`.
    fn get_property(
        &mut self,
        path: &str,
        interface: &str,
        name: &str,
    ) -> io::Result<Option<String>> {
        let destination = self.on_bus.then_some("org.freedesktop.systemd1");
        self.call(
            destination,
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            &[
                Arg::Str(format!("org.freedesktop.systemd1.{interface}")),
                Arg::Str(name.into()),
            ],
        )
    }

    fn call(
        &mut self,
        destination: Option<&str>,
        path: &str,
        interface: &str,
        member: &str,
        args: &[Arg],
    ) -> io::Result<Option<String>> {
        self.serial += 1;
        let serial = self.serial;
        let message = method_call(serial, destination, path, interface, member, args);
        self.stream.get_mut().write_all(&message)?;
        // Signals may come first: skip whatever does not answer this call.
        loop {
            let reply = parse(&self.read_message()?)?;
            if reply.reply_serial != Some(serial) {
                continue;
            }
            return match reply.kind {
                2 => Ok(reply.first_string),
                3 => Err(io::Error::other(format!(
                    "{}: {}",
                    reply.error_name.unwrap_or_default(),
                    reply.first_string.unwrap_or_default()
                ))),
                _ => Err(bad("an answer that is neither a return nor an error")),
            };
        }
    }

    /// One whole message from the stream.
    fn read_message(&mut self) -> io::Result<Vec<u8>> {
        let mut fixed = [0u8; 16];
        self.stream.read_exact(&mut fixed).map_err(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                let secs = ANSWER_TIMEOUT.as_secs();
                io::Error::new(io::ErrorKind::TimedOut, format!("no answer in {secs} s"))
            } else {
                e
            }
        })?;
        if fixed[0] != b'l' {
            return Err(bad("a big-endian peer"));
        }
        let word = |i: usize| u32::from_le_bytes(fixed[i..i + 4].try_into().expect("4 bytes"));
        let (body, fields) = (word(4) as usize, word(12) as usize);
        let header = (16 + fields).div_ceil(8) * 8;
        let total = header.checked_add(body).filter(|t| *t <= 128 << 20);
        let total = total.ok_or_else(|| bad("a message too large"))?;
        let mut message = fixed.to_vec();
        message.resize(total, 0);
        self.stream.read_exact(&mut message[16..])?;
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// StartTransientUnit as the specification lays it out, byte for byte where the
    /// layout is subtle (array lengths without the padding, struct alignment).
    #[test]
    fn a_method_call_is_marshalled_as_the_specification_says() {
        let args = [
            Arg::Str("a.scope".into()),
            Arg::Str("fail".into()),
            Arg::Properties(vec![
                ("Delegate".into(), Value::Bool(true)),
                ("MemoryMax".into(), Value::U64(67108864)),
                ("PIDs".into(), Value::U32s(vec![42])),
            ]),
            Arg::NoAuxUnits,
        ];
        let m = method_call(7, None, "/p", "i.f", "M", &args);
        assert_eq!(&m[..4], b"l\x01\x00\x01");
        let body_len = u32::from_le_bytes(m[4..8].try_into().unwrap()) as usize;
        let fields_len = u32::from_le_bytes(m[12..16].try_into().unwrap()) as usize;
        let body_at = (16 + fields_len).div_ceil(8) * 8;
        assert_eq!(m.len(), body_at + body_len);
        let body = &m[body_at..];
        // "a.scope" and "fail", then the properties array, 8-aligned inside the message.
        assert_eq!(&body[..16], b"\x07\0\0\0a.scope\0\x04\0\0\0");
        assert_eq!(&body[16..21], b"fail\0");
        let props_len_at = body_at + 24;
        assert_eq!(props_len_at % 4, 0);
        let first = props_len_at + 4 + (8 - (props_len_at + 4) % 8) % 8;
        let props_len =
            u32::from_le_bytes(m[props_len_at..props_len_at + 4].try_into().unwrap()) as usize;
        // The aux array's length field follows the properties, 4-aligned, and is 0.
        let aux_at = (first + props_len).div_ceil(4) * 4;
        assert_eq!(&m[aux_at..aux_at + 4], &[0, 0, 0, 0]);
        // The Delegate entry: name, variant signature "b", value 1.
        assert_eq!(&m[first..first + 4], &8u32.to_le_bytes());
        assert_eq!(&m[first + 4..first + 13], b"Delegate\0");
        assert_eq!(&m[first + 13..first + 16], b"\x01b\0");
        assert_eq!(&m[first + 16..first + 20], &1u32.to_le_bytes());
        // And the header says which method, with which signature.
        let header = parse(&m).unwrap();
        assert_eq!(header.kind, 1);
        let text = String::from_utf8_lossy(&m[..body_at]);
        assert!(text.contains("ssa(sv)a(sa(sv))"), "{text:?}");
    }

    #[test]
    fn replies_and_errors_are_read() {
        // An error reply, built with our own writer: code 3, reply serial 7, an error
        // name and a string body.
        let mut body = Writer::default();
        body.string("Unit a.scope already exists.");
        let mut w = Writer::default();
        w.u8(b'l');
        w.u8(3);
        w.u8(0);
        w.u8(1);
        w.u32(body.buf.len() as u32);
        w.u32(9);
        w.array(8, |w| {
            w.pad(8);
            w.u8(ERROR_NAME);
            w.signature("s");
            w.string("org.freedesktop.systemd1.UnitExists");
            w.pad(8);
            w.u8(REPLY_SERIAL);
            w.signature("u");
            w.u32(7);
            w.pad(8);
            w.u8(SIGNATURE);
            w.signature("g");
            w.signature("s");
        });
        w.pad(8);
        w.buf.extend_from_slice(&body.buf);
        let reply = parse(&w.buf).unwrap();
        assert_eq!(
            reply,
            Reply {
                kind: 3,
                reply_serial: Some(7),
                error_name: Some("org.freedesktop.systemd1.UnitExists".into()),
                first_string: Some("Unit a.scope already exists.".into()),
            }
        );
        // Truncated: an error, never a panic.
        assert!(parse(&w.buf[..w.buf.len() - 3]).is_err());
    }
}
