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
