//! [`TableNames`]: the names the statements and the DDL write.

/// A table (`table` or `schema.table`) quoted for the statements, and the bare name of
/// the index on its `session_expiry` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    /// Each part quoted with the engine's identifier quote, joined by `.`.
    pub quoted: String,
    /// The table's own name (without the schema) followed by the engine's suffix.
    pub index: String,
}

impl TableNames {
    /// The names for `table`, quoting with `quote` (`` ` `` or `"`). The parts must be
    /// valid identifiers already (as [`SqlParams`] checks): nothing is escaped.
    ///
    /// [`SqlParams`]: session_core::dsn::SqlParams
    pub fn new(table: &str, quote: char, index_suffix: &str) -> Self {
        let parts: Vec<&str> = table.split('.').collect();
        let quoted: Vec<String> = parts.iter().map(|p| format!("{quote}{p}{quote}")).collect();
        let name = parts.last().copied().unwrap_or(table);
        TableNames {
            quoted: quoted.join("."),
            index: format!("{name}{index_suffix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_quoted_and_the_index_named_after_the_table() {
        let names = TableNames::new("db.session", '`', "_expiry");
        assert_eq!(names.quoted, "`db`.`session`");
        assert_eq!(names.index, "session_expiry");
        let names = TableNames::new("session", '"', "_expiry_idx");
        assert_eq!(names.quoted, "\"session\"");
        assert_eq!(names.index, "session_expiry_idx");
    }
}
