//! The transactional Kafka path against librdkafka's mock cluster, which implements the
//! transaction protocol (InitProducerId, AddPartitionsToTxn, EndTxn) and fencing by
//! `transactional.id`. It does not hide aborted records from read_committed readers, so nothing
//! here relies on that.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::types::RDKafkaApiKey;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sluice::encode::{Batch, MessageHeaders, OutMessage};
use sluice::route::TopicRules;
use sluice::sink::kafka::{Delivery, KafkaPublisher, KafkaSinkConfig};
use sluice::sink::{PublishError, Publisher};

fn config(brokers: String, transactional_id: &str) -> KafkaSinkConfig {
    KafkaSinkConfig {
        brokers,
        delivery: Delivery::Transactional,
        transactional_id: Some(transactional_id.to_owned()),
        create_topic: false,
        transaction_timeout_ms: 10_000,
        message_timeout_ms: 5_000,
        ..KafkaSinkConfig::default()
    }
}

fn batch(id: u64, partitions: u32, payload: &str) -> Batch {
    batch_on("orders", id, partitions, payload)
}

fn batch_for(topic: &str, id: u64, payload: &str) -> Batch {
    batch_on(topic, id, 1, payload)
}

fn batch_on(topic: &str, id: u64, partitions: u32, payload: &str) -> Batch {
    let messages = (0..partitions)
        .map(|p| OutMessage {
            topic: Arc::from(topic),
            partition: p,
            key: None,
            payload: format!("{{\"batch\":{id},\"p\":{p},\"v\":\"{payload}\"}}").into_bytes(),
            headers: MessageHeaders {
                destination: Arc::from("shop"),
                position: format!("mysql-bin.000001:{}", 100 * id),
                gtid: "0-1-7".into(),
                part: 0,
            },
        })
        .collect();
    Batch::new(id, messages, None)
}

fn read_all(brokers: &str, topic: &str, partitions: i32, expected: usize) -> Vec<(i32, String, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "mock-reader")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while out.len() < expected && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let position = m
                .headers()
                .and_then(|h| {
                    h.iter()
                        .find(|h| h.key == MessageHeaders::POSITION)
                        .and_then(|h| h.value)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                })
                .unwrap_or_default();
            out.push((m.partition(), String::from_utf8_lossy(m.payload().unwrap()).into_owned(), position));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_batch_is_one_committed_transaction() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("orders", 3, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let mut publisher =
        KafkaPublisher::new(&config(brokers.clone(), "sluice-shop"), "shop", TopicRules::single("orders", 3)).unwrap();
    publisher.start().await.unwrap();
    assert_eq!(publisher.max_in_flight(), 1, "transactions are published one at a time");
    for id in 1..=3 {
        assert_eq!(publisher.publish(batch(id, 3, "x")).await.unwrap(), id);
    }
    let messages = tokio::task::spawn_blocking(move || read_all(&brokers, "orders", 3, 9)).await.unwrap();
    assert_eq!(messages.len(), 9, "every message of every committed batch is readable");
    for (partition, payload, position) in &messages {
        assert!(payload.contains(&format!("\"p\":{partition}")), "explicit partition kept: {payload}");
        assert!(position.starts_with("mysql-bin.000001:"), "position header: {position}");
    }
}

/// Fencing needs a broker that bumps the producer epoch on InitProducerId and rejects the old one;
/// the mock cluster accepts the old epoch, so this runs against the local broker (nisshi), which
/// fences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_producer_with_the_same_transactional_id_fences_the_old_one() {
    let brokers = std::env::var("SLUICE_TEST_KAFKA").expect("SLUICE_TEST_KAFKA: run with scripts/test");
    let topic = format!("fencing_{}", std::process::id());
    let id = format!("sluice-fencing-{}", std::process::id());
    let mut cfg = config(brokers.clone(), &id);
    cfg.create_topic = true;
    let mut old_leader = KafkaPublisher::new(&cfg, "shop", TopicRules::single(&topic, 1)).unwrap();
    old_leader.start().await.unwrap();
    old_leader.publish(batch_for(&topic, 1, "old")).await.unwrap();

    let mut new_leader = KafkaPublisher::new(&cfg, "shop", TopicRules::single(&topic, 1)).unwrap();
    new_leader.start().await.unwrap();

    match old_leader.publish(batch_for(&topic, 2, "zombie")).await {
        Err(PublishError::Fenced(message)) => assert!(!message.is_empty()),
        other => panic!("the zombie producer must be fenced, got {other:?}"),
    }
    new_leader.publish(batch_for(&topic, 2, "new")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_without_transactions_is_a_definite_error_naming_the_fix() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("orders", 1, 1).unwrap();
    cluster.apiversion(RDKafkaApiKey::InitProducerId, None, None).unwrap();
    let mut publisher = KafkaPublisher::new(
        &config(cluster.bootstrap_servers(), "sluice-shop"),
        "shop",
        TopicRules::single("orders", 1),
    )
    .unwrap();
    match publisher.start().await {
        Err(PublishError::Definite(message)) => {
            assert!(message.contains("delivery = \"idempotent\""), "the error names the fix: {message}")
        }
        other => panic!("expected a definite error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_stops_the_batch_before_anything_is_sent() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("orders", 1, 1).unwrap();
    let mut cfg = config(cluster.bootstrap_servers(), "sluice-big");
    cfg.max_message_bytes = 1024;
    let mut publisher = KafkaPublisher::new(&cfg, "shop", TopicRules::single("orders", 1)).unwrap();
    publisher.start().await.unwrap();
    let big = "y".repeat(4096);
    match publisher.publish(batch(1, 1, &big)).await {
        Err(PublishError::Definite(message)) => {
            assert!(message.contains("mysql-bin.000001:100") && message.contains("max_message_bytes"), "{message}")
        }
        other => panic!("expected a definite error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_broker_without_transactions_when_the_destination_wants_them() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.apiversion(RDKafkaApiKey::InitProducerId, None, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("destinations")).unwrap();
    std::fs::write(dir.path().join("sluice.toml"), "").unwrap();
    let destination = |delivery: &str| {
        format!(
            "[source]\naddress = \"127.0.0.1:1\"\nuser = \"u\"\n[sink.kafka]\nbrokers = \"{}\"\ndelivery = \"{delivery}\"\n",
            cluster.bootstrap_servers()
        )
    };
    std::fs::write(dir.path().join("destinations/shop.toml"), destination("transactional")).unwrap();
    let config = sluice::config::load(&dir.path().join("sluice.toml")).unwrap();
    let items = sluice::commands::check::check_kafka(&config.destinations[0]).await;
    let problem =
        items.iter().find(|i| i.severity.is_some()).unwrap_or_else(|| panic!("no problem reported: {items:?}"));
    assert!(problem.message.contains("does not support Kafka transactions"), "{problem}");
    assert!(problem.message.contains("delivery = \"idempotent\""), "the fix is named: {problem}");

    // The same broker is fine for idempotent delivery.
    std::fs::write(dir.path().join("destinations/shop.toml"), destination("idempotent")).unwrap();
    let config = sluice::config::load(&dir.path().join("sluice.toml")).unwrap();
    let items = sluice::commands::check::check_kafka(&config.destinations[0]).await;
    assert!(items.iter().all(|i| i.severity.is_none()), "{items:?}");
}
