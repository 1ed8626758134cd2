//! What a destination is doing, shared with the admin server: role, leader, committed position,
//! last error, and counters for `/metrics`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::event::Position;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Connecting to ZooKeeper / campaigning.
    Starting,
    /// Another server runs the destination; this one waits.
    Standby,
    /// This server runs the destination.
    Leader,
    /// Stopped on a definite error (see `last_error`).
    Failed,
    Stopped,
}

/// Counters per destination. Names carry their unit; all only increase.
#[derive(Debug, Default)]
pub struct DestinationMetrics {
    pub events_total: AtomicU64,
    pub binlog_bytes_total: AtomicU64,
    pub rows_total: AtomicU64,
    pub batches_total: AtomicU64,
    pub messages_total: AtomicU64,
    pub message_bytes_total: AtomicU64,
    pub publish_seconds_sum_micros: AtomicU64,
    pub restarts_total: AtomicU64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusSnapshot {
    pub destination: String,
    pub role: Option<Role>,
    pub leader: Option<String>,
    pub position: Option<String>,
    pub gtid_set: Option<String>,
    /// Seconds between now and the event time of the committed position.
    pub lag_seconds: Option<f64>,
    pub last_error: Option<String>,
}

#[derive(Debug)]
pub struct DestinationStatus {
    pub name: String,
    pub metrics: DestinationMetrics,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    role: Role,
    leader: Option<String>,
    committed: Option<Position>,
    last_error: Option<String>,
}

impl DestinationStatus {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            metrics: DestinationMetrics::default(),
            inner: Mutex::new(Inner { role: Role::Starting, leader: None, committed: None, last_error: None }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // A panic elsewhere never leaves this state half-written: every update is one assignment.
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut inner)
    }

    pub fn set_role(&self, role: Role, leader: Option<String>) {
        self.with(|i| {
            i.role = role;
            i.leader = leader;
        });
    }

    pub fn set_committed(&self, position: Position) {
        self.with(|i| i.committed = Some(position));
    }

    pub fn set_error(&self, error: Option<String>) {
        self.with(|i| i.last_error = error);
    }

    pub fn role(&self) -> Role {
        self.with(|i| i.role)
    }

    pub fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatusSnapshot {
        self.with(|i| StatusSnapshot {
            destination: self.name.clone(),
            role: Some(i.role),
            leader: i.leader.clone(),
            position: i.committed.as_ref().map(|p| p.binlog.to_string()),
            gtid_set: i.committed.as_ref().map(|p| p.gtid_set.to_string()).filter(|s| !s.is_empty()),
            lag_seconds: i.committed.as_ref().map(|p| {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
                now.saturating_sub(p.timestamp_ms) as f64 / 1000.0
            }),
            last_error: i.last_error.clone(),
        })
    }
}
