//! A table's indexes other than the primary key, kept for one purpose: knowing which UNIQUE keys
//! MariaDB keeps as a hash in a hidden column (`DB_ROW_HASH_n`, one BIGINT per key, after every
//! other column of a row). The binlog's rows carry these columns and information_schema does not
//! list them; without `binlog_row_metadata=FULL` nothing in the binlog names them either, so the
//! schema history must know how many a table has at each position.
//!
//! What MariaDB does, measured on 10.11 (InnoDB, MyISAM, Aria, MEMORY):
//! - A UNIQUE key is a hash when one of its parts is a TEXT/BLOB/JSON/GEOMETRY column without a
//!   prefix (POINT counts 25 bytes), when a part or all of them together are longer than the
//!   engine's B-tree allows (InnoDB 3072 bytes, MyISAM 1000; a character column counts its
//!   character set's widest character per character, a system-versioned table adds `row_end`'s 7
//!   bytes), or when the statement that declares it says `USING HASH` (or `TYPE HASH`). Aria
//!   refuses such keys; MEMORY cannot have them.
//! - `USING HASH` lasts until the table is next rebuilt: any ALTER TABLE that does more than
//!   rename it, CREATE/DROP INDEX, OPTIMIZE TABLE, or a copy by CREATE TABLE … LIKE. Every key is
//!   then judged by its parts alone. RENAME TABLE and TRUNCATE keep it, and so does an ALTER
//!   whose clauses are all IF [NOT] EXISTS (without FIRST/AFTER) and change nothing.
//! - `ADD … IF NOT EXISTS` of a key is weighed against the keys the table had and those the
//!   statement added before it, by the name the key would get; a column's own UNIQUE key shares
//!   the IF NOT EXISTS of its ADD COLUMN (and the IF EXISTS of its MODIFY/CHANGE).
//! - A key without a name is named after its first column, with `_2`, `_3`… when a key declared
//!   before it (unique or not) has that name; `CONSTRAINT c UNIQUE (…)` is named `c` unless the
//!   key names itself.
//! - A dropped column leaves the keys that hold it, and a key left without parts goes; a renamed
//!   column is renamed in them. (MariaDB refuses to drop a column of a multi-column UNIQUE key.)
//!   A prefix is kept in characters through character set changes (see [`follow_columns`]).
//!
//! # Invariants
//! - A wrong guess can only make the history's column count differ from a TABLE_MAP's, which
//!   stops the run (see the registry): hash columns come after all others and are all alike, so no
//!   value can land under another column's name.
//! - MySQL and MariaDB before 10.4 make no such keys (they refuse them, or make `USING HASH` on
//!   InnoDB a B-tree): the registry counts hash columns for binlogs of MariaDB 10.4+ only.

use super::alter::{self, Reshaped};
use super::history::{ColumnDef, TableDef, max_char_bytes, split_top_level};
use super::sql::{Parser, Token};
use crate::binlog::format_description::release;

/// The name of a hidden hash column, numbered from 1 (`binlog_row_metadata=FULL` names them so).
pub const HASH_COLUMN_PREFIX: &str = "DB_ROW_HASH_";

/// An index other than the primary key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    pub parts: Vec<KeyPart>,
    /// MariaDB keeps it as a hash in a hidden column.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hash: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyPart {
    pub column: String,
    /// `col(n)`: the first n characters (bytes of a binary column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<u64>,
}

/// A key as one statement declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DeclaredKey {
    /// Its own name, or its constraint's (`None`: named after its first column).
    pub name: Option<String>,
    pub unique: bool,
    pub parts: Vec<KeyPart>,
    /// `USING HASH` / `TYPE HASH`.
    pub using_hash: bool,
    /// `ADD UNIQUE IF NOT EXISTS name …`: left out when a key has the name.
    pub if_not_exists: bool,
}

impl DeclaredKey {
    /// The name IF NOT EXISTS weighs: its own, else its first column's (the name it would get).
    pub(super) fn checked_name(&self) -> &str {
        self.name.as_deref().or(self.parts.first().map(|p| p.column.as_str())).unwrap_or_default()
    }
}

