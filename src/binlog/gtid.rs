//! MySQL GTID, ANONYMOUS_GTID, GTID_TAGGED and PREVIOUS_GTIDS events.
//!
//! MySQL 8.3+ writes a transaction with a tagged GTID (`uuid:tag:gno`) as GTID_TAGGED, encoded
//! with MySQL's serialization library (field ids and variable-length integers, see
//! [`read_varlen_uint`]), and writes PREVIOUS_GTIDS in a tagged format once any tag exists.

use super::{ByteReader, DecodeError, EventType};
use crate::event::{MysqlGtid, MysqlGtidSet, Uuid};

/// The start of a MySQL transaction. `gtid` is `None` for ANONYMOUS_GTID (gtid_mode=OFF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlGtidEvent {
    pub gtid: Option<MysqlGtid>,
}

impl MysqlGtidEvent {
    pub fn parse(body: &[u8], t: EventType) -> Result<Self, DecodeError> {
        if t == EventType::GTID_TAGGED {
            return Ok(Self { gtid: Some(parse_tagged_gtid(body)?) });
        }
        let mut r = ByteReader::new(body);
        let _commit_flags = r.u8()?;
        let uuid = Uuid(r.take(16)?.try_into().expect("took 16 bytes"));
        let gno = r.u64()?;
        let gtid = (t == EventType::GTID).then_some(MysqlGtid { source: uuid, tag: None, gno });
        Ok(Self { gtid })
    }
}

/// Field ids of a GTID_TAGGED event (MySQL `Gtid_event` serialization); later fields (commit
/// timestamps, transaction length, server versions) are not needed.
mod tagged_field {
    pub const FLAGS: u64 = 0;
    pub const SOURCE: u64 = 1;
    pub const GNO: u64 = 2;
    pub const TAG: u64 = 3;
}

/// A GTID_TAGGED body: serialization format version (1 byte), the message size and the last
/// non-ignorable field id (varlen), then `field id, value` pairs in increasing id order.
fn parse_tagged_gtid(body: &[u8]) -> Result<MysqlGtid, DecodeError> {
    let mut r = ByteReader::new(body);
    let _format_version = r.u8()?;
    let size = read_varlen_uint(&mut r)?;
    if size > body.len() as u64 {
        return Err(DecodeError::Malformed(format!(
            "GTID_TAGGED says its message is {size} bytes, the event body has {}",
            body.len()
        )));
    }
    let _last_non_ignorable_field = read_varlen_uint(&mut r)?;
    let (mut source, mut gno, mut tag) = (None, None, None);
    while !r.is_empty() && (source.is_none() || gno.is_none() || tag.is_none()) {
        match read_varlen_uint(&mut r)? {
            tagged_field::FLAGS => {
                read_varlen_uint(&mut r)?;
            }
            tagged_field::SOURCE => {
                let mut uuid = [0u8; 16];
                for byte in &mut uuid {
                    *byte = u8::try_from(read_varlen_uint(&mut r)?)
                        .map_err(|_| DecodeError::Malformed("GTID_TAGGED source UUID byte over 255".into()))?;
                }
                source = Some(Uuid(uuid));
            }
            tagged_field::GNO => gno = Some(read_varlen_int(&mut r)?),
            tagged_field::TAG => {
                let len = usize::try_from(read_varlen_uint(&mut r)?)
                    .map_err(|_| DecodeError::Malformed("GTID_TAGGED tag length".into()))?;
                tag = Some(String::from_utf8_lossy(r.take(len)?).to_ascii_lowercase());
            }
            // Fields after the tag are not needed; ids are increasing, so stop here.
            _ => break,
        }
    }
    let source = source.ok_or_else(|| DecodeError::Malformed("GTID_TAGGED without a source UUID".into()))?;
    let gno = gno.ok_or_else(|| DecodeError::Malformed("GTID_TAGGED without a transaction number".into()))?;
    let gno = u64::try_from(gno)
        .ok()
        .filter(|&g| g > 0)
        .ok_or_else(|| DecodeError::Malformed(format!("GTID_TAGGED transaction number {gno}")))?;
    Ok(MysqlGtid { source, tag: tag.filter(|t| !t.is_empty()), gno })
}

