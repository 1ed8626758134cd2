//! Canal's protobuf MQ format: every message is a `Packet` (magic 17, version 1, type MESSAGES,
//! compression NONE) whose body is a `Messages` list holding one serialized `Entry` of type
//! ROWDATA. The entry's header says where the event comes from (binlog file, start offset, event
//! length, server id, time, schema, table, GTID); its `storeValue` is a `RowChange` with the rows
//! (before and after columns) or the DDL statement. This is what Canal's `CanalMessageDeserializer`
//! (and every Canal client library) reads.
//!
//! Differences from Canal, on purpose: Canal puts a whole batch's entries, including
//! TRANSACTIONBEGIN/END entries, into one message when partitioning is off; Sluice always writes
//! one ROWDATA entry per message (transaction boundaries are implied by the position headers),
//! and fills `Messages.batch_id`, which Canal's MQ path leaves 0.

use prost::Message as _;

use super::{Encoder, MessageMeta, RowPart};
use crate::event::{Cell, DdlChange, RowImage, RowKind};
use crate::schema::TableSchema;

/// Types generated from `proto/*.proto` (Canal's names and field numbers).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod canal {
    include!(concat!(env!("OUT_DIR"), "/com.alibaba.otter.canal.protocol.rs"));
}

use canal::{column, entry, header, packet, row_change};

/// Canal's `CanalPacket.Packet` magic number.
pub const MAGIC_NUMBER: i32 = 17;

#[derive(Debug, Clone, Copy, Default)]
pub struct ProtobufEncoder;

