//! Foreign keys whose ON DELETE / ON UPDATE action changes rows: CASCADE, SET NULL, SET DEFAULT.
//!
//! On MariaDB and on MySQL up to 8.x (and 9.x with `innodb_native_foreign_keys=ON`) InnoDB applies
//! these actions below the binlog: the parent's change is logged, the child rows it deletes or
//! updates are not, so no binlog reader can publish them. Sluice cannot recover them either; it
//! names every such foreign key on a captured (child) table, at start from the server's
//! definitions and later from each DDL that declares one, so the gap is never silent.

use super::ddl::QualifiedName;
use super::sql::{Lexer, Parser, Quoting, Token};
use crate::source::preflight::Finding;
use crate::source::{Connection, Flavor, SourceError};

/// One foreign key whose action changes its (child) table's rows when its parent changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cascade {
    pub child: QualifiedName,
    /// The constraint's name, where the statement gives one.
    pub constraint: Option<String>,
    pub parent: QualifiedName,
    /// The changing actions as written, e.g. `ON DELETE CASCADE`.
    pub actions: Vec<String>,
}

impl std::fmt::Display for Cascade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (", self.child)?;
        if let Some(name) = &self.constraint {
            write!(f, "{name} ")?;
        }
        write!(f, "-> {} {})", self.parent, self.actions.join(", "))
    }
}

/// The changing foreign keys a CREATE TABLE or ALTER TABLE text declares on `child` (a binlog
/// statement, or `SHOW CREATE TABLE`'s), whether as a table constraint or on a column.
pub fn declared_in(sql: &str, default_schema: &str, quoting: Quoting, child: &QualifiedName) -> Vec<Cascade> {
    let tokens: Vec<Token> = Lexer::quoting(sql, quoting).collect();
    let mut p = Parser::new(&tokens, default_schema);
    let mut cascades = Vec::new();
    let mut constraint = None;
    while let Some(token) = p.peek() {
        p.at += 1;
        if token.punct() && token.text == "," {
            constraint = None;
        } else if token.is_word("CONSTRAINT") && !p.at_words(&["FOREIGN"]) && !p.at_words(&["CHECK"]) {
            constraint = Some(p.ident()).filter(|name| !name.is_empty());
        } else if token.is_word("FOREIGN") && p.eat_word("KEY") {
            // Its optional index name and column list, whose commas do not end the constraint.
            if !p.peek_is("(") {
                p.ident();
            }
            if p.eat("(") && p.until_close().is_err() {
                break;
            }
        } else if token.is_word("REFERENCES") {
            let parent = p.name();
            if p.eat("(") && p.until_close().is_err() {
                break;
            }
            let actions = referential_actions(&mut p);
            let changing = actions.iter().filter(|a| !a.ends_with("RESTRICT") && !a.ends_with("NO ACTION"));
            let actions: Vec<String> = changing.cloned().collect();
            if !actions.is_empty() {
                cascades.push(Cascade { child: child.clone(), constraint: constraint.take(), parent, actions });
            }
        }
    }
    cascades
}

/// `MATCH …` and `ON DELETE|UPDATE action` clauses after a REFERENCES' column list.
fn referential_actions(p: &mut Parser<'_>) -> Vec<String> {
    let mut actions = Vec::new();
    loop {
        if p.eat_word("MATCH") {
            p.word();
        } else if p.at_words(&["ON", "DELETE"]) || p.at_words(&["ON", "UPDATE"]) {
            p.at += 1;
            let event = p.word();
            let action = match p.word().as_str() {
                two @ ("SET" | "NO") => format!("{two} {}", p.word()),
                one => one.to_owned(),
            };
            actions.push(format!("ON {event} {action}"));
        } else {
            return actions;
        }
    }
}

/// How many foreign keys a finding names before it counts the rest.
const NAMED: usize = 10;

