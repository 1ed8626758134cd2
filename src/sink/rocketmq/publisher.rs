//! The RocketMQ [`Publisher`]: one producer per run.
//!
//! At start the producer resolves the topic's queues from the name server (creating the topic with
//! `partitions` queues when allowed and missing) and fixes their order (broker name, queue id), so
//! partition `p` always lands on the same queue `p mod queues`. A batch is split by queue; each
//! queue's messages go in batch order with `send_batch_to_queue`, in requests of at most
//! `max_batch_bytes`, one request at a time per queue and the queues in parallel. The batch is
//! acknowledged when every request came back `SEND_OK`; anything else (another status, an error, a
//! timeout) fails it, and the pipeline retries from the committed cursor.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cheetah_string::CheetahString;
use rocketmq_client_rust::{ClientError, ClientRuntime, ClientRuntimeConfig, DefaultMQProducer};
use rocketmq_model::common::message::MessageTrait;
use rocketmq_model::common::message::message_queue::MessageQueue;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_model::result::SendStatus;

use super::config::RocketMqSinkConfig;
use crate::encode::{Batch, MessageHeaders, OutMessage};
use crate::route::TopicRules;
use crate::sink::worker::{BatchSender, OrderedWorker};
use crate::sink::{PublishError, PublishFuture, Publisher};

/// Per-message overhead counted against `max_batch_bytes` (properties and framing).
const MESSAGE_OVERHEAD: usize = 256;

/// The RocketMQ client's runtime and telemetry, created once per process.
struct ClientEnvironment {
    _owner: rocketmq_runtime::RuntimeOwner,
    _telemetry: rocketmq_observability::TelemetryRuntimeGuard,
    runtime: Arc<ClientRuntime>,
}

/// The process-wide RocketMQ client runtime (producers and consumers share it).
pub fn client_runtime() -> Result<Arc<ClientRuntime>, PublishError> {
    static ENVIRONMENT: OnceLock<Result<ClientEnvironment, String>> = OnceLock::new();
    let environment = ENVIRONMENT.get_or_init(|| {
        let owner = rocketmq_runtime::RuntimeOwner::plan(rocketmq_runtime::RuntimeConfig {
            thread_name: "rocketmq-client".into(),
            ..Default::default()
        })
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
        // Sluice logs through its own subscriber: the client must not install a logger of its own.
        let mut telemetry_config = rocketmq_observability::TelemetryBootstrapConfig::default();
        telemetry_config.logging.enabled = false;
        let telemetry = rocketmq_observability::install_global(&telemetry_config).map_err(|e| e.to_string())?;
        let runtime = ClientRuntime::try_new(
            owner.root_context().component("client"),
            ClientRuntimeConfig::default(),
            telemetry.handle(),
        )
        .map_err(|e| e.to_string())?;
        Ok(ClientEnvironment { _owner: owner, _telemetry: telemetry, runtime })
    });
    match environment {
        Ok(env) => Ok(Arc::clone(&env.runtime)),
        Err(e) => Err(PublishError::Definite(format!("cannot set up the RocketMQ client: {e}"))),
    }
}

pub struct RocketMqPublisher {
    config: RocketMqSinkConfig,
    destination: String,
    topics: TopicRules,
    worker: Option<OrderedWorker>,
}

impl RocketMqPublisher {
    pub fn new(config: &RocketMqSinkConfig, destination: &str, topics: TopicRules) -> Self {
        Self { config: config.clone(), destination: destination.to_owned(), topics, worker: None }
    }
}

/// Describe a client error for the log, with the broker's response code when there is one.
fn describe(context: &str, e: &ClientError) -> String {
    match e.broker_response_code() {
        Some(code) => format!("{context}: {e} (broker response code {code})"),
        None => format!("{context}: {e}"),
    }
}

