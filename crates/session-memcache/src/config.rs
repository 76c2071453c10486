//! [`MemcacheConfig`]: the engine's `providerConfig` string, parsed.

use std::time::Duration;

use session_core::dsn::{mask_secrets, parse_duration};
use session_core::ConfigError;

use crate::ENGINE;

/// memcached's port when a server is given without one.
pub const DEFAULT_PORT: u16 = 11211;

/// memcached's default item size limit (its `-I`): 1 MiB.
pub const DEFAULT_ITEM_SIZE_LIMIT: usize = 1024 * 1024;

/// What memcached stores with each item besides the key and the value (its item header,
/// the CAS value, the line ends), rounded up: an item of `key + value + ITEM_OVERHEAD` bytes
/// fits the item size limit.
pub const ITEM_OVERHEAD: usize = 128;

/// The options a configuration string may carry, for error messages.
const OPTIONS: &str =
    "connect_timeout, io_timeout, timeout, pool_size, item_size_limit, key_prefix";

/// Why a user or password is refused.
const NO_AUTHENTICATION: &str = "has a user or password, but this engine speaks memcached's \
     meta protocol, which has no authentication: remove `user:password@` and keep the server \
     on a private network";

/// Longest key prefix accepted: memcached keys are at most 250 bytes, and a session id up to
/// 64.
const MAX_PREFIX: usize = 100;

/// The engine's configuration: the servers and how they are used.
///
/// Parsed from beego's `host:port;host2:port` form or `memcache://` URLs, with options in
/// a query part:
///
/// ```
/// use std::time::Duration;
/// use session_memcache::MemcacheConfig;
///
/// let config = MemcacheConfig::parse("127.0.0.1:11211;cache2?timeout=250ms&pool_size=4")?;
/// assert_eq!(config.servers, ["127.0.0.1:11211", "cache2:11211"]);
/// assert_eq!(config.io_timeout, Duration::from_millis(250));
/// assert_eq!(config.pool_size, 4);
///
/// let url = MemcacheConfig::parse("memcache://10.0.0.1:11211,10.0.0.2:11211/?key_prefix=s:")?;
/// assert_eq!(url.servers.len(), 2);
/// assert_eq!(url.key_prefix, "s:");
/// # Ok::<(), session_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemcacheConfig {
    /// The servers as `host:port` (host lowercased), in configuration order. They are also
    /// the names [`Placement`](crate::Placement) hashes.
    pub servers: Vec<String>,
    /// Bound on connecting to a server, and on waiting for a free pooled connection.
    pub connect_timeout: Duration,
    /// Bound on one command's exchange (request and answer).
    pub io_timeout: Duration,
    /// Connections per server, at most.
    pub pool_size: usize,
    /// The servers' item size limit (memcached's `-I`); sessions that would make a larger
    /// item fail at release with [`Error::TooLarge`](session_core::Error::TooLarge).
    pub item_size_limit: usize,
    /// Put in front of every session id to make its key (default none: the id is the key,
    /// as in beego).
    pub key_prefix: String,
}

impl Default for MemcacheConfig {
    fn default() -> Self {
        MemcacheConfig {
            servers: Vec::new(),
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(1),
            pool_size: 10,
            item_size_limit: DEFAULT_ITEM_SIZE_LIMIT,
            key_prefix: String::new(),
        }
    }
}

fn bad(reason: impl Into<String>) -> ConfigError {
    ConfigError::provider(ENGINE, reason)
}

