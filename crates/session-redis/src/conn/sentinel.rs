//! Following a failover as soon as the sentinels announce it.
//!
//! After a failover the former master keeps accepting writes until the sentinels demote it
//! (10 to 20 s later), and every connection opened before the failover still points at it:
//! writes sent there are lost. So a background task listens to the sentinels'
//! `+switch-master` channel and, when the master this provider uses changes, marks every
//! pooled connection stale: the next request connects to the master the sentinels now name,
//! without a round trip on the request path. Read-only replies and dead connections do the
//! same from the request path, for a switch the task missed.

use std::sync::Weak;
use std::time::Duration;

use deadpool_redis::redis::{Client, ConnectionInfo};
use futures_util::StreamExt;

use super::manager::Generation;

/// The channel sentinels announce a new master on: `<name> <old ip> <old port> <new ip>
/// <new port>`.
const SWITCH_MASTER: &str = "+switch-master";

/// How long to wait before trying the sentinels again when none could be subscribed to.
const RETRY: Duration = Duration::from_secs(1);

/// Listens to the sentinels (one at a time, the next when one goes away) until the provider
/// owning `generation` is dropped.
pub(super) async fn watch(
    sentinels: Vec<ConnectionInfo>,
    master: String,
    timeout: Duration,
    generation: Weak<Generation>,
) {
    loop {
        for sentinel in &sentinels {
            if generation.strong_count() == 0 {
                return;
            }
            let addr = sentinel.addr().to_string();
            match subscribe(sentinel, timeout).await {
                Ok(mut pubsub) => {
                    tracing::debug!(sentinel = %addr, master = %master, "watching the sentinel for failovers");
                    // A switch may have happened while nobody listened: connect afresh.
                    if let Some(generation) = generation.upgrade() {
                        generation.bump();
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let payload: String = message.get_payload().unwrap_or_default();
                        let mut words = payload.split(' ');
                        if words.next() != Some(master.as_str()) {
                            continue;
                        }
                        let Some(generation) = generation.upgrade() else {
                            return;
                        };
                        let new: Vec<&str> = words.skip(2).collect();
                        tracing::info!(master = %master, new = %new.join(":"), "the sentinels switched the master; reconnecting");
                        generation.bump();
                    }
                    tracing::debug!(sentinel = %addr, "lost the sentinel's failover announcements");
                }
                Err(error) => {
                    tracing::debug!(sentinel = %addr, %error, "cannot watch this sentinel for failovers");
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn subscribe(
    sentinel: &ConnectionInfo,
    timeout: Duration,
) -> Result<deadpool_redis::redis::aio::PubSub, String> {
    let connect = async {
        let mut pubsub = Client::open(sentinel.clone())?.get_async_pubsub().await?;
        pubsub.subscribe(SWITCH_MASTER).await?;
        Ok::<_, deadpool_redis::redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deadpool_redis::redis::IntoConnectionInfo;
    use session_testkit::servers::{self, redis};

    use super::*;

    /// The watcher marks connections stale when `+switch-master` names its master, and
    /// ignores other masters. A plain server stands in for the sentinel: only its pub/sub is
    /// used here.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_announced_switch_makes_every_connection_stale() {
        let Some(url) = servers::from_env(
            redis::URL_VAR,
            "an_announced_switch_makes_every_connection_stale",
        ) else {
            return;
        };
        let info = url
            .as_str()
            .into_connection_info()
            .expect("the server's URL");
        let generation = Arc::new(Generation::default());
        let task = tokio::spawn(watch(
            vec![info],
            "mymaster".into(),
            Duration::from_secs(2),
            Arc::downgrade(&generation),
        ));
        let publish = |payload: &'static str| {
            let url = url.clone();
            tokio::task::spawn_blocking(move || {
                redis::call(&url, &["PUBLISH", SWITCH_MASTER, payload]).expect("PUBLISH")
            })
        };
        // Subscribed (which counts as one switch: one may have been missed before).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while generation.current() == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the watcher never subscribed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        publish("othermaster 127.0.0.1 1 127.0.0.1 2")
            .await
            .unwrap();
        publish("mymaster 127.0.0.1 1 127.0.0.1 2").await.unwrap();
        while generation.current() == 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the announced switch was not seen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            generation.current(),
            2,
            "another master's switch was taken for ours"
        );
        drop(generation);
        publish("mymaster 127.0.0.1 2 127.0.0.1 3").await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the watcher ends once its provider is gone")
            .unwrap();
    }
}
