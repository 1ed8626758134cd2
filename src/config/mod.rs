//! Configuration: the server file plus one file per destination, each overridable by environment
//! variables, validated with every problem reported at once.
//!
//! - Server file keys: `SLUICE__SECTION__KEY` (e.g. `SLUICE__ZOOKEEPER__SERVERS`).
//! - Destination `name` keys: `SLUICE_DEST_NAME__SECTION__KEY` (name upper-cased, `-` and `.` as `_`;
//!   e.g. `SLUICE_DEST_DEMO__SOURCE__PASSWORD`). List values take comma-separated items.
//!
//! Unknown keys are errors (a typo must not silently fall back to a default).

mod destination;
mod server;

pub use destination::{
    BatchConfig, DestinationConfig, FilterConfig, Format, OutputConfig, SinkConfig, SinkKind, SourceConfig, StartConfig,
};
pub use server::{ClusterConfig, DefaultsConfig, ServerConfig, ServerSection, ZookeeperConfig};

use std::fmt;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};

use crate::sink::kafka::KafkaSinkConfig;
use crate::sink::rabbitmq::RabbitMqSinkConfig;
use crate::sink::rocketmq::RocketMqSinkConfig;

/// Every problem found, each naming the file and what to change.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem{}):",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// A validated destination.
#[derive(Debug, Clone)]
pub struct Destination {
    pub name: String,
    pub path: PathBuf,
    pub config: DestinationConfig,
}

impl Destination {
    pub fn topic(&self) -> String {
        self.config.output.topic.clone().unwrap_or_else(|| self.name.clone())
    }

    /// The Kafka settings after inheritance.
    pub fn kafka(&self) -> KafkaSinkConfig {
        self.config.sink.kafka.clone().unwrap_or_default()
    }

    /// Topic per table and partitions per topic.
    pub fn topic_rules(&self) -> Result<crate::route::TopicRules, crate::route::RouteError> {
        let output = &self.config.output;
        crate::route::TopicRules::new(&self.topic(), output.partitions, &output.dynamic_topic, &output.topic_partitions)
    }

    /// The RabbitMQ settings.
    pub fn rabbitmq(&self) -> RabbitMqSinkConfig {
        self.config.sink.rabbitmq.clone().unwrap_or_default()
    }

    /// The RocketMQ settings.
    pub fn rocketmq(&self) -> RocketMqSinkConfig {
        self.config.sink.rocketmq.clone().unwrap_or_default()
    }

    /// The tables this destination captures (its patterns were checked when the file loaded).
    pub fn table_filter(&self) -> Result<crate::assemble::TableFilter, crate::assemble::FilterError> {
        crate::assemble::TableFilter::new(&self.config.filter.include, &self.config.filter.exclude)
    }

    /// The replica server id: configured, or derived from the name so destinations on one server
    /// never evict each other's dump threads.
    pub fn replica_server_id(&self) -> u32 {
        self.config
            .source
            .replica_server_id
            .unwrap_or_else(|| 1_000_000 + crc32fast::hash(self.name.as_bytes()) % 1_000_000_000)
    }
}

#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub path: PathBuf,
    pub server: ServerConfig,
    pub destinations: Vec<Destination>,
}

/// Load and validate the server file and every `*.toml` in its destinations directory.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let mut problems = Vec::new();
    let server: ServerConfig = match Config::builder()
        .add_source(File::from(path).format(FileFormat::Toml))
        .add_source(env_source("SLUICE"))
        .build()
        .and_then(Config::try_deserialize)
    {
        Ok(s) => s,
        Err(e) => {
            return Err(ConfigError { problems: vec![format!("{}: {}", path.display(), explain(&e))] });
        }
    };
    validate_server(&server, &mut problems);
    let dir = path.parent().unwrap_or(Path::new(".")).join(&server.server.destinations_dir);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) => {
            problems.push(format!("cannot read the destinations directory {}: {e}", dir.display()));
            Vec::new()
        }
    };
    files.sort();
    if files.is_empty() && problems.is_empty() {
        problems.push(format!("no destination files (*.toml) in {}: add one per source database", dir.display()));
    }
    let mut destinations = Vec::new();
    for file in files {
        match load_destination(&file, &server) {
            Ok(d) => {
                let before = problems.len();
                validate_destination(&d, &mut problems);
                if problems.len() == before {
                    destinations.push(d);
                }
            }
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(LoadedConfig { path: path.to_owned(), server, destinations })
    } else {
        Err(ConfigError { problems })
    }
}

