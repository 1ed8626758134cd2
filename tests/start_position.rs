//! Where a destination without a cursor starts: the configured binlog position, GTID set or time —
//! exactly there, with nothing before it and nothing after it missing.

mod support;

use std::time::Duration;

use support::*;

const WAIT: Duration = Duration::from_secs(90);

async fn insert(db: &mut TestDb, ids: std::ops::RangeInclusive<i64>) {
    for id in ids {
        db.exec(&format!("INSERT INTO t VALUES ({id})")).await;
    }
}

/// Start sluice with `[source.start]` = `start` and check it publishes exactly rows 11..=20.
async fn starts_exactly_after_the_first_ten(db: TestDb, start: String) -> Sluice {
    starts_exactly_after_the_first_ten_on(db, &stack().mysql, start).await
}

/// [`starts_exactly_after_the_first_ten`] with the database on the server at `mysql`.
async fn starts_exactly_after_the_first_ten_on(db: TestDb, mysql: &str, start: String) -> Sluice {
    let stack = stack();
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.mysql = mysql.to_owned();
    config.extra = String::new();
    let sluice = Sluice::start_with_source_extra(&config, &format!("\n[source.start]\n{start}\n"));
    let records = consume_ids(&stack.kafka, &config.topic, "t", 11..=20, WAIT).await;
    // Let anything else arrive that would (wrongly) come.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let more = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        let n = records.len();
        move || consume_until(&kafka, &topic, Duration::from_secs(3), |r| r.len() > n)
    })
    .await
    .unwrap();
    let ids = ids_in(&more, "t");
    let expected: std::collections::HashSet<i64> = (11..=20).collect();
    assert_eq!(ids, expected, "start {start}: published {ids:?}");
    sluice
}

async fn prepared(prefix: &str) -> TestDb {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, prefix).await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)").await;
    insert(&mut db, 1..=10).await;
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_configured_file_and_position() {
    let mut db = prepared("startpos").await;
    let status = db.query("SHOW MASTER STATUS").await;
    let (file, position) = (status[0][0].clone().unwrap(), status[0][1].clone().unwrap());
    insert(&mut db, 11..=20).await;
    starts_exactly_after_the_first_ten(db, format!("file = \"{file}\"\nposition = {position}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_configured_gtid_set() {
    let mut db = prepared("startgtid").await;
    let gtid = db.query("SELECT @@gtid_binlog_pos").await[0][0].clone().unwrap();
    insert(&mut db, 11..=20).await;
    starts_exactly_after_the_first_ten(db, format!("gtid = \"{gtid}\"")).await;
}

/// MariaDB GTIDs of several replication domains (`gtid_domain_id`, e.g. writes from two
/// masters): the set has a position per domain, and the start honours each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_configured_gtid_set_of_two_domains() {
    let mysql = PrivateStack::mariadb_with("");
    let mut db = TestDb::create(&mysql.mysql(), "startdomains").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)").await;
    let in_domains = |ids: std::ops::RangeInclusive<i64>| {
        ids.flat_map(|id| {
            [
                format!("SET SESSION gtid_domain_id = {}", if id % 2 == 0 { 7 } else { 0 }),
                format!("INSERT INTO t VALUES ({id})"),
            ]
        })
    };
    for statement in in_domains(1..=10) {
        db.exec(&statement).await;
    }
    let gtid = db.query("SELECT @@gtid_binlog_pos").await[0][0].clone().unwrap();
    assert!(gtid.contains("7-1-") && gtid.contains("0-1-"), "{gtid}");
    for statement in in_domains(11..=20) {
        db.exec(&statement).await;
    }
    starts_exactly_after_the_first_ten_on(db, &mysql.mysql(), format!("gtid = \"{gtid}\"")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_configured_time() {
    let mut db = prepared("starttime").await;
    // Binlog timestamps have one-second resolution: leave a clear second on both sides.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let at = db.query("SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')").await[0][0].clone().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    insert(&mut db, 11..=20).await;
    starts_exactly_after_the_first_ten(db, format!("timestamp = \"{at}\"")).await;
}
