//! The statements, written once per provider with its table name and lifetime.
//!
//! Only MySQL syntax that MariaDB shares (no `RETURNING`, no `CREATE INDEX IF NOT EXISTS`,
//! no `VALUES()` in upserts), so MySQL 5.7/8 and MariaDB both work.
//!
//! `session_expiry` holds the last second (Unix time) in which the session is alive: live
//! means `session_expiry >= UNIX_TIMESTAMP()`. Each write stores `FLOOR(now + ttl)`, `now`
//! to the millisecond and `ttl` the session's own lifetime in seconds (bound as a
//! parameter), which keeps a session for at least its lifetime and less than a second more. (beego
//! stored the time of last access there instead; this engine does not share tables with
//! beego, whose gob-encoded data it could not read anyway.)

use session_sqlx::TableNames;

/// Rows one GC statement deletes at most, so a pass never holds long locks.
pub const GC_BATCH: u64 = 1000;

/// The statements of one provider. Parameters, in order, are noted on each.
#[derive(Debug, Clone)]
pub struct Statements {
    pub create_table: String,
    pub load: String,
    pub fetch: String,
    pub exist: String,
    pub insert: String,
    pub replace_expired: String,
    pub replace_if_unchanged: String,
    pub touch: String,
    pub rename: String,
    pub destroy: String,
    pub count: String,
    pub gc: String,
}

/// The quoted table and its index's name for `table` (`table` or `db.table`, validated).
pub fn names(table: &str) -> TableNames {
    TableNames::new(table, '`', "_expiry")
}

/// The DDL the engine runs when `create_table` is on (also printed in the docs).
pub fn create_table(table: &str, index: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n\
         \x20 session_key CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,\n\
         \x20 session_data BLOB NOT NULL,\n\
         \x20 session_expiry INT UNSIGNED NOT NULL,\n\
         \x20 PRIMARY KEY (session_key),\n\
         \x20 KEY `{index}` (session_expiry)\n\
         ) ENGINE=InnoDB"
    )
}

impl Statements {
    /// The statements for `table` (already quoted). Every write binds its session's ttl in
    /// seconds (a float) where the expiry is set.
    pub fn new(table: &str, index: &str) -> Self {
        let now = "UNIX_TIMESTAMP()";
        let live = format!("session_expiry >= {now}");
        let expiry = "FLOOR(UNIX_TIMESTAMP(NOW(3)) + ?)".to_owned();
        Statements {
            create_table: create_table(table, index),
            load: format!(
                "SELECT session_data, CAST(session_expiry AS SIGNED) - CAST({now} AS SIGNED) \
                 FROM {table} WHERE session_key = ? AND {live}"
            ),
            fetch: format!("SELECT session_data FROM {table} WHERE session_key = ? AND {live}"),
            exist: format!("SELECT 1 FROM {table} WHERE session_key = ? AND {live}"),
            insert: format!(
                "INSERT INTO {table} (session_key, session_data, session_expiry) \
                 VALUES (?, ?, {expiry})"
            ),
            replace_expired: format!(
                "UPDATE {table} SET session_data = ?, session_expiry = {expiry} \
                 WHERE session_key = ? AND session_expiry < {now}"
            ),
            replace_if_unchanged: format!(
                "UPDATE {table} SET session_data = ?, session_expiry = {expiry} \
                 WHERE session_key = ? AND session_data = ? AND {live}"
            ),
            touch: format!(
                "UPDATE {table} SET session_expiry = {expiry} WHERE session_key = ? AND {live}"
            ),
            rename: format!("UPDATE {table} SET session_key = ? WHERE session_key = ? AND {live}"),
            destroy: format!("DELETE FROM {table} WHERE session_key = ?"),
            count: format!("SELECT COUNT(*) FROM {table} WHERE {live}"),
            gc: format!("DELETE FROM {table} WHERE session_expiry < {now} LIMIT {GC_BATCH}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        assert_eq!(names("db.session").quoted, "`db`.`session`");
        let s = Statements::new("`t`", "t_expiry");
        assert!(
            s.insert.contains("UNIX_TIMESTAMP(NOW(3)) + ?"),
            "{}",
            s.insert
        );
        assert!(
            !s.rename.contains("session_expiry ="),
            "a move keeps the expiry"
        );
    }
}
