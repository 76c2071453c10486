//! The statements, written once per provider with its table name; each write binds the
//! ttl of its session's own lifetime.
//!
//! `session_expiry` (a `timestamp`, UTC) holds the moment the session dies: live means
//! `session_expiry > now`. Times come from the server's clock, so application servers with
//! skewed clocks agree. (beego stored the time of last access there instead; this engine
//! does not share tables with beego, whose gob-encoded data it could not read anyway.)

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

/// `$n` milliseconds from the server's now.
fn in_millis(param: u8) -> String {
    format!("{NOW} + ${param} * interval '1 millisecond'")
}

impl Statements {
    /// The statements for `table` (already quoted). Every write binds its session's ttl in
    /// milliseconds where the expiry is set; a move keeps the expiry.
    pub fn new(table: &str, index: &str) -> Self {
        let live = format!("session_expiry > {NOW}");
        let left_ms =
            format!("CAST(EXTRACT(EPOCH FROM (session_expiry - {NOW})) * 1000 AS BIGINT)");
        // `$1::bpchar` compares as CHAR, so the primary key index is used.
        let key = "session_key = $1::bpchar";
        Statements {
            create_table: create_table(table, index),
            // $1 sid
            load: format!("SELECT session_data, {left_ms} FROM {table} WHERE {key} AND {live}"),
            fetch: format!("SELECT session_data FROM {table} WHERE {key} AND {live}"),
            exist: format!("SELECT 1 FROM {table} WHERE {key} AND {live}"),
            // $1 sid, $2 data, $3 ttl ms
            create: format!(
                "INSERT INTO {table} AS s (session_key, session_data, session_expiry) \
                 VALUES ($1, $2, {}) \
                 ON CONFLICT (session_key) DO UPDATE \
                 SET session_data = EXCLUDED.session_data, session_expiry = EXCLUDED.session_expiry \
                 WHERE s.session_expiry <= {NOW}",
                in_millis(3)
            ),
            // $1 sid, $2 data, $3 expected data, $4 ttl ms
            replace_if_unchanged: format!(
                "UPDATE {table} SET session_data = $2, session_expiry = {} \
                 WHERE {key} AND session_data = $3 AND {live}",
                in_millis(4)
            ),
            // $1 sid, $2 ttl ms
            touch: format!(
                "UPDATE {table} SET session_expiry = {} WHERE {key} AND {live}",
                in_millis(2)
            ),
            // $1 old sid, $2 new sid
            rename: format!(
                "UPDATE {table} SET session_key = $2 WHERE {key} AND {live} \
                 RETURNING session_data, {left_ms}"
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
        let s = Statements::new("\"t\"", "t_expiry");
        assert!(
            s.create.contains("$3 * interval '1 millisecond'"),
            "{}",
            s.create
        );
        assert!(
            !s.rename.contains("session_expiry ="),
            "a move keeps the expiry"
        );
    }
}
