//! `sluice check`: validate the configuration and everything it points at — the source servers'
//! binlog settings and grants, ZooKeeper, the brokers (and transaction support when the destination
//! asks for it) — and report every problem at once, each with its fix.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};

use crate::assemble::TableFilter;
use crate::config::LoadedConfig;
use crate::destination::pipeline::{connect_options, source_findings};
use crate::sink::kafka::Delivery;
use crate::source::Connection;
use crate::source::preflight::Severity;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckItem {
    pub severity: Option<Severity>,
    pub subject: String,
    pub message: String,
}

impl std::fmt::Display for CheckItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.severity {
            None => "ok     ",
            Some(Severity::Warning) => "warning",
            Some(Severity::Error) => "ERROR  ",
        };
        write!(f, "{tag} {}: {}", self.subject, self.message)
    }
}

fn ok(subject: &str, message: impl Into<String>) -> CheckItem {
    CheckItem { severity: None, subject: subject.into(), message: message.into() }
}

fn problem(severity: Severity, subject: &str, message: impl Into<String>) -> CheckItem {
    CheckItem { severity: Some(severity), subject: subject.into(), message: message.into() }
}

/// Run every check; the caller prints the items and fails if any is an error.
pub async fn check(config: &LoadedConfig) -> Vec<CheckItem> {
    let mut items = Vec::new();
    let zk_servers = &config.server.zookeeper.servers;
    match crate::cluster::zk::connect(zk_servers, Duration::from_millis(config.server.zookeeper.session_timeout_ms))
        .await
    {
        Ok(_) => items.push(ok("zookeeper", format!("reachable at {zk_servers}"))),
        Err(e) => items.push(problem(
            Severity::Error,
            "zookeeper",
            format!("{e} (fix: start ZooKeeper or correct zookeeper.servers)"),
        )),
    }
    for d in &config.destinations {
        let subject = format!("destination {} source {}", d.name, d.config.source.address);
        match Connection::connect(&connect_options(d)).await {
            Ok(mut conn) => {
                items.push(ok(&subject, format!("connected ({} {})", flavor_name(conn.flavor), conn.server_version)));
                // The filter was validated when the configuration loaded.
                let filter = d.table_filter().unwrap_or_else(|_| TableFilter::all());
                let findings = source_findings(&mut conn, None, &filter).await.unwrap_or_else(|e| {
                    items.push(problem(Severity::Error, &subject, format!("checking settings failed: {e}")));
                    Vec::new()
                });
                for f in findings {
                    items.push(problem(f.severity, &subject, format!("{} (fix: {})", f.problem, f.fix)));
                }
            }
            Err(e) => items.push(problem(
                Severity::Error,
                &subject,
                format!("{e} (fix: start the server, or correct source.address / source.user / source.password)"),
            )),
        }
        items.extend(match d.config.sink.kind {
            crate::config::SinkKind::Kafka => check_kafka(d).await,
            crate::config::SinkKind::RabbitMq => check_rabbitmq(d).await,
            crate::config::SinkKind::RocketMq => check_rocketmq(d).await,
        });
    }
    items
}

fn flavor_name(f: crate::source::Flavor) -> &'static str {
    match f {
        crate::source::Flavor::Mysql => "MySQL",
        crate::source::Flavor::Mariadb => "MariaDB",
    }
}

/// RabbitMQ reachability, and the exchange (declared, or checked when Sluice must not declare it).
async fn check_rabbitmq(d: &crate::config::Destination) -> Vec<CheckItem> {
    let config = d.rabbitmq();
    let subject = format!("destination {} RabbitMQ exchange {}", d.name, config.exchange);
    match tokio::time::timeout(Duration::from_secs(10), crate::sink::rabbitmq::publisher::connect(&config)).await {
        Ok(Ok((connection, _channel))) => {
            let _ = connection.close(200, "sluice check".into()).await;
            vec![ok(&subject, "reachable; exchange usable; publisher confirms on")]
        }
        Ok(Err(e)) => vec![problem(Severity::Error, &subject, e.to_string())],
        Err(_) => vec![problem(
            Severity::Error,
            &subject,
            "no answer within 10 s (fix: start the broker or correct sink.rabbitmq.uri)",
        )],
    }
}

/// RocketMQ name server and broker reachability, and the topic's route.
async fn check_rocketmq(d: &crate::config::Destination) -> Vec<CheckItem> {
    let config = d.rocketmq();
    let topic = d.topic();
    let subject = format!("destination {} RocketMQ {} topic {topic}", d.name, config.namesrv_addr);
    let group = format!("check-{}", d.name);
    let probe = async {
        use crate::sink::rocketmq::publisher::{resolve_queues, start_producer};
        let mut producer = start_producer(&config, &group).await?;
        let queues = resolve_queues(&mut producer, &config, &topic, d.config.output.partitions).await;
        producer.shutdown().await;
        queues
    };
    match tokio::time::timeout(Duration::from_secs(15), probe).await {
        Ok(Ok(queues)) => vec![ok(&subject, format!("reachable; {} queue(s)", queues.len()))],
        Ok(Err(e)) => vec![problem(Severity::Error, &subject, e.to_string())],
        Err(_) => vec![problem(
            Severity::Error,
            &subject,
            "no answer within 15 s (fix: start the name server and broker or correct sink.rocketmq.namesrv_addr)",
        )],
    }
}

/// Broker reachability and, for transactional delivery, transaction support.
pub async fn check_kafka(d: &crate::config::Destination) -> Vec<CheckItem> {
    let kafka = d.kafka();
    let subject = format!("destination {} broker {}", d.name, kafka.brokers);
    let name = d.name.clone();
    tokio::task::spawn_blocking(move || {
        let mut items = Vec::new();
        let producer: BaseProducer = match ClientConfig::new().set("bootstrap.servers", &kafka.brokers).create() {
            Ok(p) => p,
            Err(e) => return vec![problem(Severity::Error, &subject, format!("bad Kafka settings: {e}"))],
        };
        match producer.client().fetch_metadata(None, Duration::from_secs(5)) {
            Ok(m) => items.push(ok(&subject, format!("reachable ({} broker(s))", m.brokers().len()))),
            Err(e) => {
                items.push(problem(
                    Severity::Error,
                    &subject,
                    format!("unreachable: {e} (fix: start the broker or correct sink.kafka.brokers)"),
                ));
                return items;
            }
        }
        if kafka.delivery == Delivery::Transactional {
            // A throwaway transactional id: probing must not fence the running destination.
            let probe_id = format!("sluice-check-{name}-{}", std::process::id());
            let probe: Result<BaseProducer, _> = ClientConfig::new()
                .set("bootstrap.servers", &kafka.brokers)
                .set("transactional.id", &probe_id)
                .create();
            match probe.map(|p| p.init_transactions(Duration::from_secs(10))) {
                Ok(Ok(())) => items.push(ok(&subject, "supports transactions")),
                Ok(Err(e)) | Err(e) => items.push(problem(
                    Severity::Error,
                    &subject,
                    format!(
                        "delivery = \"transactional\" but the broker does not support Kafka transactions ({e}) (fix: \
                         use a broker with transactions, or set delivery = \"idempotent\" in [sink.kafka])"
                    ),
                )),
            }
        }
        items
    })
    .await
    .unwrap_or_else(|e| vec![problem(Severity::Error, "kafka", format!("check task failed: {e}"))])
}
