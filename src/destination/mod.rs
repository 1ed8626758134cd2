//! A destination's life on this server: campaign for leadership, run the pipeline while leading,
//! restart it with backoff after transient errors, stop it at once when leadership is lost, and stop
//! for good (loudly) on a definite error.

pub mod pipeline;
pub mod start;
pub mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

pub use status::{DestinationStatus, Role};

use crate::assemble::AssembleError;
use crate::checkpoint::CheckpointError;
use crate::cluster::{Election, ZkError, ZkPaths};
use crate::config::Destination;
use crate::sink::PublishError;
use crate::source::SourceError;
use crate::source::preflight::Finding;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    #[error("publishing: {0}")]
    Publish(PublishError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Zk(#[from] ZkError),
    #[error("the source server is not set up for CDC:{}", .0.iter().map(|f| format!("\n  - {} (fix: {})", f.problem, f.fix)).collect::<String>())]
    Preflight(Vec<Finding>),
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Stage(String),
    #[error("a pipeline stage stopped")]
    Closed,
}

impl PipelineError {
    /// The same run may succeed later: restart from the committed cursor with backoff.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Source(e) => e.is_transient(),
            Self::Assemble(e) => e.is_transient(),
            Self::Publish(PublishError::Transient(_)) => true,
            Self::Checkpoint(CheckpointError::Zk(_)) | Self::Zk(_) => true,
            Self::Stage(_) | Self::Closed => true,
            _ => false,
        }
    }

    /// Another writer owns the destination's output: stop acting as leader.
    pub fn is_fenced(&self) -> bool {
        matches!(self, Self::Publish(PublishError::Fenced(_)) | Self::Checkpoint(CheckpointError::Conflict { .. }))
    }

    /// A message that tells the user what to do, for errors with a known fix.
    pub fn explain(&self) -> String {
        match self {
            Self::Source(SourceError::Server { code: 1236, message, .. }) => format!(
                "{self}. The server no longer has the binlog this destination must resume from (it was purged or the \
                 server was reset): the changes in between are lost to CDC. Re-snapshot the tables, then reset the \
                 cursor with `sluice positions reset` to start from the current position. ({message})"
            ),
            _ => self.to_string(),
        }
    }
}

/// Resolves once `shutdown` is true (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Exponential backoff between restarts: 0.5 s doubling to 30 s, reset after a run that lasted a
/// minute.
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(30);

    fn new() -> Self {
        Self { next: Self::FIRST }
    }

    fn after_run(&mut self, lasted: Duration) -> Duration {
        if lasted > Duration::from_secs(60) {
            self.next = Self::FIRST;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }
}

/// Run one destination until shutdown (`Ok`) or a definite error (`Err`).
pub async fn run(
    destination: Destination,
    zk: zookeeper_client::Client,
    paths: ZkPaths,
    address: String,
    status: Arc<DestinationStatus>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), PipelineError> {
    let name = destination.name.clone();
    let election = Election::new(zk.clone(), paths.clone(), &name, &address);
    let ctx = pipeline::RunContext {
        destination,
        zk: zk.clone(),
        cursor_path: paths.cursor(&name),
        status: Arc::clone(&status),
    };
    let mut backoff = Backoff::new();
    loop {
        let leader = Election::leader(&zk, &paths, &name).await.ok().flatten();
        status.set_role(Role::Standby, leader);
        tokio::select! {
            won = election.campaign() => won?,
            _ = stopped(&mut shutdown) => {
                status.set_role(Role::Stopped, None);
                return Ok(());
            }
        }
        tracing::info!(destination = %name, address = %address, "elected leader");
        pipeline::lead(&status, &address);
        loop {
            let started = Instant::now();
            let outcome = tokio::select! {
                result = pipeline::run(&ctx, shutdown.clone()) => result,
                loss = election.lost() => {
                    // Dropping the pipeline future aborted every stage: nothing more is published.
                    tracing::warn!(destination = %name, reason = %loss, "leadership lost: stopped publishing");
                    status.set_error(Some(format!("leadership lost: {loss}")));
                    break;
                }
            };
            match outcome {
                Ok(()) => {
                    if *shutdown.borrow() {
                        if let Err(e) = election.resign().await {
                            tracing::warn!(destination = %name, error = %e, "could not release leadership; it ends with the session");
                        }
                        status.set_role(Role::Stopped, None);
                        return Ok(());
                    }
                    // The source ended without an error (it only does on shutdown): restart.
                }
                Err(e) if e.is_fenced() => {
                    tracing::warn!(destination = %name, error = %e, "another writer owns the destination: standing down");
                    status.set_error(Some(e.to_string()));
                    break;
                }
                Err(e) if e.is_transient() => {
                    status.add(&status.metrics.restarts_total, 1);
                    let wait = backoff.after_run(started.elapsed());
                    tracing::warn!(destination = %name, error = %e, retry_in = ?wait, "pipeline stopped; restarting from the committed cursor");
                    status.set_error(Some(e.to_string()));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        loss = election.lost() => {
                            tracing::warn!(destination = %name, reason = %loss, "leadership lost while waiting to restart");
                            break;
                        }
                        _ = stopped(&mut shutdown) => {
                            let _ = election.resign().await;
                            status.set_role(Role::Stopped, None);
                            return Ok(());
                        }
                    }
                }
                Err(e) => {
                    let message = e.explain();
                    tracing::error!(destination = %name, error = %message, "destination stopped");
                    status.set_error(Some(message));
                    status.set_role(Role::Failed, None);
                    let _ = election.resign().await;
                    return Err(e);
                }
            }
        }
    }
}