fn env_source(prefix: &str) -> Environment {
    Environment::with_prefix(prefix)
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("filter.include")
        .with_list_parse_key("filter.exclude")
        .with_list_parse_key("output.partition_hash")
}

/// The config crate's messages, with the file context made explicit.
fn explain(e: &config::ConfigError) -> String {
    match e {
        config::ConfigError::NotFound(key) => format!("missing key {key}"),
        other => other.to_string(),
    }
}

fn load_destination(path: &Path, server: &ServerConfig) -> Result<Destination, String> {
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(format!(
            "{}: a destination name (the file name) may only contain letters, digits, '_', '-' and '.'",
            path.display()
        ));
    }
    let env_name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    // The server's [defaults.kafka] sit below the destination file and the environment.
    #[derive(serde::Serialize)]
    struct Defaults<'a> {
        sink: SinkDefaults<'a>,
    }
    #[derive(serde::Serialize)]
    struct SinkDefaults<'a> {
        kafka: &'a KafkaSinkConfig,
    }
    let kafka_defaults = server.defaults.kafka.clone().unwrap_or_default();
    let mut builder = Config::builder();
    if server.defaults.kafka.is_some() {
        let defaults =
            Config::try_from(&Defaults { sink: SinkDefaults { kafka: &kafka_defaults } }).map_err(|e| e.to_string())?;
        builder = builder.add_source(defaults);
    }
    let config: DestinationConfig = builder
        .add_source(File::from(path).format(FileFormat::Toml))
        .add_source(env_source(&format!("SLUICE_DEST_{env_name}")))
        .build()
        .and_then(Config::try_deserialize)
        .map_err(|e| format!("{}: {}", path.display(), explain(&e)))?;
    Ok(Destination { name, path: path.to_owned(), config })
}

fn validate_server(s: &ServerConfig, problems: &mut Vec<String>) {
    if s.zookeeper.servers.trim().is_empty() {
        problems.push("zookeeper.servers is empty: set the ensemble, e.g. \"127.0.0.1:2181\"".into());
    }
    if !(1_000..=600_000).contains(&s.zookeeper.session_timeout_ms) {
        problems.push(format!(
            "zookeeper.session_timeout_ms = {} is outside 1000..=600000",
            s.zookeeper.session_timeout_ms
        ));
    }
    if let Some(address) = &s.server.address
        && !valid_host_port(address)
    {
        problems.push(format!("server.address = \"{address}\" is not ip:port"));
    }
    if s.cluster.balance_interval_ms < 100 {
        problems.push("cluster.balance_interval_ms must be at least 100".into());
    }
}

fn valid_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0))
}

/// Parse a time zone: an IANA name (`Asia/Shanghai`, `UTC`) or a fixed offset (`+08:00`).
pub fn parse_time_zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    if let Some(sign) = name.chars().next().filter(|c| *c == '+' || *c == '-') {
        let (h, m) = name[1..].split_once(':').unwrap_or((&name[1..], "0"));
        let (h, m): (i32, i32) = (
            h.parse().map_err(|_| format!("bad offset '{name}'"))?,
            m.parse().map_err(|_| format!("bad offset '{name}'"))?,
        );
        let seconds = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
        let offset = jiff::tz::Offset::from_seconds(seconds).map_err(|e| e.to_string())?;
        return Ok(jiff::tz::TimeZone::fixed(offset));
    }
    jiff::tz::TimeZone::get(name).map_err(|e| format!("unknown time zone '{name}': {e}"))
}

