//! WRITE/UPDATE/DELETE rows events (v1, v2, MySQL PARTIAL_UPDATE_ROWS, MariaDB compressed).
//!
//! The event header is parsed at once; the row images are decoded later by [`RowsEvent::decode_rows`]
//! with the columns' codecs, because decoding needs what the schema layer knows (charsets, labels,
//! signedness) beyond the TABLE_MAP.

use super::column::{ColumnCodec, ColumnType};
use super::json_diff;
use super::value::{self, RenderOptions};
use super::{ByteReader, DecodeError, EventType};
use crate::event::{RowChange, RowImage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    Write,
    Update,
    Delete,
}

/// Rows event flag: last event of the statement.
pub const STMT_END_F: u16 = 1;

/// Room made up front from the first row's size is a guess, so it is capped: a huge first row
/// must not make every small row after it reserve as much (MySQL's default
/// `binlog_row_event_max_size`; larger images grow as they are written).
const MAX_TEXT_RESERVED_BYTES: usize = 8192;
/// Likewise for the number of rows: a tiny first row must not reserve for millions.
const MAX_ROWS_RESERVED: usize = 1024;

#[derive(Debug)]
pub struct RowsEvent {
    pub table_id: u64,
    pub flags: u16,
    pub kind: RowsKind,
    pub column_count: usize,
    /// Columns present in the before image (UPDATE/DELETE) or the only image (WRITE).
    pub present: Vec<bool>,
    /// Columns present in the after image of an UPDATE.
    pub present_after: Vec<bool>,
    /// PARTIAL_UPDATE_ROWS: after images start with value options.
    partial: bool,
    /// The event bytes; rows are `raw[rows_start..rows_end]`.
    raw: Vec<u8>,
    rows_start: usize,
    rows_end: usize,
}

impl RowsEvent {
    /// Parse a rows event whose body is `raw[body_start..body_end]`.
    pub fn parse(
        raw: Vec<u8>,
        body_start: usize,
        body_end: usize,
        t: EventType,
        post_header_len: usize,
    ) -> Result<Self, DecodeError> {
        let kind = match t {
            EventType::WRITE_ROWS_V1 | EventType::WRITE_ROWS_V2 => RowsKind::Write,
            EventType::UPDATE_ROWS_V1 | EventType::UPDATE_ROWS_V2 | EventType::PARTIAL_UPDATE_ROWS => RowsKind::Update,
            EventType::DELETE_ROWS_V1 | EventType::DELETE_ROWS_V2 => RowsKind::Delete,
            EventType::MARIADB_WRITE_ROWS_COMPRESSED_V1 | EventType::MARIADB_WRITE_ROWS_COMPRESSED => RowsKind::Write,
            EventType::MARIADB_UPDATE_ROWS_COMPRESSED_V1 | EventType::MARIADB_UPDATE_ROWS_COMPRESSED => {
                RowsKind::Update
            }
            _ => RowsKind::Delete,
        };
        let body = &raw[body_start..body_end];
        let mut r = ByteReader::new(body);
        let table_id = if post_header_len == 6 { u64::from(r.u32()?) } else { r.u48()? };
        let flags = r.u16()?;
        if post_header_len >= 10 {
            // v2: variable-length extra data, its length counting its own two bytes.
            let extra_len = usize::from(r.u16()?);
            r.skip(
                extra_len.checked_sub(2).ok_or_else(|| DecodeError::Malformed("rows extra data length < 2".into()))?,
            )?;
        }
        let column_count = r.lenenc_len()?;
        let present = bitmap(r.take(column_count.div_ceil(8))?, column_count);
        let present_after =
            if kind == RowsKind::Update { bitmap(r.take(column_count.div_ceil(8))?, column_count) } else { Vec::new() };
        let rows_start = body_start + r.offset();
        Ok(Self {
            table_id,
            flags,
            kind,
            column_count,
            present,
            present_after,
            partial: t == EventType::PARTIAL_UPDATE_ROWS,
            raw,
            rows_start,
            rows_end: body_end,
        })
    }

    /// MariaDB's compressed rows events: the post-header, column count and column bitmaps are
    /// plain (as MariaDB 10.11 writes them), the row images zlib-compressed.
    pub fn parse_mariadb_compressed(
        raw: Vec<u8>,
        body_start: usize,
        body_end: usize,
        t: EventType,
        post_header_len: usize,
    ) -> Result<Self, DecodeError> {
        let mut event = Self::parse(raw, body_start, body_end, t, post_header_len)?;
        let inflated = super::mariadb::uncompress(&event.raw[event.rows_start..event.rows_end])?;
        event.raw.truncate(event.rows_start);
        event.raw.extend_from_slice(&inflated);
        event.rows_end = event.raw.len();
        Ok(event)
    }

