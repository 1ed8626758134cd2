//! Groups encoded messages into batches: the unit the sink publishes atomically (one Kafka
//! transaction) and the checkpoint acknowledges.
//!
//! A batch closes when it holds `max_transactions` committed transactions or `max_bytes` of
//! payload, or when it is `max_delay` old. Its `commit` is the position after the last complete
//! transaction it contains; a batch holding only a middle chunk of a huge transaction has none and
//! moves no cursor.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::plan::{KeyUpdate, plan_rows};
use super::{Encoder, MessageHeaders, MessageMeta, OutMessage, PublishedMarks};
use crate::event::{Cell, Change, Position, RowsChange, TransactionChunk};
use crate::route::Partitioner;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_transactions: usize,
    pub max_bytes: usize,
    pub max_delay: Duration,
}

/// Which partitions receive a DDL message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DdlPartitions {
    /// Every partition, so every consumer of the topic sees the schema change in order.
    #[default]
    All,
    /// Partition 0 only (Canal's behaviour).
    First,
}

/// Record keys for keyed brokers (Kafka).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKey {
    /// No key (Canal's behaviour); messages may hold several rows.
    #[default]
    None,
    /// The primary key values; one row per message, so compaction keeps the latest row.
    PrimaryKey,
}

#[derive(Debug)]
pub struct Batch {
    /// Sequence number, also written into each message (`id`).
    pub id: u64,
    pub messages: Vec<OutMessage>,
    /// Where the cursor may move once every message is acknowledged.
    pub commit: Option<Position>,
    /// Committed transactions in the batch.
    pub transactions: usize,
    /// Payload bytes.
    pub bytes: usize,
    /// Rows in the batch.
    pub rows: usize,
    /// Messages left out because a previous leader had published them.
    pub skipped: u64,
    opened_at: Instant,
}

impl Batch {
    /// A batch of ready-made messages (the batcher builds them from chunks; sinks and tests can too).
    pub fn new(id: u64, messages: Vec<OutMessage>, commit: Option<Position>) -> Self {
        let bytes = messages.iter().map(|m| m.payload.len()).sum();
        let transactions = usize::from(commit.is_some());
        Self { id, messages, commit, transactions, bytes, rows: 0, skipped: 0, opened_at: Instant::now() }
    }
}

/// How the batcher routes and writes messages.
pub struct BatcherConfig {
    pub destination: Arc<str>,
    pub topic: Arc<str>,
    pub partitioner: Partitioner,
    pub encoder: Box<dyn Encoder>,
    pub key_update: KeyUpdate,
    pub record_key: RecordKey,
    pub ddl_partitions: DdlPartitions,
    pub limits: BatchLimits,
}

pub struct Batcher {
    config: BatcherConfig,
    next_id: u64,
    current: Option<Batch>,
    /// Messages up to these marks were published by a previous leader: skip them. Emptied once
    /// the stream has passed every mark.
    published: PublishedMarks,
}

impl Batcher {
    /// `first_id`: the id of the first batch (continue after the last committed one).
    pub fn new(config: BatcherConfig, first_id: u64, published: PublishedMarks) -> Self {
        Self { config, next_id: first_id, current: None, published }
    }

    /// Messages skipped because a previous leader had published them.
    pub fn skipped(&self) -> u64 {
        self.current.as_ref().map_or(0, |b| b.skipped)
    }

