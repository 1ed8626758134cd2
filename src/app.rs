//! Wiring only: ZooKeeper session and server registration, one task per destination, the admin
//! server, and shutdown. This module only connects things together and contains no processing
//! logic.
//!
//! A ZooKeeper session that ends takes every leadership with it: all destinations stop, a new
//! session is opened and they campaign again. A destination that fails definitively stays failed
//! (visible in `/status`); when every destination has failed, the process exits with an error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::cluster::{self, ZkPaths};
use crate::config::LoadedConfig;
use crate::destination::{self, DestinationStatus, PipelineError, ServerContext};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on the admin port {address}: {source}")]
    Admin { address: String, source: std::io::Error },
    #[error("every destination stopped on an error; the last: {0}")]
    AllFailed(String),
}

/// Run every destination until `shutdown` turns true.
pub async fn run(config: LoadedConfig, mut shutdown: watch::Receiver<bool>) -> Result<(), AppError> {
    let address = config.server.server.address();
    let paths = ZkPaths::new(&config.server.zookeeper.root);
    let statuses: Arc<Vec<Arc<DestinationStatus>>> =
        Arc::new(config.destinations.iter().map(|d| Arc::new(DestinationStatus::new(&d.name))).collect());

    let admin = if config.server.server.admin_port != 0 {
        let bind = format!("{}:{}", config.server.server.admin_bind, config.server.server.admin_port);
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|source| AppError::Admin { address: bind.clone(), source })?;
        tracing::info!(address = %bind, "admin HTTP server listening");
        Some(tokio::spawn(crate::admin::serve(listener, Arc::clone(&statuses))))
    } else {
        None
    };

    let server = Arc::new(ServerContext {
        address: address.clone(),
        cluster: config.server.cluster.clone(),
        statuses: Arc::clone(&statuses),
    });
    let handovers: BTreeMap<String, Arc<Notify>> =
        config.destinations.iter().map(|d| (d.name.clone(), Arc::new(Notify::new()))).collect();
    let session_timeout = Duration::from_millis(config.server.zookeeper.session_timeout_ms);
    let mut failed: Vec<String> = Vec::new();
    'session: loop {
        let zk = match cluster::zk::connect(&config.server.zookeeper.servers, session_timeout).await {
            Ok(zk) => zk,
            Err(e) => {
                tracing::warn!(error = %e, "ZooKeeper unreachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue 'session,
                    _ = destination::stopped(&mut shutdown) => break 'session,
                }
            }
        };
        if let Err(e) = cluster::register_server(&zk, &paths, &address).await {
            tracing::warn!(error = %e, "cannot register in ZooKeeper; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        tracing::info!(address = %address, "registered in ZooKeeper");
        let mut tasks = JoinSet::new();
        for (d, status) in config.destinations.iter().zip(statuses.iter()) {
            if failed.contains(&d.name) {
                continue;
            }
            let name = d.name.clone();
            let run = destination::run(
                d.clone(),
                zk.clone(),
                paths.clone(),
                Arc::clone(&server),
                Arc::clone(status),
                Arc::clone(&handovers[&d.name]),
                shutdown.clone(),
            );
            tasks.spawn(async move { (name, run.await) });
        }
        let balancer = config.server.cluster.balance.then(|| {
            let names: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
            let interval = Duration::from_millis(config.server.cluster.balance_interval_ms);
            tokio::spawn(balance(zk.clone(), paths.clone(), address.clone(), names, handovers.clone(), interval))
        });
        let _abort_balancer_with_the_session = AbortOnDrop(balancer);
        let mut session = zk.state_watcher();
        loop {
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    None => break 'session,
                    Some(Ok((_, Ok(())))) => {}
                    Some(Ok((name, Err(PipelineError::Zk(e))))) => {
                        tracing::warn!(destination = %name, error = %e, "ZooKeeper trouble: restarting every destination on a new session");
                        continue 'session;
                    }
                    Some(Ok((name, Err(e)))) => {
                        failed.push(name);
                        if failed.len() == config.destinations.len() {
                            return Err(AppError::AllFailed(e.explain()));
                        }
                    }
                    Some(Err(e)) => tracing::error!(error = %e, "a destination task panicked"),
                },
                state = session.changed() => {
                    if state.is_terminated() {
                        tracing::warn!(?state, "ZooKeeper session ended: every leadership is void; reconnecting");
                        continue 'session;
                    }
                }
            }
        }
    }
    if let Some(admin) = admin {
        admin.abort();
    }
    Ok(())
}

/// Every `interval`, hand over at most one destination if that spreads them more fairly.
async fn balance(
    zk: zookeeper_client::Client,
    paths: ZkPaths,
    address: String,
    destinations: Vec<String>,
    handovers: BTreeMap<String, Arc<Notify>>,
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        match cluster::balance::read_views(&zk, &paths, &destinations).await {
            Ok(views) => {
                if let Some(name) = cluster::balance::choose_handover(&address, &views) {
                    tracing::info!(destination = %name, "rebalancing: another server leads fewer destinations");
                    handovers[&name].notify_one();
                }
            }
            Err(e) => tracing::debug!(error = %e, "cannot read the cluster view; balancing later"),
        }
    }
}

/// Aborts a task when the session it belongs to ends.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}
