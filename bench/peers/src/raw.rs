//! Raw client baselines on the same servers as the session stores: the two routes
//! hand-rolled like [`limit`](crate::limit), with the map replaced by one store round trip
//! per operation. redis-rs: `GET` then `SET … PX` on a cycle, `GET` on a read, `SET` for a
//! new visitor. sqlx on PostgreSQL: `SELECT` then `UPDATE`, `SELECT`, `INSERT`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{HeaderMap, StatusCode};
use redis::aio::MultiplexedConnection;
use sqlx::PgPool;

use crate::limit::{cookie_id, new_id, set_cookie};
use crate::BoxError;

/// How long a raw record lives: the session layers' default (`maxLifetime`, one hour).
const TTL_MS: u64 = 3_600_000;

fn redis_key(id: u128) -> String {
    format!("raw:{id:032x}")
}

/// The routes on redis-rs, one multiplexed connection to `url`.
pub async fn redis_router(url: &str) -> Result<Router, BoxError> {
    let client = redis::Client::open(url)?;
    let connection = client.get_multiplexed_async_connection().await?;
    Ok(Router::new()
        .route("/cycle", get(redis_cycle))
        .route("/read", get(redis_read))
        .with_state(connection))
}

async fn redis_get(connection: &mut MultiplexedConnection, id: u128) -> redis::RedisResult<i64> {
    let value: Option<i64> = redis::cmd("GET")
        .arg(redis_key(id))
        .query_async(connection)
        .await?;
    Ok(value.unwrap_or(0))
}

async fn redis_cycle(
    State(mut connection): State<MultiplexedConnection>,
    headers: HeaderMap,
) -> Response {
    let (id, n) = match cookie_id(&headers) {
        Some(id) => match redis_get(&mut connection, id).await {
            Ok(n) => (id, n),
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        None => (new_id(), 0),
    };
    let written: redis::RedisResult<()> = redis::cmd("SET")
        .arg(redis_key(id))
        .arg(n + 1)
        .arg("PX")
        .arg(TTL_MS)
        .query_async(&mut connection)
        .await;
    match written {
        Ok(()) => ([set_cookie(id)], n.to_string()).into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn redis_read(
    State(mut connection): State<MultiplexedConnection>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = cookie_id(&headers) else {
        return "0".into_response();
    };
    match redis_get(&mut connection, id).await {
        Ok(n) => n.to_string().into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The table of the PostgreSQL baseline.
const TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS raw_counter (\
    id TEXT PRIMARY KEY, n BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)";

/// The routes on sqlx, a default pool on `url` (as tower-sessions' store gets).
pub async fn postgres_router(url: &str) -> Result<Router, BoxError> {
    let pool = PgPool::connect(url).await?;
    sqlx::query(TABLE_SQL).execute(&pool).await?;
    Ok(Router::new()
        .route("/cycle", get(postgres_cycle))
        .route("/read", get(postgres_read))
        .with_state(pool))
}

async fn postgres_select(pool: &PgPool, id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT n FROM raw_counter WHERE id = $1 AND expires_at > now()")
        .bind(id)
        .fetch_optional(pool)
        .await
}

async fn postgres_cycle(State(pool): State<PgPool>, headers: HeaderMap) -> Response {
    let result = async {
        match cookie_id(&headers) {
            Some(id) => {
                let key = format!("{id:032x}");
                let n = postgres_select(&pool, &key).await?.unwrap_or(0);
                sqlx::query(
                    "UPDATE raw_counter SET n = $2, \
                     expires_at = now() + interval '1 hour' WHERE id = $1",
                )
                .bind(&key)
                .bind(n + 1)
                .execute(&pool)
                .await?;
                Ok::<_, sqlx::Error>((id, n))
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO raw_counter (id, n, expires_at) \
                     VALUES ($1, 1, now() + interval '1 hour')",
                )
                .bind(format!("{id:032x}"))
                .execute(&pool)
                .await?;
                Ok((id, 0))
            }
        }
    }
    .await;
    match result {
        Ok((id, n)) => ([set_cookie(id)], n.to_string()).into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn postgres_read(State(pool): State<PgPool>, headers: HeaderMap) -> Response {
    let Some(id) = cookie_id(&headers) else {
        return "0".into_response();
    };
    match postgres_select(&pool, &format!("{id:032x}")).await {
        Ok(n) => n.unwrap_or(0).to_string().into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
