//! `sluice bench decode`: binlog decoding speed on one core, beside the ceiling of merely reading
//! the same file and checking each event's CRC32.
//!
//! The binlog is generated (MySQL 8.0 layout, CRC32 on): transactions of ANONYMOUS_GTID, BEGIN,
//! TABLE_MAP with full metadata, WRITE_ROWS events of at most 8 KiB (MySQL's default
//! `binlog_row_event_max_size`) and XID, over a table of 10 mixed columns: BIGINT, INT,
//! DECIMAL(10,2), VARCHAR(64) utf8mb4, DATETIME, TIMESTAMP(3), DOUBLE, TINYINT, TEXT, SMALLINT.
//! Decoding runs the assembler exactly as the pipeline and `sluice binlog decode` do: every value
//! is rendered to its Canal text.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::assemble::{AssembleError, Assembler, AssemblerConfig, StartState, StatementDml, TableFilter};
use crate::binlog::file::{BinlogFile, FileError};
use crate::binlog::{EventType, checksum};
use crate::event::Change;
use crate::schema::SchemaRegistry;

/// Rows per transaction in the generated binlog.
const ROWS_PER_TRANSACTION: u64 = 100;
/// MySQL's default `binlog_row_event_max_size`.
const ROWS_EVENT_BYTES: usize = 8192;
const TABLE_ID: u64 = 108;

#[derive(Debug, thiserror::Error)]
pub enum DecodeBenchError {
    #[error("writing the generated binlog: {0}")]
    Write(#[from] std::io::Error),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Decode(#[from] AssembleError),
    #[error("generated event at byte {offset} fails its checksum: {message}")]
    Checksum { offset: u64, message: String },
}

/// One measured pass over the file.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Pass {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }

    pub fn megabytes_per_second(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
}

/// Write a binlog of `rows` inserted rows to `path`; returns its size.
pub fn generate(path: &Path, rows: u64) -> Result<u64, DecodeBenchError> {
    let mut out = Writer { file: BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?), offset: 0 };
    out.file.write_all(&crate::binlog::BINLOG_MAGIC)?;
    out.offset = 4;
    out.event(EventType::FORMAT_DESCRIPTION, &format_description())?;
    let table_map = table_map();
    let mut written = 0;
    let mut row = Vec::with_capacity(256);
    while written < rows {
        let in_transaction = ROWS_PER_TRANSACTION.min(rows - written);
        out.event(EventType::ANONYMOUS_GTID, &[0u8; 42])?;
        out.event(EventType::QUERY, &begin_query())?;
        out.event(EventType::TABLE_MAP, &table_map)?;
        let mut body = rows_event_head();
        for i in 0..in_transaction {
            row.clear();
            encode_row(written + i, &mut row);
            if body.len() + row.len() > ROWS_EVENT_BYTES {
                out.event(EventType::WRITE_ROWS_V2, &body)?;
                body = rows_event_head();
            }
            body.extend_from_slice(&row);
        }
        body[6] = 1; // STMT_END_F on the statement's last event
        out.event(EventType::WRITE_ROWS_V2, &body)?;
        out.event(EventType::XID, &written.to_le_bytes())?;
        written += in_transaction;
    }
    out.file.flush()?;
    Ok(out.offset)
}

/// The ceiling: read every event and verify its CRC32.
pub fn read_and_check(path: &Path) -> Result<Pass, DecodeBenchError> {
    let started = Instant::now();
    let mut bytes = 4;
    for event in BinlogFile::open(path)? {
        let (offset, raw) = event?;
        // The FDE's checksum is computed with the in-use flag cleared; ours never sets it.
        checksum::verify(&raw).map_err(|e| DecodeBenchError::Checksum { offset, message: e.to_string() })?;
        bytes += raw.len() as u64;
    }
    Ok(Pass { rows: 0, bytes, elapsed: started.elapsed() })
}

