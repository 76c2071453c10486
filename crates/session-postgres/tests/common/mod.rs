//! This engine as the shared SQL test scenarios of `session-testkit` see it.

use session_testkit::sql::{Dialect, SqlEngine};

/// The engine, its server (`POSTGRES_URL`) and its constructor.
pub fn engine() -> SqlEngine {
    session_testkit::sql_engine! {
        dialect: Dialect::Postgres,
        name: "postgres",
        alias: "postgresql",
        provider: session_postgres::PostgresProvider,
        create_table_sql: session_postgres::create_table_sql,
    }
}
