//! MariaDB's own events: GTID, GTID_LIST, BINLOG_CHECKPOINT, and the zlib framing of its compressed
//! QUERY and rows events.

use std::borrow::Cow;
use std::io::Read;

use super::{ByteReader, DecodeError};
use crate::event::MariadbGtid;

/// GTID event flag: the group is one statement without BEGIN/COMMIT (DDL).
pub const FL_STANDALONE: u8 = 1;
const FL_GROUP_COMMIT_ID: u8 = 2;
/// GTID event flag: the group is an XA transaction that ends at XA PREPARE.
const FL_PREPARED_XA: u8 = 64;
/// GTID event flag: the group is the XA COMMIT or XA ROLLBACK of a prepared XA transaction.
const FL_COMPLETED_XA: u8 = 128;
/// Extra flags (MariaDB 10.8+, `binlog_alter_two_phase`): the group is the start of an ALTER
/// TABLE, logged before it runs; its COMMIT ALTER or ROLLBACK ALTER group (which carries the start's
/// sequence number) follows when it ends.
const FL_START_ALTER_E1: u8 = 2;
const FL_COMMIT_ALTER_E1: u8 = 4;
const FL_ROLLBACK_ALTER_E1: u8 = 8;

/// The start of a MariaDB event group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariadbGtidEvent {
    pub gtid: MariadbGtid,
    pub flags: u8,
    /// The extra flags byte after the fixed part (0 when absent).
    pub flags_extra: u8,
}

/// Which part of a two-phase ALTER TABLE a group is (MariaDB's `binlog_alter_two_phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlterPhase {
    /// The ALTER began; the table has not changed yet.
    Start,
    /// The ALTER took effect (the statement is repeated).
    Commit,
    /// The ALTER failed; the table never changed.
    Rollback,
}

impl MariadbGtidEvent {
    /// `server_id` comes from the event header: it is the GTID's server id.
    ///
    /// The body: sequence (8), domain (4), flags (1), then the commit id (8) with
    /// FL_GROUP_COMMIT_ID, the XID (format id 4, gtrid and bqual lengths 1 each, the ids) of an XA
    /// group, then the extra flags; zero-padded to 19 bytes.
    pub fn parse(body: &[u8], server_id: u32) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let sequence = r.u64()?;
        let domain_id = r.u32()?;
        let flags = r.u8()?;
        if flags & FL_GROUP_COMMIT_ID != 0 {
            let _commit_id = r.u64()?;
        }
        if flags & (FL_PREPARED_XA | FL_COMPLETED_XA) != 0 {
            let _format_id = r.u32()?;
            let ids = usize::from(r.u8()?) + usize::from(r.u8()?);
            r.skip(ids)?;
        }
        let flags_extra = if r.remaining() > 0 { r.u8()? } else { 0 };
        Ok(Self { gtid: MariadbGtid { domain_id, server_id, sequence }, flags, flags_extra })
    }

    /// The part of a two-phase ALTER TABLE this group is, if it is one.
    pub fn alter_phase(&self) -> Option<AlterPhase> {
        if self.flags_extra & FL_START_ALTER_E1 != 0 {
            Some(AlterPhase::Start)
        } else if self.flags_extra & FL_COMMIT_ALTER_E1 != 0 {
            Some(AlterPhase::Commit)
        } else if self.flags_extra & FL_ROLLBACK_ALTER_E1 != 0 {
            Some(AlterPhase::Rollback)
        } else {
            None
        }
    }

    /// A DDL (or other non-transactional statement) that is its own transaction.
    pub fn is_standalone(&self) -> bool {
        self.flags & FL_STANDALONE != 0
    }

    /// The group is an XA transaction (XA START … XA PREPARE): committed only by a later XA COMMIT.
    pub fn is_xa_prepare(&self) -> bool {
        self.flags & FL_PREPARED_XA != 0
    }
}

/// GTID_LIST: the binlog state (last GTID per domain and server) when the file began.
pub fn parse_gtid_list(body: &[u8]) -> Result<Vec<MariadbGtid>, DecodeError> {
    let mut r = ByteReader::new(body);
    let count = r.u32()? & 0x0fff_ffff; // the top 4 bits are flags
    let mut gtids = Vec::with_capacity(count.min(1024) as usize);
    for _ in 0..count {
        let domain_id = r.u32()?;
        let server_id = r.u32()?;
        let sequence = r.u64()?;
        gtids.push(MariadbGtid { domain_id, server_id, sequence });
    }
    Ok(gtids)
}

pub fn parse_binlog_checkpoint(body: &[u8]) -> Result<String, DecodeError> {
    let mut r = ByteReader::new(body);
    let len = r.u32()? as usize;
    Ok(String::from_utf8_lossy(r.take(len)?).into_owned())
}

/// Inflate MariaDB's compressed-event framing: one header byte (0x80 | n), an n-byte big-endian
/// uncompressed length, then a zlib stream. The length is checked, and memory is bounded by it.
pub fn uncompress(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let header = *data.first().ok_or_else(|| DecodeError::Malformed("empty compressed event".into()))?;
    if header & 0x80 == 0 {
        return Err(DecodeError::Malformed(format!("compressed event header byte 0x{header:02x}")));
    }
    inflate(data, "compressed event")
}

