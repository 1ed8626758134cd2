//! `sluice tail`: print what a destination published — each message's partition, offset, headers
//! and payload — so users can see the output without a Kafka client of their own.

use std::io::Write;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("Kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("topic {0} does not exist (yet)")]
    NoTopic(String),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

pub struct TailOptions {
    pub brokers: String,
    pub topic: String,
    /// Stop after this many messages.
    pub max_messages: Option<u64>,
    /// Stop when no message arrived for this long.
    pub idle_timeout: Duration,
}

/// Read the topic from the beginning; print one line per message. Blocking.
pub fn tail(opts: &TailOptions, out: &mut impl Write) -> Result<u64, TailError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &opts.brokers)
        .set("group.id", format!("sluice-tail-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(&opts.topic), Duration::from_secs(10))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == opts.topic && t.error().is_none())
        .map(|t| t.partitions().len())
        .filter(|n| *n > 0)
        .ok_or_else(|| TailError::NoTopic(opts.topic.clone()))?;
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(&opts.topic, p as i32, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut count = 0;
    let mut last = Instant::now();
    while last.elapsed() < opts.idle_timeout && opts.max_messages.is_none_or(|m| count < m) {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else { continue };
        let message = message?;
        last = Instant::now();
        count += 1;
        let mut headers = String::new();
        if let Some(h) = message.headers() {
            for header in h.iter() {
                let value = header.value.map(String::from_utf8_lossy).unwrap_or_default();
                headers.push_str(&format!(" {}={}", header.key, value));
            }
        }
        writeln!(out, "partition={} offset={}{headers}", message.partition(), message.offset())?;
        writeln!(out, "{}", String::from_utf8_lossy(message.payload().unwrap_or_default()))?;
    }
    Ok(count)
}
