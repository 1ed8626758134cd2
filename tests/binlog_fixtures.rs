//! `sluice binlog decode` over the shared binlog fixtures (MySQL 5.0–9.6, MariaDB), read in place
//! from `../shared/fixtures/binlogs` beside the checkout, else `/work/shared/fixtures/binlogs`
//! (override with SLUICE_BINLOG_FIXTURES).
//!
//! Every file either decodes or fails with a clear error naming the file and the event; none
//! panics. The files that exercise a feature are checked value by value against what the SQL in
//! them implies.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SLUICE_BINLOG_FIXTURES") {
        return PathBuf::from(dir);
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/binlogs");
    let shared = PathBuf::from("/work/shared/fixtures/binlogs");
    [beside, shared].into_iter().find(|d| d.is_dir()).expect(
        "binlog fixtures not found beside the checkout (../shared/fixtures/binlogs) or in /work/shared; \
         set SLUICE_BINLOG_FIXTURES",
    )
}

struct Decoded {
    success: bool,
    lines: Vec<Value>,
    stderr: String,
}

fn decode(name: &str) -> Decoded {
    decode_with(name, &[])
}

/// `sluice binlog decode` of a fixture with extra options.
fn decode_with(name: &str, options: &[&str]) -> Decoded {
    let path = fixtures_dir().join(name);
    assert!(path.exists(), "fixture {} is missing", path.display());
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["binlog", "decode"])
        .args(options)
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 1),
        "{name}: sluice exited with {:?} (a panic?): {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {l}")))
        .collect();
    Decoded { success: out.status.success(), lines, stderr }
}

/// A binary column (`f5`, one byte 0x05) in each of the three byte renderings.
#[test]
fn bytes_render_as_asked() {
    let f5 = |options: &[&str]| {
        let d = decode_with("binlog-invisible-columns.000001", options);
        assert!(d.success, "{}", d.stderr);
        rows(&d, "t1").first().map(|r| r["data"]["f5"].clone()).expect("a row of t1")
    };
    assert_eq!(f5(&[]), "\u{5}");
    assert_eq!(f5(&["--base64"]), "BQ==");
    assert_eq!(f5(&["--binary-encoding", "base64"]), "BQ==");
    assert_eq!(f5(&["--binary-encoding", "hex"]), "05");
}

fn rows<'a>(d: &'a Decoded, table: &str) -> Vec<&'a Value> {
    d.lines.iter().filter(|l| l["table"] == table && l["event"] != "DDL").collect()
}

fn expect_error(name: &str, needles: &[&str]) {
    let d = decode(name);
    assert!(!d.success, "{name} should fail");
    assert!(d.stderr.contains(name), "{name}: the error must name the file: {}", d.stderr);
    assert!(d.stderr.contains("at byte"), "{name}: the error must give the offset: {}", d.stderr);
    for needle in needles {
        assert!(d.stderr.contains(needle), "{name}: expected '{needle}' in: {}", d.stderr);
    }
}

#[test]
fn every_fixture_decodes_or_fails_clearly() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("the binlog fixtures directory")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 40, "expected the full fixture set, found {}", names.len());
    let mut failed = Vec::new();
    for name in &names {
        let d = decode(name);
        if !d.success {
            assert!(d.stderr.starts_with("error: "), "{name}: {}", d.stderr);
            assert!(d.stderr.contains(name.as_str()), "{name}: the error must name the file: {}", d.stderr);
            failed.push(name.as_str());
        }
    }
    // Exactly these cannot be decoded, each for a reason checked in `broken_files_give_clear_errors`.
    assert_eq!(
        failed,
        [
            "binlog_truncated_event.000001",
            "binlog_truncated_prev_gtid_event.000001",
            "bug40482-bin.000001",
            "corrupt-relay-bin.000624",
            "json.binlog.000001",
            "ver_5_1-wl2325_r.001",
            "ver_5_1-wl2325_s.001",
        ]
    );
}

#[test]
fn broken_files_give_clear_errors() {
    for name in ["binlog_truncated_event.000001", "binlog_truncated_prev_gtid_event.000001"] {
        let d = decode(name);
        assert!(d.stderr.contains("is truncated") && d.stderr.contains("offset"), "{name}: {}", d.stderr);
    }
    expect_error("corrupt-relay-bin.000624", &["QUERY", "truncated"]);
    // Before its corrupt end, this statement-based 5.0 relay log holds autocommit INSERTs between
    // transactions: each is its own transaction, reported (they were lost to the next BEGIN).
    let relay = decode("corrupt-relay-bin.000624");
    let statement = relay.lines.iter().position(|l| {
        l["type"] == "QUERY" && l["sql"].as_str().is_some_and(|s| s.contains("'C77D958A1444E7710DB9950B16B2B0C3',"))
    });
    let commit = statement.and_then(|i| relay.lines.get(i + 1)).map(|l| &l["event"]);
    assert_eq!(commit, Some(&Value::from("COMMIT")), "the autocommit INSERT into PERSON_NURSERY, then its commit");
    expect_error("bug40482-bin.000001", &["INCIDENT", "resynchronise"]);
    expect_error("ver_5_1-wl2325_r.001", &["pre-release server"]);
    // Partial JSON with binlog_row_image=MINIMAL: the before image lacks the document.
    expect_error("json.binlog.000001", &["PARTIAL_UPDATE_ROWS", "column 2", "binlog_row_image=FULL"]);
}

