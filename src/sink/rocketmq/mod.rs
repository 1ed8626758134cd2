//! The RocketMQ sink: ordered delivery (partition `p` goes to queue `p mod queues`), batches sent
//! per queue with `send_batch_to_queue`, and an acknowledgement only when the broker answered
//! `SEND_OK` for every request of the batch.

pub mod config;
pub mod publisher;

pub use config::RocketMqSinkConfig;
pub use publisher::RocketMqPublisher;
