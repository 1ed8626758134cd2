//! `sluice positions show|reset`: read or delete destinations' committed cursors in ZooKeeper.

use std::time::Duration;

use zookeeper_client as zk;

use crate::checkpoint::{Cursor, ZkCursorStore};
use crate::cluster::{Election, ZkError, ZkPaths};
use crate::config::LoadedConfig;

#[derive(Debug, thiserror::Error)]
pub enum PositionsError {
    #[error(transparent)]
    Zk(#[from] ZkError),
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    #[error("no destination named '{0}' in the configuration")]
    UnknownDestination(String),
    #[error("destination {destination} is running on {leader}: stop it before resetting its cursor")]
    Running { destination: String, leader: String },
}

async fn client(config: &LoadedConfig) -> Result<zk::Client, ZkError> {
    crate::cluster::zk::connect(
        &config.server.zookeeper.servers,
        Duration::from_millis(config.server.zookeeper.session_timeout_ms),
    )
    .await
}

/// `(destination, cursor)` for each destination, `None` where nothing is committed.
pub async fn show(config: &LoadedConfig) -> Result<Vec<(String, Option<Cursor>)>, PositionsError> {
    let client = client(config).await?;
    let paths = ZkPaths::new(&config.server.zookeeper.root);
    let mut out = Vec::new();
    for d in &config.destinations {
        let mut store = ZkCursorStore::new(client.clone(), paths.cursor(&d.name), d.config.source.address.clone());
        out.push((d.name.clone(), store.load().await?));
    }
    Ok(out)
}

/// Delete a destination's cursor so it starts from its configured (or the current) position.
pub async fn reset(config: &LoadedConfig, destination: &str) -> Result<bool, PositionsError> {
    if !config.destinations.iter().any(|d| d.name == destination) {
        return Err(PositionsError::UnknownDestination(destination.to_owned()));
    }
    let client = client(config).await?;
    let paths = ZkPaths::new(&config.server.zookeeper.root);
    if let Some(leader) = Election::leader(&client, &paths, destination).await? {
        return Err(PositionsError::Running { destination: destination.to_owned(), leader });
    }
    let path = paths.cursor(destination);
    match client.delete(&path, None).await {
        Ok(()) => Ok(true),
        Err(zk::Error::NoNode) => Ok(false),
        Err(e) => Err(ZkError::op("delete", &path, e).into()),
    }
}
