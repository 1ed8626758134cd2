//! Where each message goes: topic and partition, computed exactly as Canal computes them so a
//! consumer group can move from Canal to Sluice without reshuffling keys.
//!
//! Partition hashing follows `canal.mq.partitionHash` (`db.table:col^col`, `db.table:$pk$`, or a bare
//! `db.table` for table-name hashing; several rules separated by `,` or `;`; a rule's table part is a
//! regular expression when it contains regex characters, else a case-insensitive name):
//! - table mode: `h = javaHash(table)`;
//! - key mode: `h = javaHash(database)` if database hashing is on (default), else 0, then
//!   `h ^= javaHash(value)` for each key column (NULL as "");
//! - partition = `|(|h| mod n)|` in Java 32-bit arithmetic, where javaHash is `String.hashCode`.
//!
//! Tables no rule matches go to partition 0, as in Canal.

pub mod topic;

use regex::{Regex, RegexBuilder};

pub use topic::TopicRules;

use crate::event::{Cell, RowImage};
use crate::schema::TableSchema;

/// Java's `String.hashCode`: `h = 31*h + c` over UTF-16 code units, wrapping.
pub fn java_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    h
}

/// Canal's `Math.abs(Math.abs(h) % n)`.
pub fn java_partition(hash: i32, partitions: u32) -> u32 {
    let n = i32::try_from(partitions.max(1)).unwrap_or(i32::MAX);
    (hash.wrapping_abs() % n).wrapping_abs() as u32
}

#[derive(Debug, thiserror::Error)]
#[error("invalid partition hash rule '{rule}': {reason}")]
pub struct RouteError {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
enum NameMatcher {
    Exact(String),
    Pattern(Regex),
}

impl NameMatcher {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(n) => n.eq_ignore_ascii_case(name),
            Self::Pattern(r) => r.is_match(name),
        }
    }
}

/// What a partition hash rule hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashMode {
    /// The table name.
    Table,
    /// The primary key columns.
    PrimaryKey,
    /// These columns, by name (case-insensitive).
    Columns(Vec<String>),
}

#[derive(Debug, Clone)]
struct HashRule {
    table: NameMatcher,
    mode: HashMode,
}

/// The columns whose values decide a row's partition, resolved for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRouting {
    /// Every row of the table goes to this partition.
    Fixed(u32),
    /// Hash these column indexes (in this order) per row.
    ByColumns(Vec<usize>),
}

/// Canal-compatible partitioning for one topic.
#[derive(Debug, Clone)]
pub struct Partitioner {
    partitions: u32,
    rules: Vec<HashRule>,
    database_hash: bool,
}

impl Partitioner {
    /// `rules` in Canal's `canal.mq.partitionHash` syntax.
    pub fn new(partitions: u32, rules: &[String], database_hash: bool) -> Result<Self, RouteError> {
        let mut parsed = Vec::new();
        for rule in rules.iter().flat_map(|r| r.split([',', ';'])).map(str::trim).filter(|r| !r.is_empty()) {
            let (table, mode) = match rule.rfind(':') {
                Some(i) if i > 0 => {
                    let columns = &rule[i + 1..];
                    let mode = if columns.eq_ignore_ascii_case("$pk$") {
                        HashMode::PrimaryKey
                    } else {
                        let names: Vec<String> =
                            columns.split('^').map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect();
                        if names.is_empty() {
                            return Err(RouteError { rule: rule.into(), reason: "no column after ':'".into() });
                        }
                        HashMode::Columns(names)
                    };
                    (&rule[..i], mode)
                }
                _ => (rule, HashMode::Table),
            };
            let is_pattern = table.contains(['*', '?', '+', '|', '(', ')', '{', '}', '[', ']', '\\', '$', '^']);
            let table = if is_pattern {
                NameMatcher::Pattern(
                    RegexBuilder::new(&format!("^(?:{table})$"))
                        .case_insensitive(true)
                        .build()
                        .map_err(|e| RouteError { rule: rule.into(), reason: e.to_string() })?,
                )
            } else {
                NameMatcher::Exact(table.to_owned())
            };
            parsed.push(HashRule { table, mode });
        }
        Ok(Self { partitions: partitions.max(1), rules: parsed, database_hash })
    }

    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// The same rules over another partition count (each topic has its own).
    pub fn with_partitions(&self, partitions: u32) -> Self {
        Self { partitions: partitions.max(1), ..self.clone() }
    }

