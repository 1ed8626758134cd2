//! The schema history journal in ZooKeeper, beside the cursor: `{destination}/1001/schema_history`
//! holds one persistent sequential node per [`HistoryRecord`] (JSON), so no node nears ZooKeeper's
//! 1 MB limit however many tables are tracked.
//!
//! # Invariants
//! - A run loads the history as of its start position (records before it are replayed, the rest
//!   deleted: the run reads those events again and records them anew).
//! - Records are stored before any chunk decoded after them is passed on (the pipeline's assemble
//!   stage calls [`ZkSchemaHistory::append`] first), so the cursor never passes a change to the
//!   history that is not stored.
//! - Growth is bounded at load: past [`COMPACT_AFTER`] records more than the history at the start
//!   position needs as a base, it is written as a base and older records are deleted (the history
//!   before that position is then gone: a later rewind before it starts again from
//!   information_schema).

use futures_util::future::{join_all, try_join_all};
use zookeeper_client as zk;

use super::CheckpointError;
use crate::cluster::zk::{ZkError, mkdirs};
use crate::event::BinlogPosition;
use crate::schema::history::SchemaHistory;
use crate::schema::journal::{self, HistoryRecord};

/// Records beyond a base's worth kept before a load compacts them into a base.
pub const COMPACT_AFTER: usize = 2000;

/// ZooKeeper's default node limit (jute.maxbuffer), less room for the request around it.
const MAX_RECORD_BYTES: usize = 1_000_000;

const RECORD_PREFIX: &str = "record-";

/// Requests sent before awaiting their answers.
const IN_FLIGHT: usize = 256;

pub struct ZkSchemaHistory {
    client: zk::Client,
    dir: String,
    compact_after: usize,
}

impl ZkSchemaHistory {
    pub fn new(client: zk::Client, dir: String) -> Self {
        Self { client, dir, compact_after: COMPACT_AFTER }
    }

    /// Compact at load past `records` records instead of [`COMPACT_AFTER`].
    pub fn compact_after(mut self, records: usize) -> Self {
        self.compact_after = records;
        self
    }

    /// The history just before `start`. Without a start position (a GTID start, whose position is
    /// only known once read) nothing stored can be placed, so the journal is cleared.
    pub async fn load(&self, start: Option<&BinlogPosition>) -> Result<SchemaHistory, CheckpointError> {
        let stored = self.read_all().await?;
        let Some(start) = start else {
            self.delete(stored.iter().map(|(node, _)| node)).await?;
            return Ok(SchemaHistory::default());
        };
        let records: Vec<HistoryRecord> = stored.iter().map(|(_, r)| r.clone()).collect();
        let replayed = journal::replay(&records, start).map_err(|e| CheckpointError::HistoryCorrupt {
            path: self.dir.clone(),
            reason: format!("the schema history cannot be replayed to {start}: {e}"),
        })?;
        self.delete(replayed.dropped.iter().map(|&i| &stored[i].0)).await?;
        // Compact only when that sheds more than the limit: a history of many tables (an initial
        // snapshot) is as many base records, and rewriting them at every load would gain nothing.
        let base = HistoryRecord::base(&replayed.history, start);
        if replayed.applied.len() > base.len() + self.compact_after {
            tracing::info!(path = %self.dir, records = replayed.applied.len(), base = base.len(), %start, "compacting the schema history");
            // Base first: a crash in between leaves old records and base, which replay to the same.
            self.append(&base).await?;
            self.delete(replayed.applied.iter().map(|&i| &stored[i].0)).await?;
        }
        Ok(replayed.history)
    }

    /// Store records, in order. Requests are pipelined ([`IN_FLIGHT`] at a time): ZooKeeper
    /// serves one session's requests in the order they were sent, so sequence order is record order.
    pub async fn append(&self, records: &[HistoryRecord]) -> Result<(), CheckpointError> {
        if records.is_empty() {
            return Ok(());
        }
        mkdirs(&self.client, &self.dir).await?;
        let prefix = format!("{}/{RECORD_PREFIX}", self.dir);
        let options = zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
        let mut data = Vec::with_capacity(records.len());
        for record in records {
            let json = serde_json::to_vec(record).expect("history records serialize");
            if json.len() > MAX_RECORD_BYTES {
                return Err(CheckpointError::TooLarge {
                    path: self.dir.clone(),
                    what: format!("the schema history record for the event at {}", record.at()),
                    bytes: json.len(),
                });
            }
            data.push(json);
        }
        for window in data.chunks(IN_FLIGHT) {
            let creates = window.iter().map(|json| self.client.create(&prefix, json, &options));
            try_join_all(creates).await.map_err(|e| ZkError::op("create", &prefix, e))?;
        }
        Ok(())
    }

    /// Every stored record with its node name, in write (sequence) order.
    async fn read_all(&self) -> Result<Vec<(String, HistoryRecord)>, CheckpointError> {
        let mut nodes = match self.client.list_children(&self.dir).await {
            Ok(nodes) => nodes,
            Err(zk::Error::NoNode) => return Ok(Vec::new()),
            Err(e) => return Err(ZkError::op("list", &self.dir, e).into()),
        };
        nodes.retain(|n| n.starts_with(RECORD_PREFIX));
        // Sequence numbers are fixed-width: name order is write order.
        nodes.sort();
        let mut records = Vec::with_capacity(nodes.len());
        for window in nodes.chunks(IN_FLIGHT) {
            let paths: Vec<String> = window.iter().map(|node| format!("{}/{node}", self.dir)).collect();
            let reads = join_all(paths.iter().map(|path| self.client.get_data(path))).await;
            for ((node, path), read) in window.iter().zip(&paths).zip(reads) {
                let data = match read {
                    Ok((data, _)) => data,
                    Err(zk::Error::NoNode) => continue, // deleted meanwhile by a compaction
                    Err(e) => return Err(ZkError::op("read", path, e).into()),
                };
                let record = serde_json::from_slice(&data).map_err(|e| CheckpointError::HistoryCorrupt {
                    path: self.dir.clone(),
                    reason: format!("{path} is not a schema history record: {e}"),
                })?;
                records.push((node.clone(), record));
            }
        }
        Ok(records)
    }

    async fn delete(&self, nodes: impl Iterator<Item = &String>) -> Result<(), CheckpointError> {
        let paths: Vec<String> = nodes.map(|node| format!("{}/{node}", self.dir)).collect();
        for window in paths.chunks(IN_FLIGHT) {
            let deletes = join_all(window.iter().map(|path| self.client.delete(path, None))).await;
            for (path, deleted) in window.iter().zip(deletes) {
                match deleted {
                    Ok(()) | Err(zk::Error::NoNode) => {}
                    Err(e) => return Err(ZkError::op("delete", path, e).into()),
                }
            }
        }
        Ok(())
    }
}
