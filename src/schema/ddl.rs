//! Classifying the statements that reach a ROW-format binlog as QUERY events: which DDL it is and
//! which tables it touches (for Canal's DDL messages and to refresh cached table definitions), or
//! whether it is a statement-logged DML that ROW-format capture would miss.
//!
//! This reads the statement's head up to the table names, which is all Canal reports; the schema
//! history parses DDL in full (both on the tokens of [`super::sql`]).

use super::sql::{Lexer, Parser, Quoting, Token};
use crate::event::DdlKind;

/// A table name with its schema resolved (the statement's qualifier, else the session default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    pub schema: String,
    pub table: String,
}

impl QualifiedName {
    /// Both parts in lower case, as a server with lower_case_table_names=1 stores them.
    pub fn lowercased(&self) -> Self {
        Self { schema: self.schema.to_lowercase(), table: self.table.to_lowercase() }
    }
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

impl Statement {
    /// The statement as a server with lower_case_table_names=1 takes it: database and table
    /// names in lower case.
    pub fn with_lower_case_names(&self) -> Statement {
        match self {
            Self::TableDdl { kind, tables } => {
                Self::TableDdl { kind: *kind, tables: tables.iter().map(QualifiedName::lowercased).collect() }
            }
            Self::SchemaDdl { kind, schema } => Self::SchemaDdl { kind: *kind, schema: schema.to_lowercase() },
            Self::Dml { tables } => Self::Dml { tables: tables.iter().map(QualifiedName::lowercased).collect() },
            other => other.clone(),
        }
    }
}

/// Tokens read of a statement that only its head decides (DML can carry megabytes of values).
const HEAD_TOKENS: usize = 16;

/// Classify one statement run in the server's default sql_mode; `default_schema` is the QUERY
/// event's schema.
pub fn classify(sql: &str, default_schema: &str) -> Statement {
    classify_in(sql, default_schema, Quoting::default())
}

/// [`classify`] a statement whose quotes read as its QUERY event's sql_mode says.
pub fn classify_in(sql: &str, default_schema: &str, quoting: Quoting) -> Statement {
    let mut lexer = Lexer::quoting(sql, quoting);
    let first = lexer.first_word();
    let tokens: Vec<Token> = match first.as_str() {
        "CREATE" | "ALTER" | "DROP" | "TRUNCATE" | "RENAME" => lexer.collect(),
        _ => lexer.take(HEAD_TOKENS).collect(),
    };
    let mut p = Parser::new(&tokens, default_schema);
    match first.as_str() {
        "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "XA" | "START" => Statement::TransactionControl,
        "CREATE" => {
            p.skip_words(&["OR", "REPLACE", "TEMPORARY", "ONLINE", "OFFLINE"]);
            match p.word().as_str() {
                "TABLE" | "SEQUENCE" => {
                    p.skip_if_not_exists();
                    table_ddl(DdlKind::Create, p.names(1))
                }
                "UNIQUE" | "FULLTEXT" | "SPATIAL" | "INDEX" | "KEY" => {
                    p.skip_past_word("ON");
                    table_ddl(DdlKind::CreateIndex, p.names(1))
                }
                "DATABASE" | "SCHEMA" => {
                    p.skip_if_not_exists();
                    schema_ddl(DdlKind::Query, p.ident())
                }
                _ => Statement::Other,
            }
        }
        "ALTER" => {
            p.skip_words(&["ONLINE", "OFFLINE", "IGNORE"]);
            match p.word().as_str() {
                "TABLE" => {
                    p.skip_if_exists();
                    let mut tables = p.names(1);
                    // ALTER TABLE a RENAME [TO|AS] b also changes b; MariaDB's CONVERT PARTITION p
                    // TO TABLE b creates b, CONVERT TABLE b TO PARTITION p drops it.
                    while !p.at_end() {
                        if p.eat_word("RENAME") {
                            p.skip_words(&["TO", "AS"]);
                            if !matches!(p.peek_word().as_str(), "COLUMN" | "INDEX" | "KEY") {
                                tables.extend(p.names(1));
                            }
                        } else if p.eat_word("CONVERT") {
                            if p.eat_word("PARTITION") {
                                p.ident();
                                p.skip_words(&["TO"]);
                            }
                            if p.eat_word("TABLE") {
                                tables.extend(p.names(1));
                            }
                        } else {
                            p.at += 1;
                        }
                    }
                    table_ddl(DdlKind::Alter, tables)
                }
                "DATABASE" | "SCHEMA" => schema_ddl(DdlKind::Query, p.altered_database()),
                _ => Statement::Other,
            }
        }
        "DROP" => {
            p.skip_words(&["TEMPORARY", "ONLINE", "OFFLINE"]);
            match p.word().as_str() {
                "TABLE" | "TABLES" | "SEQUENCE" => {
                    p.skip_if_exists();
                    table_ddl(DdlKind::Erase, p.names(usize::MAX))
                }
                "INDEX" | "KEY" => {
                    p.skip_past_word("ON");
                    table_ddl(DdlKind::DropIndex, p.names(1))
                }
                "DATABASE" | "SCHEMA" => {
                    p.skip_if_exists();
                    schema_ddl(DdlKind::Query, p.ident())
                }
                _ => Statement::Other,
            }
        }
        "TRUNCATE" => {
            p.skip_words(&["TABLE"]);
            table_ddl(DdlKind::Truncate, p.names(1))
        }
        "RENAME" => {
            if !p.eat_word("TABLE") && !p.eat_word("TABLES") {
                return Statement::Other;
            }
            p.skip_if_exists();
            let mut tables = Vec::new();
            loop {
                tables.extend(p.names(1));
                p.skip_lock_wait();
                if !p.eat_word("TO") {
                    break;
                }
                tables.extend(p.names(1));
                if !p.eat(",") {
                    break;
                }
            }
            table_ddl(DdlKind::Rename, tables)
        }
        "INSERT" | "REPLACE" => {
            p.skip_words(&["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"]);
            Statement::Dml { tables: p.names(1) }
        }
        "UPDATE" => {
            p.skip_words(&["LOW_PRIORITY", "IGNORE"]);
            Statement::Dml { tables: p.names(1) }
        }
        "DELETE" => {
            p.skip_words(&["LOW_PRIORITY", "QUICK", "IGNORE", "FROM"]);
            Statement::Dml { tables: p.names(1) }
        }
        "LOAD" => Statement::Dml { tables: Vec::new() },
        _ => Statement::Other,
    }
}

fn table_ddl(kind: DdlKind, tables: Vec<QualifiedName>) -> Statement {
    if tables.is_empty() { Statement::Other } else { Statement::TableDdl { kind, tables } }
}

fn schema_ddl(kind: DdlKind, schema: String) -> Statement {
    if schema.is_empty() { Statement::Other } else { Statement::SchemaDdl { kind, schema } }
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
            tables("ALTER TABLE t CONVERT PARTITION p1 TO TABLE s.u"),
            (DdlKind::Alter, vec![q("db", "t"), q("s", "u")])
        );
        assert_eq!(
            tables("ALTER TABLE t CONVERT TABLE u TO PARTITION p1 VALUES LESS THAN (30)"),
            (DdlKind::Alter, vec![q("db", "t"), q("db", "u")])
        );
        assert_eq!(tables("ALTER TABLE t CONVERT TO CHARACTER SET latin1"), (DdlKind::Alter, vec![q("db", "t")]));
        assert_eq!(
            tables("DROP TABLE IF EXISTS `a`, b.c /* generated by server */"),
            (DdlKind::Erase, vec![q("db", "a"), q("b", "c")])
        );
        assert_eq!(tables("TRUNCATE TABLE t"), (DdlKind::Truncate, vec![q("db", "t")]));
        // MariaDB sequences are tables (their rows are the sequence's state).
        assert_eq!(tables("CREATE SEQUENCE IF NOT EXISTS s.q START WITH 10"), (DdlKind::Create, vec![q("s", "q")]));
        assert_eq!(tables("DROP SEQUENCE IF EXISTS q, r"), (DdlKind::Erase, vec![q("db", "q"), q("db", "r")]));
        assert_eq!(tables("truncate t2"), (DdlKind::Truncate, vec![q("db", "t2")]));
        assert_eq!(
            tables("RENAME TABLE a TO b, s.c TO s.d"),
            (DdlKind::Rename, vec![q("db", "a"), q("db", "b"), q("s", "c"), q("s", "d")])
        );
        assert_eq!(tables("CREATE UNIQUE INDEX i ON t (a)"), (DdlKind::CreateIndex, vec![q("db", "t")]));
        assert_eq!(tables("DROP INDEX i ON s.t"), (DdlKind::DropIndex, vec![q("s", "t")]));
        // MariaDB keeps a SET STATEMENT prefix in the binlog; the statement after FOR is what runs.
        assert_eq!(
            tables(
                "SET STATEMENT system_versioning_alter_history = KEEP, max_statement_time = 10 FOR ALTER TABLE t ADD c INT"
            ),
            (DdlKind::Alter, vec![q("db", "t")])
        );
        assert_eq!(
            classify("set statement sql_mode = 'ANSI' for insert into t values (1)", "db"),
            Statement::Dml { tables: vec![q("db", "t")] }
        );
        assert_eq!(classify("SET sql_mode = ''", "db"), Statement::Other);
        assert_eq!(
            tables("RENAME TABLE IF EXISTS a WAIT 3 TO b, c NOWAIT TO d"),
            (DdlKind::Rename, vec![q("db", "a"), q("db", "b"), q("db", "c"), q("db", "d")])
        );
        assert_eq!(classify("SET STATEMENT x = 1", "db"), Statement::Other);
    }

    #[test]
    fn names_in_double_quotes_follow_the_statement_quoting() {
        let sql = r#"ALTER TABLE "s\n"."t\b" ADD c INT"#;
        let ansi = Quoting { no_backslash_escapes: false, ansi_quotes: true };
        let named = |quoting| match classify_in(sql, "db", quoting) {
            Statement::TableDdl { tables, .. } => tables,
            other => panic!("{other:?}"),
        };
        assert_eq!(named(ansi), [q(r"s\n", r"t\b")]);
        assert_eq!(named(Quoting::default()), [q("s\n", "t\u{8}")]);
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
        // Only the head of DML is read: a long or unterminated tail changes nothing.
        let long = format!("INSERT IGNORE INTO `s`.t VALUES {}('x", "(1),".repeat(100_000));
        assert_eq!(classify(&long, "db"), Statement::Dml { tables: vec![q("s", "t")] });
        assert_eq!(
            classify("ALTER DATABASE CHARACTER SET latin1", "db"),
            Statement::SchemaDdl { kind: DdlKind::Query, schema: "db".into() }
        );
        assert_eq!(
            classify("ALTER SCHEMA `x` DEFAULT COLLATE utf8mb4_bin", "db"),
            Statement::SchemaDdl { kind: DdlKind::Query, schema: "x".into() }
        );
        assert_eq!(tables("CREATE TABLE /*!32312 IF NOT EXISTS*/ t (a int)"), (DdlKind::Create, vec![q("db", "t")]));
        // An executable comment is run by the server: mysqldump's key toggles are ALTERs.
        assert_eq!(tables("/*!40000 ALTER TABLE `t` DISABLE KEYS */"), (DdlKind::Alter, vec![q("db", "t")]));
        assert_eq!(classify("/*!40101 SET NAMES utf8 */", "db"), Statement::Other);
        assert_eq!(classify("( SELECT 1 )", "db"), Statement::Other);
        assert_eq!(classify("", "db"), Statement::Other);
    }
}
