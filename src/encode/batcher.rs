//! Groups encoded messages into batches: the unit the sink publishes atomically (one Kafka
//! transaction) and the checkpoint acknowledges.
//!
//! A batch closes when it holds `max_transactions` committed transactions or `max_bytes` of
//! payload, or when it is `max_delay` old. Its `commit` is the position after the last complete
//! transaction it contains; a batch holding only a middle chunk of a huge transaction has none and
//! moves no cursor.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::plan::{KeyUpdate, plan_rows};
use super::{Encoder, MessageHeaders, MessageMeta, OutMessage, PublishedMarks};
use crate::event::{Cell, Change, Position, RowImage, RowsChange, TransactionChunk};
use crate::route::{Partitioner, TopicRules};

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
    /// Topics this batch is the first to use since the batcher started, with their partition
    /// counts: the sink makes sure they exist before sending.
    pub new_topics: Vec<(Arc<str>, u32)>,
    opened_at: Instant,
}

impl Batch {
    /// A batch of ready-made messages (the batcher builds them from chunks; sinks and tests can too).
    pub fn new(id: u64, messages: Vec<OutMessage>, commit: Option<Position>) -> Self {
        let bytes = messages.iter().map(|m| m.payload.len()).sum();
        let transactions = usize::from(commit.is_some());
        Self {
            id,
            messages,
            commit,
            transactions,
            bytes,
            rows: 0,
            skipped: 0,
            new_topics: Vec::new(),
            opened_at: Instant::now(),
        }
    }
}

/// How the batcher routes and writes messages.
pub struct BatcherConfig {
    pub destination: Arc<str>,
    /// Topic per table and partitions per topic.
    pub topics: TopicRules,
    /// Partition hash rules (its partition count is replaced by each topic's).
    pub partitioner: Partitioner,
    /// A message over this size holding several rows is split by rows (a single row is never cut;
    /// the sink rejects it if it is over the broker's limit).
    pub max_message_bytes: usize,
    pub encoder: Box<dyn Encoder>,
    pub key_update: KeyUpdate,
    pub record_key: RecordKey,
    pub ddl_partitions: DdlPartitions,
    pub limits: BatchLimits,
}

/// Where one table's messages go.
#[derive(Clone)]
struct Route {
    topic: Arc<str>,
    partitioner: Arc<Partitioner>,
}

pub struct Batcher {
    config: BatcherConfig,
    next_id: u64,
    current: Option<Batch>,
    /// Routes by (schema, table), and the partitioner of each topic.
    routes: HashMap<(String, String), Route>,
    topics: HashMap<Arc<str>, Arc<Partitioner>>,
    /// Messages up to these marks were published by a previous leader: skip them. Emptied once
    /// the stream has passed every mark.
    published: PublishedMarks,
}

impl Batcher {
    /// `first_id`: the id of the first batch (continue after the last committed one).
    pub fn new(config: BatcherConfig, first_id: u64, published: PublishedMarks) -> Self {
        Self { config, next_id: first_id, current: None, routes: HashMap::new(), topics: HashMap::new(), published }
    }

    /// Messages skipped because a previous leader had published them.
    pub fn skipped(&self) -> u64 {
        self.current.as_ref().map_or(0, |b| b.skipped)
    }

    /// The route of a table's messages; a topic used for the first time is announced in `batch`.
    fn route(&mut self, batch: &mut Batch, schema: &str, table: &str) -> Route {
        if let Some(route) = self.routes.get(&(schema.to_owned(), table.to_owned())) {
            return route.clone();
        }
        let name = self.config.topics.topic_for(schema, table);
        let route = match self.topics.get_key_value(name.as_str()) {
            Some((topic, partitioner)) => Route { topic: Arc::clone(topic), partitioner: Arc::clone(partitioner) },
            None => {
                let partitions = self.config.topics.partitions_of(&name);
                let topic: Arc<str> = Arc::from(name);
                let partitioner = Arc::new(self.config.partitioner.with_partitions(partitions));
                self.topics.insert(Arc::clone(&topic), Arc::clone(&partitioner));
                batch.new_topics.push((Arc::clone(&topic), partitions));
                Route { topic, partitioner }
            }
        };
        self.routes.insert((schema.to_owned(), table.to_owned()), route.clone());
        route
    }

