//! Table metadata: what each column of a captured table is called, how its values are decoded, and
//! how Canal describes its type.
//!
//! A [`TableSchema`] is built for each TABLE_MAP by the [`SchemaRegistry`]:
//! - with `binlog_row_metadata=FULL` the TABLE_MAP itself gives names, signedness, charsets,
//!   ENUM/SET labels and the primary key: that is the schema *at the event's position*;
//! - the declared type text (`mysqlType`, e.g. `varchar(20)`) comes from information_schema when it
//!   still describes the same column, else it is derived from the binlog type;
//! - without full metadata, the [`history::SchemaHistory`] supplies everything as of the event (seeded
//!   from information_schema or CREATE TABLE, then following the binlog's DDL), and the registry
//!   checks that it matches the event's column types — a mismatch is an error, never a guess.
//!
//! # Invariants
//! - A schema's column count always equals its TABLE_MAP's; rows are decoded only against it.
//! - DDL in the binlog is applied to the history and drops the cached information_schema rows of
//!   the tables it names.

mod alter;
pub mod ddl;
pub mod foreign_keys;
pub mod history;
pub mod journal;
pub mod keys;
mod registry;
mod sql;
pub mod sql_type;

pub use registry::{SchemaError, SchemaRegistry};
pub use sql::{Quoting, read_under_sql_mode};

use crate::binlog::ColumnCodec;

/// One column of a captured table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// Declared type as `information_schema.COLUMNS.COLUMN_TYPE` shows it (Canal's `mysqlType`).
    pub mysql_type: String,
    /// `java.sql.Types` code (Canal's `sqlType`).
    pub sql_type: i32,
    pub is_key: bool,
    pub nullable: bool,
}

/// A table as of one TABLE_MAP event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub schema: String,
    pub table: String,
    pub columns: Vec<Column>,
    /// How to decode each column, parallel to `columns`.
    pub codecs: Vec<ColumnCodec>,
    /// Primary key column indexes in key order (empty when the table has none).
    pub primary_key: Vec<usize>,
}

impl TableSchema {
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// The columns SQL shows (not those the server hides: see `ColumnCodec::hidden`).
    pub fn visible_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().zip(&self.codecs).filter(|(_, codec)| !codec.hidden).map(|(column, _)| column)
    }

    pub fn primary_key_names(&self) -> Vec<&str> {
        self.primary_key.iter().map(|&i| self.columns[i].name.as_str()).collect()
    }
}

/// A table of INT columns for unit tests: `shop.orders` style, keys as given.
#[cfg(test)]
pub(crate) fn int_table(schema: &str, table: &str, columns: &[(&str, bool)]) -> TableSchema {
    use crate::binlog::ColumnType;
    TableSchema {
        schema: schema.into(),
        table: table.into(),
        columns: columns
            .iter()
            .map(|&(name, is_key)| Column {
                name: name.into(),
                mysql_type: "int".into(),
                sql_type: 4,
                is_key,
                nullable: false,
            })
            .collect(),
        codecs: vec![ColumnCodec::new(ColumnType::LONG, 0); columns.len()],
        primary_key: columns.iter().enumerate().filter(|(_, c)| c.1).map(|(i, _)| i).collect(),
    }
}
