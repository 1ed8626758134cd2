//! The Kafka [`Publisher`].

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use super::config::{Delivery, KafkaSinkConfig};
use crate::encode::{Batch, MessageHeaders, OutMessage, PublishedMarks};
use crate::route::TopicRules;
use crate::sink::{PublishError, PublishFuture, Publisher};

pub struct KafkaPublisher {
    producer: FutureProducer,
    config: KafkaSinkConfig,
    destination: String,
    topics: TopicRules,
    /// Topics known to exist with enough partitions.
    ready: HashSet<String>,
}

impl KafkaPublisher {
    pub fn new(config: &KafkaSinkConfig, destination: &str, topics: TopicRules) -> Result<Self, PublishError> {
        let producer: FutureProducer = producer_config(config, destination)
            .create()
            .map_err(|e| PublishError::Definite(format!("cannot create the Kafka producer: {e}")))?;
        Ok(Self {
            producer,
            config: config.clone(),
            destination: destination.to_owned(),
            topics,
            ready: HashSet::new(),
        })
    }

    fn transactional(&self) -> bool {
        self.config.delivery == Delivery::Transactional
    }
}

/// The producer settings for a destination.
pub fn producer_config(config: &KafkaSinkConfig, destination: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.brokers)
        .set("client.id", format!("sluice-{destination}"))
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", config.message_timeout_ms.to_string())
        // A produce request in flight is only timed out after request.timeout.ms, whatever
        // message.timeout.ms says: keep it within the message timeout.
        .set("request.timeout.ms", config.message_timeout_ms.clamp(1_000, 30_000).to_string())
        .set("message.max.bytes", (config.max_message_bytes + 4096).to_string())
        .set("linger.ms", "5")
        .set("compression.type", config.compression.librdkafka_name())
        .set("socket.keepalive.enable", "true")
        // Metadata lookups must not create topics with the broker's default partition count:
        // Sluice creates them with the destination's.
        .set("allow.auto.create.topics", "false");
    if config.delivery == Delivery::Transactional {
        c.set("transactional.id", transactional_id(config, destination))
            .set("transaction.timeout.ms", config.transaction_timeout_ms.to_string());
    }
    for (key, value) in &config.properties {
        c.set(key, value);
    }
    c
}

pub fn transactional_id(config: &KafkaSinkConfig, destination: &str) -> String {
    config.transactional_id.clone().unwrap_or_else(|| format!("sluice-{destination}"))
}

/// Classify a producer error by what the pipeline should do next.
pub fn classify(context: &str, e: &KafkaError) -> PublishError {
    let message = format!("{context}: {e}");
    if let KafkaError::Transaction(rd) = e {
        // `Fenced` is librdkafka's local code for "fenced by a newer instance".
        if matches!(
            rd.code(),
            RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch | RDKafkaErrorCode::Fenced
        ) {
            return PublishError::Fenced(message);
        }
        if rd.is_fatal() {
            return PublishError::Definite(message);
        }
        return PublishError::Transient(message);
    }
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch | RDKafkaErrorCode::Fenced) => {
            PublishError::Fenced(message)
        }
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::TransactionalIdAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::InvalidConfig
            | RDKafkaErrorCode::UnsupportedVersion
            | RDKafkaErrorCode::UnsupportedForMessageFormat,
        ) => PublishError::Definite(message),
        _ => PublishError::Transient(message),
    }
}

fn headers(h: &MessageHeaders) -> OwnedHeaders {
    let part = h.part.to_string();
    OwnedHeaders::new_with_capacity(4)
        .insert(Header { key: MessageHeaders::DESTINATION, value: Some(h.destination.as_bytes()) })
        .insert(Header { key: MessageHeaders::POSITION, value: Some(h.position.as_bytes()) })
        .insert(Header { key: MessageHeaders::GTID, value: Some(h.gtid.as_bytes()) })
        .insert(Header { key: MessageHeaders::PART, value: Some(part.as_bytes()) })
}

fn record(message: &OutMessage) -> FutureRecord<'_, [u8], [u8]> {
    let mut record = FutureRecord::to(&message.topic)
        .partition(message.partition as i32)
        .payload(message.payload.as_slice())
        .headers(headers(&message.headers));
    if let Some(key) = &message.key {
        record = record.key(key.as_slice());
    }
    record
}

