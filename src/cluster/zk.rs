//! ZooKeeper connection and Canal's node layout.
//!
//! Under a configurable root (default `/otter/canal`):
//! - `/cluster/{ip:port}` ephemeral: a live server;
//! - `/destinations/{d}/running` ephemeral: `{"active":true,"address":"ip:port"}` of the leader;
//! - `/destinations/{d}/cluster/{ip:port}` ephemeral: servers able to run `d`;
//! - `/destinations/{d}/1001/cursor`: the committed position (see [`crate::checkpoint::cursor`]);
//! - `/destinations/{d}/1001/schema_history/record-…`: Sluice's schema history journal (see
//!   [`crate::checkpoint::schema_history`]).

use std::time::Duration;

use zookeeper_client as zk;

#[derive(Debug, thiserror::Error)]
pub enum ZkError {
    #[error("cannot reach ZooKeeper at {servers}: {source}")]
    Connect {
        servers: String,
        #[source]
        source: zk::Error,
    },
    #[error("ZooKeeper {operation} {path}: {source}")]
    Operation {
        operation: &'static str,
        path: String,
        #[source]
        source: zk::Error,
    },
}

impl ZkError {
    pub fn op(operation: &'static str, path: &str, source: zk::Error) -> Self {
        Self::Operation { operation, path: path.to_owned(), source }
    }

    /// The session is gone: whatever this process held in ZooKeeper is lost.
    pub fn is_session_lost(&self) -> bool {
        matches!(self, Self::Operation { source: zk::Error::SessionExpired | zk::Error::ClientClosed, .. })
    }
}

/// Connect, creating the chroot (`host:port,host:port/chroot`) if it does not exist.
pub async fn connect(servers: &str, session_timeout: Duration) -> Result<zk::Client, ZkError> {
    let (hosts, chroot) = match servers.find('/') {
        Some(i) => (&servers[..i], Some(servers[i..].trim_end_matches('/'))),
        None => (servers, None),
    };
    let connect_err = |source| ZkError::Connect { servers: servers.to_owned(), source };
    let client = zk::Client::connector()
        .session_timeout(session_timeout)
        .connection_timeout(Duration::from_secs(5).min(session_timeout))
        .fail_eagerly()
        .connect(hosts)
        .await
        .map_err(connect_err)?;
    match chroot {
        Some(chroot) if !chroot.is_empty() => {
            mkdirs(&client, chroot).await?;
            client.chroot(chroot.to_owned()).map_err(|_| connect_err(zk::Error::BadArguments(&"invalid chroot path")))
        }
        _ => Ok(client),
    }
}

/// `mkdir -p` with persistent nodes.
pub async fn mkdirs(client: &zk::Client, path: &str) -> Result<(), ZkError> {
    let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    client.mkdir(path, &options).await.map_err(|e| ZkError::op("create", path, e))
}

/// Canal's paths under the root.
#[derive(Debug, Clone)]
pub struct ZkPaths {
    root: String,
}

/// Canal's fixed client id: cursors live under `/destinations/{d}/1001`.
const CLIENT_ID: &str = "1001";

impl ZkPaths {
    pub fn new(root: &str) -> Self {
        let root = format!("/{}", root.trim_matches('/'));
        Self { root: if root == "/" { String::new() } else { root } }
    }

    pub fn cluster_dir(&self) -> String {
        format!("{}/cluster", self.root)
    }

    pub fn server(&self, address: &str) -> String {
        format!("{}/cluster/{address}", self.root)
    }

    pub fn destinations_dir(&self) -> String {
        format!("{}/destinations", self.root)
    }

    pub fn destination(&self, destination: &str) -> String {
        format!("{}/destinations/{destination}", self.root)
    }

    pub fn running(&self, destination: &str) -> String {
        format!("{}/running", self.destination(destination))
    }

    pub fn destination_cluster_dir(&self, destination: &str) -> String {
        format!("{}/cluster", self.destination(destination))
    }

    pub fn destination_server(&self, destination: &str, address: &str) -> String {
        format!("{}/cluster/{address}", self.destination(destination))
    }

    pub fn cursor(&self, destination: &str) -> String {
        format!("{}/{CLIENT_ID}/cursor", self.destination(destination))
    }

    /// Sluice's own: the schema history journal, beside the cursor (Canal ignores it).
    pub fn schema_history(&self, destination: &str) -> String {
        format!("{}/{CLIENT_ID}/schema_history", self.destination(destination))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canal_layout() {
        let p = ZkPaths::new("/otter/canal/");
        assert_eq!(p.running("demo"), "/otter/canal/destinations/demo/running");
        assert_eq!(p.cursor("demo"), "/otter/canal/destinations/demo/1001/cursor");
        assert_eq!(p.server("10.0.0.1:11111"), "/otter/canal/cluster/10.0.0.1:11111");
        assert_eq!(p.destination_server("d", "h:1"), "/otter/canal/destinations/d/cluster/h:1");
        assert_eq!(ZkPaths::new("/").cursor("d"), "/destinations/d/1001/cursor");
    }
}
