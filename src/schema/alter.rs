//! How one ALTER TABLE reshapes a table's columns: MariaDB (and MySQL, whose ALTER code it
//! shares) applies a statement's column clauses in an order of its own, not in the order they
//! are written, and the history must follow it exactly.
//!
//! 1. `IF [NOT] EXISTS` is weighed against the table as it was before the statement: ADD COLUMN
//!    IF NOT EXISTS is left out when the table had the column (even if this statement drops or
//!    renames it) or an earlier (re)definition has its name; CHANGE, MODIFY and RENAME COLUMN IF
//!    EXISTS are left out when the table did not have the column; DROP COLUMN IF EXISTS when it did
//!    not, or an earlier DROP names it.
//! 2. The table's columns, in order: a dropped one goes; a CHANGEd or MODIFYed one takes its new
//!    definition in its place; a RENAMEd one its new name; the others stay.
//! 3. Then, in statement order, each added column and each redefined one with FIRST or AFTER goes
//!    to the end, the front, or after the column that has that name by then: AFTER names columns
//!    as they are becoming (an ADD may follow a column that a later clause renames). A MODIFY of a
//!    column the same statement adds replaces it.
//!
//! # Invariants
//! - Columns are named case-insensitively, as MariaDB names them.
//! - What the server would refuse (dropping, changing or renaming a column the table lacks, AFTER
//!   a column it does not have, two columns of one name) is an error, never a guess: the history
//!   must not go on with columns the server does not have.

use super::history::ColumnDef;

/// Where an added or redefined column goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// At the end when added, in its place when redefined.
    Keep,
    First,
    After(String),
}

/// One column clause of an ALTER TABLE.
#[derive(Debug, Clone)]
pub enum ColumnClause {
    Define(Definition),
    Drop { name: String, if_exists: bool },
    Rename { old: String, new: String, if_exists: bool },
}

/// A column of the reshaped table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reshaped {
    pub column: ColumnDef,
    /// The name it had before the statement (`None`: added).
    pub was: Option<String>,
    /// The statement (re)defined it: it has the character set its definition gave.
    pub defined: bool,
}

/// ADD (`redefines: None`), or CHANGE/MODIFY of the column the table had under `redefines`.
#[derive(Debug, Clone)]
pub struct Definition {
    pub column: ColumnDef,
    pub redefines: Option<String>,
    pub position: Position,
    /// ADD … IF NOT EXISTS, CHANGE/MODIFY … IF EXISTS.
    pub conditional: bool,
}

