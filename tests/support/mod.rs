//! Test harness: the real servers `scripts/stack` runs, private instances of them for tests that
//! stop or restart a server, the real `sluice` binary, and bounded waits.
//!
//! Every test gets its own database, topic, ZooKeeper root and destination name ([`unique`]), so
//! tests run in parallel against one stack. Servers a test stops or restarts are private to it
//! ([`PrivateStack`], driven by `scripts/stack` with its own state directory and ports).

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sluice::checkpoint::Cursor;
use sluice::cluster::ZkPaths;
use sluice::source::{ConnectOptions, Connection};

/// Addresses of the shared stack, from `scripts/stack env` (set by `scripts/test`).
pub struct Stack {
    pub mysql: String,
    pub zk: String,
    pub kafka: String,
    /// AMQP URI of the stack's RabbitMQ.
    pub rabbitmq: String,
    /// RocketMQ name server address.
    pub rocketmq: String,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, or `eval \"$(scripts/stack env)\"` after scripts/stack up")
    })
}

pub fn stack() -> Stack {
    Stack {
        mysql: env("SLUICE_TEST_MYSQL_ADDR"),
        zk: env("SLUICE_TEST_ZK"),
        kafka: env("SLUICE_TEST_KAFKA"),
        rabbitmq: env("SLUICE_TEST_RABBITMQ"),
        rocketmq: env("SLUICE_TEST_ROCKETMQ"),
    }
}

pub const REPL_USER: &str = "sluice";
pub const REPL_PASSWORD: &str = "sluice";
pub const APP_USER: &str = "app";
pub const APP_PASSWORD: &str = "app";

/// A name no other test (or earlier run) uses: `prefix_<pid>_<n>`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 100_000;
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Retry `check` until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// MySQL

pub async fn connect(address: &str, user: &str, password: &str) -> Connection {
    let mut conn = Connection::connect(&ConnectOptions {
        address: address.into(),
        user: user.into(),
        password: password.into(),
        database: None,
        connect_timeout: Duration::from_secs(5),
        max_packet_bytes: 64 << 20,
    })
    .await
    .unwrap_or_else(|e| panic!("connecting to MySQL at {address}: {e}"));
    // Sluice's connection resets its session's sql_mode; the tests write as applications do, in
    // the server's.
    conn.execute("SET SESSION sql_mode = DEFAULT").await.unwrap();
    conn
}

/// A database of its own on a server, dropped with `drop_database`.
pub struct TestDb {
    pub name: String,
    pub conn: Connection,
}

impl TestDb {
    pub async fn create(address: &str, prefix: &str) -> Self {
        let name = unique(prefix);
        let mut conn = connect(address, APP_USER, APP_PASSWORD).await;
        conn.execute(&format!("CREATE DATABASE `{name}`")).await.unwrap();
        conn.execute(&format!("USE `{name}`")).await.unwrap();
        conn.execute("CREATE TABLE _warmup (id INT AUTO_INCREMENT PRIMARY KEY)").await.unwrap();
        Self { name, conn }
    }

