//! A bounds-checked cursor over an event's bytes.
//!
//! Every read returns `Err(Truncated)` instead of panicking when the buffer is shorter than the format
//! says, so a corrupt or truncated event becomes a decode error at its position, never a panic.

use super::DecodeError;

/// Reads little-endian integers, length-encoded values and slices from a byte slice.
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    /// The bytes still to be read.
    rest: &'a [u8],
    /// Offset of `rest[0]` from the start of the slice this reader was created on (for error messages).
    consumed: usize,
}

impl<'a> ByteReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes, consumed: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.consumed
    }

    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated { needed: n, available: self.rest.len(), at: self.consumed });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        self.consumed += n;
        Ok(head)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest;
        self.consumed += rest.len();
        self.rest = &[];
        rest
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        Ok(bytes.try_into().expect("take returned exactly N bytes"))
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u24(&mut self) -> Result<u32, DecodeError> {
        self.uint_le(3).map(|v| v as u32)
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u48(&mut self) -> Result<u64, DecodeError> {
        self.uint_le(6)
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// An unsigned little-endian integer of `n` (at most 8) bytes.
    pub fn uint_le(&mut self, n: usize) -> Result<u64, DecodeError> {
        if n > 8 {
            return Err(DecodeError::Malformed(format!("a {n}-byte integer at byte {} (at most 8)", self.offset())));
        }
        let bytes = self.take(n)?;
        Ok(bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// An unsigned big-endian integer of `n` (at most 8) bytes.
    pub fn uint_be(&mut self, n: usize) -> Result<u64, DecodeError> {
        if n > 8 {
            return Err(DecodeError::Malformed(format!("a {n}-byte integer at byte {} (at most 8)", self.offset())));
        }
        let bytes = self.take(n)?;
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// MySQL's length-encoded integer (`0xfb` is NULL in result sets and is rejected here).
    pub fn lenenc_int(&mut self) -> Result<u64, DecodeError> {
        let at = self.consumed;
        match self.u8()? {
            n @ 0..=0xfa => Ok(u64::from(n)),
            0xfc => Ok(u64::from(self.u16()?)),
            0xfd => Ok(u64::from(self.u24()?)),
            0xfe => self.u64(),
            other => {
                Err(DecodeError::Malformed(format!("invalid length-encoded integer prefix 0x{other:02x} at byte {at}")))
            }
        }
    }

    /// A length-encoded integer used as a byte count.
    pub fn lenenc_len(&mut self) -> Result<usize, DecodeError> {
        let len = self.lenenc_int()?;
        usize::try_from(len).map_err(|_| DecodeError::Malformed(format!("length {len} does not fit in memory")))
    }

    pub fn lenenc_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.lenenc_len()?;
        self.take(len)
    }

    /// Bytes up to (not including) the next NUL; the NUL is consumed.
    pub fn nul_terminated(&mut self) -> Result<&'a [u8], DecodeError> {
        match self.rest.iter().position(|&b| b == 0) {
            Some(end) => {
                let bytes = self.take(end)?;
                self.skip(1)?;
                Ok(bytes)
            }
            None => Err(DecodeError::Malformed(format!("missing NUL terminator after byte {}", self.consumed))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_integers_little_and_big_endian() {
        let mut r = ByteReader::new(&[0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);
        assert_eq!(r.u16().unwrap(), 0x0201);
        assert_eq!(r.uint_be(3).unwrap(), 0x030405);
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.offset(), 5);
    }

    #[test]
    fn integers_wider_than_8_bytes_are_errors() {
        assert!(ByteReader::new(&[0; 16]).uint_le(9).is_err());
        assert!(ByteReader::new(&[0; 16]).uint_be(12).is_err());
    }

    #[test]
    fn truncated_read_is_an_error_not_a_panic() {
        let mut r = ByteReader::new(&[1, 2, 3]);
        let err = r.u32().unwrap_err();
        assert!(matches!(err, DecodeError::Truncated { needed: 4, available: 3, at: 0 }), "{err:?}");
    }

    #[test]
    fn length_encoded_integers() {
        let mut r = ByteReader::new(&[0xfa, 0xfc, 0x34, 0x12, 0xfd, 1, 2, 3, 0xfe, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.lenenc_int().unwrap(), 0xfa);
        assert_eq!(r.lenenc_int().unwrap(), 0x1234);
        assert_eq!(r.lenenc_int().unwrap(), 0x030201);
        assert_eq!(r.lenenc_int().unwrap(), 1);
        assert!(ByteReader::new(&[0xff]).lenenc_int().is_err());
    }
}
