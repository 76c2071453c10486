//! The `maxEntries` cap: it holds, it evicts the least recently used sessions, and the
//! sessions people are using survive a flood of new ones.

use session_core::http::HeaderMap;
use session_core::{Context, Manager, ManagerConfig, Provider, ProviderInit, StoreExt};
use session_memory::MemoryProvider;

fn capped(max_entries: usize) -> MemoryProvider {
    let config = ManagerConfig::builder()
        .provider_config(format!(r#"{{"maxEntries": {max_entries}}}"#))
        .build()
        .unwrap();
    MemoryProvider::from_init(&ProviderInit::new("memory", &config)).unwrap()
}

fn cx() -> Context<'static> {
    Context::detached()
}

/// Stores a new session `sid` with something written, as a request would.
async fn create(p: &MemoryProvider, sid: &str) {
    let store = p.session_create(&cx(), sid).await.unwrap();
    store.set("counter", &1).await.unwrap();
    store.session_release(&mut HeaderMap::new()).await.unwrap();
}

/// A request of the session's owner: reads it (which marks it used).
async fn visit(p: &MemoryProvider, sid: &str) -> bool {
    let store = p.session_read(&cx(), sid).await.unwrap();
    store.get::<i64>("counter").await.unwrap() == Some(1)
}

async fn live(p: &MemoryProvider, sid: &str) -> bool {
    p.session_exist(&cx(), sid).await.unwrap()
}

fn sid(tag: &str, n: usize) -> String {
    format!("{tag}{n:030}")
}

#[tokio::test]
async fn a_small_cap_evicts_exactly_the_least_recently_used_sessions() {
    // Under 256 entries the store is one shard, so the order is exact.
    let p = capped(100);
    for n in 0..100 {
        create(&p, &sid("old", n)).await;
    }
    assert_eq!(p.evictions(), 0);
    // The first ten come back: they are now the most recently used.
    for n in 0..10 {
        assert!(visit(&p, &sid("old", n)).await);
    }
    for n in 0..50 {
        create(&p, &sid("new", n)).await;
    }
    assert_eq!(p.session_all().await.unwrap(), 100);
    assert_eq!(p.evictions(), 50);
    let survivors: Vec<usize> = {
        let mut kept = Vec::new();
        for n in 0..100 {
            if live(&p, &sid("old", n)).await {
                kept.push(n);
            }
        }
        kept
    };
    // Evicted: the fifty least recently used, old10..old59, in order of last use.
    let expected: Vec<usize> = (0..10).chain(60..100).collect();
    assert_eq!(survivors, expected);
    for n in 0..50 {
        assert!(live(&p, &sid("new", n)).await, "new{n} was evicted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_under_a_flood_of_new_sessions() {
    let p = capped(1000);
    let mut flood = tokio::task::JoinSet::new();
    for task in 0..8 {
        let p = p.clone();
        flood.spawn(async move {
            for n in 0..1250 {
                create(&p, &sid(&format!("bot{task}-"), n)).await;
            }
        });
    }
    while let Some(done) = flood.join_next().await {
        done.unwrap();
    }
    // Every shard saw far more new sessions than its share, so each is exactly full.
    assert_eq!(p.session_all().await.unwrap(), 1000);
    assert_eq!(p.evictions(), 10_000 - 1000);
}

#[tokio::test]
async fn a_session_in_use_survives_a_flood_that_evicts_idle_ones() {
    // Several shards of 250 here: the order is per shard.
    let p = capped(1000);
    let (user, idle) = (sid("user", 0), sid("idle", 0));
    create(&p, &user).await;
    create(&p, &idle).await;
    for n in 0..10_000 {
        create(&p, &sid("bot", n)).await;
        // The user clicks every 50 new visitors: far fewer than a shard's share land
        // in the user's shard between two clicks.
        if n % 50 == 0 {
            assert!(
                visit(&p, &user).await,
                "the user's session was evicted after {n}"
            );
        }
    }
    assert!(visit(&p, &user).await);
    assert!(
        !live(&p, &idle).await,
        "a session nobody used through 10,000 new ones survived"
    );
    assert_eq!(p.session_all().await.unwrap(), 1000);
}

#[tokio::test]
async fn a_bad_provider_config_is_a_startup_error() {
    use session_memory as _;
    for bad in ["./tmp", r#"{"maxEntries": 0}"#, r#"{"max": 10}"#] {
        let config = ManagerConfig::builder()
            .provider_config(bad)
            .build()
            .unwrap();
        let err = Manager::new("memory", config)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("providerConfig"), "{bad:?}: {err}");
    }
    let config = ManagerConfig::builder()
        .provider_config(r#"{"maxEntries": 5}"#)
        .build()
        .unwrap();
    Manager::new("memory", config).await.unwrap();
}
