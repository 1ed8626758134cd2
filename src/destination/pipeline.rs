//! One run of a destination's pipeline while this server leads it:
//!
//! ```text
//! source ──raw events──▶ assemble ──chunks──▶ batch ──batches──▶ deliver ──positions──▶ cursor writer
//! (dump)   (bytes-bounded)  (decode,   (bytes-bounded) (encode,  (bounded)  (publish,   (watch:      (ZooKeeper,
//!                            schema)                    route)               ack order)  latest wins)  CAS)
//! ```
//!
//! This module only connects stages; each stage's logic lives in its own module.
//!
//! # Resumption
//! Every run starts from the committed cursor (read here, with its version for compare-and-set).
//! Batches published but not acknowledged when a run ends are published again by the next run:
//! delivery is at-least-once, and a consumer can deduplicate with the position headers.
//!
//! # Error handling
//! The first error of any stage ends the run. When the source or an intermediate stage fails, the
//! stages after it drain what they already hold, so acknowledged work is still committed; when
//! delivery fails, everything stops. A graceful shutdown stops the source and drains the rest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::status::{DestinationStatus, Role};
use super::{PipelineError, start};
use crate::assemble::{AssembleError, Assembler, AssemblerConfig, StatementDml, TableFilter};
use crate::binlog::value::RenderOptions;
use crate::checkpoint::{AckTracker, Cursor, ZkCursorStore, ZkSchemaHistory};
use crate::config::{Destination, parse_time_zone};
use crate::encode::batcher::BatcherConfig;
use crate::encode::{Batch, BatchLimits, Batcher};
use crate::event::BinlogPosition;
use crate::queue::{self, QueueReceiver, QueueSender};
use crate::route::Partitioner;
use crate::schema::{SchemaRegistry, foreign_keys};
use crate::sink::{PublishError, Publisher};
use crate::source::preflight::{self, Finding, Severity};
use crate::source::{BinlogStream, ConnectOptions, Connection, DumpRequest, DumpStart, SourceError};

/// Everything a run needs from outside.
pub struct RunContext {
    pub destination: Destination,
    pub zk: zookeeper_client::Client,
    pub cursor_path: String,
    /// Where the schema history journal is kept (see [`crate::checkpoint::schema_history`]).
    pub history_path: String,
    pub status: Arc<DestinationStatus>,
}

pub fn connect_options(d: &Destination) -> ConnectOptions {
    let s = &d.config.source;
    ConnectOptions {
        address: s.address.clone(),
        user: s.user.clone(),
        password: s.password.clone(),
        database: None,
        connect_timeout: Duration::from_millis(s.connect_timeout_ms),
        max_packet_bytes: s.max_event_bytes,
    }
}

/// Everything about the source a destination should know before it reads: the preflight's
/// findings, then the foreign keys that change its captured tables below the binlog (a warning
/// too when they cannot be read), then the captured tables whose rows the binlog cannot name
/// (long UNIQUE keys without FULL metadata). `sluice check` prints them; a run stops at the errors.
pub async fn source_findings(
    conn: &mut Connection,
    resume_from: Option<&BinlogPosition>,
    filter: &TableFilter,
) -> Result<Vec<Finding>, SourceError> {
    let captured = |schema: &str, table: &str| filter.matches(schema, table);
    let mut findings = preflight::check(conn, resume_from, &captured).await?;
    match foreign_keys::check(conn, &captured).await {
        Ok(cascades) => findings.extend(cascades),
        Err(e) => findings.push(Finding::warning(
            format!("cannot read the captured tables' foreign keys: {e}"),
            "GRANT SELECT ON *.* TO the Sluice user (SHOW CREATE TABLE needs it)",
        )),
    }
    Ok(findings)
}

