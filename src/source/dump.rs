//! The replication dump: register as a replica, ask for the binlog from a position or GTID set, and
//! read events. MySQL and MariaDB differ in how a dump is set up; both are here.

use std::time::Duration;

use super::SourceError;
use super::connection::{Connection, Flavor, parse_error};
use crate::event::{BinlogPosition, GtidSet};

const COM_BINLOG_DUMP: u8 = 0x12;
const COM_REGISTER_SLAVE: u8 = 0x15;
const COM_BINLOG_DUMP_GTID: u8 = 0x1e;

/// Dump flag: stop at the end of the binlog instead of waiting for new events (MySQL and MariaDB).
const BINLOG_DUMP_NON_BLOCK: u16 = 0x01;
/// MariaDB dump flag: send ANNOTATE_ROWS events (the SQL behind rows events).
const BINLOG_SEND_ANNOTATE_ROWS_EVENT: u16 = 0x02;
/// MySQL COM_BINLOG_DUMP_GTID flag: the GTID set is included.
const BINLOG_THROUGH_GTID: u16 = 0x04;

/// Where the dump starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpStart {
    /// A file and offset (4 = the start of the file).
    File(BinlogPosition),
    /// Everything after a GTID set (MySQL executed set, or MariaDB replication state).
    Gtid(GtidSet),
}

/// How to run the dump.
#[derive(Debug, Clone)]
pub struct DumpRequest {
    pub start: DumpStart,
    /// The server id Sluice presents as a replica; must differ from every other replica's.
    pub replica_server_id: u32,
    /// How often the server sends a heartbeat when it has nothing else to send.
    pub heartbeat_period: Duration,
    /// End at the current end of the binlog instead of following it (used by tools and start-time
    /// searches).
    pub non_blocking: bool,
}

/// A running dump: a stream of raw events.
#[derive(Debug)]
pub struct BinlogStream {
    conn: Connection,
    /// No packet within this long (heartbeats included) means the link is dead.
    read_timeout: Duration,
}

impl BinlogStream {
    /// Prepare the session and send the dump command.
    pub async fn start(mut conn: Connection, request: &DumpRequest) -> Result<Self, SourceError> {
        // The server must send events with the checksum it stores them with, and we verify them.
        conn.execute("SET @master_binlog_checksum = @@global.binlog_checksum").await?;
        let period_ns = request.heartbeat_period.as_nanos();
        conn.execute(&format!("SET @master_heartbeat_period = {period_ns}")).await?;
        if conn.flavor == Flavor::Mariadb {
            // 4 = MARIA_SLAVE_CAPABILITY_GTID: send GTID events, not their Query fallbacks.
            conn.execute("SET @mariadb_slave_capability = 4").await?;
        }
        register_replica(&mut conn, request.replica_server_id).await?;

        let mut flags = if request.non_blocking { BINLOG_DUMP_NON_BLOCK } else { 0 };
        match (&request.start, conn.flavor) {
            (DumpStart::File(pos), flavor) => {
                if flavor == Flavor::Mariadb {
                    flags |= BINLOG_SEND_ANNOTATE_ROWS_EVENT;
                }
                let offset = u32::try_from(pos.offset).map_err(|_| {
                    SourceError::Protocol(format!("binlog offset {} does not fit the dump command", pos.offset))
                })?;
                let mut arg = Vec::with_capacity(10 + pos.file.len());
                arg.extend_from_slice(&offset.to_le_bytes());
                arg.extend_from_slice(&flags.to_le_bytes());
                arg.extend_from_slice(&request.replica_server_id.to_le_bytes());
                arg.extend_from_slice(pos.file.as_bytes());
                conn.send_command(COM_BINLOG_DUMP, &arg).await?;
            }
            (DumpStart::Gtid(GtidSet::Mariadb(state)), Flavor::Mariadb) => {
                conn.execute(&format!("SET @slave_connect_state = '{state}'")).await?;
                conn.execute("SET @slave_gtid_strict_mode = 0").await?;
                conn.execute("SET @slave_gtid_ignore_duplicates = 0").await?;
                flags |= BINLOG_SEND_ANNOTATE_ROWS_EVENT;
                let mut arg = Vec::with_capacity(10);
                arg.extend_from_slice(&4u32.to_le_bytes());
                arg.extend_from_slice(&flags.to_le_bytes());
                arg.extend_from_slice(&request.replica_server_id.to_le_bytes());
                conn.send_command(COM_BINLOG_DUMP, &arg).await?;
            }
            (DumpStart::Gtid(set @ (GtidSet::Mysql(_) | GtidSet::Empty)), Flavor::Mysql) => {
                let encoded = match set {
                    GtidSet::Mysql(s) => s.encode(),
                    _ => crate::event::MysqlGtidSet::default().encode(),
                };
                flags |= BINLOG_THROUGH_GTID;
                let mut arg = Vec::with_capacity(26 + encoded.len());
                arg.extend_from_slice(&flags.to_le_bytes());
                arg.extend_from_slice(&request.replica_server_id.to_le_bytes());
                arg.extend_from_slice(&0u32.to_le_bytes()); // no file name
                arg.extend_from_slice(&4u64.to_le_bytes());
                arg.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
                arg.extend_from_slice(&encoded);
                conn.send_command(COM_BINLOG_DUMP_GTID, &arg).await?;
            }
            (DumpStart::Gtid(set), flavor) => {
                return Err(SourceError::Config(format!(
                    "the start GTID set '{set}' is not in the {flavor:?} format this server uses"
                )));
            }
        }
        let read_timeout = request.heartbeat_period * 3 + Duration::from_secs(5);
        Ok(Self { conn, read_timeout })
    }

    /// The next raw event; `None` at the end of the binlog of a non-blocking dump.
    pub async fn next_event(&mut self) -> Result<Option<Vec<u8>>, SourceError> {
        let packet = tokio::time::timeout(self.read_timeout, self.conn.read_packet())
            .await
            .map_err(|_| SourceError::HeartbeatTimeout(self.read_timeout))??;
        match packet.first() {
            Some(0x00) => {
                let mut event = packet;
                event.remove(0);
                Ok(Some(event))
            }
            Some(0xfe) if packet.len() < 9 => Ok(None),
            Some(0xff) => Err(parse_error(&packet)),
            other => Err(SourceError::Protocol(format!("unexpected dump packet header {other:?}"))),
        }
    }
}

/// COM_REGISTER_SLAVE: makes the replica visible in SHOW REPLICAS / SHOW SLAVE HOSTS.
async fn register_replica(conn: &mut Connection, server_id: u32) -> Result<(), SourceError> {
    let host = b"sluice";
    let mut arg = Vec::with_capacity(32);
    arg.extend_from_slice(&server_id.to_le_bytes());
    arg.push(host.len() as u8);
    arg.extend_from_slice(host);
    arg.push(0); // user
    arg.push(0); // password
    arg.extend_from_slice(&0u16.to_le_bytes()); // port
    arg.extend_from_slice(&0u32.to_le_bytes()); // replication rank
    arg.extend_from_slice(&0u32.to_le_bytes()); // master id
    conn.send_command(COM_REGISTER_SLAVE, &arg).await?;
    let reply = conn.read_packet().await?;
    match reply.first() {
        Some(0x00) => Ok(()),
        Some(0xff) => Err(parse_error(&reply)),
        other => Err(SourceError::Protocol(format!("unexpected reply {other:?} to COM_REGISTER_SLAVE"))),
    }
}
