//! One tracking connection to one server (the server, or one master of a cluster): a RESP3
//! connection with `CLIENT TRACKING on` on which the cache's misses are read, so that the
//! server tells it (in push messages on that same connection) when any key it read
//! changes, expires, is evicted or deleted.
//!
//! The push messages are handled inside redis-rs's connection driver, as they arrive,
//! before the replies that follow them on the wire reach their callers. When the connection
//! drops (redis-rs reports a disconnection push), every entry read on it is flushed and the
//! cache is bypassed for its keys until a new connection has tracking on again; a new one
//! is made in the background by the next read that needs it, at most once a second while
//! it keeps failing.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{
    cmd, pipe, AsyncConnectionConfig, Client, ConnectionInfo, PushInfo, PushKind, RedisError,
    RedisResult, Value,
};

use super::stats::Counters;
use super::store::{Origin, Store};

/// The name every tracking connection gives itself (`CLIENT SETNAME`), to be told apart in
/// `CLIENT LIST`.
pub(crate) const CLIENT_NAME: &str = "session-redis-cache";

/// How long to wait before trying again after a connection attempt failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Epochs of every tracking connection of the process, never reused (0 means "none").
static EPOCHS: AtomicU64 = AtomicU64::new(1);

enum State {
    /// No connection; the next read starts one unless an attempt failed less than
    /// [`RETRY_AFTER`] ago.
    Down { retry_at: Option<Instant> },
    /// Being made; `lost` if it died before it was ready.
    Connecting { epoch: u64, lost: bool },
    Live {
        conn: MultiplexedConnection,
        epoch: u64,
        client_id: i64,
    },
}

/// A live tracking connection, as a read uses it.
pub(crate) struct Live {
    pub conn: MultiplexedConnection,
    pub epoch: u64,
}

/// A tracking connection to one server, made and remade as needed.
pub(crate) struct Tracker {
    /// RESP3, with the data nodes' credentials. Never logged (it holds the password).
    info: ConnectionInfo,
    /// Where, for logs.
    addr: String,
    timeouts: (Duration, Duration),
    pub(crate) origin: Arc<Origin>,
    state: Mutex<State>,
    store: Weak<Store>,
    engine: &'static str,
}

impl Tracker {
    /// A tracker for the server `info` names (not connected yet); `timeouts` are the
    /// connect and response timeouts.
    pub(crate) fn new(
        info: ConnectionInfo,
        timeouts: (Duration, Duration),
        store: &Arc<Store>,
        engine: &'static str,
    ) -> Arc<Self> {
        Arc::new(Tracker {
            addr: info.addr().to_string(),
            info,
            timeouts,
            origin: Arc::default(),
            state: Mutex::new(State::Down { retry_at: None }),
            store: Arc::downgrade(store),
            engine,
        })
    }

    /// Where the tracker connects, as logs show it.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live connection, or `None` (and a connection is started in the background when
    /// none is being made and the last attempt is not too recent).
    pub(crate) fn live(self: &Arc<Self>) -> Option<Live> {
        let mut state = self.state();
        match &*state {
            State::Live { conn, epoch, .. } => {
                return Some(Live {
                    conn: conn.clone(),
                    epoch: *epoch,
                })
            }
            State::Connecting { .. } => return None,
            State::Down { retry_at } if retry_at.is_some_and(|t| Instant::now() < t) => {
                return None
            }
            State::Down { .. } => {}
        }
        let epoch = EPOCHS.fetch_add(1, Ordering::Relaxed);
        *state = State::Connecting { epoch, lost: false };
        drop(state);
        tokio::spawn(Arc::clone(self).connect(epoch));
        None
    }

    /// The `CLIENT ID` of the live connection.
    pub(crate) fn client_id(&self) -> Option<i64> {
        match &*self.state() {
            State::Live { client_id, .. } => Some(*client_id),
            _ => None,
        }
    }

