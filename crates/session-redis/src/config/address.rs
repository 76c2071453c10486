//! [`Address`]: one server, as written in a configuration string.

use std::fmt;
use std::path::PathBuf;

use deadpool_redis::redis::ConnectionAddr;

/// Where one server (a standalone server, a cluster node, a sentinel) listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP address; `tls` for `rediss://`.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
        /// Connect with TLS (`rediss://`, feature `tls`).
        tls: bool,
    },
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl Address {
    /// Parses `host`, `host:port`, `[v6]:port` or an absolute socket path; `default_port`
    /// when none is written.
    pub(crate) fn parse(text: &str, default_port: u16) -> Result<Self, String> {
        let text = text.trim();
        if text.starts_with('/') {
            return Ok(Address::Unix(PathBuf::from(text)));
        }
        let (host, port) = match text.strip_prefix('[') {
            Some(v6) => {
                let (host, rest) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("address `{text}` has an unclosed `[`"))?;
                match rest.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if rest.is_empty() => (host, None),
                    None => return Err(format!("address `{text}`: `{rest}` after `]`")),
                }
            }
            None => match text.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                // Several colons and no brackets: a bare IPv6 address.
                Some(_) => (text, None),
                None => (text, None),
            },
        };
        let port =
            match port {
                Some(port) => port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    format!("address `{text}`: `{port}` is not a port (1 to 65535)")
                })?,
                None => default_port,
            };
        Self::tcp(host, port, false).map_err(|why| format!("address `{text}`: {why}"))
    }

    /// A TCP address, checking the host.
    pub(crate) fn tcp(host: &str, port: u16, tls: bool) -> Result<Self, String> {
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !valid {
            return Err(format!("`{host}` is not a host name or IP address"));
        }
        if matches!(host, "0.0.0.0" | "::") {
            return Err(format!("`{host}` is a wildcard address, not a server"));
        }
        Ok(Address::Tcp {
            host: host.to_owned(),
            port,
            tls,
        })
    }

    /// True for `rediss://` addresses.
    pub fn is_tls(&self) -> bool {
        matches!(self, Address::Tcp { tls: true, .. })
    }

    /// The address in redis-rs's terms.
    pub(crate) fn to_redis(&self) -> ConnectionAddr {
        match self {
            Address::Tcp {
                host,
                port,
                tls: false,
            } => ConnectionAddr::Tcp(host.clone(), *port),
            Address::Tcp {
                host,
                port,
                tls: true,
            } => ConnectionAddr::TcpTls {
                host: host.clone(),
                port: *port,
                insecure: false,
                tls_params: None,
            },
            Address::Unix(path) => ConnectionAddr::Unix(path.clone()),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port, .. } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port, .. } => write!(f, "{host}:{port}"),
            Address::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}
