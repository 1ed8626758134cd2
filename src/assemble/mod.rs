//! Transaction assembly: decoded binlog events in, [`TransactionChunk`]s out.
//!
//! The assembler tracks where it is in the binlog (file, offset, executed GTID set), groups the row
//! changes and DDL of each transaction, drops tables the destination does not capture, and cuts
//! transactions larger than `chunk_bytes` into chunks.
//!
//! # Invariants
//! - A chunk carries a commit [`Position`] only when it ends a transaction, and that position is the
//!   offset right after the transaction's last event with the GTID set including it: restarting there
//!   neither loses nor repeats part of a transaction. While an XA transaction is prepared and not yet
//!   settled, the position stays where it began (with the GTID set before it): a restart reads it
//!   again, and repeats the transactions after it (at least once), rather than losing it; one
//!   pending for long is reported (once), never settled or dropped by Sluice.
//! - An XA transaction's changes are emitted at its `XA COMMIT`, never at its XA PREPARE (an
//!   `XA ROLLBACK` may still undo them), with the XA COMMIT event as their origin, so origins
//!   follow publishing order; its memory is bounded by `xa_bytes`, an error beyond.
//! - Every transaction produces a final chunk, even when the filter removed all its changes, so the
//!   committed position follows the binlog.
//! - A DDL ends its transaction only outside BEGIN…COMMIT: a CREATE TABLE … SELECT is one group (the
//!   CREATE, its rows, the XID) and commits whole, so no committed position falls inside it. Outside
//!   BEGIN…COMMIT a statement is its own transaction, rows (MySQL 5.1's non-transactional tables)
//!   ending at their statement's last rows event; a transaction the next one cuts short (a server
//!   that stopped mid-write) is dropped with a warning, never merged or published.
//! - A rolled-back InnoDB transaction never reaches the binlog. A `BEGIN … ROLLBACK` group in the
//!   binlog holds changes to non-transactional tables that did happen, so it is emitted like a commit.
//! - A DML statement logged as a QUERY (a session running binlog_format=STATEMENT) on a captured
//!   table is an error: its rows cannot be captured and must not be skipped silently.
//!
//! # Error handling
//! Decode errors and shape mismatches are definite and name the event's position. Schema lookups
//! that fail on the network are transient ([`AssembleError::is_transient`]).

pub mod filter;

use std::sync::Arc;

pub use filter::{FilterError, TableFilter};

use crate::binlog::mariadb::AlterPhase;
use crate::binlog::payload::PayloadEvents;
use crate::binlog::value::RenderOptions;
use crate::binlog::xa::Xid;
use crate::binlog::{DecodeError, EventData, EventDecoder, EventError, EventHeader, EventType, RowsKind};
use crate::event::{
    BinlogPosition, Change, DdlChange, EventOrigin, Gtid, GtidSet, Position, RowChange, RowKind, RowsChange,
    TransactionChunk,
};
use crate::schema::ddl::{self, QualifiedName, Statement};
use crate::schema::journal::HistoryRecord;
use crate::schema::{Quoting, SchemaError, SchemaRegistry, foreign_keys, read_under_sql_mode};

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error(transparent)]
    Decode(#[from] EventError),
    #[error("at {position}: {source}")]
    Schema {
        position: BinlogPosition,
        #[source]
        source: SchemaError,
    },
    #[error(
        "at {position}: a DML statement on captured table {table} was logged as a statement, not as rows \
         (its session ran with binlog_format=STATEMENT or MIXED), so its row changes cannot be captured. \
         Statement: {sql}. Make every session use binlog_format=ROW, then resynchronise {table}"
    )]
    StatementDml { position: BinlogPosition, table: String, sql: String },
    #[error(
        "the start position {start} is inside a transaction that began at {began}: start at {began} or after \
         the transaction ends"
    )]
    StartInsideTransaction { start: BinlogPosition, began: BinlogPosition },
    #[error(
        "at {position}: XA transactions hold more than {limit} bytes of changes: Sluice keeps an XA \
         transaction's changes until its XA COMMIT (XA ROLLBACK may still undo them after XA PREPARE); \
         raise batch.xa_bytes"
    )]
    XaTooLarge { position: BinlogPosition, limit: usize },
    #[error(
        "at {position}: XA COMMIT {xid} commits a transaction prepared before the position Sluice started \
         from, so its changes (logged at its XA PREPARE) were not read: start from a position before that \
         XA PREPARE (mysqlbinlog or mariadb-binlog shows it), or from {next} to go on without them \
         (`sluice positions reset`, then source.start)"
    )]
    XaPreparedBeforeStart { position: BinlogPosition, xid: Xid, next: BinlogPosition },
}

