//! Builds and caches [`TableSchema`]s for TABLE_MAP events.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::ddl::{QualifiedName, Statement};
use super::history::{
    ColumnDef, DdlContext, HistoryError, MARIADB_MODE_ORACLE, MODE_REAL_AS_FLOAT, SchemaHistory, TableDef,
    canonical_charset, charset_of_collation, is_hidden,
};
use super::journal::{HistoryRecord, compare_positions};
use super::keys::{self, HASH_COLUMN_PREFIX};
use super::sql::{Quoting, push_escaped};
use super::sql_type::{ColumnTypeStyle, as_server_shows, data_type_matches, derived_mysql_type, jdbc_type};
use super::{Column, TableSchema};
use crate::binlog::query::Query;
use crate::binlog::{BinaryTextForm, Charset, ColumnCodec, ColumnType, TableMap};
use crate::event::{BinlogPosition, DdlKind};
use crate::source::{ConnectOptions, Connection, Row, SourceError, server};

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("reading table definitions from information_schema: {0}")]
    Source(#[from] SourceError),
    #[error("table {table}: {problem}")]
    Mismatch { table: String, problem: String },
    #[error(transparent)]
    History(#[from] HistoryError),
}

impl SchemaError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Source(e) if e.is_transient())
    }
}

/// Table schemas by name, built from TABLE_MAPs and information_schema.
pub struct SchemaRegistry {
    /// How to reach the server for information_schema; `None` when decoding files offline.
    connect: Option<ConnectOptions>,
    /// Open connection for lookups; reopened after errors.
    conn: Option<Connection>,
    /// information_schema as it is now, dropped when DDL names the table; it supplies the
    /// declared type texts (`mysqlType`) of columns the history agrees on.
    info: HashMap<QualifiedName, Option<Arc<TableDef>>>,
    /// Tables as of the event being decoded: seeded from information_schema (a snapshot at a fresh
    /// start, else the first time a table is seen) or from CREATE TABLE, then kept in step with
    /// the binlog's DDL.
    history: SchemaHistory,
    /// Changes to `history` not yet taken for storage; `None` when the history is not persisted.
    unsaved: Option<Vec<HistoryRecord>>,
    /// The last TABLE_MAP seen per table and the schema built for it.
    tables: HashMap<QualifiedName, (Arc<TableMap>, Arc<TableSchema>)>,
    /// Collation id → charset, loaded on first need for ids the built-in table does not know.
    collations: Option<HashMap<u16, Charset>>,
    /// How the server writes declared types, for those not taken from its information_schema
    /// (from the history or derived from the binlog).
    column_types: ColumnTypeStyle,
    /// The server keeps long UNIQUE keys as hashes in hidden columns (MariaDB 10.4+; see keys).
    hashed_unique_keys: bool,
    /// After an initial snapshot, until the events pass the position the server had when it was
    /// read (see [`SchemaRegistry::snapshot`]).
    settling: Option<Settling>,
    /// The server stores database and table names in lower case (`lower_case_table_names=1`), so
    /// DDL names tables in a case its TABLE_MAPs do not: asked of the server on the first DDL,
    /// given for files.
    lower_case_names: Option<bool>,
}

/// An initial snapshot is taken at the start position but read a moment later: a DDL on a
/// snapshot table between the two may or may not be in it already.
struct Settling {
    /// The server's position once the snapshot was read.
    settled: BinlogPosition,
    tables: HashSet<QualifiedName>,
}

impl SchemaRegistry {
    /// A registry that reads information_schema through its own connection.
    pub fn connected(connect: ConnectOptions) -> Self {
        Self { connect: Some(connect), ..Self::offline() }
    }

    /// A registry with only what TABLE_MAP events say (for binlog files).
    pub fn offline() -> Self {
        Self {
            connect: None,
            conn: None,
            info: HashMap::new(),
            history: SchemaHistory::default(),
            unsaved: None,
            tables: HashMap::new(),
            collations: None,
            column_types: ColumnTypeStyle::default(),
            hashed_unique_keys: false,
            settling: None,
            lower_case_names: None,
        }
    }

    /// For files: whether the server that wrote them ran with `lower_case_table_names=1`.
    pub fn with_lower_case_names(mut self, lower_case_names: bool) -> Self {
        self.lower_case_names = Some(lower_case_names);
        self
    }

    /// Start from a stored history (as of the start position) and record every change to it for
    /// [`SchemaRegistry::take_unsaved`].
    pub fn with_history(mut self, history: SchemaHistory) -> Self {
        self.history = history;
        self.unsaved = Some(Vec::new());
        self
    }

