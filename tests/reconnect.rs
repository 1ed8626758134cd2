//! The source connection: Sluice reconnects from the committed cursor after a server restart (new
//! binlog file), a killed connection, or a link that went silent, and loses nothing.

mod support;

use std::time::Duration;

use support::*;

const WAIT: Duration = Duration::from_secs(90);

async fn insert(db: &mut TestDb, ids: std::ops::RangeInclusive<i64>) {
    for id in ids {
        db.exec(&format!("INSERT INTO t VALUES ({id}, 'v{id}')")).await;
    }
}

/// A private MariaDB with a test database, and sluice reading it.
async fn setup(heartbeat_ms: u64, admin: bool) -> (PrivateStack, TestDb, Sluice) {
    let stack = stack();
    let mysql = PrivateStack::new();
    mysql.up(&["mariadb"]);
    let mut db = TestDb::create(&mysql.mysql(), "reconnect").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20))").await;
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.mysql = mysql.mysql();
    config.heartbeat_ms = heartbeat_ms;
    if admin {
        config.admin_port = free_port();
    }
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    (mysql, db, sluice)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_restart_rotates_the_binlog_and_nothing_is_lost() {
    let (mysql, mut db, sluice) = setup(1000, false).await;
    insert(&mut db, 1..=50).await;
    let before = sluice.cursor().await.unwrap();

    mysql.down(&["mariadb"]);
    mysql.up(&["mariadb"]);
    let mut db = TestDb { conn: connect(&mysql.mysql(), APP_USER, APP_PASSWORD).await, name: db.name.clone() };
    db.exec(&format!("USE `{}`", db.name)).await;
    insert(&mut db, 51..=100).await;

    let kafka = stack().kafka;
    let records = consume_ids(&kafka, &sluice.config.topic, "t", 1..=100, WAIT).await;
    let seen = ids_in(&records, "t");
    let missing: Vec<i64> = (1..=100).filter(|id| !seen.contains(id)).collect();
    assert!(missing.is_empty(), "missing after the restart: {missing:?}");
    let after = eventually(WAIT, "the cursor to reach the new binlog file", || async {
        sluice.cursor().await.filter(|c| c.position.binlog.file > before.position.binlog.file)
    })
    .await;
    assert!(after.position.binlog.file > before.position.binlog.file, "{} then {}", before.position, after.position);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_dump_connection_is_reopened_without_loss() {
    let (_mysql, mut db, sluice) = setup(1000, false).await;
    insert(&mut db, 1..=20).await;
    let mut killed: Vec<String> = Vec::new();
    for round in 0..3 {
        // Wait for sluice's (new) dump connection, then kill it.
        let deadline = std::time::Instant::now() + WAIT;
        let dump = loop {
            let rows =
                db.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'").await;
            if let Some(id) = rows.into_iter().filter_map(|r| r[0].clone()).find(|id| !killed.contains(id)) {
                break id;
            }
            assert!(std::time::Instant::now() < deadline, "round {round}: sluice did not reconnect");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        db.exec(&format!("KILL {dump}")).await;
        killed.push(dump);
        let start = 100 * (round + 1);
        insert(&mut db, start..=start + 20).await;
    }
    let mut wanted: Vec<i64> = (1..=20).collect();
    for round in 0..3 {
        let start = 100 * (round + 1);
        wanted.extend(start..=start + 20);
    }
    let records = consume_ids(&stack().kafka, &sluice.config.topic, "t", wanted.clone(), WAIT).await;
    let seen = ids_in(&records, "t");
    let missing: Vec<&i64> = wanted.iter().filter(|id| !seen.contains(id)).collect();
    assert!(missing.is_empty(), "missing after killed connections: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_link_is_detected_by_the_heartbeat_and_reconnected() {
    let (mysql, mut db, sluice) = setup(300, true).await;
    insert(&mut db, 1..=10).await;
    let pid: u32 = std::fs::read_to_string(mysql_pid_file(&mysql)).unwrap().trim().parse().unwrap();
    // A stopped server keeps its sockets open but sends nothing, heartbeats included.
    std::process::Command::new("kill").args(["-STOP", &pid.to_string()]).status().unwrap();
    eventually(Duration::from_secs(30), "sluice to notice the silence", || async {
        sluice.log().contains("no event or heartbeat").then_some(())
    })
    .await;
    std::process::Command::new("kill").args(["-CONT", &pid.to_string()]).status().unwrap();
    insert(&mut db, 11..=20).await;
    let records = consume_ids(&stack().kafka, &sluice.config.topic, "t", 1..=20, WAIT).await;
    let seen = ids_in(&records, "t");
    assert!((1..=20).all(|id| seen.contains(&id)), "missing rows after the link came back: {seen:?}");
    // The admin server reports the destination as leading again.
    let status = http_get(sluice.config.admin_port, "/status").await;
    assert!(status.contains("\"role\": \"leader\""), "{status}");
}

fn mysql_pid_file(stack: &PrivateStack) -> std::path::PathBuf {
    stack.dir().join("mariadb/mysqld.pid")
}

async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    socket.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
    let mut body = String::new();
    socket.read_to_string(&mut body).await.unwrap();
    body
}
