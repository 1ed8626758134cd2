//! The schema history as a journal of records keyed by binlog position, so that a restart at any
//! position the journal covers decodes with the table definitions of that position rather than
//! information_schema's current ones.
//!
//! A record says what changed the history *before* the event at its position was decoded:
//! - [`HistoryRecord::Track`]: a table entered the history (from information_schema, the first time
//!   a TABLE_MAP named it);
//! - [`HistoryRecord::TrackSchema`]: a database's default character set entered the history (from
//!   information_schema, when a table was created in a database the history had not seen created);
//! - [`HistoryRecord::Untrack`]: a table left the history (a DDL on it that an initial snapshot
//!   may already have held, or one on a table not captured that could not be applied:
//!   information_schema describes it next time);
//! - [`HistoryRecord::Ddl`]: a DDL statement of the QUERY event at that position;
//! - [`HistoryRecord::BaseTable`] / [`HistoryRecord::BaseCharset`]: the whole history as it stood at
//!   a position, written when the journal is compacted.
//!
//! # Invariants
//! - The history at position `p` is the replay, in position order, of exactly the records before
//!   `p` (and bases at `p`, which describe the history before it); bases sort before other records
//!   at their position. Records at or after `p` describe events
//!   that will be read again and are dropped.
//! - Replay is idempotent for duplicates (a record equal to one already applied at the same
//!   position is skipped), so a writer that repeats records cannot corrupt the history.
//! - Positions in different binlog sequences (another base name) cannot be ordered: such records
//!   are dropped, and the history starts again from information_schema.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::ddl::QualifiedName;
use super::history::{DdlContext, HistoryError, SchemaHistory, TableDef};
use super::sql::Quoting;
use crate::event::BinlogPosition;

/// One change to the schema history, at the binlog position of the event it precedes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryRecord {
    Track {
        at: BinlogPosition,
        schema: String,
        table: String,
        definition: TableDef,
    },
    TrackSchema {
        at: BinlogPosition,
        schema: String,
        charset: String,
    },
    Untrack {
        at: BinlogPosition,
        schema: String,
        table: String,
    },
    Ddl {
        at: BinlogPosition,
        default_schema: String,
        sql: String,
        /// The server's default character set when it ran (absent in records written before it
        /// was kept, and when the event did not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server_charset: Option<String>,
        /// It ran under MariaDB's sql_mode=ORACLE (absent: it did not, or was recorded before
        /// this was kept).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        oracle_types: bool,
        /// It ran under sql_mode NO_BACKSLASH_ESCAPES (absent: it did not, or was recorded
        /// before this was kept).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        no_backslash_escapes: bool,
        /// It ran under sql_mode ANSI_QUOTES (absent: it did not, or was recorded before this
        /// was kept).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ansi_quotes: bool,
        /// It ran under sql_mode REAL_AS_FLOAT (absent: it did not, or was recorded before this
        /// was kept).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        real_as_float: bool,
        /// The server stores names in lower case (lower_case_table_names=1; absent: it does
        /// not, or this was recorded before it was kept).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        lower_case_names: bool,
    },
    BaseTable {
        at: BinlogPosition,
        schema: String,
        table: String,
        definition: TableDef,
    },
    BaseCharset {
        at: BinlogPosition,
        schema: String,
        charset: String,
    },
}

impl HistoryRecord {
    pub fn at(&self) -> &BinlogPosition {
        match self {
            Self::Track { at, .. }
            | Self::TrackSchema { at, .. }
            | Self::Untrack { at, .. }
            | Self::Ddl { at, .. }
            | Self::BaseTable { at, .. }
            | Self::BaseCharset { at, .. } => at,
        }
    }

    fn is_base(&self) -> bool {
        matches!(self, Self::BaseTable { .. } | Self::BaseCharset { .. })
    }

