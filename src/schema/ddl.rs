//! Classifying the statements that reach a ROW-format binlog as QUERY events: which DDL it is and
//! which tables it touches (for Canal's DDL messages and to refresh cached table definitions), or
//! whether it is a statement-logged DML that ROW-format capture would miss.
//!
//! This is a keyword scanner, not a SQL parser: it reads the statement's head up to the table
//! names, which is all Canal reports. Full DDL parsing for schema history is a separate concern.

use crate::event::DdlKind;

/// A table name with its schema resolved (the statement's qualifier, else the session default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub table: String,
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// DDL on tables: all tables named (both sides of a rename).
    TableDdl { kind: DdlKind, tables: Vec<QualifiedName> },
    /// A schema-level statement: CREATE/ALTER/DROP DATABASE.
    SchemaDdl { kind: DdlKind, schema: String },
    /// Row changes logged as a statement (the session ran with binlog_format=STATEMENT/MIXED).
    Dml { tables: Vec<QualifiedName> },
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, XA …
    TransactionControl,
    /// Anything else: GRANT, CREATE USER, views, routines, FLUSH, ANALYZE …
    Other,
}

/// Classify one statement; `default_schema` is the QUERY event's schema.
pub fn classify(sql: &str, default_schema: &str) -> Statement {
    let mut t = Tokens::new(sql);
    let first = t.keyword();
    match first.as_str() {
        "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "XA" | "START" => Statement::TransactionControl,
        "CREATE" => {
            t.skip_keywords(&["OR", "REPLACE", "TEMPORARY", "ONLINE", "OFFLINE"]);
            match t.keyword().as_str() {
                "TABLE" => {
                    t.skip_if_not_exists();
                    table_ddl(DdlKind::Create, t.names(default_schema, 1))
                }
                "UNIQUE" | "FULLTEXT" | "SPATIAL" | "INDEX" | "KEY" => {
                    while !t.at_end() && t.keyword() != "ON" {}
                    table_ddl(DdlKind::CreateIndex, t.names(default_schema, 1))
                }
                "DATABASE" | "SCHEMA" => {
                    t.skip_if_not_exists();
                    schema_ddl(DdlKind::Query, t.identifier())
                }
                _ => Statement::Other,
            }
        }
        "ALTER" => {
            t.skip_keywords(&["ONLINE", "OFFLINE", "IGNORE"]);
            match t.keyword().as_str() {
                "TABLE" => {
                    t.skip_if_exists();
                    let mut tables = t.names(default_schema, 1);
                    // ALTER TABLE a RENAME [TO|AS] b also changes b.
                    while !t.at_end() {
                        if t.keyword() == "RENAME" {
                            t.skip_keywords(&["TO", "AS"]);
                            if !matches!(t.peek_keyword().as_str(), "COLUMN" | "INDEX" | "KEY") {
                                tables.extend(t.names(default_schema, 1));
                            }
                        }
                    }
                    table_ddl(DdlKind::Alter, tables)
                }
                "DATABASE" | "SCHEMA" => schema_ddl(DdlKind::Query, t.identifier()),
                _ => Statement::Other,
            }
        }
        "DROP" => {
            t.skip_keywords(&["TEMPORARY", "ONLINE", "OFFLINE"]);
            match t.keyword().as_str() {
                "TABLE" | "TABLES" => {
                    t.skip_if_exists();
                    table_ddl(DdlKind::Erase, t.names(default_schema, usize::MAX))
                }
                "INDEX" | "KEY" => {
                    while !t.at_end() && t.keyword() != "ON" {}
                    table_ddl(DdlKind::DropIndex, t.names(default_schema, 1))
                }
                "DATABASE" | "SCHEMA" => {
                    t.skip_if_exists();
                    schema_ddl(DdlKind::Query, t.identifier())
                }
                _ => Statement::Other,
            }
        }
        "TRUNCATE" => {
            t.skip_keywords(&["TABLE"]);
            table_ddl(DdlKind::Truncate, t.names(default_schema, 1))
        }
        "RENAME" => {
            if t.keyword() != "TABLE" {
                return Statement::Other;
            }
            let mut tables = Vec::new();
            loop {
                tables.extend(t.names(default_schema, 1));
                if t.keyword() != "TO" {
                    break;
                }
                tables.extend(t.names(default_schema, 1));
                if !t.eat(',') {
                    break;
                }
            }
            table_ddl(DdlKind::Rename, tables)
        }
        "INSERT" | "REPLACE" => {
            t.skip_keywords(&["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"]);
            Statement::Dml { tables: t.names(default_schema, 1) }
        }
        "UPDATE" => {
            t.skip_keywords(&["LOW_PRIORITY", "IGNORE"]);
            Statement::Dml { tables: t.names(default_schema, 1) }
        }
        "DELETE" => {
            t.skip_keywords(&["LOW_PRIORITY", "QUICK", "IGNORE", "FROM"]);
            Statement::Dml { tables: t.names(default_schema, 1) }
        }
        "LOAD" => Statement::Dml { tables: Vec::new() },
        _ => Statement::Other,
    }
}