    /// Add a chunk; returns the batch if this filled it.
    pub fn push(&mut self, chunk: TransactionChunk) -> Option<Batch> {
        let id = self.next_id;
        let mut batch = self.current.take().unwrap_or_else(|| Batch::new(id, Vec::new(), None));
        let gtid = chunk.gtid.as_ref().map(ToString::to_string).unwrap_or_default();
        let build_time_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        // Messages per topic partition of the changes at one origin: consecutive changes may share
        // it (an XA transaction's, all at its XA COMMIT), so (position, part) names one message.
        let mut parts: HashMap<(Arc<str>, u32), u32> = HashMap::new();
        let mut parts_origin = None;
        for change in &chunk.changes {
            let origin = change.origin();
            if parts_origin != Some(&origin.position) {
                parts.clear();
                parts_origin = Some(&origin.position);
            }
            let (schema, table, table_id) = match change {
                Change::Rows(rows) => (rows.table.schema.as_str(), rows.table.table.as_str(), rows.table_id),
                Change::Ddl(ddl) => (ddl.schema.as_str(), ddl.table.as_str(), 0),
            };
            let route = self.route(&mut batch, schema, table);
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
                published
                    .get(&(Arc::clone(&route.topic), partition))
                    .is_some_and(|(p, n)| (&origin.position, part) <= (p, *n))
            };
            match change {
                Change::Rows(rows) => {
                    let mut number = |partition: u32| {
                        let next = parts.entry((Arc::clone(&route.topic), partition)).or_insert(0);
                        let part = *next;
                        *next += 1;
                        (!already(partition, part)).then_some(part)
                    };
                    encode_rows(&self.config, &mut batch, &route, rows, &meta, &headers, &mut number);
                }
                Change::Ddl(ddl) => {
                    let mut payload = Vec::with_capacity(256 + ddl.sql.len());
                    self.config.encoder.encode_ddl(&mut payload, &meta, ddl);
                    let partitions = match self.config.ddl_partitions {
                        DdlPartitions::All => 0..route.partitioner.partitions(),
                        DdlPartitions::First => 0..1,
                    };
                    for partition in partitions {
                        if already(partition, 0) {
                            batch.skipped += 1;
                            continue;
                        }
                        batch.bytes += payload.len();
                        batch.messages.push(OutMessage {
                            topic: Arc::clone(&route.topic),
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
        let full = batch.transactions >= limits.max_transactions || batch.bytes >= limits.max_bytes;
        self.current = Some(batch);
        if full { self.flush() } else { None }
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

/// The messages of one rows change, in `batch`; `number` gives each message's part in its
/// partition, `None` for one a previous leader already published.
fn encode_rows(
    config: &BatcherConfig,
    batch: &mut Batch,
    route: &Route,
    rows: &RowsChange,
    meta: &MessageMeta<'_>,
    headers: &MessageHeaders,
    number: &mut dyn FnMut(u32) -> Option<u32>,
) {
    let keyed = config.record_key == RecordKey::PrimaryKey;
    for planned in plan_rows(rows, &route.partitioner, config.key_update, keyed) {
        for (payload, row_count, first_row) in encode_within_limit(config, meta, rows, planned.kind, &planned.rows) {
            let Some(part) = number(planned.partition) else {
                batch.skipped += 1;
                continue;
            };
            let key =
                if keyed { Some(record_key(&rows.table.primary_key, planned.rows[first_row].data)) } else { None };
            batch.bytes += payload.len();
            batch.rows += row_count;
            batch.messages.push(OutMessage {
                topic: Arc::clone(&route.topic),
                partition: planned.partition,
                key,
                payload,
                headers: MessageHeaders { part, ..headers.clone() },
            });
        }
    }
}

/// Encode `rows` as one message, or, when that is over `max_message_bytes` and holds several rows,
/// as several messages of consecutive rows (halving until each fits or holds one row). Returns
/// `(payload, rows, index of its first row)` in row order.
fn encode_within_limit(
    config: &BatcherConfig,
    meta: &MessageMeta<'_>,
    change: &RowsChange,
    kind: crate::event::RowKind,
    rows: &[super::RowPart<'_>],
) -> Vec<(Vec<u8>, usize, usize)> {
    let mut out = Vec::new();
    let mut pending = vec![(0, rows.len())];
    while let Some((start, end)) = pending.pop() {
        let mut payload = Vec::with_capacity(512);
        config.encoder.encode_rows(&mut payload, meta, &change.table, kind, &rows[start..end]);
        if payload.len() > config.max_message_bytes && end - start > 1 {
            let middle = start + (end - start) / 2;
            // Stack order: the first half is encoded (and emitted) first.
            pending.push((middle, end));
            pending.push((start, middle));
            continue;
        }
        out.push((payload, end - start, start));
    }
    out
}

/// The key of a row: its one key value, or a JSON array of several.
fn record_key(primary_key: &[usize], image: &RowImage) -> Vec<u8> {
    let values: Vec<Option<&str>> = primary_key.iter().map(|&i| image.get(i).and_then(Cell::as_text)).collect();
    match values.as_slice() {
        [Some(one)] => one.as_bytes().to_vec(),
        _ => serde_json::to_vec(&values).expect("serializing strings cannot fail"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{BinlogPosition, EventOrigin, GtidSet, Position, RowChange, RowKind};

    fn config(topics: TopicRules, max_message_bytes: usize) -> BatcherConfig {
        BatcherConfig {
            destination: Arc::from("d"),
            topics,
            partitioner: Partitioner::new(1, &["s\\..*:$pk$".into()], true).unwrap(),
            max_message_bytes,
            encoder: Box::new(crate::encode::FlatJsonEncoder),
            key_update: KeyUpdate::default(),
            record_key: RecordKey::None,
            ddl_partitions: DdlPartitions::All,
            limits: BatchLimits { max_transactions: 100, max_bytes: 1 << 30, max_delay: Duration::from_secs(1) },
        }
    }

    fn chunk(table: &str, ids: std::ops::Range<i64>, filler: usize) -> TransactionChunk {
        let schema = Arc::new(crate::schema::int_table("s", table, &[("id", true), ("v", false)]));
        let rows = ids
            .map(|id| RowChange {
                before: None,
                after: Some(RowImage::from([Cell::Text(&id.to_string()), Cell::Text(&"x".repeat(filler))])),
            })
            .collect();
        let origin =
            EventOrigin { position: BinlogPosition::new("f", 4), server_id: 1, timestamp_ms: 0, event_length: 0 };
        TransactionChunk {
            changes: vec![Change::Rows(RowsChange { table: schema, kind: RowKind::Insert, rows, origin, table_id: 7 })],
            commit: Some(Position {
                binlog: BinlogPosition::new("f", 100),
                gtid_set: GtidSet::Empty,
                last_gtid: None,
                server_id: 1,
                timestamp_ms: 0,
            }),
            gtid: None,
            size_bytes: 0,
        }
    }

    #[test]
    fn oversized_messages_are_split_by_rows_in_order() {
        let mut batcher = Batcher::new(config(TopicRules::single("t", 1), 10_000), 1, PublishedMarks::new());
        batcher.push(chunk("a", 0..10, 3_000));
        let batch = batcher.flush().unwrap();
        let ids: Vec<Vec<String>> = batch
            .messages
            .iter()
            .map(|m| {
                assert!(m.payload.len() <= 10_000, "{} bytes", m.payload.len());
                let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
                v["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
            })
            .collect();
        assert!(ids.len() > 1, "one message: {ids:?}");
        let flat: Vec<String> = ids.concat();
        assert_eq!(flat, (0..10).map(|i| i.to_string()).collect::<Vec<_>>(), "every row once, in order");
        let parts: Vec<u32> = batch.messages.iter().map(|m| m.headers.part).collect();
        assert_eq!(parts, (0..parts.len() as u32).collect::<Vec<_>>(), "parts number the pieces");
        // A single row over the limit is never cut (the sink rejects it).
        batcher.push(chunk("a", 0..1, 20_000));
        assert_eq!(batcher.flush().unwrap().messages.len(), 1);
    }

    #[test]
    fn each_table_goes_to_its_topic_and_new_topics_are_announced_once() {
        let rules = TopicRules::new("default", 2, &["big:s\\.a".into(), "s\\.b.*".into()], &["big:5".into()]).unwrap();
        let mut batcher = Batcher::new(config(rules, 1 << 20), 1, PublishedMarks::new());
        batcher.push(chunk("a", 0..50, 1));
        batcher.push(chunk("bee", 0..5, 1));
        batcher.push(chunk("c", 0..5, 1));
        let batch = batcher.flush().unwrap();
        let announced: Vec<(String, u32)> = batch.new_topics.iter().map(|(t, n)| (t.to_string(), *n)).collect();
        assert_eq!(announced, [("big".to_owned(), 5), ("s_bee".to_owned(), 2), ("default".to_owned(), 2)]);
        let topics: std::collections::HashSet<&str> = batch.messages.iter().map(|m| m.topic.as_ref()).collect();
        assert_eq!(topics, ["big", "s_bee", "default"].into_iter().collect());
        assert!(batch.messages.iter().filter(|m| m.topic.as_ref() == "big").all(|m| m.partition < 5));
        assert!(batch.messages.iter().filter(|m| m.topic.as_ref() == "big").any(|m| m.partition >= 2));
        batcher.push(chunk("a", 50..60, 1));
        assert!(batcher.flush().unwrap().new_topics.is_empty(), "announced once");
    }

    #[test]
    fn changes_sharing_an_origin_number_their_messages_on() {
        // An XA transaction's changes all have its XA COMMIT as origin.
        let mut xa = chunk("a", 0..2, 1);
        xa.changes.extend(chunk("a", 2..4, 1).changes);
        let mut batcher = Batcher::new(config(TopicRules::single("t", 1), 1 << 20), 1, PublishedMarks::new());
        batcher.push(xa.clone());
        let parts: Vec<u32> = batcher.flush().unwrap().messages.iter().map(|m| m.headers.part).collect();
        assert_eq!(parts, [0, 1]);
        // A new leader whose predecessor published the first skips it alone.
        let published = PublishedMarks::from([((Arc::from("t"), 0), (BinlogPosition::new("f", 4), 0))]);
        let mut batcher = Batcher::new(config(TopicRules::single("t", 1), 1 << 20), 1, published);
        batcher.push(xa);
        let batch = batcher.flush().unwrap();
        let first_ids: Vec<String> = batch
            .messages
            .iter()
            .map(|m| serde_json::from_slice::<serde_json::Value>(&m.payload).unwrap()["data"][0]["id"].to_string())
            .collect();
        assert_eq!((first_ids, batch.skipped), (vec!["\"2\"".to_owned()], 1));
    }
}
