//! The Kafka sink: explicit partitions, Canal's messages, position headers, and either one Kafka
//! transaction per batch (`transactional`, the default, with a stable `transactional.id` per
//! destination so a new leader fences an old one) or the idempotent producer (`idempotent`).

pub mod config;
pub mod publisher;
pub mod takeover;

pub use config::{Compression, Delivery, KafkaSinkConfig};
pub use publisher::KafkaPublisher;
