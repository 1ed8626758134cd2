//! `sluice cluster status`: the cluster as ZooKeeper records it — live servers, and per destination
//! its leader, the servers able to run it, the committed position and its age.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use zookeeper_client as zk;

use crate::checkpoint::Cursor;
use crate::cluster::{Election, ZkError, ZkPaths, balance};
use crate::config::LoadedConfig;

#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    pub servers: Vec<String>,
    pub destinations: Vec<DestinationStatus>,
}

#[derive(Debug, Serialize)]
pub struct DestinationStatus {
    pub name: String,
    pub leader: Option<String>,
    pub candidates: Vec<String>,
    pub position: Option<String>,
    pub gtid_set: Option<String>,
    /// Seconds since the event time of the committed position.
    pub lag_seconds: Option<f64>,
}

/// Read the status of every destination under the root (not only the configured ones).
pub async fn status(config: &LoadedConfig) -> Result<ClusterStatus, ZkError> {
    let zk = &config.server.zookeeper;
    let client = crate::cluster::zk::connect(&zk.servers, Duration::from_millis(zk.session_timeout_ms)).await?;
    let paths = ZkPaths::new(&zk.root);
    let mut servers = children(&client, &paths.cluster_dir()).await?;
    servers.sort();
    let mut names = children(&client, &paths.destinations_dir()).await?;
    names.sort();
    let views = balance::read_views(&client, &paths, &names).await?;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut destinations = Vec::with_capacity(names.len());
    for name in names {
        let cursor_path = paths.cursor(&name);
        let cursor = match client.get_data(&cursor_path).await {
            Ok((data, _)) => Cursor::from_json(&data).ok(),
            Err(zk::Error::NoNode) => None,
            Err(e) => return Err(ZkError::op("read", &cursor_path, e)),
        };
        let view = views.get(&name);
        let mut candidates: Vec<String> =
            view.map(|v| v.candidates.iter().map(|c| c.address.clone()).collect()).unwrap_or_default();
        candidates.sort();
        destinations.push(DestinationStatus {
            leader: match view {
                Some(v) => v.leader.clone(),
                None => Election::leader(&client, &paths, &name).await?,
            },
            candidates,
            position: cursor.as_ref().map(|c| c.position.binlog.to_string()),
            gtid_set: cursor.as_ref().map(|c| c.position.gtid_set.to_string()).filter(|s| !s.is_empty()),
            lag_seconds: cursor.as_ref().map(|c| now_ms.saturating_sub(c.position.timestamp_ms) as f64 / 1000.0),
            name,
        });
    }
    Ok(ClusterStatus { servers, destinations })
}

async fn children(client: &zk::Client, path: &str) -> Result<Vec<String>, ZkError> {
    match client.list_children(path).await {
        Ok(names) => Ok(names),
        Err(zk::Error::NoNode) => Ok(Vec::new()),
        Err(e) => Err(ZkError::op("list", path, e)),
    }
}

impl std::fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "servers ({}): {}", self.servers.len(), self.servers.join(", "))?;
        writeln!(f, "{:<24} {:<22} {:<34} {:>9}  candidates", "destination", "leader", "position", "lag (s)")?;
        for d in &self.destinations {
            writeln!(
                f,
                "{:<24} {:<22} {:<34} {:>9}  {}",
                d.name,
                d.leader.as_deref().unwrap_or("(none)"),
                d.position.as_deref().unwrap_or("(none)"),
                d.lag_seconds.map_or_else(|| "-".into(), |l| format!("{l:.1}")),
                d.candidates.join(", ")
            )?;
        }
        Ok(())
    }
}
