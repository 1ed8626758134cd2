//! The pipeline's own types: positions, GTID sets, and the transactions that flow from the binlog
//! reader to the encoders.
//!
//! A [`TransactionChunk`] is the unit between stages. Small transactions are one chunk; a transaction
//! larger than the configured chunk size is cut into several, and only its last chunk carries the
//! commit [`Position`]. Positions are therefore always transaction boundaries (invariant 2).

mod gtid;
mod row_image;

use std::fmt;
use std::sync::Arc;

pub use gtid::{Gtid, GtidParseError, GtidSet, MariadbGtid, MariadbGtidList, MysqlGtid, MysqlGtidSet, Uuid};
pub use row_image::{Cell, RowImage};

use crate::schema::TableSchema;

/// A place in a server's binlog: file name and byte offset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct BinlogPosition {
    pub file: String,
    pub offset: u64,
}

impl BinlogPosition {
    pub fn new(file: impl Into<String>, offset: u64) -> Self {
        Self { file: file.into(), offset }
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.offset)
    }
}

/// A resumable position: just after a committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Where the next transaction starts.
    pub binlog: BinlogPosition,
    /// Every GTID executed up to here (empty when the server does not use GTIDs).
    pub gtid_set: GtidSet,
    /// The GTID of the transaction that ends here, if it had one.
    pub last_gtid: Option<Gtid>,
    /// Server id of the event that ended the transaction.
    pub server_id: u32,
    /// Timestamp of that event, in ms since the epoch (second precision, as the binlog records it).
    pub timestamp_ms: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.binlog)?;
        if !self.gtid_set.is_empty() {
            write!(f, " gtid_set={}", self.gtid_set)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKind {
    Insert,
    Update,
    Delete,
}

impl RowKind {
    pub fn canal_name(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// One changed row: INSERT has only `after`, DELETE only `before`, UPDATE both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    pub before: Option<RowImage>,
    pub after: Option<RowImage>,
}

impl RowChange {
    /// Approximate memory held, for byte-bounded queues.
    pub fn size_bytes(&self) -> usize {
        size_of::<Self>() + [&self.before, &self.after].into_iter().flatten().map(RowImage::size_bytes).sum::<usize>()
    }
}

/// Where in the binlog a change was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOrigin {
    /// Start of the event.
    pub position: BinlogPosition,
    pub server_id: u32,
    /// Event timestamp, ms since the epoch.
    pub timestamp_ms: u64,
    /// Size of the event in bytes (header and checksum included).
    pub event_length: u32,
}

/// The rows of one rows event (one table, one kind of change).
#[derive(Debug, Clone)]
pub struct RowsChange {
    pub table: Arc<TableSchema>,
    pub kind: RowKind,
    pub rows: Vec<RowChange>,
    pub origin: EventOrigin,
    /// The binlog's id for the table (from TABLE_MAP).
    pub table_id: u64,
}

/// What a DDL statement did, in Canal's `EventType` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdlKind {
    Create,
    Alter,
    Erase,
    Truncate,
    Rename,
    CreateIndex,
    DropIndex,
    /// Any other statement that reaches the binlog as a QUERY (CREATE DATABASE, GRANT, …).
    Query,
}

impl DdlKind {
    pub fn canal_name(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Alter => "ALTER",
            Self::Erase => "ERASE",
            Self::Truncate => "TRUNCATE",
            Self::Rename => "RENAME",
            Self::CreateIndex => "CINDEX",
            Self::DropIndex => "DINDEX",
            Self::Query => "QUERY",
        }
    }
}

/// A schema change as Canal reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlChange {
    /// The schema the statement applies to (its qualifier, else the session's default schema).
    pub schema: String,
    /// The table it applies to ("" for schema-level statements).
    pub table: String,
    pub kind: DdlKind,
    pub sql: String,
    pub origin: EventOrigin,
}

#[derive(Debug, Clone)]
pub enum Change {
    Rows(RowsChange),
    Ddl(DdlChange),
}

impl Change {
    pub fn origin(&self) -> &EventOrigin {
        match self {
            Self::Rows(r) => &r.origin,
            Self::Ddl(d) => &d.origin,
        }
    }

    pub fn origin_mut(&mut self) -> &mut EventOrigin {
        match self {
            Self::Rows(r) => &mut r.origin,
            Self::Ddl(d) => &mut d.origin,
        }
    }
}

/// A transaction, or one piece of a transaction too large to hold at once.
#[derive(Debug, Clone)]
pub struct TransactionChunk {
    /// The transaction's GTID, if the server assigned one.
    pub gtid: Option<Gtid>,
    pub changes: Vec<Change>,
    /// Set on the last chunk of a transaction: the position right after its commit.
    pub commit: Option<Position>,
    /// Approximate memory held by `changes`, for byte-bounded queues.
    pub size_bytes: usize,
}
