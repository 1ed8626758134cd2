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
    #[serde(default)]
    pub cluster: ClusterConfig,
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

/// How servers share destinations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Spread destinations over the live servers: a server leading more destinations than another
    /// candidate hands one over (gracefully: flush, commit, release) every `balance_interval_ms`.
    #[serde(default = "default_true")]
    pub balance: bool,
    #[serde(default = "default_balance_interval_ms")]
    pub balance_interval_ms: u64,
    /// After handing a destination over, wait this long before campaigning for it again.
    #[serde(default = "default_handover_cooldown_ms")]
    pub handover_cooldown_ms: u64,
    /// Destinations this server prefers to run: it campaigns for them without delay, a leader that
    /// does not prefer them hands them over to it, and balancing never moves them away from it.
    #[serde(default)]
    pub prefer: Vec<String>,
    /// Release leadership after this many consecutive failures to reach the source database, so a
    /// server with a healthier path can take over (0: never).
    #[serde(default = "default_release_after_source_failures")]
    pub release_after_source_failures: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            balance: true,
            balance_interval_ms: default_balance_interval_ms(),
            handover_cooldown_ms: default_handover_cooldown_ms(),
            prefer: Vec::new(),
            release_after_source_failures: default_release_after_source_failures(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsConfig {
    #[serde(default)]
    pub kafka: Option<KafkaSinkConfig>,
}

const fn default_true() -> bool {
    true
}
const fn default_balance_interval_ms() -> u64 {
    5_000
}
const fn default_handover_cooldown_ms() -> u64 {
    15_000
}
const fn default_release_after_source_failures() -> u32 {
    5
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
