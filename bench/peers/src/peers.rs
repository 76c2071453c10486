//! The peers: the same routes on tower-sessions. Its `MemoryStore` under tower-sessions
//! 0.15; the newest published Redis store (fred) and sqlx PostgreSQL store are built on
//! tower-sessions-core 0.14, so they run under tower-sessions 0.14.

use axum::Router;

use crate::BoxError;

/// The two routes and the layer, for one version of tower-sessions.
macro_rules! tower_routes {
    ($ts:ident) => {
        use axum::routing::get;
        use axum::Router;
        use http::StatusCode;
        use $ts::{Session, SessionManagerLayer, SessionStore};

        /// `/cycle` and `/read` behind tower-sessions on `store` (default layer settings).
        pub fn router<S: SessionStore + Clone>(store: S) -> Router {
            Router::new()
                .route("/cycle", get(cycle))
                .route("/read", get(read))
                .layer(SessionManagerLayer::new(store))
        }

        async fn cycle(session: Session) -> Result<String, StatusCode> {
            let failed = |_| StatusCode::SERVICE_UNAVAILABLE;
            let n: i64 = session.get(crate::KEY).await.map_err(failed)?.unwrap_or(0);
            session.insert(crate::KEY, n + 1).await.map_err(failed)?;
            Ok(n.to_string())
        }

        async fn read(session: Session) -> Result<String, StatusCode> {
            let failed = |_| StatusCode::SERVICE_UNAVAILABLE;
            let n: i64 = session.get(crate::KEY).await.map_err(failed)?.unwrap_or(0);
            Ok(n.to_string())
        }
    };
}

/// tower-sessions 0.15.
pub mod v015 {
    tower_routes!(tower_sessions_015);
}

/// tower-sessions 0.14.
pub mod v014 {
    tower_routes!(tower_sessions_014);
}

/// tower-sessions 0.15 with its `MemoryStore`.
pub fn memory() -> Router {
    v015::router(tower_sessions_015::MemoryStore::default())
}

/// tower-sessions 0.14 with `tower-sessions-redis-store` on a fred pool of one client.
pub async fn redis(url: &str) -> Result<Router, BoxError> {
    use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
    let pool = Pool::new(Config::from_url(url)?, None, None, None, 1)?;
    pool.init().await?;
    Ok(v014::router(tower_sessions_redis_store::RedisStore::new(
        pool,
    )))
}

/// tower-sessions 0.14 with `tower-sessions-sqlx-store`'s PostgreSQL store (its own
/// schema, created by its migration) on a default sqlx pool.
pub async fn postgres(url: &str) -> Result<Router, BoxError> {
    let pool = sqlx::PgPool::connect(url).await?;
    let store = tower_sessions_sqlx_store::PostgresStore::new(pool);
    store.migrate().await?;
    Ok(v014::router(store))
}