impl AssembleError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Schema { source, .. } if source.is_transient())
    }
}

/// Where the assembler starts and what it already knows there.
#[derive(Debug, Clone, Default)]
pub struct StartState {
    /// The file the stream begins in, if known before its first ROTATE.
    pub file: String,
    /// The executed GTID set at the start. Empty = learn it from the file's GTID_LIST/PREVIOUS_GTIDS.
    pub gtid_set: GtidSet,
    /// Read events before this position only to learn the GTID set; emit from here on.
    pub skip_until: Option<BinlogPosition>,
    /// Skip transactions that began before this time (seconds since the epoch).
    pub skip_before_timestamp: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct AssemblerConfig {
    pub render: RenderOptions,
    pub filter: TableFilter,
    /// A transaction holding more than this many bytes of changes is emitted in chunks.
    pub chunk_bytes: usize,
    /// Emit DDL on captured tables as Canal DDL messages.
    pub emit_ddl: bool,
    /// What to do with DML logged as a statement.
    pub statement_dml: StatementDml,
    /// The most bytes of changes held for XA transactions (open or prepared) until their XA COMMIT.
    pub xa_bytes: usize,
    /// Events come over a replication connection, decrypted by the server (an encrypted binlog's
    /// START_ENCRYPTION is then only a marker), not from a file.
    pub replication: bool,
}

/// DML logged as a QUERY event (its session ran with binlog_format=STATEMENT or MIXED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementDml {
    /// Stop with an error naming the statement: its rows cannot be captured (the pipeline).
    Error,
    /// Pass the statement on as a QUERY change (tools that show what a binlog holds).
    Report,
}

/// The transaction being read.
#[derive(Debug)]
struct OpenTransaction {
    gtid: Option<Gtid>,
    changes: Vec<Change>,
    size_bytes: usize,
    /// Read only to track positions: it began before the configured start.
    skipped: bool,
    /// Opened by BEGIN (or a MariaDB non-standalone GTID): it ends at XID/COMMIT, not at the next
    /// statement.
    explicit: bool,
    /// Where it began: for error messages, and where to read a prepared XA transaction again.
    began: BinlogPosition,
    /// An XA transaction (XA START): held whole, not chunked, until it is settled.
    xa: bool,
    /// MariaDB's START ALTER or ROLLBACK ALTER group (`binlog_alter_two_phase`): its ALTER has not
    /// changed the table, and may never; the COMMIT ALTER group repeats it when it does.
    alter_without_effect: bool,
    /// Size of the last change, while it can still absorb the next rows event.
    last_rows_bytes: usize,
}

/// Consecutive rows events of one table and kind in a transaction (MySQL splits a statement into
/// events of `binlog_row_event_max_size`, 8 KiB by default) become one change up to this size, so
/// each becomes one message per partition instead of many small ones.
const MERGE_ROWS_BYTES: usize = 256 * 1024;

pub struct Assembler {
    decoder: EventDecoder,
    registry: SchemaRegistry,
    config: AssemblerConfig,
    /// The binlog file being read.
    file: String,
    gtid_set: GtidSet,
    skip_until: Option<BinlogPosition>,
    skip_before_timestamp: Option<u32>,
    open: Option<OpenTransaction>,
    /// XA transactions prepared and not yet committed or rolled back, oldest first.
    prepared: Vec<PreparedXa>,
    /// Fed but not yet decoded.
    pending: Option<Pending>,
}

/// An XA transaction between its XA PREPARE and its XA COMMIT or XA ROLLBACK.
struct PreparedXa {
    xid: Xid,
    changes: Vec<Change>,
    size_bytes: usize,
    /// Where it began and the GTID set there: the committed position while it is pending.
    resume: (BinlogPosition, GtidSet),
    /// Its XA PREPARE's timestamp (binlog time, seconds).
    prepared_at: u32,
    /// Whether it has been reported as pending for long.
    reported: bool,
}

