//! The ordered acknowledgement tracker: the one place that decides which position may be
//! committed (invariant 1).
//!
//! Batches are registered in pipeline order. The broker may acknowledge them in any order; the
//! committable position is the commit of the newest batch such that it and *every batch before it*
//! are acknowledged. A batch without a commit (a middle chunk of a huge transaction) moves nothing
//! but still has to be acknowledged before later batches count.

use std::collections::VecDeque;

use crate::event::Position;

#[derive(Debug)]
struct Pending {
    batch_id: u64,
    commit: Option<Position>,
    acked: bool,
}

#[derive(Debug, Default)]
pub struct AckTracker {
    /// Registered, not yet committable batches, oldest first.
    pending: VecDeque<Pending>,
    /// Committable position not yet taken by the cursor writer, with its batch id.
    ready: Option<(u64, Position)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrackerError {
    #[error("batch {0} was acknowledged but never registered")]
    UnknownBatch(u64),
    #[error("batch {registered} registered after batch {last}: batches must be registered in order")]
    OutOfOrder { registered: u64, last: u64 },
}

impl AckTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Record a batch about to be published, in pipeline order.
    pub fn register(&mut self, batch_id: u64, commit: Option<Position>) -> Result<(), TrackerError> {
        if let Some(last) = self.pending.back()
            && batch_id <= last.batch_id
        {
            return Err(TrackerError::OutOfOrder { registered: batch_id, last: last.batch_id });
        }
        self.pending.push_back(Pending { batch_id, commit, acked: false });
        Ok(())
    }

    /// Record that the broker acknowledged every message of a batch.
    pub fn ack(&mut self, batch_id: u64) -> Result<(), TrackerError> {
        let entry =
            self.pending.iter_mut().find(|p| p.batch_id == batch_id).ok_or(TrackerError::UnknownBatch(batch_id))?;
        entry.acked = true;
        while self.pending.front().is_some_and(|p| p.acked) {
            let done = self.pending.pop_front().expect("front exists");
            if let Some(position) = done.commit {
                self.ready = Some((done.batch_id, position));
            }
        }
        Ok(())
    }

    /// The newest committable position (and its batch id), once.
    pub fn take_committable(&mut self) -> Option<(u64, Position)> {
        self.ready.take()
    }

    /// Batches registered and not yet committable.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{BinlogPosition, GtidSet};

    fn pos(offset: u64) -> Position {
        Position {
            binlog: BinlogPosition::new("f", offset),
            gtid_set: GtidSet::Empty,
            last_gtid: None,
            server_id: 1,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn in_order_acks_commit_each_batch() {
        let mut t = AckTracker::new();
        t.register(1, Some(pos(100))).unwrap();
        t.register(2, Some(pos(200))).unwrap();
        t.ack(1).unwrap();
        assert_eq!(t.take_committable(), Some((1, pos(100))));
        assert_eq!(t.take_committable(), None);
        t.ack(2).unwrap();
        assert_eq!(t.take_committable(), Some((2, pos(200))));
    }

    #[test]
    fn out_of_order_acks_wait_for_the_gap() {
        let mut t = AckTracker::new();
        for (id, offset) in [(1, 100), (2, 200), (3, 300)] {
            t.register(id, Some(pos(offset))).unwrap();
        }
        t.ack(3).unwrap();
        t.ack(2).unwrap();
        assert_eq!(t.take_committable(), None, "batch 1 is not acknowledged yet");
        t.ack(1).unwrap();
        assert_eq!(t.take_committable(), Some((3, pos(300))), "the whole prefix is done: jump to the newest");
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn batches_without_commit_block_but_do_not_move() {
        let mut t = AckTracker::new();
        t.register(1, None).unwrap(); // first chunk of a huge transaction
        t.register(2, None).unwrap();
        t.register(3, Some(pos(900))).unwrap(); // its last chunk
        t.ack(1).unwrap();
        assert_eq!(t.take_committable(), None);
        t.ack(3).unwrap();
        assert_eq!(t.take_committable(), None, "chunk 2 is still unacknowledged");
        t.ack(2).unwrap();
        assert_eq!(t.take_committable(), Some((3, pos(900))));
    }

    #[test]
    fn a_failed_batch_never_lets_later_ones_commit() {
        let mut t = AckTracker::new();
        t.register(1, Some(pos(100))).unwrap();
        t.register(2, Some(pos(200))).unwrap();
        t.ack(2).unwrap();
        // batch 1 fails and is never acked
        assert_eq!(t.take_committable(), None);
    }

    #[test]
    fn misuse_is_reported() {
        let mut t = AckTracker::new();
        t.register(5, None).unwrap();
        assert_eq!(t.register(5, None), Err(TrackerError::OutOfOrder { registered: 5, last: 5 }));
        assert_eq!(t.ack(9), Err(TrackerError::UnknownBatch(9)));
    }
}