/// Run until `shutdown` (graceful, returns `Ok`) or the first error.
pub async fn run(ctx: &RunContext, shutdown: watch::Receiver<bool>) -> Result<(), PipelineError> {
    let d = &ctx.destination;
    let connect = connect_options(d);
    let mut store = ZkCursorStore::new(ctx.zk.clone(), ctx.cursor_path.clone(), d.config.source.address.clone());
    let cursor = store.load().await?;
    if let Some(c) = &cursor {
        ctx.status.set_committed(c.position.clone());
    }

    // Preflight: stop with every problem spelled out rather than fail obscurely later.
    let filter = d.table_filter().map_err(|e| PipelineError::Config(e.to_string()))?;
    let mut conn = Connection::connect(&connect).await?;
    let findings = source_findings(&mut conn, cursor.as_ref().map(|c| &c.position.binlog), &filter).await?;
    drop(conn);
    let (errors, warnings): (Vec<_>, Vec<_>) = findings.into_iter().partition(|f| f.severity == Severity::Error);
    for w in &warnings {
        tracing::warn!(destination = %d.name, problem = %w.problem, fix = %w.fix, "source setting");
    }
    if !errors.is_empty() {
        return Err(PipelineError::Preflight(errors));
    }

    let start =
        start::resolve(&connect, d.replica_server_id(), cursor.as_ref(), d.config.source.start.as_ref()).await?;
    tracing::info!(destination = %d.name, start = %start.description, "reading the binlog");
    let history_store = ZkSchemaHistory::new(ctx.zk.clone(), ctx.history_path.clone());
    let history = history_store
        .load(match &start.dump {
            DumpStart::File(position) => Some(position),
            DumpStart::Gtid(_) => None,
        })
        .await?;

    let output = &d.config.output;
    let batch = &d.config.batch;
    let render = RenderOptions {
        time_zone: parse_time_zone(&output.time_zone).map_err(PipelineError::Config)?,
        binary: output.binary_encoding,
    };
    let mut registry = SchemaRegistry::connected(connect.clone()).with_history(history);
    if let Some(at) = &start.snapshot_at {
        let tables = registry
            .snapshot(|schema, table| filter.matches(schema, table), at)
            .await
            .map_err(|source| AssembleError::Schema { position: at.clone(), source })?;
        tracing::info!(destination = %d.name, tables, "schema history starts from a snapshot of information_schema");
    }
    let assembler = Assembler::new(
        AssemblerConfig {
            render,
            filter,
            chunk_bytes: batch.chunk_bytes,
            emit_ddl: output.ddl,
            statement_dml: StatementDml::Error,
            xa_bytes: batch.xa_bytes,
            replication: true,
        },
        registry,
        start.state,
    );
    let partitioner = Partitioner::new(output.partitions, &output.partition_hash, output.database_hash)
        .map_err(|e| PipelineError::Config(e.to_string()))?;
    let mut publisher = crate::sink::for_destination(d)?;
    publisher.start().await?;
    tracing::debug!(destination = %d.name, "sink ready");
    let published = publisher.published_marks().await?;
    if !published.is_empty() {
        tracing::info!(destination = %d.name, partitions = published.len(), "skipping what the previous leader already published");
    }
    let batcher = Batcher::new(
        BatcherConfig {
            destination: Arc::from(d.name.as_str()),
            topics: d.topic_rules().map_err(|e| PipelineError::Config(e.to_string()))?,
            partitioner,
            max_message_bytes: output.max_message_bytes,
            encoder: output.format.encoder(),
            key_update: output.key_update,
            record_key: output.record_key,
            ddl_partitions: output.ddl_partitions,
            limits: BatchLimits {
                max_transactions: batch.max_transactions,
                max_bytes: batch.max_bytes,
                max_delay: Duration::from_millis(batch.max_delay_ms),
            },
        },
        cursor.as_ref().map_or(1, |c| c.batch_id + 1),
        published,
    );
    let dump = DumpRequest {
        start: start.dump,
        replica_server_id: d.replica_server_id(),
        heartbeat_period: Duration::from_millis(d.config.source.heartbeat_ms),
        non_blocking: false,
    };

    let (raw_tx, raw_rx) = queue::bounded(4096, batch.queue_bytes);
    let (chunk_tx, chunk_rx) = queue::bounded(1024, batch.queue_bytes);
    let (batch_tx, batch_rx) = mpsc::channel(1);
    let (cursor_tx, cursor_rx) = watch::channel(cursor.clone());

    // Stages in pipeline order: an error aborts the stages before it (they may be waiting on
    // their input and would never notice) and lets the ones after it drain what they hold.
    let mut tasks = JoinSet::new();
    let stages = [
        tasks.spawn(with_stage(0, read_source(connect, dump, raw_tx, shutdown, Arc::clone(&ctx.status)))),
        tasks.spawn(with_stage(1, assemble(assembler, history_store, raw_rx, chunk_tx, Arc::clone(&ctx.status)))),
        tasks.spawn(with_stage(2, batch_stage(batcher, chunk_rx, batch_tx))),
        tasks.spawn(with_stage(3, deliver(publisher, batch_rx, cursor_tx, Arc::clone(&ctx.status)))),
        tasks.spawn(with_stage(4, write_cursor(store, cursor_rx, cursor, Arc::clone(&ctx.status)))),
    ];

    let mut first_error: Option<PipelineError> = None;
    while let Some(joined) = tasks.join_next().await {
        let (stage, result) = joined.unwrap_or_else(|e| {
            // A panicked stage: stop everything.
            (stages.len(), Err(PipelineError::Stage(format!("a pipeline task failed: {e}"))))
        });
        match result {
            Ok(()) => {}
            // A stage whose neighbour stopped reports Closed; the neighbour's error is the cause.
            Err(PipelineError::Closed) => {}
            Err(e) => {
                for upstream in &stages[..stage.min(stages.len())] {
                    upstream.abort();
                }
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Tag a stage's result with its place in the pipeline.
async fn with_stage(
    stage: usize,
    run: impl std::future::Future<Output = Result<(), PipelineError>>,
) -> (usize, Result<(), PipelineError>) {
    (stage, run.await)
}

async fn read_source(
    connect: ConnectOptions,
    dump: DumpRequest,
    out: QueueSender<Vec<u8>>,
    mut shutdown: watch::Receiver<bool>,
    status: Arc<DestinationStatus>,
) -> Result<(), PipelineError> {
    // Asked to stop while still connecting: never register a dump the next leader would collide with.
    let started = async {
        let conn = Connection::connect(&connect).await?;
        BinlogStream::start(conn, &dump).await
    };
    let mut stream = tokio::select! {
        stream = started => stream?,
        _ = super::stopped(&mut shutdown) => return Ok(()),
    };
    tracing::debug!(start = ?dump.start, "binlog dump started");
    loop {
        tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => return Ok(()),
            event = stream.next_event() => match event? {
                Some(raw) => {
                    let len = raw.len();
                    status.add(&status.metrics.events_total, 1);
                    status.add(&status.metrics.binlog_bytes_total, len as u64);
                    out.send(raw, len).await.map_err(|_| PipelineError::Closed)?;
                }
                None => return Ok(()),
            },
        }
    }
}

async fn assemble(
    mut assembler: Assembler,
    history: ZkSchemaHistory,
    mut input: QueueReceiver<Vec<u8>>,
    out: QueueSender<crate::event::TransactionChunk>,
    status: Arc<DestinationStatus>,
) -> Result<(), PipelineError> {
    while let Some((raw, _bytes)) = input.recv().await {
        assembler.feed(raw);
        while let Some(chunk) = assembler.next_chunk().await? {
            // Schema history first: the chunk's position must never be committed without it.
            history.append(&assembler.take_history_records()).await?;
            let rows: usize = chunk
                .changes
                .iter()
                .map(|c| match c {
                    crate::event::Change::Rows(r) => r.rows.len(),
                    crate::event::Change::Ddl(_) => 0,
                })
                .sum();
            status.add(&status.metrics.rows_total, rows as u64);
            let size = chunk.size_bytes;
            out.send(chunk, size).await.map_err(|_| PipelineError::Closed)?;
        }
    }
    Ok(())
}

async fn batch_stage(
    mut batcher: Batcher,
    mut input: QueueReceiver<crate::event::TransactionChunk>,
    out: mpsc::Sender<Batch>,
) -> Result<(), PipelineError> {
    loop {
        let deadline = batcher.deadline();
        tokio::select! {
            item = input.recv() => match item {
                Some((chunk, _bytes)) => {
                    if let Some(batch) = batcher.push(chunk) {
                        out.send(batch).await.map_err(|_| PipelineError::Closed)?;
                    }
                }
                None => {
                    if let Some(batch) = batcher.flush() {
                        out.send(batch).await.map_err(|_| PipelineError::Closed)?;
                    }
                    return Ok(());
                }
            },
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into()), if deadline.is_some() => {
                if let Some(batch) = batcher.flush() {
                    out.send(batch).await.map_err(|_| PipelineError::Closed)?;
                }
            }
        }
    }
}

/// Publish batches, keep at most `max_in_flight` unacknowledged, and pass the committable position
/// to the cursor writer. Acknowledgements are handled before new input so they never pile up.
async fn deliver(
    mut publisher: Box<dyn Publisher>,
    mut input: mpsc::Receiver<Batch>,
    cursor_out: watch::Sender<Option<Cursor>>,
    status: Arc<DestinationStatus>,
) -> Result<(), PipelineError> {
    let max_in_flight = publisher.max_in_flight();
    let mut tracker = AckTracker::new();
    let mut in_flight = FuturesUnordered::new();
    let mut input_open = true;
    while input_open || !in_flight.is_empty() {
        tokio::select! {
            biased;
            Some(acked) = in_flight.next(), if !in_flight.is_empty() => {
                let (batch_id, started): (u64, Instant) = acked?;
                tracing::debug!(batch = batch_id, elapsed = ?started.elapsed(), "batch acknowledged");
                status.add(&status.metrics.publish_seconds_sum_micros, started.elapsed().as_micros() as u64);
                tracker.ack(batch_id).map_err(|e| PipelineError::Stage(e.to_string()))?;
                if let Some((batch_id, position)) = tracker.take_committable() {
                    cursor_out.send_replace(Some(Cursor { position, batch_id, written_by_sluice: true }));
                }
            }
            batch = input.recv(), if input_open && in_flight.len() < max_in_flight => match batch {
                Some(batch) => {
                    tracker.register(batch.id, batch.commit.clone()).map_err(|e| PipelineError::Stage(e.to_string()))?;
                    status.add(&status.metrics.batches_total, 1);
                    status.add(&status.metrics.messages_total, batch.messages.len() as u64);
                    status.add(&status.metrics.message_bytes_total, batch.bytes as u64);
                    let started = Instant::now();
                    let id = batch.id;
                    tracing::debug!(batch = id, messages = batch.messages.len(), commit = ?batch.commit.as_ref().map(|p| p.binlog.to_string()), "publishing batch");
                    let publish: crate::sink::PublishFuture = if batch.messages.is_empty() {
                        Box::pin(std::future::ready(Ok(id)))
                    } else {
                        publisher.publish(batch)
                    };
                    in_flight.push(async move { publish.await.map(|id| (id, started)).map_err(PipelineError::from) });
                }
                None => input_open = false,
            },
        }
    }
    Ok(())
}

/// Write the newest committable cursor; intermediate ones are skipped when writes are slower than
/// acknowledgements. The last one is always written before the run ends.
async fn write_cursor(
    mut store: ZkCursorStore,
    mut input: watch::Receiver<Option<Cursor>>,
    mut written: Option<Cursor>,
    status: Arc<DestinationStatus>,
) -> Result<(), PipelineError> {
    loop {
        let changed = input.changed().await;
        let latest = input.borrow_and_update().clone();
        if let Some(cursor) = latest
            && written.as_ref() != Some(&cursor)
        {
            store.store(&cursor).await?;
            tracing::debug!(position = %cursor.position, batch = cursor.batch_id, "cursor committed");
            status.set_committed(cursor.position.clone());
            written = Some(cursor);
        }
        if changed.is_err() {
            return Ok(());
        }
    }
}

impl From<PublishError> for PipelineError {
    fn from(e: PublishError) -> Self {
        Self::Publish(e)
    }
}

/// Mark the role for a leadership term.
pub fn lead(status: &DestinationStatus, address: &str) {
    status.set_role(Role::Leader, Some(address.to_owned()));
}