/// Binlog time after which a transaction still prepared is reported (once): it holds the committed
/// position, so a restart reads everything after it again.
const XA_PENDING_REPORT_SECONDS: u32 = 60;

/// What [`Assembler::next_chunk`] still has to decode.
enum Pending {
    /// One raw event as fed.
    Event(Vec<u8>),
    /// The rest of a compressed transaction, inflated event by event; `outer` is the
    /// TRANSACTION_PAYLOAD event's header.
    Payload { events: PayloadEvents, outer: EventHeader },
}

impl Assembler {
    pub fn new(config: AssemblerConfig, registry: SchemaRegistry, start: StartState) -> Self {
        Self {
            decoder: if config.replication { EventDecoder::for_replication() } else { EventDecoder::new() },
            registry,
            config,
            file: start.file,
            gtid_set: start.gtid_set,
            skip_until: start.skip_until,
            skip_before_timestamp: start.skip_before_timestamp,
            open: None,
            prepared: Vec::new(),
            pending: None,
        }
    }

    /// The binlog file currently being read.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The events fed from now on are read from the file `name` (binlog files read one after
    /// another: the previous file's ROTATE names the next one, but a copy may be named otherwise).
    /// The schema history and the GTID set carry on.
    pub fn begin_file(&mut self, name: &str) {
        name.clone_into(&mut self.file);
    }

    /// XA transactions prepared and not yet committed or rolled back: their XIDs and where they
    /// began. Their changes are held, not emitted.
    pub fn prepared_xa(&self) -> impl Iterator<Item = (&Xid, &BinlogPosition)> {
        self.prepared.iter().map(|p| (&p.xid, &p.resume.0))
    }

    /// Changes to the schema history since the last call (see [`crate::schema::journal`]): they
    /// must be stored before any chunk decoded after them is committed.
    pub fn take_history_records(&mut self) -> Vec<HistoryRecord> {
        self.registry.take_unsaved()
    }

    /// Feed one raw event. Then call [`Assembler::next_chunk`] until it returns `None`: one event
    /// can complete several chunks (a compressed transaction holds all of its events).
    ///
    /// # Panics
    /// If the chunks of the previous event were not all taken: they would be lost.
    pub fn feed(&mut self, raw: Vec<u8>) {
        assert!(self.pending.is_none(), "Assembler::feed called before next_chunk returned None");
        self.pending = Some(Pending::Event(raw));
    }

    /// Decode what was fed until a chunk is complete; `None` once everything fed is consumed.
    pub async fn next_chunk(&mut self) -> Result<Option<TransactionChunk>, AssembleError> {
        loop {
            let (header, data) = match self.pending.take() {
                None => return Ok(None),
                Some(Pending::Event(raw)) => {
                    let header = EventHeader::parse(&raw).map_err(|e| self.event_error(None, EventType(0), e))?;
                    let event =
                        self.decoder.decode(raw).map_err(|e| self.event_error(Some(&header), header.event_type, e))?;
                    (header, event.data)
                }
                Some(Pending::Payload { mut events, outer }) => {
                    let in_payload = |this: &Self, e| this.event_error(Some(&outer), EventType::TRANSACTION_PAYLOAD, e);
                    let Some(raw) = events.next_event().map_err(|e| in_payload(self, e))? else {
                        continue;
                    };
                    let event = self.decoder.decode_embedded(raw).map_err(|e| in_payload(self, e))?;
                    // The payload event is where its events are: positions, sizes and commit offsets
                    // are the payload's.
                    let header = EventHeader { log_pos: outer.log_pos, event_size: outer.event_size, ..event.header };
                    self.pending = Some(Pending::Payload { events, outer });
                    (header, event.data)
                }
            };
            if let Some(chunk) = self.process(header, data).await? {
                return Ok(Some(chunk));
            }
        }
    }

