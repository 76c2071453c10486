//! A minimal blocking Redis client (RESP2 over a `std` TCP stream), enough for tests to set up
//! and inspect servers: follow the cluster's and the sentinel's state, read counters, write a
//! raw key. Engines use a real client library; this one exists so that the testkit needs no
//! Redis dependency and no async runtime to look at its own servers.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting, or waiting for a reply, may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest bulk string or array accepted from a server (a guard against a corrupt length).
const MAX_LENGTH: i64 = 512 * 1024 * 1024;

/// Why talking to a Redis server failed. Messages name the server by `host:port` only: a
/// password in the address never appears.
#[derive(Debug, thiserror::Error)]
pub enum RespError {
    /// The address is not `host:port` or `redis://[user[:password]@]host:port[/db]`.
    #[error("bad redis address: {0}")]
    BadAddress(String),
    /// The server could not be reached.
    #[error("connecting to redis at {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Sending or receiving failed (including a timeout).
    #[error("talking to redis at {addr}: {source}")]
    Io {
        /// `host:port`.
        addr: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The server sent something that is not RESP2, or not the reply shape expected.
    #[error("unexpected reply from redis at {addr}: {detail}")]
    Protocol {
        /// `host:port`.
        addr: String,
        /// What was wrong.
        detail: String,
    },
    /// The server answered with an error reply.
    #[error("redis at {addr} answered {command} with an error: {message}")]
    Server {
        /// `host:port`.
        addr: String,
        /// The command's name (its first word; arguments are left out).
        command: String,
        /// The error reply, e.g. `MOVED 3999 127.0.0.1:7002`.
        message: String,
    },
}

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A status reply such as `OK` or `PONG`.
    Status(String),
    /// An error reply such as `MOVED 3999 127.0.0.1:7002`.
    Error(String),
    /// An integer.
    Integer(i64),
    /// A bulk string; `None` is the null bulk string (a missing key).
    Bulk(Option<Vec<u8>>),
    /// An array; `None` is the null array.
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text: a status, or a bulk string (lossily decoded).
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Status(text) => Some(text.clone()),
            Reply::Bulk(Some(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        }
    }

    /// The elements of a (non-null) array reply.
    pub fn elements(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(items)) => Some(items),
            _ => None,
        }
    }
}

/// A server address without its credentials: what connections and messages use.
#[derive(Clone, PartialEq, Eq)]
struct Address {
    host_port: String,
    username: Option<String>,
    password: Option<String>,
    db: Option<String>,
}

impl Address {
    /// Parses `host:port` or `redis://[user[:password]@]host:port[/db]`.
    fn parse(addr: &str) -> Result<Self, RespError> {
        let addr = addr.trim();
        let Some(rest) = addr.strip_prefix("redis://") else {
            return Self::plain(addr);
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let mut address = Self::plain(host_port)?;
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            address.username = (!user.is_empty()).then(|| user.to_owned());
            address.password = (!password.is_empty()).then(|| password.to_owned());
        }
        let db = path.split('?').next().unwrap_or_default();
        address.db = (!db.is_empty()).then(|| db.to_owned());
        Ok(address)
    }

    /// `host:port` with nothing else.
    fn plain(host_port: &str) -> Result<Self, RespError> {
        let valid = host_port
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid {
            return Err(RespError::BadAddress(format!(
                "expected host:port, got {:?}",
                host_port
                    .rsplit_once('@')
                    .map_or(host_port, |(_, tail)| tail)
            )));
        }
        Ok(Address {
            host_port: host_port.to_owned(),
            username: None,
            password: None,
            db: None,
        })
    }
}

