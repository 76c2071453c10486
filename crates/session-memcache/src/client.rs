//! [`Servers`]: the `memcache` crate's tokio meta-protocol client on the configured servers,
//! with every call bounded and every error told without the key (a session id).

use std::future::Future;
use std::time::Duration;

use memcache::exp::{AsyncMetaClient, Error as McError, Operation};
use session_core::retry::{bounded, TimedOut};
use session_core::{Error, Result};

use crate::config::MemcacheConfig;
use crate::placement::Placement;
use crate::ENGINE;

/// How often a command is tried when the connection it used failed before the command
/// left (the crate already replaces a pooled connection that died, once): a second
/// attempt on a fresh connection covers a server that restarted twice.
const ATTEMPTS: usize = 2;

/// Why a command on one server failed, told without its key.
#[derive(Debug, thiserror::Error)]
#[error("server {server}: {what}")]
pub(crate) struct ServerFailure {
    server: String,
    what: String,
    /// The command never reached the server, so trying again is safe.
    retryable: bool,
}

/// The configured servers and one pooled client over them.
#[derive(Clone)]
pub(crate) struct Servers {
    client: AsyncMetaClient,
    names: Vec<String>,
    io_timeout: Duration,
    connect_timeout: Duration,
    /// Bound on one call, however many connections it needed.
    limit: Duration,
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Servers")
            .field("names", &self.names)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Servers {
    /// A client for `config`'s servers. Host names are resolved now, within the connect
    /// timeout; connections are made when first needed, so a server that is down now is
    /// an error for its sessions only, and only until it is back.
    pub(crate) async fn new(config: &MemcacheConfig) -> Result<Self> {
        let builder = AsyncMetaClient::builder()
            .router(Placement)
            .connect_timeout(Some(config.connect_timeout))
            .io_timeout(Some(config.io_timeout))
            .max_connections(Some(config.pool_size))
            .max_idle(config.pool_size);
        let connect = builder.connect_multiple_async(config.servers.iter().cloned());
        let action = "resolve the memcached servers";
        let client = match tokio::time::timeout(config.connect_timeout, connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => {
                let names = config.servers.join(", ");
                let why = format!("{} ({names})", describe(&error, &[]));
                return Err(Error::backend(ENGINE, action, why));
            }
            Err(_) => {
                return Err(Error::backend(
                    ENGINE,
                    action,
                    TimedOut(config.connect_timeout),
                ))
            }
        };
        Ok(Servers {
            client,
            names: config.servers.clone(),
            io_timeout: config.io_timeout,
            connect_timeout: config.connect_timeout,
            limit: config.connect_timeout + config.io_timeout,
        })
    }

    /// The server that holds `key`.
    pub(crate) fn server_of(&self, key: &[u8]) -> &str {
        &self.names[Placement::server_for(key, &self.names)]
    }

    /// Runs `operation` (on `key`) on the server of its key: bounded by the connect plus the io
    /// timeout, tried again when it never reached the server, failures as
    /// [`Error::Backend`] naming the server and never the key.
    pub(crate) async fn run<O>(
        &self,
        action: &'static str,
        key: &[u8],
        operation: O,
    ) -> Result<O::Output>
    where
        O: Operation + Clone,
    {
        self.bounded(action, key, || self.client.run(operation.clone()))
            .await
    }

    /// Runs `call` for `key` as [`run`](Self::run) does.
    async fn bounded<T, F, Fut>(&self, action: &'static str, key: &[u8], mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = memcache::exp::Result<T>>,
    {
        let server = self.server_of(key);
        let op = || {
            let called = call();
            async move {
                called
                    .await
                    .map_err(|error| self.failure(server, key, &error))
            }
        };
        let result = bounded(
            ENGINE,
            action,
            self.limit,
            ATTEMPTS,
            |f: &ServerFailure| f.retryable,
            op,
        );
        result.await.map_err(|error| match error {
            // The shared runner's timeout does not know the server; say which one it was.
            Error::Backend { source, .. } if source.is::<TimedOut>() => {
                let what = source.to_string();
                let failure = ServerFailure {
                    server: server.to_owned(),
                    what,
                    retryable: false,
                };
                Error::backend(ENGINE, action, failure)
            }
            other => other,
        })
    }

    fn failure(&self, server: &str, key: &[u8], error: &McError) -> ServerFailure {
        let retryable = matches!(error, McError::Io(e) if e.kind() != std::io::ErrorKind::TimedOut);
        let mut what = describe(error, key);
        if matches!(error, McError::Timeout { .. }) {
            what = format!(
                "no answer within {:?} (io_timeout), or no free pooled connection within {:?} \
                 (connect_timeout): the server is overloaded or unreachable",
                self.io_timeout, self.connect_timeout
            );
        }
        ServerFailure {
            server: server.to_owned(),
            what,
            retryable,
        }
    }
}

/// `error` in words, without `key` (a session id, never to be logged or shown).
fn describe(error: &McError, key: &[u8]) -> String {
    let text = match error {
        McError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("{io} (is memcached running there?)")
        }
        McError::Io(io) => io.to_string(),
        McError::Timeout { .. } => "no answer in time".to_owned(),
        McError::Ambiguous { source, .. } => format!(
            "the connection failed after the command was sent, so it may or may not have been \
             applied: {}",
            describe(source, key)
        ),
        McError::Server(message) if message.contains("too large") => format!(
            "the server refused the session as too large ({message}): its item size limit \
             (memcached -I) is below this engine's item_size_limit; lower item_size_limit or \
             raise -I"
        ),
        other => other.to_string(),
    };
    hide_key(text, key)
}

/// `text` with every occurrence of `key` replaced.
fn hide_key(text: String, key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(key) if !key.is_empty() && text.contains(key) => text.replace(key, "<session key>"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_show_the_key() {
        let key = b"0123456789abcdef0123456789abcdef";
        let errors = [
            McError::Timeout { key: key.to_vec() },
            McError::Ambiguous {
                key: key.to_vec(),
                source: Box::new(McError::Timeout { key: key.to_vec() }),
            },
            McError::Protocol(format!(
                "odd answer for {}",
                std::str::from_utf8(key).unwrap()
            )),
        ];
        for error in errors {
            assert!(
                error.to_string().contains("0123456789abcdef"),
                "the crate shows keys"
            );
            let told = describe(&error, key);
            assert!(!told.contains("0123456789abcdef"), "{told}");
        }
    }

    #[test]
    fn refused_connections_say_what_to_check() {
        let error = McError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(describe(&error, b"k").contains("is memcached running there?"));
    }
}
