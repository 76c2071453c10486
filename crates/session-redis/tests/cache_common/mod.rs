//! Two app instances (two providers with managers) on the same servers, for the client-side
//! cache's tests: instance A changes sessions, instance B reads them from its cache.
#![allow(dead_code)] // each test binary uses its own part

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use session_core::{Manager, ManagerConfig, ProviderInit};
use session_redis::{ClientCacheStats, RedisProvider};

use crate::common::{self, cookie_request, Target};

/// One app instance: its provider (for the cache's statistics) and its manager.
pub struct Instance {
    pub provider: RedisProvider,
    pub manager: Manager,
}

/// An instance on `target` with key prefix `prefix`, extra parameters `extra` and sessions
/// living `secs` seconds.
pub async fn instance(target: &Target, prefix: &str, extra: &str, secs: u64) -> Instance {
    let config = ManagerConfig {
        provider_config: target.config(prefix, extra),
        ..common::lifetime(secs)
    };
    let engine = target.topology.engine();
    let provider = RedisProvider::connect(&ProviderInit::new(engine, &config))
        .await
        .expect("a provider on the test servers");
    let manager =
        Manager::with_provider(engine, Arc::new(provider.clone()), config).expect("a manager");
    Instance { provider, manager }
}

impl Instance {
    /// The cache's counters (the cache must be on).
    pub fn stats(&self) -> ClientCacheStats {
        self.provider
            .client_cache_stats()
            .expect("the client-side cache is on")
    }

    /// A new session holding `user`; its id.
    pub async fn store(&self, user: &str) -> String {
        let session = self
            .manager
            .session_start(&http::Request::new(()))
            .await
            .unwrap();
        session.set("user", user).await.unwrap();
        session.release(&mut HeaderMap::new()).await.unwrap();
        session.id()
    }

    /// A read-only request for session `sid`: its `user`, or `None` when the session is
    /// not there (the request got a new one).
    pub async fn user(&self, sid: &str) -> Option<String> {
        let session = self
            .manager
            .session_start(&cookie_request(sid))
            .await
            .unwrap();
        if session.id() != sid {
            return None;
        }
        let user = session.get::<String>("user").await.unwrap();
        session
            .release_if_present(&mut HeaderMap::new())
            .await
            .unwrap();
        Some(user.unwrap_or_default())
    }

    /// A request that sets `user` in session `sid`.
    pub async fn set_user(&self, sid: &str, user: &str) {
        let session = self
            .manager
            .session_start(&cookie_request(sid))
            .await
            .unwrap();
        assert_eq!(session.id(), sid, "the session to change is gone");
        session.set("user", user).await.unwrap();
        session
            .release_if_present(&mut HeaderMap::new())
            .await
            .unwrap();
    }

    /// Destroys session `sid`.
    pub async fn destroy(&self, sid: &str) {
        self.manager
            .session_destroy(&cookie_request(sid), &mut HeaderMap::new())
            .await
            .unwrap();
    }

    /// Reads `sid` until a read is served from the cache (tracking connections are made by
    /// the first reads, in the background); panics after 10 s.
    pub async fn until_cached(&self, sid: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let before = self.stats().hits;
            let user = self.user(sid).await.expect("the session to cache");
            if self.stats().hits > before {
                return user;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never served from the cache: {:?}",
                self.stats()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