    pub async fn exec(&mut self, sql: &str) {
        self.conn.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn query(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        let rs = self.conn.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        rs.rows.iter().map(|r| (0..rs.columns.len()).map(|i| r.text(i)).collect()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Private servers

static COUNTER3: AtomicU32 = AtomicU32::new(0);

/// Servers of this test's own, started by `scripts/stack` in a temporary state directory.
pub struct PrivateStack {
    dir: tempfile::TempDir,
    pub mysql_port: u16,
    pub kafka_port: u16,
    pub zk_port: u16,
    /// First client port of the three-node ZooKeeper ensemble (`zookeeper3`).
    pub zk3_port: u16,
    /// Extra `[mysqld]` lines for MariaDB.
    pub mysql_extra_cnf: String,
    /// RabbitMQ's AMQP, epmd and distribution ports.
    pub rabbitmq_ports: [u16; 3],
    /// RocketMQ name server port and broker port (the broker also uses -2 and +1..+4).
    pub rocketmq_ports: [u16; 2],
}

impl PrivateStack {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new().prefix("sluice-private-").tempdir().unwrap(),
            mysql_port: free_port(),
            kafka_port: free_port(),
            zk_port: free_port(),
            zk3_port: 20000
                + (std::process::id() % 200) as u16 * 50
                + (COUNTER3.fetch_add(1, Ordering::Relaxed) % 10) as u16 * 5,
            mysql_extra_cnf: String::new(),
            rabbitmq_ports: [free_port(), free_port(), free_port()],
            // The broker needs a run of ports: take them from a range the kernel does not hand out.
            rocketmq_ports: {
                let base = 21000 + (std::process::id() % 300) as u16 * 10;
                [base, base + 4]
            },
        }
    }

    /// A private MariaDB, running, with these extra `[mysqld]` lines.
    pub fn mariadb_with(extra_cnf: &str) -> Self {
        let mut stack = Self::new();
        stack.mysql_extra_cnf = extra_cnf.into();
        stack.up(&["mariadb"]);
        stack
    }

    fn script(&self, args: &[&str]) {
        let output = Command::new(repo_root().join("scripts/stack"))
            .args(args)
            .env("SLUICE_STACK_DIR", self.dir.path())
            .env("SLUICE_MYSQL_PORT", self.mysql_port.to_string())
            .env("SLUICE_KAFKA_PORT", self.kafka_port.to_string())
            .env("SLUICE_ZK_PORT", self.zk_port.to_string())
            .env("SLUICE_ZK3_PORT", self.zk3_port.to_string())
            .env("SLUICE_MYSQL_EXTRA_CNF", &self.mysql_extra_cnf)
            .env("SLUICE_RABBITMQ_PORT", self.rabbitmq_ports[0].to_string())
            .env("SLUICE_RABBITMQ_EPMD_PORT", self.rabbitmq_ports[1].to_string())
            .env("SLUICE_RABBITMQ_DIST_PORT", self.rabbitmq_ports[2].to_string())
            .env("SLUICE_ROCKETMQ_NAMESRV_PORT", self.rocketmq_ports[0].to_string())
            .env("SLUICE_ROCKETMQ_BROKER_PORT", self.rocketmq_ports[1].to_string())
            .output()
            .expect("running scripts/stack");
        assert!(
            output.status.success(),
            "scripts/stack {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn up(&self, services: &[&str]) {
        let mut args = vec!["up"];
        args.extend_from_slice(services);
        self.script(&args);
    }

    pub fn down(&self, services: &[&str]) {
        let mut args = vec!["down"];
        args.extend_from_slice(services);
        self.script(&args);
    }

    pub fn mysql(&self) -> String {
        format!("127.0.0.1:{}", self.mysql_port)
    }

    /// The state directory `scripts/stack` uses for these servers.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The private MariaDB's binlog files (not its index), oldest first.
    pub fn binlog_files(&self) -> Vec<PathBuf> {
        let binlog_dir = self.dir().join("mariadb/binlog");
        let mut files: Vec<_> = std::fs::read_dir(&binlog_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e.to_string_lossy().chars().all(|c| c.is_ascii_digit())))
            .collect();
        files.sort();
        files
    }

    /// `sluice binlog decode` over every binlog file (after FLUSH BINARY LOGS): one JSON value
    /// per line.
    pub fn decode_binlogs(&self) -> Vec<serde_json::Value> {
        let out = std::process::Command::new(sluice_bin())
            .args(["binlog", "decode"])
            .args(self.binlog_files())
            .output()
            .unwrap();
        assert!(out.status.success(), "decode failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    pub fn kafka(&self) -> String {
        format!("127.0.0.1:{}", self.kafka_port)
    }

    pub fn zk(&self) -> String {
        format!("127.0.0.1:{}", self.zk_port)
    }

    pub fn rocketmq(&self) -> String {
        format!("127.0.0.1:{}", self.rocketmq_ports[0])
    }

    pub fn rabbitmq(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.rabbitmq_ports[0])
    }
}

impl Drop for PrivateStack {
    /// Stops the servers and removes their state, including a RocketMQ store `scripts/stack` kept in
    /// RAM because the disk was nearly full.
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/stack"))
            .arg("destroy")
            .env("SLUICE_STACK_DIR", self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// The sluice binary

/// What a test's sluice process runs.
#[derive(Clone)]
pub struct SluiceConfig {
    pub destination: String,
    pub zk: String,
    pub zk_root: String,
    pub mysql: String,
    pub kafka: String,
    pub topic: String,
    /// `schema.table` patterns captured.
    pub include: Vec<String>,
    pub delivery: &'static str,
    pub partitions: u32,
    pub partition_hash: Vec<String>,
    pub heartbeat_ms: u64,
    pub message_timeout_ms: u64,
    pub admin_port: u16,
    pub address: String,
    pub session_timeout_ms: u64,
    /// Extra TOML appended to the destination file.
    pub extra: String,
    /// Extra TOML appended to the server file (e.g. a `[cluster]` table).
    pub server_extra: String,
    /// More destination files: (name, whole TOML).
    pub more_destinations: Vec<(String, String)>,
    /// Extra lines in the `[output]` table (e.g. `format = "protobuf"`).
    pub output_extra: String,
    /// Extra lines in the `[batch]` table (e.g. `xa_bytes = 4096`).
    pub batch_extra: String,
    /// The sink tables, replacing the default `[sink.kafka]` one.
    pub sink: Option<String>,
}

impl SluiceConfig {
    /// Capture database `db` of the shared stack into a new topic, idempotent delivery.
    pub fn new(stack: &Stack, db: &str) -> Self {
        let destination = unique("dest");
        let port = free_port();
        Self {
            zk_root: format!("/sluice-test/{destination}"),
            topic: unique("topic"),
            destination,
            zk: stack.zk.clone(),
            mysql: stack.mysql.clone(),
            kafka: stack.kafka.clone(),
            include: vec![format!("{db}\\..*")],
            delivery: "idempotent",
            partitions: 3,
            partition_hash: vec![format!("{db}\\..*:$pk$")],
            heartbeat_ms: 1000,
            message_timeout_ms: 5000,
            admin_port: 0,
            address: format!("127.0.0.1:{port}"),
            session_timeout_ms: 4000,
            extra: String::new(),
            server_extra: String::new(),
            more_destinations: Vec::new(),
            output_extra: String::new(),
            batch_extra: String::new(),
            sink: None,
        }
    }

    /// The destination file a second destination capturing `db` into `topic` would have.
    pub fn destination_toml(&self, db: &str, topic: &str) -> String {
        format!(
            "[source]\naddress = \"{}\"\nuser = \"{REPL_USER}\"\npassword = \"{REPL_PASSWORD}\"\nheartbeat_ms = {}\n\n\
             [filter]\ninclude = [\"{db}\\\\..*\"]\n\n[output]\ntopic = \"{topic}\"\npartitions = {}\n\
             partition_hash = [\"{db}\\\\..*:$pk$\"]\n\n[batch]\nmax_delay_ms = 20\n\n\
             [sink.kafka]\nbrokers = \"{}\"\ndelivery = \"{}\"\nmessage_timeout_ms = {}\n",
            self.mysql, self.heartbeat_ms, self.partitions, self.kafka, self.delivery, self.message_timeout_ms
        )
    }

    fn write(&self, dir: &Path) {
        self.write_with_source_extra(dir, "");
    }

    fn write_with_source_extra(&self, dir: &Path, source_extra: &str) {
        std::fs::create_dir_all(dir.join("destinations")).unwrap();
        let server = format!(
            "[server]\naddress = \"{}\"\nadmin_port = {}\n\n[zookeeper]\nservers = \"{}\"\nroot = \"{}\"\nsession_timeout_ms = {}\n{}\n",
            self.address, self.admin_port, self.zk, self.zk_root, self.session_timeout_ms, self.server_extra
        );
        std::fs::write(dir.join("sluice.toml"), server).unwrap();
        let quote = |v: &[String]| v.iter().map(|s| format!("{:?}", s)).collect::<Vec<_>>().join(", ");
        let destination = format!(
            "[source]\naddress = \"{}\"\nuser = \"{REPL_USER}\"\npassword = \"{REPL_PASSWORD}\"\nheartbeat_ms = {}\n{source_extra}\n\
             [filter]\ninclude = [{}]\n\n\
             [output]\ntopic = \"{}\"\npartitions = {}\npartition_hash = [{}]\n{}\n\n\
             [batch]\nmax_delay_ms = 20\n{}\n\n{}\n{}",
            self.mysql,
            self.heartbeat_ms,
            quote(&self.include),
            self.topic,
            self.partitions,
            quote(&self.partition_hash),
            self.output_extra,
            self.batch_extra,
            self.sink.clone().unwrap_or_else(|| format!(
                "[sink.kafka]\nbrokers = \"{}\"\ndelivery = \"{}\"\nmessage_timeout_ms = {}\n",
                self.kafka, self.delivery, self.message_timeout_ms
            )),
            self.extra
        );
        std::fs::write(dir.join("destinations").join(format!("{}.toml", self.destination)), destination).unwrap();
        for (name, toml) in &self.more_destinations {
            std::fs::write(dir.join("destinations").join(format!("{name}.toml")), toml).unwrap();
        }
    }
}

/// A running `sluice run` process; killed when dropped.
pub struct Sluice {
    child: Child,
    pub dir: tempfile::TempDir,
    pub config: SluiceConfig,
}

pub fn sluice_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sluice")
}

impl Sluice {
    pub fn start(config: &SluiceConfig) -> Self {
        Self::start_with_source_extra(config, "")
    }

    /// Start with extra TOML inside the `[source]` table (e.g. a `[source.start]` sub-table).
    pub fn start_with_source_extra(config: &SluiceConfig, source_extra: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("sluice-config-").tempdir().unwrap();
        config.write_with_source_extra(dir.path(), source_extra);
        let child = Self::spawn(dir.path());
        Self { child, dir, config: config.clone() }
    }

    fn spawn(dir: &Path) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("sluice.log")).unwrap();
        Command::new(sluice_bin())
            .args(["run", "--config"])
            .arg(dir.join("sluice.toml"))
            .env("SLUICE_LOG", "info,sluice=debug,zookeeper_client=warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting sluice")
    }

    /// Start again with the same configuration (after a kill).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(self.dir.path());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Wait for the process to exit; `None` if it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sluice.log")).unwrap_or_default()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("sluice.toml")
    }