    /// Apply to `history`.
    fn apply(&self, history: &mut SchemaHistory) -> Result<(), HistoryError> {
        match self {
            Self::Track { schema, table, definition, .. } | Self::BaseTable { schema, table, definition, .. } => {
                let name = QualifiedName { schema: schema.clone(), table: table.clone() };
                history.track(name, definition.clone());
                Ok(())
            }
            Self::Untrack { schema, table, .. } => {
                history.untrack(&QualifiedName { schema: schema.clone(), table: table.clone() });
                Ok(())
            }
            Self::Ddl {
                default_schema,
                sql,
                server_charset,
                oracle_types,
                no_backslash_escapes,
                ansi_quotes,
                real_as_float,
                lower_case_names,
                ..
            } => {
                let context = DdlContext {
                    server_charset: server_charset.as_deref(),
                    oracle_types: *oracle_types,
                    quoting: Quoting { no_backslash_escapes: *no_backslash_escapes, ansi_quotes: *ansi_quotes },
                    real_as_float: *real_as_float,
                    lower_case_names: *lower_case_names,
                };
                history.apply_in(sql, default_schema, context)
            }
            Self::TrackSchema { schema, charset, .. } | Self::BaseCharset { schema, charset, .. } => {
                history.set_schema_charset(schema.clone(), charset.clone());
                Ok(())
            }
        }
    }

    /// The records that rebuild `history` as a base at `at`.
    pub fn base(history: &SchemaHistory, at: &BinlogPosition) -> Vec<HistoryRecord> {
        let charsets = history.schema_charsets().map(|(schema, charset)| Self::BaseCharset {
            at: at.clone(),
            schema: schema.to_owned(),
            charset: charset.to_owned(),
        });
        let tables = history.tables().map(|(name, definition)| Self::BaseTable {
            at: at.clone(),
            schema: name.schema.clone(),
            table: name.table.clone(),
            definition: definition.clone(),
        });
        charsets.chain(tables).collect()
    }
}

/// Order two positions of one binlog sequence (`name.000042`): by file number, then offset.
/// `None` when they belong to different sequences.
pub fn compare_positions(a: &BinlogPosition, b: &BinlogPosition) -> Option<Ordering> {
    let split = |file: &str| {
        let (base, number) = file.rsplit_once('.')?;
        Some((base.to_owned(), number.parse::<u64>().ok()?))
    };
    let (base_a, number_a) = split(&a.file)?;
    let (base_b, number_b) = split(&b.file)?;
    (base_a == base_b).then(|| (number_a, a.offset).cmp(&(number_b, b.offset)))
}

/// What a journal holds for a start position.
#[derive(Debug, Default)]
pub struct Replayed {
    pub history: SchemaHistory,
    /// Indexes (into the records given) of those that were applied.
    pub applied: Vec<usize>,
    /// Indexes of those at or after the start position, or not comparable with it: to delete.
    pub dropped: Vec<usize>,
}

