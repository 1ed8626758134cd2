//! Cluster mode through ZooKeeper: server registry, one leader per destination, and the
//! Canal-compatible node layout ([`zk::ZkPaths`]).

pub mod balance;
pub mod election;
pub mod zk;

pub use election::{Election, LeadershipLoss};
pub use zk::{ZkError, ZkPaths};

use zookeeper_client as zk_client;

/// Announce a live server at `/cluster/{address}` (ephemeral: it goes when the session does).
pub async fn register_server(client: &zk_client::Client, paths: &ZkPaths, address: &str) -> Result<(), ZkError> {
    zk::mkdirs(client, &paths.cluster_dir()).await?;
    zk::mkdirs(client, &paths.destinations_dir()).await?;
    election::create_ephemeral(client, &paths.server(address), b"").await
}