#[test]
fn compressed_transaction_payload() {
    let d = decode("transaction_compression.000001");
    assert!(d.success, "{}", d.stderr);
    let inserts = rows(&d, "tb1");
    assert_eq!(inserts.len(), 1);
    assert_eq!(inserts[0]["event"], "INSERT");
    assert_eq!(inserts[0]["data"]["@1"], "1");
    // Rows inside the payload are at the payload event; the commit is after it.
    assert_eq!(inserts[0]["position"], "transaction_compression.000001:274");
    let commit = d.lines.iter().find(|l| l["event"] == "COMMIT").unwrap();
    assert_eq!(commit["position"], "transaction_compression.000001:431");
}

#[test]
fn tagged_gtids() {
    let d = decode("binlog_transaction_with_GTID_TAG.000001");
    assert!(d.success, "{}", d.stderr);
    let orders = rows(&d, "orders");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["gtid"], "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3");
    assert_eq!(orders[0]["data"], serde_json::json!({"@1": "3", "@2": "100", "@3": "250.00"}));
    let commit = d.lines.iter().find(|l| l["event"] == "COMMIT").unwrap();
    // PREVIOUS_GTIDS (tagged format) said uuid:1-13:mytag:1-2; this transaction adds mytag:3.
    assert_eq!(commit["gtid_set"], "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-3");

    let d = decode("binlog_transaction_with_GTID.000001");
    assert!(d.success, "{}", d.stderr);
    assert!(d.lines.iter().any(|l| l["gtid"].as_str().is_some_and(|g| !g.is_empty() && !g.contains("tag"))));
}