fn validate_destination(d: &Destination, problems: &mut Vec<String>) {
    let file = d.path.display();
    let c = &d.config;
    let mut bad = |msg: String| problems.push(format!("{file}: {msg}"));
    if !valid_host_port(&c.source.address) {
        bad(format!("source.address = \"{}\" is not host:port", c.source.address));
    }
    if c.source.user.is_empty() {
        bad("source.user is empty".into());
    }
    if c.source.heartbeat_ms == 0 {
        bad("source.heartbeat_ms must be above 0".into());
    }
    if let Some(start) = &c.source.start {
        let set =
            [start.file.is_some(), start.gtid.is_some(), start.timestamp.is_some()].iter().filter(|b| **b).count();
        if set != 1 {
            bad("source.start needs exactly one of file (+ position), gtid, or timestamp".into());
        }
        if start.position.is_some() && start.file.is_none() {
            bad("source.start.position needs source.start.file".into());
        }
        if let Some(gtid) = &start.gtid
            && let Err(e) = crate::event::GtidSet::parse(gtid)
        {
            bad(format!("source.start.gtid: {e}"));
        }
        if let Some(ts) = &start.timestamp
            && ts.parse::<jiff::Timestamp>().is_err()
        {
            bad(format!("source.start.timestamp = \"{ts}\" is not an RFC 3339 time like 2024-05-01T12:00:00Z"));
        }
    }
    if let Err(e) = crate::assemble::TableFilter::new(&c.filter.include, &c.filter.exclude) {
        bad(format!("filter: {e}"));
    }
    if c.output.partitions == 0 || c.output.partitions > 10_000 {
        bad(format!("output.partitions = {} must be within 1..=10000", c.output.partitions));
    }
    if let Err(e) =
        crate::route::Partitioner::new(c.output.partitions, &c.output.partition_hash, c.output.database_hash)
    {
        bad(format!("output.partition_hash: {e}"));
    }
    let topic = d.topic();
    if topic.is_empty()
        || topic.len() > 249
        || !topic.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'))
    {
        bad(format!(
            "output.topic \"{topic}\" is not a valid topic name (letters, digits, '.', '_', '-'; at most 249)"
        ));
    }
    if let Err(e) = d.topic_rules() {
        bad(format!("output.dynamic_topic / output.topic_partitions: {e}"));
    }
    if c.output.max_message_bytes < 1024 {
        bad("output.max_message_bytes must be at least 1024".into());
    }
    if let Err(e) = parse_time_zone(&c.output.time_zone) {
        bad(format!("output.time_zone: {e}"));
    }
    if c.batch.max_transactions == 0 || c.batch.max_bytes == 0 || c.batch.max_delay_ms == 0 {
        bad("batch.max_transactions, batch.max_bytes and batch.max_delay_ms must be above 0".into());
    }
    if c.batch.chunk_bytes < 4096 || c.batch.queue_bytes < c.batch.chunk_bytes || c.batch.xa_bytes < c.batch.chunk_bytes
    {
        bad("batch.chunk_bytes must be at least 4096, and batch.queue_bytes and batch.xa_bytes at least chunk_bytes"
            .into());
    }
    match c.sink.kind {
        SinkKind::Kafka => {
            let kafka = d.kafka();
            if kafka.brokers.trim().is_empty() {
                bad("sink.kafka.brokers is empty".into());
            }
            if kafka.max_message_bytes < 1024 {
                bad("sink.kafka.max_message_bytes must be at least 1024".into());
            }
        }
        SinkKind::RabbitMq => {
            let rabbit = d.rabbitmq();
            if let Err(e) = rabbit.uri.parse::<lapin::uri::AMQPUri>() {
                bad(format!("sink.rabbitmq.uri \"{}\" is not an AMQP URI: {e}", rabbit.uri));
            }
            if rabbit.max_unconfirmed == 0 || rabbit.max_in_flight_batches == 0 {
                bad("sink.rabbitmq.max_unconfirmed and max_in_flight_batches must be above 0".into());
            }
        }
        SinkKind::RocketMq => {
            let rocket = d.rocketmq();
            if rocket.namesrv_addr.trim().is_empty() {
                bad("sink.rocketmq.namesrv_addr is empty".into());
            }
            if rocket.max_batch_bytes < 1024 || rocket.max_in_flight_batches == 0 {
                bad("sink.rocketmq.max_batch_bytes must be at least 1024 and max_in_flight_batches above 0".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn temp_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("destinations")).unwrap();
        dir
    }

    #[test]
    fn loads_server_and_destination_with_defaults_inherited() {
        let tmp = temp_dir();
        let dir = tmp.path();
        write(
            dir,
            "sluice.toml",
            "[zookeeper]\nservers = \"127.0.0.1:2181\"\n[defaults.kafka]\nbrokers = \"k:9092\"\ndelivery = \"idempotent\"\n",
        );
        write(
            &dir.join("destinations"),
            "demo.toml",
            "[source]\naddress = \"127.0.0.1:3306\"\nuser = \"u\"\n[output]\npartitions = 3\npartition_hash = [\"demo\\\\..*:$pk$\"]\n",
        );
        let loaded = load(&dir.join("sluice.toml")).unwrap();
        let d = &loaded.destinations[0];
        assert_eq!(d.name, "demo");
        assert_eq!(d.topic(), "demo");
        assert_eq!(d.kafka().brokers, "k:9092");
        assert_eq!(d.kafka().delivery, crate::sink::kafka::Delivery::Idempotent);
        assert_eq!(d.config.output.partitions, 3);
    }

    #[test]
    fn shipped_examples_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        for example in ["rabbitmq", "rocketmq"] {
            let tmp = temp_dir();
            let dir = tmp.path();
            std::fs::copy(root.join("sluice.toml"), dir.join("sluice.toml")).unwrap();
            std::fs::copy(
                root.join(format!("examples/{example}.toml")),
                dir.join(format!("destinations/{example}.toml")),
            )
            .unwrap();
            let loaded = load(&dir.join("sluice.toml")).unwrap_or_else(|e| panic!("{example}: {e}"));
            let d = &loaded.destinations[0];
            let rules = d.topic_rules().unwrap();
            match example {
                "rabbitmq" => {
                    assert_eq!(d.config.sink.kind, SinkKind::RabbitMq);
                    assert_eq!(d.config.output.format, Format::Protobuf);
                    assert_eq!(rules.topic_for("demo", "orders"), "orders");
                    assert_eq!(rules.topic_for("demo", "Items"), "demo_items");
                }
                _ => {
                    assert_eq!(d.config.sink.kind, SinkKind::RocketMq);
                    assert_eq!(rules.partitions_of("demo"), 8);
                }
            }
        }
    }

    #[test]
    fn reports_every_problem_at_once() {
        let tmp = temp_dir();
        let dir = tmp.path();
        write(dir, "sluice.toml", "[zookeeper]\nsession_timeout_ms = 5\n");
        write(
            &dir.join("destinations"),
            "d1.toml",
            "[source]\naddress = \"nohost\"\nuser = \"\"\n[output]\npartitions = 0\ntime_zone = \"Mars/Base\"\n[filter]\ninclude = [\"(\"]\n",
        );
        write(&dir.join("destinations"), "d2.toml", "[source]\naddress = \"h:1\"\nuser = \"u\"\ntypo_key = 1\n");
        let err = load(&dir.join("sluice.toml")).unwrap_err();
        let text = err.to_string();
        for expected in
            ["session_timeout_ms", "source.address", "source.user", "partitions", "time zone", "filter", "typo_key"]
        {
            assert!(text.contains(expected), "missing '{expected}' in:\n{text}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(parse_time_zone("UTC").is_ok());
        assert!(parse_time_zone("+08:00").is_ok());
        assert!(parse_time_zone("-05:30").is_ok());
        assert!(parse_time_zone("Nowhere/Nothing").is_err());
    }
}
