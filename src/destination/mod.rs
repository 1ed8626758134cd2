//! A destination's life on this server: campaign for leadership, run the pipeline while leading,
//! restart it with backoff after transient errors, stop it at once when leadership is lost, and stop
//! for good (loudly) on a definite error.

pub mod pipeline;
pub mod start;
pub mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::{Notify, watch};

pub use status::{DestinationStatus, Role};

use crate::assemble::AssembleError;
use crate::checkpoint::CheckpointError;
use crate::cluster::{Election, ZkError, ZkPaths};
use crate::config::{ClusterConfig, Destination};
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

/// What the destinations of one server share.
#[derive(Debug)]
pub struct ServerContext {
    /// `ip:port` this server registers as.
    pub address: String,
    pub cluster: ClusterConfig,
    /// Every destination's status on this server, to count what it leads.
    pub statuses: Arc<Vec<Arc<DestinationStatus>>>,
}

impl ServerContext {
    fn leading(&self) -> usize {
        self.statuses.iter().filter(|s| s.role() == Role::Leader).count()
    }

    /// Destinations a server does not prefer wait a little per destination it already leads before
    /// campaigning, so servers starting together share them out.
    fn campaign_delay(&self, prefer: bool) -> Duration {
        if prefer || !self.cluster.balance {
            Duration::ZERO
        } else {
            Duration::from_millis(200) * self.leading() as u32
        }
    }
}

/// How a leadership term ended.
enum TermEnd {
    /// Lost or given away: campaign again after `cooldown`.
    Campaign { cooldown: Duration },
    /// Shut down cleanly.
    Stopped,
}

/// Run one destination until shutdown (`Ok`) or a definite error (`Err`). `handover` asks a
/// leader to give the destination to another server (balancing).
pub async fn run(
    destination: Destination,
    zk: zookeeper_client::Client,
    paths: ZkPaths,
    server: Arc<ServerContext>,
    status: Arc<DestinationStatus>,
    handover: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), PipelineError> {
    let name = destination.name.clone();
    let prefer = server.cluster.prefer.contains(&name);
    let election = Election::new(zk.clone(), paths.clone(), &name, &server.address, prefer);
    let ctx = pipeline::RunContext {
        destination,
        zk: zk.clone(),
        cursor_path: paths.cursor(&name),
        history_path: paths.schema_history(&name),
        status: Arc::clone(&status),
    };
    let mut cooldown = Duration::ZERO;
    loop {
        let leader = Election::leader(&zk, &paths, &name).await.ok().flatten();
        status.set_role(Role::Standby, leader);
        let delay = cooldown + server.campaign_delay(prefer);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stopped(&mut shutdown) => {
                status.set_role(Role::Stopped, None);
                return Ok(());
            }
        }
        // A handover request that arrived while standing by is void.
        handover.notified().now_or_never();
        tokio::select! {
            won = election.campaign() => won?,
            _ = stopped(&mut shutdown) => {
                status.set_role(Role::Stopped, None);
                return Ok(());
            }
        }
        tracing::info!(destination = %name, address = %server.address, "elected leader");
        pipeline::lead(&status, &server.address);
        match lead(&ctx, &election, &server, &handover, &mut shutdown).await? {
            TermEnd::Stopped => {
                status.set_role(Role::Stopped, None);
                return Ok(());
            }
            TermEnd::Campaign { cooldown: wait } => cooldown = wait,
        }
    }
}

/// One leadership term: run the pipeline, restart it after transient errors, until leadership is
/// lost, handed over, released after repeated source failures, or the server shuts down.
async fn lead(
    ctx: &pipeline::RunContext,
    election: &Election,
    server: &ServerContext,
    handover: &Notify,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<TermEnd, PipelineError> {
    let name = &ctx.destination.name;
    let status = &ctx.status;
    let cooldown = Duration::from_millis(server.cluster.handover_cooldown_ms);
    let mut backoff = Backoff::new();
    let mut source_failures = 0u32;
    loop {
        let started = Instant::now();
        let (stop_tx, stop_rx) = watch::channel(false);
        let pipeline = pipeline::run(ctx, stop_rx);
        tokio::pin!(pipeline);
        let mut stopping = false;
        let mut handing_over = false;
        let outcome = loop {
            tokio::select! {
                result = &mut pipeline => break Some(result),
                loss = election.lost() => {
                    // Dropping the pipeline future aborts every stage: nothing more is published.
                    tracing::warn!(destination = %name, reason = %loss, "leadership lost: stopped publishing");
                    status.set_error(Some(format!("leadership lost: {loss}")));
                    break None;
                }
                _ = stopped(shutdown), if !stopping => {
                    stopping = true;
                    let _ = stop_tx.send(true);
                }
                _ = handover.notified(), if !stopping => {
                    tracing::info!(destination = %name, "handing the destination over to another server");
                    stopping = true;
                    handing_over = true;
                    let _ = stop_tx.send(true);
                }
            }
        };
        let Some(outcome) = outcome else {
            status.set_role(Role::Standby, None);
            return Ok(TermEnd::Campaign { cooldown: Duration::ZERO });
        };
        let shutting_down = *shutdown.borrow();
        match outcome {
            Ok(()) if shutting_down || handing_over => {
                // Never report leading once another server may: step down before releasing.
                status.set_role(Role::Standby, None);
                if let Err(e) = election.resign().await {
                    tracing::warn!(destination = %name, error = %e, "could not release leadership; it ends with the session");
                }
                return Ok(if shutting_down { TermEnd::Stopped } else { TermEnd::Campaign { cooldown } });
            }
            // The source ended without an error (it only does when asked to stop): restart.
            Ok(()) => {}
            Err(e) if e.is_fenced() => {
                tracing::warn!(destination = %name, error = %e, "another writer owns the destination: standing down");
                status.set_error(Some(e.to_string()));
                status.set_role(Role::Standby, None);
                return Ok(TermEnd::Campaign { cooldown: Duration::ZERO });
            }
            Err(e) if e.is_transient() => {
                status.add(&status.metrics.restarts_total, 1);
                status.set_error(Some(e.to_string()));
                let lasted = started.elapsed();
                if matches!(e, PipelineError::Source(_)) && lasted < Duration::from_secs(60) {
                    source_failures += 1;
                } else {
                    source_failures = 0;
                }
                let release_after = server.cluster.release_after_source_failures;
                if release_after > 0 && source_failures >= release_after {
                    tracing::warn!(destination = %name, failures = source_failures, error = %e,
                        "the source keeps failing from this server: releasing leadership so another server can try");
                    status.set_role(Role::Standby, None);
                    let _ = election.resign().await;
                    return Ok(TermEnd::Campaign { cooldown });
                }
                let wait = backoff.after_run(lasted);
                tracing::warn!(destination = %name, error = %e, retry_in = ?wait, "pipeline stopped; restarting from the committed cursor");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    loss = election.lost() => {
                        status.set_role(Role::Standby, None);
                        tracing::warn!(destination = %name, reason = %loss, "leadership lost while waiting to restart");
                        return Ok(TermEnd::Campaign { cooldown: Duration::ZERO });
                    }
                    _ = stopped(shutdown) => {
                        let _ = election.resign().await;
                        return Ok(TermEnd::Stopped);
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
