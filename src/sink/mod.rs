//! Sinks: publishing batches to a broker and reporting when the broker acknowledged them.
//!
//! Every sink implements [`Publisher`]. A batch's future resolves only when the broker confirmed
//! every message of it (Kafka: transaction committed or every delivery report successful;
//! RocketMQ: every send answered `SEND_OK`; RabbitMQ: every message `basic.ack`ed, none returned); the
//! checkpoint tracker turns those acknowledgements into cursor positions. A sink never decides
//! positions itself.
//!
//! # Error handling
//! [`PublishError`] says what the caller does next: `Transient` (broker unreachable, timeouts:
//! restart the pipeline from the committed cursor with backoff), `Fenced` (another leader owns the
//! output: stop acting as leader), `Definite` (configuration or data the broker will never accept:
//! stop the destination and tell the user).

pub mod kafka;
pub mod rabbitmq;
pub mod rocketmq;
pub mod worker;

use std::future::Future;
use std::pin::Pin;

use crate::config::{Destination, SinkKind};
use crate::encode::{Batch, PublishedMarks};

/// The outcome of one batch: its id once acknowledged.
pub type PublishFuture = Pin<Box<dyn Future<Output = Result<u64, PublishError>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker unavailable or slow: {0}")]
    Transient(String),
    #[error("fenced: {0}")]
    Fenced(String),
    #[error("{0}")]
    Definite(String),
}

pub trait Publisher: Send {
    /// Connect and check (or create) the topics. Called once before any batch.
    fn start(&mut self) -> Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + '_>>;

    /// Send a batch. Batches are passed in pipeline order; the returned futures may complete in
    /// any order.
    fn publish(&mut self, batch: Batch) -> PublishFuture;

    /// How many batches may be unacknowledged at once.
    fn max_in_flight(&self) -> usize;

    /// What a previous leader already published after the cursor, if this sink can tell (only
    /// where output is atomic per batch). Called once, after `start`.
    fn published_marks(&mut self) -> Pin<Box<dyn Future<Output = Result<PublishedMarks, PublishError>> + Send + '_>> {
        Box::pin(std::future::ready(Ok(PublishedMarks::new())))
    }
}

/// The destination's sink, not yet started.
pub fn for_destination(d: &Destination) -> Result<Box<dyn Publisher>, PublishError> {
    let topics = d.topic_rules().map_err(|e| PublishError::Definite(e.to_string()))?;
    Ok(match d.config.sink.kind {
        SinkKind::Kafka => Box::new(kafka::KafkaPublisher::new(&d.kafka(), &d.name, topics)?),
        SinkKind::RabbitMq => Box::new(rabbitmq::RabbitMqPublisher::new(&d.rabbitmq(), topics)),
        SinkKind::RocketMq => Box::new(rocketmq::RocketMqPublisher::new(&d.rocketmq(), &d.name, topics)),
    })
}
