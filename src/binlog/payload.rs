//! MySQL TRANSACTION_PAYLOAD (8.0.20+, `binlog_transaction_compression=ON`): a whole transaction's
//! events — GTID excluded, XID included — compressed with zstd into one event.
//!
//! The body is a list of `type, length, value` fields (each a length-encoded integer) ending with
//! type 0, then the compressed bytes:
//! - 1 `PAYLOAD_SIZE`: compressed size, 2 `COMPRESSION_TYPE`: 0 zstd, 255 none,
//!   3 `UNCOMPRESSED_SIZE`: the size of the events once inflated.
//!
//! The events inside carry v4 headers (positions refer to nothing; the payload event is their
//! position) and no checksum: the payload event's own CRC32 covers them.
//!
//! # Invariants
//! - Memory is bounded by one inner event, never by the declared uncompressed size: the payload is
//!   inflated as a stream ([`PayloadEvents`]) and each inner event is read only after the previous
//!   one was handed out.
//! - The inner events must fill exactly the declared uncompressed size; a short stream, an event
//!   crossing the end, or bytes left over is an error.

use std::io::{Cursor, Read};

use super::{ByteReader, DecodeError, HEADER_LEN};

const FIELD_END: u64 = 0;
const FIELD_PAYLOAD_SIZE: u64 = 1;
const FIELD_COMPRESSION_TYPE: u64 = 2;
const FIELD_UNCOMPRESSED_SIZE: u64 = 3;

const COMPRESSION_ZSTD: u64 = 0;
const COMPRESSION_NONE: u64 = 255;

/// The largest inner event accepted: MySQL's `max_allowed_packet` ceiling (1 GiB).
const MAX_INNER_EVENT: u64 = 1 << 30;
/// zstd window limit while inflating (2^27 = 128 MiB, zstd's default maximum); MySQL compresses
/// with far smaller windows.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// A TRANSACTION_PAYLOAD event, its compressed bytes still inside the raw event.
#[derive(Debug)]
pub struct TransactionPayload {
    raw: Vec<u8>,
    payload_start: usize,
    payload_end: usize,
    zstd: bool,
    uncompressed_size: u64,
}

impl TransactionPayload {
    /// Parse the field list of `raw[body_start..body_end]`; the payload stays in `raw`.
    pub fn parse(raw: Vec<u8>, body_start: usize, body_end: usize) -> Result<Self, DecodeError> {
        let body = &raw[body_start..body_end];
        let mut r = ByteReader::new(body);
        let (mut payload_size, mut compression, mut uncompressed_size) = (None, None, None);
        loop {
            let field = r.lenenc_int()?;
            if field == FIELD_END {
                break;
            }
            let len = r.lenenc_len()?;
            let value = r.take(len)?;
            let mut v = ByteReader::new(value);
            match field {
                FIELD_PAYLOAD_SIZE => payload_size = Some(v.lenenc_int()?),
                FIELD_COMPRESSION_TYPE => compression = Some(v.lenenc_int()?),
                FIELD_UNCOMPRESSED_SIZE => uncompressed_size = Some(v.lenenc_int()?),
                // Later servers may add fields; their length lets us step over them.
                _ => {}
            }
        }
        let payload_start = body_start + r.offset();
        let available = (body_end - payload_start) as u64;
        let payload_size = payload_size.unwrap_or(available);
        if payload_size != available {
            return Err(DecodeError::Malformed(format!(
                "TRANSACTION_PAYLOAD declares {payload_size} compressed bytes but carries {available}"
            )));
        }
        let zstd = match compression {
            Some(COMPRESSION_ZSTD) => true,
            Some(COMPRESSION_NONE) => false,
            Some(other) => {
                return Err(DecodeError::Unsupported(format!(
                    "TRANSACTION_PAYLOAD compressed with algorithm {other}; only zstd (0) and none (255) exist"
                )));
            }
            None => return Err(DecodeError::Malformed("TRANSACTION_PAYLOAD without a compression type".into())),
        };
        let uncompressed_size = uncompressed_size
            .ok_or_else(|| DecodeError::Malformed("TRANSACTION_PAYLOAD without its uncompressed size".into()))?;
        Ok(Self { raw, payload_start, payload_end: body_end, zstd, uncompressed_size })
    }

    /// Size of the transaction's events once inflated, as the event declares it.
    pub fn uncompressed_size(&self) -> u64 {
        self.uncompressed_size
    }

    /// The inner events, inflated one at a time.
    pub fn into_events(self) -> Result<PayloadEvents, DecodeError> {
        let declared = self.uncompressed_size;
        let mut cursor = Cursor::new(self.raw);
        cursor.set_position(self.payload_start as u64);
        let compressed = cursor.take((self.payload_end - self.payload_start) as u64);
        let source: Box<dyn Read + Send> = if self.zstd {
            let mut decoder = zstd::stream::read::Decoder::new(compressed)
                .map_err(|e| DecodeError::Malformed(format!("cannot start zstd decompression: {e}")))?;
            decoder
                .window_log_max(ZSTD_WINDOW_LOG_MAX)
                .map_err(|e| DecodeError::Malformed(format!("cannot configure zstd decompression: {e}")))?;
            Box::new(decoder.single_frame())
        } else {
            Box::new(compressed)
        };
        Ok(PayloadEvents { source, remaining: declared })
    }
}

