//! Which tracking connection reads a key: the one tracker of a single server, or, on a
//! cluster, the tracker of the master serving the key's slot.
//!
//! Tracking is per server, so a cluster has one tracking connection per master, in the
//! default mode (the server remembers the keys each connection read and tells only that
//! connection). The slot table comes from `CLUSTER SLOTS`, asked when a read finds no
//! tracker for its slot or a tracker answered `MOVED`/`ASK` (at most once a second, by one
//! read at a time: the others bypass the cache meanwhile). A key is cached only when read
//! on the tracker of the master that serves it, so a table that is out of date costs a
//! bypassed read, never a copy no one invalidates: a slot that moves away takes its keys
//! with it (the old master deletes them, which invalidates them), and a read at the new
//! master is tracked there.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use deadpool_redis::redis::{ConnectionInfo, RedisError};

use super::store::Store;
use super::tracker::{Live, Tracker};
use crate::backend::Backend;
use crate::slots::{self, SLOTS};

/// The least time between two reads of the slot table.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// Slot with no known master.
const NONE: u16 = u16::MAX;

/// How a cluster node's tracking connection is made, host and port aside.
pub(crate) type NodeInfo = Box<dyn Fn(&str, u16) -> Option<ConnectionInfo> + Send + Sync>;

/// The tracker a read goes to, with its live connection.
pub(crate) struct Route {
    pub tracker: Arc<Tracker>,
    pub live: Live,
}

pub(crate) enum Routes {
    Single(Arc<Tracker>),
    Cluster(Cluster),
}

pub(crate) struct Cluster {
    table: RwLock<Arc<Table>>,
    /// When the table was last read; held while it is being read.
    refresh: tokio::sync::Mutex<Option<Instant>>,
    node_info: NodeInfo,
    timeouts: (Duration, Duration),
    store: Arc<Store>,
    engine: &'static str,
}

#[derive(Default)]
struct Table {
    /// The index in `trackers` of each slot's master, or [`NONE`].
    owners: Vec<u16>,
    trackers: Vec<Arc<Tracker>>,
    /// A tracker answered `MOVED`/`ASK`: read the table again.
    stale: std::sync::atomic::AtomicBool,
}

impl Routes {
    pub(crate) fn cluster(
        node_info: NodeInfo,
        timeouts: (Duration, Duration),
        store: &Arc<Store>,
        engine: &'static str,
    ) -> Self {
        Routes::Cluster(Cluster {
            table: RwLock::default(),
            refresh: tokio::sync::Mutex::new(None),
            node_info,
            timeouts,
            store: Arc::clone(store),
            engine,
        })
    }

    /// The live tracker for `key`, or `None` when there is none yet (or now).
    pub(crate) async fn route(&self, backend: &Backend, key: &str) -> Option<Route> {
        match self {
            Routes::Single(tracker) => live(tracker),
            Routes::Cluster(cluster) => cluster.route(backend, key).await,
        }
    }

    /// A read on `route` failed with `error`.
    pub(crate) fn failed(&self, route: &Route, error: &RedisError) {
        route.tracker.failed(route.live.epoch, error);
        if let (Routes::Cluster(cluster), Some(_)) = (self, error.redirect_node()) {
            cluster
                .table()
                .stale
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Every tracker, for the statistics.
    pub(crate) fn trackers(&self) -> Vec<Arc<Tracker>> {
        match self {
            Routes::Single(tracker) => vec![Arc::clone(tracker)],
            Routes::Cluster(cluster) => cluster.table().trackers.clone(),
        }
    }
}

fn live(tracker: &Arc<Tracker>) -> Option<Route> {
    tracker.live().map(|live| Route {
        tracker: Arc::clone(tracker),
        live,
    })
}

impl Cluster {
    fn table(&self) -> Arc<Table> {
        Arc::clone(&self.table.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn owner(&self, slot: u16) -> Option<Arc<Tracker>> {
        let table = self.table();
        let index = *table.owners.get(usize::from(slot))?;
        table.trackers.get(usize::from(index)).cloned()
    }

    async fn route(&self, backend: &Backend, key: &str) -> Option<Route> {
        let slot = slots::of(key.as_bytes());
        if !self.stale() {
            if let Some(tracker) = self.owner(slot) {
                return live(&tracker);
            }
        }
        self.refresh(backend).await;
        if self.stale() {
            return None;
        }
        live(&self.owner(slot)?)
    }

    fn stale(&self) -> bool {
        self.table()
            .stale
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads the slot table again, unless another read is doing it or did less than
    /// [`REFRESH_EVERY`] ago. Trackers of masters still there are kept (with their
    /// entries); those of masters gone are retired.
    async fn refresh(&self, backend: &Backend) {
        let Ok(mut last) = self.refresh.try_lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < REFRESH_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let ranges = match slots::ranges(backend, "find the masters for the client-side cache")
            .await
        {
            Ok(ranges) => ranges,
            Err(error) => {
                tracing::warn!(engine = self.engine, %error, "client-side cache: cannot read the cluster's slots; reads bypass the cache");
                return;
            }
        };
        let old = self.table();
        let mut table = Table {
            owners: vec![NONE; SLOTS],
            ..Table::default()
        };
        for range in &ranges {
            let addr = format!("{}:{}", range.host, range.port);
            let index = match table.trackers.iter().position(|t| t.addr() == addr) {
                Some(index) => index,
                None => {
                    let tracker = match old.trackers.iter().find(|t| t.addr() == addr) {
                        Some(tracker) => Arc::clone(tracker),
                        None => match (self.node_info)(&range.host, range.port) {
                            Some(info) => {
                                Tracker::new(info, self.timeouts, &self.store, self.engine)
                            }
                            None => continue,
                        },
                    };
                    table.trackers.push(tracker);
                    table.trackers.len() - 1
                }
            };
            let index = u16::try_from(index).unwrap_or(NONE);
            for slot in range.start..=range.end.min(SLOTS as u16 - 1) {
                table.owners[usize::from(slot)] = index;
            }
        }
        for gone in old
            .trackers
            .iter()
            .filter(|t| !table.trackers.iter().any(|n| Arc::ptr_eq(n, t)))
        {
            gone.retire();
        }
        // Every master's connection is made now, in the background, rather than by the
        // first read of each.
        for tracker in &table.trackers {
            tracker.live();
        }
        *self.table.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(table);
    }
}