    /// Changes to the history since the last call, to be stored before the position passes them.
    pub fn take_unsaved(&mut self) -> Vec<HistoryRecord> {
        self.unsaved.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn record(&mut self, record: impl FnOnce() -> HistoryRecord) {
        if let Some(unsaved) = &mut self.unsaved {
            unsaved.push(record());
        }
    }

    /// Seed the history, for a run that starts at `at`, the server's current position (a fresh
    /// start), with every captured base table as information_schema describes it now and every
    /// database's default charset — the history before `at`, so they are stored as base records.
    /// Until the events pass the server's position after these reads, a DDL on a snapshot table
    /// may already be in the snapshot: it untracks the table instead of being applied. Returns
    /// the number of tables.
    pub async fn snapshot(
        &mut self,
        captured: impl Fn(&str, &str) -> bool,
        at: &BinlogPosition,
    ) -> Result<usize, SchemaError> {
        const SYSTEM: &str = "('mysql', 'information_schema', 'performance_schema', 'sys')";
        let Some(tables) = self.read_tables(&format!("TABLE_SCHEMA NOT IN {SYSTEM}"), captured).await? else {
            return Ok(0);
        };
        let schemata = self
            .lookup(&format!(
                "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA \
                 WHERE SCHEMA_NAME NOT IN {SYSTEM}"
            ))
            .await?
            .unwrap_or_default();
        let settled = self.current_position().await?;

        for row in &schemata.rows {
            let (Some(schema), Some(charset)) = (row.text(0), row.text(1)) else { continue };
            let charset = canonical_charset(&charset);
            self.history.set_schema_charset(schema.clone(), charset.clone());
            self.record(|| HistoryRecord::BaseCharset { at: at.clone(), schema, charset });
        }
        let count = tables.len();
        for (name, definition) in &tables {
            self.history.track(name.clone(), definition.clone());
            self.info.insert(name.clone(), Some(Arc::new(definition.clone())));
            self.record(|| HistoryRecord::BaseTable {
                at: at.clone(),
                schema: name.schema.clone(),
                table: name.table.clone(),
                definition: definition.clone(),
            });
        }
        self.settling = Some(Settling { settled, tables: tables.into_keys().collect() });
        Ok(count)
    }

    /// The server's binlog position now.
    async fn current_position(&mut self) -> Result<BinlogPosition, SchemaError> {
        let Some(conn) = self.connection().await? else {
            return Err(SchemaError::Source(SourceError::Config("no server to ask for its position".into())));
        };
        match server::current_position(conn).await {
            Ok((position, _)) => Ok(position),
            Err(e) => {
                self.conn = None;
                Err(e.into())
            }
        }
    }

    /// The server that wrote the binlog (its FORMAT_DESCRIPTION's version), for the declared
    /// types this registry makes up.
    pub fn set_server_version(&mut self, version: &str) {
        self.column_types = ColumnTypeStyle::of_server(version);
        self.hashed_unique_keys = keys::server_hashes_unique_keys(version);
    }

    /// The schema for the table a TABLE_MAP (at `at`) describes.
    pub async fn table(&mut self, map: &Arc<TableMap>, at: &BinlogPosition) -> Result<Arc<TableSchema>, SchemaError> {
        let name = QualifiedName { schema: map.schema.clone(), table: map.table.clone() };
        if let Some((cached_map, schema)) = self.tables.get(&name)
            && cached_map.columns == map.columns
            && cached_map.metadata == map.metadata
        {
            return Ok(Arc::clone(schema));
        }
        let current = self.info_table(&name).await?;
        if !self.history.is_tracked(&name)
            && let Some(current) = &current
        {
            self.history.track(name.clone(), (**current).clone());
            self.record(|| HistoryRecord::Track {
                at: at.clone(),
                schema: name.schema.clone(),
                table: name.table.clone(),
                definition: (**current).clone(),
            });
        }
        let tracked = self.history.get(&name).cloned();
        let schema = Arc::new(self.build(map, tracked.as_ref(), current.as_deref()).await?);
        self.tables.insert(name, (Arc::clone(map), Arc::clone(&schema)));
        Ok(schema)
    }

    /// Apply a DDL statement (of the QUERY event at `at`): the schema history follows it, cached
    /// lookups it may have changed are dropped. A DDL that cannot be applied is an error when it
    /// names a `captured` table; a table not captured is forgotten instead (looked up again should
    /// its rows ever be wanted), so it cannot stop the capture of the others. `sql_mode` is the
    /// mode the statement was read under ([`super::read_under_sql_mode`]).
    pub async fn apply_ddl(
        &mut self,
        statement: &Statement,
        query: &Query,
        sql_mode: Option<u64>,
        at: &BinlogPosition,
        captured: impl Fn(&str, &str) -> bool,
    ) -> Result<(), SchemaError> {
        let lower_case_names = self.lower_case_names().await?;
        let folded;
        let statement = if lower_case_names {
            folded = statement.with_lower_case_names();
            &folded
        } else {
            statement
        };
        if self.snapshot_may_hold(statement, at) {
            // Let information_schema describe these tables again when their rows arrive.
            self.invalidate(statement);
            self.untrack_named(statement, at);
            return Ok(());
        }
        if let Statement::TableDdl { kind: DdlKind::Create, tables } = statement {
            for name in tables {
                self.track_schema_charset(&name.schema, at).await?;
            }
        }
        self.invalidate(statement);
        if !matches!(statement, Statement::TableDdl { .. } | Statement::SchemaDdl { .. }) {
            return Ok(());
        }
        let mode = |bit: u64| sql_mode.is_some_and(|mode| mode & bit != 0);
        // MariaDB's sql_mode=ORACLE changes what some type names mean (MySQL 5.7's ORACLE does not).
        let oracle_types = self.column_types == ColumnTypeStyle::Mariadb && mode(MARIADB_MODE_ORACLE);
        let (quoting, real_as_float) = (Quoting::of_sql_mode(sql_mode), mode(MODE_REAL_AS_FLOAT));
        let context =
            DdlContext { server_charset: query.server_charset, oracle_types, quoting, real_as_float, lower_case_names };
        match self.history.apply_in(&query.sql, &query.schema, context) {
            Ok(()) => self.record(|| HistoryRecord::Ddl {
                at: at.clone(),
                default_schema: query.schema.clone(),
                sql: query.sql.clone(),
                server_charset: query.server_charset.map(str::to_owned),
                oracle_types,
                no_backslash_escapes: quoting.no_backslash_escapes,
                ansi_quotes: quoting.ansi_quotes,
                real_as_float,
                lower_case_names,
            }),
            Err(e) => match statement {
                Statement::TableDdl { tables, .. } if !tables.iter().any(|t| captured(&t.schema, &t.table)) => {
                    tracing::warn!(position = %at, error = %e, "the schema history forgets a table that is not captured");
                    self.untrack_named(statement, at);
                }
                _ => return Err(e.into()),
            },
        }
        Ok(())
    }

    /// Whether the server stores names in lower case; asked once (a server setting fixed when
    /// its data directory was made). Files and a server that cannot say: no.
    async fn lower_case_names(&mut self) -> Result<bool, SchemaError> {
        if let Some(known) = self.lower_case_names {
            return Ok(known);
        }
        let setting = self.lookup("SELECT @@lower_case_table_names").await?;
        let known = setting.and_then(|rs| rs.rows.first()?.text(0)).is_some_and(|v| v.trim() == "1");
        self.lower_case_names = Some(known);
        Ok(known)
    }

    /// Untrack the tables a table DDL names.
    fn untrack_named(&mut self, statement: &Statement, at: &BinlogPosition) {
        let Statement::TableDdl { tables, .. } = statement else { return };
        for name in tables {
            if self.history.untrack(name) {
                self.record(|| HistoryRecord::Untrack {
                    at: at.clone(),
                    schema: name.schema.clone(),
                    table: name.table.clone(),
                });
            }
        }
    }

    /// Whether a table DDL at `at` names a table of the initial snapshot that may already hold it
    /// (see [`SchemaRegistry::snapshot`]). Ends the settling once the events pass it.
    fn snapshot_may_hold(&mut self, statement: &Statement, at: &BinlogPosition) -> bool {
        let Some(settling) = &self.settling else { return false };
        if compare_positions(at, &settling.settled) != Some(Ordering::Less) {
            self.settling = None;
            return false;
        }
        matches!(statement, Statement::TableDdl { tables, .. } if tables.iter().any(|t| settling.tables.contains(t)))
    }

    /// A table created without a character set in a database the history has not seen created
    /// takes that database's default: information_schema's, the best there is (an ALTER DATABASE
    /// between this event and now is not seen). A database gone from the server keeps the server's.
    async fn track_schema_charset(&mut self, schema: &str, at: &BinlogPosition) -> Result<(), SchemaError> {
        if self.history.schema_charset(schema).is_some() {
            return Ok(());
        }
        let sql = format!(
            "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
            quote(schema)
        );
        let Some(charset) = self.lookup(&sql).await?.and_then(|rs| rs.rows.first()?.text(0)) else {
            return Ok(());
        };
        let charset = canonical_charset(&charset);
        self.history.set_schema_charset(schema.to_owned(), charset.clone());
        self.record(|| HistoryRecord::TrackSchema { at: at.clone(), schema: schema.to_owned(), charset });
        Ok(())
    }

    /// Forget what a DDL statement may have changed.
    fn invalidate(&mut self, statement: &Statement) {
        match statement {
            Statement::TableDdl { tables, .. } => {
                for name in tables {
                    self.info.remove(name);
                    self.tables.remove(name);
                }
            }
            Statement::SchemaDdl { schema, .. } => {
                self.info.retain(|name, _| &name.schema != schema);
                self.tables.retain(|name, _| &name.schema != schema);
            }
            _ => {}
        }
    }

    async fn connection(&mut self) -> Result<Option<&mut Connection>, SchemaError> {
        let Some(options) = &self.connect else { return Ok(None) };
        if self.conn.is_none() {
            self.conn = Some(Connection::connect(options).await?);
        }
        Ok(self.conn.as_mut())
    }

    /// Run a lookup, dropping the connection if it failed so the next lookup reconnects.
    async fn lookup(&mut self, sql: &str) -> Result<Option<crate::source::ResultSet>, SchemaError> {
        let Some(conn) = self.connection().await? else { return Ok(None) };
        match conn.query(sql).await {
            Ok(rs) => Ok(Some(rs)),
            Err(e) => {
                self.conn = None;
                Err(e.into())
            }
        }
    }

    /// The tables (not views) information_schema lists where `filter` (SQL on TABLE_SCHEMA and
    /// TABLE_NAME) holds and `captured` accepts, as it describes them now; `None` offline. Three
    /// plain queries joined here: MariaDB answers a join of information_schema tables by opening
    /// every table once per row of the other (seconds for a few thousand tables). A table dropped
    /// between the queries (no columns) is left out.
    async fn read_tables(
        &mut self,
        filter: &str,
        captured: impl Fn(&str, &str) -> bool,
    ) -> Result<Option<HashMap<QualifiedName, TableDef>>, SchemaError> {
        let Some(listed) = self
            .lookup(&format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION, TABLE_TYPE, ENGINE FROM information_schema.TABLES \
                 WHERE TABLE_TYPE NOT IN ('VIEW', 'SYSTEM VIEW') AND {filter}"
            ))
            .await?
        else {
            return Ok(None);
        };
        let mut tables = HashMap::new();
        for row in &listed.rows {
            let (Some(schema), Some(table)) = (row.text(0), row.text(1)) else { continue };
            if captured(&schema, &table) {
                let def = TableDef {
                    charset: row.text(2).as_deref().and_then(charset_of_collation),
                    // Until a declared ROW START column is seen.
                    implicit_row_period: row.text(3).as_deref() == Some("SYSTEM VERSIONED"),
                    engine: row.text(4),
                    ..TableDef::default()
                };
                tables.insert(QualifiedName { schema, table }, def);
            }
        }
        if tables.is_empty() {
            return Ok(Some(tables));
        }
        // Only the databases that hold captured tables.
        let schemas: HashSet<&str> = tables.keys().map(|name| name.schema.as_str()).collect();
        let schemas: Vec<String> = schemas.into_iter().map(quote).collect();
        let filter = format!("{filter} AND TABLE_SCHEMA IN ({})", schemas.join(", "));
        let columns = self
            .lookup(&format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, {COLUMN_FIELDS} FROM information_schema.COLUMNS WHERE {filter} \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
            ))
            .await?
            .unwrap_or_default();
        let keys = self
            .lookup(&format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, INDEX_NAME, NON_UNIQUE, SUB_PART, INDEX_TYPE \
                 FROM information_schema.STATISTICS WHERE {filter} \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            ))
            .await?
            .unwrap_or_default();
        // Versioned tables (MariaDB 10.3+) with a declared ROW START column list their period
        // columns; asked only when there are some (GENERATION_EXPRESSION is missing before 10.2).
        let declared_periods = if tables.values().any(|def| def.implicit_row_period) {
            self.lookup(&format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.COLUMNS \
                 WHERE GENERATION_EXPRESSION = 'ROW START' AND {filter}"
            ))
            .await?
            .unwrap_or_default()
        } else {
            Default::default()
        };
        for row in &declared_periods.rows {
            if let Some(def) = row_table(&mut tables, row) {
                def.implicit_row_period = false;
            }
        }
        for row in &columns.rows {
            if let Some(def) = row_table(&mut tables, row) {
                def.columns.push(column_def(row, 2));
            }
        }
        for row in &keys.rows {
            let Some(def) = row_table(&mut tables, row) else { continue };
            match (row.text(3), row.text(2)) {
                (Some(index), Some(column)) if index == "PRIMARY" => def.primary_key.push(column),
                (Some(index), column) => {
                    let unique = row.text(4).as_deref() == Some("0");
                    let sub_part = row.text(5).and_then(|n| n.parse().ok());
                    keys::listed(def, index, unique, column, sub_part, &row.text(6).unwrap_or_default());
                }
                (None, _) => {}
            }
        }
        tables.retain(|_, def| !def.columns.is_empty());
        Ok(Some(tables))
    }

    async fn info_table(&mut self, name: &QualifiedName) -> Result<Option<Arc<TableDef>>, SchemaError> {
        if let Some(cached) = self.info.get(name) {
            return Ok(cached.clone());
        }
        let filter = format!("TABLE_SCHEMA = {} AND TABLE_NAME = {}", quote(&name.schema), quote(&name.table));
        let Some(mut tables) = self.read_tables(&filter, |_, _| true).await? else {
            return Ok(None);
        };
        let table = tables.remove(name).map(Arc::new);
        self.info.insert(name.clone(), table.clone());
        Ok(table)
    }

    async fn resolve_charset(&mut self, charset: Charset) -> Result<Charset, SchemaError> {
        let Charset::Other(id) = charset else { return Ok(charset) };
        if self.collations.is_none() {
            let rows = self.lookup("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS").await?;
            let map = rows
                .map(|rs| {
                    rs.rows
                        .iter()
                        .filter_map(|r| Some((r.text(0)?.parse().ok()?, Charset::from_name(&r.text(1)?))))
                        .collect()
                })
                .unwrap_or_default();
            self.collations = Some(map);
        }
        Ok(self.collations.as_ref().and_then(|m| m.get(&id).copied()).unwrap_or(charset))
    }

    /// `info` is the table as of this event (the history), `current` information_schema now.
    async fn build(
        &mut self,
        map: &TableMap,
        info: Option<&TableDef>,
        current: Option<&TableDef>,
    ) -> Result<TableSchema, SchemaError> {
        let full_name = format!("{}.{}", map.schema, map.table);
        let mismatch = |problem: String| SchemaError::Mismatch { table: full_name.clone(), problem };
        let mut codecs = map.codecs();
        for codec in &mut codecs {
            codec.charset = self.resolve_charset(codec.charset).await?;
        }
        let hashes = self.hashed_unique_keys;
        let info_columns = info.map(|def| def.row_columns(hashes));
        let current_columns = current.map(|def| def.row_columns(hashes));
        let (names, primary_key) = match (&map.metadata.column_names, info) {
            (Some(names), _) => {
                let key = match (&map.metadata.primary_key, info) {
                    // MariaDB keys rows by the implicit row_end too; information_schema does not.
                    (Some(key), Some(info)) if info.implicit_row_period => {
                        key.iter().copied().filter(|&i| i + 1 != names.len()).collect()
                    }
                    (Some(key), _) => key.clone(),
                    (None, Some(info)) => positions(names, &info.primary_key),
                    (None, None) => Vec::new(),
                };
                (names.clone(), key)
            }
            (None, Some(info)) => {
                // No names in the binlog: information_schema must describe exactly these columns.
                let info_columns = info_columns.as_deref().unwrap_or_default();
                if info_columns.len() != map.columns.len() {
                    // MariaDB's long UNIQUE keys add a hidden BIGINT column per key (see keys).
                    let (shorter, longer) = if map.columns.len() > info_columns.len() {
                        (info_columns.len(), codecs.iter().map(ColumnCodec::real_type).collect::<Vec<_>>())
                    } else {
                        (map.columns.len(), info_columns.iter().map(|c| hash_column_type(&c.name)).collect())
                    };
                    let hidden_hash = if hashes && longer[shorter..].iter().all(|&t| t == ColumnType::LONGLONG) {
                        " (or the schema history judged differently from the server which of its UNIQUE keys MariaDB \
                         keeps as hashes, in hidden columns the binlog carries without names: a key on a TEXT/BLOB \
                         column, too long for a B-tree, or declared USING HASH)"
                    } else {
                        ""
                    };
                    return Err(mismatch(format!(
                        "the binlog event has {} columns but the table's definition here (from information_schema or \
                         the binlog's DDL) lists {}: the table changed after this event was written{hidden_hash}, and \
                         without binlog_row_metadata=FULL the event cannot be mapped to column names; set \
                         binlog_row_metadata=FULL on the server",
                        map.columns.len(),
                        info_columns.len()
                    )));
                }
                for (i, (codec, column)) in codecs.iter_mut().zip(info_columns).enumerate() {
                    if !is_hidden(column) && !data_type_matches(&column.data_type, codec) {
                        return Err(mismatch(format!(
                            "column {} ({}) is {} in the table's definition here but {} in the binlog: the table changed \
                             after this event was written; set binlog_row_metadata=FULL on the server",
                            i + 1,
                            column.name,
                            column.column_type,
                            codec.real_type().name()
                        )));
                    }
                    fill_from_info(codec, column);
                }
                let names: Vec<String> = info_columns.iter().map(|c| c.name.clone()).collect();
                let key = positions(&names, &info.primary_key);
                (names, key)
            }
            (None, None) if self.connect.is_some() => {
                return Err(mismatch(
                    "the binlog event does not name its columns (binlog_row_metadata is not FULL), the schema history \
                     does not hold the table and information_schema does not list it: it was dropped or renamed after \
                     this event, and Sluice started from a position after its CREATE TABLE; set \
                     binlog_row_metadata=FULL on the server, or start from a position before the table's CREATE TABLE"
                        .into(),
                ));
            }
            (None, None) => {
                // Offline without names: positional names, as mysqlbinlog prints them.
                ((1..=map.columns.len()).map(|i| format!("@{i}")).collect(), Vec::new())
            }
        };
        // What only the declared type tells: a binary CHAR declared UUID/INET4/INET6 (MariaDB)
        // renders as the text the server shows; a TIME/DATETIME/TIMESTAMP of MariaDB's pre-10.3
        // format (the binlog's old type codes) has the declared fractional digits; a FLOAT(M,D) or
        // DOUBLE(M,D) shows D decimals.
        let mut undeclared_old_temporal = Vec::new();
        for (codec, name) in codecs.iter_mut().zip(&names) {
            let declared = || {
                [&info_columns, &current_columns]
                    .into_iter()
                    .find_map(|columns| columns.as_deref()?.iter().find(|c| &c.name == name))
            };
            match codec.real_type() {
                ColumnType::STRING => {
                    codec.text_form = declared().and_then(|c| BinaryTextForm::of_data_type(&c.data_type));
                }
                ColumnType::FLOAT | ColumnType::DOUBLE => {
                    codec.fixed_decimals = declared().and_then(|c| declared_scale(&c.column_type));
                }
                ColumnType::TIME | ColumnType::DATETIME | ColumnType::TIMESTAMP => {
                    codec.meta = declared().map_or(0, |c| declared_fsp(&c.column_type));
                    if declared().is_none() {
                        undeclared_old_temporal.push(format!("{name} ({})", codec.real_type().name()));
                    }
                }
                _ => {}
            }
        }
        // MySQL's old temporal types never have fractional digits; MariaDB's may.
        if !undeclared_old_temporal.is_empty() && self.column_types == ColumnTypeStyle::Mariadb {
            tracing::warn!(
                table = %full_name,
                columns = %undeclared_old_temporal.join(", "),
                "columns of MariaDB's pre-10.3 temporal format, whose fractional digits only their declared type \
                 gives, and none is known (the table's CREATE is not in the binlog read, nor the table on the \
                 server): they are decoded as without fractional digits; if a row then fails to decode, read \
                 the binlog from the file holding the table's CREATE, or from the server while the table exists"
            );
        }
        // Columns the server hides (MariaDB's hashes of long UNIQUE keys, MySQL's functional key
        // parts): decoded only to be passed over. A table's own column of such a name is not.
        let declares =
            |name: &str| [info, current].into_iter().flatten().any(|d| d.columns.iter().any(|c| c.name == name));
        for (codec, name) in codecs.iter_mut().zip(&names) {
            codec.hidden = name.starts_with("!hidden!")
                || (hashes
                    && name.starts_with(HASH_COLUMN_PREFIX)
                    && codec.real_type() == ColumnType::LONGLONG
                    && !declares(name));
        }
        // ENUM/SET labels the binlog lacked (MINIMAL metadata) come from the declared type.
        if let Some(info_columns) = &info_columns {
            for (codec, name) in codecs.iter_mut().zip(&names) {
                if codec.labels.is_none()
                    && matches!(codec.real_type(), ColumnType::ENUM | ColumnType::SET)
                    && let Some(column) = info_columns.iter().find(|c| &c.name == name)
                {
                    codec.labels = parse_labels(&column.column_type).map(|labels| {
                        labels.iter().map(|label| stored_label(label, column.charset.as_deref())).collect()
                    });
                }
            }
        }
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let codec = &codecs[i];
                let same_column = |columns: Option<&[ColumnDef]>| {
                    columns
                        .and_then(|columns| columns.iter().find(|c| &c.name == name))
                        .filter(|c| data_type_matches(&c.data_type, codec))
                        .map(|c| c.column_type.clone())
                };
                let declared = same_column(current_columns.as_deref()).unwrap_or_else(|| {
                    let made_up = same_column(info_columns.as_deref()).unwrap_or_else(|| derived_mysql_type(codec));
                    as_server_shows(&made_up, self.column_types)
                });
                Column {
                    name: name.clone(),
                    mysql_type: declared,
                    sql_type: jdbc_type(codec),
                    is_key: primary_key.contains(&i),
                    nullable: map.columns[i].nullable,
                }
            })
            .collect();
        Ok(TableSchema { schema: map.schema.clone(), table: map.table.clone(), columns, codecs, primary_key })
    }
}