    pub fn is_statement_end(&self) -> bool {
        self.flags & STMT_END_F != 0
    }

    /// Size of the row data in bytes.
    pub fn rows_len(&self) -> usize {
        self.rows_end - self.rows_start
    }

    /// Decode every row with one codec per table column. Columns missing from an image
    /// (binlog_row_image=MINIMAL/NOBLOB) are [`Cell::Absent`](crate::event::Cell::Absent).
    pub fn decode_rows<'a>(
        &'a self,
        columns: &[ColumnCodec],
        opts: &RenderOptions,
    ) -> Result<Vec<RowChange>, DecodeError> {
        if columns.len() != self.column_count {
            return Err(DecodeError::RowShape(format!(
                "the rows event has {} columns but the table map describes {}",
                self.column_count,
                columns.len()
            )));
        }
        let json_columns = columns.iter().filter(|c| c.real_type() == ColumnType::JSON).count();
        let mut r = ByteReader::new(&self.raw[self.rows_start..self.rows_end]);
        let mut rows = Vec::new();
        // Rows of one event are alike: each image's buffer starts at the size of the last one, and
        // the first row's size tells how many rows to make room for.
        let mut text_bytes = 0;
        let mut image = |r: &mut ByteReader<'a>, present: &[bool], json: JsonPass<'_, 'a>| {
            read_image(r, columns, present, opts, json, &mut text_bytes)
        };
        while !r.is_empty() {
            let row_start = r.offset();
            let row = match self.kind {
                RowsKind::Write => {
                    RowChange { before: None, after: Some(image(&mut r, &self.present, JsonPass::Plain)?) }
                }
                RowsKind::Delete => {
                    RowChange { before: Some(image(&mut r, &self.present, JsonPass::Plain)?), after: None }
                }
                RowsKind::Update if self.partial => {
                    let mut documents = vec![None; columns.len()];
                    let before = image(&mut r, &self.present, JsonPass::Keep(&mut documents))?;
                    let partial = read_partial_options(&mut r, columns, json_columns)?;
                    let pass = JsonPass::Patch { partial: &partial, documents: &documents };
                    let after = image(&mut r, &self.present_after, pass)?;
                    RowChange { before: Some(before), after: Some(after) }
                }
                RowsKind::Update => {
                    let before = image(&mut r, &self.present, JsonPass::Plain)?;
                    let after = image(&mut r, &self.present_after, JsonPass::Plain)?;
                    RowChange { before: Some(before), after: Some(after) }
                }
            };
            if r.offset() == row_start {
                // No column present: rows of zero bytes would never end.
                return Err(DecodeError::Malformed("rows event whose row images hold no column".into()));
            }
            if rows.is_empty() {
                rows.reserve((1 + r.remaining() / (r.offset() - row_start)).min(MAX_ROWS_RESERVED));
            }
            rows.push(row);
        }
        Ok(rows)
    }
}

/// Bits least-significant first, `n` of them.
fn bitmap(bytes: &[u8], n: usize) -> Vec<bool> {
    (0..n).map(|i| bytes[i / 8] & (1 << (i % 8)) != 0).collect()
}

/// How [`read_image`] treats JSON columns (PARTIAL_UPDATE_ROWS needs the before-image's binary
/// documents to rebuild the after-image).
enum JsonPass<'p, 'a> {
    Plain,
    /// Before-image: keep each JSON column's binary document, by column index.
    Keep(&'p mut Vec<Option<&'a [u8]>>),
    /// After-image: columns flagged `partial` hold edits to apply to `documents`.
    Patch {
        partial: &'p [bool],
        documents: &'p [Option<&'a [u8]>],
    },
}

