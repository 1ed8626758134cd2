//! The Kafka publisher against a broker that goes away: a batch fails within the configured
//! deadline (so the pipeline can restart from the cursor) instead of waiting forever.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice::encode::{Batch, MessageHeaders, OutMessage};
use sluice::sink::kafka::{Delivery, KafkaPublisher, KafkaSinkConfig};
use sluice::sink::{PublishError, Publisher};
use support::*;

fn batch(topic: &str, id: u64) -> Batch {
    let message = OutMessage {
        topic: Arc::from(topic),
        partition: 0,
        key: None,
        payload: format!("{{\"batch\":{id}}}").into_bytes(),
        headers: MessageHeaders {
            destination: Arc::from("d"),
            position: format!("mysql-bin.000001:{id}"),
            gtid: String::new(),
            part: 0,
        },
    };
    Batch::new(id, vec![message], None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_batch_fails_within_the_message_timeout() {
    let kafka = PrivateStack::new();
    kafka.up(&["kafka"]);
    let config = KafkaSinkConfig {
        brokers: kafka.kafka(),
        delivery: Delivery::Idempotent,
        message_timeout_ms: 2_000,
        ..KafkaSinkConfig::default()
    };
    let mut publisher = KafkaPublisher::new(&config, "d", sluice::route::TopicRules::single("outage", 1)).unwrap();
    publisher.start().await.unwrap();
    publisher.publish(batch("outage", 1)).await.unwrap();

    kafka.down(&["kafka"]);
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(30), publisher.publish(batch("outage", 2))).await;
    match result {
        Ok(Err(PublishError::Transient(message))) => eprintln!("failed after {:?}: {message}", started.elapsed()),
        Ok(other) => panic!("expected a transient failure, got {other:?}"),
        Err(_) => panic!("the batch neither succeeded nor failed within 30 s"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}