    /// Add a chunk; returns the batch if this filled it.
    pub fn push(&mut self, chunk: TransactionChunk) -> Option<Batch> {
        let id = self.next_id;
        let batch = self.current.get_or_insert_with(|| Batch {
            id,
            messages: Vec::new(),
            commit: None,
            transactions: 0,
            bytes: 0,
            rows: 0,
            skipped: 0,
            opened_at: Instant::now(),
        });
        let gtid = chunk.gtid.as_ref().map(ToString::to_string).unwrap_or_default();
        let build_time_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        for change in &chunk.changes {
            let origin = change.origin();
            let table_id = match change {
                Change::Rows(rows) => rows.table_id,
                Change::Ddl(_) => 0,
            };
            let meta = MessageMeta { batch_id: batch.id, build_time_ms, gtid: &gtid, origin, table_id };
            let headers = MessageHeaders {
                destination: Arc::clone(&self.config.destination),
                position: origin.position.to_string(),
                gtid: gtid.clone(),
                part: 0,
            };
            if !self.published.is_empty() && self.published.values().all(|(p, _)| origin.position > *p) {
                self.published.clear();
            }
            let published = &self.published;
            let already = |partition: u32, part: u32| {
                published.get(&partition).is_some_and(|(p, n)| (&origin.position, part) <= (p, *n))
            };
            match change {
                Change::Rows(rows) => encode_rows(&self.config, batch, rows, &meta, &headers, &already),
                Change::Ddl(ddl) => {
                    let mut payload = Vec::with_capacity(256 + ddl.sql.len());
                    self.config.encoder.encode_ddl(&mut payload, &meta, ddl);
                    let partitions = match self.config.ddl_partitions {
                        DdlPartitions::All => 0..self.config.partitioner.partitions(),
                        DdlPartitions::First => 0..1,
                    };
                    for partition in partitions {
                        if already(partition, 0) {
                            batch.skipped += 1;
                            continue;
                        }
                        batch.bytes += payload.len();
                        batch.messages.push(OutMessage {
                            topic: Arc::clone(&self.config.topic),
                            partition,
                            key: None,
                            payload: payload.clone(),
                            headers: headers.clone(),
                        });
                    }
                }
            }
        }
        if let Some(position) = chunk.commit {
            batch.commit = Some(position);
            batch.transactions += 1;
        }
        let limits = self.config.limits;
        if batch.transactions >= limits.max_transactions || batch.bytes >= limits.max_bytes {
            return self.flush();
        }
        None
    }

    /// Close the current batch, if any.
    pub fn flush(&mut self) -> Option<Batch> {
        let batch = self.current.take()?;
        self.next_id += 1;
        Some(batch)
    }

    /// When the current batch must be flushed at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        self.current.as_ref().map(|b| b.opened_at + self.config.limits.max_delay)
    }
}

fn encode_rows(
    config: &BatcherConfig,
    batch: &mut Batch,
    rows: &RowsChange,
    meta: &MessageMeta<'_>,
    headers: &MessageHeaders,
    already_published: &dyn Fn(u32, u32) -> bool,
) {
    let keyed = config.record_key == RecordKey::PrimaryKey;
    let mut parts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    for planned in plan_rows(rows, &config.partitioner, config.key_update, keyed) {
        let next = parts.entry(planned.partition).or_insert(0);
        let part = *next;
        *next += 1;
        if already_published(planned.partition, part) {
            batch.skipped += 1;
            continue;
        }
        let mut payload = Vec::with_capacity(512);
        config.encoder.encode_rows(&mut payload, meta, &rows.table, planned.kind, &planned.rows);
        let key = if keyed { planned.rows.first().map(|r| record_key(&rows.table.primary_key, r.data)) } else { None };
        batch.bytes += payload.len();
        batch.rows += planned.rows.len();
        batch.messages.push(OutMessage {
            topic: Arc::clone(&config.topic),
            partition: planned.partition,
            key,
            payload,
            headers: MessageHeaders { part, ..headers.clone() },
        });
    }
}

/// The key of a row: its one key value, or a JSON array of several.
fn record_key(primary_key: &[usize], image: &[Cell]) -> Vec<u8> {
    let values: Vec<Option<&str>> = primary_key.iter().map(|&i| image.get(i).and_then(Cell::as_text)).collect();
    match values.as_slice() {
        [Some(one)] => one.as_bytes().to_vec(),
        _ => serde_json::to_vec(&values).expect("serializing strings cannot fail"),
    }
}
