//! The RocketMQ sink against the real (Rust) RocketMQ name server and broker: ordered delivery per
//! key through queue = partition mod queues, two consumer groups each getting every message, and a
//! broker outage that holds the cursor back and loses nothing.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use support::*;

const WAIT: Duration = Duration::from_secs(180);

fn rocket_config(stack: &Stack, db: &str, namesrv: &str) -> SluiceConfig {
    let mut config = SluiceConfig::new(stack, db);
    config.partitions = 4;
    config.sink = Some(format!("[sink]\ntype = \"rocketmq\"\n\n[sink.rocketmq]\nnamesrv_addr = \"{namesrv}\"\n"));
    config
}

fn row_versions(messages: &[RocketMessage]) -> Vec<(String, i64, i64)> {
    versions_of_t(messages.iter().map(RocketMessage::json))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consumer_groups_each_get_every_row_in_key_order() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "rocket").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, ver INT NOT NULL)").await;
    let config = rocket_config(&stack, &db.name, &stack.rocketmq);
    let sluice = Sluice::start(&config);
    // Sluice creates the topic (4 queues) when it starts; consumers subscribe after that.
    wait_running(&mut db, &sluice).await;

    key_order_workload(&mut db).await;

    for group in [unique("group-a"), unique("group-b")] {
        let messages =
            rocketmq_consume_until(&stack.rocketmq, &config.topic, &group, WAIT, |m| workload_done(&row_versions(m)))
                .await;
        // Orderly consumption keeps each queue's order; a key always maps to one queue.
        assert_key_order(&row_versions(&messages), &group);
        let mut key_queues: HashMap<String, HashSet<i32>> = HashMap::new();
        for m in messages.iter().filter(|m| m.json()["table"] == "t") {
            assert!(m.properties.get("sluice.position").is_some_and(|p| p.starts_with("mysql-bin.")), "{m:?}");
            assert_eq!(m.properties.get("sluice.destination"), Some(&config.destination));
            for row in m.json()["data"].as_array().unwrap() {
                key_queues.entry(row["id"].as_str().unwrap().to_owned()).or_default().insert(m.queue_id);
            }
        }
        assert!(key_queues.values().all(|q| q.len() == 1), "a key went to several queues");
        let used: HashSet<i32> = key_queues.values().flatten().copied().collect();
        assert!(used.len() > 1 && used.iter().all(|q| (0..4).contains(q)), "queues used: {used:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rocketmq_outage_freezes_the_cursor_and_loses_nothing() {
    let stack = stack();
    let rocket = PrivateStack::new();
    rocket.up(&["rocketmq"]);
    let mut db = TestDb::create(&stack.mysql, "rocketdown").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, ver INT NOT NULL)").await;
    let config = rocket_config(&stack, &db.name, &rocket.rocketmq());
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    insert_t(&mut db, 1, 100).await;
    let acked = cursor_at_binlog_end(&mut db, &sluice).await;

    rocket.down(&["rocketmq"]);
    let first_unpublished = write_while_broker_down(&mut db, &sluice, "RocketMQ").await;

    // The broker comes back with its store; Sluice reconnects and publishes what it held back.
    rocket.up(&["rocketmq"]);
    eventually(WAIT, "the cursor to move past the outage", || async {
        sluice.cursor().await.filter(|c| c.position.gtid_set.contains(&first_unpublished))
    })
    .await;
    let messages = rocketmq_consume_until(&rocket.rocketmq(), &config.topic, &unique("group"), WAIT, |m| {
        let ids: HashSet<i64> = row_versions(m).into_iter().map(|r| r.1).collect();
        (1..=200).all(|id| ids.contains(&id))
    })
    .await;
    let ids: HashSet<i64> = row_versions(&messages).into_iter().map(|r| r.1).collect();
    let missing: Vec<i64> = (1..=200).filter(|id| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "rows missing after the outage: {missing:?}\n{}", sluice.log());
    assert!(sluice.cursor().await.unwrap().position.binlog > acked.position.binlog);
}