    /// The destination's committed cursor.
    pub async fn cursor(&self) -> Option<Cursor> {
        read_cursor(&self.config.zk, &self.config.zk_root, &self.config.destination).await
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- sluice log ----\n{}", self.log());
        }
    }
}

/// Run a sluice subcommand to completion: (exit code, stdout + stderr).
pub fn sluice_command(args: &[&str]) -> (i32, String) {
    let output = Command::new(sluice_bin()).args(args).env("SLUICE_LOG", "warn").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

pub async fn read_cursor(zk: &str, root: &str, destination: &str) -> Option<Cursor> {
    let client = zookeeper_client::Client::connect(zk).await.expect("connecting to ZooKeeper");
    let path = ZkPaths::new(root).cursor(destination);
    match client.get_data(&path).await {
        Ok((data, _)) => Some(Cursor::from_json(&data).expect("cursor JSON")),
        Err(zookeeper_client::Error::NoNode) => None,
        Err(e) => panic!("reading {path}: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Kafka

#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub headers: HashMap<String, String>,
    /// The payload parsed as JSON (`Null` for other formats).
    pub json: serde_json::Value,
    pub payload: Vec<u8>,
}

impl Record {
    /// The rows of a flat message with their type: `(type, row)`.
    pub fn rows(&self) -> Vec<(String, serde_json::Value)> {
        let kind = self.json["type"].as_str().unwrap_or_default().to_owned();
        self.json["data"]
            .as_array()
            .map(|rows| rows.iter().map(|r| (kind.clone(), r.clone())).collect())
            .unwrap_or_default()
    }
}

/// Read `topic` from the beginning until `done(records)` holds or `timeout` passes (blocking;
/// call from `spawn_blocking` in async tests).
pub fn consume_until(brokers: &str, topic: &str, timeout: Duration, done: impl Fn(&[Record]) -> bool) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("test-consumer"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let deadline = Instant::now() + timeout;
    // The topic appears when sluice creates it.
    let partitions = loop {
        let found = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .ok()
            .and_then(|m| {
                m.topics().iter().find(|t| t.name() == topic && t.error().is_none()).map(|t| t.partitions().len())
            })
            .filter(|n| *n > 0);
        if let Some(n) = found {
            break n;
        }
        if Instant::now() > deadline {
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p as i32, Offset::Beginning).unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut records = Vec::new();
    // `done` may look at every record: ask it when the consumer is idle or every 200 ms, not after
    // every message.
    let mut checked = Instant::now();
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            if done(&records) {
                break;
            }
            checked = Instant::now();
            continue;
        };
        if checked.elapsed() > Duration::from_millis(200) {
            if done(&records) {
                break;
            }
            checked = Instant::now();
        }
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                eprintln!("consumer error (retrying): {e}");
                continue;
            }
        };
        let mut headers = HashMap::new();
        if let Some(h) = message.headers() {
            for header in h.iter() {
                headers.insert(
                    header.key.to_owned(),
                    String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                );
            }
        }
        let payload = message.payload().unwrap_or_default();
        records.push(Record {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            headers,
            json: if payload.first() == Some(&b'{') {
                serde_json::from_slice(payload).unwrap_or_else(|e| panic!("payload is not JSON ({e}): {payload:?}"))
            } else {
                serde_json::Value::Null
            },
            payload: payload.to_vec(),
        });
    }
    records
}

