//! Kafka sink settings (`[sink.kafka]` in a destination file).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a batch is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// One Kafka transaction per batch; acknowledged when the transaction commits.
    #[default]
    Transactional,
    /// The idempotent producer; acknowledged when every message's delivery report succeeded.
    Idempotent,
}

/// Record batch compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    #[default]
    Lz4,
}

impl Compression {
    pub fn librdkafka_name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Snappy => "snappy",
            Self::Lz4 => "lz4",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSinkConfig {
    /// Bootstrap servers, `host:port[,host:port…]`.
    #[serde(default = "default_brokers")]
    pub brokers: String,
    /// Acknowledgement mode.
    #[serde(default)]
    pub delivery: Delivery,
    /// `transactional.id`; default `sluice-{destination}`. Must be the same on every server that can
    /// run the destination, so a new leader fences the old one.
    #[serde(default)]
    pub transactional_id: Option<String>,
    /// Create the topic with `partitions` partitions when it does not exist.
    #[serde(default = "default_true")]
    pub create_topic: bool,
    /// Replication factor for topics Sluice creates.
    #[serde(default = "default_replication")]
    pub replication_factor: i32,
    /// How long the producer retries one message before the batch fails (`message.timeout.ms`).
    #[serde(default = "default_message_timeout_ms")]
    pub message_timeout_ms: u64,
    /// Kafka transaction timeout (`transaction.timeout.ms`).
    #[serde(default = "default_transaction_timeout_ms")]
    pub transaction_timeout_ms: u64,
    /// Largest message Sluice sends; a bigger one stops the destination with an error (set it to the
    /// broker's `message.max.bytes`).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Batches awaiting acknowledgement at once (idempotent delivery; transactions are sequential).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight_batches: usize,
    /// With transactional delivery, a new leader reads what its predecessor committed after the
    /// cursor and does not publish it again (no duplicates across failover). Needs a broker whose
    /// read_committed consumers never see aborted records (Apache Kafka does); on one that shows
    /// them (e.g. the Rust broker nisshi) turn it off, or rows of an aborted transaction are skipped.
    #[serde(default = "default_true")]
    pub dedupe_on_takeover: bool,
    /// Compression of record batches: none, gzip, snappy or lz4. Flat JSON compresses several-fold.
    #[serde(default)]
    pub compression: Compression,
    /// Extra librdkafka properties, e.g. `{ "linger.ms" = "10" }`.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaSinkConfig {
    fn default() -> Self {
        Self {
            brokers: default_brokers(),
            delivery: Delivery::default(),
            transactional_id: None,
            create_topic: true,
            replication_factor: default_replication(),
            message_timeout_ms: default_message_timeout_ms(),
            transaction_timeout_ms: default_transaction_timeout_ms(),
            max_message_bytes: default_max_message_bytes(),
            max_in_flight_batches: default_max_in_flight(),
            compression: Compression::default(),
            dedupe_on_takeover: true,
            properties: BTreeMap::new(),
        }
    }
}

fn default_brokers() -> String {
    "127.0.0.1:9092".into()
}
const fn default_true() -> bool {
    true
}
const fn default_replication() -> i32 {
    1
}
const fn default_message_timeout_ms() -> u64 {
    30_000
}
const fn default_transaction_timeout_ms() -> u64 {
    60_000
}
const fn default_max_message_bytes() -> usize {
    1_000_000
}
const fn default_max_in_flight() -> usize {
    4
}
