//! CRC32 event checksums (`binlog_checksum=CRC32`): the last four bytes of an event are the CRC32
//! (ISO-HDLC, as zlib computes it) of everything before them, little-endian.

use super::DecodeError;

pub const CHECKSUM_LEN: usize = 4;

/// Check the trailing CRC32 of a whole event.
pub fn verify(event: &[u8]) -> Result<(), DecodeError> {
    if event.len() < CHECKSUM_LEN {
        return Err(DecodeError::Truncated { needed: CHECKSUM_LEN, available: event.len(), at: 0 });
    }
    let (body, tail) = event.split_at(event.len() - CHECKSUM_LEN);
    let expected = u32::from_le_bytes(tail.try_into().expect("split_at left exactly 4 bytes"));
    let actual = crc32fast::hash(body);
    if expected == actual { Ok(()) } else { Err(DecodeError::ChecksumMismatch { expected, actual }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_matching_and_rejects_flipped_bit() {
        let mut event = b"some event bytes".to_vec();
        let crc = crc32fast::hash(&event);
        event.extend_from_slice(&crc.to_le_bytes());
        verify(&event).unwrap();
        event[3] ^= 0x10;
        assert!(matches!(verify(&event), Err(DecodeError::ChecksumMismatch { .. })));
    }
}
