//! Invariant 1, ack before commit, and no lost row across crashes: the cursor only ever covers
//! rows the broker acknowledged, so restarting from it loses nothing.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::*;

const WAIT: Duration = Duration::from_secs(120);

async fn insert_range(db: &mut TestDb, table: &str, ids: std::ops::RangeInclusive<i64>, per_transaction: usize) {
    let ids: Vec<i64> = ids.collect();
    for chunk in ids.chunks(per_transaction) {
        let values: Vec<String> = chunk.iter().map(|id| format!("({id}, 'row {id}')")).collect();
        db.exec(&format!("INSERT INTO {table} (id, v) VALUES {}", values.join(", "))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_stays_put_while_the_broker_is_down_and_every_row_arrives_after() {
    let stack = stack();
    let kafka = PrivateStack::new();
    kafka.up(&["kafka"]);
    let mut db = TestDb::create(&stack.mysql, "ack").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(40))").await;
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.kafka = kafka.kafka();
    config.message_timeout_ms = 2000;
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    insert_range(&mut db, "t", 1..=100, 10).await;
    consume_ids(&kafka.kafka(), &config.topic, "t", 1..=100, WAIT).await;
    let master = db.query("SHOW MASTER STATUS").await;
    let end = (master[0][0].clone().unwrap(), master[0][1].clone().unwrap().parse::<u64>().unwrap());
    let acked = eventually(WAIT, "the cursor to cover the acknowledged rows", || async {
        sluice.cursor().await.filter(|c| (c.position.binlog.file.clone(), c.position.binlog.offset) >= end)
    })
    .await;

    kafka.down(&["kafka"]);
    insert_range(&mut db, "t", 101..=110, 10).await;
    let first_unpublished = db.query("SELECT @@last_gtid").await[0][0].clone().unwrap();
    let first_unpublished = sluice::event::Gtid::Mariadb(first_unpublished.parse().unwrap());
    insert_range(&mut db, "t", 111..=200, 10).await;
    // Other tests' transactions (filtered out, nothing to publish) may move the cursor, but never
    // onto or past a transaction whose rows the broker has not acknowledged (sampled for 8 s).
    let watch_until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < watch_until {
        let cursor = sluice.cursor().await.expect("cursor");
        assert!(
            !cursor.position.gtid_set.contains(&first_unpublished),
            "the cursor ({}) covers transaction {first_unpublished} while the broker is down",
            cursor.position
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // A fresh broker on the same port (the local broker keeps data in memory: it comes back empty).
    kafka.up(&["kafka"]);
    let records = consume_ids(&kafka.kafka(), &config.topic, "t", 101..=200, WAIT).await;
    let seen = ids_in(&records, "t");
    let missing: Vec<i64> = (101..=200).filter(|id| !seen.contains(id)).collect();
    assert!(missing.is_empty(), "rows written during the outage are missing: {missing:?}");
    eventually(WAIT, "the cursor to move past the outage", || async {
        sluice.cursor().await.filter(|c| c.position.binlog > acked.position.binlog)
    })
    .await;
}

/// Rows of `db`.`table` in transactions that committed before `stop` in the binlog file, read
/// with MariaDB's own mariadb-binlog (independent of Sluice's decoder).
fn ids_committed_before(binlog_dir: &str, file: &str, stop: u64, db: &str, table: &str) -> HashSet<i64> {
    let output = Command::new("mariadb-binlog")
        .args(["--no-defaults", "--base64-output=DECODE-ROWS", "--verbose", &format!("--stop-position={stop}")])
        .arg(format!("{binlog_dir}/{file}"))
        .output()
        .expect("running mariadb-binlog");
    assert!(output.status.success(), "mariadb-binlog: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    let mut ids = HashSet::new();
    let target = format!("### INSERT INTO `{db}`.`{table}`");
    let mut in_insert = false;
    for line in text.lines() {
        if line.starts_with("### INSERT INTO") {
            in_insert = line.starts_with(&target);
        } else if in_insert && line.starts_with("###   @1=") {
            ids.insert(line["###   @1=".len()..].trim().parse().unwrap());
            in_insert = false;
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_loses_no_row_and_the_cursor_never_passes_an_unacknowledged_one() {
    const ROWS: i64 = 20_000;
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "kill").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(40))").await;
    let config = SluiceConfig::new(&stack, &db.name);
    let mut sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    // A writer streams 20k rows (100 per transaction) while sluice runs.
    let written = Arc::new(AtomicU64::new(0));
    let writer = tokio::spawn({
        let (address, name, written) = (stack.mysql.clone(), db.name.clone(), Arc::clone(&written));
        async move {
            let mut conn = connect(&address, APP_USER, APP_PASSWORD).await;
            conn.execute(&format!("USE `{name}`")).await.unwrap();
            for start in (1..=ROWS).step_by(100) {
                let values: Vec<String> = (start..start + 100).map(|id| format!("({id}, 'row {id}')")).collect();
                conn.execute(&format!("INSERT INTO t (id, v) VALUES {}", values.join(", "))).await.unwrap();
                written.store((start + 99) as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    // Kill once the cursor has moved into the stream, mid-way.
    eventually(WAIT, "progress before the kill", || async { (written.load(Ordering::Relaxed) > 4_000).then_some(()) })
        .await;
    sluice.kill9();
    let cursor = sluice.cursor().await.expect("a committed cursor");

    // Everything the cursor covers must already be in Kafka: the restarted process will not
    // publish it again.
    let stack_dir = std::env::var("SLUICE_TEST_STACK_DIR").expect("SLUICE_TEST_STACK_DIR");
    let covered = ids_committed_before(
        &format!("{stack_dir}/mariadb/binlog"),
        &cursor.position.binlog.file,
        cursor.position.binlog.offset,
        &db.name,
        "t",
    );
    let before_restart = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        let covered = covered.clone();
        move || consume_until(&kafka, &topic, Duration::from_secs(30), |r| ids_in(r, "t").is_superset(&covered))
    })
    .await
    .unwrap();
    let published = ids_in(&before_restart, "t");
    let unacknowledged: Vec<&i64> = covered.iter().filter(|id| !published.contains(id)).take(10).collect();
    assert!(unacknowledged.is_empty(), "the cursor covered rows that were never published: {unacknowledged:?}…");

    writer.await.unwrap();
    sluice.restart();
    let records = consume_ids(&stack.kafka, &config.topic, "t", 1..=ROWS, WAIT).await;
    let seen = ids_in(&records, "t");
    let lost: Vec<i64> = (1..=ROWS).filter(|id| !seen.contains(id)).take(20).collect();
    assert!(lost.is_empty(), "rows lost across kill -9: {lost:?}… ({} of {ROWS} seen)", seen.len());
}

/// An XID `'name'` as the binlog shows it: `X'<hex>',X'',1`.
fn hex_xid(quoted: &str) -> String {
    let hex: String = quoted.trim_matches('\'').bytes().map(|b| format!("{b:02X}")).collect();
    format!("X'{hex}',X'',1")
}

/// For a test of XA transactions: a MariaDB of its own (a Sluice starting on a shared server while
/// one is prepared would stop at its XA COMMIT, its rows logged before that start), a database
/// with table `t`, and a destination capturing it from that server.
async fn xa_setup(prefix: &str) -> (PrivateStack, TestDb, SluiceConfig) {
    let mysql = PrivateStack::mariadb_with("");
    let mut db = TestDb::create(&mysql.mysql(), prefix).await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(40))").await;
    let mut config = SluiceConfig::new(&stack(), &db.name);
    config.mysql = mysql.mysql();
    (mysql, db, config)
}

/// XA transactions: a prepared transaction's rows arrive at its XA COMMIT, never when XA ROLLBACK
/// undoes it; while one is prepared the cursor stays where it began, so a kill -9 in between still
/// delivers its rows after the restart (and the rows published after it are not published twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xa_rows_arrive_only_at_xa_commit_and_a_prepared_one_survives_kill_9() {
    let stack = stack();
    let (mysql, mut db, mut config) = xa_setup("xa").await;
    // Transactional: the restart skips what was published after the cursor, by position, in one
    // partition: the prepared rows, published later than row 5, must not be taken as published.
    config.delivery = "transactional";
    config.partitions = 1;
    let mut sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    // XA ids are server-wide: named after this test's database.
    let prefix = db.name.clone();
    let xid = |name: &str| format!("'{prefix}_{name}'");
    // XA START, the row, XA END, then how it ends.
    let xa = |name: &str, id: i64, end: &[&str]| {
        let mut statements = vec![
            format!("XA START {}", xid(name)),
            format!("INSERT INTO t VALUES ({id}, 'xa {name}')"),
            format!("XA END {}", xid(name)),
        ];
        statements.extend(end.iter().map(|end| end.replace("{xid}", &xid(name))));
        statements
    };
    let settled = [
        xa("committed", 1, &["XA PREPARE {xid}", "XA COMMIT {xid}"]),
        xa("rolled_back", 2, &["XA PREPARE {xid}", "XA ROLLBACK {xid}"]),
        xa("one_phase", 3, &["XA COMMIT {xid} ONE PHASE"]),
    ];
    for statement in settled.concat() {
        db.exec(&statement).await;
    }
    let master = db.query("SHOW MASTER STATUS").await;
    let before_pending = (master[0][0].clone().unwrap(), master[0][1].clone().unwrap().parse::<u64>().unwrap());
    for statement in xa("pending", 4, &["XA PREPARE {xid}"]) {
        db.exec(&statement).await;
    }
    // Another session commits row 5 after the prepared transaction, ten minutes later in binlog
    // time: Sluice warns that it is still pending.
    let mut other = TestDb { name: db.name.clone(), conn: connect(&mysql.mysql(), APP_USER, APP_PASSWORD).await };
    other.exec("SET timestamp = UNIX_TIMESTAMP() + 600").await;
    other.exec(&format!("INSERT INTO `{}`.t VALUES (5, 'plain')", db.name)).await;

    let records = consume_ids(&stack.kafka, &config.topic, "t", [1, 3, 5], WAIT).await;
    let seen = ids_in(&records, "t");
    assert!(!seen.contains(&2), "a row XA ROLLBACK undid arrived");
    assert!(!seen.contains(&4), "a prepared row arrived before its XA COMMIT");
    // Row 5 is acknowledged, yet the cursor stays where the prepared transaction began.
    let held = eventually(WAIT, "the cursor to reach the prepared transaction's start", || async {
        sluice.cursor().await.filter(|c| (c.position.binlog.file.clone(), c.position.binlog.offset) >= before_pending)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cursor = sluice.cursor().await.unwrap();
    assert_eq!((cursor.position.binlog.file, cursor.position.binlog.offset), before_pending, "cursor {held:?}");
    let log = sluice.log();
    let reports: Vec<&str> = log.lines().filter(|l| l.contains("is still neither committed nor rolled back")).collect();
    assert_eq!(reports.len(), 1, "one warning of the pending XA transaction:\n{log}");
    assert!(reports[0].contains("WARN") && reports[0].contains(&hex_xid(&xid("pending"))), "{}", reports[0]);

    // Offline, the files so far: the same rows, and a warning for the one still prepared.
    let out = Command::new(sluice_bin()).args(["binlog", "decode"]).args(mysql.binlog_files()).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let offline: Vec<String> = stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|line| line["table"] == "t" && line["event"] == "INSERT")
        .map(|line| line["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(offline, ["1", "3", "5"], "{stderr}");
    assert!(stderr.contains("prepared and not committed") && stderr.contains(&hex_xid(&xid("pending"))), "{stderr}");

    sluice.kill9();
    sluice.restart();
    db.exec(&format!("XA COMMIT {}", xid("pending"))).await;
    db.exec("INSERT INTO t VALUES (6, 'after')").await;
    let records = consume_ids(&stack.kafka, &config.topic, "t", [4, 6], WAIT).await;
    assert_eq!(inserted_row(&records, "t", "4").unwrap()["v"], "xa pending");
    assert!(!ids_in(&records, "t").contains(&2), "a row XA ROLLBACK undid arrived");
    let fives =
        records.iter().filter(|r| r.json["table"] == "t").flat_map(|r| r.rows()).filter(|(_, row)| row["id"] == "5");
    assert_eq!(fives.count(), 1, "row 5 published again after the restart");
    cursor_at_binlog_end(&mut db, &sluice).await;
}

/// An XA transaction cannot be streamed in chunks (XA ROLLBACK may undo it after XA PREPARE): past
/// `batch.xa_bytes` the destination stops with the setting to raise, and publishes none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xa_transaction_beyond_xa_bytes_stops_with_the_setting_to_raise() {
    let stack = stack();
    let (_mysql, mut db, mut config) = xa_setup("xa_big").await;
    config.batch_extra = "chunk_bytes = 4096\nxa_bytes = 4096\n".into();
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    let xid = format!("'{}'", db.name);
    db.exec(&format!("XA START {xid}")).await;
    insert_range(&mut db, "t", 1..=200, 10).await;
    for statement in [format!("XA END {xid}"), format!("XA PREPARE {xid}"), format!("XA COMMIT {xid}")] {
        db.exec(&statement).await;
    }
    eventually(WAIT, "the destination to stop naming batch.xa_bytes", || async {
        sluice.log().contains("raise batch.xa_bytes").then_some(())
    })
    .await;
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || consume_until(&kafka, &topic, Duration::from_secs(3), |_| false)
    })
    .await
    .unwrap();
    assert!(ids_in(&records, "t").is_empty(), "rows of the XA transaction were published");
}

/// An XA transaction prepared before Sluice's start position and committed after it: its rows
/// were logged before the start, so they cannot be captured; the destination stops and says so
/// rather than losing them silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xa_commit_of_a_transaction_prepared_before_the_start_stops_loudly() {
    let (mysql, mut db, config) = xa_setup("xa_early").await;
    let mut preparer = TestDb { name: db.name.clone(), conn: connect(&mysql.mysql(), APP_USER, APP_PASSWORD).await };
    let xid = format!("'{}'", db.name);
    let table = format!("`{}`.t", db.name);
    for statement in [
        format!("XA START {xid}"),
        format!("INSERT INTO {table} VALUES (1, 'prepared early')"),
        format!("XA END {xid}"),
        format!("XA PREPARE {xid}"),
    ] {
        preparer.exec(&statement).await;
    }
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    // Said at the start, while it can still be settled.
    let early = format!("prepared on the server before this start ({})", hex_xid(&xid));
    assert!(sluice.log().contains(&early), "{}", sluice.log());
    preparer.exec(&format!("XA COMMIT {xid}")).await;
    eventually(WAIT, "the destination to stop on the XA COMMIT", || async {
        sluice.log().contains("commits a transaction prepared before the position Sluice started from").then_some(())
    })
    .await;
}