/// Reject a message the broker would refuse before anything of its batch is sent.
fn check_sizes(batch: &Batch, max: usize) -> Result<(), PublishError> {
    if let Some(big) = batch.messages.iter().find(|m| m.payload.len() > max) {
        return Err(PublishError::Definite(format!(
            "the message for the change at {} is {} bytes, over max_message_bytes = {max}: raise the broker's \
             message.max.bytes and the sink's max_message_bytes, or reduce the rows per message (record_key = \
             \"primary_key\" sends one row per message)",
            big.headers.position,
            big.payload.len()
        )));
    }
    Ok(())
}

impl Publisher for KafkaPublisher {
    fn start(&mut self) -> Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + '_>> {
        Box::pin(async move {
            for topic in self.topics.named_topics() {
                ensure_topic(&self.producer, &self.config, &topic, self.topics.partitions_of(&topic)).await?;
                self.ready.insert(topic);
            }
            if self.transactional() {
                let producer = self.producer.clone();
                let timeout = Duration::from_millis(self.config.transaction_timeout_ms);
                tokio::task::spawn_blocking(move || producer.init_transactions(timeout))
                    .await
                    .map_err(|e| PublishError::Transient(format!("transaction setup task failed: {e}")))?
                    .map_err(|e| match classify("initialising Kafka transactions", &e) {
                        PublishError::Definite(m) => PublishError::Definite(format!(
                            "{m}. If the broker does not support transactions, set delivery = \"idempotent\""
                        )),
                        other => other,
                    })?;
            }
            Ok(())
        })
    }

    fn publish(&mut self, batch: Batch) -> PublishFuture {
        if let Err(e) = check_sizes(&batch, self.config.max_message_bytes) {
            return Box::pin(std::future::ready(Err(e)));
        }
        // A topic first used by this batch must exist before any of its messages is enqueued, and
        // enqueueing must stay in batch order: wait here rather than inside the returned future.
        for (topic, partitions) in &batch.new_topics {
            if self.ready.contains(topic.as_ref()) {
                continue;
            }
            let ensured = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(ensure_topic(
                    &self.producer,
                    &self.config,
                    topic,
                    *partitions,
                ))
            });
            if let Err(e) = ensured {
                return Box::pin(std::future::ready(Err(e)));
            }
            self.ready.insert(topic.to_string());
        }
        let producer = self.producer.clone();
        if self.transactional() {
            let timeout = Duration::from_millis(self.config.transaction_timeout_ms);
            Box::pin(async move {
                tokio::task::spawn_blocking(move || publish_transaction(&producer, batch, timeout))
                    .await
                    .map_err(|e| PublishError::Transient(format!("publish task failed: {e}")))?
            })
        } else {
            // The acknowledgement deadline is ours, not only librdkafka's: a batch that is neither
            // acknowledged nor failed by then fails, and the pipeline restarts from the cursor.
            let deadline = Duration::from_millis(self.config.message_timeout_ms) + Duration::from_secs(5);
            let id = batch.id;
            Box::pin(async move {
                match tokio::time::timeout(deadline, publish_idempotent(&producer, batch)).await {
                    Ok(result) => result.map(|()| id),
                    Err(_) => {
                        Err(PublishError::Transient(format!("batch {id} was not acknowledged within {deadline:?}")))
                    }
                }
            })
        }
    }

    fn max_in_flight(&self) -> usize {
        if self.transactional() { 1 } else { self.config.max_in_flight_batches.max(1) }
    }

    fn published_marks(&mut self) -> Pin<Box<dyn Future<Output = Result<PublishedMarks, PublishError>> + Send + '_>> {
        if !self.transactional() || !self.config.dedupe_on_takeover {
            return Box::pin(std::future::ready(Ok(PublishedMarks::new())));
        }
        let (brokers, destination) = (self.config.brokers.clone(), self.destination.clone());
        let producer = self.producer.clone();
        let topics = self.topics.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // Topics named after tables are only known from the broker: read every topic (the
                // destination header tells which messages are ours).
                let metadata = producer.client().fetch_metadata(None, Duration::from_secs(10))?;
                let named = topics.named_topics();
                let candidates: Vec<(String, u32)> = metadata
                    .topics()
                    .iter()
                    .filter(|t| t.error().is_none() && !t.name().starts_with("__"))
                    .filter(|t| topics.derives_names() || named.iter().any(|n| n == t.name()))
                    .map(|t| (t.name().to_owned(), t.partitions().len() as u32))
                    .collect();
                super::takeover::read_marks(&brokers, &candidates, &destination)
            })
            .await
            .map_err(|e| PublishError::Transient(format!("takeover task failed: {e}")))?
            .map_err(|e| classify("reading what the previous leader published", &e))
        })
    }
}