/// A key item of a CREATE TABLE list or an ALTER ADD (`p` at its first token): `[CONSTRAINT
/// [symbol]] {UNIQUE [INDEX|KEY] | INDEX | KEY | FULLTEXT [INDEX|KEY] | SPATIAL [INDEX|KEY]} [IF
/// NOT EXISTS] [name] [USING type] (part, …) [options]`. `None` for other constraints (PRIMARY
/// KEY, FOREIGN KEY, CHECK) and for MySQL's functional key parts.
pub(super) fn declared(p: &mut Parser<'_>) -> Option<DeclaredKey> {
    let using_hash = says_using_hash(p.rest());
    let mut constraint = None;
    if p.eat_word("CONSTRAINT") && !["UNIQUE", "PRIMARY", "FOREIGN", "CHECK"].iter().any(|w| p.at_words(&[w])) {
        constraint = Some(p.ident());
    }
    let unique = match p.word().as_str() {
        "UNIQUE" => true,
        "INDEX" | "KEY" | "FULLTEXT" | "SPATIAL" => false,
        _ => return None,
    };
    p.skip_words(&["INDEX", "KEY"]);
    let if_not_exists = p.skip_if_not_exists();
    let own_name =
        if p.peek_is("(") || p.at_words(&["USING"]) || p.at_words(&["TYPE"]) { None } else { Some(p.ident()) };
    let name = own_name.filter(|n| !n.is_empty()).or(constraint.filter(|c| !c.is_empty()));
    with_parts(p, DeclaredKey { name, unique, parts: Vec::new(), using_hash, if_not_exists })
}

/// `key` with the parts of the next `(part, …)` list: `col`, `col(n)`, `col DESC`.
pub(super) fn with_parts(p: &mut Parser<'_>, mut key: DeclaredKey) -> Option<DeclaredKey> {
    while !p.eat("(") {
        if p.at_end() {
            return None;
        }
        p.at += 1;
    }
    for part in split_top_level(p.until_close().ok()?) {
        let [column, rest @ ..] = part else { continue };
        if column.punct() {
            return None; // a functional key part (MySQL): see the history's hidden columns
        }
        let prefix = match rest {
            [open, n, close, ..] if open.punct() && open.text == "(" && close.text == ")" => n.text.parse().ok(),
            _ => None,
        };
        key.parts.push(KeyPart { column: column.text.clone(), prefix });
    }
    Some(key)
}

/// `USING HASH` or `TYPE HASH` among a key's tokens (before or after its parts).
pub(super) fn says_using_hash(tokens: &[Token]) -> bool {
    tokens.windows(2).any(|w| (w[0].is_word("USING") || w[0].is_word("TYPE")) && w[1].is_word("HASH"))
}

/// Add a declared key to the table's, naming it as MariaDB does. Returns its name (`None`: left
/// out by IF NOT EXISTS).
fn add(def: &mut TableDef, mut key: DeclaredKey) -> Option<String> {
    // Parts name their columns in any case; the key (and a name made from it) spells them as the
    // columns are spelled.
    for part in &mut key.parts {
        if let Some(column) = def.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&part.column)) {
            column.name.clone_into(&mut part.column);
            // A TEXT/BLOB prefix longer than the type holds is cut to what it holds.
            if let (Some(prefix), Some(max)) = (part.prefix, blob_max_bytes(&column.data_type)) {
                part.prefix = Some(prefix.min(max));
            }
        }
    }
    if key.if_not_exists && has(def, key.checked_name()) {
        return None;
    }
    let name = match key.name {
        Some(name) => name,
        None => {
            let first = key.parts.first().map(|p| p.column.clone()).unwrap_or_default();
            let mut name = first.clone();
            let mut n = 2;
            while has(def, &name) {
                name = format!("{first}_{n}");
                n += 1;
            }
            name
        }
    };
    def.keys.push(KeyDef { name: name.clone(), unique: key.unique, parts: key.parts, hash: false });
    Some(name)
}

/// A column attribute `UNIQUE [KEY]` (or the type SERIAL, or `SERIAL DEFAULT VALUE`: NOT NULL
/// AUTO_INCREMENT UNIQUE): a UNIQUE key of that column.
pub(super) fn column_unique_key(item: &[Token], column: &str) -> Option<DeclaredKey> {
    let serial = item.get(1).is_some_and(|t| t.is_word("SERIAL"))
        || item.windows(3).any(|w| w[0].is_word("SERIAL") && w[1].is_word("DEFAULT") && w[2].is_word("VALUE"));
    (serial || item.iter().skip(2).any(|t| t.is_word("UNIQUE"))).then(|| DeclaredKey {
        name: None,
        unique: true,
        parts: vec![KeyPart { column: column.to_owned(), prefix: None }],
        using_hash: false,
        if_not_exists: false,
    })
}

