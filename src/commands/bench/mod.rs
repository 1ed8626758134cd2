//! `sluice bench produce`: the broker's ceiling for the benchmark — how fast it accepts pre-encoded
//! messages of a given count and size through the same publisher and settings the pipeline uses
//! (any sink: Kafka from flags, or a destination's configured sink).

pub mod decode;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::encode::{Batch, MessageHeaders, OutMessage};
use crate::sink::{PublishError, Publisher};

pub struct ProduceBench {
    /// Not started yet.
    pub publisher: Box<dyn Publisher>,
    pub topic: String,
    pub partitions: u32,
    /// The payloads to publish, cycled until `messages` are sent.
    pub payloads: Vec<Vec<u8>>,
    pub messages: u64,
    pub messages_per_batch: usize,
}

/// Read up to `limit` message payloads of `topic` from the beginning (stops after 5 s without one),
/// so the ceiling is measured with exactly what the pipeline published.
pub fn read_payloads(brokers: &str, topic: &str, limit: u64) -> Result<Vec<Vec<u8>>, rdkafka::error::KafkaError> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("sluice-bench-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions = metadata.topics().iter().find(|t| t.name() == topic).map_or(0, |t| t.partitions().len());
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p as i32, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut payloads = Vec::new();
    let mut last = Instant::now();
    while (payloads.len() as u64) < limit && last.elapsed() < Duration::from_secs(5) {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            payloads.push(message?.payload().unwrap_or_default().to_vec());
            last = Instant::now();
        }
    }
    Ok(payloads)
}

#[derive(Debug)]
pub struct ProduceResult {
    pub messages: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Publish `messages` messages in batches, keeping the publisher's in-flight limit, and time it.
pub async fn produce(bench: ProduceBench) -> Result<ProduceResult, PublishError> {
    if bench.payloads.is_empty() {
        return Err(PublishError::Definite("no payloads to publish".into()));
    }
    let mut publisher = bench.publisher;
    publisher.start().await?;
    let topic: Arc<str> = Arc::from(bench.topic.as_str());
    let destination: Arc<str> = Arc::from("bench");
    let max_in_flight = publisher.max_in_flight();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut bytes = 0u64;
    let mut batch_id = 0;
    while sent < bench.messages || !in_flight.is_empty() {
        if sent < bench.messages && in_flight.len() < max_in_flight {
            let n = (bench.messages - sent).min(bench.messages_per_batch.max(1) as u64);
            let messages = (0..n)
                .map(|i| {
                    let payload = bench.payloads[((sent + i) % bench.payloads.len() as u64) as usize].clone();
                    bytes += payload.len() as u64;
                    OutMessage {
                        topic: Arc::clone(&topic),
                        partition: ((sent + i) % u64::from(bench.partitions.max(1))) as u32,
                        key: None,
                        payload,
                        headers: MessageHeaders {
                            destination: Arc::clone(&destination),
                            position: format!("mysql-bin.000001:{}", sent + i),
                            gtid: String::new(),
                            part: 0,
                        },
                    }
                })
                .collect();
            batch_id += 1;
            let mut batch = Batch::new(batch_id, messages, None);
            if batch_id == 1 {
                batch.new_topics.push((Arc::clone(&topic), bench.partitions));
            }
            in_flight.push(publisher.publish(batch));
            sent += n;
        } else if let Some(result) = futures_util::StreamExt::next(&mut in_flight).await {
            result?;
        }
    }
    Ok(ProduceResult { messages: sent, bytes, elapsed: started.elapsed() })
}