impl MemcacheConfig {
    /// Parses a configuration string; see the [crate docs](crate#configuration). Errors name
    /// the part that is wrong.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_unmasked(text).map_err(|e| e.masking_secrets_of(text))
    }

    /// [`parse`](Self::parse) before the errors are masked for the whole input.
    fn parse_unmasked(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        // The query starts at the first `?` after the last `@`: a `?` in a password (which
        // is refused below) must not cut it in two and leave half of it to be quoted.
        let query_from = text.rfind('@').unwrap_or(0);
        let (list, query) = match text[query_from..].find('?') {
            Some(i) => (&text[..query_from + i], Some(&text[query_from + i + 1..])),
            None => (text, None),
        };
        if list.contains('@') {
            // Refused before the list is split at `,` and `;`, which may be in the password.
            return Err(bad(format!("`{}` {NO_AUTHENTICATION}", mask_secrets(list))));
        }
        let mut config = MemcacheConfig::default();
        for (index, entry) in list.split([';', ',']).enumerate() {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let server = parse_server(entry).map_err(|why| {
                bad(format!(
                    "server {} (`{}`): {why}",
                    index + 1,
                    mask_secrets(entry)
                ))
            })?;
            if config.servers.contains(&server) {
                return Err(bad(format!("server `{server}` is listed twice")));
            }
            config.servers.push(server);
        }
        if config.servers.is_empty() {
            return Err(bad(
                "no server given: write `host:port`, several as `host:port;host2:port`, or a \
                 `memcache://host:port` URL",
            ));
        }
        for pair in query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.trim().is_empty())
        {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("option `{pair}` has no value (write `key=value`)")))?;
            config
                .take(key.trim(), value.trim())
                .map_err(|why| bad(format!("option `{}`: {why}", key.trim())))?;
        }
        Ok(config)
    }

    fn take(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key.to_ascii_lowercase().replace('-', "_").as_str() {
            "connect_timeout" => self.connect_timeout = parse_duration(value)?,
            "io_timeout" => self.io_timeout = parse_duration(value)?,
            "timeout" => {
                self.io_timeout = parse_duration(value)?;
                self.connect_timeout = self.io_timeout;
            }
            "pool_size" | "max_connections" => {
                self.pool_size = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("`{value}` is not a number from 1 to 1000"))?;
            }
            "item_size_limit" | "max_item_size" => self.item_size_limit = parse_size(value)?,
            "key_prefix" | "prefix" => {
                let printable = value.bytes().all(|b| b.is_ascii_graphic());
                if !printable || value.len() > MAX_PREFIX {
                    return Err(format!(
                        "`{value}` cannot start a memcached key: use at most {MAX_PREFIX} \
                         printable ASCII characters, no spaces"
                    ));
                }
                self.key_prefix = value.to_owned();
            }
            other => return Err(format!("`{other}` is not an option (known: {OPTIONS})")),
        }
        Ok(())
    }

    /// The largest encoded session whose item, under `key`, fits the item size limit.
    pub fn max_value_size(&self, key_len: usize) -> usize {
        self.item_size_limit.saturating_sub(key_len + ITEM_OVERHEAD)
    }
}

/// One server as `host:port`, from `host`, `host:port`, `[v6]:port` or a `memcache://` URL.
fn parse_server(entry: &str) -> Result<String, String> {
    let rest = match entry.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(
                scheme.to_ascii_lowercase().as_str(),
                "memcache" | "memcached"
            ) {
                return Err(format!(
                    "scheme `{scheme}://` is not memcached's (use `memcache://` or none)"
                ));
            }
            rest
        }
        None => entry,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err(NO_AUTHENTICATION.into());
    }
    if rest.contains('/') {
        return Err("has a path; write only `host:port`".into());
    }
    let (host, port) = split_host_port(rest)?;
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("port `{port}` is not a number from 1 to 65535"))?,
    };
    Ok(format!("{}:{port}", host.to_ascii_lowercase()))
}

fn split_host_port(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(v6) = text.strip_prefix('[') {
        let (address, after) = v6
            .split_once(']')
            .ok_or_else(|| "has `[` without a closing `]`".to_owned())?;
        address
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`[{address}]` is not an IPv6 address"))?;
        let host = &text[..address.len() + 2];
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected `{after}` after the IPv6 address")),
            },
        };
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !valid {
        return Err(format!(
            "`{host}` is not a host name or address (an IPv6 address goes in brackets: \
             `[::1]:11211`)"
        ));
    }
    Ok((host, port))
}

