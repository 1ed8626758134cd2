//! Leader election per destination, Canal-style: every server able to run a destination registers
//! under `/destinations/{d}/cluster/` and tries to create the ephemeral `/destinations/{d}/running`
//! node; whoever creates it runs the destination, the others watch it and try again when it goes.
//!
//! # Invariants
//! - This server acts as leader only while `running` exists *and* is owned by its own session.
//! - Leadership is considered lost the moment the session is disconnected (not only when it
//!   expires): a disconnected leader cannot know whether ZooKeeper has already expired it and
//!   let a standby win, so it stops publishing at once and re-checks after reconnecting.
//! - A `running` node left by a previous session of the same address (a crashed process) is not
//!   deleted: it disappears when that session expires, so a paused zombie cannot come back to a
//!   destination someone else runs.

use std::time::Duration;

use zookeeper_client as zk;

use super::zk::{ZkError, ZkPaths, mkdirs};

/// Content of the `running` node, as Canal writes it.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RunningData {
    pub active: bool,
    pub address: String,
}

/// Content of a candidate node `/destinations/{d}/cluster/{address}` (Canal leaves it empty and
/// ignores it).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct CandidateData {
    /// This server prefers to run the destination (`cluster.prefer`).
    #[serde(default)]
    pub prefer: bool,
}

#[derive(Debug, Clone)]
pub struct Election {
    client: zk::Client,
    paths: ZkPaths,
    destination: String,
    address: String,
    prefer: bool,
}

/// Why leadership ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadershipLoss {
    Disconnected,
    SessionEnded,
    NodeGone,
}

impl std::fmt::Display for LeadershipLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Disconnected => "the ZooKeeper connection was interrupted",
            Self::SessionEnded => "the ZooKeeper session ended",
            Self::NodeGone => "the running node was removed or taken over",
        })
    }
}

impl Election {
    pub fn new(client: zk::Client, paths: ZkPaths, destination: &str, address: &str, prefer: bool) -> Self {
        Self { client, paths, destination: destination.to_owned(), address: address.to_owned(), prefer }
    }

    fn session(&self) -> i64 {
        self.client.session_id().0
    }

    /// Register as a candidate and wait until this server holds `running`.
    pub async fn campaign(&self) -> Result<(), ZkError> {
        let dir = self.paths.destination_cluster_dir(&self.destination);
        mkdirs(&self.client, &dir).await?;
        let candidate = self.paths.destination_server(&self.destination, &self.address);
        let data = serde_json::to_vec(&CandidateData { prefer: self.prefer }).expect("serializing cannot fail");
        create_ephemeral(&self.client, &candidate, &data).await?;
        let running = self.paths.running(&self.destination);
        let data = serde_json::to_vec(&RunningData { active: true, address: self.address.clone() })
            .expect("serializing RunningData cannot fail");
        loop {
            let options = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
            match self.client.create(&running, &data, &options).await {
                Ok(_) => return Ok(()),
                Err(zk::Error::NodeExists) => {}
                Err(e) => return Err(ZkError::op("create", &running, e)),
            }
            match self.client.check_and_watch_stat(&running).await {
                Ok((Some(stat), _)) if stat.ephemeral_owner == self.session() => return Ok(()),
                Ok((Some(_), watcher)) => {
                    tracing::debug!(destination = %self.destination, "standing by: another server runs the destination");
                    let event = watcher.changed().await;
                    if event.session_state.is_terminated() {
                        return Err(ZkError::op("watch", &running, zk::Error::SessionExpired));
                    }
                }
                Ok((None, _)) => {} // gone between create and check: try again
                Err(e) => return Err(ZkError::op("watch", &running, e)),
            }
        }
    }

    /// Resolves when leadership can no longer be trusted.
    pub async fn lost(&self) -> LeadershipLoss {
        let running = self.paths.running(&self.destination);
        let mut state = self.client.state_watcher();
        loop {
            let watcher = match self.client.check_and_watch_stat(&running).await {
                Ok((Some(stat), watcher)) if stat.ephemeral_owner == self.session() => watcher,
                Ok(_) => return LeadershipLoss::NodeGone,
                Err(zk::Error::ConnectionLoss | zk::Error::Timeout) => return LeadershipLoss::Disconnected,
                Err(_) => return LeadershipLoss::SessionEnded,
            };
            tokio::select! {
                event = watcher.changed() => {
                    if event.session_state.is_terminated() {
                        return LeadershipLoss::SessionEnded;
                    }
                }
                new_state = state.changed() => match new_state {
                    zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {}
                    zk::SessionState::Disconnected => return LeadershipLoss::Disconnected,
                    _ => return LeadershipLoss::SessionEnded,
                },
            }
        }
    }

    /// Give up `running` (graceful shutdown) so a standby takes over without waiting for the
    /// session to expire. Only deletes the node if this session owns it.
    pub async fn resign(&self) -> Result<(), ZkError> {
        let running = self.paths.running(&self.destination);
        match self.client.check_stat(&running).await {
            Ok(Some(stat)) if stat.ephemeral_owner == self.session() => {
                match self.client.delete(&running, Some(stat.version)).await {
                    Ok(()) | Err(zk::Error::NoNode) => Ok(()),
                    Err(e) => Err(ZkError::op("delete", &running, e)),
                }
            }
            Ok(_) => Ok(()),
            Err(e) => Err(ZkError::op("read", &running, e)),
        }
    }

    /// The leader's address, if any.
    pub async fn leader(client: &zk::Client, paths: &ZkPaths, destination: &str) -> Result<Option<String>, ZkError> {
        let running = paths.running(destination);
        match client.get_data(&running).await {
            Ok((data, _)) => Ok(serde_json::from_slice::<RunningData>(&data).ok().map(|d| d.address)),
            Err(zk::Error::NoNode) => Ok(None),
            Err(e) => Err(ZkError::op("read", &running, e)),
        }
    }
}

/// Create an ephemeral node owned by this session, replacing one left by an older session of
/// the same server (candidate registrations carry no authority, unlike `running`).
pub async fn create_ephemeral(client: &zk::Client, path: &str, data: &[u8]) -> Result<(), ZkError> {
    let options = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    for _ in 0..3 {
        match client.create(path, data, &options).await {
            Ok(_) => return Ok(()),
            Err(zk::Error::NodeExists) => match client.check_stat(path).await {
                Ok(Some(stat)) if stat.ephemeral_owner == client.session_id().0 => return Ok(()),
                Ok(Some(stat)) => match client.delete(path, Some(stat.version)).await {
                    Ok(()) | Err(zk::Error::NoNode) | Err(zk::Error::BadVersion) => {}
                    Err(e) => return Err(ZkError::op("delete", path, e)),
                },
                Ok(None) => {}
                Err(e) => return Err(ZkError::op("read", path, e)),
            },
            Err(e) => return Err(ZkError::op("create", path, e)),
        }
    }
    Err(ZkError::op("create", path, zk::Error::NodeExists))
}

/// Session timeout used when none is configured.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);
