//! MariaDB's long UNIQUE keys: a UNIQUE key on a TEXT/BLOB column without a prefix, or too long
//! for a B-tree, or declared `USING HASH`, is kept as a hash in a hidden column (`DB_ROW_HASH_n`)
//! that information_schema does not list but every row event carries.
//!
//! With `binlog_row_metadata` FULL the TABLE_MAP names it and decoding is unaffected. Without, the
//! schema history (built from information_schema and DDL) has one column fewer per such key than
//! the binlog's rows, so no row of the table can be mapped to its column names. Sluice names
//! these tables before it reads anything, rather than stopping at their first row.
//!
//! # Invariants
//! - Only MariaDB makes such keys (MySQL refuses a unique TEXT/BLOB key without a prefix), and only
//!   for engines other than MEMORY, whose ordinary indexes are hashes too.

use crate::source::preflight::Finding;
use crate::source::{Connection, Flavor, SourceError};

/// How many tables a finding names before counting the rest.
const NAMED: usize = 10;

/// An error naming the captured tables with long UNIQUE keys when the binlog does not name
/// columns (`binlog_row_metadata` other than FULL).
pub async fn check(
    conn: &mut Connection,
    captured: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<Option<Finding>, SourceError> {
    if conn.flavor != Flavor::Mariadb
        || conn.global_variable("binlog_row_metadata").await?.is_some_and(|v| v.eq_ignore_ascii_case("FULL"))
    {
        return Ok(None);
    }
    let keyed = conn
        .query(
            "SELECT s.TABLE_SCHEMA, s.TABLE_NAME, GROUP_CONCAT(DISTINCT s.INDEX_NAME ORDER BY s.INDEX_NAME) \
             FROM information_schema.STATISTICS s JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = s.TABLE_SCHEMA AND t.TABLE_NAME = s.TABLE_NAME \
             WHERE s.NON_UNIQUE = 0 AND s.INDEX_TYPE = 'HASH' AND t.ENGINE NOT IN ('MEMORY', 'HEAP') \
             GROUP BY s.TABLE_SCHEMA, s.TABLE_NAME ORDER BY s.TABLE_SCHEMA, s.TABLE_NAME",
        )
        .await?;
    let tables: Vec<String> = keyed
        .rows
        .iter()
        .filter(|row| captured(&row.text(0).unwrap_or_default(), &row.text(1).unwrap_or_default()))
        .map(|row| {
            format!(
                "{}.{} ({})",
                row.text(0).unwrap_or_default(),
                row.text(1).unwrap_or_default(),
                row.text(2).unwrap_or_default()
            )
        })
        .collect();
    Ok(finding(&tables))
}

/// One error naming the first [`NAMED`] tables (`schema.table (keys)`) and counting the rest.
pub fn finding(tables: &[String]) -> Option<Finding> {
    if tables.is_empty() {
        return None;
    }
    let mut named: Vec<String> = tables.iter().take(NAMED).cloned().collect();
    if tables.len() > NAMED {
        named.push(format!("and {} more", tables.len() - NAMED));
    }
    Some(Finding::error(
        format!(
            "{} captured table(s) have UNIQUE keys MariaDB keeps USING HASH, in a hidden column every row event \
             carries but information_schema does not list; without binlog_row_metadata=FULL the binlog does not \
             name it, so their rows cannot be mapped to column names: {}",
            tables.len(),
            named.join("; ")
        ),
        "SET GLOBAL binlog_row_metadata='FULL' and put binlog_row_metadata=FULL in the server configuration, \
         or leave these tables out of the destination's tables",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_tables_and_counts_the_rest() {
        assert!(finding(&[]).is_none());
        let tables: Vec<String> = (0..12).map(|i| format!("db.t{i} (u)")).collect();
        let found = finding(&tables).unwrap();
        assert!(found.problem.starts_with("12 captured table(s)"), "{}", found.problem);
        assert!(found.problem.ends_with("db.t9 (u); and 2 more"), "{}", found.problem);
        assert!(found.fix.contains("binlog_row_metadata=FULL"));
    }
}
