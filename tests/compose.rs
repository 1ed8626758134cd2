//! docker-compose.yml and the Dockerfile cannot run here (no container engine): check them
//! statically against what Sluice and its preflight need, so they stay in step with config/ and
//! the local stack.

mod support;

use std::collections::BTreeMap;

use serde_yaml::Value;
use support::*;

fn compose() -> Value {
    let text = std::fs::read_to_string(repo_root().join("docker-compose.yml")).unwrap();
    serde_yaml::from_str(&text).expect("docker-compose.yml is valid YAML")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

#[test]
fn services_use_the_upstream_images_and_loopback_ports() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let image = |name: &str| compose["services"][name]["image"].as_str().unwrap_or_default().to_owned();
    assert!(image("mysql").starts_with("mysql:8"));
    assert!(image("zookeeper").starts_with("zookeeper:3.8"));
    assert!(image("kafka").starts_with("apache/kafka:"));
    // The brokers of the other sinks, as in the local stack.
    assert!(image("rabbitmq").starts_with("rabbitmq:3"));
    assert!(image("rocketmq-namesrv").starts_with("apache/rocketmq:"));
    assert!(image("rocketmq-broker").starts_with("apache/rocketmq:"));
    let broker_command = compose["services"]["rocketmq-broker"]["command"].as_str().unwrap_or_default().to_owned();
    assert!(broker_command.contains("-n rocketmq-namesrv:9876"), "{broker_command}");
    let conf = std::fs::read_to_string(repo_root().join("docker/rocketmq-broker.conf")).unwrap();
    assert!(conf.contains("brokerName = broker-a") && conf.contains("brokerIP1 = rocketmq-broker"));
    assert_eq!(compose["services"]["sluice"]["build"].as_str(), Some("."));
    for (name, service) in services {
        for port in strings(&service["ports"]) {
            assert!(port.starts_with("127.0.0.1:"), "{name:?} publishes {port} beyond loopback");
        }
    }
}

#[test]
fn mysql_has_the_binlog_settings_the_preflight_requires() {
    let command = strings(&compose()["services"]["mysql"]["command"]);
    for flag in [
        "--log-bin=mysql-bin",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        "--server-id=1",
    ] {
        assert!(command.iter().any(|c| c == flag), "mysql command lacks {flag}: {command:?}");
    }
    let init = std::fs::read_to_string(repo_root().join("docker/mysql-init.sql")).unwrap();
    let demo = std::fs::read_to_string(repo_root().join("config/destinations/demo.toml")).unwrap();
    assert!(demo.contains("user = \"sluice\"") && demo.contains("password = \"sluice\""));
    assert!(
        init.contains("'sluice'@'%'") && init.contains("BY 'sluice'"),
        "the init script creates the configured user"
    );
    assert!(init.contains("GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.*"));
}

#[test]
fn the_sluice_environment_overrides_resolve_against_the_shipped_config() {
    let compose = compose();
    let env: BTreeMap<String, String> = compose["services"]["sluice"]["environment"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (k.as_str().unwrap().to_owned(), v.as_str().map(str::to_owned).unwrap_or_else(|| format!("{v:?}")))
        })
        .collect();
    let output = std::process::Command::new(sluice_bin())
        .args(["config", "--config"])
        .arg(repo_root().join("config/sluice.toml"))
        .envs(&env)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let effective: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(effective["server"]["zookeeper"]["servers"], "zookeeper:2181");
    assert_eq!(effective["server"]["server"]["admin_bind"], "0.0.0.0");
    let demo = &effective["destinations"][0];
    assert_eq!(demo["name"], "demo");
    assert_eq!(demo["config"]["source"]["address"], "mysql:3306");
    assert_eq!(demo["config"]["sink"]["kafka"]["brokers"], "kafka:9092");
    assert_eq!(demo["config"]["source"]["password"], "********");
    // The broker address sluice uses is one Kafka advertises.
    let advertised = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].as_str().unwrap();
    assert!(advertised.contains("//kafka:9092"), "{advertised}");
}

#[test]
fn the_dockerfile_builds_the_binary_and_ships_the_config() {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let rust_version = cargo.lines().find_map(|l| l.strip_prefix("rust-version = ")).unwrap().trim_matches('"');
    assert!(
        dockerfile.contains(&format!("FROM rust:{rust_version}")),
        "the build image matches rust-version {rust_version}"
    );
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(dockerfile.contains("COPY config /etc/sluice"));
    assert!(dockerfile.contains("\"--config\", \"/etc/sluice/sluice.toml\""));
    assert!(repo_root().join("config/sluice.toml").exists());
}