impl Encoder for ProtobufEncoder {
    fn encode_rows(
        &self,
        out: &mut Vec<u8>,
        meta: &MessageMeta<'_>,
        table: &TableSchema,
        kind: RowKind,
        rows: &[RowPart<'_>],
    ) {
        let event_type = event_type(kind);
        let row_datas = rows
            .iter()
            .map(|row| {
                let (before, after) = match kind {
                    RowKind::Insert => (None, Some(row.data)),
                    RowKind::Update => (row.before, Some(row.data)),
                    RowKind::Delete => (Some(row.data), None),
                };
                canal::RowData {
                    before_columns: before.map(|image| columns(table, image, None)).unwrap_or_default(),
                    after_columns: after
                        .map(|image| columns(table, image, Some(if kind == RowKind::Insert { None } else { before })))
                        .unwrap_or_default(),
                    props: Vec::new(),
                }
            })
            .collect();
        let change = canal::RowChange {
            table_id: meta.table_id as i64,
            event_type_present: Some(row_change::EventTypePresent::EventType(event_type as i32)),
            is_ddl_present: Some(row_change::IsDdlPresent::IsDdl(false)),
            sql: String::new(),
            row_datas,
            props: Vec::new(),
            ddl_schema_name: String::new(),
        };
        let props = vec![canal::Pair { key: "rowsCount".into(), value: rows.len().to_string() }];
        write_packet(out, meta, &table.schema, &table.table, event_type, props, &change);
    }

    fn encode_ddl(&self, out: &mut Vec<u8>, meta: &MessageMeta<'_>, ddl: &DdlChange) {
        let event_type = match ddl.kind {
            crate::event::DdlKind::Create => canal::EventType::Create,
            crate::event::DdlKind::Alter => canal::EventType::Alter,
            crate::event::DdlKind::Erase => canal::EventType::Erase,
            crate::event::DdlKind::Truncate => canal::EventType::Truncate,
            crate::event::DdlKind::Rename => canal::EventType::Rename,
            crate::event::DdlKind::CreateIndex => canal::EventType::Cindex,
            crate::event::DdlKind::DropIndex => canal::EventType::Dindex,
            crate::event::DdlKind::Query => canal::EventType::Query,
        };
        let change = canal::RowChange {
            table_id: 0,
            event_type_present: Some(row_change::EventTypePresent::EventType(event_type as i32)),
            is_ddl_present: Some(row_change::IsDdlPresent::IsDdl(true)),
            sql: ddl.sql.clone(),
            row_datas: Vec::new(),
            props: Vec::new(),
            ddl_schema_name: ddl.schema.clone(),
        };
        write_packet(out, meta, &ddl.schema, &ddl.table, event_type, Vec::new(), &change);
    }
}

fn event_type(kind: RowKind) -> canal::EventType {
    match kind {
        RowKind::Insert => canal::EventType::Insert,
        RowKind::Update => canal::EventType::Update,
        RowKind::Delete => canal::EventType::Delete,
    }
}

/// The columns an image has, in table order. `compare_with`: for after images, `Some(before)` marks
/// columns whose value differs from the before image as updated (`Some(None)`: every column, for
/// INSERT); `None` for before images (never updated).
fn columns(table: &TableSchema, image: &RowImage, compare_with: Option<Option<&RowImage>>) -> Vec<canal::Column> {
    table
        .columns
        .iter()
        .zip(image.iter())
        .enumerate()
        .filter(|(_, (_, cell))| cell.is_present())
        .map(|(index, (column, cell))| {
            let updated = match compare_with {
                None => false,
                Some(None) => true,
                Some(Some(before)) => before.get(index) != Some(cell),
            };
            canal::Column {
                index: index as i32,
                sql_type: column.sql_type,
                name: column.name.clone(),
                is_key: column.is_key,
                updated,
                is_null_present: Some(column::IsNullPresent::IsNull(matches!(cell, Cell::Null))),
                props: Vec::new(),
                value: cell.as_text().unwrap_or_default().to_owned(),
                length: 0,
                mysql_type: column.mysql_type.clone(),
            }
        })
        .collect()
}

fn write_packet(
    out: &mut Vec<u8>,
    meta: &MessageMeta<'_>,
    schema: &str,
    table: &str,
    event_type: canal::EventType,
    props: Vec<canal::Pair>,
    change: &canal::RowChange,
) {
    let origin = meta.origin;
    let entry = canal::Entry {
        header: Some(canal::Header {
            version_present: Some(header::VersionPresent::Version(1)),
            logfile_name: origin.position.file.clone(),
            logfile_offset: origin.position.offset as i64,
            server_id: i64::from(origin.server_id),
            serveren_code: "UTF-8".into(),
            execute_time: origin.timestamp_ms as i64,
            source_type_present: Some(header::SourceTypePresent::SourceType(canal::Type::Mysql as i32)),
            schema_name: schema.to_owned(),
            table_name: table.to_owned(),
            event_length: i64::from(origin.event_length),
            event_type_present: Some(header::EventTypePresent::EventType(event_type as i32)),
            props,
            gtid: meta.gtid.to_owned(),
        }),
        entry_type_present: Some(entry::EntryTypePresent::EntryType(canal::EntryType::Rowdata as i32)),
        store_value: change.encode_to_vec(),
    };
    let messages = canal::Messages { batch_id: meta.batch_id as i64, messages: vec![entry.encode_to_vec()] };
    let packet = canal::Packet {
        magic_number_present: Some(packet::MagicNumberPresent::MagicNumber(MAGIC_NUMBER)),
        version_present: Some(packet::VersionPresent::Version(1)),
        r#type: canal::PacketType::Messages as i32,
        compression_present: Some(packet::CompressionPresent::Compression(canal::Compression::None as i32)),
        body: messages.encode_to_vec(),
    };
    out.reserve(packet.encoded_len());
    packet.encode(out).expect("a Vec grows as needed");
}

/// Decode a message this encoder wrote: the entries, with their row changes.
pub fn decode(payload: &[u8]) -> Result<Vec<(canal::Entry, canal::RowChange)>, prost::DecodeError> {
    let packet = canal::Packet::decode(payload)?;
    let messages = canal::Messages::decode(packet.body.as_slice())?;
    messages
        .messages
        .iter()
        .map(|bytes| {
            let entry = canal::Entry::decode(bytes.as_slice())?;
            let change = canal::RowChange::decode(entry.store_value.as_slice())?;
            Ok((entry, change))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{BinlogPosition, DdlKind, EventOrigin};

    fn origin() -> EventOrigin {
        EventOrigin {
            position: BinlogPosition::new("mysql-bin.000003", 1234),
            server_id: 7,
            timestamp_ms: 1_700_000_000_000,
            event_length: 99,
        }
    }

    fn meta(origin: &EventOrigin) -> MessageMeta<'_> {
        MessageMeta { batch_id: 5, build_time_ms: 0, gtid: "0-7-12", origin, table_id: 42 }
    }

    fn text(s: &str) -> Cell<'_> {
        Cell::Text(s)
    }

    fn one(payload: &[u8]) -> (canal::Entry, canal::RowChange) {
        let packet = canal::Packet::decode(payload).unwrap();
        assert_eq!(packet.magic_number_present, Some(packet::MagicNumberPresent::MagicNumber(17)));
        assert_eq!(packet.r#type, canal::PacketType::Messages as i32);
        assert_eq!(canal::Messages::decode(packet.body.as_slice()).unwrap().batch_id, 5);
        let mut entries = decode(payload).unwrap();
        assert_eq!(entries.len(), 1);
        entries.pop().unwrap()
    }

    #[test]
    fn update_carries_header_images_and_updated_flags() {
        let table = crate::schema::int_table("shop", "orders", &[("id", true), ("qty", false), ("note", false)]);
        let before = RowImage::from([text("1"), text("2"), Cell::Null]);
        let after = RowImage::from([text("1"), text("3"), Cell::Null]);
        let mut out = Vec::new();
        ProtobufEncoder.encode_rows(
            &mut out,
            &meta(&origin()),
            &table,
            RowKind::Update,
            &[RowPart { data: &after, before: Some(&before) }],
        );
        let (entry, change) = one(&out);
        let header = entry.header.unwrap();
        assert_eq!((header.logfile_name.as_str(), header.logfile_offset), ("mysql-bin.000003", 1234));
        assert_eq!((header.server_id, header.event_length, header.execute_time), (7, 99, 1_700_000_000_000));
        assert_eq!(
            (header.schema_name.as_str(), header.table_name.as_str(), header.gtid.as_str()),
            ("shop", "orders", "0-7-12")
        );
        assert_eq!(
            header.event_type_present,
            Some(header::EventTypePresent::EventType(canal::EventType::Update as i32))
        );
        assert_eq!(
            entry.entry_type_present,
            Some(entry::EntryTypePresent::EntryType(canal::EntryType::Rowdata as i32))
        );
        assert_eq!(change.table_id, 42);
        assert_eq!(change.is_ddl_present, Some(row_change::IsDdlPresent::IsDdl(false)));
        let row = &change.row_datas[0];
        let summary = |cols: &[canal::Column]| {
            cols.iter()
                .map(|c| (c.name.clone(), c.value.clone(), c.updated, c.is_null_present, c.is_key))
                .collect::<Vec<_>>()
        };
        let null = |b| Some(column::IsNullPresent::IsNull(b));
        assert_eq!(
            summary(&row.before_columns),
            [
                ("id".into(), "1".into(), false, null(false), true),
                ("qty".into(), "2".into(), false, null(false), false),
                ("note".into(), String::new(), false, null(true), false)
            ]
        );
        assert_eq!(
            summary(&row.after_columns),
            [
                ("id".into(), "1".into(), false, null(false), true),
                ("qty".into(), "3".into(), true, null(false), false),
                ("note".into(), String::new(), false, null(true), false)
            ]
        );
    }

    #[test]
    fn insert_marks_every_column_updated_and_delete_has_only_before() {
        let table = crate::schema::int_table("shop", "orders", &[("id", true), ("qty", false)]);
        let image = RowImage::from([text("1"), text("2")]);
        let mut out = Vec::new();
        ProtobufEncoder.encode_rows(
            &mut out,
            &meta(&origin()),
            &table,
            RowKind::Insert,
            &[RowPart { data: &image, before: None }],
        );
        let (_, change) = one(&out);
        assert!(change.row_datas[0].before_columns.is_empty());
        assert!(change.row_datas[0].after_columns.iter().all(|c| c.updated));
        out.clear();
        ProtobufEncoder.encode_rows(
            &mut out,
            &meta(&origin()),
            &table,
            RowKind::Delete,
            &[RowPart { data: &image, before: None }],
        );
        let (_, change) = one(&out);
        assert_eq!(change.row_datas[0].before_columns.len(), 2);
        assert!(change.row_datas[0].after_columns.is_empty());
    }

    #[test]
    fn absent_columns_are_left_out() {
        let table = crate::schema::int_table("shop", "orders", &[("id", true), ("qty", false)]);
        let image = RowImage::from([text("1"), Cell::Absent]);
        let mut out = Vec::new();
        ProtobufEncoder.encode_rows(
            &mut out,
            &meta(&origin()),
            &table,
            RowKind::Delete,
            &[RowPart { data: &image, before: None }],
        );
        let (_, change) = one(&out);
        let names: Vec<_> = change.row_datas[0].before_columns.iter().map(|c| (c.name.as_str(), c.index)).collect();
        assert_eq!(names, [("id", 0)]);
    }

    #[test]
    fn ddl_entry() {
        let ddl = DdlChange {
            schema: "shop".into(),
            table: "orders".into(),
            kind: DdlKind::Rename,
            sql: "RENAME TABLE a TO orders".into(),
            origin: origin(),
        };
        let mut out = Vec::new();
        ProtobufEncoder.encode_ddl(&mut out, &meta(&ddl.origin), &ddl);
        let (entry, change) = one(&out);
        assert_eq!(entry.header.unwrap().table_name, "orders");
        assert_eq!(change.is_ddl_present, Some(row_change::IsDdlPresent::IsDdl(true)));
        assert_eq!(
            change.event_type_present,
            Some(row_change::EventTypePresent::EventType(canal::EventType::Rename as i32))
        );
        assert_eq!((change.sql.as_str(), change.ddl_schema_name.as_str()), ("RENAME TABLE a TO orders", "shop"));
    }
}
