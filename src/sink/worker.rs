//! An ordered batch worker for sinks whose client sends asynchronously (RabbitMQ, RocketMQ).
//!
//! [`Publisher::publish`](super::Publisher::publish) is called in pipeline order, but the futures
//! it returns are polled in any order: a sink that sent from inside those futures could interleave
//! two batches and break per-key order. Here `publish` only enqueues the batch; one task sends
//! batches strictly in order and hands each batch's confirmation to its own waiter, so sending the
//! next batch overlaps with waiting for the broker to confirm the previous one.
//!
//! # Invariants
//! - Batches are sent in the order they were enqueued, messages of a batch in batch order.
//! - After a batch fails to send, no later batch is sent: every one fails with the same error, so
//!   the pipeline restarts from the committed cursor without a gap.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::{PublishError, PublishFuture};
use crate::encode::Batch;

/// Sends one batch; resolves once it is handed to the broker, to a future that resolves when the
/// broker confirmed all of it.
pub trait BatchSender: Send + 'static {
    fn send(&mut self, batch: Batch) -> impl Future<Output = Result<PublishFuture, PublishError>> + Send;
}

struct Job {
    batch: Batch,
    done: oneshot::Sender<Result<u64, PublishError>>,
}

pub struct OrderedWorker {
    jobs: mpsc::Sender<Job>,
    /// The first send error, reported for batches enqueued after the worker stopped.
    failed: Arc<Mutex<Option<String>>>,
}

impl OrderedWorker {
    /// Start the worker. `capacity` must be at least the sink's `max_in_flight`, so enqueueing
    /// never waits.
    pub fn spawn(sender: impl BatchSender, capacity: usize) -> Self {
        let (jobs, rx) = mpsc::channel(capacity.max(1));
        let failed = Arc::new(Mutex::new(None));
        tokio::spawn(run(sender, rx, Arc::clone(&failed)));
        Self { jobs, failed }
    }

    pub fn publish(&self, batch: Batch) -> PublishFuture {
        let (done, result) = oneshot::channel();
        let id = batch.id;
        if let Err(e) = self.jobs.try_send(Job { batch, done }) {
            let reason = self.failed.lock().expect("never poisoned").clone();
            let message = match (e, reason) {
                (_, Some(reason)) => reason,
                (mpsc::error::TrySendError::Full(_), None) => "more batches in flight than the sink allows".into(),
                (mpsc::error::TrySendError::Closed(_), None) => "the sink's sender stopped".into(),
            };
            return Box::pin(std::future::ready(Err(PublishError::Transient(message))));
        }
        Box::pin(async move {
            result
                .await
                .unwrap_or_else(|_| Err(PublishError::Transient(format!("batch {id}: the sink's sender stopped"))))
        })
    }
}

async fn run(mut sender: impl BatchSender, mut jobs: mpsc::Receiver<Job>, failed: Arc<Mutex<Option<String>>>) {
    while let Some(job) = jobs.recv().await {
        let id = job.batch.id;
        match sender.send(job.batch).await {
            Ok(confirmed) => {
                tokio::spawn(async move {
                    let _ = job.done.send(confirmed.await.map(|_| id));
                });
            }
            Err(e) => {
                *failed.lock().expect("never poisoned") = Some(format!("an earlier batch failed: {e}"));
                let _ = job.done.send(Err(e));
                break;
            }
        }
    }
    // Fail what is still queued; dropping `jobs` makes later enqueues fail at once.
    jobs.close();
    while let Some(job) = jobs.recv().await {
        let reason = failed.lock().expect("never poisoned").clone().unwrap_or_default();
        let _ = job.done.send(Err(PublishError::Transient(reason)));
    }
}