/// The events of a [`TransactionPayload`], read from the inflating stream one by one.
pub struct PayloadEvents {
    source: Box<dyn Read + Send>,
    /// Declared uncompressed bytes not read yet.
    remaining: u64,
}

impl std::fmt::Debug for PayloadEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadEvents").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

impl PayloadEvents {
    /// The next inner event (header and body, no checksum), or `None` after the last one.
    pub fn next_event(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.read(&mut probe)? {
                0 => Ok(None),
                _ => Err(DecodeError::Malformed("TRANSACTION_PAYLOAD inflates to more bytes than it declares".into())),
            };
        }
        let mut header = [0u8; HEADER_LEN];
        self.read_exact(&mut header)?;
        let size = u64::from(u32::from_le_bytes(header[9..13].try_into().expect("4 bytes")));
        if size < HEADER_LEN as u64 || size > MAX_INNER_EVENT || size - HEADER_LEN as u64 > self.remaining {
            return Err(DecodeError::Malformed(format!(
                "an event inside TRANSACTION_PAYLOAD declares {size} bytes; {} bytes of the payload remain",
                self.remaining + HEADER_LEN as u64
            )));
        }
        let mut event = vec![0u8; size as usize];
        event[..HEADER_LEN].copy_from_slice(&header);
        self.read_exact(&mut event[HEADER_LEN..])?;
        Ok(Some(event))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), DecodeError> {
        if buf.len() as u64 > self.remaining {
            return Err(DecodeError::Malformed(format!(
                "TRANSACTION_PAYLOAD ends inside an event: {} bytes needed, {} declared bytes remain",
                buf.len(),
                self.remaining
            )));
        }
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..])? {
                0 => {
                    return Err(DecodeError::Malformed(format!(
                        "TRANSACTION_PAYLOAD inflates to fewer bytes than the {} it declares",
                        self.remaining
                    )));
                }
                n => filled += n,
            }
        }
        self.remaining -= buf.len() as u64;
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DecodeError> {
        loop {
            match self.source.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(DecodeError::Malformed(format!("TRANSACTION_PAYLOAD does not inflate: {e}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `compression` is the length-encoded value of the COMPRESSION_TYPE field.
    fn payload_event(compression: &[u8], uncompressed_size: u8, payload: &[u8]) -> Vec<u8> {
        let mut raw = vec![0u8; HEADER_LEN];
        raw.extend_from_slice(&[FIELD_COMPRESSION_TYPE as u8, compression.len() as u8]);
        raw.extend_from_slice(compression);
        raw.extend_from_slice(&[FIELD_UNCOMPRESSED_SIZE as u8, 1, uncompressed_size, 0]);
        raw.extend_from_slice(payload);
        raw
    }

    fn inner_event(body: &[u8]) -> Vec<u8> {
        let mut e = vec![0u8; HEADER_LEN];
        e[4] = 16;
        e[9..13].copy_from_slice(&((HEADER_LEN + body.len()) as u32).to_le_bytes());
        e.extend_from_slice(body);
        e
    }

    fn events(raw: Vec<u8>) -> Result<Vec<Vec<u8>>, DecodeError> {
        let end = raw.len();
        let mut events = TransactionPayload::parse(raw, HEADER_LEN, end)?.into_events()?;
        let mut out = Vec::new();
        while let Some(e) = events.next_event()? {
            out.push(e);
        }
        Ok(out)
    }

    #[test]
    fn inflates_zstd_events_one_by_one() {
        let inner = [inner_event(&[1; 8]), inner_event(&[2; 30])].concat();
        let compressed = zstd::bulk::compress(&inner, 3).unwrap();
        let raw = payload_event(&[0], inner.len() as u8, &compressed);
        let out = events(raw).unwrap();
        assert_eq!(out, vec![inner_event(&[1; 8]), inner_event(&[2; 30])]);
    }

    #[test]
    fn uncompressed_payloads_are_read_as_is() {
        let inner = inner_event(&[7; 5]);
        let raw = payload_event(&[0xfc, 0xff, 0], inner.len() as u8, &inner);
        assert_eq!(events(raw).unwrap(), vec![inner]);
    }

    #[test]
    fn size_mismatches_and_garbage_are_errors() {
        let inner = inner_event(&[1; 8]);
        let compressed = zstd::bulk::compress(&inner, 3).unwrap();
        // Declared size larger than what inflates.
        let err = events(payload_event(&[0], inner.len() as u8 + 5, &compressed)).unwrap_err();
        assert!(err.to_string().contains("ends inside an event"), "{err}");
        let err = events(payload_event(&[0], inner.len() as u8 + 19, &compressed)).unwrap_err();
        assert!(err.to_string().contains("fewer bytes"), "{err}");
        // Declared size smaller: the event crosses the end.
        let err = events(payload_event(&[0], inner.len() as u8 - 1, &compressed)).unwrap_err();
        assert!(err.to_string().contains("declares"), "{err}");
        // Not zstd at all.
        let err = events(payload_event(&[0], 27, &[0x55; 40])).unwrap_err();
        assert!(err.to_string().contains("does not inflate"), "{err}");
        // Unknown algorithm.
        let err = events(payload_event(&[7], 27, &compressed)).unwrap_err();
        assert!(err.to_string().contains("algorithm 7"), "{err}");
    }
}
