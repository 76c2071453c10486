//! The statements, written once per provider with its table name and lifetime.
//!
//! `session_expiry` (a `timestamp`, UTC) holds the moment the session dies: live means
//! `session_expiry > now`. Times come from the server's clock, so application servers with
//! skewed clocks agree. (beego stored the time of last access there instead; this engine
//! does not share tables with beego, whose gob-encoded data it could not read anyway.)

use std::time::Duration;

use session_sqlx::TableNames;

/// Rows one GC statement deletes at most, so a pass never holds long locks.
pub const GC_BATCH: u64 = 1000;

/// The server's clock as a UTC `timestamp`.
const NOW: &str = "(now() AT TIME ZONE 'UTC')";

/// The statements of one provider.
#[derive(Debug, Clone)]
pub struct Statements {
    pub create_table: String,
    pub load: String,
    pub fetch: String,
    pub exist: String,
    pub create: String,
    pub replace_if_unchanged: String,
    pub touch: String,
    pub rename: String,
    pub destroy: String,
    pub count: String,
    pub gc: String,
}

/// The quoted table and its index's name for `table` (`table` or `schema.table`,
/// validated).
pub fn names(table: &str) -> TableNames {
    TableNames::new(table, '"', "_expiry_idx")
}

/// The DDL the engine runs when `create_table` is on (also printed in the docs).
/// `index` is the index's bare name (index names are per schema).
pub fn create_table(table: &str, index: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n\
         \x20 session_key CHAR(64) NOT NULL PRIMARY KEY,\n\
         \x20 session_data BYTEA NOT NULL,\n\
         \x20 session_expiry TIMESTAMP NOT NULL\n\
         );\n\
         CREATE INDEX IF NOT EXISTS \"{index}\" ON {table} (session_expiry);"
    )
}

fn interval(d: Duration) -> String {
    format!("interval '{} milliseconds'", d.as_millis().max(1))
}

impl Statements {
    /// The statements for `table` (already quoted) and sessions living `lifetime`.
    ///
    /// Reading refreshes the expiry in the same statement, but only when it is more than
    /// `slack` short of a full lifetime, so most reads write nothing.
    pub fn new(table: &str, index: &str, lifetime: Duration, slack: Duration) -> Self {
        let life = interval(lifetime);
        let fresh = interval(lifetime.saturating_sub(slack));
        let expiry = format!("{NOW} + {life}");
        let live = format!("session_expiry > {NOW}");
        // `$1::bpchar` compares as CHAR, so the primary key index is used.
        let key = "session_key = $1::bpchar";
        Statements {
            create_table: create_table(table, index),
            load: format!(
                "WITH live AS (\
                   SELECT session_key, session_data, session_expiry FROM {table} \
                   WHERE {key} AND {live}), \
                 touched AS (\
                   UPDATE {table} AS s SET session_expiry = {expiry} FROM live \
                   WHERE s.session_key = live.session_key \
                   AND live.session_expiry < {NOW} + {fresh}) \
                 SELECT session_data FROM live"
            ),
            fetch: format!("SELECT session_data FROM {table} WHERE {key} AND {live}"),
            exist: format!("SELECT 1 FROM {table} WHERE {key} AND {live}"),
            create: format!(
                "INSERT INTO {table} AS s (session_key, session_data, session_expiry) \
                 VALUES ($1, $2, {expiry}) \
                 ON CONFLICT (session_key) DO UPDATE \
                 SET session_data = EXCLUDED.session_data, session_expiry = EXCLUDED.session_expiry \
                 WHERE s.session_expiry <= {NOW}"
            ),
            replace_if_unchanged: format!(
                "UPDATE {table} SET session_data = $2, session_expiry = {expiry} \
                 WHERE {key} AND session_data = $3 AND {live}"
            ),
            touch: format!("UPDATE {table} SET session_expiry = {expiry} WHERE {key} AND {live}"),
            rename: format!(
                "UPDATE {table} SET session_key = $2, session_expiry = {expiry} \
                 WHERE {key} AND {live} RETURNING session_data"
            ),
            destroy: format!("DELETE FROM {table} WHERE {key}"),
            count: format!("SELECT COUNT(*) FROM {table} WHERE {live}"),
            gc: format!(
                "DELETE FROM {table} WHERE session_key IN (\
                   SELECT session_key FROM {table} WHERE session_expiry <= {NOW} \
                   LIMIT {GC_BATCH} FOR UPDATE SKIP LOCKED)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_lifetimes_inlined() {
        assert_eq!(names("app.session").quoted, "\"app\".\"session\"");
        let s = Statements::new("\"t\"", "t_expiry", Duration::from_secs(60), Duration::ZERO);
        assert!(
            s.create.contains("interval '60000 milliseconds'"),
            "{}",
            s.create
        );
    }
}