    async fn process(
        &mut self,
        header: EventHeader,
        data: EventData,
    ) -> Result<Option<TransactionChunk>, AssembleError> {
        let header = &header;
        let reached_start = self.skip_until.as_ref().is_some_and(|until| {
            !header.is_artificial()
                && header.log_pos != 0
                && self.file == until.file
                && header.start_offset() >= until.offset
        });
        if reached_start
            && let Some(until) = self.skip_until.take()
            && let Some(open) = &self.open
        {
            return Err(AssembleError::StartInsideTransaction { start: until, began: open.began.clone() });
        }
        match data {
            EventData::TransactionPayload(payload) => {
                let events = payload
                    .into_events()
                    .map_err(|e| self.event_error(Some(header), EventType::TRANSACTION_PAYLOAD, e))?;
                self.pending = Some(Pending::Payload { events, outer: *header });
                Ok(None)
            }
            EventData::Rotate(rotate) => {
                self.file = rotate.next_file;
                Ok(None)
            }
            EventData::MariadbGtidList(list) => {
                if self.gtid_set.is_empty() {
                    self.gtid_set = GtidSet::Mariadb(list.into_iter().collect());
                }
                Ok(None)
            }
            EventData::PreviousGtids(set) => {
                if self.gtid_set.is_empty() {
                    self.gtid_set = set;
                }
                Ok(None)
            }
            EventData::MysqlGtid(g) => {
                // BEGIN follows for transactions; a DDL statement follows on its own.
                self.begin(header, g.gtid.map(Gtid::Mysql), false);
                Ok(None)
            }
            EventData::MariadbGtid(g) => {
                self.begin(header, Some(Gtid::Mariadb(g.gtid)), !g.is_standalone());
                if let Some(open) = &mut self.open {
                    open.xa = g.is_xa_prepare();
                    open.alter_without_effect =
                        matches!(g.alter_phase(), Some(AlterPhase::Start | AlterPhase::Rollback));
                }
                Ok(None)
            }
            EventData::Query(query) => self.query(header, query).await,
            EventData::TableMap(_) => Ok(None),
            EventData::Rows(rows) => {
                let ends_statement = rows.is_statement_end();
                self.rows(header, rows).await?;
                // Rows outside BEGIN…COMMIT (MySQL 5.1's non-transactional tables): the statement
                // is the transaction.
                if ends_statement && self.open.as_ref().is_some_and(|o| !o.explicit) {
                    return Ok(self.commit(header));
                }
                self.chunk_if_full(header)
            }
            EventData::Xid(_) | EventData::XaPrepare { one_phase: true, .. } => Ok(self.commit(header)),
            EventData::XaPrepare { one_phase: false, xid } => Ok(self.prepare(header, xid)),
            EventData::FormatDescription(fde) => {
                self.registry.set_server_version(&fde.server_version);
                Ok(None)
            }
            EventData::BinlogCheckpoint(_) | EventData::RowsQuery(_) | EventData::Heartbeat(_) | EventData::Ignored => {
                Ok(None)
            }
        }
    }

    fn origin(&self, header: &EventHeader) -> EventOrigin {
        EventOrigin {
            position: BinlogPosition::new(self.file.clone(), header.start_offset()),
            server_id: header.server_id,
            timestamp_ms: u64::from(header.timestamp) * 1000,
            event_length: header.event_size,
        }
    }

    fn event_error(&self, header: Option<&EventHeader>, event_type: EventType, source: DecodeError) -> AssembleError {
        let offset = header.map_or(0, EventHeader::start_offset);
        AssembleError::Decode(EventError {
            position: BinlogPosition::new(self.file.clone(), offset),
            event_type,
            source,
        })
    }

    fn begin(&mut self, header: &EventHeader, gtid: Option<Gtid>, explicit: bool) {
        if let Some(unended) = self.open.as_ref().filter(|open| !open.changes.is_empty() && !open.skipped) {
            // Only a server that stopped mid-write leaves a transaction without its XID/COMMIT.
            tracing::warn!(
                began = %unended.began,
                next = %BinlogPosition::new(self.file.clone(), header.start_offset()),
                "a transaction in the binlog has no end before the next one begins: it was not committed, \
                 and its changes are not published"
            );
        }
        let skipped = self.skip_until.is_some() || self.skip_before_timestamp.is_some_and(|t| header.timestamp < t);
        if !skipped {
            self.skip_before_timestamp = None;
        }
        self.open = Some(OpenTransaction {
            gtid,
            changes: Vec::new(),
            size_bytes: 0,
            skipped,
            explicit,
            began: BinlogPosition::new(self.file.clone(), header.start_offset()),
            xa: false,
            alter_without_effect: false,
            last_rows_bytes: 0,
        });
    }

