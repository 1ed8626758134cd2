//! Sluice: change data capture from MySQL/MariaDB binlogs to message brokers, compatible with
//! Alibaba Canal's MQ output, ZooKeeper layout and configuration ideas.
//!
//! # The pipeline
//! ```text
//! MySQL/MariaDB ──binlog──▶ source ──events──▶ assemble ──chunks──▶ encode/batch ──▶ sink ──acks──▶ checkpoint
//!   (replica protocol)    (dump, heartbeat)   (decode, schema,      (flat JSON,       (Kafka,       (ordered acks,
//!                                              transactions)         partitions)     RocketMQ,       ZooKeeper cursor)
//!                                                                  (or protobuf)     RabbitMQ)
//! ```
//! One destination = one source server + filters + output rules. A ZooKeeper election decides which
//! server runs each destination.
//!
//! # Invariants
//! 1. Ack before commit: a position is stored only after the broker acknowledged every message
//!    derived from everything before it ([`checkpoint::tracker`]).
//! 2. Committed positions are transaction boundaries with the full GTID set ([`assemble`]).
//! 3. One writer: only the elected leader runs a destination; cursor writes are compare-and-set;
//!    Kafka output uses a stable `transactional.id` per destination ([`cluster`], [`checkpoint`]).
//! 4. Nothing is skipped silently: unknown events, checksum mismatches, undecodable rows, statement
//!    DML on captured tables and oversized messages stop the destination with the position.
//! 5. Memory is bounded: queues are bounded in bytes, huge transactions are streamed in chunks.
//! 6. Per-key order: a key's changes go to one partition in binlog order; a key change is split
//!    into DELETE + INSERT ([`encode::plan`]).
//!
//! # Layout
//! - [`config`]: server and destination files, environment overrides, validation.
//! - [`source`]: MySQL/MariaDB client protocol, replication dump, preflight checks.
//! - [`binlog`]: event decoding, one file per event family; row values.
//! - [`schema`]: table metadata from TABLE_MAP and information_schema; DDL classification.
//! - [`event`]: positions, GTID sets, changes, transaction chunks.
//! - [`assemble`]: events → transactions, filters, chunking.
//! - [`route`]: Canal-compatible partition hashing and dynamic topics. [`encode`]: message planning,
//!   flat JSON, Canal protobuf, batches.
//! - [`sink`]: the [`sink::Publisher`] trait; Kafka, RocketMQ and RabbitMQ sinks.
//! - [`checkpoint`]: ordered acknowledgements, the cursor in Canal's format, its ZooKeeper store.
//! - [`cluster`]: ZooKeeper layout, registry and election.
//! - [`destination`]: one destination's lifecycle and pipeline; [`app`]: wiring for all of them.
//! - [`admin`]: `/metrics`, `/health`, `/status`. [`commands`]: check, decode, positions, tail.

pub mod admin;
pub mod app;
pub mod assemble;
pub mod binlog;
pub mod checkpoint;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod destination;
pub mod encode;
pub mod event;
pub mod queue;
pub mod route;
pub mod schema;
pub mod sink;
pub mod source;