/// The changing foreign keys on captured tables, as a warning (none where the server logs what
/// their actions change). Reads `information_schema.KEY_COLUMN_USAGE`, which the SELECT privilege
/// shows (MariaDB shows `REFERENTIAL_CONSTRAINTS` only to users with more), then each such table's
/// `SHOW CREATE TABLE`.
pub async fn check(
    conn: &mut Connection,
    captured: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<Option<Finding>, SourceError> {
    if conn.flavor == Flavor::Mysql
        && conn.global_variable("innodb_native_foreign_keys").await?.is_some_and(|v| v.eq_ignore_ascii_case("OFF"))
    {
        return Ok(None);
    }
    let children = conn
        .query(
            "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_SCHEMA, TABLE_NAME",
        )
        .await?;
    let mut cascades = Vec::new();
    for row in &children.rows {
        let child = QualifiedName { schema: row.text(0).unwrap_or_default(), table: row.text(1).unwrap_or_default() };
        if !captured(&child.schema, &child.table) {
            continue;
        }
        let quote = |name: &str| format!("`{}`", name.replace('`', "``"));
        let shown = conn.query(&format!("SHOW CREATE TABLE {}.{}", quote(&child.schema), quote(&child.table))).await;
        let definition = match shown {
            Ok(rs) => rs.rows.first().and_then(|r| r.text(1)).unwrap_or_default(),
            // Dropped since KEY_COLUMN_USAGE listed it.
            Err(SourceError::Server { code: 1146, .. }) => continue,
            Err(e) => return Err(e),
        };
        cascades.extend(declared_in(&definition, &child.schema, Quoting::default(), &child));
    }
    Ok(finding(&cascades))
}

/// One warning naming the first [`NAMED`] foreign keys and counting the rest.
pub fn finding(cascades: &[Cascade]) -> Option<Finding> {
    if cascades.is_empty() {
        return None;
    }
    let mut named: Vec<String> = cascades.iter().take(NAMED).map(ToString::to_string).collect();
    if cascades.len() > NAMED {
        named.push(format!("and {} more", cascades.len() - NAMED));
    }
    Some(Finding::warning(
        format!(
            "{} foreign key(s) change captured tables when their parent changes, and the server does not write \
             those changes to the binlog, so Sluice cannot publish them (only the parent's change): {}",
            cascades.len(),
            named.join("; ")
        ),
        "have the application change the child rows itself before the parent's (ON DELETE/UPDATE RESTRICT), \
         or let consumers derive them from the parent's change",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(schema: &str, table: &str) -> QualifiedName {
        QualifiedName { schema: schema.into(), table: table.into() }
    }

    #[test]
    fn show_create_tables_constraints_are_read_with_their_actions() {
        let shown = "CREATE TABLE `chi` (\n  `id` int(11) NOT NULL,\n  `pid` int(11) DEFAULT NULL,\n  \
                     `oid` int(11) DEFAULT NULL,\n  `rid` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  \
                     KEY `pid` (`pid`),\n  CONSTRAINT `chi_ibfk_1` FOREIGN KEY (`pid`) REFERENCES `par` (`id`) \
                     ON DELETE CASCADE ON UPDATE CASCADE,\n  CONSTRAINT `to other db` FOREIGN KEY (`oid`) \
                     REFERENCES `other`.`o``p` (`id`) ON DELETE SET NULL,\n  CONSTRAINT `kept` FOREIGN KEY \
                     (`rid`) REFERENCES `par` (`id`) ON DELETE RESTRICT ON UPDATE NO ACTION,\n  CONSTRAINT \
                     `positive` CHECK (`id` > 0)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
        let child = name("p", "chi");
        let found = declared_in(shown, "p", Quoting::default(), &child);
        assert_eq!(
            found,
            [
                Cascade {
                    child: child.clone(),
                    constraint: Some("chi_ibfk_1".into()),
                    parent: name("p", "par"),
                    actions: vec!["ON DELETE CASCADE".into(), "ON UPDATE CASCADE".into()],
                },
                Cascade {
                    child: child.clone(),
                    constraint: Some("to other db".into()),
                    parent: name("other", "o`p"),
                    actions: vec!["ON DELETE SET NULL".into()],
                },
            ]
        );
        assert_eq!(found[0].to_string(), "p.chi (chi_ibfk_1 -> p.par ON DELETE CASCADE, ON UPDATE CASCADE)");
    }

    #[test]
    fn ddl_declares_them_unnamed_on_columns_and_in_alters() {
        let child = name("db", "c");
        let alter = "ALTER TABLE c ADD FOREIGN KEY (a) REFERENCES p (id) MATCH FULL ON UPDATE SET DEFAULT, \
                     ADD CONSTRAINT k FOREIGN KEY (b) REFERENCES q (id), \
                     ADD CONSTRAINT two FOREIGN KEY fk_ab (a, b) REFERENCES x.pq (a, b) ON DELETE CASCADE";
        let found: Vec<String> =
            declared_in(alter, "db", Quoting::default(), &child).iter().map(ToString::to_string).collect();
        assert_eq!(found, ["db.c (-> db.p ON UPDATE SET DEFAULT)", "db.c (two -> x.pq ON DELETE CASCADE)"]);
        let create = "CREATE TABLE c (id INT PRIMARY KEY, a INT REFERENCES p(id) ON DELETE CASCADE)";
        assert_eq!(
            declared_in(create, "db", Quoting::default(), &child)[0].to_string(),
            "db.c (-> db.p ON DELETE CASCADE)"
        );
        assert!(
            declared_in(
                "CREATE TABLE c (id INT, r VARCHAR(10) COMMENT 'REFERENCES p ON DELETE CASCADE')",
                "db",
                Quoting::default(),
                &child
            )
            .is_empty()
        );
    }

    #[test]
    fn the_warning_names_ten_and_counts_the_rest() {
        assert!(finding(&[]).is_none());
        let one = Cascade {
            child: name("a", "b"),
            constraint: None,
            parent: name("a", "p"),
            actions: vec!["ON DELETE CASCADE".into()],
        };
        let problem = finding(&vec![one; 12]).unwrap().problem;
        assert!(problem.starts_with("12 foreign key(s)"), "{problem}");
        assert_eq!(problem.matches("a.b (-> a.p ON DELETE CASCADE)").count(), 10, "{problem}");
        assert!(problem.ends_with("; and 2 more"), "{problem}");
    }
}