/// The value of a MariaDB `COMPRESSED` column: empty, or a header byte then the data, stored as
/// is (header 0) or zlib-compressed (header 0x80 | wrap flag 0x08 for a raw deflate stream | n,
/// then the n-byte big-endian length, as [`uncompress`]'s framing).
pub fn uncompress_column(data: &[u8]) -> Result<Cow<'_, [u8]>, DecodeError> {
    let Some((&header, stored)) = data.split_first() else { return Ok(Cow::Borrowed(data)) };
    match header >> 4 {
        0 => Ok(Cow::Borrowed(stored)),
        8 => inflate(data, "compressed column value").map(Cow::Owned),
        method => Err(DecodeError::Unsupported(format!(
            "column compression method {method} (header byte 0x{header:02x}); MariaDB knows only zlib (8)"
        ))),
    }
}

/// `data` is a header byte (its low 3 bits the size n of the length, bit 0x08 set for a raw
/// deflate stream instead of zlib), an n-byte big-endian uncompressed length, then the stream.
fn inflate(data: &[u8], what: &str) -> Result<Vec<u8>, DecodeError> {
    let mut r = ByteReader::new(data);
    let header = r.u8()?;
    let len_bytes = usize::from(header & 0x07);
    if len_bytes == 0 || len_bytes > 4 {
        return Err(DecodeError::Malformed(format!("{what}: header byte 0x{header:02x}")));
    }
    let expected = r.uint_be(len_bytes)? as usize;
    let mut out = Vec::with_capacity(expected.min(16 << 20));
    let limit = expected as u64 + 1;
    let read = if header & 0x08 == 0 {
        flate2::read::ZlibDecoder::new(r.rest()).take(limit).read_to_end(&mut out)
    } else {
        flate2::read::DeflateDecoder::new(r.rest()).take(limit).read_to_end(&mut out)
    };
    read.map_err(|e| DecodeError::Malformed(format!("{what} does not inflate: {e}")))?;
    if out.len() != expected {
        return Err(DecodeError::Malformed(format!("{what} inflates to {} bytes, header says {expected}", out.len())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gtid_event_with_commit_id() {
        let mut body = 42u64.to_le_bytes().to_vec();
        body.extend_from_slice(&3u32.to_le_bytes());
        body.push(FL_GROUP_COMMIT_ID | FL_STANDALONE);
        body.extend_from_slice(&9u64.to_le_bytes());
        let e = MariadbGtidEvent::parse(&body, 7).unwrap();
        assert_eq!(e.gtid.to_string(), "3-7-42");
        assert!(e.is_standalone());
        assert_eq!(e.alter_phase(), None);
    }

    /// The GTID events MariaDB 10.11 wrote with binlog_alter_two_phase=ON for `ALTER TABLE t ADD
    /// COLUMN w INT` (sequences 9 and 10), and an XA COMMIT's with extra flags after its XID.
    #[test]
    fn gtid_events_of_a_two_phase_alter() {
        let start = [9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x02, 0, 0, 0, 0, 0];
        let e = MariadbGtidEvent::parse(&start, 1).unwrap();
        assert_eq!((e.gtid.to_string(), e.alter_phase()), ("0-1-9".into(), Some(AlterPhase::Start)));
        let commit = [10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x04, 9, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(MariadbGtidEvent::parse(&commit, 1).unwrap().alter_phase(), Some(AlterPhase::Commit));
        let mut xa = 5u64.to_le_bytes().to_vec();
        xa.extend_from_slice(&[0, 0, 0, 0, FL_COMPLETED_XA | FL_STANDALONE, 1, 0, 0, 0, 2, 1, b'a', b'b', b'c']);
        xa.push(FL_ROLLBACK_ALTER_E1); // not one MariaDB writes on an XA group: the byte is read after the XID
        assert_eq!(MariadbGtidEvent::parse(&xa, 1).unwrap().alter_phase(), Some(AlterPhase::Rollback));
        // Padding (no extra flags): none.
        let padded = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0];
        assert_eq!(MariadbGtidEvent::parse(&padded, 1).unwrap().alter_phase(), None);
    }

    /// Values MariaDB 10.11 wrote for `BLOB COMPRESSED` / `VARCHAR(200) COMPRESSED` / `TEXT
    /// COMPRESSED` columns (raw deflate, and a short value stored as is).
    #[test]
    fn compressed_column_values() {
        let ab = [0x89, 0xc8, 0x4b, 0x4c, 0x4a, 0x1c, 0x16, 0x10, 0x00];
        assert_eq!(uncompress_column(&ab).unwrap().as_ref(), "ab".repeat(100).as_bytes());
        let xy = [0x89, 0x64, 0xab, 0xa8, 0xac, 0xa0, 0x39, 0x04, 0x00];
        assert_eq!(uncompress_column(&xy).unwrap().as_ref(), "xy".repeat(50).as_bytes());
        assert_eq!(uncompress_column(b"\0short").unwrap().as_ref(), b"short");
        assert_eq!(uncompress_column(b"").unwrap().as_ref(), b"");
        // The zlib-wrapped form (column_compression_zlib_wrap=ON).
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"wrapped, wrapped").unwrap();
        let mut wrapped = vec![0x81, 16];
        wrapped.extend_from_slice(&z.finish().unwrap());
        assert_eq!(uncompress_column(&wrapped).unwrap().as_ref(), b"wrapped, wrapped");
        let err = uncompress_column(&[0x10, 1, 2]).unwrap_err().to_string();
        assert!(err.contains("compression method 1"), "{err}");
        assert!(uncompress_column(&ab[..6]).is_err(), "a truncated stream is an error");
    }

    #[test]
    fn uncompress_checks_length() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"hello world").unwrap();
        let compressed = z.finish().unwrap();
        let mut framed = vec![0x81, 11];
        framed.extend_from_slice(&compressed);
        assert_eq!(uncompress(&framed).unwrap(), b"hello world");
        framed[1] = 5;
        assert!(uncompress(&framed).is_err());
    }
}