    /// How rows of `table` are routed.
    pub fn routing_for(&self, table: &TableSchema) -> RowRouting {
        let name = table.full_name();
        let Some(rule) = self.rules.iter().find(|r| r.table.matches(&name)) else {
            return RowRouting::Fixed(0);
        };
        match &rule.mode {
            HashMode::Table => RowRouting::Fixed(java_partition(java_hash(&table.table), self.partitions)),
            HashMode::PrimaryKey => RowRouting::ByColumns(table.primary_key.clone()),
            HashMode::Columns(names) => RowRouting::ByColumns(
                names
                    .iter()
                    .filter_map(|n| table.columns.iter().position(|c| c.name.eq_ignore_ascii_case(n)))
                    .collect(),
            ),
        }
    }

    /// The partition of one row image under `routing`.
    pub fn partition(&self, routing: &RowRouting, database: &str, image: &RowImage) -> u32 {
        match routing {
            RowRouting::Fixed(p) => *p,
            RowRouting::ByColumns(columns) => {
                let mut h = if self.database_hash { java_hash(database) } else { 0 };
                for &i in columns {
                    h ^= java_hash(image.get(i).and_then(Cell::as_text).unwrap_or(""));
                }
                java_partition(h, self.partitions)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed from the definition of java.lang.String.hashCode:
    // s[0]*31^(n-1) + … + s[n-1] in 32-bit two's complement.
    #[test]
    fn java_string_hash() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("a"), 97);
        assert_eq!(java_hash("id"), 3355);
        assert_eq!(java_hash("hello"), 99162322);
        assert_eq!(java_hash("polygenelubricants"), i32::MIN); // the famous MIN_VALUE hash
        assert_eq!(java_hash("é"), 233); // one UTF-16 unit
        assert_eq!(java_hash("😀"), 0xD83D * 31 + 0xDE00); // a surrogate pair: two units
        assert_eq!(java_hash("中文"), 0x4E2D * 31 + 0x6587);
    }

    #[test]
    fn partition_of_negative_and_min_hashes() {
        assert_eq!(java_partition(7, 3), 1);
        assert_eq!(java_partition(-7, 3), 1);
        // Math.abs(MIN_VALUE) is MIN_VALUE; MIN_VALUE % 3 = -2; Math.abs(-2) = 2.
        assert_eq!(java_partition(i32::MIN, 3), 2);
        assert_eq!(java_partition(i32::MIN, 4), 0);
        assert_eq!(java_partition(12345, 1), 0);
    }

    fn table() -> TableSchema {
        crate::schema::int_table("shop", "orders", &[("id", true), ("customer", false)])
    }

    #[test]
    fn rules_resolve_like_canal() {
        let t = table();
        let p = Partitioner::new(8, &["shop\\..*:$pk$".into()], true).unwrap();
        let routing = p.routing_for(&t);
        assert_eq!(routing, RowRouting::ByColumns(vec![0]));
        let image = RowImage::from([Cell::Text("42"), Cell::Text("x")]);
        let expected = java_partition(java_hash("shop") ^ java_hash("42"), 8);
        assert_eq!(p.partition(&routing, "shop", &image), expected);

        let by_column = Partitioner::new(8, &["shop.orders:customer".into()], false).unwrap();
        let routing = by_column.routing_for(&t);
        assert_eq!(by_column.partition(&routing, "shop", &image), java_partition(java_hash("x"), 8));

        let by_table = Partitioner::new(8, &["other.t:id;shop.orders".into()], true).unwrap();
        assert_eq!(by_table.routing_for(&t), RowRouting::Fixed(java_partition(java_hash("orders"), 8)));

        let none = Partitioner::new(8, &["other\\..*:$pk$".into()], true).unwrap();
        assert_eq!(none.routing_for(&t), RowRouting::Fixed(0));
    }

    #[test]
    fn null_key_hashes_as_empty_string() {
        let p = Partitioner::new(5, &["shop.orders:customer".into()], true).unwrap();
        let routing = p.routing_for(&table());
        let image = RowImage::from([Cell::Text("1"), Cell::Null]);
        assert_eq!(p.partition(&routing, "shop", &image), java_partition(java_hash("shop") ^ java_hash(""), 5));
    }
}