/// Start a producer for `config`.
pub async fn start_producer(config: &RocketMqSinkConfig, destination: &str) -> Result<DefaultMQProducer, PublishError> {
    let group = config.producer_group.clone().unwrap_or_else(|| format!("sluice-{destination}"));
    let mut producer = DefaultMQProducer::builder(client_runtime()?)
        .producer_group(group)
        .name_server_addr(config.namesrv_addr.as_str())
        .send_msg_timeout(config.send_timeout_ms as u32)
        // Sluice retries whole batches from the cursor; the client must not resend on its own.
        .retry_times_when_send_failed(0)
        .max_message_size(config.max_message_bytes.max(config.max_batch_bytes) as u32 + 64 * 1024)
        .build();
    producer.start().await.map_err(|e| {
        PublishError::Transient(describe(
            &format!(
                "cannot reach RocketMQ at {} (check sink.rocketmq.namesrv_addr and that the name server and broker run)",
                config.namesrv_addr
            ),
            &e,
        ))
    })?;
    Ok(producer)
}

/// `topic`'s queues in queue order (broker name, queue id), creating the topic with `partitions`
/// queues when it has no route and the configuration allows it.
pub async fn resolve_queues(
    producer: &mut DefaultMQProducer,
    config: &RocketMqSinkConfig,
    topic: &str,
    partitions: u32,
) -> Result<Vec<MessageQueue>, PublishError> {
    let mut queues = match producer.fetch_publish_message_queues(topic).await {
        Ok(queues) if !queues.is_empty() => queues,
        result if config.create_topic => {
            if let Err(e) = &result {
                tracing::debug!(topic, error = %e, "no route for the topic yet; creating it");
            }
            let key = producer.create_topic_key().to_string();
            producer
                .create_topic(&key, topic, partitions as i32, Default::default())
                .await
                .map_err(|e| PublishError::Transient(describe(&format!("cannot create RocketMQ topic {topic}"), &e)))?;
            tracing::info!(topic, queues = partitions, "created RocketMQ topic");
            wait_for_route(producer, topic).await?
        }
        Ok(_) | Err(_) => {
            return Err(PublishError::Definite(format!(
                "RocketMQ has no route for topic {topic} and sink.rocketmq.create_topic is false: create the topic \
                 (e.g. with {partitions} queues) or allow Sluice to create it"
            )));
        }
    };
    queues.sort_by(|a, b| (a.broker_name().as_str(), a.queue_id()).cmp(&(b.broker_name().as_str(), b.queue_id())));
    Ok(queues)
}

