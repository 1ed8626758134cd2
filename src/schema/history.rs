//! Schema history: table definitions kept in step with the binlog by applying its DDL, so rows
//! written before a DDL are decoded with the columns of their time (`binlog_row_metadata=MINIMAL`
//! carries no names, signedness, charsets or ENUM labels).
//!
//! A [`TableDef`] has the shape information_schema gives (name, `COLUMN_TYPE`, `DATA_TYPE`,
//! charset per column, primary key). Tables enter the history from information_schema (all
//! captured tables at a fresh start, or one the first time it is seen) or from CREATE TABLE in the
//! binlog; every later DDL naming them is applied
//! here: CREATE (incl. `LIKE`), ALTER (ADD/DROP/MODIFY/CHANGE/RENAME COLUMN with FIRST/AFTER and
//! IF [NOT] EXISTS, in the server's order of operations: [`super::alter`]; primary key changes,
//! other keys and ENGINE (for MariaDB's hashed UNIQUE keys: [`super::keys`]), RENAME TO, CONVERT
//! TO CHARACTER SET, ADD/DROP SYSTEM VERSIONING), CREATE/DROP INDEX, OPTIMIZE, DROP,
//! RENAME (multi-table), TRUNCATE, DROP DATABASE; MariaDB's `SET STATEMENT … FOR` prefix is read
//! past.
//!
//! # Invariants
//! - A DDL on a tracked table that cannot be parsed is an error naming the statement: decoding on
//!   with a stale definition could put values under the wrong names (the registry stops the run
//!   for a captured table and forgets one that is not captured).
//! - A DDL on an untracked table changes nothing (logged at debug).
//! - A character column declared without a character set has its table's; a table created
//!   without one has its database's (CREATE/ALTER DATABASE in the binlog, or information_schema's
//!   for a database older than the history), else the server default the DDL's event records.
//! - A MariaDB system-versioned table without declared period columns has `row_start` and
//!   `row_end` after its other columns in every row ([`TableDef::row_columns`]), as
//!   information_schema does not list them.
//! - `CREATE TABLE … SELECT` without a column list, whose columns cannot be known from the
//!   statement, makes the table untracked (information_schema describes it next time).

use std::borrow::Cow;
use std::collections::HashMap;

use super::alter::{self, ColumnClause, Definition, Position};
use super::ddl::QualifiedName;
use super::keys::{self, DeclaredKey, HASH_COLUMN_PREFIX, KeyDef};
use super::sql::{Lexer, Parser, Quoting, Token};
use super::sql_type::MARIADB_COMPRESSED;

/// A table as information_schema describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableDef {
    pub columns: Vec<ColumnDef>,
    /// Primary key column names in key order.
    pub primary_key: Vec<String>,
    /// The table's default character set, when a DDL said it (new columns inherit it).
    pub charset: Option<String>,
    /// MariaDB system versioning with implicit period columns: `row_start` and `row_end`
    /// (`timestamp(6)`), which information_schema does not list and rows carry after every other
    /// column. Versioning with declared `ROW START`/`ROW END` columns has them in `columns`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit_row_period: bool,
    /// Indexes other than the primary key (for MariaDB's long UNIQUE keys: see [`keys`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyDef>,
    /// `ENGINE=` as the table's last DDL gave it (`None`: the server's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
}

