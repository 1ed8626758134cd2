//! The RabbitMQ [`Publisher`]: one connection and one confirm-mode channel per run.
//!
//! Every message is published `mandatory` and persistent (delivery mode 2) with the position
//! headers. A batch is acknowledged when every message of it was confirmed with `basic.ack` and
//! none was returned: a nack, a return (no queue bound for the routing key), a closed channel or a
//! confirmation timeout fails the batch, and the pipeline retries from the committed cursor. The
//! number of unconfirmed messages is bounded by a semaphore shared across batches.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Semaphore;

use super::config::{ExchangeType, RabbitMqSinkConfig};
use crate::encode::{Batch, MessageHeaders, OutMessage};
use crate::route::TopicRules;
use crate::sink::worker::{BatchSender, OrderedWorker};
use crate::sink::{PublishError, PublishFuture, Publisher};

pub struct RabbitMqPublisher {
    config: RabbitMqSinkConfig,
    topics: TopicRules,
    worker: Option<OrderedWorker>,
}

impl RabbitMqPublisher {
    pub fn new(config: &RabbitMqSinkConfig, topics: TopicRules) -> Self {
        Self { config: config.clone(), topics, worker: None }
    }
}

/// The routing key of a message: its topic, plus `.partition` when the topic is partitioned.
pub fn routing_key(topic: &str, partition: u32, partitions: u32) -> String {
    if partitions > 1 { format!("{topic}.{partition}") } else { topic.to_owned() }
}

/// Connect, open a confirm-mode channel and declare (or check) the exchange.
pub async fn connect(config: &RabbitMqSinkConfig) -> Result<(Connection, Channel), PublishError> {
    let unreachable = |e: lapin::Error| {
        PublishError::Transient(format!(
            "cannot connect to RabbitMQ at {}: {e} (check sink.rabbitmq.uri and that the broker runs)",
            redact(&config.uri)
        ))
    };
    let connection = Connection::connect(&config.uri, ConnectionProperties::default()).await.map_err(unreachable)?;
    let channel = connection.create_channel().await.map_err(unreachable)?;
    let kind = match config.exchange_type {
        ExchangeType::Direct => ExchangeKind::Direct,
        ExchangeType::Topic => ExchangeKind::Topic,
        ExchangeType::Fanout => ExchangeKind::Fanout,
        ExchangeType::Headers => ExchangeKind::Headers,
    };
    let options = ExchangeDeclareOptions { durable: true, passive: !config.declare_exchange, ..Default::default() };
    channel
        .exchange_declare(ShortString::from(config.exchange.as_str()), kind, options, FieldTable::default())
        .await
        .map_err(|e| {
        PublishError::Definite(format!(
            "RabbitMQ exchange `{}`: {e} (with declare_exchange = false it must exist; when it exists, its type \
                 and durability must match sink.rabbitmq.exchange_type and durable)",
            config.exchange
        ))
    })?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| PublishError::Transient(format!("RabbitMQ: cannot enable publisher confirms: {e}")))?;
    Ok((connection, channel))
}

/// The URI without its password, for messages.
fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &uri[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &uri[..scheme + 3], &uri[at..])
        }
        _ => uri.to_owned(),
    }
}

impl Publisher for RabbitMqPublisher {
    fn start(&mut self) -> std::pin::Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + '_>> {
        Box::pin(async move {
            let (connection, channel) = connect(&self.config).await?;
            let sender = Sender {
                connection: Arc::new(connection),
                channel,
                exchange: ShortString::from(self.config.exchange.as_str()),
                topics: self.topics.clone(),
                unconfirmed: Arc::new(Semaphore::new(self.config.max_unconfirmed.max(1))),
                confirm_timeout: Duration::from_millis(self.config.confirm_timeout_ms),
                max_message_bytes: self.config.max_message_bytes,
            };
            self.worker = Some(OrderedWorker::spawn(sender, self.config.max_in_flight_batches));
            Ok(())
        })
    }

    fn publish(&mut self, batch: Batch) -> PublishFuture {
        self.worker.as_ref().expect("start() before publish()").publish(batch)
    }

    fn max_in_flight(&self) -> usize {
        self.config.max_in_flight_batches.max(1)
    }
}