fn table_ddl(kind: DdlKind, tables: Vec<QualifiedName>) -> Statement {
    if tables.is_empty() { Statement::Other } else { Statement::TableDdl { kind, tables } }
}

fn schema_ddl(kind: DdlKind, schema: Option<String>) -> Statement {
    match schema {
        Some(schema) => Statement::SchemaDdl { kind, schema },
        None => Statement::Other,
    }
}

/// A minimal SQL tokenizer: keywords, identifiers (bare or `quoted`), punctuation; comments and
/// string literals are skipped.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(sql: &'a str) -> Self {
        Self { rest: sql }
    }

    fn skip_space(&mut self) {
        loop {
            let trimmed = self.rest.trim_start();
            if let Some(after) = trimmed.strip_prefix("/*") {
                self.rest = after.find("*/").map_or("", |i| &after[i + 2..]);
            } else if trimmed.starts_with("-- ") || trimmed.starts_with('#') {
                self.rest = trimmed.find('\n').map_or("", |i| &trimmed[i + 1..]);
            } else {
                self.rest = trimmed;
                return;
            }
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.rest.is_empty()
    }

    /// The next token as an upper-case word ("" for punctuation, which is consumed).
    fn keyword(&mut self) -> String {
        self.next_token()
            .map(|(word, quoted)| if quoted { String::new() } else { word.to_ascii_uppercase() })
            .unwrap_or_default()
    }

    fn peek_keyword(&mut self) -> String {
        let saved = self.rest;
        let k = self.keyword();
        self.rest = saved;
        k
    }

    fn skip_keywords(&mut self, words: &[&str]) {
        while words.contains(&self.peek_keyword().as_str()) {
            self.keyword();
        }
    }

    fn skip_if_exists(&mut self) {
        if self.peek_keyword() == "IF" {
            self.keyword();
            self.keyword(); // EXISTS
        }
    }

    fn skip_if_not_exists(&mut self) {
        if self.peek_keyword() == "IF" {
            self.keyword();
            self.keyword(); // NOT
            self.keyword(); // EXISTS
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest.starts_with(c) {
            self.rest = &self.rest[c.len_utf8()..];
            true
        } else {
            false
        }
    }

    fn identifier(&mut self) -> Option<String> {
        self.next_token().map(|(word, _)| word).filter(|w| !w.is_empty())
    }

    /// Up to `max` comma-separated `[schema.]table` names.
    fn names(&mut self, default_schema: &str, max: usize) -> Vec<QualifiedName> {
        let mut names = Vec::new();
        while names.len() < max {
            let Some(first) = self.identifier() else { break };
            let name = if self.eat('.') {
                match self.identifier() {
                    Some(table) => QualifiedName { schema: first, table },
                    None => break,
                }
            } else {
                QualifiedName { schema: default_schema.to_owned(), table: first }
            };
            names.push(name);
            if names.len() >= max || !self.eat(',') {
                break;
            }
        }
        names
    }

    /// Next token: `(text, was_quoted)`. Punctuation yields `("", false)`; string literals are
    /// skipped whole.
    fn next_token(&mut self) -> Option<(String, bool)> {
        self.skip_space();
        let mut chars = self.rest.char_indices();
        let (_, c) = chars.next()?;
        if c == '`' {
            let mut out = String::new();
            let body = &self.rest[1..];
            let mut iter = body.char_indices().peekable();
            while let Some((i, ch)) = iter.next() {
                if ch == '`' {
                    if matches!(iter.peek(), Some((_, '`'))) {
                        out.push('`');
                        iter.next();
                        continue;
                    }
                    self.rest = &body[i + 1..];
                    return Some((out, true));
                }
                out.push(ch);
            }
            self.rest = "";
            return Some((out, true));
        }
        if c == '\'' || c == '"' {
            let body = &self.rest[1..];
            let end = body.find(c).map_or(body.len(), |i| i + 1);
            self.rest = &body[end.min(body.len())..];
            return Some((String::new(), true));
        }
        if c.is_alphanumeric() || c == '_' || c == '$' {
            let end =
                self.rest.find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$')).unwrap_or(self.rest.len());
            let word = self.rest[..end].to_owned();
            self.rest = &self.rest[end..];
            return Some((word, false));
        }
        self.rest = &self.rest[c.len_utf8()..];
        Some((String::new(), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(schema: &str, table: &str) -> QualifiedName {
        QualifiedName { schema: schema.into(), table: table.into() }
    }

    fn tables(sql: &str) -> (DdlKind, Vec<QualifiedName>) {
        match classify(sql, "db") {
            Statement::TableDdl { kind, tables } => (kind, tables),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn table_statements() {
        assert_eq!(tables("CREATE TABLE t (a int)"), (DdlKind::Create, vec![q("db", "t")]));
        assert_eq!(tables("create table if not exists `s`.`my t` like x"), (DdlKind::Create, vec![q("s", "my t")]));
        assert_eq!(tables("/* c */ ALTER TABLE s.t ADD COLUMN b int"), (DdlKind::Alter, vec![q("s", "t")]));
        assert_eq!(tables("ALTER TABLE t RENAME TO u"), (DdlKind::Alter, vec![q("db", "t"), q("db", "u")]));
        assert_eq!(tables("ALTER TABLE t RENAME COLUMN a TO b"), (DdlKind::Alter, vec![q("db", "t")]));
        assert_eq!(
            tables("DROP TABLE IF EXISTS `a`, b.c /* generated by server */"),
            (DdlKind::Erase, vec![q("db", "a"), q("b", "c")])
        );
        assert_eq!(tables("TRUNCATE TABLE t"), (DdlKind::Truncate, vec![q("db", "t")]));
        assert_eq!(tables("truncate t2"), (DdlKind::Truncate, vec![q("db", "t2")]));
        assert_eq!(
            tables("RENAME TABLE a TO b, s.c TO s.d"),
            (DdlKind::Rename, vec![q("db", "a"), q("db", "b"), q("s", "c"), q("s", "d")])
        );
        assert_eq!(tables("CREATE UNIQUE INDEX i ON t (a)"), (DdlKind::CreateIndex, vec![q("db", "t")]));
        assert_eq!(tables("DROP INDEX i ON s.t"), (DdlKind::DropIndex, vec![q("s", "t")]));
    }

    #[test]
    fn other_statements() {
        assert_eq!(
            classify("CREATE DATABASE IF NOT EXISTS shop", ""),
            Statement::SchemaDdl { kind: DdlKind::Query, schema: "shop".into() }
        );
        assert_eq!(classify("BEGIN", ""), Statement::TransactionControl);
        assert_eq!(classify("GRANT SELECT ON *.* TO x", ""), Statement::Other);
        assert_eq!(classify("INSERT INTO t VALUES (1)", "db"), Statement::Dml { tables: vec![q("db", "t")] });
        assert_eq!(classify("delete from s.t where 1", "db"), Statement::Dml { tables: vec![q("s", "t")] });
    }
}
