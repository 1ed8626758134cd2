//! Checkpointing: deciding which position is safe to commit ([`tracker`], invariant 1) and
//! storing it ([`zookeeper`], compare-and-set, invariant 3) in Canal's format ([`cursor`]), and
//! the schema history journal stored beside it ([`schema_history`]).

pub mod cursor;
pub mod schema_history;
pub mod tracker;
pub mod zookeeper;

pub use cursor::Cursor;
pub use schema_history::ZkSchemaHistory;
pub use tracker::AckTracker;
pub use zookeeper::ZkCursorStore;

use crate::cluster::ZkError;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Zk(#[from] ZkError),
    #[error(
        "the cursor at {path} was changed by another writer: this server is no longer the destination's \
         only writer, so it stops"
    )]
    Conflict { path: String },
    #[error("the cursor at {path} cannot be read: {reason}; fix or delete the node (sluice positions reset)")]
    Corrupt { path: String, reason: String },
    #[error(
        "the schema history at {path} cannot be used: {reason}; delete it (zkCli.sh deleteall {path}) and \
         the history starts again from information_schema"
    )]
    HistoryCorrupt { path: String, reason: String },
    #[error(
        "{what} is {bytes} bytes, over ZooKeeper's node size limit (1 MB, jute.maxbuffer); it cannot be stored at {path}"
    )]
    TooLarge { path: String, what: String, bytes: usize },
}
