//! A destination file (`config/destinations/<name>.toml`): one source server, its filters, the
//! output rules and the sink (Canal's "instance").

use serde::{Deserialize, Serialize};

use crate::binlog::value::BinaryEncoding;
use crate::encode::batcher::{DdlPartitions, RecordKey};
use crate::encode::plan::KeyUpdate;
use crate::sink::kafka::KafkaSinkConfig;
use crate::sink::rabbitmq::RabbitMqSinkConfig;
use crate::sink::rocketmq::RocketMqSinkConfig;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub source: SourceConfig,
    #[serde(default)]
    pub filter: FilterConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub batch: BatchConfig,
    #[serde(default)]
    pub sink: SinkConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `host:port` of the MySQL/MariaDB server.
    pub address: String,
    pub user: String,
    #[serde(default)]
    pub password: String,
    /// Server id Sluice presents as a replica; unique among the server's replicas. Default: derived
    /// from the destination name.
    #[serde(default)]
    pub replica_server_id: Option<u32>,
    /// Heartbeat period requested from the server; no traffic for 3× this means a dead link.
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Largest event accepted (set at least to the server's max_allowed_packet).
    #[serde(default = "default_max_event_bytes")]
    pub max_event_bytes: usize,
    /// Where to start when the destination has no committed cursor. Default: the server's current
    /// position.
    #[serde(default)]
    pub start: Option<StartConfig>,
}

/// A start position: one of file + position, a GTID set, or a time.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StartConfig {
    /// Binlog file name (with `position`, default 4).
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub position: Option<u64>,
    /// Executed GTID set to continue after (MySQL `uuid:1-n`, MariaDB `domain-server-seq`).
    #[serde(default)]
    pub gtid: Option<String>,
    /// The first transaction at or after this time, RFC 3339 (`2024-05-01T12:00:00Z`).
    #[serde(default)]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Regular expressions over `schema.table` (Canal's `canal.instance.filter.regex`); empty = all.
    #[serde(default)]
    pub include: Vec<String>,
    /// Tables to leave out even if included (`canal.instance.filter.black.regex`).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Canal `FlatMessage` JSON.
    #[default]
    FlatJson,
    /// Canal protobuf (`Packet` → `Messages` → `Entry`), what Canal writes with `flatMessage = false`.
    Protobuf,
}

impl Format {
    pub fn encoder(self) -> Box<dyn crate::encode::Encoder> {
        match self {
            Self::FlatJson => Box::new(crate::encode::FlatJsonEncoder),
            Self::Protobuf => Box::new(crate::encode::ProtobufEncoder),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    #[serde(default)]
    pub format: Format,
    /// Topic for every message. Default: the destination name.
    #[serde(default)]
    pub topic: Option<String>,
    /// Partitions to spread rows over (`canal.mq.partitionsNum`).
    #[serde(default = "default_partitions")]
    pub partitions: u32,
    /// Canal `canal.mq.dynamicTopic` rules: `topic:schema\\.table_regex`, `topic:schema`, or a bare
    /// pattern (topic named after the table, `schema_table`). Unmatched tables use `topic`.
    #[serde(default)]
    pub dynamic_topic: Vec<String>,
    /// Canal `canal.mq.dynamicTopicPartitionNum` rules, `topic_regex:partitions`; other topics have
    /// `partitions`.
    #[serde(default)]
    pub topic_partitions: Vec<String>,
    /// A message with several rows over this size is split into messages of fewer rows (a single
    /// row is never cut: over the sink's limit it stops the destination with an error).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Canal `canal.mq.partitionHash` rules, e.g. `["shop\\..*:$pk$"]`. Tables without a rule go to
    /// partition 0.
    #[serde(default)]
    pub partition_hash: Vec<String>,
    /// Mix the database name into key hashes (`canal.mq.databaseHash`).
    #[serde(default = "default_true")]
    pub database_hash: bool,
    /// Publish DDL on captured tables.
    #[serde(default = "default_true")]
    pub ddl: bool,
    #[serde(default)]
    pub ddl_partitions: DdlPartitions,
    #[serde(default)]
    pub key_update: KeyUpdate,
    #[serde(default)]
    pub record_key: RecordKey,
    /// Time zone TIMESTAMP columns are rendered in: an IANA name or `+08:00`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    #[serde(default)]
    pub binary_encoding: BinaryEncoding,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            format: Format::default(),
            topic: None,
            partitions: default_partitions(),
            dynamic_topic: Vec::new(),
            topic_partitions: Vec::new(),
            max_message_bytes: default_max_message_bytes(),
            partition_hash: Vec::new(),
            database_hash: true,
            ddl: true,
            ddl_partitions: DdlPartitions::default(),
            key_update: KeyUpdate::default(),
            record_key: RecordKey::default(),
            time_zone: default_time_zone(),
            binary_encoding: BinaryEncoding::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// A batch closes after this many transactions…
    #[serde(default = "default_max_transactions")]
    pub max_transactions: usize,
    /// …or this many payload bytes…
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// …or when it is this old.
    #[serde(default = "default_max_delay_ms")]
    pub max_delay_ms: u64,
    /// Transactions with more change data than this are streamed in chunks (bounded memory).
    #[serde(default = "default_chunk_bytes")]
    pub chunk_bytes: usize,
    /// Bytes of decoded changes queued between stages.
    #[serde(default = "default_queue_bytes")]
    pub queue_bytes: usize,
    /// Bytes of changes held for XA transactions from XA START until their XA COMMIT (they cannot
    /// be streamed in chunks: XA ROLLBACK may undo them after XA PREPARE).
    #[serde(default = "default_xa_bytes")]
    pub xa_bytes: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_transactions: default_max_transactions(),
            max_bytes: default_max_bytes(),
            max_delay_ms: default_max_delay_ms(),
            chunk_bytes: default_chunk_bytes(),
            queue_bytes: default_queue_bytes(),
            xa_bytes: default_xa_bytes(),
        }
    }
}

/// Which broker, and its settings (inheriting the server file's `[defaults.kafka]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    #[serde(default, rename = "type")]
    pub kind: SinkKind,
    #[serde(default)]
    pub kafka: Option<KafkaSinkConfig>,
    #[serde(default)]
    pub rabbitmq: Option<RabbitMqSinkConfig>,
    #[serde(default)]
    pub rocketmq: Option<RocketMqSinkConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    #[default]
    Kafka,
    RabbitMq,
    RocketMq,
}

const fn default_max_message_bytes() -> usize {
    900_000
}
const fn default_true() -> bool {
    true
}
const fn default_heartbeat_ms() -> u64 {
    5_000
}
const fn default_connect_timeout_ms() -> u64 {
    5_000
}
const fn default_max_event_bytes() -> usize {
    1 << 30
}
const fn default_partitions() -> u32 {
    1
}
fn default_time_zone() -> String {
    "UTC".into()
}
const fn default_max_transactions() -> usize {
    1_000
}
const fn default_max_bytes() -> usize {
    4 << 20
}
const fn default_max_delay_ms() -> u64 {
    50
}
const fn default_chunk_bytes() -> usize {
    4 << 20
}
const fn default_queue_bytes() -> usize {
    8 << 20
}
const fn default_xa_bytes() -> usize {
    64 << 20
}
