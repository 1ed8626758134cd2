//! The `sluice` command line. Argument parsing and exit codes only; the work is in the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sluice::binlog::value::{BinaryEncoding, RenderOptions};

/// Row decoding and encoding allocate many small strings: mimalloc is faster at that than the
/// system allocator and fragments less across the pipeline's threads (lower peak RSS).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use sluice::commands;
use sluice::source::preflight::Severity;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Change data capture from MySQL/MariaDB binlogs to Kafka, Canal-compatible"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every destination of the configuration (leader election through ZooKeeper).
    Run {
        /// Server file; destination files are read from its `destinations` directory.
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Check the configuration, the source servers, ZooKeeper and the brokers; report every problem.
    Check {
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Work with binlog files.
    Binlog {
        #[command(subcommand)]
        command: BinlogCommand,
    },
    /// Show or reset destinations' committed positions.
    Positions {
        #[command(subcommand)]
        command: PositionsCommand,
    },
    /// The cluster as ZooKeeper records it.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Benchmarks (see scripts/bench).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Print the effective configuration (files plus environment overrides) as JSON, passwords masked.
    Config {
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Print the messages a destination published (from the beginning of its topic).
    Tail {
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
        /// Destination name (default: the only one).
        #[arg(long, short)]
        destination: Option<String>,
        /// Stop after this many messages.
        #[arg(long)]
        max_messages: Option<u64>,
        /// Stop after this many seconds without a message.
        #[arg(long, default_value_t = 5)]
        idle_seconds: u64,
    },
}

#[derive(Subcommand)]
enum BinlogCommand {
    /// Decode binlog files to JSON lines: one per row change, DDL and commit.
    Decode {
        /// Binlog files, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Time zone for TIMESTAMP values.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Bytes (BINARY, VARBINARY, BLOB, GEOMETRY) as ISO-8859-1 characters (as Canal), base64,
        /// or upper-case hex (as HEX() prints them).
        #[arg(long, default_value = "latin1", value_parser = ["latin1", "base64", "hex"])]
        binary_encoding: String,
        /// Same as --binary-encoding base64.
        #[arg(long, conflicts_with = "binary_encoding")]
        base64: bool,
        /// The server ran with lower_case_table_names=1: read DDL's database and table names in
        /// lower case, as it stores them (else column names are lost after such DDL).
        #[arg(long)]
        lower_case_table_names: bool,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Live servers, and per destination its leader, candidates, committed position and lag.
    Status {
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The broker's ceiling: publish pre-encoded messages through the same publisher and settings.
    Produce {
        /// Use the sink of this configuration's first destination (any broker) instead of the
        /// Kafka flags; messages go to --topic.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:9092")]
        brokers: String,
        #[arg(long)]
        topic: String,
        #[arg(long, default_value_t = 3)]
        partitions: u32,
        /// How many messages to publish.
        #[arg(long)]
        messages: u64,
        /// Synthetic payload size (ignored with --replay-topic).
        #[arg(long, default_value_t = 1000)]
        message_bytes: usize,
        /// Publish the payloads found on this topic (what the pipeline published) instead.
        #[arg(long)]
        replay_topic: Option<String>,
        #[arg(long, default_value_t = 100)]
        messages_per_batch: usize,
        /// none, gzip, snappy or lz4
        #[arg(long, default_value = "lz4")]
        compression: String,
        /// transactional or idempotent
        #[arg(long, default_value = "transactional")]
        delivery: String,
    },
    /// Binlog decoding on one core over a generated binlog (10 mixed columns), beside the ceiling
    /// of reading the same file and checking CRC32s.
    Decode {
        /// Rows in the generated binlog.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Where to write the binlog (default: a temporary directory, removed afterwards).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Measured passes of each kind; the best is reported.
        #[arg(long, default_value_t = 3)]
        passes: u32,
    },
}

#[derive(Subcommand)]
enum PositionsCommand {
    /// Print each destination's committed cursor (Canal LogPosition JSON).
    Show {
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Delete a destination's cursor; it then starts from its configured start or the current position.
    Reset {
        #[arg(long, short, default_value = "config/sluice.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
        #[arg(long, short)]
        destination: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs its progress; one-shot commands only print their results. librdkafka's own
    // connection errors repeat on every retry, and Sluice reports the failures that matter itself.
    let default_filter = match cli.command {
        Command::Run { .. } => "info,zookeeper_client=warn,rdkafka=off,librdkafka=warn",
        _ => "warn,zookeeper_client=off,rdkafka=off,librdkafka=off",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG").unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<sluice::config::LoadedConfig> {
    sluice::config::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { config } => {
            let config = load(&config)?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("shutting down: flushing acknowledged work and releasing leadership");
                let _ = stop_tx.send(true);
            });
            sluice::app::run(config, stop_rx).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config } => {
            let config = match sluice::config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprint!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            println!("ok      configuration: {} destination(s)", config.destinations.len());
            let items = commands::check::check(&config).await;
            for item in &items {
                println!("{item}");
            }
            let errors = items.iter().filter(|i| i.severity == Some(Severity::Error)).count();
            if errors > 0 {
                println!("{errors} problem(s) must be fixed before `sluice run` can work");
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Binlog {
            command: BinlogCommand::Decode { files, time_zone, binary_encoding, base64, lower_case_table_names },
        } => {
            let binary = match (base64, binary_encoding.as_str()) {
                (true, _) | (false, "base64") => BinaryEncoding::Base64,
                (false, "hex") => BinaryEncoding::Hex,
                _ => BinaryEncoding::Latin1,
            };
            let render = RenderOptions {
                time_zone: sluice::config::parse_time_zone(&time_zone).map_err(anyhow::Error::msg)?,
                binary,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let options = commands::decode::DecodeOptions { render, lower_case_names: lower_case_table_names };
            let result = commands::decode::decode_files(&files, options, &mut out).await;
            std::io::Write::flush(&mut out)?;
            result?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Positions { command: PositionsCommand::Show { config } } => {
            let config = load(&config)?;
            for (name, cursor) in commands::positions::show(&config).await? {
                let source = config
                    .destinations
                    .iter()
                    .find(|d| d.name == name)
                    .map(|d| d.config.source.address.clone())
                    .unwrap_or_default();
                match cursor {
                    Some(c) => println!("{name}\t{}", String::from_utf8_lossy(&c.to_json(&source))),
                    None => println!("{name}\t(no committed position)"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Positions { command: PositionsCommand::Reset { config, destination } } => {
            let config = load(&config)?;
            let deleted = commands::positions::reset(&config, &destination).await?;
            println!(
                "{}",
                if deleted {
                    format!("{destination}: cursor deleted")
                } else {
                    format!("{destination}: had no cursor")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { command: BenchCommand::Decode { rows, file, passes } } => {
            use sluice::commands::bench::decode;
            let dir = tempfile::tempdir()?;
            let path = file.unwrap_or_else(|| dir.path().join("bench-bin.000001"));
            let size = decode::generate(&path, rows)?;
            println!("generated {} ({rows} rows, {:.1} MB)", path.display(), size as f64 / 1e6);
            let best = |a: decode::Pass, b: decode::Pass| if b.elapsed < a.elapsed { b } else { a };
            let mut ceiling = decode::read_and_check(&path)?;
            let mut decoded = decode::decode(&path).await?;
            for _ in 1..passes.max(1) {
                ceiling = best(ceiling, decode::read_and_check(&path)?);
                decoded = best(decoded, decode::decode(&path).await?);
            }
            println!(
                "read + CRC32 (ceiling): {:.0} MB/s, {:.0} rows/s ({:.3} s)",
                ceiling.megabytes_per_second(),
                rows as f64 / ceiling.elapsed.as_secs_f64(),
                ceiling.elapsed.as_secs_f64()
            );
            println!(
                "decode: {} rows, {:.0} rows/s, {:.0} MB/s ({:.3} s), {:.2} x the ceiling",
                decoded.rows,
                decoded.rows_per_second(),
                decoded.megabytes_per_second(),
                decoded.elapsed.as_secs_f64(),
                ceiling.elapsed.as_secs_f64() / decoded.elapsed.as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Produce {
                    config,
                    brokers,
                    topic,
                    partitions,
                    messages,
                    message_bytes,
                    replay_topic,
                    messages_per_batch,
                    delivery,
                    compression,
                },
        } => {
            let delivery = match delivery.as_str() {
                "transactional" => sluice::sink::kafka::Delivery::Transactional,
                "idempotent" => sluice::sink::kafka::Delivery::Idempotent,
                other => anyhow::bail!("--delivery must be transactional or idempotent, not {other}"),
            };
            let compression: sluice::sink::kafka::Compression =
                serde_json::from_value(serde_json::Value::String(compression.clone())).map_err(|_| {
                    anyhow::anyhow!("--compression must be none, gzip, snappy or lz4, not {compression}")
                })?;
            let payloads = match &replay_topic {
                Some(source) => {
                    let (brokers, source) = (brokers.clone(), source.clone());
                    tokio::task::spawn_blocking(move || commands::bench::read_payloads(&brokers, &source, messages))
                        .await??
                }
                None => vec![vec![b'x'; message_bytes.max(1)]],
            };
            let publisher: Box<dyn sluice::sink::Publisher> = match config {
                Some(path) => {
                    let loaded = load(&path)?;
                    let mut d = loaded
                        .destinations
                        .into_iter()
                        .next()
                        .ok_or_else(|| anyhow::anyhow!("{} has no destination", path.display()))?;
                    d.config.output.topic = Some(topic.clone());
                    d.config.output.partitions = partitions;
                    d.config.output.dynamic_topic.clear();
                    d.config.output.topic_partitions.clear();
                    if let Some(kafka) = &mut d.config.sink.kafka {
                        kafka.transactional_id = Some(format!("sluice-bench-{}", std::process::id()));
                    }
                    sluice::sink::for_destination(&d)?
                }
                None => {
                    let kafka = sluice::sink::kafka::KafkaSinkConfig {
                        brokers,
                        delivery,
                        compression,
                        transactional_id: Some(format!("sluice-bench-{}", std::process::id())),
                        ..Default::default()
                    };
                    Box::new(sluice::sink::kafka::KafkaPublisher::new(
                        &kafka,
                        "bench",
                        sluice::route::TopicRules::single(&topic, partitions),
                    )?)
                }
            };
            let bench =
                commands::bench::ProduceBench { publisher, topic, partitions, payloads, messages, messages_per_batch };
            let result = commands::bench::produce(bench).await?;
            let seconds = result.elapsed.as_secs_f64();
            println!(
                "{{\"messages\":{},\"bytes\":{},\"seconds\":{seconds:.3},\"messages_per_second\":{:.0},\"mb_per_second\":{:.2}}}",
                result.messages,
                result.bytes,
                result.messages as f64 / seconds,
                result.bytes as f64 / seconds / 1e6
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Cluster { command: ClusterCommand::Status { config, json } } => {
            let config = load(&config)?;
            let status = commands::cluster::status(&config).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{status}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { config } => {
            let config = load(&config)?;
            let destinations: Vec<serde_json::Value> = config
                .destinations
                .iter()
                .map(|d| {
                    let mut c = d.config.clone();
                    if !c.source.password.is_empty() {
                        c.source.password = "********".into();
                    }
                    serde_json::json!({ "name": d.name, "file": d.path, "config": c })
                })
                .collect();
            let effective = serde_json::json!({ "server": config.server, "destinations": destinations });
            println!("{}", serde_json::to_string_pretty(&effective)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Tail { config, destination, max_messages, idle_seconds } => {
            let config = load(&config)?;
            let d = match destination {
                Some(name) => config
                    .destinations
                    .iter()
                    .find(|d| d.name == name)
                    .with_context(|| format!("no destination '{name}'"))?,
                None if config.destinations.len() == 1 => &config.destinations[0],
                None => anyhow::bail!("several destinations: choose one with --destination"),
            };
            let opts = commands::tail::TailOptions {
                brokers: d.kafka().brokers,
                topic: d.topic(),
                max_messages,
                idle_timeout: Duration::from_secs(idle_seconds),
            };
            let count = tokio::task::spawn_blocking(move || {
                let stdout = std::io::stdout();
                commands::tail::tail(&opts, &mut stdout.lock())
            })
            .await??;
            eprintln!("{count} message(s)");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
