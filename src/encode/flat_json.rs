//! Canal's `FlatMessage` as JSON, byte-compatible with what Canal's MQ mode writes: keys in
//! alphabetical order (fastjson's default), nulls written, every value a string.
//!
//! ```json
//! {"data":[{"id":"1","name":"a"}],"database":"shop","es":1700000000000,"gtid":"","id":7,"isDdl":false,
//!  "mysqlType":{"id":"int(11)","name":"varchar(20)"},"old":null,"pkNames":["id"],"sql":"",
//!  "sqlType":{"id":4,"name":12},"table":"t","ts":1700000000123,"type":"INSERT"}
//! ```
//!
//! `data` holds the after image (the before image for DELETE) with the columns the image has;
//! `old` (UPDATE only) holds, per row, the before values of the columns that changed.

use std::io::Write;

use super::{Encoder, MessageMeta, RowPart};
use crate::event::{Cell, DdlChange, RowKind};
use crate::schema::TableSchema;

#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJsonEncoder;

impl Encoder for FlatJsonEncoder {
    fn encode_rows(
        &self,
        out: &mut Vec<u8>,
        meta: &MessageMeta<'_>,
        table: &TableSchema,
        kind: RowKind,
        rows: &[RowPart<'_>],
    ) {
        let columns = &table.columns;
        out.extend_from_slice(b"{\"data\":[");
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            let mut first = true;
            for (column, cell) in columns.iter().zip(row.data.iter()) {
                if cell.is_present() {
                    write_entry(out, &mut first, &column.name, cell);
                }
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"database\":");
        write_str(out, &table.schema);
        write_common(out, meta);
        out.extend_from_slice(b",\"isDdl\":false,\"mysqlType\":{");
        for (i, column) in table.visible_columns().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, &column.name);
            out.push(b':');
            write_str(out, &column.mysql_type);
        }
        out.extend_from_slice(b"},\"old\":");
        if kind == RowKind::Update {
            out.push(b'[');
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                let mut first = true;
                if let Some(before) = row.before {
                    for ((column, old), new) in columns.iter().zip(before.iter()).zip(row.data.iter()) {
                        if old.is_present() && new.is_present() && old != new {
                            write_entry(out, &mut first, &column.name, old);
                        }
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        } else {
            out.extend_from_slice(b"null");
        }
        out.extend_from_slice(b",\"pkNames\":");
        if table.primary_key.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            // Canal lists key columns in table order.
            out.push(b'[');
            let mut first = true;
            for column in columns.iter().filter(|c| c.is_key) {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(out, &column.name);
            }
            out.push(b']');
        }
        out.extend_from_slice(b",\"sql\":\"\",\"sqlType\":{");
        for (i, column) in table.visible_columns().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, &column.name);
            write!(out, ":{}", column.sql_type).expect("writing to a Vec cannot fail");
        }
        out.extend_from_slice(b"},\"table\":");
        write_str(out, &table.table);
        write!(out, ",\"ts\":{},\"type\":\"{}\"}}", meta.build_time_ms, kind.canal_name())
            .expect("writing to a Vec cannot fail");
    }

    fn encode_ddl(&self, out: &mut Vec<u8>, meta: &MessageMeta<'_>, ddl: &DdlChange) {
        out.extend_from_slice(b"{\"data\":null,\"database\":");
        write_str(out, &ddl.schema);
        write_common(out, meta);
        out.extend_from_slice(b",\"isDdl\":true,\"mysqlType\":null,\"old\":null,\"pkNames\":null,\"sql\":");
        write_str(out, &ddl.sql);
        out.extend_from_slice(b",\"sqlType\":null,\"table\":");
        write_str(out, &ddl.table);
        write!(out, ",\"ts\":{},\"type\":\"{}\"}}", meta.build_time_ms, ddl.kind.canal_name())
            .expect("writing to a Vec cannot fail");
    }
}

/// `,"es":…,"gtid":…,"id":…` — the fields between `database` and `isDdl`.
fn write_common(out: &mut Vec<u8>, meta: &MessageMeta<'_>) {
    write!(out, ",\"es\":{},\"gtid\":", meta.origin.timestamp_ms).expect("writing to a Vec cannot fail");
    write_str(out, meta.gtid);
    write!(out, ",\"id\":{}", meta.batch_id).expect("writing to a Vec cannot fail");
}

