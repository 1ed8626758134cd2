//! MariaDB's own events: GTID, GTID_LIST, BINLOG_CHECKPOINT, and the zlib framing of its compressed
//! QUERY and rows events.

use std::io::Read;

use super::{ByteReader, DecodeError};
use crate::event::MariadbGtid;

/// GTID event flag: the group is one statement without BEGIN/COMMIT (DDL).
pub const FL_STANDALONE: u8 = 1;
const FL_GROUP_COMMIT_ID: u8 = 2;

/// The start of a MariaDB event group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariadbGtidEvent {
    pub gtid: MariadbGtid,
    pub flags: u8,
}

impl MariadbGtidEvent {
    /// `server_id` comes from the event header: it is the GTID's server id.
    pub fn parse(body: &[u8], server_id: u32) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let sequence = r.u64()?;
        let domain_id = r.u32()?;
        let flags = r.u8()?;
        if flags & FL_GROUP_COMMIT_ID != 0 {
            let _commit_id = r.u64()?;
        }
        Ok(Self { gtid: MariadbGtid { domain_id, server_id, sequence }, flags })
    }

    /// A DDL (or other non-transactional statement) that is its own transaction.
    pub fn is_standalone(&self) -> bool {
        self.flags & FL_STANDALONE != 0
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
    let mut r = ByteReader::new(data);
    let header = r.u8()?;
    let len_bytes = usize::from(header & 0x07);
    if header & 0x80 == 0 || len_bytes == 0 || len_bytes > 4 {
        return Err(DecodeError::Malformed(format!("compressed event header byte 0x{header:02x}")));
    }
    let expected = r.uint_be(len_bytes)? as usize;
    let mut out = Vec::with_capacity(expected.min(16 << 20));
    let mut decoder = flate2::read::ZlibDecoder::new(r.rest()).take(expected as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Malformed(format!("compressed event does not inflate: {e}")))?;
    if out.len() != expected {
        return Err(DecodeError::Malformed(format!(
            "compressed event inflates to {} bytes, header says {expected}",
            out.len()
        )));
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
