//! The server file (`config/sluice.toml`): ZooKeeper, this server's identity, the admin port, and
//! defaults every destination inherits.

use serde::{Deserialize, Serialize};

use crate::sink::kafka::KafkaSinkConfig;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub zookeeper: ZookeeperConfig,
    /// Sink settings destinations inherit unless they set their own.
    #[serde(default)]
    pub defaults: DefaultsConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// `ip:port` this server registers as in ZooKeeper (`/cluster/{address}`, the `running` node).
    /// Default: `127.0.0.1:{admin_port}`. Must be unique per server.
    #[serde(default)]
    pub address: Option<String>,
    /// HTTP port for `/metrics`, `/health` and `/status`, on 127.0.0.1 unless `admin_bind` says
    /// otherwise; 0 disables the admin server.
    #[serde(default = "default_admin_port")]
    pub admin_port: u16,
    /// Address the admin server binds to.
    #[serde(default = "default_admin_bind")]
    pub admin_bind: String,
    /// Directory of destination files, relative to the server file.
    #[serde(default = "default_destinations_dir")]
    pub destinations_dir: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            address: None,
            admin_port: default_admin_port(),
            admin_bind: default_admin_bind(),
            destinations_dir: default_destinations_dir(),
        }
    }
}

impl ServerSection {
    pub fn address(&self) -> String {
        self.address.clone().unwrap_or_else(|| format!("127.0.0.1:{}", self.admin_port))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZookeeperConfig {
    /// Ensemble, `host:port[,host:port…][/chroot]`; a missing chroot is created.
    #[serde(default = "default_zk_servers")]
    pub servers: String,
    /// Root of Canal's layout.
    #[serde(default = "default_zk_root")]
    pub root: String,
    /// Session timeout: a leader that dies is replaced after about this long.
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u64,
}

impl Default for ZookeeperConfig {
    fn default() -> Self {
        Self {
            servers: default_zk_servers(),
            root: default_zk_root(),
            session_timeout_ms: default_session_timeout_ms(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsConfig {
    #[serde(default)]
    pub kafka: Option<KafkaSinkConfig>,
}

const fn default_admin_port() -> u16 {
    11112
}
fn default_admin_bind() -> String {
    "127.0.0.1".into()
}
fn default_destinations_dir() -> String {
    "destinations".into()
}
fn default_zk_servers() -> String {
    "127.0.0.1:2181".into()
}
fn default_zk_root() -> String {
    "/otter/canal".into()
}
const fn default_session_timeout_ms() -> u64 {
    10_000
}