/// Decode every event into row changes with rendered values, as the pipeline does.
pub async fn decode(path: &Path) -> Result<Pass, DecodeBenchError> {
    let config = AssemblerConfig {
        render: Default::default(),
        filter: TableFilter::all(),
        chunk_bytes: 64 << 20,
        emit_ddl: true,
        statement_dml: StatementDml::Error,
        xa_bytes: 64 << 20,
        replication: false,
    };
    let mut assembler = Assembler::new(config, SchemaRegistry::offline(), StartState::default());
    let started = Instant::now();
    let (mut rows, mut bytes) = (0, 4);
    for event in BinlogFile::open(path)? {
        let (_, raw) = event?;
        bytes += raw.len() as u64;
        assembler.feed(raw);
        while let Some(chunk) = assembler.next_chunk().await? {
            for change in &chunk.changes {
                if let Change::Rows(r) = change {
                    rows += r.rows.len() as u64;
                }
            }
        }
    }
    Ok(Pass { rows, bytes, elapsed: started.elapsed() })
}

struct Writer {
    file: BufWriter<std::fs::File>,
    offset: u64,
}

impl Writer {
    /// Header, body and CRC32.
    fn event(&mut self, t: EventType, body: &[u8]) -> Result<(), DecodeBenchError> {
        let size = (crate::binlog::HEADER_LEN + body.len() + checksum::CHECKSUM_LEN) as u32;
        let next = self.offset + u64::from(size);
        let mut event = Vec::with_capacity(size as usize);
        event.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        event.push(t.0);
        event.extend_from_slice(&1u32.to_le_bytes()); // server id
        event.extend_from_slice(&size.to_le_bytes());
        event.extend_from_slice(&(next as u32).to_le_bytes());
        event.extend_from_slice(&0u16.to_le_bytes());
        event.extend_from_slice(body);
        event.extend_from_slice(&crc32fast::hash(&event).to_le_bytes());
        self.file.write_all(&event)?;
        self.offset = next;
        Ok(())
    }
}

fn format_description() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&4u16.to_le_bytes());
    let mut version = [0u8; 50];
    version[..6].copy_from_slice(b"8.0.36");
    body.extend_from_slice(&version);
    body.extend_from_slice(&0u32.to_le_bytes());
    body.push(crate::binlog::HEADER_LEN as u8);
    // Post-header lengths of types 1..=41 as MySQL 8.0 writes them.
    let mut post = [0u8; 41];
    post[EventType::QUERY.0 as usize - 1] = 13;
    post[EventType::ROTATE.0 as usize - 1] = 8;
    post[EventType::FORMAT_DESCRIPTION.0 as usize - 1] = 98;
    post[EventType::TABLE_MAP.0 as usize - 1] = 8;
    for t in [EventType::WRITE_ROWS_V2, EventType::UPDATE_ROWS_V2, EventType::DELETE_ROWS_V2] {
        post[t.0 as usize - 1] = 10;
    }
    post[EventType::ANONYMOUS_GTID.0 as usize - 1] = 42;
    post[EventType::GTID.0 as usize - 1] = 42;
    body.extend_from_slice(&post);
    body.push(1); // checksum algorithm: CRC32
    body
}

fn begin_query() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&7u32.to_le_bytes()); // thread id
    body.extend_from_slice(&0u32.to_le_bytes()); // exec time
    body.push(4); // schema length
    body.extend_from_slice(&0u16.to_le_bytes()); // error code
    body.extend_from_slice(&0u16.to_le_bytes()); // status vars length
    body.extend_from_slice(b"shop\0BEGIN");
    body
}

fn table_map() -> Vec<u8> {
    use crate::binlog::ColumnType as T;
    let columns: [(&str, T, &[u8]); 10] = [
        ("id", T::LONGLONG, &[]),
        ("qty", T::LONG, &[]),
        ("price", T::NEWDECIMAL, &[10, 2]),
        ("name", T::VARCHAR, &[0, 1]), // 256 bytes: VARCHAR(64) utf8mb4
        ("created", T::DATETIME2, &[0]),
        ("updated", T::TIMESTAMP2, &[3]),
        ("score", T::DOUBLE, &[8]),
        ("flag", T::TINY, &[]),
        ("note", T::BLOB, &[2]),
        ("small", T::SHORT, &[]),
    ];
    let mut body = Vec::new();
    body.extend_from_slice(&TABLE_ID.to_le_bytes()[..6]);
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&[4]);
    body.extend_from_slice(b"shop\0");
    body.extend_from_slice(&[6]);
    body.extend_from_slice(b"orders\0");
    body.push(columns.len() as u8);
    body.extend(columns.iter().map(|c| c.1.0));
    let meta: Vec<u8> = columns.iter().flat_map(|c| c.2.iter().copied()).collect();
    body.push(meta.len() as u8);
    body.extend_from_slice(&meta);
    body.extend_from_slice(&[0b1111_1110, 0b11]); // all nullable but id
    // Optional metadata: column names, default charset utf8mb4 (255), primary key (id).
    let names: Vec<u8> = columns.iter().flat_map(|c| std::iter::once(c.0.len() as u8).chain(c.0.bytes())).collect();
    body.push(4);
    body.push(names.len() as u8);
    body.extend_from_slice(&names);
    body.extend_from_slice(&[2, 3, 0xfc, 0xff, 0]);
    body.extend_from_slice(&[8, 1, 0]);
    body
}