/// One row image. Its text buffer starts with room for `text_bytes`, which is then set to the
/// image's size (the next row of the event is likely alike).
fn read_image<'a>(
    r: &mut ByteReader<'a>,
    columns: &[ColumnCodec],
    present: &[bool],
    opts: &RenderOptions,
    mut json: JsonPass<'_, 'a>,
    text_bytes: &mut usize,
) -> Result<RowImage, DecodeError> {
    let present_count = present.iter().filter(|p| **p).count();
    let nulls = r.take(present_count.div_ceil(8))?;
    let mut image = RowImage::with_capacity(columns.len(), (*text_bytes).min(MAX_TEXT_RESERVED_BYTES));
    let mut ordinal = 0;
    for (i, column) in columns.iter().enumerate() {
        if !present[i] {
            image.push_absent();
            continue;
        }
        let is_null = nulls[ordinal / 8] & (1 << (ordinal % 8)) != 0;
        ordinal += 1;
        if is_null && !column.hidden {
            image.push_null();
            continue;
        }
        let in_column = |e| match e {
            DecodeError::RowShape(msg) => DecodeError::RowShape(format!("column {}: {msg}", i + 1)),
            DecodeError::Malformed(msg) => DecodeError::Malformed(format!("column {}: {msg}", i + 1)),
            other => other,
        };
        if column.hidden {
            if !is_null {
                value::decode(r, column, opts, &mut String::new()).map_err(in_column)?;
            }
            image.push_absent();
            continue;
        }
        match &mut json {
            JsonPass::Patch { partial, documents } if partial[i] => {
                let edits = value::length_prefixed(r, column.meta).map_err(in_column)?;
                let document = documents[i].ok_or_else(|| {
                    DecodeError::Unsupported(format!(
                        "column {} is a partial JSON update but the before image does not hold its document \
                         (binlog_row_image=MINIMAL, or NULL before), so the new value cannot be rebuilt: \
                         set binlog_row_image=FULL or binlog_row_value_options='' on the source",
                        i + 1
                    ))
                })?;
                image.push_text(&json_diff::apply(document, edits).map_err(in_column)?);
            }
            JsonPass::Keep(documents) if column.real_type() == ColumnType::JSON => {
                let document = value::length_prefixed(r, column.meta).map_err(in_column)?;
                documents[i] = Some(document);
                image.push_text_with(|out| value::json_document(document, out)).map_err(in_column)?;
            }
            _ => image.push_text_with(|out| value::decode(r, column, opts, out)).map_err(in_column)?,
        }
    }
    *text_bytes = image.text_len();
    Ok(image)
}