/// Consume until the rows of `table` include every id in `ids` (by the `id` column).
pub async fn consume_ids(
    brokers: &str,
    topic: &str,
    table: &str,
    ids: impl IntoIterator<Item = i64>,
    timeout: Duration,
) -> Vec<Record> {
    let wanted: std::collections::HashSet<i64> = ids.into_iter().collect();
    let (brokers, topic, table) = (brokers.to_owned(), topic.to_owned(), table.to_owned());
    tokio::task::spawn_blocking(move || {
        consume_until(&brokers, &topic, timeout, |records| {
            let seen = ids_in(records, &table);
            wanted.iter().all(|id| seen.contains(id))
        })
    })
    .await
    .unwrap()
}

/// Ids (column `id`) of every INSERT row of `table` in the records.
pub fn ids_in(records: &[Record], table: &str) -> std::collections::HashSet<i64> {
    records
        .iter()
        .filter(|r| r.json["table"] == table && r.json["type"] == "INSERT")
        .flat_map(|r| r.rows())
        .filter_map(|(_, row)| row["id"].as_str().and_then(|s| s.parse().ok()))
        .collect()
}

/// The INSERT row of `table` whose `id` column is `id`, if the records hold it.
pub fn inserted_row(records: &[Record], table: &str, id: &str) -> Option<serde_json::Value> {
    records
        .iter()
        .filter(|r| r.json["table"] == table && r.json["type"] == "INSERT")
        .flat_map(|r| r.rows())
        .map(|(_, row)| row)
        .find(|row| row["id"] == id)
}