/// A size in bytes, with an optional `k` / `m` / `g` suffix (KiB, MiB, GiB) as memcached's
/// `-I` takes it: `1m`, `512k`, `2097152`.
fn parse_size(value: &str) -> Result<usize, String> {
    let lower = value.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (number, scale) = match lower.char_indices().last() {
        Some((i, 'k')) => (&lower[..i], 1 << 10),
        Some((i, 'm')) => (&lower[..i], 1 << 20),
        Some((i, 'g')) => (&lower[..i], 1 << 30),
        _ => (lower, 1),
    };
    number
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| (1024..=1 << 30).contains(n))
        .ok_or_else(|| {
            format!("`{value}` is not a size from 1k to 1g (bytes, or with k, m or g: e.g. 1m)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        MemcacheConfig::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn beego_form() {
        let config = MemcacheConfig::parse("127.0.0.1:11211;127.0.0.1:11212").unwrap();
        assert_eq!(config.servers, ["127.0.0.1:11211", "127.0.0.1:11212"]);
        assert_eq!(
            config,
            MemcacheConfig {
                servers: config.servers.clone(),
                ..Default::default()
            }
        );
        let one = MemcacheConfig::parse(" Cache.Example:11211; ").unwrap();
        assert_eq!(one.servers, ["cache.example:11211"]);
        assert_eq!(
            MemcacheConfig::parse("cache").unwrap().servers,
            ["cache:11211"]
        );
    }

    #[test]
    fn urls_and_ipv6() {
        let config = MemcacheConfig::parse(
            "memcache://10.0.0.1:11211;memcached://[::1]:11300/,[fe80::1]?io_timeout=2s",
        )
        .unwrap();
        assert_eq!(
            config.servers,
            ["10.0.0.1:11211", "[::1]:11300", "[fe80::1]:11211"]
        );
        assert_eq!(config.io_timeout, Duration::from_secs(2));
    }

    #[test]
    fn options() {
        let config = MemcacheConfig::parse(
            "h?connect_timeout=300ms&io_timeout=2&pool_size=3&item_size_limit=2m&key_prefix=app:s:",
        )
        .unwrap();
        assert_eq!(config.connect_timeout, Duration::from_millis(300));
        assert_eq!(config.io_timeout, Duration::from_secs(2));
        assert_eq!(config.pool_size, 3);
        assert_eq!(config.item_size_limit, 2 << 20);
        assert_eq!(config.key_prefix, "app:s:");
        let both = MemcacheConfig::parse("h?timeout=5s").unwrap();
        assert_eq!(
            (both.connect_timeout, both.io_timeout),
            (Duration::from_secs(5), Duration::from_secs(5))
        );
        assert_eq!(
            MemcacheConfig::parse("h?item_size_limit=512k")
                .unwrap()
                .item_size_limit,
            512 << 10
        );
        assert_eq!(
            MemcacheConfig::parse("h?item_size_limit=4096")
                .unwrap()
                .item_size_limit,
            4096
        );
    }

    #[test]
    fn errors_name_the_bad_part() {
        for (text, says) in [
            ("", "no server given"),
            (" ; ", "no server given"),
            ("h:0", "server 1 (`h:0`): port `0`"),
            ("a:1;b:x", "server 2 (`b:x`): port `x`"),
            ("a b:1", "`a b` is not a host name"),
            ("redis://h:1", "scheme `redis://`"),
            ("[::1:11211", "without a closing `]`"),
            ("[nope]:1", "`[nope]` is not an IPv6 address"),
            ("memcache://h:1/db", "has a path"),
            ("h:1;h:1", "`h:1` is listed twice"),
            (
                "h?tiemout=1s",
                "`tiemout` is not an option (known: connect_timeout",
            ),
            ("h?timeout", "option `timeout` has no value"),
            (
                "h?io_timeout=0s",
                "option `io_timeout`: `0s` is out of range",
            ),
            (
                "h?io_timeout=fast",
                "option `io_timeout`: `fast` has unknown unit",
            ),
            (
                "h?pool_size=0",
                "option `pool_size`: `0` is not a number from 1 to 1000",
            ),
            (
                "h?item_size_limit=1x",
                "option `item_size_limit`: `1x` is not a size",
            ),
            ("h?item_size_limit=2g", "`2g` is not a size from 1k to 1g"),
            ("h?key_prefix=a b", "`a b` cannot start a memcached key"),
        ] {
            let message = error(text);
            assert!(message.contains(says), "{text:?}: {message}");
            assert!(message.contains("memcache"), "{message}");
        }
    }

    #[test]
    fn passwords_are_refused_and_masked() {
        let message = error("memcache://user:hunter2@h:11211");
        assert!(message.contains("no authentication"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        // Found by fuzzing (fuzz/: config_memcache): a `,`, `;` or `?` in the password
        // split it before the refusal, and the half before the `@` was quoted as a port.
        for config in [
            "u:hun,ter2@h:11211",
            "1211:hunter2;x@h",
            "memcache://u:hunter2?x@h:11211?timeout=1s",
        ] {
            let message = error(config);
            assert!(message.contains("no authentication"), "{config}: {message}");
            assert!(!message.contains("hun"), "{config}: {message}");
        }
        // The query still starts at the first `?` when there is no `@`.
        let config = MemcacheConfig::parse("h?timeout=250ms").unwrap();
        assert_eq!(config.io_timeout, std::time::Duration::from_millis(250));
    }

    #[test]
    fn value_room_leaves_space_for_the_item_header() {
        let config = MemcacheConfig::default();
        assert_eq!(
            config.max_value_size(32),
            DEFAULT_ITEM_SIZE_LIMIT - 32 - ITEM_OVERHEAD
        );
    }
}