    async fn connect(self: Arc<Self>, epoch: u64) {
        let (connect, response) = self.timeouts;
        let opened = tokio::time::timeout(connect + response, self.open(epoch)).await;
        let mut state = self.state();
        let lost = matches!(&*state, State::Connecting { epoch: e, lost: true } if *e == epoch);
        match opened {
            Ok(Ok((conn, client_id))) if !lost => {
                self.origin.set(epoch);
                *state = State::Live {
                    conn,
                    epoch,
                    client_id,
                };
                tracing::debug!(engine = self.engine, server = %self.addr, client_id, "client-side cache: tracking on");
            }
            outcome => {
                *state = State::Down {
                    retry_at: Some(Instant::now() + RETRY_AFTER),
                };
                let error = match outcome {
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => format!("no answer within {:?}", connect + response),
                    Ok(Ok(_)) => "the connection dropped as it was made".into(),
                };
                tracing::warn!(engine = self.engine, server = %self.addr, %error, "client-side cache: cannot open a tracking connection; reads bypass the cache");
            }
        }
    }

    /// Connects (RESP3, with the push handler of `epoch`), names the connection and turns
    /// tracking on, in one round trip after the handshake.
    async fn open(self: &Arc<Self>, epoch: u64) -> RedisResult<(MultiplexedConnection, i64)> {
        let weak = Arc::downgrade(self);
        let on_push = move |push: PushInfo| -> Result<(), Infallible> {
            if let Some(tracker) = weak.upgrade() {
                tracker.on_push(epoch, push);
            }
            Ok(())
        };
        let (connect, response) = self.timeouts;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect))
            .set_response_timeout(Some(response))
            .set_push_sender(on_push);
        let client = Client::open(self.info.clone())?;
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let ((), client_id, ()): ((), i64, ()) = pipe()
            .cmd("CLIENT")
            .arg("SETNAME")
            .arg(CLIENT_NAME)
            .cmd("CLIENT")
            .arg("ID")
            .cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .query_async(&mut conn)
            .await?;
        Ok((conn, client_id))
    }

    /// A push message of the connection of `epoch`, handled as it arrives.
    fn on_push(self: &Arc<Self>, epoch: u64, push: PushInfo) {
        let Some(store) = self.store.upgrade() else {
            return;
        };
        match push.kind {
            PushKind::Invalidate => match push.data.first() {
                Some(Value::Array(keys)) => {
                    for key in keys {
                        if let Value::BulkString(key) = key {
                            if let Ok(key) = std::str::from_utf8(key) {
                                store.invalidate(key);
                            }
                        }
                    }
                }
                // FLUSHALL / FLUSHDB: every key this connection read is gone.
                Some(Value::Nil) => store.flush(Some(&self.origin)),
                _ => {}
            },
            PushKind::Disconnection => self.lost(epoch),
            _ => {}
        }
    }

    /// The connection of `epoch` is gone: flush what it covered, and make a new one (in the
    /// background; reads bypass the cache until it is ready).
    pub(crate) fn lost(self: &Arc<Self>, epoch: u64) {
        let mut state = self.state();
        match &mut *state {
            State::Live { epoch: e, .. } if *e == epoch => {
                self.origin.set(0);
                *state = State::Down { retry_at: None };
            }
            State::Connecting { epoch: e, lost } if *e == epoch => {
                *lost = true;
                return;
            }
            _ => return,
        }
        drop(state);
        if let Some(store) = self.store.upgrade() {
            store.flush(Some(&self.origin));
            Counters::add(&store.counters.flushes);
        }
        tracing::warn!(engine = self.engine, server = %self.addr, "client-side cache: tracking connection lost; its entries are flushed and reads bypass the cache until it is back");
        if tokio::runtime::Handle::try_current().is_ok() {
            self.live();
        }
    }

    /// This server is no longer a master the cache uses: close its connection and flush
    /// what it covered.
    pub(crate) fn retire(&self) {
        self.origin.set(0);
        *self.state() = State::Down { retry_at: None };
        if let Some(store) = self.store.upgrade() {
            store.flush(Some(&self.origin));
        }
    }

    /// A read on the connection of `epoch` failed with `error`: a dead connection counts as
    /// lost.
    pub(crate) fn failed(self: &Arc<Self>, epoch: u64, error: &RedisError) {
        if error.is_unrecoverable_error() || crate::conn::is_connection_lost(error) {
            self.lost(epoch);
        }
    }
}

/// `HGETALL key` on a tracking connection.
pub(crate) async fn hgetall(mut conn: MultiplexedConnection, key: &str) -> RedisResult<Value> {
    cmd("HGETALL").arg(key).query_async(&mut conn).await
}