#[test]
fn json_documents_with_opaque_values() {
    let d = decode("json-opaque.binlog");
    assert!(d.success, "{}", d.stderr);
    let values: Vec<&str> = rows(&d, "test").iter().map(|r| r["data"]["a"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        [
            r#"{"a": "base64:type15:VQ=="}"#,
            r#"{"b": "2012-03-18"}"#,
            r#"{"c": "2012-03-18 11:30:45.000000"}"#,
            r#"{"c": "87:31:46.654321"}"#,
            r#"{"d": 123.456}"#,
            r#"{"e": 9.00}"#,
            r#"{"e": [0, 1, true, false]}"#,
            r#"{"e": null}"#,
        ]
    );
}

#[test]
fn json_full_updates_before_the_partial_one() {
    let d = decode("json.binlog.000001");
    let updates: Vec<&Value> = rows(&d, "t").into_iter().filter(|r| r["event"] == "UPDATE").collect();
    let last = updates.last().expect("full-image updates before the partial event");
    // Column names come from the CREATE TABLE in the file (the TABLE_MAPs carry none).
    assert_eq!(last["before"]["json_col"], r#"{"age": 40, "data": "zzzzzzzzzz", "name": "Pete"}"#);
    assert_eq!(last["data"]["json_col"], r#"{"age": 41, "data": "zzzzzzzzzz", "name": "Pete"}"#);
    assert_eq!(last["data"]["age"], "41", "the generated column");
}

#[test]
fn schema_history_follows_the_ddl_in_the_file() {
    // CREATE TABLE t (a INT, INDEX i((a+1))); ALTER TABLE t ADD COLUMN b TEXT; then a row: the
    // functional index is a hidden column between a and b, which the row image leaves out.
    let d = decode("rpl_unfiltered_hidden_gcol.000001");
    assert!(d.success, "{}", d.stderr);
    assert_eq!(rows(&d, "t")[0]["data"], serde_json::json!({"a": "1", "b": "1"}));
}

#[test]
fn enum_set_and_long_strings() {
    let d = decode("mysql-enum-string-set.000001");
    assert!(d.success, "{}", d.stderr);
    let t = rows(&d, "t");
    let with_labels = t.iter().find(|r| r["data"]["f1"] == "field1").expect("the row with field1");
    assert_eq!(with_labels["data"]["f2"], "field_2");
    assert_eq!(with_labels["data"]["f3"], "variant2");
    assert_eq!(with_labels["data"]["f4"], "two,four");
    assert!(with_labels["data"]["f5"].as_str().unwrap().starts_with("0123456789"));
}

#[test]
fn bit_columns() {
    let d = decode("mysql_type_bit.000001");
    assert!(d.success, "{}", d.stderr);
    let foo = rows(&d, "foo");
    assert_eq!(foo[0]["data"], serde_json::json!({"a": "4", "b": "foo", "c": "32"}));
}

#[test]
fn negative_time_beyond_24_hours() {
    let d = decode("time_issue.000001");
    assert!(d.success, "{}", d.stderr);
    // TIME2 bytes 60 43 e5: 0x6043e5 - 0x800000 = -(507 << 12 | 48 << 6 | 27).
    assert_eq!(rows(&d, "t")[0]["data"]["@1"], "-507:48:27");
}

#[test]
fn mysql_9_vectors() {
    let d = decode("vector.binlog");
    assert!(d.success, "{}", d.stderr);
    let foo = rows(&d, "foo");
    assert_eq!(foo[0]["data"]["vector_column"], "[1.10000e+00,2.20000e+00,3.30000e+00]");
    assert_eq!(foo[1]["data"]["vector_column"], "[1.00000e+00,-1.00000e+00,0.00000e+00]");
    let bar = rows(&d, "bar");
    assert_eq!(bar[0]["data"]["vector_column2"], "[1.10000e+00,2.20000e+00,3.30000e+00,4.40000e+00]");
    assert_eq!(bar[0]["data"]["foo"], Value::Null);
    assert_eq!(bar[1]["data"]["foo"], "bar");
}

/// A stable-toolchain companion of the cargo-fuzz target (scripts/fuzz): every fixture mutated a
/// hundreds of times (bytes flipped, cut short, ranges duplicated, with a deterministic generator)
/// must decode or fail with an error — a panic fails the test.
#[test]
fn mutated_fixtures_never_panic() {
    use futures_util::FutureExt;
    use sluice::binlog::file::BinlogFile;
    use sluice::commands::decode::decode_binlog;

    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound.max(1) as u64) as usize
    };
    let mut decoded = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let original = std::fs::read(&path).unwrap();
        let rounds = if original.len() > 20_000 { 100 } else { 600 };
        for round in 0..rounds {
            let mut bytes = original.clone();
            match round % 4 {
                0 => {
                    for _ in 0..1 + next(4) {
                        let at = 4 + next(bytes.len() - 4);
                        bytes[at] ^= 1 << next(8);
                    }
                }
                1 => bytes.truncate(4 + next(bytes.len() - 4)),
                2 => {
                    let at = 4 + next(bytes.len() - 4);
                    bytes[at] = [0x00, 0xff, 0x7f, 0x80][next(4)];
                }
                _ => {
                    let start = 4 + next(bytes.len() - 4);
                    let len = next(64).min(bytes.len() - start);
                    let slice = bytes[start..start + len].to_vec();
                    let at = 4 + next(bytes.len() - 4);
                    bytes.splice(at..at, slice);
                }
            }
            let name = format!("{} mutation {round}", path.display());
            let Ok(reader) = BinlogFile::from_reader(name.clone(), &bytes[..]) else { continue };
            let mut sink = std::io::sink();
            let decoding = decode_binlog(reader, "fixture-bin.000001", Default::default(), &mut sink);
            let outcome = std::panic::AssertUnwindSafe(decoding).catch_unwind().now_or_never();
            match outcome {
                Some(Ok(_)) => decoded += 1,
                Some(Err(_)) => panic!("{name} panicked; bytes: {}", bytes.len()),
                None => panic!("{name}: offline decoding waited on something"),
            }
        }
    }
    assert!(decoded > 10_000, "only {decoded} mutations were decoded");
}

/// MySQL 5.1.23 logged the rows of a non-transactional table without BEGIN/COMMIT: each statement
/// is its own transaction, committed after its last rows event (they were lost to the next BEGIN).
#[test]
fn rows_outside_begin_commit_are_each_a_transaction() {
    let d = decode("ver_5_1_23.001");
    assert!(d.success, "{}", d.stderr);
    let changes: Vec<(&str, String)> =
        rows(&d, "t1").iter().take(5).map(|l| (l["event"].as_str().unwrap(), l["data"].to_string())).collect();
    let row = |a: &str, b: &str| format!(r#"{{"a":"{a}","b":"{b}"}}"#);
    assert_eq!(
        changes,
        [
            ("INSERT", row("0", "one")),
            ("INSERT", row("1", "two")),
            ("UPDATE", row("1", "one")),
            ("UPDATE", row("2", "two")),
            ("DELETE", row("2", "two")),
        ]
    );
    let commits: Vec<&str> =
        d.lines.iter().filter(|l| l["event"] == "COMMIT").filter_map(|l| l["position"].as_str()).collect();
    for end in ["ver_5_1_23.001:516", "ver_5_1_23.001:626", "ver_5_1_23.001:708"] {
        assert!(commits.contains(&end), "a commit at {end}: {commits:?}");
    }
}
