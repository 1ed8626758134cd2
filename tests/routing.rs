//! Canal-compatible routing end to end on Kafka: dynamic topics by table and schema rules, their
//! own partition counts, and two consumer groups that each receive every message.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use support::*;

const WAIT: Duration = Duration::from_secs(120);

/// Partition count of a topic as the broker reports it.
fn partitions_of(brokers: &str, topic: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", brokers).create().unwrap();
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    metadata.topics().iter().find(|t| t.name() == topic).map_or(0, |t| t.partitions().len())
}

/// Consume `topic` as a member of consumer `group` (subscribe, from the earliest offset) until
/// `count` messages arrived or the timeout passes; returns their payloads.
fn consume_as_group(brokers: &str, topic: &str, group: &str, count: usize) -> Vec<serde_json::Value> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    while out.len() < count && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(serde_json::from_slice(m.payload().unwrap()).unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_topics_route_tables_with_their_own_partition_counts() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "route").await;
    for table in ["orders", "items", "other"] {
        db.exec(&format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, v INT)")).await;
    }
    let mut config = SluiceConfig::new(&stack, &db.name);
    let orders_topic = unique("orders");
    let name = db.name.clone();
    // orders → a named topic with 5 partitions; tables starting with `it` → a topic named after
    // the table (`<db>_items`); everything else → the default topic.
    config.output_extra = format!(
        "dynamic_topic = [\"{orders_topic}:{name}\\\\.orders\", \"{name}\\\\.it.*\"]\ntopic_partitions = [\"{orders_topic}:5\"]\n"
    );
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    for table in ["orders", "items", "other"] {
        let values: Vec<String> = (1..=50).map(|id| format!("({id}, 0)")).collect();
        db.exec(&format!("INSERT INTO {table} VALUES {}", values.join(","))).await;
    }
    db.exec("ALTER TABLE orders ADD COLUMN w INT").await;

    let items_topic = format!("{}_items", name.to_lowercase());
    for (topic, table, partitions) in
        [(orders_topic.as_str(), "orders", 5), (items_topic.as_str(), "items", 3), (config.topic.as_str(), "other", 3)]
    {
        let records = consume_ids(&stack.kafka, topic, table, 1..=50, WAIT).await;
        let tables: HashSet<String> = records
            .iter()
            .filter(|r| r.json["isDdl"] == false)
            .map(|r| r.json["table"].as_str().unwrap().to_owned())
            .collect();
        assert!(tables.contains(table), "{table} rows are not in {topic}: {tables:?}");
        let foreign: Vec<_> = tables.iter().filter(|t| *t != table && *t != "_warmup").collect();
        assert!(foreign.is_empty(), "{topic} holds rows of {foreign:?}");
        assert_eq!(partitions_of(&stack.kafka, topic), partitions, "partitions of {topic}");
        let used: HashSet<i32> = records.iter().map(|r| r.partition).collect();
        assert!(used.len() > 1 && used.iter().all(|p| *p < partitions as i32), "{topic} partitions used: {used:?}");
        if table == "orders" {
            // The DDL follows its table to every partition of the table's topic.
            let ddl = eventually(WAIT, "the ALTER in the orders topic", || async {
                let records = consume_ids(&stack.kafka, topic, table, 1..=50, Duration::from_secs(5)).await;
                let n = records.iter().filter(|r| r.json["type"] == "ALTER").count();
                (n == 5).then_some(n)
            })
            .await;
            assert_eq!(ddl, 5);
        }
    }

    // Fan-out: two consumer groups each receive every message of a topic.
    let expected = consume_ids(&stack.kafka, &orders_topic, "orders", 1..=50, WAIT).await.len();
    for group in [unique("group-a"), unique("group-b")] {
        let (brokers, topic) = (stack.kafka.clone(), orders_topic.clone());
        let got =
            tokio::task::spawn_blocking(move || consume_as_group(&brokers, &topic, &group, expected)).await.unwrap();
        let ids: HashSet<String> = got
            .iter()
            .filter(|m| m["type"] == "INSERT")
            .flat_map(|m| m["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(ids.len(), 50, "a consumer group missed rows");
    }
}
