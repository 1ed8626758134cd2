//! Turning changes into broker messages: which rows share a message ([`plan`]), how a message is
//! written ([`Encoder`]: Canal flat JSON or Canal protobuf), and how messages are grouped into acknowledged units
//! ([`batcher`]).

pub mod batcher;
pub mod flat_json;
pub mod plan;
pub mod protobuf;

use std::sync::Arc;

pub use batcher::{Batch, BatchLimits, Batcher};
pub use flat_json::FlatJsonEncoder;
pub use protobuf::ProtobufEncoder;

use crate::event::{DdlChange, EventOrigin, RowImage, RowKind};
use crate::schema::TableSchema;

/// One message for the broker.
#[derive(Debug, Clone)]
pub struct OutMessage {
    pub topic: Arc<str>,
    pub partition: u32,
    /// Record key (Kafka), if the destination asks for one.
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: MessageHeaders,
}

/// Metadata every message carries beside its payload, so consumers can deduplicate after a
/// failover: which destination wrote it and where in the binlog it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeaders {
    pub destination: Arc<str>,
    /// `file:offset` of the binlog event the message was built from.
    pub position: String,
    /// GTID of the transaction ("" when the server has none).
    pub gtid: String,
    /// Index of this message among those the same change sends to the same partition (usually 0).
    /// With `position` it identifies the message, for deduplication.
    pub part: u32,
}

impl MessageHeaders {
    pub const DESTINATION: &'static str = "sluice.destination";
    pub const POSITION: &'static str = "sluice.position";
    pub const GTID: &'static str = "sluice.gtid";
    pub const PART: &'static str = "sluice.part";
}

/// Per topic and partition, the last message already published (as a read_committed consumer sees
/// it): a new leader skips messages up to it, so a failover adds no duplicates.
pub type PublishedMarks = std::collections::HashMap<(Arc<str>, u32), (crate::event::BinlogPosition, u32)>;

/// One row as it appears in a message: the image shown as `data`, and for UPDATE the before image
/// (for `old`).
#[derive(Debug, Clone, Copy)]
pub struct RowPart<'a> {
    pub data: &'a RowImage,
    pub before: Option<&'a RowImage>,
}

/// Fields of a message that do not come from the rows.
#[derive(Debug, Clone, Copy)]
pub struct MessageMeta<'a> {
    pub batch_id: u64,
    /// Build time, ms.
    pub build_time_ms: u64,
    pub gtid: &'a str,
    /// The binlog event the message is built from (its time is the message's event time).
    pub origin: &'a EventOrigin,
    /// The binlog's table id for rows messages (0 for DDL).
    pub table_id: u64,
}

/// A message format.
pub trait Encoder: Send {
    /// Append one message holding `rows` (same table, same kind) to `out`.
    fn encode_rows(
        &self,
        out: &mut Vec<u8>,
        meta: &MessageMeta<'_>,
        table: &TableSchema,
        kind: RowKind,
        rows: &[RowPart<'_>],
    );

    /// Append one DDL message to `out`.
    fn encode_ddl(&self, out: &mut Vec<u8>, meta: &MessageMeta<'_>, ddl: &DdlChange);
}
