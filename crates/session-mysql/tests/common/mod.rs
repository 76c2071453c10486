//! This engine as the shared SQL test scenarios of `session-testkit` see it.

use std::sync::Arc;
use std::time::Duration;

use session_core::Provider;
use session_mysql::{create_table_sql, MysqlProvider};
use session_testkit::sql::{Dialect, SqlEngine};

/// The engine, its server (`MYSQL_URL`) and its constructor.
pub fn engine() -> SqlEngine {
    SqlEngine {
        dialect: Dialect::MySql,
        name: "mysql",
        alias: "MySQL",
        connect: |config| {
            Box::pin(async move {
                let provider = MysqlProvider::connect(&config, Duration::from_secs(60)).await?;
                Ok(Arc::new(provider) as Arc<dyn Provider>)
            })
        },
        create_table_sql,
    }
}
