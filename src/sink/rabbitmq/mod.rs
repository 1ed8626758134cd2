//! The RabbitMQ sink: publisher confirms, `mandatory` publishing and persistent messages, so a
//! batch is acknowledged only when the broker took responsibility for every message of it.

pub mod config;
pub mod publisher;

pub use config::{ExchangeType, RabbitMqSinkConfig};
pub use publisher::RabbitMqPublisher;
