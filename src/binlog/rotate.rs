//! ROTATE (the stream continues in another file) and HEARTBEAT (the server is alive, nothing new).

use super::{ByteReader, DecodeError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate {
    /// Offset in `next_file` where the stream continues (4 for a new file).
    pub position: u64,
    pub next_file: String,
}

impl Rotate {
    pub fn parse(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let position = r.u64()?;
        let next_file = String::from_utf8(r.take_rest().to_vec())
            .map_err(|_| DecodeError::Malformed("ROTATE file name is not UTF-8".into()))?;
        if next_file.is_empty() {
            return Err(DecodeError::Malformed("ROTATE without a file name".into()));
        }
        Ok(Self { position, next_file })
    }
}

/// A heartbeat. Only liveness matters; the file name is kept for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub file: Option<String>,
}

impl Heartbeat {
    /// HEARTBEAT (v1): the body is the current file name; the header's `log_pos` is the position.
    pub fn parse_v1(body: &[u8]) -> Self {
        Self { file: Some(String::from_utf8_lossy(body).into_owned()) }
    }

    /// HEARTBEAT_V2 (MySQL 8.0.26+): type-length-value fields; type 1 is the file name.
    pub fn parse_v2(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let mut file = None;
        while !r.is_empty() {
            let field = r.u8()?;
            let value = r.lenenc_bytes()?;
            if field == 1 {
                file = Some(String::from_utf8_lossy(value).into_owned());
            }
        }
        Ok(Self { file })
    }
}
