//! This engine as the shared SQL test scenarios of `session-testkit` see it.

use session_testkit::sql::{Dialect, SqlEngine};

/// The engine, its server (`MYSQL_URL`) and its constructor.
pub fn engine() -> SqlEngine {
    session_testkit::sql_engine! {
        dialect: Dialect::MySql,
        name: "mysql",
        alias: "MySQL",
        provider: session_mysql::MysqlProvider,
        create_table_sql: session_mysql::create_table_sql,
    }
}