    fn ensure_open(&mut self, header: &EventHeader) {
        if self.open.is_none() {
            self.begin(header, None, false);
        }
    }

    async fn query(
        &mut self,
        header: &EventHeader,
        query: crate::binlog::query::Query,
    ) -> Result<Option<TransactionChunk>, AssembleError> {
        if let Some((commits, xid)) = query.xa_settlement() {
            let xid = Xid::parse_sql(xid).ok_or_else(|| {
                let unreadable = DecodeError::Malformed(format!("cannot read the XA transaction id of: {}", query.sql));
                self.event_error(Some(header), header.event_type, unreadable)
            })?;
            return self.settle(header, xid, commits);
        }
        if query.is_begin() {
            // MySQL: GTID then BEGIN; without GTIDs BEGIN opens the transaction.
            match &mut self.open {
                Some(open) if open.changes.is_empty() => open.explicit = true,
                _ => self.begin(header, None, true),
            }
            if let Some(open) = &mut self.open {
                open.xa = query.is_xa_start();
            }
            return Ok(None);
        }
        if query.is_commit() || query.is_rollback() {
            return Ok(self.commit(header));
        }
        self.ensure_open(header);
        if self.open.as_ref().is_some_and(|o| o.alter_without_effect) {
            tracing::debug!(
                position = %self.origin(header).position,
                sql = %query.sql,
                "the start or rollback of a two-phase ALTER: the table changes at its COMMIT ALTER, if any"
            );
            return Ok(self.commit(header));
        }
        let sql_mode = read_under_sql_mode(&query.sql, query.sql_mode);
        let quoting = Quoting::of_sql_mode(sql_mode);
        let statement = ddl::classify_in(&query.sql, &query.schema, quoting);
        let skipped = self.open.as_ref().is_some_and(|o| o.skipped);
        match &statement {
            Statement::TableDdl { kind, tables } => {
                self.apply_ddl(header, &statement, &query, sql_mode).await?;
                let captured = tables.iter().find(|t| self.config.filter.matches(&t.schema, &t.table));
                if let Some(child) = tables.first().filter(|t| Some(*t) == captured && !skipped) {
                    self.warn_of_cascades(header, &query, quoting, child);
                }
                if let Some(table) = captured
                    && self.config.emit_ddl
                    && !skipped
                {
                    let change = Change::Ddl(DdlChange {
                        schema: table.schema.clone(),
                        table: table.table.clone(),
                        kind: *kind,
                        sql: query.sql.clone(),
                        origin: self.origin(header),
                    });
                    self.add_change(change, query.sql.len() + 256);
                }
            }
            Statement::SchemaDdl { .. } => self.apply_ddl(header, &statement, &query, sql_mode).await?,
            Statement::Dml { tables } => {
                let captured = if tables.is_empty() {
                    Some(format!("(unknown, in schema '{}')", query.schema))
                } else {
                    tables
                        .iter()
                        .find(|t| self.config.filter.matches(&t.schema, &t.table))
                        .map(|t| format!("{}.{}", t.schema, t.table))
                };
                if let Some(table) = captured
                    && !skipped
                {
                    if self.config.statement_dml == StatementDml::Report {
                        let first = tables.first();
                        let change = Change::Ddl(DdlChange {
                            schema: first.map_or_else(|| query.schema.clone(), |t| t.schema.clone()),
                            table: first.map(|t| t.table.clone()).unwrap_or_default(),
                            kind: crate::event::DdlKind::Query,
                            sql: query.sql.clone(),
                            origin: self.origin(header),
                        });
                        self.add_change(change, query.sql.len() + 256);
                    } else {
                        return Err(AssembleError::StatementDml {
                            position: self.origin(header).position,
                            table,
                            sql: query.sql.chars().take(500).collect(),
                        });
                    }
                }
            }
            Statement::TransactionControl | Statement::Other => {
                tracing::debug!(position = %self.origin(header).position, sql = %query.sql, "statement not captured");
            }
        }
        // A statement outside BEGIN…COMMIT is its own transaction. Inside one it leaves it open:
        // SAVEPOINT, … and the CREATE TABLE of a CREATE TABLE … SELECT, whose rows and XID follow
        // (BEGIN first on MySQL 5.x, a non-standalone GTID on MariaDB, `… START TRANSACTION` at
        // its end on MySQL 8.0.21+). Committing at it would commit a position inside the group.
        if let Some(open) = &mut self.open
            && query.ends_with_start_transaction()
        {
            open.explicit = true;
        }
        if !self.open.as_ref().is_some_and(|o| o.explicit) {
            return Ok(self.commit(header));
        }
        Ok(None)
    }

