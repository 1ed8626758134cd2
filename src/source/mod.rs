//! The binlog source: a replica connection to MySQL or MariaDB.
//!
//! [`connection`] speaks the client protocol (handshake, authentication, text queries), [`dump`] the
//! replication dialects of both server families, [`server`] answers questions about the server's
//! binlog (current position, files, a position by time), and [`preflight`] checks the settings CDC
//! depends on.
//!
//! # Error handling
//! [`SourceError::is_transient`] splits errors into those worth a reconnect (network, timeouts,
//! server restarts) and definite ones that need a person (bad credentials, missing privileges,
//! purged binlogs, protocol violations).

pub mod auth;
pub mod connection;
pub mod dump;
pub mod packet;
pub mod preflight;
pub mod server;

pub use connection::{ConnectOptions, Connection, Flavor, ResultSet, Row};
pub use dump::{BinlogStream, DumpRequest, DumpStart};

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot connect to MySQL at {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error("lost the connection to MySQL: {0}")]
    ConnectionLost(#[source] std::io::Error),
    #[error("no event or heartbeat from MySQL for {0:?}: the connection is presumed dead")]
    HeartbeatTimeout(Duration),
    #[error("MySQL error {code} ({state}): {message}")]
    Server { code: u16, state: String, message: String },
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("MySQL protocol error: {0}")]
    Protocol(String),
    #[error("{0}")]
    Config(String),
}

impl SourceError {
    pub fn connection_lost(e: std::io::Error) -> Self {
        Self::ConnectionLost(e)
    }

    /// Worth reconnecting: the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::ConnectionLost(_) | Self::HeartbeatTimeout(_) => true,
            Self::Server { code, .. } => matches!(
                code,
                // server shutdown, connection killed, too many connections, lock wait/deadlock,
                // read-only/"server is going away" conditions during failover
                1040 | 1053
                    | 1077
                    | 1078
                    | 1079
                    | 1080
                    | 1152
                    | 1153
                    | 1158
                    | 1159
                    | 1160
                    | 1161
                    | 1205
                    | 1213
                    | 2006
                    | 2013
                    // MariaDB: a replica with our server id is still registered (a previous
                    // leader's dump thread the server has not reaped yet).
                    | 4052
            ),
            Self::Auth(_) | Self::Protocol(_) | Self::Config(_) => false,
        }
    }
}