impl TableDef {
    /// The columns in the order row events carry them: with the implicit period columns, and on
    /// MariaDB (`mariadb`) a hidden `DB_ROW_HASH_n` BIGINT per UNIQUE key kept as a hash.
    pub fn row_columns(&self, mariadb: bool) -> Cow<'_, [ColumnDef]> {
        let hashes = if mariadb { keys::hash_columns(self) } else { 0 };
        if !self.implicit_row_period && hashes == 0 {
            return Cow::Borrowed(&self.columns);
        }
        let hidden = |name: String, column_type: &str, data_type: &str| ColumnDef {
            name,
            column_type: column_type.into(),
            data_type: data_type.into(),
            charset: None,
        };
        let period = ["row_start", "row_end"]
            .into_iter()
            .filter(|_| self.implicit_row_period)
            .map(|name| hidden(name.into(), "timestamp(6)", "timestamp"));
        let hashes = (1..=hashes).map(|n| hidden(format!("{HASH_COLUMN_PREFIX}{n}"), "bigint(20)", "bigint"));
        Cow::Owned(self.columns.iter().cloned().chain(period).chain(hashes).collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnDef {
    pub name: String,
    /// Like `COLUMN_TYPE`: `varchar(20)`, `int unsigned`, `enum('a','b')`.
    pub column_type: String,
    /// Like `DATA_TYPE`: `varchar`, `int`, `enum`.
    pub data_type: String,
    /// Character set of character columns (`None` for binary and non-character columns).
    pub charset: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot apply DDL to tracked table {table}: {problem}. Statement: {sql}")]
pub struct HistoryError {
    pub table: String,
    pub problem: String,
    pub sql: String,
}

/// Tracked tables by name.
#[derive(Debug, Default, Clone)]
pub struct SchemaHistory {
    tables: HashMap<QualifiedName, TableDef>,
    /// Default character set of each schema, as far as CREATE/ALTER DATABASE said.
    schema_charsets: HashMap<String, String>,
}

impl SchemaHistory {
    pub fn get(&self, name: &QualifiedName) -> Option<&TableDef> {
        self.tables.get(name)
    }

    /// Start tracking a table as information_schema describes it now.
    pub fn track(&mut self, name: QualifiedName, table: TableDef) {
        self.tables.insert(name, table);
    }

    /// Stop tracking a table (information_schema describes it next time); whether it was tracked.
    pub fn untrack(&mut self, name: &QualifiedName) -> bool {
        self.tables.remove(name).is_some()
    }

    /// Every tracked table.
    pub fn tables(&self) -> impl Iterator<Item = (&QualifiedName, &TableDef)> {
        self.tables.iter()
    }

    /// Default character set of each schema, as far as CREATE/ALTER DATABASE said.
    pub fn schema_charsets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.schema_charsets.iter().map(|(schema, charset)| (schema.as_str(), charset.as_str()))
    }

    /// The default character set of a schema, if the history knows it.
    pub fn schema_charset(&self, schema: &str) -> Option<&str> {
        self.schema_charsets.get(schema).map(String::as_str)
    }

    /// What a table of `schema` gets when its DDL names no character set: the schema's default,
    /// else the server's (`server_charset`, the event's), else utf8mb4.
    fn inherited_charset(&self, schema: &str, server_charset: Option<&str>) -> String {
        self.schema_charset(schema).or(server_charset).unwrap_or("utf8mb4").to_owned()
    }

    pub fn set_schema_charset(&mut self, schema: String, charset: String) {
        self.schema_charsets.insert(schema, charset);
    }

    pub fn is_tracked(&self, name: &QualifiedName) -> bool {
        self.tables.contains_key(name)
    }

    /// Apply one statement of a QUERY event; `default_schema` is the event's schema.
    pub fn apply(&mut self, sql: &str, default_schema: &str) -> Result<(), HistoryError> {
        self.apply_in(sql, default_schema, DdlContext::default())
    }

    /// [`apply`](Self::apply) for a statement run in `context` (what its QUERY event says).
    pub fn apply_in(&mut self, sql: &str, default_schema: &str, context: DdlContext<'_>) -> Result<(), HistoryError> {
        let mut lexer = Lexer::quoting(sql, context.quoting);
        let first = lexer.first_word();
        let tokens: Vec<Token> = lexer.collect();
        let mut p = Parser::new(&tokens, default_schema).folding_names(context.lower_case_names);
        let result = self.statement(&first, &mut p, context);
        result.map_err(|(table, problem)| HistoryError { table, problem, sql: sql.chars().take(1000).collect() })
    }

    /// A statement starting with `first` (its other tokens in `p`).
    fn statement(&mut self, first: &str, p: &mut Parser<'_>, context: DdlContext<'_>) -> Result<(), (String, String)> {
        match first {
            "CREATE" => {
                p.skip_words(&["OR", "REPLACE", "ONLINE", "OFFLINE"]);
                if p.eat_word("TEMPORARY") {
                    return Ok(()); // not logged in row format, never holds captured rows
                }
                match p.word().as_str() {
                    "TABLE" => {
                        let start = p.at;
                        if let Err((table, problem)) = self.create_table(p, context) {
                            // A table we did not know: untrack it rather than fail; it is looked up
                            // in information_schema when its rows arrive.
                            p.at = start;
                            p.skip_if_not_exists();
                            self.tables.remove(&p.name());
                            tracing::debug!(%table, %problem, "CREATE TABLE not understood; table left untracked");
                        }
                        Ok(())
                    }
                    kind @ ("UNIQUE" | "INDEX" | "FULLTEXT" | "SPATIAL") => {
                        self.create_index(kind == "UNIQUE", p);
                        Ok(())
                    }
                    "SEQUENCE" => {
                        let if_not_exists = p.skip_if_not_exists();
                        let name = p.name();
                        if !(if_not_exists && self.tables.contains_key(&name)) {
                            self.tables.insert(name, sequence_table());
                        }
                        Ok(())
                    }
                    "DATABASE" | "SCHEMA" => {
                        let if_not_exists = p.skip_if_not_exists();
                        let schema = p.database();
                        // Without a character set of its own it takes the server's; IF NOT EXISTS
                        // leaves a database already known as it was.
                        if let Some(charset) = context.server_charset {
                            let known = self.schema_charsets.entry(schema.clone());
                            if if_not_exists {
                                known.or_insert_with(|| charset.to_owned());
                            } else {
                                known.insert_entry(charset.to_owned());
                            }
                        }
                        self.database_options(p, schema, context);
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            "ALTER" => {
                p.skip_words(&["ONLINE", "OFFLINE", "IGNORE"]);
                match p.word().as_str() {
                    "TABLE" => self.alter_table(p, context),
                    "DATABASE" | "SCHEMA" => {
                        let schema = p.altered_database();
                        self.database_options(p, schema, context);
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            "DROP" => {
                if p.eat_word("TEMPORARY") {
                    return Ok(()); // a session's own table, even where it shadows a tracked one
                }
                p.skip_words(&["ONLINE", "OFFLINE"]);
                match p.word().as_str() {
                    "TABLE" | "TABLES" | "SEQUENCE" => {
                        p.skip_if_exists();
                        loop {
                            let name = p.name();
                            self.tables.remove(&name);
                            if !p.eat(",") {
                                return Ok(());
                            }
                        }
                    }
                    "INDEX" => {
                        p.skip_if_exists();
                        let index = p.ident();
                        p.skip_past_word("ON");
                        if let Some(def) = self.tables.get_mut(&p.name()) {
                            keys::drop(def, &index);
                            keys::rebuilt(def, Vec::new());
                        }
                        Ok(())
                    }
                    "DATABASE" | "SCHEMA" => {
                        p.skip_if_exists();
                        let schema = p.database();
                        self.tables.retain(|n, _| n.schema != schema);
                        self.schema_charsets.remove(&schema);
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            "RENAME" => {
                if !p.eat_word("TABLE") && !p.eat_word("TABLES") {
                    return Ok(());
                }
                p.skip_if_exists();
                loop {
                    let from = p.name();
                    p.skip_lock_wait();
                    p.expect_word("TO").map_err(|e| (from.to_string(), e))?;
                    let to = p.name();
                    if let Some(def) = self.tables.remove(&from) {
                        self.tables.insert(to, def);
                    }
                    if !p.eat(",") {
                        return Ok(());
                    }
                }
            }
            // InnoDB rebuilds the table (keys are judged anew: see keys).
            "OPTIMIZE" => {
                p.skip_words(&["NO_WRITE_TO_BINLOG", "LOCAL"]);
                p.skip_words(&["TABLE", "TABLES"]);
                for name in p.names(usize::MAX) {
                    if let Some(def) = self.tables.get_mut(&name)
                        && def.engine.as_deref().is_none_or(|e| e.eq_ignore_ascii_case("InnoDB"))
                    {
                        keys::rebuilt(def, Vec::new());
                    }
                }
                Ok(())
            }
            // TRUNCATE keeps the definition; everything else does not change columns.
            _ => Ok(()),
        }
    }

    /// `CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX [IF NOT EXISTS] name [USING type] ON table (part, …)
    /// [options]` (`p` after UNIQUE, FULLTEXT, SPATIAL or INDEX).
    fn create_index(&mut self, unique: bool, p: &mut Parser<'_>) {
        let using_hash = keys::says_using_hash(p.rest());
        p.eat_word("INDEX");
        let if_not_exists = p.skip_if_not_exists();
        let name = Some(p.ident());
        p.skip_past_word("ON");
        let table = p.name();
        let Some(def) = self.tables.get_mut(&table) else {
            tracing::debug!(%table, "CREATE INDEX on a table the schema history does not track");
            return;
        };
        let key = keys::with_parts(p, DeclaredKey { name, unique, parts: Vec::new(), using_hash, if_not_exists });
        keys::rebuilt(def, key.into_iter().collect());
    }

    /// CREATE/ALTER DATABASE options: remember the default character set new tables inherit.
    fn database_options(&mut self, p: &Parser<'_>, schema: String, context: DdlContext<'_>) {
        if let Some(charset) = table_charset_option(&p.tokens[p.at..], context.server_charset) {
            self.schema_charsets.insert(schema, charset);
        }
    }

    fn create_table(&mut self, p: &mut Parser<'_>, context: DdlContext<'_>) -> Result<(), (String, String)> {
        let if_not_exists = p.skip_if_not_exists();
        let name = p.name();
        if if_not_exists && self.tables.contains_key(&name) {
            return Ok(());
        }
        let table = name.to_string();
        let like = |this: &mut Self, p: &mut Parser<'_>| {
            let source = p.name();
            match this.tables.get(&source).cloned() {
                Some(mut def) => {
                    keys::rebuilt(&mut def, Vec::new());
                    this.tables.insert(name.clone(), def)
                }
                None => this.tables.remove(&name),
            };
        };
        if p.eat_word("LIKE") {
            like(self, p);
            return Ok(());
        }
        if !p.eat("(") {
            // CREATE TABLE t SELECT …: the columns come from the query.
            self.tables.remove(&name);
            return Ok(());
        }
        if p.eat_word("LIKE") {
            like(self, p);
            return Ok(());
        }
        let items = p.until_close().map_err(|e| (table.clone(), e))?;
        let options = &p.tokens[p.at..];
        let inherited = self.inherited_charset(&name.schema, context.server_charset);
        let table_charset = table_charset_option(options, Some(&inherited)).unwrap_or(inherited);
        let mut def = TableDef {
            charset: Some(table_charset.clone()),
            implicit_row_period: adds_implicit_row_period(p.tokens),
            engine: engine_option(options),
            ..TableDef::default()
        };
        let mut declared = Vec::new();
        for item in split_top_level(items) {
            table_item(&mut def, item, DefaultCharsets::of_table(&table_charset), context, &mut declared)
                .map_err(|e| (table.clone(), e))?;
        }
        for item in split_top_level(items) {
            key_period_end(&mut def, item);
        }
        key_as_columns(&mut def);
        keys::rebuilt(&mut def, declared);
        if def.columns.is_empty() {
            return Err((table, "no column definitions found".into()));
        }
        // CREATE TABLE t (extra columns) SELECT …: the query adds columns we cannot know.
        if options.iter().any(|t| t.is_word("SELECT")) {
            self.tables.remove(&name);
            return Ok(());
        }
        self.tables.insert(name, def);
        Ok(())
    }

    fn alter_table(&mut self, p: &mut Parser<'_>, context: DdlContext<'_>) -> Result<(), (String, String)> {
        p.skip_if_exists();
        let mut name = p.name();
        let old_name = name.clone();
        let Some(mut def) = self.tables.get(&name).cloned() else {
            tracing::debug!(table = %name, "DDL on a table the schema history does not track");
            return Ok(());
        };
        let table = name.to_string();
        let fail = |e: String| (table.clone(), e);
        p.skip_lock_wait();
        let rest = &p.tokens[p.at..];
        // The table's character set as the statement leaves it, whichever clause sets it: every
        // column the statement (re)defines without one takes it. CONVERT TO CHARACTER SET then
        // converts every character column (see below).
        let inherited = self.inherited_charset(&name.schema, context.server_charset);
        let (mut stated, mut convert_to) = (None, None);
        for spec in split_top_level(rest) {
            let mut s = p.nested(spec);
            match s.word().as_str() {
                "DEFAULT" | "CHARACTER" | "CHARSET" | "COLLATE" => {
                    stated = table_charset_option(spec, Some(&inherited)).or(stated);
                }
                "CONVERT" if s.eat_word("TO") => {
                    let charset = table_charset_option(&spec[s.at..], Some(&inherited))
                        .ok_or_else(|| fail("CONVERT TO without a character set".into()))?;
                    convert_to = Some(charset);
                }
                _ => {}
            }
        }
        // A stated DEFAULT CHARACTER SET is the table's even beside CONVERT TO, in either order.
        def.charset = stated.or_else(|| convert_to.clone()).or(def.charset);
        let table_charset = def.charset.clone().unwrap_or(inherited);
        let charsets = DefaultCharsets { table: &table_charset, convert_to: convert_to.as_deref() };
        // The key a conditional clause declares (ADD … IF NOT EXISTS, MODIFY … IF EXISTS, ADD
        // PRIMARY KEY IF NOT EXISTS) is made if and only if the table had none, even if this
        // statement drops that one, and even if the clause's column is left out.
        let had_key = !def.primary_key.is_empty();
        // Tables MariaDB's CONVERT PARTITION creates (with the columns the table has) or CONVERT
        // TABLE … TO PARTITION absorbs.
        let (mut created, mut absorbed) = (Vec::new(), Vec::new());
        let mut clauses = Vec::new();
        // DROP PRIMARY KEY drops the key the table had, whatever the order with ADD PRIMARY KEY.
        let (mut key_dropped, mut key_added) = (false, None);
        // Added columns declaring ROW END, which joins the primary key.
        let mut period_ends = Vec::new();
        // Other keys: declared (in the order written), dropped, renamed. The table is rebuilt (see
        // keys) when a clause other than RENAME TO is said without IF [NOT] EXISTS or with FIRST or
        // AFTER, or the conditional ones change something.
        let (mut declared, mut dropped_keys, mut renamed_keys) = (Vec::new(), Vec::new(), Vec::new());
        let mut rebuilds = false;
        let before = (def.columns.clone(), def.primary_key.clone(), def.keys.clone());
        for spec in split_top_level(rest) {
            let mut s = p.nested(spec);
            let verb = s.word();
            let renames_table =
                verb == "RENAME" && !s.at_words(&["COLUMN"]) && !s.at_words(&["INDEX"]) && !s.at_words(&["KEY"]);
            let conditional =
                spec.windows(2).any(|w| w[0].is_word("IF") && (w[1].is_word("EXISTS") || w[1].is_word("NOT")));
            // A FIRST/AFTER rebuilds even when its clause is left out (measured).
            let positioned = split_position(spec).1 != Position::Keep;
            rebuilds |= !renames_table && (!conditional || positioned);
            match verb.as_str() {
                "ADD" if s.at_words(&["SYSTEM", "VERSIONING"]) => {
                    def.implicit_row_period = adds_implicit_row_period(rest);
                }
                "DROP" if s.at_words(&["SYSTEM", "VERSIONING"]) => def.implicit_row_period = false,
                "ADD" => {
                    s.eat_word("COLUMN");
                    let conditional = s.skip_if_not_exists();
                    let items = if s.eat("(") { s.until_close().map_err(fail)? } else { &spec[s.at..] };
                    for item in split_top_level(items) {
                        let (body, position) = split_position(item);
                        let mut added = TableDef { columns: Vec::new(), primary_key: Vec::new(), ..def.clone() };
                        let keys_before = declared.len();
                        table_item(&mut added, body, charsets, context, &mut declared).map_err(fail)?;
                        // A column's own UNIQUE key shares its IF NOT EXISTS.
                        for key in &mut declared[keys_before..] {
                            key.if_not_exists |= conditional;
                        }
                        if !added.primary_key.is_empty() && !(had_key && (conditional || has_if_not_exists(body))) {
                            key_added = Some(added.primary_key);
                        }
                        period_ends.push(body);
                        for column in added.columns {
                            let position = position.clone();
                            let added = Definition { column, redefines: None, position, conditional };
                            clauses.push(ColumnClause::Define(added));
                        }
                    }
                }
                "DROP" => {
                    if s.eat_word("PRIMARY") {
                        key_dropped = true;
                        continue;
                    }
                    if s.eat_word("INDEX") || s.eat_word("KEY") || s.eat_word("CONSTRAINT") {
                        s.skip_if_exists();
                        dropped_keys.push(s.ident());
                        continue;
                    }
                    if matches!(s.peek_word().as_str(), "FOREIGN" | "CHECK" | "PARTITION")
                        || s.at_words(&["PERIOD", "FOR"])
                    {
                        continue;
                    }
                    s.eat_word("COLUMN");
                    let if_exists = s.skip_if_exists();
                    clauses.push(ColumnClause::Drop { name: s.ident(), if_exists });
                }
                "MODIFY" | "CHANGE" => {
                    s.eat_word("COLUMN");
                    let conditional = s.skip_if_exists();
                    let old = if verb == "CHANGE" { Some(s.ident()) } else { None };
                    let (body, position) = split_position(&spec[s.at..]);
                    let column = column_def(body, charsets, context).map_err(fail)?;
                    if declares_primary_key(body) && !(had_key && conditional) {
                        key_added = Some(vec![column.name.clone()]);
                    }
                    // A column's own UNIQUE key shares its IF EXISTS, as IF NOT EXISTS.
                    declared.extend(keys::column_unique_key(body, &column.name).map(|mut key| {
                        key.if_not_exists |= conditional;
                        key
                    }));
                    let redefines = Some(old.unwrap_or_else(|| column.name.clone()));
                    clauses.push(ColumnClause::Define(Definition { column, redefines, position, conditional }));
                }
                "RENAME" => {
                    if s.eat_word("COLUMN") {
                        let if_exists = s.skip_if_exists();
                        let old = s.ident();
                        s.expect_word("TO").map_err(fail)?;
                        clauses.push(ColumnClause::Rename { old, new: s.ident(), if_exists });
                    } else if s.eat_word("INDEX") || s.eat_word("KEY") {
                        let old = s.ident();
                        s.expect_word("TO").map_err(fail)?;
                        renamed_keys.push((old, s.ident()));
                    } else {
                        s.skip_words(&["TO", "AS"]);
                        name = s.name();
                    }
                }
                "CONVERT" if s.eat_word("PARTITION") => {
                    s.ident();
                    s.expect_word("TO").map_err(fail)?;
                    s.expect_word("TABLE").map_err(fail)?;
                    created.push(s.name());
                }
                "CONVERT" if s.eat_word("TABLE") => absorbed.push(s.name()),
                // ALTER COLUMN SET/DROP DEFAULT, ALTER INDEX, ORDER BY, partitioning: the columns
                // and keys stay as they are.
                "ALTER" | "ORDER" | "PARTITION" => {}
                // Table options (the character set is read above), ALGORITHM/LOCK, FORCE.
                _ => def.engine = engine_option(spec).or(def.engine.take()),
            }
        }
        let reshaped = alter::reshape(&def.columns, clauses).map_err(fail)?;
        if key_dropped {
            def.primary_key.clear();
        }
        def.primary_key = key_added.unwrap_or_else(|| alter::follow_key(&def.primary_key, &reshaped));
        // ADD … IF NOT EXISTS is weighed against the keys the table had, as columns are.
        declared.retain(|key: &DeclaredKey| !(key.if_not_exists && keys::has(&def, key.checked_name())));
        for name in dropped_keys {
            keys::drop(&mut def, &name);
        }
        keys::rename(&mut def, &renamed_keys);
        let old_columns = std::mem::take(&mut def.columns);
        def.columns = reshaped
            .iter()
            .map(|r| match &convert_to {
                // Columns the statement (re)defines have their character set from the definition.
                Some(charset) if !r.defined => converted(r.column.clone(), charset),
                _ => r.column.clone(),
            })
            .collect();
        keys::follow_columns(&mut def, &old_columns, &reshaped);
        for body in period_ends {
            key_period_end(&mut def, body);
        }
        key_as_columns(&mut def);
        let (columns_before, key_before, keys_before) = &before;
        let changed = *columns_before != def.columns || *key_before != def.primary_key || *keys_before != def.keys;
        if rebuilds || changed || !declared.is_empty() {
            keys::rebuilt(&mut def, declared);
        }
        for table in absorbed {
            self.tables.remove(&table);
        }
        for table in created {
            self.tables.insert(table, def.clone());
        }
        self.tables.remove(&old_name);
        self.tables.insert(name, def);
        Ok(())
    }
}

/// A MariaDB sequence (CREATE SEQUENCE): a table of these columns, as information_schema lists them,
/// whose row NEXTVAL writes when it takes a new cache of values.
fn sequence_table() -> TableDef {
    let columns = [
        ("next_not_cached_value", "bigint(21)", "bigint"),
        ("minimum_value", "bigint(21)", "bigint"),
        ("maximum_value", "bigint(21)", "bigint"),
        ("start_value", "bigint(21)", "bigint"),
        ("increment", "bigint(21)", "bigint"),
        ("cache_size", "bigint(21) unsigned", "bigint"),
        ("cycle_option", "tinyint(1) unsigned", "tinyint"),
        ("cycle_count", "bigint(21)", "bigint"),
    ];
    let columns = columns
        .map(|(name, column_type, data_type)| ColumnDef {
            name: name.into(),
            column_type: column_type.into(),
            data_type: data_type.into(),
            charset: None,
        })
        .into();
    TableDef { columns, ..TableDef::default() }
}

/// Split a trailing `FIRST` / `AFTER col` off a column definition (its name, type, attributes).
/// `AFTER first` names a column called `first`, so AFTER is looked for before FIRST; neither can
/// be the definition's name or type (`CHANGE a after INT` renames `a` to `after`), nor a column
/// of a key (`ADD INDEX (after)`).
fn split_position(tokens: &[Token]) -> (&[Token], Position) {
    const NAME_AND_TYPE: usize = 2;
    let n = tokens.len();
    if n >= NAME_AND_TYPE + 2 && tokens[n - 2].is_word("AFTER") && !tokens[n - 1].punct() {
        return (&tokens[..n - 2], Position::After(tokens[n - 1].text.clone()));
    }
    if n > NAME_AND_TYPE && tokens[n - 1].is_word("FIRST") {
        return (&tokens[..n - 1], Position::First);
    }
    (tokens, Position::Keep)
}

/// What a statement's QUERY event says about how the server read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DdlContext<'a> {
    /// The server's default character set (collation_server): what a database created without
    /// one gets, and so the tables created in it without one. Unknown: utf8mb4, MySQL 8's default.
    pub server_charset: Option<&'a str>,
    /// It ran under MariaDB's sql_mode=ORACLE: DATE is DATETIME, BLOB is LONGBLOB, and NUMBER,
    /// VARCHAR2, RAW and CLOB are types.
    pub oracle_types: bool,
    /// How its sql_mode reads quotes (NO_BACKSLASH_ESCAPES, ANSI_QUOTES).
    pub quoting: Quoting,
    /// It ran under sql_mode REAL_AS_FLOAT: REAL is FLOAT, not DOUBLE.
    pub real_as_float: bool,
    /// The server runs with lower_case_table_names=1: it stores database and table names in lower
    /// case, whatever case a statement writes them in.
    pub lower_case_names: bool,
}

impl<'a> DdlContext<'a> {
    /// A statement run with this default character set on the server, in no special mode.
    pub fn on_server(server_charset: Option<&'a str>) -> Self {
        Self { server_charset, ..Self::default() }
    }
}

/// MariaDB's sql_mode bit for ORACLE.
pub const MARIADB_MODE_ORACLE: u64 = 1 << 9;
/// The sql_mode bit for REAL_AS_FLOAT (MySQL's and MariaDB's).
pub const MODE_REAL_AS_FLOAT: u64 = 1;

/// The `ENGINE [=] name` among table options.
fn engine_option(tokens: &[Token]) -> Option<String> {
    let mut p = Parser::new(tokens, "");
    p.skip_past_word("ENGINE");
    p.eat("=");
    Some(p.option_value()).filter(|engine| !engine.is_empty())
}

/// Key parts name their columns in any case; the key lists them as the columns are spelled.
fn key_as_columns(def: &mut TableDef) {
    for key in &mut def.primary_key {
        if let Some(column) = def.columns.iter().find(|c| c.name.eq_ignore_ascii_case(key)) {
            column.name.clone_into(key);
        }
    }
}

/// One item of a CREATE TABLE list or ALTER ADD: a column, or a key/constraint (the primary key
/// is the table's; other keys, a column's `UNIQUE` attribute included, go to `declared` in the
/// order written, for the statement to name).
fn table_item(
    def: &mut TableDef,
    item: &[Token],
    charsets: DefaultCharsets<'_>,
    context: DdlContext<'_>,
    declared: &mut Vec<DeclaredKey>,
) -> Result<(), String> {
    let Some(first) = item.first() else { return Ok(()) };
    let mut p = Parser::new(item, "");
    if !first.quoted {
        match first.upper().as_str() {
            "CONSTRAINT" => {
                p.word();
                if !["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"].iter().any(|w| p.peek().is_some_and(|t| t.is_word(w))) {
                    p.ident();
                }
                if p.eat_word("PRIMARY") {
                    def.primary_key = key_columns(&mut p)?;
                } else if let Some(key) = keys::declared(&mut Parser::new(item, "")) {
                    declared.push(key);
                }
                return Ok(());
            }
            "PRIMARY" => {
                p.word();
                def.primary_key = key_columns(&mut p)?;
                return Ok(());
            }
            "KEY" | "INDEX" | "UNIQUE" | "FULLTEXT" | "SPATIAL" => {
                match keys::declared(&mut p) {
                    Some(key) => declared.push(key),
                    None => functional_key_parts(def, &mut Parser::new(item, ""))?,
                }
                return Ok(());
            }
            "FOREIGN" | "CHECK" | "PARTITION" => return Ok(()),
            // Not reserved: also column names (`period INT`, `system INT`, `vector VECTOR(3)`).
            "PERIOD" | "SYSTEM" | "VECTOR"
                if p.at_words(&["PERIOD", "FOR"])
                    || p.at_words(&["SYSTEM", "VERSIONING"])
                    || p.at_words(&["VECTOR", "INDEX"])
                    || p.at_words(&["VECTOR", "KEY"]) =>
            {
                return Ok(());
            }
            _ => {}
        }
    }
    let column = column_def(item, charsets, context)?;
    if declares_primary_key(item) {
        def.primary_key = vec![column.name.clone()];
    }
    declared.extend(keys::column_unique_key(item, &column.name));
    def.columns.push(column);
    Ok(())
}

/// A column definition with the PRIMARY KEY attribute (`[PRIMARY] KEY`; `UNIQUE KEY` is not).
fn declares_primary_key(item: &[Token]) -> bool {
    item.windows(2).skip(1).any(|w| w[1].is_word("KEY") && !w[0].is_word("UNIQUE"))
}

/// `ADD PRIMARY KEY IF NOT EXISTS (…)`.
fn has_if_not_exists(item: &[Token]) -> bool {
    item.windows(3).any(|w| w[0].is_word("IF") && w[1].is_word("NOT") && w[2].is_word("EXISTS"))
}

/// A column after CONVERT TO CHARACTER SET `charset`: character columns take it, and TEXT types
/// grow to hold as many characters in it as they held before.
fn converted(mut column: ColumnDef, charset: &str) -> ColumnDef {
    let Some(old) = &column.charset else { return column };
    if let Some(wider) = text_type_after_conversion(&column.data_type, old, charset) {
        column.column_type = column.column_type.replacen(&column.data_type, wider, 1);
        wider.clone_into(&mut column.data_type);
    }
    column.charset = Some(charset.to_owned());
    column
}

/// The character sets a column definition that names none takes.
#[derive(Debug, Clone, Copy)]
struct DefaultCharsets<'a> {
    /// The table's default, as the statement leaves it.
    table: &'a str,
    /// ALTER … CONVERT TO CHARACTER SET's: it overrides every character set a definition names
    /// or takes from the table, except the table's that a BINARY attribute or COLLATE DEFAULT
    /// (with no character set) asks for.
    convert_to: Option<&'a str>,
}

impl<'a> DefaultCharsets<'a> {
    fn of_table(table: &'a str) -> Self {
        Self { table, convert_to: None }
    }
}

/// MySQL 8.0.13+ functional key parts (`INDEX i ((a + 1))`) are stored as hidden generated columns
/// appended to the table, named `!hidden!<index>!<part>!0`; row events carry them.
fn functional_key_parts(def: &mut TableDef, p: &mut Parser<'_>) -> Result<(), String> {
    p.skip_words(&["UNIQUE", "INDEX", "KEY"]);
    let index = if p.peek_is("(") { "functional_index".to_owned() } else { p.ident() };
    while !p.eat("(") {
        if p.at >= p.tokens.len() {
            return Ok(());
        }
        p.at += 1;
    }
    let parts = p.until_close()?;
    for (n, part) in split_top_level(parts).enumerate() {
        if part.first().is_some_and(|t| t.punct() && t.text == "(") {
            def.columns.push(ColumnDef {
                name: format!("!hidden!{index}!{n}!0"),
                column_type: String::new(),
                data_type: String::new(),
                charset: None,
            });
        }
    }
    Ok(())
}

/// Hidden columns (functional index parts) have no declared type to check.
pub fn is_hidden(column: &ColumnDef) -> bool {
    column.name.starts_with("!hidden!")
}

/// Whether a statement makes a table system-versioned (`WITH SYSTEM VERSIONING` as a table or
/// column option, `ADD SYSTEM VERSIONING`) without declaring the `ROW START` column itself.
fn adds_implicit_row_period(tokens: &[Token]) -> bool {
    let versioned = tokens
        .windows(3)
        .any(|w| (w[0].is_word("WITH") || w[0].is_word("ADD")) && w[1].is_word("SYSTEM") && w[2].is_word("VERSIONING"));
    let declared = tokens.windows(2).any(|w| w[0].is_word("ROW") && w[1].is_word("START"));
    versioned && !declared
}

/// A declared `ROW END` column joins the primary key (MariaDB adds it to every unique key).
fn key_period_end(def: &mut TableDef, item: &[Token]) {
    let (Some(name), true) = (item.first(), item.windows(2).any(|w| w[0].is_word("ROW") && w[1].is_word("END"))) else {
        return;
    };
    if !def.primary_key.is_empty() && !def.primary_key.iter().any(|k| k.eq_ignore_ascii_case(&name.text)) {
        def.primary_key.push(name.text.clone());
    }
}

/// `KEY [name] [USING …] (a, b(10), c DESC)`: the column names.
fn key_columns(p: &mut Parser<'_>) -> Result<Vec<String>, String> {
    p.eat_word("KEY");
    while !p.eat("(") {
        if p.at >= p.tokens.len() {
            return Err("primary key without a column list".into());
        }
        p.at += 1;
    }
    let inside = p.until_close()?;
    Ok(split_top_level(inside).filter_map(|part| part.first().map(|t| t.text.clone())).collect())
}

/// `name type[(args)] [UNSIGNED] [ZEROFILL] [CHARACTER SET x] [COLLATE y] …`.
fn column_def(tokens: &[Token], charsets: DefaultCharsets<'_>, context: DdlContext<'_>) -> Result<ColumnDef, String> {
    let mut p = Parser::new(tokens, "");
    let name = p.ident();
    if name.is_empty() {
        return Err("column definition without a name".into());
    }
    let mut type_name = p.word().to_ascii_lowercase();
    // NATIONAL CHAR/VARCHAR, NCHAR and NVARCHAR are utf8mb3.
    let mut national = matches!(type_name.as_str(), "nchar" | "nvarchar");
    if type_name == "national" {
        national = true;
        type_name = p.word().to_ascii_lowercase();
    }
    match type_name.as_str() {
        "double" if p.eat_word("PRECISION") => {}
        "character" | "char" if p.eat_word("VARYING") => type_name = "varchar".into(),
        "long" => {
            type_name = if p.eat_word("VARBINARY") {
                "mediumblob".into()
            } else {
                p.eat_word("VARCHAR");
                "mediumtext".into()
            }
        }
        "" => return Err(format!("column {name} has no type")),
        _ => {}
    }
    let args = if p.peek_is("(") {
        p.eat("(");
        let inside = p.until_close()?;
        Some(if matches!(type_name.as_str(), "enum" | "set") { render_labels(inside) } else { render_tokens(inside) })
    } else {
        None
    };
    if context.oracle_types
        && let Some(mariadb_type) = oracle_type(&type_name, args.is_some())
    {
        mariadb_type.clone_into(&mut type_name);
    }
    if context.real_as_float && type_name == "real" {
        "float".clone_into(&mut type_name);
    }
    let data_type = canonical_type(&type_name).ok_or_else(|| format!("column {name}: unknown type {type_name}"))?;
    let (mut unsigned, mut zerofill, mut charset, mut compressed) = (data_type == "serial", false, None, false);
    let mut byte = false;
    // BINARY (the attribute) and COLLATE DEFAULT take the table's collation, untouched by CONVERT TO.
    let mut table_collation = false;
    let mut rest = Parser::new(p.rest(), "");
    while rest.at < rest.tokens.len() {
        let t = &rest.tokens[rest.at];
        rest.at += 1;
        if t.quoted || t.string {
            continue;
        }
        match t.upper().as_str() {
            "UNSIGNED" => unsigned = true,
            "COMPRESSED" => compressed = true,
            "ZEROFILL" => {
                zerofill = true;
                unsigned = true;
            }
            "CHARACTER" if rest.eat_word("SET") => charset = Some(rest.option_value().to_ascii_lowercase()),
            "CHARSET" => charset = Some(rest.option_value().to_ascii_lowercase()),
            // MariaDB's shorthands: CHAR BYTE is BINARY, ASCII is latin1, UNICODE is ucs2.
            "BYTE" => byte = true,
            "ASCII" => charset = Some("latin1".into()),
            "UNICODE" => charset = Some("ucs2".into()),
            "BINARY" => table_collation = true,
            "COLLATE" if charset.is_none() => {
                let collation = rest.option_value();
                if collation.eq_ignore_ascii_case("DEFAULT") {
                    table_collation = true;
                } else {
                    charset = charset_of_collation(&collation);
                }
            }
            // DEFAULT 'x', COMMENT '…', AS (expr), ON UPDATE …: skip their arguments.
            "(" => {
                rest.until_close()?;
            }
            _ => {}
        }
    }
    // A character type of the binary character set is its binary counterpart.
    let data_type = match data_type {
        _ if !byte && charset.as_deref() != Some("binary") => data_type,
        "char" => "binary",
        "varchar" => "varbinary",
        "tinytext" => "tinyblob",
        "text" => "blob",
        "mediumtext" => "mediumblob",
        "longtext" => "longblob",
        _ => data_type,
    };
    let charset = if is_character(data_type) {
        let default = if national { "utf8mb3" } else { charsets.table };
        let charset = match (charset, charsets.convert_to) {
            (None, _) if table_collation && !national => charsets.table.to_owned(),
            (_, Some(converted)) => converted.to_owned(),
            (charset, None) => charset.unwrap_or_else(|| default.to_owned()),
        };
        Some(canonical_charset(&charset))
    } else {
        None
    };
    let (data_type, args) = sized_text_or_blob(data_type, args, charset.as_deref());
    let (data_type, args) = declared_arguments(data_type, &type_name, args);
    let mut column_type = data_type.to_owned();
    if let Some(args) = &args {
        column_type.push('(');
        column_type.push_str(args);
        column_type.push(')');
    }
    if unsigned && is_numeric(data_type) {
        column_type.push_str(" unsigned");
    }
    if zerofill && is_numeric(data_type) {
        column_type.push_str(" zerofill");
    }
    if compressed {
        column_type.push(' ');
        column_type.push_str(MARIADB_COMPRESSED);
    }
    Ok(ColumnDef { name, column_type, data_type: data_type.to_owned(), charset })
}

/// What MariaDB makes of a type name under sql_mode=ORACLE, where it differs (measured on 10.11):
/// Oracle's names, DATE with a time, and BLOB as big as Oracle's.
fn oracle_type(type_name: &str, has_arguments: bool) -> Option<&'static str> {
    Some(match type_name {
        "varchar2" => "varchar",
        "number" if has_arguments => "decimal",
        "number" => "double",
        "date" => "datetime",
        "raw" => "varbinary",
        "clob" => "longtext",
        "blob" if !has_arguments => "longblob",
        _ => return None,
    })
}

/// The type and arguments a column ends up with, as information_schema shows them: the defaults
/// of types declared without arguments (`DECIMAL` is `decimal(10,0)`, `CHAR` is `char(1)`, `BOOL`
/// is `tinyint(1)`), `FLOAT(p)` by its precision, no `(0)` fraction on times. Integer display
/// widths depend on the server and are added where a type is shown
/// ([`super::sql_type::as_server_shows`]).
fn declared_arguments(
    data_type: &'static str,
    type_name: &str,
    args: Option<String>,
) -> (&'static str, Option<String>) {
    match (data_type, args) {
        ("serial", _) => ("bigint", None),
        ("tinyint", None) if matches!(type_name, "bool" | "boolean") => ("tinyint", Some("1".into())),
        ("decimal", None) => ("decimal", Some("10,0".into())),
        ("decimal", Some(precision)) if !precision.contains(',') => ("decimal", Some(format!("{precision},0"))),
        ("char" | "binary" | "bit", None) => (data_type, Some("1".into())),
        ("float", Some(precision)) if !precision.contains(',') => {
            (if precision.parse::<u32>().is_ok_and(|p| p > 24) { "double" } else { "float" }, None)
        }
        ("time" | "datetime" | "timestamp", Some(fsp)) if fsp == "0" => (data_type, None),
        (_, args) => (data_type, args),
    }
}

/// information_schema's DATA_TYPE for a declared type name (aliases resolved).
fn canonical_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "int" | "integer" | "int4" => "int",
        "tinyint" | "bool" | "boolean" | "int1" => "tinyint",
        "smallint" | "int2" => "smallint",
        "mediumint" | "middleint" | "int3" => "mediumint",
        "bigint" | "int8" => "bigint",
        "serial" => "serial",
        "float" | "float4" => "float",
        "double" | "real" | "float8" => "double",
        "decimal" | "dec" | "numeric" | "fixed" | "number" => "decimal",
        "bit" => "bit",
        "char" | "character" | "nchar" => "char",
        "varchar" | "nvarchar" | "varchar2" | "varcharacter" => "varchar",
        "binary" => "binary",
        "varbinary" => "varbinary",
        "tinytext" => "tinytext",
        "text" => "text",
        "mediumtext" => "mediumtext",
        "longtext" => "longtext",
        "tinyblob" => "tinyblob",
        "blob" => "blob",
        "mediumblob" => "mediumblob",
        "longblob" => "longblob",
        "json" => "json",
        "date" => "date",
        "time" => "time",
        "datetime" => "datetime",
        "timestamp" => "timestamp",
        "year" => "year",
        "enum" => "enum",
        "set" => "set",
        "geometry" => "geometry",
        "point" => "point",
        "linestring" => "linestring",
        "polygon" => "polygon",
        "multipoint" => "multipoint",
        "multilinestring" => "multilinestring",
        "multipolygon" => "multipolygon",
        "geometrycollection" | "geomcollection" => "geometrycollection",
        "vector" => "vector",
        "uuid" => "uuid",
        "inet4" => "inet4",
        "inet6" => "inet6",
        _ => return None,
    })
}

fn is_numeric(data_type: &str) -> bool {
    matches!(data_type, "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "float" | "double" | "decimal")
}

/// The four sizes of text and of bytes, with the bytes each holds.
const TEXT_TYPES: [(&str, u64); 4] =
    [("tinytext", 255), ("text", 65_535), ("mediumtext", 16_777_215), ("longtext", 4_294_967_295)];
const BLOB_TYPES: [(&str, u64); 4] =
    [("tinyblob", 255), ("blob", 65_535), ("mediumblob", 16_777_215), ("longblob", 4_294_967_295)];

/// `TEXT(n)` / `BLOB(n)`: the smallest size holding n characters of `charset` (bytes for BLOB), as
/// the server picks it; `(0)` is the plain type. Other types as they are.
fn sized_text_or_blob(
    data_type: &'static str,
    args: Option<String>,
    charset: Option<&str>,
) -> (&'static str, Option<String>) {
    let sizes = match data_type {
        "text" => &TEXT_TYPES,
        "blob" => &BLOB_TYPES,
        _ => return (data_type, args),
    };
    let Some(length) = args.as_deref().and_then(|a| a.trim().parse::<u64>().ok()) else {
        return (data_type, args);
    };
    if length == 0 {
        return (data_type, None);
    }
    (smallest_holding(sizes, length.saturating_mul(charset.map_or(1, max_char_bytes))), None)
}

/// The first of `sizes` (ascending) that holds `bytes`, else the largest.
fn smallest_holding(sizes: &[(&'static str, u64)], bytes: u64) -> &'static str {
    let (name, _) = sizes.iter().find(|(_, capacity)| *capacity >= bytes).unwrap_or(&sizes[sizes.len() - 1]);
    name
}

/// The type of a text column after CONVERT TO CHARACTER SET `to`: the server keeps its length in
/// characters, so it grows to the smallest text type holding as many characters of `to` (a latin1
/// TEXT becomes a utf8mb4 MEDIUMTEXT); it never shrinks. `None` for other types.
fn text_type_after_conversion(data_type: &str, from: &str, to: &str) -> Option<&'static str> {
    let at = TEXT_TYPES.iter().position(|(name, _)| *name == data_type)?;
    let needed = TEXT_TYPES[at].1 / max_char_bytes(from) * max_char_bytes(to);
    Some(smallest_holding(&TEXT_TYPES[at..], needed))
}

/// Bytes of a character set's longest character (information_schema.CHARACTER_SETS.MAXLEN).
pub(super) fn max_char_bytes(charset: &str) -> u64 {
    use crate::binlog::Charset;
    match charset {
        "utf8mb4" => 4,
        "utf8mb3" | "utf8" => 3,
        name => match Charset::from_name(name) {
            Charset::Unicode(encoding) => u64::from(encoding.max_char_bytes()),
            Charset::Legacy(legacy) => u64::from(legacy.layout.max_char_bytes()),
            _ => 1,
        },
    }
}

fn is_character(data_type: &str) -> bool {
    matches!(data_type, "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" | "json")
}

/// `[DEFAULT] CHARACTER SET [=] x` / `CHARSET x` / `COLLATE x` among table or schema options;
/// `CHARACTER SET DEFAULT` is `default`, the charset of the level above (the database's for a
/// table, the server's for a database).
fn table_charset_option(tokens: &[Token], default: Option<&str>) -> Option<String> {
    let mut found = None;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let skip_eq = |j: usize| if tokens.get(j).is_some_and(|t| t.text == "=") { j + 1 } else { j };
        if t.is_word("CHARSET") || (t.is_word("CHARACTER") && tokens.get(i + 1).is_some_and(|n| n.is_word("SET"))) {
            let j = skip_eq(if t.is_word("CHARSET") { i + 1 } else { i + 2 });
            if let Some(v) = tokens.get(j) {
                found =
                    if v.is_word("DEFAULT") { default.map(str::to_owned) } else { Some(v.text.to_ascii_lowercase()) };
            }
            i = j + 1;
            continue;
        }
        if t.is_word("COLLATE") && found.is_none() {
            let j = skip_eq(i + 1);
            if let Some(v) = tokens.get(j).filter(|v| !v.is_word("DEFAULT")) {
                found = charset_of_collation(&v.text);
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    found.map(|cs| canonical_charset(&cs))
}

/// The character set a collation belongs to, by its name's prefix (`latin1_swedish_ci` → latin1,
/// `binary` → binary), as information_schema names it. MariaDB's `uca1400_…` collations (10.10+)
/// name none: they take the character set the context gives (`None`).
pub fn charset_of_collation(collation: &str) -> Option<String> {
    let prefix = collation.split('_').next().unwrap_or_default();
    (!prefix.eq_ignore_ascii_case("uca1400")).then(|| canonical_charset(prefix))
}

/// A character set name as information_schema gives it: lower case, `utf8` as `utf8mb3`.
pub fn canonical_charset(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    if name == "utf8" { "utf8mb3".to_owned() } else { name }
}

/// Tokens back to text: `10,2` or `'a','b'` (strings re-quoted).
fn render_tokens(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        // Type arguments hold no identifiers: "x" in ENUM("x") is a string in every sql_mode.
        // Strings as information_schema's COLUMN_TYPE quotes them (the server's append_unescaped):
        // quotes doubled, backslash, NUL, LF and CR as backslash sequences.
        if t.string || t.double_quoted {
            out.push('\'');
            for c in t.text.chars() {
                match c {
                    '\'' => out.push_str("''"),
                    '\\' => out.push_str("\\\\"),
                    '\0' => out.push_str("\\0"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('\'');
        } else {
            out.push_str(&t.text.to_ascii_lowercase());
        }
    }
    out
}

/// ENUM/SET labels as the server keeps them: without trailing spaces.
fn render_labels(tokens: &[Token]) -> String {
    let trimmed: Vec<Token> = tokens
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if t.string || t.double_quoted {
                t.text.truncate(t.text.trim_end_matches(' ').len());
            }
            t
        })
        .collect();
    render_tokens(&trimmed)
}

/// Top-level comma-separated parts (parentheses nest).
pub(super) fn split_top_level(tokens: &[Token]) -> impl Iterator<Item = &[Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        if t.punct() {
            match t.text.as_str() {
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                "," if depth == 0 => {
                    parts.push(&tokens[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    parts.push(&tokens[start..]);
    parts.into_iter().filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(h: &SchemaHistory, table: &str) -> Vec<String> {
        let def = h.get(&QualifiedName { schema: "db".into(), table: table.into() }).expect("tracked");
        def.columns.iter().map(|c| format!("{} {}", c.name, c.column_type)).collect()
    }

    #[test]
    fn implicit_period_columns_of_system_versioning_follow_every_other_column() {
        let mut h = SchemaHistory::default();
        let row_columns = |h: &SchemaHistory, table: &str| -> Vec<String> {
            let def = h.get(&QualifiedName { schema: "db".into(), table: table.into() }).unwrap();
            def.row_columns(true).iter().map(|c| format!("{} {}", c.name, c.column_type)).collect()
        };
        h.apply("CREATE TABLE t (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING", "db").unwrap();
        assert_eq!(row_columns(&h, "t"), ["id int", "a int", "row_start timestamp(6)", "row_end timestamp(6)"]);
        h.apply(
            "SET STATEMENT system_versioning_alter_history = KEEP FOR ALTER TABLE t ADD COLUMN b INT, ADD c INT FIRST",
            "db",
        )
        .unwrap();
        assert_eq!(
            row_columns(&h, "t"),
            ["c int", "id int", "a int", "b int", "row_start timestamp(6)", "row_end timestamp(6)"]
        );
        h.apply("CREATE TABLE t2 LIKE t", "db").unwrap();
        assert_eq!(row_columns(&h, "t2").len(), 6);
        h.apply("ALTER TABLE t DROP SYSTEM VERSIONING", "db").unwrap();
        assert_eq!(row_columns(&h, "t"), ["c int", "id int", "a int", "b int"]);
        h.apply("ALTER TABLE t ADD SYSTEM VERSIONING", "db").unwrap();
        assert_eq!(row_columns(&h, "t").len(), 6);

        // A versioned column makes the table versioned; a WITHOUT one does not.
        h.apply("CREATE TABLE p (id INT, a INT WITH SYSTEM VERSIONING)", "db").unwrap();
        assert_eq!(row_columns(&h, "p").len(), 4);
        h.apply("CREATE TABLE q (id INT, a INT WITHOUT SYSTEM VERSIONING)", "db").unwrap();
        assert_eq!(row_columns(&h, "q").len(), 2);
        // Declared period columns are ordinary columns.
        h.apply(
            "CREATE TABLE d (id INT PRIMARY KEY, s TIMESTAMP(6) GENERATED ALWAYS AS ROW START, \
             e TIMESTAMP(6) GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(s, e)) WITH SYSTEM VERSIONING",
            "db",
        )
        .unwrap();
        assert_eq!(row_columns(&h, "d"), ["id int", "s timestamp(6)", "e timestamp(6)"]);
        // MariaDB adds the declared ROW END column to the primary key.
        assert_eq!(h.get(&QualifiedName { schema: "db".into(), table: "d".into() }).unwrap().primary_key, ["id", "e"]);
    }

    /// MariaDB 10.11 under sql_mode=ORACLE (information_schema's COLUMN_TYPE of each).
    #[test]
    fn oracle_mode_type_names() {
        let mut h = SchemaHistory::default();
        let oracle = DdlContext { oracle_types: true, ..DdlContext::default() };
        h.apply_in(
            "CREATE TABLE o (a NUMBER, b NUMBER(5), c NUMBER(10,2), d DATE, e VARCHAR2(7), f RAW(4), g CLOB, \
             h BLOB, i BLOB(10), j TIMESTAMP)",
            "db",
            oracle,
        )
        .unwrap();
        h.apply_in("ALTER TABLE o MODIFY a DATE, ADD (k NUMBER(3))", "db", oracle).unwrap();
        let def = h.get(&QualifiedName { schema: "db".into(), table: "o".into() }).unwrap();
        let types: Vec<&str> = def.columns.iter().map(|c| c.column_type.as_str()).collect();
        let expected = [
            "datetime",
            "decimal(5,0)",
            "decimal(10,2)",
            "datetime",
            "varchar(7)",
            "varbinary(4)",
            "longtext",
            "longblob",
            "tinyblob",
            "timestamp",
            "decimal(3,0)",
        ];
        assert_eq!(types, expected);
        // Outside the mode, DATE and BLOB are MariaDB's own, and NUMBER is no type.
        h.apply("CREATE TABLE m (d DATE, b BLOB)", "db").unwrap();
        let def = h.get(&QualifiedName { schema: "db".into(), table: "m".into() }).unwrap();
        assert_eq!(def.columns.iter().map(|c| c.column_type.as_str()).collect::<Vec<_>>(), ["date", "blob"]);
    }

    #[test]
    fn create_alter_rename_drop() {
        let mut h = SchemaHistory::default();
        h.apply(
            "CREATE TABLE `t` (id INT UNSIGNED NOT NULL AUTO_INCREMENT, name VARCHAR(20) CHARACTER SET latin1 \
             DEFAULT 'a,b' COMMENT 'x(y', price DECIMAL(10,2), kind ENUM('a','it''s'), PRIMARY KEY (`id`), KEY k (name)) \
             ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 /*!50100 PARTITION BY HASH (id) PARTITIONS 4 */",
            "db",
        )
        .unwrap();
        assert_eq!(
            names(&h, "t"),
            ["id int unsigned", "name varchar(20)", "price decimal(10,2)", "kind enum('a','it''s')"]
        );
        let def = h.get(&QualifiedName { schema: "db".into(), table: "t".into() }).unwrap();
        assert_eq!(def.primary_key, ["id"]);
        assert_eq!(def.columns[1].charset.as_deref(), Some("latin1"));
        assert_eq!(def.columns[3].charset.as_deref(), Some("utf8mb4"));

        h.apply("ALTER TABLE db.t ADD COLUMN c1 BIGINT FIRST, ADD c2 TEXT AFTER name, DROP COLUMN price", "x").unwrap();
        assert_eq!(
            names(&h, "t"),
            ["c1 bigint", "id int unsigned", "name varchar(20)", "c2 text", "kind enum('a','it''s')"]
        );
        h.apply("ALTER TABLE t CHANGE COLUMN id ident BIGINT UNSIGNED, MODIFY name CHAR(5) AFTER kind", "db").unwrap();
        assert_eq!(
            names(&h, "t"),
            ["c1 bigint", "ident bigint unsigned", "c2 text", "kind enum('a','it''s')", "name char(5)"]
        );
        let def = h.get(&QualifiedName { schema: "db".into(), table: "t".into() }).unwrap();
        assert_eq!(def.primary_key, ["ident"]);
        h.apply("ALTER TABLE t RENAME COLUMN c1 TO first_one, RENAME TO t2", "db").unwrap();
        assert!(!h.is_tracked(&QualifiedName { schema: "db".into(), table: "t".into() }));
        assert_eq!(names(&h, "t2")[0], "first_one bigint");
        h.apply("RENAME TABLE t2 TO t3, db.t3 TO t4", "db").unwrap();
        assert!(h.is_tracked(&QualifiedName { schema: "db".into(), table: "t4".into() }));
        // Words that open a period, versioning or vector index are column names otherwise.
        h.apply("CREATE TABLE kw (id INT, system INT, period INT, vector VECTOR(3), VECTOR INDEX (vector))", "db")
            .unwrap();
        let alter =
            "ALTER TABLE kw ADD system_time INT, ADD COLUMN s2 INT, DROP COLUMN period, ADD COLUMN period DATE FIRST";
        h.apply(alter, "db").unwrap();
        let expected = ["period date", "id int", "system int", "vector vector(3)", "system_time int", "s2 int"];
        assert_eq!(names(&h, "kw"), expected);
        h.apply("ALTER TABLE kw DROP COLUMN system, ADD COLUMN system INT AFTER id", "db").unwrap();
        assert_eq!(names(&h, "kw")[2], "system int");
        // MariaDB's lock waits and RENAME IF EXISTS.
        h.apply("ALTER TABLE t4 WAIT 5 ADD COLUMN w INT, DROP PERIOD FOR SYSTEM_TIME", "db").unwrap();
        h.apply("ALTER TABLE t4 NOWAIT ADD COLUMN nw INT FIRST", "db").unwrap();
        h.apply("RENAME TABLE IF EXISTS t4 WAIT 1 TO t6, t6 NOWAIT TO t4", "db").unwrap();
        let columns = names(&h, "t4");
        assert_eq!((columns[0].as_str(), columns.last().unwrap().as_str()), ("nw int", "w int"));
        h.apply("CREATE TABLE t5 LIKE t4", "db").unwrap();
        assert_eq!(names(&h, "t5"), names(&h, "t4"));
        h.apply("DROP /*!40005 TEMPORARY */ TABLE IF EXISTS t4", "db").unwrap();
        assert!(h.is_tracked(&QualifiedName { schema: "db".into(), table: "t4".into() }));
        h.apply("DROP TABLE IF EXISTS t4, t5", "db").unwrap();
        assert!(!h.is_tracked(&QualifiedName { schema: "db".into(), table: "t5".into() }));
    }

    #[test]
    fn database_default_charset_reaches_new_tables() {
        let mut h = SchemaHistory::default();
        h.apply("CREATE DATABASE `db` CHARACTER SET latin1", "x").unwrap();
        h.apply("CREATE TABLE t (a VARCHAR(3))", "db").unwrap();
        h.apply("ALTER DATABASE `db` CHARACTER SET gbk", "x").unwrap();
        h.apply("CREATE TABLE u (a VARCHAR(3))", "db").unwrap();
        h.apply("ALTER DATABASE CHARACTER SET utf8", "db").unwrap();
        h.apply("CREATE TABLE v (a VARCHAR(3))", "db").unwrap();
        let charset = |t: &str| {
            h.get(&QualifiedName { schema: "db".into(), table: t.into() }).unwrap().columns[0].charset.clone().unwrap()
        };
        assert_eq!([charset("t"), charset("u"), charset("v")], ["latin1", "gbk", "utf8mb3"]);
    }

    #[test]
    fn names_are_folded_for_a_lower_case_table_names_server() {
        let mut h = SchemaHistory::default();
        let folded = DdlContext { lower_case_names: true, ..DdlContext::on_server(Some("utf8mb4")) };
        h.apply_in("CREATE DATABASE `MixDb` CHARACTER SET latin1", "x", folded).unwrap();
        h.apply_in("CREATE TABLE MixDb.MyTab (Id INT, Aa VARCHAR(3))", "x", folded).unwrap();
        h.apply_in("ALTER TABLE MYTAB CHANGE Aa Bb TEXT, RENAME TO `MIXDB`.Other", "mixdb", folded).unwrap();
        h.apply_in("CREATE TABLE Copy LIKE mixdb.OTHER", "MixDb", folded).unwrap();
        let names: Vec<String> = h
            .tables()
            .map(|(name, _)| name.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(names, ["mixdb.copy", "mixdb.other"]);
        let other = h.get(&QualifiedName { schema: "mixdb".into(), table: "other".into() }).unwrap();
        assert_eq!(other.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Id", "Bb"]);
        assert_eq!(other.columns[1].charset.as_deref(), Some("latin1"));
        h.apply_in("DROP DATABASE MIXDB", "x", folded).unwrap();
        assert_eq!(h.tables().count(), 0);
        // Without the setting, names are the statement's.
        h.apply_in("CREATE TABLE MyTab (a INT)", "Db", DdlContext::default()).unwrap();
        assert!(h.get(&QualifiedName { schema: "Db".into(), table: "MyTab".into() }).is_some());
    }

    #[test]
    fn without_a_stated_charset_the_servers_default_applies() {
        let mut h = SchemaHistory::default();
        let charset = |h: &SchemaHistory, schema: &str, t: &str| {
            h.get(&QualifiedName { schema: schema.into(), table: t.into() }).unwrap().columns[0].charset.clone()
        };
        // A database created without one takes the server's, and its tables with it.
        h.apply_in("CREATE DATABASE d", "x", DdlContext::on_server(Some("latin1"))).unwrap();
        h.apply_in("CREATE TABLE t (a VARCHAR(3))", "d", DdlContext::on_server(Some("utf8mb4"))).unwrap();
        assert_eq!(charset(&h, "d", "t").as_deref(), Some("latin1"));
        // IF NOT EXISTS on a known database changes nothing; a stated charset still wins.
        h.apply_in("CREATE DATABASE IF NOT EXISTS d", "x", DdlContext::on_server(Some("utf8mb4"))).unwrap();
        h.apply_in("CREATE TABLE u (a VARCHAR(3)) CHARSET cp1251", "d", DdlContext::on_server(Some("utf8mb4")))
            .unwrap();
        h.apply_in("CREATE TABLE w (a VARCHAR(3))", "d", DdlContext::on_server(None)).unwrap();
        assert_eq!(charset(&h, "d", "u").as_deref(), Some("cp1251"));
        assert_eq!(charset(&h, "d", "w").as_deref(), Some("latin1"));
        // A database the history never saw created: the statement's server default, else utf8mb4.
        h.apply_in("CREATE TABLE t (a VARCHAR(3))", "old", DdlContext::on_server(Some("latin1"))).unwrap();
        h.apply("CREATE TABLE t (a VARCHAR(3))", "older").unwrap();
        assert_eq!(charset(&h, "old", "t").as_deref(), Some("latin1"));
        assert_eq!(charset(&h, "older", "t").as_deref(), Some("utf8mb4"));
        // A table tracked without a default of its own (a journal written before tables kept one)
        // adds columns in its database's.
        let name = QualifiedName { schema: "d".into(), table: "bare".into() };
        h.track(name.clone(), TableDef::default());
        h.apply_in("ALTER TABLE bare ADD COLUMN a TEXT", "d", DdlContext::on_server(Some("utf8mb4"))).unwrap();
        assert_eq!(charset(&h, "d", "bare").as_deref(), Some("latin1"));
    }

    #[test]
    fn a_collation_names_its_charset_as_information_schema_does() {
        let cases = [
            ("latin1_swedish_ci", "latin1"),
            ("utf8_general_ci", "utf8mb3"),
            ("UTF8MB3_UNICODE_CI", "utf8mb3"),
            ("utf8mb4_uca1400_ai_ci", "utf8mb4"),
            ("binary", "binary"),
            ("cp1251_bin", "cp1251"),
        ];
        for (collation, charset) in cases {
            assert_eq!(charset_of_collation(collation).as_deref(), Some(charset), "{collation}");
        }
        assert_eq!(charset_of_collation("uca1400_ai_ci"), None);
    }

    #[test]
    fn unparseable_ddl_on_a_tracked_table_is_an_error() {
        let mut h = SchemaHistory::default();
        h.apply("CREATE TABLE t (a INT)", "db").unwrap();
        let err = h.apply("ALTER TABLE t DROP COLUMN nope", "db").unwrap_err();
        assert!(err.to_string().contains("ALTER TABLE t DROP COLUMN nope"), "{err}");
        let err = h.apply("ALTER TABLE t ADD COLUMN b FROBNICATE(3)", "db").unwrap_err();
        assert!(err.to_string().contains("unknown type"), "{err}");
        // Untracked tables are not our business.
        h.apply("ALTER TABLE other ADD COLUMN b FROBNICATE(3)", "db").unwrap();
    }
}
