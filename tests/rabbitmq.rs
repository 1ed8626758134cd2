//! The RabbitMQ sink against a real RabbitMQ 3.10: rows arrive in per-key order in every queue
//! bound to the exchange, persistent, with position headers; an unroutable message or a broker
//! outage holds the cursor back and loses nothing.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sluice::event::BinlogPosition;
use support::*;

const WAIT: Duration = Duration::from_secs(180);

fn rabbit_config(stack: &Stack, db: &str, uri: &str, exchange: &str) -> SluiceConfig {
    let mut config = SluiceConfig::new(stack, db);
    config.sink =
        Some(format!("[sink]\ntype = \"rabbitmq\"\n\n[sink.rabbitmq]\nuri = \"{uri}\"\nexchange = \"{exchange}\"\n"));
    config
}

fn row_versions(messages: &[AmqpMessage]) -> Vec<(String, i64, i64)> {
    versions_of_t(messages.iter().map(AmqpMessage::json))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queue_bound_to_the_exchange_gets_every_row_in_key_order() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "rabbit").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, ver INT NOT NULL)").await;
    let exchange = unique("x");
    let config = rabbit_config(&stack, &db.name, &stack.rabbitmq, &exchange);
    // Two independent consumers: one queue each, bound to every partition's routing key.
    let binding = format!("{}.*", config.topic);
    let queues = [
        amqp_queue(&stack.rabbitmq, &exchange, &binding).await,
        amqp_queue(&stack.rabbitmq, &exchange, &binding).await,
    ];
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    key_order_workload(&mut db).await;

    for queue in &queues {
        let messages = amqp_consume_until(&stack.rabbitmq, queue, WAIT, |m| workload_done(&row_versions(m))).await;
        assert_key_order(&row_versions(&messages), queue);
        // Delivery properties: persistent, position headers, one routing key per key.
        let mut key_routes: HashMap<String, HashSet<String>> = HashMap::new();
        for m in messages.iter().filter(|m| m.json()["table"] == "t") {
            assert!(m.persistent, "message not persistent: {m:?}");
            assert!(m.headers.get("sluice.position").is_some_and(|p| p.starts_with("mysql-bin.")), "{m:?}");
            assert_eq!(m.headers.get("sluice.destination"), Some(&config.destination));
            let partition =
                m.routing_key.strip_prefix(&format!("{}.", config.topic)).expect("routing key = topic.partition");
            assert!(partition.parse::<u32>().unwrap() < config.partitions);
            for row in m.json()["data"].as_array().unwrap() {
                key_routes.entry(row["id"].as_str().unwrap().to_owned()).or_default().insert(m.routing_key.clone());
            }
        }
        assert!(key_routes.values().all(|r| r.len() == 1), "a key was routed to several partitions");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unroutable_message_holds_the_cursor_until_a_queue_is_bound() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "noroute").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, ver INT NOT NULL)").await;
    let exchange = unique("x");
    let mut config = rabbit_config(&stack, &db.name, &stack.rabbitmq, &exchange);
    config.include = vec![format!("{}.t", db.name)];
    let sluice = Sluice::start(&config);
    // Nothing is bound yet: the destination starts, but the first row cannot be delivered.
    eventually(WAIT, "the destination to lead", || async { sluice.log().contains("sink ready").then_some(()) }).await;
    let before = eventually(WAIT, "a committed cursor", || async { sluice.cursor().await }).await;
    db.exec("INSERT INTO t VALUES (1, 0), (2, 0)").await;
    eventually(WAIT, "the return to be reported", || async {
        sluice.log().contains("RabbitMQ returned a message").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = sluice.cursor().await.unwrap();
    // Other tests write to the same server meanwhile: the cursor may pass their (filtered)
    // transactions, never the INSERT's. Its TABLE_MAP names this test's database.
    let master = db.query("SHOW MASTER STATUS").await;
    let file = master[0][0].clone().unwrap();
    let events = db.query(&format!("SHOW BINLOG EVENTS IN '{file}'")).await;
    let table = format!("({}.t)", db.name);
    let insert_at = events
        .iter()
        .find(|e| e[2].as_deref() == Some("Table_map") && e[5].as_deref().is_some_and(|i| i.ends_with(&table)))
        .map(|e| BinlogPosition { file: file.clone(), offset: e[1].as_deref().unwrap().parse().unwrap() })
        .expect("the INSERT's TABLE_MAP in the current binlog file");
    assert!(held.position.binlog >= before.position.binlog);
    assert!(held.position.binlog < insert_at, "the cursor {held:?} moved past the unroutable row at {insert_at:?}");

    let queue = amqp_queue(&stack.rabbitmq, &exchange, &format!("{}.*", config.topic)).await;
    let messages = amqp_consume_until(&stack.rabbitmq, &queue, WAIT, |m| row_versions(m).len() >= 2).await;
    let ids: HashSet<i64> = row_versions(&messages).into_iter().map(|r| r.1).collect();
    assert_eq!(ids, HashSet::from([1, 2]));
    eventually(WAIT, "the cursor to move once delivered", || async {
        sluice.cursor().await.filter(|c| c.position.binlog > before.position.binlog)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rabbitmq_outage_freezes_the_cursor_and_loses_nothing() {
    let stack = stack();
    let rabbit = PrivateStack::new();
    rabbit.up(&["rabbitmq"]);
    let mut db = TestDb::create(&stack.mysql, "rabbitdown").await;
    db.exec("CREATE TABLE t (id BIGINT PRIMARY KEY, ver INT NOT NULL)").await;
    let exchange = unique("x");
    let config = rabbit_config(&stack, &db.name, &rabbit.rabbitmq(), &exchange);
    let queue = amqp_queue(&rabbit.rabbitmq(), &exchange, &format!("{}.*", config.topic)).await;
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    insert_t(&mut db, 1, 100).await;
    let all_of = |n: usize| move |m: &[AmqpMessage]| row_versions(m).len() >= n;
    amqp_consume_until(&rabbit.rabbitmq(), &queue, WAIT, all_of(100)).await;
    let acked = cursor_at_binlog_end(&mut db, &sluice).await;

    rabbit.down(&["rabbitmq"]);
    write_while_broker_down(&mut db, &sluice, "RabbitMQ").await;

    // The same broker comes back with its durable queue; Sluice reconnects and publishes again.
    rabbit.up(&["rabbitmq"]);
    let messages = amqp_consume_until(&rabbit.rabbitmq(), &queue, WAIT, |m| {
        let ids: HashSet<i64> = row_versions(m).into_iter().map(|r| r.1).collect();
        (101..=200).all(|id| ids.contains(&id))
    })
    .await;
    let ids: HashSet<i64> = row_versions(&messages).into_iter().map(|r| r.1).collect();
    let missing: Vec<i64> = (101..=200).filter(|id| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "rows written during the outage are missing: {missing:?}\n{}", sluice.log());
    eventually(WAIT, "the cursor to move past the outage", || async {
        sluice.cursor().await.filter(|c| c.position.binlog > acked.position.binlog)
    })
    .await;
    assert!(sluice.log().contains("RabbitMQ"), "the outage was not reported");
}