/// LONGLONG for a hash column the history added (see [`TableDef::row_columns`]), else nothing alike.
fn hash_column_type(name: &str) -> ColumnType {
    if name.starts_with(HASH_COLUMN_PREFIX) { ColumnType::LONGLONG } else { ColumnType::NULL }
}

/// The information_schema.COLUMNS fields a [`ColumnDef`] is read from, in [`column_def`]'s order.
const COLUMN_FIELDS: &str = "COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, CHARACTER_SET_NAME";

/// A column from [`COLUMN_FIELDS`] starting at field `first` of `row`.
fn column_def(row: &Row, first: usize) -> ColumnDef {
    ColumnDef {
        name: row.text(first).unwrap_or_default(),
        column_type: row.text(first + 1).unwrap_or_default(),
        data_type: row.text(first + 2).unwrap_or_default(),
        charset: row.text(first + 3),
    }
}

/// The table of an information_schema row that starts with TABLE_SCHEMA and TABLE_NAME.
fn row_table<'a>(tables: &'a mut HashMap<QualifiedName, TableDef>, row: &Row) -> Option<&'a mut TableDef> {
    let (Some(schema), Some(table)) = (row.text(0), row.text(1)) else { return None };
    tables.get_mut(&QualifiedName { schema, table })
}