/// Wait until the destination has committed a position, inserting rows into the database's
/// `_warmup` table meanwhile so there is something to commit (a destination starts at the server's
/// current position, so earlier writes are not seen).
pub async fn wait_running(db: &mut TestDb, sluice: &Sluice) -> Cursor {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        db.exec("INSERT INTO _warmup VALUES ()").await;
        if let Some(cursor) = sluice.cursor().await {
            return cursor;
        }
        assert!(Instant::now() < deadline, "the destination committed nothing within 60 s; log:\n{}", sluice.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `/status` entries of a sluice process, by destination name (empty if it does not answer).
pub async fn admin_status(port: u16) -> HashMap<String, serde_json::Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut socket) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return HashMap::new() };
    if socket.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n").await.is_err() {
        return HashMap::new();
    }
    let mut text = String::new();
    if socket.read_to_string(&mut text).await.is_err() {
        return HashMap::new();
    }
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let list: Vec<serde_json::Value> = serde_json::from_str(body).unwrap_or_default();
    list.into_iter().filter_map(|v| Some((v["destination"].as_str()?.to_owned(), v))).collect()
}

/// The `/metrics` text of a sluice process.
pub async fn admin_metrics(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut socket) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else { return String::new() };
    let _ = socket.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut text = String::new();
    let _ = socket.read_to_string(&mut text).await;
    text
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ

/// One message taken from a RabbitMQ queue.
#[derive(Debug, Clone)]
pub struct AmqpMessage {
    pub routing_key: String,
    pub headers: HashMap<String, String>,
    pub payload: Vec<u8>,
    pub persistent: bool,
}

impl AmqpMessage {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).unwrap_or_else(|e| panic!("payload is not JSON ({e})"))
    }
}

/// Declare the durable topic exchange Sluice publishes to and a durable queue bound to it with
/// `binding` (e.g. `topic.#`); returns the queue name.
pub async fn amqp_queue(uri: &str, exchange: &str, binding: &str) -> String {
    use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;
    let connection = lapin::Connection::connect(uri, lapin::ConnectionProperties::default()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .exchange_declare(
            exchange.into(),
            lapin::ExchangeKind::Topic,
            ExchangeDeclareOptions { durable: true, ..Default::default() },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let queue = unique("q");
    channel.queue_declare(queue.as_str().into(), QueueDeclareOptions::durable(), FieldTable::default()).await.unwrap();
    channel
        .queue_bind(
            queue.as_str().into(),
            exchange.into(),
            binding.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let _ = connection.close(200, "declared".into()).await;
    queue
}

/// Take messages from `queue` (acknowledging them) until `done(messages)` holds or `timeout`
/// passes. Reconnects while the broker is unreachable.
pub async fn amqp_consume_until(
    uri: &str,
    queue: &str,
    timeout: Duration,
    done: impl Fn(&[AmqpMessage]) -> bool,
) -> Vec<AmqpMessage> {
    use futures_util::StreamExt;
    use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    while Instant::now() < deadline && !done(&messages) {
        let Ok(connection) = lapin::Connection::connect(uri, lapin::ConnectionProperties::default()).await else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        };
        let channel = connection.create_channel().await.unwrap();
        channel.basic_qos(1000, BasicQosOptions::default()).await.unwrap();
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                unique("c").as_str().into(),
                BasicConsumeOptions::default(),
                Default::default(),
            )
            .await
            .unwrap();
        loop {
            if Instant::now() >= deadline || done(&messages) {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(300), consumer.next()).await {
                Ok(Some(Ok(delivery))) => {
                    let props = &delivery.properties;
                    let headers = props
                        .headers()
                        .as_ref()
                        .map(|t| {
                            t.inner()
                                .iter()
                                .map(|(k, v)| {
                                    let text = match v {
                                        lapin::types::AMQPValue::LongString(s) => s.to_string(),
                                        other => format!("{other:?}"),
                                    };
                                    (k.to_string(), text)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    messages.push(AmqpMessage {
                        routing_key: delivery.routing_key.to_string(),
                        headers,
                        persistent: *props.delivery_mode() == Some(2),
                        payload: delivery.data.clone(),
                    });
                    delivery.ack(BasicAckOptions::default()).await.unwrap();
                }
                Ok(Some(Err(_)) | None) => break, // connection lost: reconnect
                Err(_) => {}                      // idle
            }
        }
        let _ = connection.close(200, "done".into()).await;
    }
    messages
}

// ---------------------------------------------------------------------------------------------
// RocketMQ

/// One message a RocketMQ consumer received.
#[derive(Debug, Clone)]
pub struct RocketMessage {
    pub queue_id: i32,
    pub properties: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl RocketMessage {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e})"))
    }
}

struct Collect(std::sync::Arc<std::sync::Mutex<Vec<RocketMessage>>>);

impl rocketmq_client_rust::MessageListenerOrderly for Collect {
    fn consume_message(
        &self,
        msgs: &[&rocketmq_model::common::message::message_ext::MessageExt],
        context: &mut rocketmq_client_rust::ConsumeOrderlyContext,
    ) -> rocketmq_client_rust::ClientResult<rocketmq_client_rust::ConsumeOrderlyStatus> {
        context.set_auto_commit(true);
        let mut out = self.0.lock().unwrap();
        for m in msgs {
            out.push(RocketMessage {
                queue_id: m.queue_id(),
                properties: m.properties().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                body: m.body().map(|b| b.to_vec()).unwrap_or_default(),
            });
        }
        Ok(rocketmq_client_rust::ConsumeOrderlyStatus::Success)
    }
}

/// Consume `topic` from the first offset as consumer group `group` (orderly: per queue in order)
/// until `done(messages)` holds or `timeout` passes.
pub async fn rocketmq_consume_until(
    namesrv: &str,
    topic: &str,
    group: &str,
    timeout: Duration,
    done: impl Fn(&[RocketMessage]) -> bool,
) -> Vec<RocketMessage> {
    use rocketmq_client_rust::{DefaultMQPushConsumer, MQPushConsumer};
    let runtime = sluice::sink::rocketmq::publisher::client_runtime().unwrap();
    let mut consumer = DefaultMQPushConsumer::builder(runtime)
        .consumer_group(group.to_owned())
        .name_server_addr(namesrv.to_owned())
        .message_model(rocketmq_protocol::protocol::heartbeat::message_model::MessageModel::Clustering)
        .build();
    consumer.subscribe(topic, "*").await.unwrap();
    consumer.set_consume_from_where(
        rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere::ConsumeFromFirstOffset,
    );
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    consumer.register_message_listener_orderly(Collect(std::sync::Arc::clone(&received)));
    consumer.start().await.unwrap();
    let deadline = Instant::now() + timeout;
    loop {
        let snapshot = received.lock().unwrap().clone();
        if done(&snapshot) || Instant::now() >= deadline {
            consumer.shutdown().await;
            return snapshot;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the sink tests

/// `(type, id, ver)` of every row of table `t` in flat JSON messages, in message order.
pub fn versions_of_t(messages: impl IntoIterator<Item = serde_json::Value>) -> Vec<(String, i64, i64)> {
    messages
        .into_iter()
        .filter(|m| m["table"] == "t")
        .flat_map(|m| {
            let kind = m["type"].as_str().unwrap().to_owned();
            m["data"].as_array().cloned().unwrap_or_default().into_iter().map(move |row| {
                let field = |name: &str| row[name].as_str().unwrap().parse::<i64>().unwrap();
                (kind.clone(), field("id"), field("ver"))
            })
        })
        .collect()
}

/// The key-order workload: 100 keys inserted, all updated 100 times (10k updates), keys 1-10
/// deleted. Table `t (id BIGINT PRIMARY KEY, ver INT NOT NULL)` must exist.
pub async fn key_order_workload(db: &mut TestDb) {
    insert_t(db, 1, 100).await;
    for _ in 0..100 {
        db.exec("UPDATE t SET ver = ver + 1").await;
    }
    db.exec("DELETE FROM t WHERE id <= 10").await;
}

/// Every key went through exactly the workload's history, in order.
pub fn assert_key_order(rows: &[(String, i64, i64)], consumer: &str) {
    assert_eq!(rows.iter().filter(|r| r.0 == "INSERT").count(), 100, "inserts seen by {consumer}");
    assert_eq!(rows.iter().filter(|r| r.0 == "UPDATE").count(), 10_000, "updates seen by {consumer}");
    let mut per_key: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for (kind, id, ver) in rows {
        per_key.entry(*id).or_default().push((kind.clone(), *ver));
    }
    assert_eq!(per_key.len(), 100, "keys seen by {consumer}");
    for (id, history) in per_key {
        let mut expected: Vec<(String, i64)> = vec![("INSERT".into(), 0)];
        expected.extend((1..=100).map(|v| ("UPDATE".to_owned(), v)));
        if id <= 10 {
            expected.push(("DELETE".into(), 100));
        }
        assert_eq!(history, expected, "history of key {id} seen by {consumer}");
    }
}

/// The workload is complete in what a consumer has seen (the deletes come last).
pub fn workload_done(rows: &[(String, i64, i64)]) -> bool {
    rows.iter().filter(|(kind, _, _)| kind == "DELETE").count() >= 10
}

/// Rows `(id, 0)` for ids `from..=to` of table `t (id, ver)`, as one INSERT.
pub async fn insert_t(db: &mut TestDb, from: i64, to: i64) {
    let values: Vec<String> = (from..=to).map(|id| format!("({id}, 0)")).collect();
    db.exec(&format!("INSERT INTO t VALUES {}", values.join(","))).await;
}

/// Wait until the cursor covers everything the server has written so far; returns that cursor.
pub async fn cursor_at_binlog_end(db: &mut TestDb, sluice: &Sluice) -> Cursor {
    let master = db.query("SHOW MASTER STATUS").await;
    let end = (master[0][0].clone().unwrap(), master[0][1].clone().unwrap().parse::<u64>().unwrap());
    eventually(Duration::from_secs(180), "the cursor to cover the acknowledged rows", || async {
        sluice.cursor().await.filter(|c| (c.position.binlog.file.clone(), c.position.binlog.offset) >= end)
    })
    .await
}

/// With the broker down: insert ids 101..=150 and 151..=200 of `t` in two transactions and check
/// for 8 s that the cursor never covers the first of them. Returns that transaction's GTID.
pub async fn write_while_broker_down(db: &mut TestDb, sluice: &Sluice, broker: &str) -> sluice::event::Gtid {
    insert_t(db, 101, 150).await;
    let first_unpublished = db.query("SELECT @@last_gtid").await[0][0].clone().unwrap();
    let first_unpublished = sluice::event::Gtid::Mariadb(first_unpublished.parse().unwrap());
    insert_t(db, 151, 200).await;
    let watch_until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < watch_until {
        let cursor = sluice.cursor().await.expect("cursor");
        assert!(
            !cursor.position.gtid_set.contains(&first_unpublished),
            "the cursor ({}) covers transaction {first_unpublished} while {broker} is down",
            cursor.position
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    first_unpublished
}

/// A small deterministic generator (xorshift64) for randomized tests: a seed replays a run.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index into something of `len` items.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.index(from.len())]
    }

    /// `text` one time in three, else nothing.
    pub fn maybe(&mut self, text: &'static str) -> &'static str {
        if self.below(3) == 0 { text } else { "" }
    }

    /// Exactly `n` random decimal digits.
    pub fn digits(&mut self, n: u64) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

/// An environment variable's number, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