async fn wait_for_route(producer: &mut DefaultMQProducer, topic: &str) -> Result<Vec<MessageQueue>, PublishError> {
    let mut last = String::new();
    for _ in 0..50 {
        match producer.fetch_publish_message_queues(topic).await {
            Ok(queues) if !queues.is_empty() => return Ok(queues),
            Ok(_) => last = "no queues".into(),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(PublishError::Transient(format!("RocketMQ topic {topic} was created but has no route yet: {last}")))
}

impl Publisher for RocketMqPublisher {
    fn start(&mut self) -> std::pin::Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + '_>> {
        Box::pin(async move {
            let mut producer = start_producer(&self.config, &self.destination).await?;
            let mut queues = HashMap::new();
            for topic in self.topics.named_topics() {
                let resolved =
                    resolve_queues(&mut producer, &self.config, &topic, self.topics.partitions_of(&topic)).await?;
                tracing::debug!(topic, queues = resolved.len(), "RocketMQ topic resolved");
                queues.insert(topic, resolved);
            }
            let sender = Sender {
                producer: Some(producer),
                config: self.config.clone(),
                queues,
                timeout: Duration::from_millis(self.config.send_timeout_ms),
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
    /// Shut down when the sender is dropped.
    producer: Option<DefaultMQProducer>,
    config: RocketMqSinkConfig,
    /// Each topic's queues, in queue order.
    queues: HashMap<String, Vec<MessageQueue>>,
    timeout: Duration,
}

impl Drop for Sender {
    fn drop(&mut self) {
        if let (Some(mut producer), Ok(runtime)) = (self.producer.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move { producer.shutdown().await });
        }
    }
}

fn to_message(m: &OutMessage) -> Message {
    let mut message = Message::builder().topic(m.topic.as_ref()).body_slice(&m.payload).build_unchecked();
    let h = &m.headers;
    for (name, value) in [
        (MessageHeaders::DESTINATION, h.destination.to_string()),
        (MessageHeaders::POSITION, h.position.clone()),
        (MessageHeaders::GTID, h.gtid.clone()),
        (MessageHeaders::PART, h.part.to_string()),
    ] {
        if !value.is_empty() {
            // Names are ours and values non-empty: the only reasons to refuse a property.
            let _ = message.put_user_property(CheetahString::from_static_str(name), CheetahString::from(value));
        }
    }
    message
}

impl Sender {
    /// Send one queue's messages in order, in requests of at most `max_batch_bytes`.
    async fn send_queue(
        producer: &DefaultMQProducer,
        queue: &MessageQueue,
        messages: Vec<&OutMessage>,
        max_batch_bytes: usize,
        timeout: Duration,
    ) -> Result<(), PublishError> {
        let mut start = 0;
        while start < messages.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < messages.len()
                && (end == start || bytes + messages[end].payload.len() + MESSAGE_OVERHEAD <= max_batch_bytes)
            {
                bytes += messages[end].payload.len() + MESSAGE_OVERHEAD;
                end += 1;
            }
            let request: Vec<Message> = messages[start..end].iter().map(|m| to_message(m)).collect();
            let sent = tokio::time::timeout(
                timeout + Duration::from_secs(1),
                producer.send_batch_to_queue(request, queue.clone()),
            )
            .await
            .map_err(|_| PublishError::Transient(format!("RocketMQ did not answer a send within {timeout:?}")))?
            .map_err(|e| PublishError::Transient(describe("RocketMQ send failed", &e)))?;
            if sent.send_status != SendStatus::SendOk {
                return Err(PublishError::Transient(format!(
                    "RocketMQ answered {:?} instead of SEND_OK for queue {}: not acknowledged, retrying",
                    sent.send_status,
                    queue.queue_id()
                )));
            }
            start = end;
        }
        Ok(())
    }
}

impl BatchSender for Sender {
    async fn send(&mut self, batch: Batch) -> Result<PublishFuture, PublishError> {
        let producer = self.producer.as_mut().expect("present until dropped");
        for (topic, partitions) in &batch.new_topics {
            if !self.queues.contains_key(topic.as_ref()) {
                let resolved = resolve_queues(producer, &self.config, topic, *partitions).await?;
                self.queues.insert(topic.to_string(), resolved);
            }
        }
        // Messages per (topic, queue), in batch order.
        let mut by_queue: HashMap<(&str, usize), Vec<&OutMessage>> = HashMap::new();
        for message in &batch.messages {
            if message.payload.len() > self.config.max_message_bytes {
                return Err(PublishError::Definite(format!(
                    "a message of {} bytes (binlog position {}) exceeds sink.rocketmq.max_message_bytes = {}: raise it \
                     (and the broker's maxMessageSize)",
                    message.payload.len(),
                    message.headers.position,
                    self.config.max_message_bytes
                )));
            }
            let queues = self.queues.get(message.topic.as_ref()).ok_or_else(|| {
                PublishError::Definite(format!("internal: topic {} was not announced before use", message.topic))
            })?;
            by_queue
                .entry((message.topic.as_ref(), message.partition as usize % queues.len()))
                .or_default()
                .push(message);
        }
        let producer = &*producer;
        let sends = by_queue.into_iter().map(|((topic, index), messages)| {
            Self::send_queue(producer, &self.queues[topic][index], messages, self.config.max_batch_bytes, self.timeout)
        });
        futures_util::future::try_join_all(sends).await?;
        let id = batch.id;
        Ok(Box::pin(std::future::ready(Ok(id))))
    }
}
