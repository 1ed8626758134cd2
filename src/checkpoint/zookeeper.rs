//! The cursor in ZooKeeper, written with compare-and-set on the node version so a writer that is
//! no longer the leader cannot overwrite its successor's position (invariant 3).

use zookeeper_client as zk;

use super::CheckpointError;
use super::cursor::Cursor;
use crate::cluster::zk::{ZkError, mkdirs};

pub struct ZkCursorStore {
    client: zk::Client,
    path: String,
    /// `host:port` of the source server, written into the cursor as Canal does.
    source_address: String,
    /// Version of the node as last read or written; `None` = the node did not exist.
    version: Option<i32>,
}

impl ZkCursorStore {
    pub fn new(client: zk::Client, path: String, source_address: String) -> Self {
        Self { client, path, source_address, version: None }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Read the cursor and remember its version for the next write.
    pub async fn load(&mut self) -> Result<Option<Cursor>, CheckpointError> {
        match self.client.get_data(&self.path).await {
            Ok((data, stat)) => {
                self.version = Some(stat.version);
                if data.is_empty() {
                    return Ok(None);
                }
                Cursor::from_json(&data)
                    .map(Some)
                    .map_err(|e| CheckpointError::Corrupt { path: self.path.clone(), reason: e.to_string() })
            }
            Err(zk::Error::NoNode) => {
                self.version = None;
                Ok(None)
            }
            Err(e) => Err(ZkError::op("read", &self.path, e).into()),
        }
    }

    /// Write the cursor if nobody else changed it since we last read or wrote it.
    pub async fn store(&mut self, cursor: &Cursor) -> Result<(), CheckpointError> {
        let data = cursor.to_json(&self.source_address);
        match self.version {
            Some(version) => match self.client.set_data(&self.path, &data, Some(version)).await {
                Ok(stat) => {
                    self.version = Some(stat.version);
                    Ok(())
                }
                Err(zk::Error::BadVersion | zk::Error::NoNode) => {
                    Err(CheckpointError::Conflict { path: self.path.clone() })
                }
                Err(e) => Err(ZkError::op("write", &self.path, e).into()),
            },
            None => {
                if let Some((parent, _)) = self.path.rsplit_once('/') {
                    mkdirs(&self.client, parent).await?;
                }
                let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
                match self.client.create(&self.path, &data, &options).await {
                    Ok((stat, _)) => {
                        self.version = Some(stat.version);
                        Ok(())
                    }
                    Err(zk::Error::NodeExists) => Err(CheckpointError::Conflict { path: self.path.clone() }),
                    Err(e) => Err(ZkError::op("create", &self.path, e).into()),
                }
            }
        }
    }
}
