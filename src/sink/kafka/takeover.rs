//! Takeover without duplicates (transactional delivery): before a new leader publishes, it reads
//! the last messages of each partition of its topics as a read_committed consumer and notes, per
//! partition, the newest `(position, part)` of its destination. The batcher then skips messages up
//! to those marks: what a previous leader committed after the cursor is not published again.
//!
//! Marks are per partition because that is the unit a consumer sees: even on a broker that exposes
//! an aborted transaction partly, every message is visible exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::encode::{MessageHeaders, PublishedMarks};
use crate::event::BinlogPosition;

/// Messages read back per partition (the end of the last committed batch is within them).
const TAIL_MESSAGES: i64 = 200;
/// The tail is read until nothing arrives for this long (some brokers under-report watermarks).
const QUIET: Duration = Duration::from_millis(500);

/// Read the marks for `destination` on `topics` (name, partitions) (blocking).
pub fn read_marks(
    brokers: &str,
    topics: &[(String, u32)],
    destination: &str,
) -> Result<PublishedMarks, rdkafka::error::KafkaError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("sluice-takeover-{destination}"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for (topic, partitions) in topics {
        for p in 0..*partitions as i32 {
            let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
            assignment.add_partition_offset(topic, p, Offset::Offset(low.max(high - TAIL_MESSAGES)))?;
        }
    }
    if assignment.count() == 0 {
        return Ok(PublishedMarks::new());
    }
    consumer.assign(&assignment)?;
    let mut marks = PublishedMarks::new();
    let mut last = Instant::now();
    while last.elapsed() < QUIET {
        let Some(message) = consumer.poll(Duration::from_millis(50)) else { continue };
        let message = message?;
        last = Instant::now();
        let Some(headers) = message.headers() else { continue };
        let header = |key: &str| {
            headers.iter().find(|h| h.key == key).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
        };
        if header(MessageHeaders::DESTINATION).as_deref() != Some(destination) {
            continue;
        }
        let Some(position) = header(MessageHeaders::POSITION).and_then(|p| parse_position(&p)) else { continue };
        let part = header(MessageHeaders::PART).and_then(|p| p.parse().ok()).unwrap_or(0);
        let mark = (position, part);
        let entry =
            marks.entry((Arc::from(message.topic()), message.partition() as u32)).or_insert_with(|| mark.clone());
        if mark > *entry {
            *entry = mark;
        }
    }
    Ok(marks)
}

fn parse_position(text: &str) -> Option<BinlogPosition> {
    let (file, offset) = text.rsplit_once(':')?;
    Some(BinlogPosition::new(file, offset.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_and_order_across_files() {
        let a = parse_position("mysql-bin.000009:900").unwrap();
        let b = parse_position("mysql-bin.000010:4").unwrap();
        assert!(a < b);
        assert!(parse_position("garbage").is_none());
    }
}