    async fn rows(&mut self, header: &EventHeader, rows: crate::binlog::RowsEvent) -> Result<(), AssembleError> {
        self.ensure_open(header);
        let rows_table_id = rows.table_id;
        let map = Arc::clone(
            self.decoder.table_map(rows.table_id).map_err(|e| self.event_error(Some(header), header.event_type, e))?,
        );
        if !self.config.filter.matches(&map.schema, &map.table) || self.open.as_ref().is_some_and(|o| o.skipped) {
            return Ok(());
        }
        let at = self.origin(header).position;
        let schema =
            self.registry.table(&map, &at).await.map_err(|source| AssembleError::Schema { position: at, source })?;
        let changed = rows
            .decode_rows(&schema.codecs, &self.config.render)
            .map_err(|e| self.event_error(Some(header), header.event_type, e))?;
        let kind = match rows.kind {
            RowsKind::Write => RowKind::Insert,
            RowsKind::Update => RowKind::Update,
            RowsKind::Delete => RowKind::Delete,
        };
        let size = 256 + changed.iter().map(RowChange::size_bytes).sum::<usize>();
        if let Some(open) = &mut self.open
            && let Some(Change::Rows(last)) = open.changes.last_mut()
            && Arc::ptr_eq(&last.table, &schema)
            && last.kind == kind
            && open.last_rows_bytes + size <= MERGE_ROWS_BYTES
        {
            last.rows.extend(changed);
            open.last_rows_bytes += size;
            open.size_bytes += size;
            return Ok(());
        }
        let change = Change::Rows(RowsChange {
            table: schema,
            kind,
            rows: changed,
            origin: self.origin(header),
            table_id: rows_table_id,
        });
        self.add_change(change, size);
        if let Some(open) = &mut self.open {
            open.last_rows_bytes = size;
        }
        Ok(())
    }

    /// Keep the schema history in step with a DDL statement read under `sql_mode` (also while
    /// skipping to the start position: later rows need the definitions it leaves).
    async fn apply_ddl(
        &mut self,
        header: &EventHeader,
        statement: &Statement,
        query: &crate::binlog::query::Query,
        sql_mode: Option<u64>,
    ) -> Result<(), AssembleError> {
        let at = self.origin(header).position;
        let filter = &self.config.filter;
        self.registry
            .apply_ddl(statement, query, sql_mode, &at, |schema, table| filter.matches(schema, table))
            .await
            .map_err(|source| AssembleError::Schema { position: at, source })
    }

    /// A DDL that gives a captured table a foreign key whose action changes its rows: those
    /// changes will not be in the binlog (see [`foreign_keys`]).
    fn warn_of_cascades(
        &self,
        header: &EventHeader,
        query: &crate::binlog::query::Query,
        quoting: Quoting,
        child: &QualifiedName,
    ) {
        let cascades = foreign_keys::declared_in(&query.sql, &query.schema, quoting, child);
        if let Some(finding) = foreign_keys::finding(&cascades) {
            tracing::warn!(position = %self.origin(header).position, fix = %finding.fix, "{}", finding.problem);
        }
    }

    fn add_change(&mut self, change: Change, size: usize) {
        if let Some(open) = &mut self.open {
            open.changes.push(change);
            open.size_bytes += size;
        }
    }

    /// A chunk of the open transaction when it has grown past `chunk_bytes`. An XA transaction
    /// stays whole (XA ROLLBACK may undo it after XA PREPARE), within `xa_bytes` with the prepared.
    fn chunk_if_full(&mut self, header: &EventHeader) -> Result<Option<TransactionChunk>, AssembleError> {
        let Some(open) = self.open.as_mut() else { return Ok(None) };
        if open.xa {
            let held = open.size_bytes + self.prepared.iter().map(|p| p.size_bytes).sum::<usize>();
            if held > self.config.xa_bytes {
                let position = BinlogPosition::new(self.file.clone(), header.start_offset());
                return Err(AssembleError::XaTooLarge { position, limit: self.config.xa_bytes });
            }
            return Ok(None);
        }
        if open.size_bytes < self.config.chunk_bytes {
            return Ok(None);
        }
        let changes = std::mem::take(&mut open.changes);
        let size_bytes = std::mem::take(&mut open.size_bytes);
        Ok(Some(TransactionChunk { gtid: open.gtid.clone(), changes, commit: None, size_bytes }))
    }