/// PARTIAL_UPDATE_ROWS carries `value_options` between the images; when partial JSON updates are
/// on, a bitmap with one bit per JSON column of the table (in column order) says which hold edits
/// instead of a full document. Returns, per column, whether it holds edits.
fn read_partial_options(
    r: &mut ByteReader<'_>,
    columns: &[ColumnCodec],
    json_columns: usize,
) -> Result<Vec<bool>, DecodeError> {
    const PARTIAL_JSON_UPDATES: u64 = 1;
    let options = r.lenenc_int()?;
    let mut partial = vec![false; columns.len()];
    if options & PARTIAL_JSON_UPDATES != 0 {
        let bits = bitmap(r.take(json_columns.div_ceil(8))?, json_columns);
        let json_indexes = columns.iter().enumerate().filter(|(_, c)| c.real_type() == ColumnType::JSON);
        for ((i, _), bit) in json_indexes.zip(bits) {
            partial[i] = bit;
        }
    }
    Ok(partial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::column::Charset;
    use crate::event::Cell;

    /// A WRITE_ROWS_COMPRESSED_V1 event MariaDB 10.11 wrote (log_bin_compress=ON, no checksum) for
    /// `INSERT INTO t VALUES (1, REPEAT('x', 50), REPEAT('y', 60), 3)`: table id, flags, column
    /// count and bitmap plain, then the row image compressed.
    #[test]
    fn mariadb_compressed_rows_keep_their_bitmaps_plain() {
        let hex = "ada90d6ba60100000039000000a306000000001200000000000100040f817b789cfbc0c8c0c060c4504132b0\
                   61a8a40030036d0500ce77352f";
        let raw: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let end = raw.len();
        let event =
            RowsEvent::parse_mariadb_compressed(raw, 19, end, EventType::MARIADB_WRITE_ROWS_COMPRESSED_V1, 8).unwrap();
        assert_eq!((event.table_id, event.column_count, event.present.clone()), (18, 4, vec![true; 4]));
        assert!(event.is_statement_end());
        // Null bitmap, id 1, 'x' × 50 and 'y' × 60 after two length bytes each, c = 3.
        let row = &event.raw[event.rows_start..event.rows_end];
        assert_eq!(row.len(), 1 + 4 + 52 + 62 + 4);
        assert_eq!((row[0], &row[1..5], &row[5..7]), (0xf0, &[1, 0, 0, 0][..], &[50, 0][..]));
        assert!(row[7..57].iter().all(|&b| b == b'x'));
        assert_eq!(&row[119..], &[3, 0, 0, 0]);
    }

    fn rows_event(kind: EventType, column_count: u8, present: u8, present_after: Option<u8>, rows: &[u8]) -> RowsEvent {
        let mut raw = vec![0u8; 19];
        raw.extend_from_slice(&[7, 0, 0, 0, 0, 0, 1, 0]); // table id 7, STMT_END_F
        raw.extend_from_slice(&[2, 0]); // v2 extra data: just its length
        raw.push(column_count);
        raw.push(present);
        raw.extend(present_after);
        raw.extend_from_slice(rows);
        let end = raw.len();
        RowsEvent::parse(raw, 19, end, kind, 10).unwrap()
    }

    fn columns() -> Vec<ColumnCodec> {
        let id = ColumnCodec::new(ColumnType::LONG, 0);
        let mut name = ColumnCodec::new(ColumnType::VARCHAR, 40);
        name.charset = Charset::Utf8;
        vec![id, name]
    }

    fn image(cells: &[Cell<'_>]) -> RowImage {
        cells.iter().copied().collect()
    }

    #[test]
    fn write_rows_with_null() {
        let mut rows = vec![0b00];
        rows.extend_from_slice(&1i32.to_le_bytes());
        rows.extend_from_slice(&[2, b'h', b'i']);
        rows.push(0b10); // name NULL
        rows.extend_from_slice(&2i32.to_le_bytes());
        let e = rows_event(EventType::WRITE_ROWS_V2, 2, 0b11, None, &rows);
        assert!(e.is_statement_end());
        let decoded = e.decode_rows(&columns(), &RenderOptions::default()).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0].after.as_ref().unwrap(), &image(&[Cell::Text("1"), Cell::Text("hi")]));
        assert_eq!(decoded[1].after.as_ref().unwrap(), &image(&[Cell::Text("2"), Cell::Null]));
    }

    #[test]
    fn minimal_update_image_marks_absent_columns() {
        // before: only id (present bitmap 0b01); after: only name (0b10)
        let mut rows = vec![0];
        rows.extend_from_slice(&5i32.to_le_bytes());
        rows.extend_from_slice(&[0, 3, b'n', b'e', b'w']);
        let e = rows_event(EventType::UPDATE_ROWS_V2, 2, 0b01, Some(0b10), &rows);
        let decoded = e.decode_rows(&columns(), &RenderOptions::default()).unwrap();
        assert_eq!(decoded[0].before.as_ref().unwrap(), &image(&[Cell::Text("5"), Cell::Absent]));
        assert_eq!(decoded[0].after.as_ref().unwrap(), &image(&[Cell::Absent, Cell::Text("new")]));
    }

    #[test]
    fn shape_mismatch_and_truncation_are_errors() {
        let e = rows_event(EventType::DELETE_ROWS_V2, 2, 0b11, None, &[0, 1, 0, 0]);
        assert!(matches!(e.decode_rows(&columns()[..1], &RenderOptions::default()), Err(DecodeError::RowShape(_))));
        assert!(matches!(e.decode_rows(&columns(), &RenderOptions::default()), Err(DecodeError::Truncated { .. })));
    }

    #[test]
    fn partial_json_update_is_applied_to_the_full_before_image() {
        // Columns: id INT, doc JSON (4-byte length prefix). FULL before image; the after image's
        // doc holds one edit: REPLACE $.a with 26.
        let columns = vec![ColumnCodec::new(ColumnType::LONG, 0), ColumnCodec::new(ColumnType::JSON, 4)];
        let document = crate::binlog::json::sample_document();
        let edit = [&[0u8, 3][..], b"$.a", &[3, 0x05, 26, 0]].concat();
        let mut rows = vec![0];
        rows.extend_from_slice(&9i32.to_le_bytes());
        rows.extend_from_slice(&(document.len() as u32).to_le_bytes());
        rows.extend_from_slice(&document);
        rows.extend_from_slice(&[1, 0b1]); // value_options = PARTIAL_JSON, doc is partial
        rows.push(0);
        rows.extend_from_slice(&9i32.to_le_bytes());
        rows.extend_from_slice(&(edit.len() as u32).to_le_bytes());
        rows.extend_from_slice(&edit);
        let e = rows_event(EventType::PARTIAL_UPDATE_ROWS, 2, 0b11, Some(0b11), &rows);
        let decoded = e.decode_rows(&columns, &RenderOptions::default()).unwrap();
        assert_eq!(
            decoded[0].before.as_ref().unwrap(),
            &image(&[Cell::Text("9"), Cell::Text(r#"{"a": 1, "b": [true, "x"]}"#)])
        );
        assert_eq!(
            decoded[0].after.as_ref().unwrap(),
            &image(&[Cell::Text("9"), Cell::Text(r#"{"a": 26, "b": [true, "x"]}"#)])
        );

        // The same edit without the document in the before image (MINIMAL) is a clear error.
        let mut minimal = vec![0];
        minimal.extend_from_slice(&9i32.to_le_bytes());
        minimal.extend_from_slice(&rows[4 + 1 + 4 + document.len()..]);
        let e = rows_event(EventType::PARTIAL_UPDATE_ROWS, 2, 0b01, Some(0b11), &minimal);
        let err = e.decode_rows(&columns, &RenderOptions::default()).unwrap_err().to_string();
        assert!(err.contains("binlog_row_image=FULL"), "{err}");
    }
}