/// The fractional digits of a declared `time(3)` / `datetime(6)` / `timestamp(2)` (0 without).
fn declared_fsp(column_type: &str) -> u16 {
    let digits = column_type.split_once('(').and_then(|(_, rest)| rest.split_once(')')).map(|(inside, _)| inside);
    digits.and_then(|d| d.parse().ok()).filter(|&fsp| fsp <= 6).unwrap_or(0)
}

/// The D of `float(M,D)` / `double(M,D)` (a plain `float` or `double` has none).
fn declared_scale(column_type: &str) -> Option<u8> {
    let inside = column_type.split_once('(')?.1.split_once(')')?.0;
    inside.split_once(',')?.1.trim().parse().ok()
}

/// Indexes of `key` names within `names`.
fn positions(names: &[String], key: &[String]) -> Vec<usize> {
    key.iter().filter_map(|k| names.iter().position(|n| n.eq_ignore_ascii_case(k))).collect()
}

fn fill_from_info(codec: &mut crate::binlog::ColumnCodec, column: &ColumnDef) {
    let declared = column.column_type.to_ascii_lowercase();
    codec.unsigned = declared.contains("unsigned");
    let real = codec.real_type();
    if real.is_character() {
        codec.charset = column.charset.as_deref().map_or(Charset::Binary, Charset::from_name);
    } else if real.is_enum_or_set() {
        codec.charset = column.charset.as_deref().map_or(Charset::Utf8, Charset::from_name);
    }
}

