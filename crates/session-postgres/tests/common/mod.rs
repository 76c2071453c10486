//! What the engine's tests share: finding the server, unique table names, raw SQL access.
#![allow(dead_code)]

pub mod throwaway;

use std::io::Write;
use std::time::Duration;

use sqlx::postgres::PgPool;

/// The server the tests use: `POSTGRES_URL` (set by `cargo xtask test`, or pointing at an
/// external server). `None`, after saying so, under a plain `cargo test`.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            // Straight to stderr: the test harness hides `eprintln!` of passing tests, and
            // a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: POSTGRES_URL not set (run cargo xtask test)"
            );
            None
        }
    }
}

/// A table name nobody else uses, so concurrent test binaries never see each other's rows.
pub fn unique_table(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS random");
    format!("{prefix}_{}", hex::encode(bytes))
}

/// `url` with extra query parameters.
pub fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// A plain pool on the test server, for looking at and damaging rows directly.
pub async fn raw_pool(url: &str) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .expect("connect to the test server")
}

/// Drops a test's table.
pub async fn drop_table(pool: &PgPool, table: &str) {
    sqlx::raw_sql(&format!("DROP TABLE IF EXISTS \"{table}\""))
        .execute(pool)
        .await
        .expect("drop the test table");
}