fn rows_event_head() -> Vec<u8> {
    let mut body = Vec::with_capacity(ROWS_EVENT_BYTES + 256);
    body.extend_from_slice(&TABLE_ID.to_le_bytes()[..6]);
    body.extend_from_slice(&0u16.to_le_bytes()); // flags (STMT_END_F set on the last)
    body.extend_from_slice(&2u16.to_le_bytes()); // no extra data
    body.push(10);
    body.extend_from_slice(&[0xff, 0x03]); // all 10 columns present
    body
}

/// Row `n`: varied values, every 16th row with a NULL note.
fn encode_row(n: u64, out: &mut Vec<u8>) {
    let null_note = n.is_multiple_of(16);
    out.extend_from_slice(&[0, if null_note { 0b1 } else { 0 }]);
    out.extend_from_slice(&(n as i64).to_le_bytes());
    out.extend_from_slice(&((n % 1000) as i32).to_le_bytes());
    // DECIMAL(10,2): 8 integer digits in 4 bytes, 2 fraction digits in 1, sign bit flipped.
    let mut int_part = ((n * 7919) % 100_000_000) as u32;
    int_part ^= 0x8000_0000;
    out.extend_from_slice(&int_part.to_be_bytes());
    out.push((n % 100) as u8);
    let name = format!("customer-{n:08}-ä");
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    // DATETIME2 2024-MM-DD hh:mm:ss, packed and offset by 2^39.
    let (month, day, hour, minute, second) = (n % 12 + 1, n % 28 + 1, n % 24, n % 60, (n / 60) % 60);
    let packed = (((2024 * 13 + month) << 22) | (day << 17) | (hour << 12) | (minute << 6) | second) + (1 << 39);
    out.extend_from_slice(&packed.to_be_bytes()[3..]);
    // TIMESTAMP2(3): seconds big-endian, then the fraction in units of 100 µs in 2 bytes.
    out.extend_from_slice(&(1_700_000_000 + n as u32).to_be_bytes());
    out.extend_from_slice(&(((n % 1000) * 10) as u16).to_be_bytes());
    out.extend_from_slice(&(n as f64 / 3.0).to_le_bytes());
    out.push((n % 2) as u8);
    if !null_note {
        let note = "a note about this order, long enough to be typical";
        out.extend_from_slice(&(note.len() as u16).to_le_bytes());
        out.extend_from_slice(note.as_bytes());
    }
    out.extend_from_slice(&((n % 30000) as i16).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn generated_binlog_decodes_to_the_rows_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.000001");
        let size = generate(&path, 250).unwrap();
        let ceiling = read_and_check(&path).unwrap();
        assert_eq!(ceiling.bytes, size);
        let decoded = decode(&path).await.unwrap();
        assert_eq!(decoded.rows, 250);

        let mut lines = Vec::new();
        crate::commands::decode::decode_files(&[path], Default::default(), &mut lines).await.unwrap();
        let text = String::from_utf8(lines).unwrap();
        let row: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        let expected = serde_json::json!({
            "id": "1", "qty": "1", "price": "7919.01", "name": "customer-00000001-ä",
            "created": "2024-02-02 01:01:00", "updated": "2023-11-14 22:13:21.001",
            "score": "0.3333333333333333", "flag": "1",
            "note": "a note about this order, long enough to be typical", "small": "1",
        });
        assert_eq!(row["data"], expected, "{text}");
    }
}