/// One row of information_schema.STATISTICS (a key part; rows of a key in SEQ_IN_INDEX order)
/// for a key other than the primary key. A UNIQUE key of type HASH is one MariaDB keeps as a
/// hash, except on engines whose own indexes are hashes (MEMORY).
pub(super) fn listed(
    def: &mut TableDef,
    name: String,
    unique: bool,
    column: Option<String>,
    sub_part: Option<u64>,
    index_type: &str,
) {
    let index = match def.keys.iter().position(|k| k.name == name) {
        Some(index) => index,
        None => {
            let hash = unique && index_type == "HASH" && BtreeLimits::of_engine(def.engine.as_deref()).is_some();
            def.keys.push(KeyDef { name, unique, parts: Vec::new(), hash });
            def.keys.len() - 1
        }
    };
    // A functional key part (MySQL) names no column.
    if let Some(column) = column {
        def.keys[index].parts.push(KeyPart { column, prefix: sub_part });
    }
}

/// Whether the table has a key of this name (case-insensitive; PRIMARY is the primary key's).
pub(super) fn has(def: &TableDef, name: &str) -> bool {
    name.eq_ignore_ascii_case("PRIMARY") || def.keys.iter().any(|k| k.name.eq_ignore_ascii_case(name))
}

/// Drop the key of this name (case-insensitive), if the table has one.
pub(super) fn drop(def: &mut TableDef, name: &str) {
    def.keys.retain(|k| !k.name.eq_ignore_ascii_case(name));
}

/// One ALTER's RENAME INDEX clauses, (old, new) each: every one names a key as the table had it
/// (`RENAME INDEX a TO b, RENAME INDEX b TO a` swaps them).
pub(super) fn rename(def: &mut TableDef, renames: &[(String, String)]) {
    let found: Vec<(usize, &String)> = renames
        .iter()
        .filter_map(|(old, new)| Some((def.keys.iter().position(|k| k.name.eq_ignore_ascii_case(old))?, new)))
        .collect();
    for (index, new) in found {
        new.clone_into(&mut def.keys[index].name);
    }
}

/// The keys after an ALTER reshaped the columns (`def.columns` as they are now, `old` as they were):
/// each part follows its column as the primary key does ([`alter::follow_column`]), and a key left
/// without parts goes. A prefix keeps its number of characters whatever the column's new character
/// set, and is the whole column again when that is no longer (than its length, or the bytes a
/// TEXT/BLOB holds) or its new type takes no prefix; a column dropped and added again
/// under its name keeps the old column's length as a prefix ([`readded_prefix`], measured on
/// MariaDB 10.11).
pub(super) fn follow_columns(def: &mut TableDef, old: &[ColumnDef], reshaped: &[Reshaped]) {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    for key in &mut def.keys {
        key.parts.retain_mut(|part| {
            let Some(now) = alter::follow_column(&part.column, reshaped) else { return false };
            let readded = reshaped.iter().any(|r| r.was.is_none() && same(&r.column.name, &now));
            let before = old.iter().find(|c| same(&c.name, &part.column));
            let after = def.columns.iter().find(|c| same(&c.name, &now));
            if readded && part.prefix.is_none() {
                part.prefix = before.and_then(readded_prefix);
            } else if !readded
                && let (Some(prefix), Some(after)) = (part.prefix, after)
                && (!takes_prefix(&after.data_type)
                    || declared_length(after).is_some_and(|length| prefix >= length)
                    || blob_max_bytes(&after.data_type).is_some_and(|max| prefix > max))
            {
                part.prefix = None;
            }
            part.column = now;
            true
        });
    }
    def.keys.retain(|k| !k.parts.is_empty());
}

/// The prefix a key part on all of `old` gets when an ALTER drops that column and adds one of the
/// same name: the old part's length in bytes, in characters of the old column's character set
/// (MariaDB divides by its widest character), so a CHAR/VARCHAR's declared length and, say, an
/// INT's 4 bytes; none when that comes to zero (an ENUM/SET of utf8mb4, 1 byte / 4).
fn readded_prefix(old: &ColumnDef) -> Option<u64> {
    let per_char = old.charset.as_deref().map_or(1, max_char_bytes);
    declared_length(old).or_else(|| part_bytes(old, None).map(|bytes| bytes / per_char)).filter(|&chars| chars > 0)
}

