//! Random values of randomly declared numeric and temporal types, written to a real MariaDB and
//! decoded offline from its binlog by `sluice binlog decode`: every value must be the text MariaDB
//! shows for it over the text protocol (TIMESTAMP in UTC, BIT as its number).
//!
//! The boundary values of each type family are in end_to_end.rs; this covers what boundaries do
//! not: every DECIMAL precision and scale, arbitrary FLOAT and DOUBLE bit patterns, FLOAT(M,D) and
//! DOUBLE(M,D) (shown with D decimals), every fractional precision of TIME, DATETIME and
//! TIMESTAMP, every BIT width, ENUM/SET labels with spaces, quotes, backslash sequences and accents
//! in utf8mb4, utf8mb3 and latin1 columns, CHAR/VARCHAR in eleven character sets and BINARY/VARBINARY
//! with inner and trailing spaces. With FULL column metadata and without; in MariaDB's
//! pre-10.3 temporal formats. `SLUICE_VALUES_SEED` replays or varies a run.

mod support;

use std::collections::HashMap;

use support::*;

/// `.ddd` with `n` random digits, or nothing for none.
fn fraction(rng: &mut Xorshift, n: u64) -> String {
    if n == 0 { String::new() } else { format!(".{}", rng.digits(n)) }
}

/// A declared type: (SQL type, M, D) where M and D are its precision and scale or fractional
/// digits (0 when it has none).
fn random_type(rng: &mut Xorshift) -> (String, u64, u64) {
    match rng.below(16) {
        14 | 15 => {
            let (charset, _) = *rng.pick(TEXT_CHARSETS);
            let kind = *rng.pick(&["CHAR", "VARCHAR", "BINARY", "VARBINARY"]);
            let length = 1 + rng.below(12);
            let charset = if kind.ends_with("BINARY") { String::new() } else { format!(" CHARACTER SET {charset}") };
            (format!("{kind}({length}){charset}"), length, 0)
        }
        12 | 13 => {
            let count = 1 + rng.below(8);
            let labels: Vec<String> = (0..count).map(|i| label_literal(rng, i)).collect();
            let kind = if rng.below(2) == 0 { "ENUM" } else { "SET" };
            let charset = *rng.pick(&["", " CHARACTER SET latin1", " CHARACTER SET utf8mb3"]);
            (format!("{kind}({}){charset}", labels.join(", ")), count, 0)
        }
        0 | 1 => {
            let m = 1 + rng.below(65);
            let d = rng.below(m.min(30) + 1);
            let unsigned = if rng.below(4) == 0 { " UNSIGNED" } else { "" };
            (format!("DECIMAL({m},{d}){unsigned}"), m, d)
        }
        2 => ("DOUBLE".into(), 0, 0),
        3 => ("FLOAT".into(), 0, 0),
        4 => {
            let m = 1 + rng.below(24);
            let d = rng.below(m.min(10) + 1);
            (format!("FLOAT({m},{d})"), m, d)
        }
        5 => {
            let m = 1 + rng.below(53);
            let d = rng.below(m.min(20) + 1);
            (format!("DOUBLE({m},{d})"), m, d)
        }
        6 => {
            let fsp = rng.below(7);
            (format!("TIME({fsp})"), 0, fsp)
        }
        7 => {
            let fsp = rng.below(7);
            (format!("DATETIME({fsp})"), 0, fsp)
        }
        8 => {
            let fsp = rng.below(7);
            (format!("TIMESTAMP({fsp}) NULL"), 0, fsp)
        }
        9 => {
            let bits = 1 + rng.below(64);
            (format!("BIT({bits})"), bits, 0)
        }
        10 => ("YEAR".into(), 0, 0),
        _ => ("DATE".into(), 0, 0),
    }
}

/// Character sets for CHAR/VARCHAR, each with a character it holds beyond ASCII.
const TEXT_CHARSETS: &[(&str, &str)] = &[
    ("latin1", "é"),
    ("utf8mb3", "中"),
    ("utf8mb4", "😀"),
    ("ucs2", "é"),
    ("utf16", "😀"),
    ("utf32", "中"),
    ("gbk", "中"),
    ("big5", "中"),
    ("sjis", "ア"),
    ("cp1251", "Ж"),
    ("greek", "Ω"),
];

/// An ENUM/SET label as a SQL string, unique by its first character: spaces (trailing ones too,
/// which the server drops), quotes, backslashes and control characters, written raw or escaped.
fn label_literal(rng: &mut Xorshift, i: u64) -> String {
    let mut literal = format!("'{}", char::from(b'a' + i as u8));
    for _ in 0..rng.below(6) {
        literal.push_str(match rng.below(12) {
            0 => " ",
            1 => "''",
            2 => "\\'",
            3 => "\\\\",
            4 => "\\t",
            5 => "\t",
            6 => "\\n",
            7 => "\\%",
            8 => "é",
            9 => "\\r",
            10 => "\"",
            _ => "z",
        });
    }
    literal.push('\'');
    literal
}

