//! RabbitMQ sink settings (`[sink.rabbitmq]` in a destination file).

use serde::{Deserialize, Serialize};

/// The exchange's type, as declared (or expected, when it is not declared by Sluice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeType {
    Direct,
    #[default]
    Topic,
    Fanout,
    Headers,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RabbitMqSinkConfig {
    /// AMQP URI, `amqp://user:password@host:port/vhost` (the default vhost is `%2f`).
    #[serde(default = "default_uri")]
    pub uri: String,
    /// Exchange messages are published to. Routing key: the topic, plus `.{partition}` when the
    /// destination has more than one partition (bind one queue per partition to keep per-key order).
    #[serde(default = "default_exchange")]
    pub exchange: String,
    #[serde(default)]
    pub exchange_type: ExchangeType,
    /// Declare the exchange (durable) at start; `false` only checks that it exists.
    #[serde(default = "default_true")]
    pub declare_exchange: bool,
    /// Messages published but not yet confirmed, at most (across batches).
    #[serde(default = "default_max_unconfirmed")]
    pub max_unconfirmed: usize,
    /// Batches awaiting confirmation at once.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight_batches: usize,
    /// A message not confirmed within this time fails its batch (retried from the cursor).
    #[serde(default = "default_confirm_timeout_ms")]
    pub confirm_timeout_ms: u64,
    /// Largest message Sluice sends; a bigger one stops the destination with an error (RabbitMQ's
    /// `max_message_size` defaults to 128 MiB).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
}

impl Default for RabbitMqSinkConfig {
    fn default() -> Self {
        Self {
            uri: default_uri(),
            exchange: default_exchange(),
            exchange_type: ExchangeType::default(),
            declare_exchange: true,
            max_unconfirmed: default_max_unconfirmed(),
            max_in_flight_batches: default_max_in_flight(),
            confirm_timeout_ms: default_confirm_timeout_ms(),
            max_message_bytes: default_max_message_bytes(),
        }
    }
}

fn default_uri() -> String {
    "amqp://guest:guest@127.0.0.1:5672/%2f".into()
}
fn default_exchange() -> String {
    "sluice".into()
}
const fn default_true() -> bool {
    true
}
const fn default_max_unconfirmed() -> usize {
    2_000
}
const fn default_max_in_flight() -> usize {
    4
}
const fn default_confirm_timeout_ms() -> u64 {
    30_000
}
const fn default_max_message_bytes() -> usize {
    16 * 1024 * 1024
}