/// A connection to one Redis server.
pub struct Connection {
    addr: String,
    reader: BufReader<TcpStream>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Connection {
    /// Connects to `addr` (`host:port` or a `redis://` URL; a password or database in the URL
    /// is sent with `AUTH` and `SELECT`).
    pub fn open(addr: &str) -> Result<Self, RespError> {
        let address = Address::parse(addr)?;
        let host_port = address.host_port.clone();
        let connect_error = |source| RespError::Connect {
            addr: host_port.clone(),
            source,
        };
        let socket_addr = host_port
            .to_socket_addrs()
            .map_err(connect_error)?
            .next()
            .ok_or_else(|| connect_error(io::Error::other("the name resolves to no address")))?;
        let stream = TcpStream::connect_timeout(&socket_addr, IO_TIMEOUT).map_err(connect_error)?;
        let io_error = |source| RespError::Io {
            addr: host_port.clone(),
            source,
        };
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .map_err(io_error)?;
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .map_err(io_error)?;
        stream.set_nodelay(true).map_err(io_error)?;
        let mut connection = Connection {
            addr: host_port,
            reader: BufReader::new(stream),
        };
        match (&address.username, &address.password) {
            (Some(user), Some(password)) => connection.call(&["AUTH", user, password])?,
            (None, Some(password)) => connection.call(&["AUTH", password])?,
            _ => Reply::Status(String::new()),
        };
        if let Some(db) = &address.db {
            connection.call(&["SELECT", db])?;
        }
        Ok(connection)
    }

    /// The server's `host:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends one command and reads its reply; an error reply becomes [`RespError::Server`].
    pub fn call(&mut self, args: &[&str]) -> Result<Reply, RespError> {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        self.call_bytes(&args)
    }

    /// [`call`](Self::call) with binary arguments.
    pub fn call_bytes(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        match self.call_raw(args)? {
            Reply::Error(message) => Err(self.server_error(args, message)),
            reply => Ok(reply),
        }
    }

    /// The [`RespError::Server`] for the error reply `message` to the command `args`.
    pub(crate) fn server_error(&self, args: &[&[u8]], message: String) -> RespError {
        RespError::Server {
            addr: self.addr.clone(),
            command: args
                .first()
                .map(|name| String::from_utf8_lossy(name).to_uppercase())
                .unwrap_or_default(),
            message,
        }
    }

    /// Sends one command and reads its reply, error replies included (for following
    /// redirections).
    pub fn call_raw(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        let addr = self.addr.clone();
        self.reader
            .get_mut()
            .write_all(&request)
            .map_err(|source| RespError::Io { addr, source })?;
        self.read_reply()
    }

    /// A command whose reply is text (a status or a bulk string), e.g. `INFO`.
    pub fn call_text(&mut self, args: &[&str]) -> Result<String, RespError> {
        let reply = self.call(args)?;
        reply
            .text()
            .ok_or_else(|| self.protocol(format!("{reply:?} is not text")))
    }

    /// A [`RespError::Protocol`] about this connection.
    pub(crate) fn protocol(&self, detail: String) -> RespError {
        RespError::Protocol {
            addr: self.addr.clone(),
            detail,
        }
    }

    /// Reads one reply from the stream.
    fn read_reply(&mut self) -> Result<Reply, RespError> {
        let line = self.read_line()?;
        let (kind, body) = line.split_at(1.min(line.len()));
        match kind {
            "+" => Ok(Reply::Status(body.to_owned())),
            "-" => Ok(Reply::Error(body.to_owned())),
            ":" => self.number(body).map(Reply::Integer),
            "$" => match self.length(body)? {
                None => Ok(Reply::Bulk(None)),
                Some(len) => {
                    let mut bytes = vec![0; len + 2];
                    self.read_exact(&mut bytes)?;
                    if !bytes.ends_with(b"\r\n") {
                        return Err(self.protocol("bulk string without CRLF".into()));
                    }
                    bytes.truncate(len);
                    Ok(Reply::Bulk(Some(bytes)))
                }
            },
            "*" => match self.length(body)? {
                None => Ok(Reply::Array(None)),
                Some(len) => (0..len)
                    .map(|_| self.read_reply())
                    .collect::<Result<_, _>>()
                    .map(|items| Reply::Array(Some(items))),
            },
            _ => Err(self.protocol(format!("unknown reply type in {line:?}"))),
        }
    }

    /// One CRLF-terminated line, without the CRLF.
    fn read_line(&mut self) -> Result<String, RespError> {
        let mut line = Vec::new();
        let read = self
            .reader
            .read_until(b'\n', &mut line)
            .map_err(|source| self.io(source))?;
        if read == 0 {
            return Err(self.io(io::ErrorKind::UnexpectedEof.into()));
        }
        if !line.ends_with(b"\r\n") {
            return Err(self.protocol("reply line without CRLF".into()));
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), RespError> {
        self.reader
            .read_exact(buf)
            .map_err(|source| self.io(source))
    }

    fn number(&self, text: &str) -> Result<i64, RespError> {
        text.parse()
            .map_err(|_| self.protocol(format!("{text:?} is not an integer")))
    }

    /// A bulk or array length: `None` for -1 (null).
    fn length(&self, text: &str) -> Result<Option<usize>, RespError> {
        match self.number(text)? {
            -1 => Ok(None),
            len if (0..=MAX_LENGTH).contains(&len) => Ok(usize::try_from(len).ok()),
            len => Err(self.protocol(format!("length {len} out of range"))),
        }
    }

    fn io(&self, source: io::Error) -> RespError {
        RespError::Io {
            addr: self.addr.clone(),
            source,
        }
    }
}

/// Sends one command to `addr` on a fresh connection.
pub fn call(addr: &str, args: &[&str]) -> Result<Reply, RespError> {
    Connection::open(addr)?.call(args)
}

/// The `key:value` lines of an `INFO` reply (section headers and blank lines skipped).
pub fn info_fields(info: &str) -> impl Iterator<Item = (&str, &str)> {
    info.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.trim_end().split_once(':'))
}

/// The value of `field` in an `INFO` reply.
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info_fields(info).find_map(|(name, value)| (name == field).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_without_leaking_passwords() {
        let plain = Address::parse("127.0.0.1:6379").unwrap();
        assert_eq!(plain.host_port, "127.0.0.1:6379");
        assert_eq!(plain.password, None);
        let url = Address::parse("redis://user:secret@127.0.0.1:7000/2").unwrap();
        assert_eq!(url.host_port, "127.0.0.1:7000");
        assert_eq!(url.username.as_deref(), Some("user"));
        assert_eq!(url.password.as_deref(), Some("secret"));
        assert_eq!(url.db.as_deref(), Some("2"));
        let bare = Address::parse("redis://127.0.0.1:7000/").unwrap();
        assert_eq!((bare.password, bare.db), (None, None));
        let err = Address::parse("redis://:secret@nohost").err().unwrap();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(Address::parse("127.0.0.1:notaport").is_err());
    }

    #[test]
    fn reads_info_fields() {
        let info = "# Cluster\r\ncluster_enabled:1\r\n\r\n# Other\r\nrole:master\r\n";
        assert_eq!(info_field(info, "cluster_enabled"), Some("1"));
        assert_eq!(info_field(info, "role"), Some("master"));
        assert_eq!(info_field(info, "missing"), None);
    }
}