/// Whether a key part of a column of this type can be a prefix (a character, binary or TEXT/BLOB
/// type).
fn takes_prefix(data_type: &str) -> bool {
    matches!(data_type, "char" | "varchar" | "binary" | "varbinary") || blob_max_bytes(data_type).is_some()
}

/// A CHAR/VARCHAR/BINARY/VARBINARY column's declared length (`None` for other types).
fn declared_length(column: &ColumnDef) -> Option<u64> {
    matches!(column.data_type.as_str(), "char" | "varchar" | "binary" | "varbinary")
        .then(|| type_arguments(&column.column_type).first().copied())
        .flatten()
}

/// The numbers in a type's parentheses: `decimal(8,2)` → 8, 2.
fn type_arguments(column_type: &str) -> Vec<u64> {
    column_type
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(args, _)| args.split(',').filter_map(|a| a.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Name and add the keys a statement declares, in the order written, then judge every UNIQUE key
/// anew: the statement rebuilt the table, so `USING HASH` only holds for the keys it declares.
pub(super) fn rebuilt(def: &mut TableDef, declared: Vec<DeclaredKey>) {
    let mut hashed = Vec::new();
    for key in declared {
        let using_hash = key.using_hash;
        if let Some(name) = add(def, key)
            && using_hash
        {
            hashed.push(name);
        }
    }
    judge(def, &hashed);
}

/// Judge every UNIQUE key: a hash when its parts need one, or when the statement declared it
/// `USING HASH` (`hashed`: the names of those keys).
fn judge(def: &mut TableDef, hashed: &[String]) {
    let limits = BtreeLimits::of_engine(def.engine.as_deref());
    let versioned = def.implicit_row_period;
    let columns = def.columns.clone();
    for key in def.keys.iter_mut().filter(|k| k.unique) {
        key.hash = match limits {
            None => false,
            Some(limits) => {
                hashed.iter().any(|n| n.eq_ignore_ascii_case(&key.name)) || limits.too_long(key, &columns, versioned)
            }
        };
    }
}

/// Whether the server of this version (a FORMAT_DESCRIPTION's) keeps long UNIQUE keys as hashes:
/// MariaDB from 10.4 on (before, `USING HASH` on InnoDB was a B-tree and the others were refused).
pub fn server_hashes_unique_keys(version: &str) -> bool {
    version.contains("MariaDB") && release(version) >= (10, 4, 0)
}

/// How many hidden hash columns rows of the table carry (MariaDB).
pub fn hash_columns(def: &TableDef) -> usize {
    def.keys.iter().filter(|k| k.hash).count()
}

/// The longest key part and key an engine's B-tree holds, in bytes.
#[derive(Debug, Clone, Copy)]
struct BtreeLimits {
    part: u64,
    key: u64,
}

impl BtreeLimits {
    /// `None`: the engine never keeps a UNIQUE key as a hash (Aria refuses one, MEMORY cannot).
    /// An engine not named (the server's default) or not measured is taken as InnoDB.
    fn of_engine(engine: Option<&str>) -> Option<Self> {
        match engine.map(str::to_ascii_lowercase).as_deref() {
            Some("aria" | "memory" | "heap") => None,
            Some("myisam" | "mrg_myisam") => Some(Self { part: 1000, key: 1000 }),
            _ => Some(Self { part: 3072, key: 3072 }),
        }
    }

    fn too_long(self, key: &KeyDef, columns: &[ColumnDef], versioned: bool) -> bool {
        const ROW_END_BYTES: u64 = 7;
        let mut total = if versioned { ROW_END_BYTES } else { 0 };
        for part in &key.parts {
            let Some(column) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(&part.column)) else { continue };
            match part_bytes(column, part.prefix) {
                Some(bytes) if bytes <= self.part => total += bytes,
                _ => return true,
            }
        }
        total > self.key
    }
}

/// Bytes a key part takes; `None` for a TEXT/BLOB/JSON/GEOMETRY column without a prefix.
/// The most bytes a TEXT/BLOB type holds (`None` for other types): a longer prefix is cut to it.
fn blob_max_bytes(data_type: &str) -> Option<u64> {
    match data_type {
        "tinytext" | "tinyblob" => Some(255),
        "text" | "blob" => Some(65_535),
        "mediumtext" | "mediumblob" => Some(16_777_215),
        "longtext" | "longblob" | "json" => Some(4_294_967_295),
        _ => None,
    }
}

fn part_bytes(column: &ColumnDef, prefix: Option<u64>) -> Option<u64> {
    let per_char = column.charset.as_deref().map_or(1, max_char_bytes);
    let args = type_arguments(&column.column_type);
    let arg = |i: usize, default: u64| args.get(i).copied().unwrap_or(default);
    let fraction = || arg(0, 0).div_ceil(2);
    Some(match column.data_type.as_str() {
        "char" | "varchar" => prefix.unwrap_or(arg(0, 1)).min(arg(0, 1)).saturating_mul(per_char),
        "binary" | "varbinary" => prefix.unwrap_or(arg(0, 1)).min(arg(0, 1)),
        "tinytext" | "text" | "mediumtext" | "longtext" | "json" => prefix?.saturating_mul(per_char),
        "point" => 25,
        "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry" | "linestring" | "polygon" | "multipoint"
        | "multilinestring" | "multipolygon" | "geometrycollection" => prefix?,
        "tinyint" | "year" => 1,
        "smallint" => 2,
        "mediumint" | "date" => 3,
        "int" | "float" | "inet4" => 4,
        "bigint" | "double" => 8,
        "decimal" => crate::binlog::decimal::binary_size(arg(0, 10) as usize, arg(1, 0) as usize) as u64,
        "time" => 3 + fraction(),
        "timestamp" => 4 + fraction(),
        "datetime" => 5 + fraction(),
        "bit" => arg(0, 1).div_ceil(8),
        "enum" => {
            if labels(&column.column_type) > 255 {
                2
            } else {
                1
            }
        }
        "set" => match labels(&column.column_type).div_ceil(8) {
            bytes @ 0..=4 => bytes as u64,
            _ => 8,
        },
        "inet6" | "uuid" => 16,
        _ => 8,
    })
}

/// How many labels an `enum('a','b')` / `set(…)` type has.
fn labels(column_type: &str) -> usize {
    super::registry::parse_labels(column_type).map_or(0, |l| l.len())
}

#[cfg(test)]
mod tests {
    use super::server_hashes_unique_keys;
    use crate::schema::history::SchemaHistory;

    fn keys(h: &SchemaHistory, table: &str) -> Vec<(String, bool)> {
        let name = crate::schema::ddl::QualifiedName { schema: "db".into(), table: table.into() };
        h.get(&name).unwrap().keys.iter().map(|k| (k.name.clone(), k.hash)).collect()
    }

    fn apply(h: &mut SchemaHistory, sql: &str) {
        h.apply(sql, "db").unwrap_or_else(|e| panic!("{e}"));
    }

    /// Names and hashes as MariaDB 10.11 made them (information_schema.STATISTICS).
    #[test]
    fn keys_are_named_and_judged_as_mariadb_does() {
        let mut h = SchemaHistory::default();
        apply(
            &mut h,
            "CREATE TABLE f1 (a INT, b INT UNIQUE, c INT, UNIQUE(a), UNIQUE(a), CONSTRAINT cs UNIQUE (c), \
             CONSTRAINT cs2 UNIQUE KEY kk (c), UNIQUE KEY (a,b), UNIQUE INDEX (c), KEY (a), CONSTRAINT UNIQUE (b))",
        );
        let names: Vec<String> = keys(&h, "f1").into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["b", "a", "a_2", "cs", "kk", "a_3", "c", "a_4", "b_2"]);
        let hashes = [
            ("CREATE TABLE b1 (a VARCHAR(768), UNIQUE(a)) CHARSET utf8mb4", false),
            ("CREATE TABLE b2 (a VARCHAR(769), UNIQUE(a)) CHARSET utf8mb4", true),
            ("CREATE TABLE b3 (i INT, a VARCHAR(767), UNIQUE(i,a)) CHARSET utf8mb4", false),
            ("CREATE TABLE d1 (i INT, a VARCHAR(768), UNIQUE(i,a)) CHARSET utf8mb4", true),
            ("CREATE TABLE b6 (i INT, UNIQUE(i) USING HASH)", true),
            ("CREATE TABLE b7 (a VARCHAR(1000), UNIQUE(a(768))) CHARSET utf8mb4", false),
            ("CREATE TABLE b8 (a VARCHAR(1000), UNIQUE(a(769))) CHARSET utf8mb4", true),
            ("CREATE TABLE b9 (a TEXT, UNIQUE(a(3072))) CHARSET latin1", false),
            ("CREATE TABLE m1 (a VARCHAR(250), UNIQUE(a)) CHARSET utf8mb4 ENGINE=MyISAM", false),
            ("CREATE TABLE m2 (a VARCHAR(251), UNIQUE(a)) CHARSET utf8mb4 ENGINE=MyISAM", true),
            ("CREATE TABLE a6 (a VARCHAR(2001), UNIQUE(a)) CHARSET latin1 ENGINE=Aria", false),
            (
                "CREATE TABLE e3 (a CHAR(255), b CHAR(255), c CHAR(255), d CHAR(3), UNIQUE(a,b,c,d)) CHARSET utf8mb4",
                false,
            ),
            (
                "CREATE TABLE e4 (a CHAR(255), b CHAR(255), c CHAR(255), d CHAR(4), UNIQUE(a,b,c,d)) CHARSET utf8mb4",
                true,
            ),
            ("CREATE TABLE e6 (a VARBINARY(3073), UNIQUE(a))", true),
            ("CREATE TABLE f9 (a VARCHAR(766), UNIQUE(a)) CHARSET utf8mb4 WITH SYSTEM VERSIONING", false),
            ("CREATE TABLE g1 (a VARCHAR(767), UNIQUE(a)) CHARSET utf8mb4 WITH SYSTEM VERSIONING", true),
            ("CREATE TABLE p4 (p POINT NOT NULL, UNIQUE(p))", false),
            ("CREATE TABLE p5 (g GEOMETRY, UNIQUE(g))", true),
            ("CREATE TABLE p6 (a VARCHAR(100), UNIQUE u3 TYPE HASH (a))", true),
            ("CREATE TABLE x1 (a TEXT, KEY (a(10)), UNIQUE (a(10)))", false),
        ];
        for (create, hash) in hashes {
            apply(&mut h, create);
            let table = create.split_whitespace().nth(2).unwrap();
            assert_eq!(keys(&h, table).iter().filter(|k| k.1).count(), usize::from(hash), "{create}");
        }
    }

    /// A column dropped and added again under its name: its keys keep the old part's bytes as a
    /// prefix in characters of the old character set (as MariaDB 10.11 did: SUB_PART 1, 4 and 8,
    /// hashes where that came to nothing).
    #[test]
    fn a_readded_column_keeps_the_old_bytes_in_characters_as_its_prefix() {
        let mut h = SchemaHistory::default();
        apply(
            &mut h,
            "CREATE TABLE ra (s SET('x','y'), e ENUM('a','b') CHARSET latin1, i INT, \
             s9 SET('a','b','c','d','e','f','g','h','i') CHARSET utf8mb3, b BIGINT, UNIQUE KEY ks (s), \
             UNIQUE KEY ke (e), UNIQUE KEY ki (i), UNIQUE KEY ks9 (s9), UNIQUE KEY kb (b)) CHARSET utf8mb4",
        );
        apply(
            &mut h,
            "ALTER TABLE ra DROP COLUMN s, ADD COLUMN s MEDIUMTEXT, DROP COLUMN e, ADD COLUMN e MEDIUMTEXT, \
             DROP COLUMN i, ADD COLUMN i MEDIUMTEXT, DROP COLUMN s9, ADD COLUMN s9 MEDIUMTEXT, DROP COLUMN b, \
             ADD COLUMN b MEDIUMTEXT",
        );
        let name = crate::schema::ddl::QualifiedName { schema: "db".into(), table: "ra".into() };
        let parts: Vec<(String, Option<u64>, bool)> =
            h.get(&name).unwrap().keys.iter().map(|k| (k.name.clone(), k.parts[0].prefix, k.hash)).collect();
        let expected = [("ks", None, true), ("ke", Some(1), false), ("ki", Some(4), false), ("ks9", None, true)];
        let expected = expected.into_iter().chain([("kb", Some(8), false)]).map(|(n, p, h)| (n.to_owned(), p, h));
        assert_eq!(parts, expected.collect::<Vec<_>>());
    }

    /// The binlog's DDL is input like any other: lengths no server accepts must not overflow.
    #[test]
    fn absurd_lengths_are_judged_without_overflow() {
        let mut h = SchemaHistory::default();
        let max = u64::MAX;
        for create in [
            format!("CREATE TABLE o1 (a VARCHAR({max}) CHARSET utf8mb4, UNIQUE(a))"),
            format!("CREATE TABLE o2 (a TEXT CHARSET utf8mb4, b DECIMAL({max},{max}), UNIQUE(a({max}), b))"),
        ] {
            let _ = h.apply(&create, "db");
        }
    }

    #[test]
    fn only_mariadb_from_10_4_hashes_keys() {
        for (version, hashes) in
            [("10.11.6-MariaDB-0+deb12u1-log", true), ("5.5.5-10.11.6-MariaDB", true), ("11.4.2-MariaDB", true)]
                .into_iter()
                .chain([("10.3.39-MariaDB-log", false), ("5.5.5-10.3.1-MariaDB", false), ("8.0.36", false)])
        {
            assert_eq!(server_hashes_unique_keys(version), hashes, "{version}");
        }
    }

    #[test]
    fn using_hash_lasts_until_the_table_is_rebuilt() {
        let mut h = SchemaHistory::default();
        let hashed =
            |h: &SchemaHistory, t: &str| keys(h, t).iter().filter(|k| k.1).map(|k| k.0.clone()).collect::<Vec<_>>();
        apply(&mut h, "CREATE TABLE d (i INT, j INT, UNIQUE(i) USING HASH)");
        apply(&mut h, "RENAME TABLE d TO d2");
        apply(&mut h, "ALTER TABLE d2 RENAME TO d");
        apply(&mut h, "TRUNCATE TABLE d");
        assert_eq!(hashed(&h, "d"), ["i"]);
        apply(&mut h, "CREATE TABLE copy LIKE d");
        assert_eq!(hashed(&h, "copy"), Vec::<String>::new());
        apply(&mut h, "ALTER TABLE d ADD UNIQUE (j) USING HASH");
        assert_eq!(hashed(&h, "d"), ["j"]);
        apply(&mut h, "OPTIMIZE TABLE d");
        assert_eq!(hashed(&h, "d"), Vec::<String>::new());
        apply(&mut h, "CREATE UNIQUE INDEX ci ON d (j) USING HASH");
        assert_eq!(hashed(&h, "d"), ["ci"]);
        apply(&mut h, "DROP INDEX ci ON d");
        assert_eq!(keys(&h, "d").len(), 2);
        // Long keys follow their columns: a TEXT column made short, a short one converted wide.
        apply(&mut h, "CREATE TABLE c (a TEXT, b VARCHAR(1000), UNIQUE KEY ka (a), UNIQUE KEY kb (b)) CHARSET latin1");
        assert_eq!(hashed(&h, "c"), ["ka"]);
        apply(&mut h, "ALTER TABLE c MODIFY a VARCHAR(10), CONVERT TO CHARACTER SET utf8mb4");
        assert_eq!(hashed(&h, "c"), ["kb"]);
        apply(&mut h, "ALTER TABLE c ENGINE=MyISAM, CHANGE b bb VARCHAR(300), RENAME KEY ka TO kz");
        assert_eq!(hashed(&h, "c"), ["kb"]);
        apply(&mut h, "ALTER TABLE c DROP COLUMN bb");
        assert_eq!(keys(&h, "c"), [("kz".to_owned(), false)]);
        // Renames name keys as the table had them; a prefix longer than a TINYTEXT holds is cut.
        apply(&mut h, "CREATE TABLE w (k TINYTEXT CHARSET latin1, j INT, UNIQUE KEY k0 (k(1000)), UNIQUE KEY k1 (j))");
        apply(&mut h, "ALTER TABLE w RENAME INDEX k0 TO k1, RENAME INDEX k1 TO k0");
        assert_eq!(keys(&h, "w"), [("k1".to_owned(), false), ("k0".to_owned(), false)]);
        apply(&mut h, "ALTER TABLE w CONVERT TO CHARACTER SET utf8mb4, ENGINE=MyISAM");
        assert_eq!(hashed(&h, "w"), ["k1"]);
        apply(&mut h, "ALTER TABLE w CONVERT TO CHARACTER SET utf8mb3");
        assert_eq!(hashed(&h, "w"), Vec::<String>::new());
    }
}