impl Definition {
    fn reshaped(&self, was: Option<String>) -> Reshaped {
        Reshaped { column: self.column.clone(), was, defined: true }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The table's columns after the clauses, in MariaDB's order of operations (see the module doc).
pub fn reshape(columns: &[ColumnDef], clauses: Vec<ColumnClause>) -> Result<Vec<Reshaped>, String> {
    let had = |name: &str| columns.iter().any(|c| same(&c.name, name));
    let mut definitions: Vec<Definition> = Vec::new();
    let (mut drops, mut renames) = (Vec::new(), Vec::new());
    for clause in clauses {
        match clause {
            ColumnClause::Define(definition) => definitions.push(definition),
            ColumnClause::Drop { name, if_exists } => {
                if !if_exists || (had(&name) && !drops.iter().any(|d: &String| same(d, &name))) {
                    drops.push(name);
                }
            }
            ColumnClause::Rename { old, new, if_exists } => {
                if !if_exists || had(&old) {
                    renames.push((old, new));
                }
            }
        }
    }
    // ADD … IF NOT EXISTS first, then CHANGE/MODIFY … IF EXISTS, as the server weighs them.
    let mut i = 0;
    while i < definitions.len() {
        let name = &definitions[i].column.name;
        let exists = had(name) || definitions[..i].iter().any(|d| same(&d.column.name, name));
        if definitions[i].conditional && definitions[i].redefines.is_none() && exists {
            definitions.remove(i);
        } else {
            i += 1;
        }
    }
    definitions.retain(|d| !d.conditional || d.redefines.as_deref().is_none_or(had));

    // The table's columns in order: dropped, redefined in place, renamed or kept. `placed` holds
    // the definitions already in the list for good (redefinitions without a position).
    let mut reshaped: Vec<(Reshaped, Option<usize>)> = Vec::with_capacity(columns.len() + definitions.len());
    let mut placed = vec![false; definitions.len()];
    let mut matched = vec![false; definitions.len()];
    for column in columns {
        if let Some(d) = drops.iter().position(|d| same(d, &column.name)) {
            drops.remove(d);
            continue;
        }
        let was = Some(column.name.clone());
        let redefinition =
            definitions.iter().position(|d| d.redefines.as_deref().is_some_and(|r| same(r, &column.name)));
        if let Some(d) = redefinition {
            matched[d] = true;
            placed[d] = definitions[d].position == Position::Keep;
            reshaped.push((definitions[d].reshaped(was), Some(d)));
            continue;
        }
        let mut column = column.clone();
        if let Some(r) = renames.iter().position(|(old, _)| same(old, &column.name)) {
            column.name = renames.remove(r).1;
        }
        reshaped.push((Reshaped { column, was, defined: false }, None));
    }
    if let Some(name) = drops.first() {
        return Err(format!("DROP COLUMN {name}: no such column"));
    }
    if let Some((old, _)) = renames.first() {
        return Err(format!("RENAME COLUMN {old}: no such column"));
    }

    // Added columns, and redefined ones with a position, in statement order.
    for (d, definition) in definitions.iter().enumerate() {
        if placed[d] {
            continue;
        }
        if let Some(old) = definition.redefines.as_deref().filter(|_| !matched[d]) {
            // A MODIFY of a column this statement adds replaces it.
            let name = &definition.column.name;
            let added = reshaped.iter().position(|(r, _)| r.was.is_none() && same(&r.column.name, name));
            let Some(added) = added else { return Err(format!("column {old}: no such column")) };
            reshaped.remove(added);
        }
        reshaped.retain(|(_, from)| *from != Some(d));
        let was = if matched[d] { definition.redefines.clone() } else { None };
        let entry = (definition.reshaped(was), Some(d));
        match &definition.position {
            Position::Keep => reshaped.push(entry),
            Position::First => reshaped.insert(0, entry),
            Position::After(after) => {
                let at = reshaped
                    .iter()
                    .position(|(r, _)| same(&r.column.name, after))
                    .ok_or_else(|| format!("AFTER {after}: no such column"))?;
                reshaped.insert(at + 1, entry);
            }
        }
    }
    let reshaped: Vec<Reshaped> = reshaped.into_iter().map(|(r, _)| r).collect();
    for (i, r) in reshaped.iter().enumerate() {
        if reshaped[..i].iter().any(|earlier| same(&earlier.column.name, &r.column.name)) {
            return Err(format!("two columns named {}", r.column.name));
        }
    }
    Ok(reshaped)
}

/// A key's columns after the reshape, as the server finds them: by the name a column had, or by
/// the name of a column the statement adds. A part follows its column's new name; a part whose
/// column is dropped leaves the key (a key left with none is gone) unless the statement adds a
/// column of that name, which takes its place.
pub fn follow_key(key: &[String], reshaped: &[Reshaped]) -> Vec<String> {
    key.iter().filter_map(|part| follow_column(part, reshaped)).collect()
}

/// The name a key part's column has after the reshape (`None`: it left the key); see
/// [`follow_key`].
pub fn follow_column(part: &str, reshaped: &[Reshaped]) -> Option<String> {
    let name = |r: &&Reshaped| same(r.was.as_deref().unwrap_or(&r.column.name), part);
    reshaped.iter().find(name).map(|r| r.column.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> ColumnDef {
        ColumnDef { name: name.into(), column_type: data_type.into(), data_type: data_type.into(), charset: None }
    }

    fn table() -> Vec<ColumnDef> {
        ["id", "a", "b", "c"].iter().map(|n| column(n, "int")).collect()
    }

    fn add(name: &str, position: Position) -> ColumnClause {
        ColumnClause::Define(Definition { column: column(name, "text"), redefines: None, position, conditional: false })
    }

    fn change(old: &str, new: &str, position: Position) -> ColumnClause {
        let column = column(new, "text");
        ColumnClause::Define(Definition { column, redefines: Some(old.into()), position, conditional: false })
    }

    fn conditional(mut clause: ColumnClause) -> ColumnClause {
        match &mut clause {
            ColumnClause::Define(definition) => definition.conditional = true,
            ColumnClause::Drop { if_exists, .. } | ColumnClause::Rename { if_exists, .. } => *if_exists = true,
        }
        clause
    }

    fn drop(name: &str) -> ColumnClause {
        ColumnClause::Drop { name: name.into(), if_exists: false }
    }

    fn rename(old: &str, new: &str) -> ColumnClause {
        ColumnClause::Rename { old: old.into(), new: new.into(), if_exists: false }
    }

    fn after(name: &str) -> Position {
        Position::After(name.into())
    }

    /// `name:type` per column, as the results MariaDB 10.11 gave for the same statements.
    fn shape(clauses: Vec<ColumnClause>) -> Result<String, String> {
        let reshaped = reshape(&table(), clauses)?;
        Ok(reshaped.iter().map(|r| format!("{}:{}", r.column.name, r.column.data_type)).collect::<Vec<_>>().join(","))
    }

    #[test]
    fn drops_come_before_adds_whatever_the_order_written() {
        // ALTER TABLE t ADD COLUMN a TEXT, DROP COLUMN a
        assert_eq!(shape(vec![add("a", Position::Keep), drop("a")]).unwrap(), "id:int,b:int,c:int,a:text");
        // ALTER TABLE t ADD a TEXT AFTER b, DROP a
        assert_eq!(shape(vec![add("a", after("b")), drop("a")]).unwrap(), "id:int,b:int,a:text,c:int");
    }

    #[test]
    fn after_names_columns_as_they_are_becoming() {
        // ADD x INT AFTER z, CHANGE a z INT
        assert_eq!(
            shape(vec![add("x", after("z")), change("a", "z", Position::Keep)]).unwrap(),
            "id:int,z:text,x:text,b:int,c:int"
        );
        // ADD x INT AFTER z, RENAME COLUMN a TO z
        assert_eq!(shape(vec![add("x", after("z")), rename("a", "z")]).unwrap(), "id:int,z:int,x:text,b:int,c:int");
        // ADD x INT AFTER a, CHANGE a x2 TEXT: a is x2 by then
        assert!(shape(vec![add("x", after("a")), change("a", "x2", Position::Keep)]).is_err());
        // ADD x INT AFTER x2, CHANGE a x2 TEXT FIRST
        assert_eq!(
            shape(vec![add("x", after("x2")), change("a", "x2", Position::First)]).unwrap(),
            "x2:text,id:int,x:text,b:int,c:int"
        );
        // MODIFY c INT FIRST, ADD x INT, MODIFY a TEXT AFTER x
        assert_eq!(
            shape(vec![change("c", "c", Position::First), add("x", Position::Keep), change("a", "a", after("x"))])
                .unwrap(),
            "c:text,id:int,b:int,x:text,a:text"
        );
        // MODIFY a TEXT AFTER b, MODIFY b TEXT FIRST / the other way round
        assert_eq!(
            shape(vec![change("a", "a", after("b")), change("b", "b", Position::First)]).unwrap(),
            "b:text,id:int,a:text,c:int"
        );
        assert_eq!(
            shape(vec![change("b", "b", Position::First), change("a", "a", after("b"))]).unwrap(),
            "b:text,a:text,id:int,c:int"
        );
        assert!(shape(vec![change("a", "a", after("a"))]).is_err());
    }

    #[test]
    fn renames_and_changes_name_the_columns_the_table_had() {
        // CHANGE a b TEXT, CHANGE b a INT / RENAME COLUMN a TO b, RENAME COLUMN b TO a: swaps.
        assert_eq!(
            shape(vec![change("a", "b", Position::Keep), change("b", "a", Position::Keep)]).unwrap(),
            "id:int,b:text,a:text,c:int"
        );
        assert_eq!(shape(vec![rename("a", "b"), rename("b", "a")]).unwrap(), "id:int,b:int,a:int,c:int");
        // CHANGE a b TEXT AFTER c, CHANGE b a BIGINT FIRST
        assert_eq!(
            shape(vec![change("a", "b", after("c")), change("b", "a", Position::First)]).unwrap(),
            "a:text,id:int,c:int,b:text"
        );
        // RENAME COLUMN a TO z with MODIFY a or DROP a: refused.
        assert!(shape(vec![rename("a", "z"), change("a", "a", Position::Keep)]).is_err());
        assert!(shape(vec![rename("a", "z"), drop("a")]).is_err());
        assert!(shape(vec![rename("A", "a2")]).is_ok(), "names are case-insensitive");
    }

    #[test]
    fn a_modify_of_a_column_the_statement_adds_replaces_it() {
        // ADD x INT FIRST, MODIFY x TEXT: at the end.
        assert_eq!(
            shape(vec![add("x", Position::First), change("x", "x", Position::Keep)]).unwrap(),
            "id:int,a:int,b:int,c:int,x:text"
        );
        // ADD x, ADD y, MODIFY x TEXT FIRST
        assert_eq!(
            shape(vec![add("x", Position::Keep), add("y", Position::Keep), change("x", "x", Position::First)]).unwrap(),
            "x:text,id:int,a:int,b:int,c:int,y:text"
        );
        // ADD x INT, CHANGE x w TEXT: refused.
        assert!(shape(vec![add("x", Position::Keep), change("x", "w", Position::Keep)]).is_err());
    }

    #[test]
    fn if_exists_is_weighed_against_the_table_as_it_was() {
        // DROP a, ADD IF NOT EXISTS a / CHANGE a z, ADD IF NOT EXISTS a: the ADD is left out.
        assert_eq!(shape(vec![drop("a"), conditional(add("a", Position::Keep))]).unwrap(), "id:int,b:int,c:int");
        assert_eq!(
            shape(vec![change("a", "z", Position::Keep), conditional(add("a", Position::Keep))]).unwrap(),
            "id:int,z:text,b:int,c:int"
        );
        // CHANGE a z, ADD IF NOT EXISTS z / ADD x, ADD IF NOT EXISTS x: an earlier definition counts.
        assert_eq!(
            shape(vec![change("a", "z", Position::Keep), conditional(add("z", Position::Keep))]).unwrap(),
            "id:int,z:text,b:int,c:int"
        );
        assert_eq!(
            shape(vec![add("x", Position::Keep), conditional(add("x", Position::Keep))]).unwrap(),
            "id:int,a:int,b:int,c:int,x:text"
        );
        // ADD x, MODIFY IF EXISTS x / ADD x, DROP IF EXISTS x: only the table's columns count.
        assert_eq!(
            shape(vec![add("x", Position::Keep), conditional(change("x", "x", Position::First))]).unwrap(),
            "id:int,a:int,b:int,c:int,x:text"
        );
        assert_eq!(
            shape(vec![add("x", Position::Keep), conditional(drop("x"))]).unwrap(),
            "id:int,a:int,b:int,c:int,x:text"
        );
        // DROP a, DROP IF EXISTS a: dropped once; DROP IF EXISTS a, DROP a: refused.
        assert_eq!(shape(vec![drop("a"), conditional(drop("a"))]).unwrap(), "id:int,b:int,c:int");
        assert!(shape(vec![conditional(drop("a")), drop("a")]).is_err());
        // CHANGE IF EXISTS a z, CHANGE IF EXISTS z y: the second names no column of the table.
        assert_eq!(
            shape(vec![conditional(change("a", "z", Position::Keep)), conditional(change("z", "y", Position::Keep))])
                .unwrap(),
            "id:int,z:text,b:int,c:int"
        );
        assert_eq!(shape(vec![conditional(rename("zz", "yy"))]).unwrap(), "id:int,a:int,b:int,c:int");
    }

    #[test]
    fn keys_follow_their_columns() {
        let reshaped =
            reshape(&table(), vec![rename("id", "k"), drop("b"), change("c", "c2", Position::First)]).unwrap();
        let key = ["ID", "b", "c"].map(String::from);
        assert_eq!(follow_key(&key, &reshaped), ["k", "c2"]);
        // ADD COLUMN (id VARCHAR(10)), DROP COLUMN id: the new id is the key.
        let reshaped = reshape(&table(), vec![add("id", Position::Keep), drop("id")]).unwrap();
        assert_eq!(follow_key(&["id".into()], &reshaped), ["id"]);
        // RENAME COLUMN a TO id, DROP id: no column had or is added as id.
        let reshaped = reshape(&table(), vec![rename("a", "id"), drop("id")]).unwrap();
        assert!(follow_key(&["id".into()], &reshaped).is_empty());
    }
}