struct Sender {
    /// Kept so the connection lives as long as the sender; closed when the sender is dropped.
    connection: Arc<Connection>,
    channel: Channel,
    exchange: ShortString,
    topics: TopicRules,
    unconfirmed: Arc<Semaphore>,
    confirm_timeout: Duration,
    max_message_bytes: usize,
}

impl Drop for Sender {
    fn drop(&mut self) {
        let connection = Arc::clone(&self.connection);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = connection.close(200, "sluice stopped publishing".into()).await;
            });
        }
    }
}

fn headers(h: &MessageHeaders) -> FieldTable {
    let mut table = FieldTable::default();
    let text = |s: &str| AMQPValue::LongString(s.into());
    table.insert(MessageHeaders::DESTINATION.into(), text(&h.destination));
    table.insert(MessageHeaders::POSITION.into(), text(&h.position));
    table.insert(MessageHeaders::GTID.into(), text(&h.gtid));
    table.insert(MessageHeaders::PART.into(), AMQPValue::LongUInt(h.part));
    table
}

impl Sender {
    async fn publish_one(&self, message: &OutMessage) -> Result<PublishFuture, PublishError> {
        if message.payload.len() > self.max_message_bytes {
            return Err(PublishError::Definite(format!(
                "a message of {} bytes (binlog position {}) exceeds sink.rabbitmq.max_message_bytes = {}: raise it \
                 (and the broker's max_message_size) or lower batch limits",
                message.payload.len(),
                message.headers.position,
                self.max_message_bytes
            )));
        }
        let permit = Arc::clone(&self.unconfirmed).acquire_owned().await.expect("the semaphore is never closed");
        let routing_key = routing_key(&message.topic, message.partition, self.topics.partitions_of(&message.topic));
        let properties = BasicProperties::default().with_delivery_mode(2).with_headers(headers(&message.headers));
        let confirm = self
            .channel
            .basic_publish(
                self.exchange.clone(),
                routing_key.as_str().into(),
                BasicPublishOptions { mandatory: true, ..Default::default() },
                &message.payload,
                properties,
            )
            .await
            .map_err(|e| PublishError::Transient(format!("RabbitMQ publish failed: {e}")))?;
        let timeout = self.confirm_timeout;
        let exchange = self.exchange.to_string();
        Ok(Box::pin(async move {
            let confirmation = tokio::time::timeout(timeout, confirm).await.map_err(|_| {
                PublishError::Transient(format!("RabbitMQ did not confirm a message within {timeout:?}"))
            })?;
            drop(permit);
            match confirmation {
                Ok(Confirmation::Ack(None)) => Ok(0),
                Ok(Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned))) => {
                    Err(PublishError::Transient(format!(
                        "RabbitMQ returned a message: {} {} (no queue is bound to exchange `{exchange}` for routing key \
                         `{routing_key}`; bind one — Sluice retries and does not move its cursor meanwhile)",
                        returned.reply_code, returned.reply_text
                    )))
                }
                Ok(Confirmation::Nack(None)) => {
                    Err(PublishError::Transient("RabbitMQ refused a message (basic.nack); retrying".into()))
                }
                Ok(Confirmation::NotRequested) => {
                    Err(PublishError::Definite("RabbitMQ channel is not in confirm mode".into()))
                }
                Err(e) => Err(PublishError::Transient(format!("RabbitMQ connection lost before the confirm: {e}"))),
            }
        }))
    }
}

impl BatchSender for Sender {
    async fn send(&mut self, batch: Batch) -> Result<PublishFuture, PublishError> {
        let mut confirms = Vec::with_capacity(batch.messages.len());
        for message in &batch.messages {
            confirms.push(self.publish_one(message).await?);
        }
        let id = batch.id;
        Ok(Box::pin(futures_util::future::try_join_all(confirms).map(move |r| r.map(|_| id))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_and_redaction() {
        assert_eq!(routing_key("shop", 3, 1), "shop");
        assert_eq!(routing_key("shop", 3, 8), "shop.3");
        assert_eq!(redact("amqp://guest:secret@127.0.0.1:5672/%2f"), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }
}