/// A SQL literal the column can hold (one in ten is NULL).
fn random_value(rng: &mut Xorshift, (ty, m, d): &(String, u64, u64)) -> String {
    let (m, d) = (*m, *d);
    if rng.below(10) == 0 {
        return "NULL".into();
    }
    let sign = if rng.below(2) == 0 { "-" } else { "" };
    let kind = ty.split(['(', ' ']).next().unwrap();
    match kind {
        "DECIMAL" => {
            let sign = if ty.ends_with("UNSIGNED") { "" } else { sign };
            let int = rng.below(m - d + 1);
            let decimals = rng.below(d + 1);
            format!("'{sign}0{}{}'", rng.digits(int), fraction(rng, decimals))
        }
        "DOUBLE" | "FLOAT" if m == 0 => loop {
            let x = if kind == "DOUBLE" {
                f64::from_bits(rng.next())
            } else {
                f64::from(f32::from_bits(rng.next() as u32))
            };
            if x.is_finite() {
                break format!("{x:e}");
            }
        },
        "DOUBLE" | "FLOAT" => {
            let int = rng.below(m - d + 1);
            format!("{sign}0{}{}", rng.digits(int), fraction(rng, d))
        }
        "TIME" => {
            let time = format!("{}:{:02}:{:02}{}", rng.below(839), rng.below(60), rng.below(60), fraction(rng, d));
            format!("'{sign}{time}'")
        }
        "DATETIME" if rng.below(20) == 0 => "'0000-00-00 00:00:00'".into(),
        "DATETIME" => format!(
            "'{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}'",
            1000 + rng.below(9000),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            fraction(rng, d)
        ),
        "TIMESTAMP" => format!("FROM_UNIXTIME({}{})", 1 + rng.below((1 << 31) - 2), fraction(rng, d)),
        "BIT" if m == 64 => rng.next().to_string(),
        "BIT" => rng.below(1 << m).to_string(),
        // Up to the length, with spaces inside and trailing (CHAR and BINARY pad).
        "CHAR" | "VARCHAR" | "BINARY" | "VARBINARY" => {
            let special = ty.split("CHARACTER SET ").nth(1).and_then(|cs| TEXT_CHARSETS.iter().find(|(c, _)| *c == cs));
            let pool: Vec<&str> = ["a", "b", " ", "Z"].into_iter().chain(special.map(|(_, c)| *c)).collect();
            let text: String = (0..rng.below(m + 1)).map(|_| *rng.pick(&pool)).collect();
            format!("'{text}'")
        }
        // A label by its number (ENUM), a set of labels by its bits (SET).
        "ENUM" => (1 + rng.below(m)).to_string(),
        "SET" => rng.below(1 << m).to_string(),
        "YEAR" if rng.below(10) == 0 => "0".into(),
        "YEAR" => (1901 + rng.below(255)).to_string(),
        _ => format!("'{:04}-{:02}-{:02}'", 1000 + rng.below(9000), 1 + rng.below(12), 1 + rng.below(28)),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn random_values_decode_as_mariadb_shows_them() {
    values_decode_as_shown("").await;
}

/// Without column metadata in the binlog: signedness, charsets and ENUM/SET labels come from the
/// CREATE TABLE in it.
#[tokio::test(flavor = "multi_thread")]
async fn random_values_without_column_metadata_decode_as_mariadb_shows_them() {
    values_decode_as_shown("binlog_row_metadata=MINIMAL").await;
}

/// TIME, DATETIME and TIMESTAMP in MariaDB's pre-10.3 formats (the binlog's old type codes, whose
/// fractional digits only the declared type gives).
#[tokio::test(flavor = "multi_thread")]
async fn random_values_of_the_old_temporal_formats_decode_as_mariadb_shows_them() {
    values_decode_as_shown("mysql56_temporal_format=OFF").await;
}

/// Random values in random columns on a private MariaDB with `cnf`, decoded offline.
async fn values_decode_as_shown(cnf: &str) {
    const COLUMNS: usize = 40;
    const ROWS: usize = 500;
    let stack = PrivateStack::mariadb_with(cnf);
    let mut db = TestDb::create(&stack.mysql(), "values").await;
    let seed = env_number("SLUICE_VALUES_SEED", 7);
    let mut rng = Xorshift(seed);
    let types: Vec<(String, u64, u64)> = (0..COLUMNS).map(|_| random_type(&mut rng)).collect();
    let columns: Vec<String> = types.iter().enumerate().map(|(i, (ty, ..))| format!("c{i} {ty}")).collect();
    db.exec("SET time_zone = '+00:00'").await;
    db.exec(&format!("CREATE TABLE v (id INT PRIMARY KEY, {})", columns.join(", "))).await;
    for id in 0..ROWS {
        let values: Vec<String> = types.iter().map(|t| random_value(&mut rng, t)).collect();
        db.exec(&format!("INSERT INTO v VALUES ({id}, {})", values.join(", "))).await;
    }
    db.exec("FLUSH BINARY LOGS").await;
    let select: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, (ty, ..))| if ty.starts_with("BIT") { format!("c{i} + 0") } else { format!("c{i}") })
        .collect();
    let shown = db.query(&format!("SELECT id, {} FROM v ORDER BY id", select.join(", "))).await;

    let mut decoded = HashMap::new();
    for line in stack.decode_binlogs() {
        if line["database"] == db.name.as_str() && line["table"] == "v" && line["event"] == "INSERT" {
            decoded.insert(line["data"]["id"].as_str().unwrap().to_owned(), line["data"].clone());
        }
    }
    assert_eq!(decoded.len(), ROWS, "every row decoded once");
    let mut wrong = Vec::new();
    for row in &shown {
        let id = row[0].as_deref().unwrap();
        for (i, (ty, ..)) in types.iter().enumerate() {
            let got = decoded[id][format!("c{i}")].as_str();
            if got != row[i + 1].as_deref() {
                wrong.push(format!("row {id} c{i} {ty}: MariaDB shows {:?}, Sluice gives {got:?}", row[i + 1]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} values differ (seed {seed}), e.g.:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    stack.down(&["mariadb"]);
}
