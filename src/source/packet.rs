//! MySQL wire framing: 3-byte length + sequence id per packet; payloads of 16 MiB − 1 or more are
//! split across packets and joined here.

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::SourceError;

const MAX_PACKET: usize = 0xff_ffff;

/// A framed MySQL connection.
#[derive(Debug)]
pub struct PacketStream {
    stream: BufReader<TcpStream>,
    /// Sequence id expected on the next packet; reset at the start of each command.
    seq: u8,
    /// Upper bound on one logical payload; larger ones are refused before allocating.
    max_payload_bytes: usize,
}

impl PacketStream {
    pub fn new(stream: TcpStream, max_payload_bytes: usize) -> Self {
        Self { stream: BufReader::with_capacity(256 * 1024, stream), seq: 0, max_payload_bytes }
    }

    /// Start a new command: the next packet written has sequence id 0.
    pub fn reset_sequence(&mut self) {
        self.seq = 0;
    }

    /// Read one logical payload (joining continuation packets).
    pub async fn read(&mut self) -> Result<Vec<u8>, SourceError> {
        let mut payload = Vec::new();
        loop {
            let mut header = [0u8; 4];
            self.stream.read_exact(&mut header).await.map_err(SourceError::connection_lost)?;
            let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
            if header[3] != self.seq {
                return Err(SourceError::Protocol(format!(
                    "packet out of order: expected sequence {}, got {}",
                    self.seq, header[3]
                )));
            }
            self.seq = self.seq.wrapping_add(1);
            if payload.len() + len > self.max_payload_bytes {
                return Err(SourceError::Protocol(format!(
                    "the server sent a packet of more than {} bytes (the configured max_event_bytes); \
                     raise max_event_bytes to at least the server's max_allowed_packet",
                    self.max_payload_bytes
                )));
            }
            let start = payload.len();
            payload.resize(start + len, 0);
            self.stream.read_exact(&mut payload[start..]).await.map_err(SourceError::connection_lost)?;
            if len < MAX_PACKET {
                return Ok(payload);
            }
        }
    }

    /// Write one logical payload, splitting it into packets as needed.
    pub async fn write(&mut self, payload: &[u8]) -> Result<(), SourceError> {
        let mut chunks = payload.chunks(MAX_PACKET).peekable();
        let mut frame = Vec::with_capacity(payload.len().min(MAX_PACKET) + 4);
        loop {
            let chunk = chunks.next().unwrap_or_default();
            frame.clear();
            frame.extend_from_slice(&(chunk.len() as u32).to_le_bytes()[..3]);
            frame.push(self.seq);
            frame.extend_from_slice(chunk);
            self.seq = self.seq.wrapping_add(1);
            self.stream.get_mut().write_all(&frame).await.map_err(SourceError::connection_lost)?;
            // A payload that is an exact multiple of the maximum ends with an empty packet.
            if chunks.peek().is_none() && chunk.len() < MAX_PACKET {
                break;
            }
        }
        self.stream.get_mut().flush().await.map_err(SourceError::connection_lost)
    }
}