/// An ENUM/SET label as the server stores it in a column of `charset`: a character the set has
/// no code for becomes `?` (measured on MariaDB 10.11: `ENUM('中')` in latin1 is `'?'`, a 4-byte
/// character in utf8mb3 too). A DDL in the binlog states labels as the client wrote them.
fn stored_label(label: &str, charset: Option<&str>) -> String {
    let charset = charset.unwrap_or("binary").to_ascii_lowercase();
    let holds = |c: char| match charset.as_str() {
        "utf8" | "utf8mb3" => c <= '\u{ffff}',
        "ascii" => c.is_ascii(),
        name => Charset::from_name(name).holds(c),
    };
    label.chars().map(|c| if holds(c) { c } else { '?' }).collect()
}

/// Labels of `enum('a','b')` / `set('x','y')`; quotes inside labels are doubled.
pub(super) fn parse_labels(column_type: &str) -> Option<Vec<String>> {
    let open = column_type.find('(')?;
    let inner = column_type[open + 1..].strip_suffix(')')?;
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut label = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                Some('\'') | None => break,
                Some('\\') => {
                    if let Some(escaped) = chars.next() {
                        push_escaped(&mut label, escaped);
                    }
                }
                Some(other) => label.push(other),
            }
        }
        labels.push(label);
    }
    Some(labels)
}