/// Enqueue every message, then wait for every delivery report.
async fn publish_idempotent(producer: &FutureProducer, batch: Batch) -> Result<(), PublishError> {
    let mut deliveries = Vec::with_capacity(batch.messages.len());
    for message in &batch.messages {
        let mut record = record(message);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    deliveries.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err((e, _)) => return Err(classify("enqueueing a message", &e)),
            }
        }
    }
    // librdkafka copied every payload: free ours while waiting for the delivery reports.
    drop(batch);
    for delivery in deliveries {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => return Err(classify("delivering a message", &e)),
            Err(_) => return Err(PublishError::Transient("the producer shut down".into())),
        }
    }
    Ok(())
}

/// One Kafka transaction for the whole batch (runs on a blocking thread: librdkafka's transaction
/// calls block).
fn publish_transaction(producer: &FutureProducer, batch: Batch, timeout: Duration) -> Result<u64, PublishError> {
    producer.begin_transaction().map_err(|e| classify("beginning a Kafka transaction", &e))?;
    let id = batch.id;
    let result = (|| {
        for message in &batch.messages {
            let mut record = record(message);
            loop {
                match producer.send_result(record) {
                    Ok(_) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err((e, _)) => return Err(classify("enqueueing a message", &e)),
                }
            }
        }
        // librdkafka copied every payload: free ours before waiting for the commit.
        drop(batch);
        producer.commit_transaction(timeout).map_err(|e| classify("committing the Kafka transaction", &e))
    })();
    match result {
        Ok(()) => Ok(id),
        Err(e) => {
            if !matches!(e, PublishError::Fenced(_))
                && let Err(abort) = producer.abort_transaction(timeout)
            {
                tracing::warn!(error = %abort, "aborting the failed Kafka transaction failed too");
            }
            Err(e)
        }
    }
}

/// Make sure the topic exists with at least `partitions` partitions, creating it if allowed.
async fn ensure_topic(
    producer: &FutureProducer,
    config: &KafkaSinkConfig,
    topic: &str,
    partitions: u32,
) -> Result<(), PublishError> {
    let existing = topic_partitions(producer, topic).await?;
    match existing {
        Some(n) if n >= partitions => Ok(()),
        Some(n) => Err(PublishError::Definite(format!(
            "topic {topic} has {n} partitions but the destination routes to {partitions}: add partitions to the topic \
             or lower `partitions`"
        ))),
        None if config.create_topic => {
            let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                .set("bootstrap.servers", &config.brokers)
                .create()
                .map_err(|e| PublishError::Definite(format!("cannot create a Kafka admin client: {e}")))?;
            let new_topic = NewTopic::new(topic, partitions as i32, TopicReplication::Fixed(config.replication_factor));
            let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
            let results =
                admin.create_topics([&new_topic], &options).await.map_err(|e| classify("creating the topic", &e))?;
            for result in results {
                if let Err((name, code)) = result
                    && code != RDKafkaErrorCode::TopicAlreadyExists
                {
                    return Err(PublishError::Transient(format!("creating topic {name}: {code}")));
                }
            }
            tracing::info!(topic, partitions, "created Kafka topic");
            // Wait until the topic's metadata shows every partition.
            for _ in 0..50 {
                if topic_partitions(producer, topic).await?.is_some_and(|n| n >= partitions) {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(PublishError::Transient(format!("topic {topic} was created but its partitions did not appear")))
        }
        None => Err(PublishError::Definite(format!(
            "topic {topic} does not exist: create it with {partitions} partitions, or set create_topic = true"
        ))),
    }
}

/// Partition count of a topic, `None` if it does not exist.
async fn topic_partitions(producer: &FutureProducer, topic: &str) -> Result<Option<u32>, PublishError> {
    let producer = producer.clone();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let metadata = producer
            .client()
            .fetch_metadata(Some(&topic), Duration::from_secs(10))
            .map_err(|e| classify("reading topic metadata", &e))?;
        Ok(metadata.topics().iter().find(|t| t.name() == topic).and_then(|t| {
            let missing = t.error().is_some() || t.partitions().is_empty();
            (!missing).then_some(t.partitions().len() as u32)
        }))
    })
    .await
    .map_err(|e| PublishError::Transient(format!("metadata task failed: {e}")))?
}
