//! Where a destination starts reading: its committed cursor if it has one; else the configured
//! start (file + position, GTID set, or time); else the server's current position.

use std::time::Duration;

use super::PipelineError;
use crate::assemble::StartState;
use crate::binlog::{EventData, EventDecoder};
use crate::checkpoint::Cursor;
use crate::config::StartConfig;
use crate::event::{BinlogPosition, GtidSet};
use crate::source::{BinlogStream, ConnectOptions, Connection, DumpRequest, DumpStart, SourceError, server};

/// A resolved start: what to ask the server for and what the assembler knows there.
#[derive(Debug, Clone)]
pub struct ResolvedStart {
    pub dump: DumpStart,
    pub state: StartState,
    /// For logs: where and why.
    pub description: String,
    /// Where information_schema describes the tables as they are at the start (a fresh start at
    /// the server's current position), for an initial schema snapshot.
    pub snapshot_at: Option<BinlogPosition>,
}

pub async fn resolve(
    connect: &ConnectOptions,
    replica_server_id: u32,
    cursor: Option<&Cursor>,
    configured: Option<&StartConfig>,
) -> Result<ResolvedStart, PipelineError> {
    if let Some(cursor) = cursor {
        let p = &cursor.position;
        return Ok(ResolvedStart {
            dump: DumpStart::File(p.binlog.clone()),
            state: StartState { file: p.binlog.file.clone(), gtid_set: p.gtid_set.clone(), ..Default::default() },
            description: format!("committed cursor {p}"),
            snapshot_at: None,
        });
    }
    let mut conn = Connection::connect(connect).await?;
    match configured {
        Some(StartConfig { file: Some(file), position, .. }) => {
            let offset = position.unwrap_or(4).max(4);
            // Read the file from its start to learn the GTID state at `offset`.
            Ok(ResolvedStart {
                dump: DumpStart::File(BinlogPosition::new(file.clone(), 4)),
                state: StartState {
                    file: file.clone(),
                    skip_until: (offset > 4).then(|| BinlogPosition::new(file.clone(), offset)),
                    ..Default::default()
                },
                description: format!("configured position {file}:{offset}"),
                snapshot_at: None,
            })
        }
        Some(StartConfig { gtid: Some(gtid), .. }) => {
            let set = GtidSet::parse(gtid).map_err(|e| PipelineError::Config(format!("source.start.gtid: {e}")))?;
            Ok(ResolvedStart {
                dump: DumpStart::Gtid(set.clone()),
                state: StartState { gtid_set: set, ..Default::default() },
                description: format!("configured GTID set {gtid}"),
                snapshot_at: None,
            })
        }
        Some(StartConfig { timestamp: Some(ts), .. }) => {
            let at: jiff::Timestamp =
                ts.parse().map_err(|e| PipelineError::Config(format!("source.start.timestamp '{ts}': {e}")))?;
            let seconds = u32::try_from(at.as_second()).unwrap_or(0);
            let file = file_containing(&mut conn, connect, replica_server_id, seconds).await?;
            Ok(ResolvedStart {
                dump: DumpStart::File(BinlogPosition::new(file.clone(), 4)),
                state: StartState { file: file.clone(), skip_before_timestamp: Some(seconds), ..Default::default() },
                description: format!("configured time {ts} (from {file})"),
                snapshot_at: None,
            })
        }
        _ => {
            let (position, gtid_set) = server::current_position(&mut conn).await?;
            warn_of_prepared_xa(&mut conn, &position).await;
            Ok(ResolvedStart {
                description: format!("the server's current position {position}"),
                dump: DumpStart::File(position.clone()),
                snapshot_at: Some(position.clone()),
                state: StartState { file: position.file, gtid_set, ..Default::default() },
            })
        }
    }
}

/// An XA transaction prepared before a fresh start has its changes before the start: its XA
/// COMMIT will stop the destination. Say so now, while it can still be settled or waited for.
async fn warn_of_prepared_xa(conn: &mut Connection, start: &BinlogPosition) {
    match server::prepared_xa(conn).await {
        Ok(xids) if xids.is_empty() => {}
        Ok(xids) => {
            let xids: Vec<String> = xids.iter().map(ToString::to_string).collect();
            tracing::warn!(
                start = %start,
                "{} XA transaction(s) prepared on the server before this start ({}): their changes were \
                 logged before it, so an XA COMMIT of one stops this destination; settle them first, or \
                 configure source.start at a position before their XA PREPARE",
                xids.len(),
                xids.join("; ")
            );
        }
        // XA RECOVER needs a privilege MySQL 8 grants apart (XA_RECOVER_ADMIN).
        Err(e) => tracing::debug!(error = %e, "cannot list prepared XA transactions"),
    }
}

/// The newest binlog file created at or before `seconds` (the oldest file if all are newer).
async fn file_containing(
    conn: &mut Connection,
    connect: &ConnectOptions,
    replica_server_id: u32,
    seconds: u32,
) -> Result<String, PipelineError> {
    let files = server::binlog_files(conn).await?;
    let Some(oldest) = files.first() else {
        return Err(PipelineError::Source(SourceError::Config(
            "the server has no binlog files: enable log_bin".into(),
        )));
    };
    for file in files.iter().rev() {
        if created_at(connect, replica_server_id, &file.name).await? <= seconds {
            return Ok(file.name.clone());
        }
    }
    Ok(oldest.name.clone())
}

/// When a binlog file was started: the timestamp of its FORMAT_DESCRIPTION event.
async fn created_at(connect: &ConnectOptions, replica_server_id: u32, file: &str) -> Result<u32, PipelineError> {
    let conn = Connection::connect(connect).await?;
    let request = DumpRequest {
        start: DumpStart::File(BinlogPosition::new(file, 4)),
        replica_server_id,
        heartbeat_period: Duration::from_secs(1),
        non_blocking: true,
    };
    let mut stream = BinlogStream::start(conn, &request).await?;
    let mut decoder = EventDecoder::for_replication();
    while let Some(raw) = stream.next_event().await? {
        let event = decoder.decode(raw).map_err(|e| PipelineError::Source(SourceError::Protocol(e.to_string())))?;
        if matches!(event.data, EventData::FormatDescription(_)) && event.header.timestamp != 0 {
            return Ok(event.header.timestamp);
        }
    }
    Ok(0)
}