fn write_entry(out: &mut Vec<u8>, first: &mut bool, name: &str, cell: Cell<'_>) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    write_str(out, name);
    out.push(b':');
    match cell {
        Cell::Text(text) => write_str(out, text),
        Cell::Null | Cell::Absent => out.extend_from_slice(b"null"),
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("serializing a str to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::{ColumnCodec, ColumnType};
    use crate::event::{BinlogPosition, DdlKind, EventOrigin, RowImage};
    use crate::schema::Column;

    fn table() -> TableSchema {
        TableSchema {
            schema: "shop".into(),
            table: "t".into(),
            columns: vec![
                Column { name: "id".into(), mysql_type: "int(11)".into(), sql_type: 4, is_key: true, nullable: false },
                Column {
                    name: "name".into(),
                    mysql_type: "varchar(20)".into(),
                    sql_type: 12,
                    is_key: false,
                    nullable: true,
                },
            ],
            codecs: vec![ColumnCodec::new(ColumnType::LONG, 0), ColumnCodec::new(ColumnType::VARCHAR, 80)],
            primary_key: vec![0],
        }
    }

    fn origin() -> EventOrigin {
        EventOrigin {
            position: BinlogPosition::new("mysql-bin.000003", 4),
            server_id: 1,
            timestamp_ms: 1_700_000_000_000,
            event_length: 120,
        }
    }

    fn meta(origin: &EventOrigin) -> MessageMeta<'_> {
        MessageMeta { batch_id: 7, build_time_ms: 1_700_000_000_123, gtid: "0-1-9", origin, table_id: 42 }
    }

    fn text(s: &str) -> Cell<'_> {
        Cell::Text(s)
    }

    #[test]
    fn insert_is_byte_compatible_with_canal() {
        let row = RowImage::from([text("1"), text("a\"b")]);
        let mut out = Vec::new();
        FlatJsonEncoder.encode_rows(
            &mut out,
            &meta(&origin()),
            &table(),
            RowKind::Insert,
            &[RowPart { data: &row, before: None }],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"data":[{"id":"1","name":"a\"b"}],"database":"shop","es":1700000000000,"gtid":"0-1-9","id":7,"isDdl":false,"mysqlType":{"id":"int(11)","name":"varchar(20)"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"name":12},"table":"t","ts":1700000000123,"type":"INSERT"}"#
        );
    }

    #[test]
    fn hidden_columns_are_left_out() {
        let mut table = table();
        let hash = Column {
            name: "DB_ROW_HASH_1".into(),
            mysql_type: "bigint(20)".into(),
            sql_type: -5,
            is_key: false,
            nullable: true,
        };
        table.columns.push(hash);
        table.codecs.push(ColumnCodec { hidden: true, ..ColumnCodec::new(ColumnType::LONGLONG, 0) });
        // The decoder leaves a hidden column's value out of the image.
        let row = RowImage::from([text("1"), text("a"), Cell::Absent]);
        let mut out = Vec::new();
        FlatJsonEncoder.encode_rows(
            &mut out,
            &meta(&origin()),
            &table,
            RowKind::Insert,
            &[RowPart { data: &row, before: None }],
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["mysqlType"], serde_json::json!({"id": "int(11)", "name": "varchar(20)"}));
        assert_eq!(v["sqlType"], serde_json::json!({"id": 4, "name": 12}));
        assert_eq!(v["data"], serde_json::json!([{"id": "1", "name": "a"}]));
    }

    #[test]
    fn update_old_has_only_changed_columns_and_is_aligned() {
        let (b1, a1) = (RowImage::from([text("1"), text("x")]), RowImage::from([text("1"), text("y")]));
        let (b2, a2) = (RowImage::from([text("2"), Cell::Null]), RowImage::from([text("2"), Cell::Null]));
        let rows = [RowPart { data: &a1, before: Some(&b1) }, RowPart { data: &a2, before: Some(&b2) }];
        let mut out = Vec::new();
        FlatJsonEncoder.encode_rows(&mut out, &meta(&origin()), &table(), RowKind::Update, &rows);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["old"], serde_json::json!([{"name": "x"}, {}]));
        assert_eq!(v["data"][1]["name"], serde_json::Value::Null);
        assert_eq!(v["type"], "UPDATE");
    }

    #[test]
    fn ddl_message() {
        let ddl = DdlChange {
            schema: "shop".into(),
            table: "t".into(),
            kind: DdlKind::Alter,
            sql: "ALTER TABLE t ADD c int".into(),
            origin: origin(),
        };
        let mut out = Vec::new();
        FlatJsonEncoder.encode_ddl(&mut out, &meta(&origin()), &ddl);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"data":null,"database":"shop","es":1700000000000,"gtid":"0-1-9","id":7,"isDdl":true,"mysqlType":null,"old":null,"pkNames":null,"sql":"ALTER TABLE t ADD c int","sqlType":null,"table":"t","ts":1700000000123,"type":"ALTER"}"#
        );
    }
}