/// The history just before `start`, from records in the order they were written.
pub fn replay(records: &[HistoryRecord], start: &BinlogPosition) -> Result<Replayed, HistoryError> {
    let mut replayed = Replayed::default();
    let mut before = Vec::new();
    for (i, record) in records.iter().enumerate() {
        // A base at `p` is the history before `p`: it holds for a start at `p` too.
        match compare_positions(record.at(), start) {
            Some(Ordering::Less) => before.push(i),
            Some(Ordering::Equal) if record.is_base() => before.push(i),
            _ => replayed.dropped.push(i),
        }
    }
    // Position order, bases first at their position, then write order.
    before.sort_by(|&a, &b| {
        compare_positions(records[a].at(), records[b].at())
            .unwrap_or(Ordering::Equal)
            .then_with(|| records[b].is_base().cmp(&records[a].is_base()))
            .then(a.cmp(&b))
    });
    let mut at_position: Vec<usize> = Vec::new();
    for i in before {
        let record = &records[i];
        if at_position.first().is_some_and(|&first| records[first].at() != record.at()) {
            at_position.clear();
        }
        if at_position.iter().any(|&seen| &records[seen] == record) {
            replayed.dropped.push(i);
            continue;
        }
        record.apply(&mut replayed.history)?;
        at_position.push(i);
        replayed.applied.push(i);
    }
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::history::ColumnDef;

    fn at(file: &str, offset: u64) -> BinlogPosition {
        BinlogPosition::new(file, offset)
    }

    fn def(columns: &[&str]) -> TableDef {
        TableDef {
            columns: columns
                .iter()
                .map(|c| ColumnDef {
                    name: (*c).into(),
                    column_type: "int".into(),
                    data_type: "int".into(),
                    charset: None,
                })
                .collect(),
            primary_key: vec![columns[0].into()],
            ..TableDef::default()
        }
    }

    fn track(position: BinlogPosition, columns: &[&str]) -> HistoryRecord {
        HistoryRecord::Track { at: position, schema: "s".into(), table: "t".into(), definition: def(columns) }
    }

    fn ddl(position: BinlogPosition, sql: &str) -> HistoryRecord {
        HistoryRecord::Ddl {
            at: position,
            default_schema: "s".into(),
            sql: sql.into(),
            server_charset: None,
            oracle_types: false,
            no_backslash_escapes: false,
            ansi_quotes: false,
            real_as_float: false,
            lower_case_names: false,
        }
    }

    fn columns(history: &SchemaHistory) -> Vec<String> {
        let name = QualifiedName { schema: "s".into(), table: "t".into() };
        history.get(&name).map(|d| d.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
    }

    #[test]
    fn positions_order_by_file_number_then_offset() {
        assert_eq!(compare_positions(&at("bin.000009", 900), &at("bin.000010", 4)), Some(Ordering::Less));
        assert_eq!(compare_positions(&at("bin.000010", 900), &at("bin.000010", 4)), Some(Ordering::Greater));
        assert_eq!(compare_positions(&at("bin.999999", 4), &at("bin.1000000", 4)), Some(Ordering::Less));
        assert_eq!(compare_positions(&at("a.000001", 4), &at("b.000001", 4)), None);
        assert_eq!(compare_positions(&at("nonumber", 4), &at("nonumber", 5)), None);
    }

    #[test]
    fn replay_stops_before_the_start_and_drops_the_rest() {
        let records = vec![
            track(at("bin.000001", 100), &["id", "a", "b"]),
            ddl(at("bin.000001", 500), "ALTER TABLE t DROP COLUMN a"),
            ddl(at("bin.000002", 200), "ALTER TABLE t ADD COLUMN c INT FIRST"),
        ];
        let r = replay(&records, &at("bin.000001", 500)).unwrap();
        assert_eq!(columns(&r.history), ["id", "a", "b"]);
        assert_eq!((r.applied, r.dropped), (vec![0], vec![1, 2]));

        let r = replay(&records, &at("bin.000002", 4)).unwrap();
        assert_eq!(columns(&r.history), ["id", "b"]);
        let r = replay(&records, &at("bin.000003", 4)).unwrap();
        assert_eq!(columns(&r.history), ["c", "id", "b"]);
        // Before the table was first seen: nothing is known.
        let r = replay(&records, &at("bin.000001", 100)).unwrap();
        assert!(columns(&r.history).is_empty());
        // Another binlog sequence: nothing can be ordered, everything goes.
        let r = replay(&records, &at("other.000001", 4)).unwrap();
        assert_eq!(r.dropped.len(), 3);
    }

    #[test]
    fn ddl_records_written_before_the_server_charset_was_kept_still_load() {
        let old = r#"{"kind":"ddl","at":{"file":"bin.000001","offset":4},"default_schema":"s","sql":"DROP TABLE t"}"#;
        let record: HistoryRecord = serde_json::from_str(old).unwrap();
        assert!(matches!(record, HistoryRecord::Ddl { server_charset: None, .. }));
        assert_eq!(serde_json::to_string(&record).unwrap(), old, "and are written the same way");
    }

    #[test]
    fn records_replay_in_position_order_bases_first_and_duplicates_once() {
        let base_at = at("bin.000003", 4);
        let mut base_history = SchemaHistory::default();
        base_history.track(QualifiedName { schema: "s".into(), table: "t".into() }, def(&["id", "x"]));
        base_history.set_schema_charset("s".into(), "latin1".into());
        let add = ddl(at("bin.000003", 4), "ALTER TABLE t ADD COLUMN y INT");
        // Written out of order: a DDL at the base's position, then the base (compaction), then a
        // duplicate of the DDL (a writer that repeated it).
        let mut records = vec![add.clone()];
        records.extend(HistoryRecord::base(&base_history, &base_at));
        records.push(add);
        let r = replay(&records, &at("bin.000004", 4)).unwrap();
        assert_eq!(columns(&r.history), ["id", "x", "y"]);
        assert_eq!(r.dropped, vec![3]);
        let charsets: Vec<_> = r.history.schema_charsets().collect();
        assert_eq!(charsets, [("s", "latin1")]);
    }

    #[test]
    fn records_round_trip_as_json() {
        let record = ddl(at("bin.000001", 4), "ALTER TABLE t ADD COLUMN `é` INT");
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(r#""kind":"ddl""#), "{json}");
        assert_eq!(serde_json::from_str::<HistoryRecord>(&json).unwrap(), record);
    }
}
