//! One writer per destination: two servers compete through ZooKeeper, one runs the destination,
//! the other stands by and takes over — at once on a graceful stop, after the session timeout on a
//! crash — without losing a row.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const WAIT: Duration = Duration::from_secs(90);

async fn status(port: u16) -> Option<Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    socket.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n").await.ok()?;
    let mut text = String::new();
    socket.read_to_string(&mut text).await.ok()?;
    let body = text.split("\r\n\r\n").nth(1)?;
    serde_json::from_str::<Value>(body).ok().map(|v| v[0].clone())
}

async fn role(port: u16) -> String {
    status(port).await.and_then(|s| s["role"].as_str().map(str::to_owned)).unwrap_or_default()
}

/// Two sluice processes for the same destination (same ZooKeeper root, name and topic).
async fn pair(db: &str) -> (Sluice, Sluice) {
    let stack = stack();
    let mut first = SluiceConfig::new(&stack, db);
    first.admin_port = free_port();
    first.address = format!("127.0.0.1:{}", first.admin_port);
    let mut second = first.clone();
    second.admin_port = free_port();
    second.address = format!("127.0.0.1:{}", second.admin_port);
    let a = Sluice::start(&first);
    eventually(WAIT, "the first server to lead", || async { (role(first.admin_port).await == "leader").then_some(()) })
        .await;
    let b = Sluice::start(&second);
    eventually(WAIT, "the second server to stand by", || async {
        (role(second.admin_port).await == "standby").then_some(())
    })
    .await;
    (a, b)
}

async fn insert(db: &mut TestDb, ids: std::ops::RangeInclusive<i64>) {
    for id in ids {
        db.exec(&format!("INSERT INTO t VALUES ({id})")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_at_once_when_the_leader_stops_gracefully() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "elect").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)").await;
    let (mut leader, standby) = pair(&db.name).await;
    wait_running(&mut db, &leader).await;
    // Exactly one leader, and ZooKeeper's running node names it.
    let client = zookeeper_client::Client::connect(&stack.zk).await.unwrap();
    let running = sluice::cluster::ZkPaths::new(&leader.config.zk_root).running(&leader.config.destination);
    let (data, _) = client.get_data(&running).await.unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&data).unwrap()["address"], leader.config.address.as_str());
    assert_eq!(role(standby.config.admin_port).await, "standby");

    insert(&mut db, 1..=20).await;
    leader.signal("TERM");
    let stopped = Instant::now();
    assert!(leader.wait_exit(Duration::from_secs(20)).is_some_and(|s| s.success()), "the leader exits cleanly");
    eventually(Duration::from_secs(5), "the standby to take over", || async {
        (role(standby.config.admin_port).await == "leader").then_some(())
    })
    .await;
    let takeover = stopped.elapsed();
    assert!(
        takeover < Duration::from_secs(4),
        "a graceful handover must not wait for the session timeout: {takeover:?}"
    );
    insert(&mut db, 21..=40).await;
    let records = consume_ids(&stack.kafka, &standby.config.topic, "t", 1..=40, WAIT).await;
    let seen = ids_in(&records, "t");
    assert!((1..=40).all(|id| seen.contains(&id)), "rows lost across the handover: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_after_the_session_timeout_when_the_leader_is_killed() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "elect9").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY)").await;
    let (mut leader, standby) = pair(&db.name).await;
    wait_running(&mut db, &leader).await;
    insert(&mut db, 1..=20).await;
    leader.kill9();
    insert(&mut db, 21..=40).await;
    eventually(Duration::from_secs(30), "the standby to take over", || async {
        (role(standby.config.admin_port).await == "leader").then_some(())
    })
    .await;
    let records = consume_ids(&stack.kafka, &standby.config.topic, "t", 1..=40, WAIT).await;
    let seen = ids_in(&records, "t");
    assert!((1..=40).all(|id| seen.contains(&id)), "rows lost across the crash: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_zookeeper_chroot_is_created() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "chroot").await;
    let chroot = format!("/sluice-chroot/{}", unique("c"));
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.zk = format!("{}{chroot}", stack.zk);
    let sluice = Sluice::start(&config);
    let deadline = Instant::now() + WAIT;
    let client = zookeeper_client::Client::connect(&stack.zk).await.unwrap();
    let cursor = sluice::cluster::ZkPaths::new(&config.zk_root).cursor(&config.destination);
    loop {
        db.exec("INSERT INTO _warmup VALUES ()").await;
        if client.check_stat(&format!("{chroot}{cursor}")).await.unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "no cursor under the chroot; log:\n{}", sluice.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