/// A SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_labels_read_back_as_the_server_keeps_them() {
        // information_schema's COLUMN_TYPE (MariaDB 10.11): quotes doubled; backslash, NUL, LF and
        // CR as backslash sequences; the rest raw.
        let shown = "enum('x',' y','a''b','c\\\\d','tab\t','nl\\n','pct\\\\%','nul\\0')";
        let labels = ["x", " y", "a'b", "c\\d", "tab\t", "nl\n", "pct\\%", "nul\0"];
        assert_eq!(parse_labels(shown).unwrap(), labels);
        // The same labels from a DDL in the binlog: trailing spaces go, backslash sequences are read.
        let mut history = SchemaHistory::default();
        let ddl = r"CREATE TABLE t (e ENUM('x  ', ' y', 'a\'b', 'c\\d', 'tab\t', 'nl\n', 'pct\%', 'nul\0'))";
        history.apply(ddl, "db").unwrap();
        let def = history.get(&QualifiedName { schema: "db".into(), table: "t".into() }).unwrap();
        assert_eq!(def.columns[0].column_type, shown);
    }

    #[test]
    fn labels_keep_only_what_their_charset_holds() {
        assert_eq!(stored_label("中é€x😀", Some("latin1")), "?é€x?");
        assert_eq!(stored_label("中é€x😀", Some("utf8mb3")), "中é€x?");
        assert_eq!(stored_label("中é€x😀", Some("utf8mb4")), "中é€x😀");
        assert_eq!(stored_label("中é€x😀", Some("ascii")), "???x?");
        assert_eq!(stored_label("Ÿ€x", Some("latin2")), "??x");
        assert_eq!(stored_label("жé€x", Some("cp1251")), "ж?€x");
        // Multi-byte sets keep what they are given (MariaDB makes big5's é, € and 丂 `?`).
        assert_eq!(stored_label("中é€丂x", Some("big5")), "中é€丂x");
        assert_eq!(stored_label("中x", None), "中x");
    }

    #[test]
    fn enum_labels_with_quotes_and_commas() {
        assert_eq!(parse_labels("enum('a','it''s','x,y')").unwrap(), vec!["a", "it's", "x,y"]);
        assert_eq!(parse_labels("set('')").unwrap(), vec![""]);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("o'k\\"), "'o''k\\\\'");
    }

    fn query(sql: &str) -> Query {
        Query {
            thread_id: 1,
            exec_time_s: 0,
            error_code: 0,
            schema: "s".into(),
            sql: sql.into(),
            ddl_xid: None,
            server_charset: None,
            sql_mode: None,
        }
    }

    /// A DDL the history cannot apply stops the run for a captured table (its rows would decode
    /// under stale names) but only forgets a table that is not captured.
    #[tokio::test]
    async fn a_ddl_that_cannot_be_applied_stops_only_for_captured_tables() {
        let at = BinlogPosition::new("bin.000002", 100);
        let mut history = SchemaHistory::default();
        history.apply("CREATE TABLE kept (id INT PRIMARY KEY)", "s").unwrap();
        history.apply("CREATE TABLE other (id INT PRIMARY KEY)", "s").unwrap();
        let mut registry = SchemaRegistry::offline().with_history(history);
        let captured = |_: &str, table: &str| table == "kept";
        for table in ["kept", "other"] {
            let sql = format!("ALTER TABLE {table} DROP COLUMN nope");
            let statement = super::super::ddl::classify(&sql, "s");
            let result = registry.apply_ddl(&statement, &query(&sql), None, &at, captured).await;
            match table {
                "kept" => assert!(matches!(result, Err(SchemaError::History(_))), "{result:?}"),
                _ => result.unwrap(),
            }
        }
        let name = |table: &str| QualifiedName { schema: "s".into(), table: table.into() };
        assert!(registry.history.is_tracked(&name("kept")));
        assert!(!registry.history.is_tracked(&name("other")));
        let records = registry.take_unsaved();
        assert!(matches!(&records[..], [HistoryRecord::Untrack { table, .. }] if table == "other"), "{records:?}");
    }

    /// While the snapshot settles, a DDL on a snapshot table untracks it (the snapshot may hold
    /// it already); other tables' DDL, and every DDL once past the settled position, is applied.
    #[tokio::test]
    async fn ddl_on_a_snapshot_table_before_it_settled_untracks_it() {
        let at = |offset: u64| BinlogPosition::new("bin.000002", offset);
        let name = |table: &str| QualifiedName { schema: "s".into(), table: table.into() };
        let mut history = SchemaHistory::default();
        history.apply("CREATE TABLE t (id INT PRIMARY KEY)", "s").unwrap();
        history.apply("CREATE TABLE u (id INT PRIMARY KEY)", "s").unwrap();
        let mut registry = SchemaRegistry::offline().with_history(history);
        registry.settling = Some(Settling { settled: at(500), tables: [name("t")].into() });
        let mut ddl = async |sql: &str, offset: u64| {
            let statement = super::super::ddl::classify(sql, "s");
            registry.apply_ddl(&statement, &query(sql), None, &at(offset), |_, _| true).await.unwrap();
        };
        ddl("ALTER TABLE t ADD COLUMN c INT", 100).await;
        ddl("ALTER TABLE u ADD COLUMN c INT", 200).await;
        ddl("CREATE TABLE t (id INT PRIMARY KEY, d INT)", 600).await;
        ddl("ALTER TABLE t ADD COLUMN e INT", 700).await;
        let columns = |table: &str| -> Vec<String> {
            registry.history.get(&name(table)).map(|d| d.columns.iter().map(|c| c.name.clone()).collect()).unwrap()
        };
        assert_eq!(columns("u"), ["id", "c"]);
        assert_eq!(columns("t"), ["id", "d", "e"], "tracked again from its CREATE, past the settled position");
        assert!(registry.settling.is_none());
        let records = registry.take_unsaved();
        assert!(matches!(&records[0], HistoryRecord::Untrack { table, at: a, .. } if table == "t" && *a == at(100)));
        assert!(matches!(&records[1], HistoryRecord::Ddl { sql, .. } if sql.starts_with("ALTER TABLE u")));
    }
}
