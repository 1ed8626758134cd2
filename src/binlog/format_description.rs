//! FORMAT_DESCRIPTION: the first event of every binlog file (and of every dump), describing the
//! header length, the post-header length of each event type and the checksum algorithm.

use super::{ByteReader, DecodeError, EventType, HEADER_LEN, checksum::CHECKSUM_LEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    Off,
    Crc32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    pub binlog_version: u16,
    /// e.g. `8.0.36` or `10.11.19-MariaDB-log`.
    pub server_version: String,
    pub create_timestamp: u32,
    /// Length of the common header (19 for v4).
    pub header_len: u8,
    /// Post-header length by event type (index = type code − 1).
    pub post_header_lens: Vec<u8>,
    pub checksum: ChecksumAlgorithm,
}

impl FormatDescription {
    /// What a stream looks like before its FORMAT_DESCRIPTION arrives: v4 headers, no checksums.
    pub fn default_v4() -> Self {
        Self {
            binlog_version: 4,
            server_version: String::new(),
            create_timestamp: 0,
            header_len: HEADER_LEN as u8,
            post_header_lens: Vec::new(),
            checksum: ChecksumAlgorithm::Off,
        }
    }

    /// Parse a whole FORMAT_DESCRIPTION event (header included).
    pub fn parse(event: &[u8]) -> Result<Self, DecodeError> {
        let body = event.get(HEADER_LEN..).ok_or(DecodeError::Truncated {
            needed: HEADER_LEN,
            available: event.len(),
            at: 0,
        })?;
        let mut r = ByteReader::new(body);
        let binlog_version = r.u16()?;
        if binlog_version != 4 {
            return Err(DecodeError::Unsupported(format!(
                "binlog format version {binlog_version} (MySQL < 5.0); only version 4 is supported"
            )));
        }
        let version_bytes = r.take(50)?;
        let server_version =
            String::from_utf8_lossy(version_bytes.split(|&b| b == 0).next().unwrap_or_default()).into_owned();
        let create_timestamp = r.u32()?;
        let header_len = r.u8()?;
        let mut post_header_lens = r.take_rest().to_vec();
        // Servers that know checksums append the algorithm byte and a 4-byte checksum (the checksum
        // bytes are present even when the algorithm is OFF).
        let checksum = if supports_checksums(&server_version) {
            if post_header_lens.len() < 1 + CHECKSUM_LEN {
                return Err(DecodeError::Malformed("FORMAT_DESCRIPTION lacks its checksum algorithm".into()));
            }
            let alg = post_header_lens[post_header_lens.len() - 1 - CHECKSUM_LEN];
            post_header_lens.truncate(post_header_lens.len() - 1 - CHECKSUM_LEN);
            match alg {
                0 => ChecksumAlgorithm::Off,
                1 => ChecksumAlgorithm::Crc32,
                other => {
                    return Err(DecodeError::Unsupported(format!("binlog checksum algorithm {other}")));
                }
            }
        } else {
            ChecksumAlgorithm::Off
        };
        if usize::from(header_len) < HEADER_LEN {
            return Err(DecodeError::Malformed(format!("header length {header_len} is below {HEADER_LEN}")));
        }
        // Development builds of 5.1/5.2 numbered the row-based events differently: in every released
        // format, XID has no post-header.
        if post_header_lens.get(usize::from(EventType::XID.0) - 1).is_some_and(|&len| len != 0) {
            return Err(DecodeError::Unsupported(format!(
                "the binlog was written by {server_version}, a pre-release server whose event numbering differs from every released MySQL; it cannot be decoded"
            )));
        }
        Ok(Self { binlog_version, server_version, create_timestamp, header_len, post_header_lens, checksum })
    }

    /// Post-header length the format declares for an event type (0 when it declares none).
    pub fn post_header_len(&self, t: EventType) -> u8 {
        usize::from(t.0).checked_sub(1).and_then(|i| self.post_header_lens.get(i).copied()).unwrap_or(0)
    }

    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }
}

/// Checksums exist from MySQL 5.6.1 and MariaDB 5.3.
fn supports_checksums(server_version: &str) -> bool {
    let version = release(server_version);
    if server_version.contains("MariaDB") { version >= (5, 3, 0) } else { version >= (5, 6, 1) }
}

/// The (major, minor, patch) of a server version (`8.0.36`, `10.11.6-MariaDB-log`; a handshake's
/// `5.5.5-` in front of MariaDB's is read past); missing numbers are 0.
pub fn release(server_version: &str) -> (u32, u32, u32) {
    let version = server_version.strip_prefix("5.5.5-").unwrap_or(server_version);
    let mut numbers = version.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse().unwrap_or(0));
    let mut next = || numbers.next().unwrap_or(0);
    (next(), next(), next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_capability_by_version() {
        assert!(supports_checksums("8.0.36"));
        assert!(supports_checksums("5.6.1-log"));
        assert!(!supports_checksums("5.6.0"));
        assert!(!supports_checksums("5.5.62-log"));
        assert!(supports_checksums("10.11.19-MariaDB-log"));
        assert!(supports_checksums("5.5.5-10.6.1-MariaDB"));
    }
}