    /// XA PREPARE: the open transaction's changes wait for their XA COMMIT; the position stays at
    /// its start meanwhile.
    fn prepare(&mut self, header: &EventHeader, xid: Xid) -> Option<TransactionChunk> {
        if let Some(open) = self.open.as_mut().filter(|open| !open.skipped) {
            tracing::debug!(xid = %xid, began = %open.began, "XA transaction prepared; held until XA COMMIT");
            self.prepared.push(PreparedXa {
                xid,
                changes: std::mem::take(&mut open.changes),
                size_bytes: std::mem::take(&mut open.size_bytes),
                resume: (open.began.clone(), self.gtid_set.clone()),
                prepared_at: header.timestamp,
                reported: false,
            });
        }
        self.commit(header)
    }

    /// XA COMMIT (the prepared changes are this transaction's) or XA ROLLBACK (they are dropped).
    fn settle(
        &mut self,
        header: &EventHeader,
        xid: Xid,
        commits: bool,
    ) -> Result<Option<TransactionChunk>, AssembleError> {
        let prepared = self.prepared.iter().position(|p| p.xid == xid).map(|i| self.prepared.remove(i));
        self.ensure_open(header);
        let origin = self.origin(header);
        if let Some(open) = self.open.as_mut().filter(|open| commits && !open.skipped) {
            let Some(prepared) = prepared else {
                let position = BinlogPosition::new(self.file.clone(), header.start_offset());
                let next = BinlogPosition::new(self.file.clone(), u64::from(header.log_pos));
                return Err(AssembleError::XaPreparedBeforeStart { position, xid, next });
            };
            // They happen here: messages carry this event's position, which keeps positions in
            // publishing order (a new leader skips what its predecessor published by position).
            open.changes = prepared.changes;
            for change in &mut open.changes {
                *change.origin_mut() = origin.clone();
            }
            open.size_bytes = prepared.size_bytes;
        }
        Ok(self.commit(header))
    }

    /// Warn (once each) of XA transactions prepared more than [`XA_PENDING_REPORT_SECONDS`] of
    /// binlog time before `now`: binlog time, so catching up on old files warns of what really
    /// stayed pending, and an idle server (nothing after it to read again) does not.
    fn report_long_prepared(&mut self, now: u32) {
        for pending in self.prepared.iter_mut().filter(|p| !p.reported) {
            let seconds = now.saturating_sub(pending.prepared_at);
            if seconds >= XA_PENDING_REPORT_SECONDS {
                pending.reported = true;
                tracing::warn!(
                    xid = %pending.xid,
                    began = %pending.resume.0,
                    "XA transaction prepared {seconds} s ago (binlog time) is still neither committed nor rolled \
                     back: the committed position stays where it began, so a restart reads everything since \
                     again; settle it with XA COMMIT or XA ROLLBACK (XA RECOVER lists it)"
                );
            }
        }
    }

    /// End the open transaction at this event.
    fn commit(&mut self, header: &EventHeader) -> Option<TransactionChunk> {
        self.decoder.end_transaction();
        let open = self.open.take()?;
        if let Some(gtid) = &open.gtid {
            self.gtid_set.add(gtid);
        }
        if open.skipped {
            return None;
        }
        self.report_long_prepared(header.timestamp);
        let (binlog, gtid_set) = match self.prepared.first() {
            Some(pending) => pending.resume.clone(),
            None => (BinlogPosition::new(self.file.clone(), u64::from(header.log_pos)), self.gtid_set.clone()),
        };
        let position = Position {
            binlog,
            gtid_set,
            last_gtid: open.gtid.clone(),
            server_id: header.server_id,
            timestamp_ms: u64::from(header.timestamp) * 1000,
        };
        Some(TransactionChunk {
            gtid: open.gtid,
            changes: open.changes,
            commit: Some(position),
            size_bytes: open.size_bytes,
        })
    }
}
