//! RocketMQ sink settings (`[sink.rocketmq]` in a destination file).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketMqSinkConfig {
    /// Name server address(es), `host:port[;host:port…]`.
    #[serde(default = "default_namesrv")]
    pub namesrv_addr: String,
    /// Producer group; default `sluice-{destination}`.
    #[serde(default)]
    pub producer_group: Option<String>,
    /// Create the topic with `partitions` queues when the name server has no route for it.
    #[serde(default = "default_true")]
    pub create_topic: bool,
    /// How long one send request may take before the batch fails (retried from the cursor).
    #[serde(default = "default_send_timeout_ms")]
    pub send_timeout_ms: u64,
    /// Largest request body of one batch send; keep it under the broker's `maxMessageSize` (4 MiB).
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// Largest single message; a bigger one stops the destination with an error.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Batches queued for sending at once.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight_batches: usize,
}

impl Default for RocketMqSinkConfig {
    fn default() -> Self {
        Self {
            namesrv_addr: default_namesrv(),
            producer_group: None,
            create_topic: true,
            send_timeout_ms: default_send_timeout_ms(),
            max_batch_bytes: default_max_batch_bytes(),
            max_message_bytes: default_max_message_bytes(),
            max_in_flight_batches: default_max_in_flight(),
        }
    }
}

fn default_namesrv() -> String {
    "127.0.0.1:9876".into()
}
const fn default_true() -> bool {
    true
}
const fn default_send_timeout_ms() -> u64 {
    5_000
}
const fn default_max_batch_bytes() -> usize {
    1024 * 1024
}
const fn default_max_message_bytes() -> usize {
    4 * 1024 * 1024 - 64 * 1024
}
const fn default_max_in_flight() -> usize {
    4
}