/// An unsigned variable-length integer of MySQL's serialization library: the number of trailing
/// one bits of the first byte, plus one, is the byte count (0xff: 9 bytes, the value in the last
/// 8); the little-endian value of those bytes shifted right by the byte count is the integer.
pub fn read_varlen_uint(r: &mut ByteReader<'_>) -> Result<u64, DecodeError> {
    let first = r.u8()?;
    if first == 0xff {
        return r.u64();
    }
    let len = first.trailing_ones() as usize + 1;
    let mut value = u64::from(first);
    for i in 1..len {
        value |= u64::from(r.u8()?) << (8 * i);
    }
    Ok(value >> len)
}

/// A signed variable-length integer: zig-zag over [`read_varlen_uint`].
fn read_varlen_int(r: &mut ByteReader<'_>) -> Result<i64, DecodeError> {
    let v = read_varlen_uint(r)?;
    let magnitude = (v >> 1) as i64;
    Ok(if v & 1 == 1 { -magnitude - 1 } else { magnitude })
}

/// PREVIOUS_GTIDS body: the GTID set executed before the file began. The first u64 holds the
/// number of sources; in the tagged format its top byte is 1, the count sits in bits 8–55 and each
/// source's UUID is followed by its tag (varlen length and bytes; empty = untagged).
pub fn parse_previous_gtids(body: &[u8]) -> Result<MysqlGtidSet, DecodeError> {
    let mut r = ByteReader::new(body);
    let head = r.u64()?;
    let (tagged, n_sids) = match head >> 56 {
        0 => (false, head),
        1 => (true, (head >> 8) & 0xffff_ffff_ffff),
        other => {
            return Err(DecodeError::Malformed(format!("PREVIOUS_GTIDS has unknown format {other}")));
        }
    };
    let mut set = MysqlGtidSet::default();
    for _ in 0..n_sids {
        let uuid = Uuid(r.take(16)?.try_into().expect("took 16 bytes"));
        let tag = if tagged {
            let len = usize::try_from(read_varlen_uint(&mut r)?)
                .map_err(|_| DecodeError::Malformed("PREVIOUS_GTIDS tag length".into()))?;
            Some(String::from_utf8_lossy(r.take(len)?).to_ascii_lowercase()).filter(|t| !t.is_empty())
        } else {
            None
        };
        let n_intervals = r.u64()?;
        for _ in 0..n_intervals {
            let start = r.u64()?;
            let end_exclusive = r.u64()?;
            if start == 0 || end_exclusive <= start {
                return Err(DecodeError::Malformed(format!(
                    "PREVIOUS_GTIDS interval [{start}, {end_exclusive}) for {uuid}"
                )));
            }
            set.add_interval(uuid, tag.clone(), start, end_exclusive - 1);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_gtids_round_trip_with_encode() {
        let set: MysqlGtidSet = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:9".parse().unwrap();
        assert_eq!(parse_previous_gtids(&set.encode()).unwrap(), set);
    }

    #[test]
    fn tagged_previous_gtids_round_trip_with_encode() {
        let set: MysqlGtidSet =
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:9:mytag:1-2,4e11fa47-71ca-11e1-9e33-c80aa9429562:1"
                .parse()
                .unwrap();
        assert!(set.has_tags());
        assert_eq!(parse_previous_gtids(&set.encode()).unwrap(), set);
    }

    #[test]
    fn varlen_integers_decode_one_to_nine_bytes() {
        let cases: &[(&[u8], u64)] = &[
            (&[0x00], 0),
            (&[0xaa], 0x55),
            (&[0x25, 0x02], 0x89),
            (&[0xc5, 0x03], 0xf1),
            (&[0xff, 1, 2, 3, 4, 5, 6, 7, 8], 0x0807_0605_0403_0201),
        ];
        for (bytes, value) in cases {
            assert_eq!(read_varlen_uint(&mut ByteReader::new(bytes)).unwrap(), *value, "{bytes:02x?}");
        }
        assert_eq!(read_varlen_int(&mut ByteReader::new(&[0x0c])).unwrap(), 3);
        assert_eq!(read_varlen_int(&mut ByteReader::new(&[0x02])).unwrap(), -1);
        assert!(read_varlen_uint(&mut ByteReader::new(&[0x01])).is_err(), "two-byte integer cut short");
    }
}
