//! Bad configuration and badly set up servers give a clear error naming the problem and the fix,
//! a non-zero exit, and never a panic.

mod support;

use std::time::Duration;

use support::*;

fn write_config(dir: &std::path::Path, server: &str, destination: &str) -> String {
    std::fs::create_dir_all(dir.join("destinations")).unwrap();
    std::fs::write(dir.join("sluice.toml"), server).unwrap();
    std::fs::write(dir.join("destinations/shop.toml"), destination).unwrap();
    dir.join("sluice.toml").display().to_string()
}

fn assert_no_panic(output: &str) {
    assert!(!output.contains("panicked"), "sluice panicked:\n{output}");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    free_port()
}

/// A server file on the shared ZooKeeper with a root of its own.
fn server_toml(zk: &str, tag: &str) -> String {
    format!(
        "[server]\nadmin_port = 0\naddress = \"127.0.0.1:{}\"\n[zookeeper]\nservers = \"{zk}\"\nroot = \"/sluice-test/{}\"\n",
        free_port(),
        unique(tag)
    )
}

/// `sluice run` to completion: (succeeded, stdout + stderr).
async fn run_to_exit(path: String) -> (bool, String) {
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(sluice_bin()).args(["run", "--config", &path]).output().unwrap()
    })
    .await
    .unwrap();
    (
        output.status.success(),
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    )
}

fn destination(mysql: &str, user: &str, password: &str, kafka: &str) -> String {
    format!(
        "[source]\naddress = \"{mysql}\"\nuser = \"{user}\"\npassword = \"{password}\"\nconnect_timeout_ms = 2000\n\n\
         [filter]\ninclude = [\"shop\\\\..*\"]\n\n[sink.kafka]\nbrokers = \"{kafka}\"\ndelivery = \"idempotent\"\n"
    )
}

#[test]
fn malformed_toml_names_the_file_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), "[zookeeper\nservers = 1", &destination("h:1", "u", "p", "k:1"));
    for command in ["check", "run"] {
        let (code, output) = sluice_command(&[command, "--config", &path]);
        assert_ne!(code, 0, "{command}: {output}");
        assert!(output.contains("sluice.toml"), "{command} names the file: {output}");
        assert_no_panic(&output);
    }
}

#[test]
fn unknown_keys_and_bad_values_are_all_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = "[zookeeper]\nservers = \"127.0.0.1:2181\"\n";
    std::fs::create_dir_all(dir.path().join("destinations")).unwrap();
    std::fs::write(dir.path().join("sluice.toml"), server).unwrap();
    std::fs::write(
        dir.path().join("destinations/typo.toml"),
        "[source]\naddress = \"h:1\"\nuser = \"u\"\npasword = \"x\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("destinations/values.toml"),
        "[source]\naddress = \"no-port\"\nuser = \"u\"\n[output]\npartitions = 0\ntime_zone = \"Atlantis/Capital\"\npartition_hash = [\"(bad:$pk$\"]\n",
    )
    .unwrap();
    let (code, output) = sluice_command(&["check", "--config", &dir.path().join("sluice.toml").display().to_string()]);
    assert_eq!(code, 2, "{output}");
    for expected in
        ["pasword", "typo.toml", "source.address", "output.partitions", "time zone", "partition_hash", "values.toml"]
    {
        assert!(output.contains(expected), "expected '{expected}' in:\n{output}");
    }
    assert_no_panic(&output);
}

#[test]
fn unreachable_zookeeper_broker_and_mysql_are_each_reported_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let server = format!("[zookeeper]\nservers = \"127.0.0.1:{}\"\n", closed_port());
    let path = write_config(
        dir.path(),
        &server,
        &destination(&format!("127.0.0.1:{}", closed_port()), "u", "p", &format!("127.0.0.1:{}", closed_port())),
    );
    let (code, output) = sluice_command(&["check", "--config", &path]);
    assert_eq!(code, 1, "{output}");
    let errors: Vec<&str> = output.lines().filter(|l| l.starts_with("ERROR")).collect();
    assert!(errors.iter().any(|l| l.contains("zookeeper") && l.contains("fix:")), "{output}");
    assert!(
        errors.iter().any(|l| l.contains("source") && l.contains("cannot connect to MySQL") && l.contains("fix:")),
        "{output}"
    );
    assert!(errors.iter().any(|l| l.contains("broker") && l.contains("unreachable") && l.contains("fix:")), "{output}");
    assert_no_panic(&output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_keeps_retrying_an_unreachable_mysql_and_says_so() {
    let stack = stack();
    let mut config = SluiceConfig::new(&stack, "shop");
    config.mysql = format!("127.0.0.1:{}", closed_port());
    let mut sluice = Sluice::start(&config);
    eventually(Duration::from_secs(30), "a log line about the unreachable server", || async {
        sluice.log().contains("cannot connect to MySQL at").then_some(())
    })
    .await;
    assert!(sluice.wait_exit(Duration::from_millis(500)).is_none(), "a transient error must not stop the process");
    assert_no_panic(&sluice.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_with_the_fix() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let server = server_toml(&stack.zk, "pw");
    let path = write_config(dir.path(), &server, &destination(&stack.mysql, REPL_USER, "wrong-password", &stack.kafka));
    let (code, output) = sluice_command(&["check", "--config", &path]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("Access denied") && output.contains("password"), "{output}");
    let (succeeded, text) = run_to_exit(path).await;
    assert!(!succeeded, "{text}");
    assert!(text.contains("check the user and password"), "{text}");
    assert_no_panic(&text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_binlog_format_is_refused_with_the_fix() {
    let stack = stack();
    let mysql = PrivateStack::mariadb_with("binlog_format=STATEMENT");
    let dir = tempfile::tempdir().unwrap();
    let server = server_toml(&stack.zk, "stmt");
    let path = write_config(dir.path(), &server, &destination(&mysql.mysql(), REPL_USER, REPL_PASSWORD, &stack.kafka));
    let (code, output) = sluice_command(&["check", "--config", &path]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("binlog_format is STATEMENT") && output.contains("binlog_format=ROW"), "{output}");
    let (succeeded, text) = run_to_exit(path).await;
    assert!(!succeeded, "{text}");
    assert!(text.contains("binlog_format is STATEMENT"), "{text}");
    assert_no_panic(&text);
}

/// The binlog a destination must resume from was purged while it was down: it stops (no skipping
/// ahead), says the changes in between are lost to CDC and how to start again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_binlog_to_resume_from_stops_with_the_fix() {
    let stack = stack();
    let mysql = PrivateStack::mariadb_with("");
    let mut db = TestDb::create(&mysql.mysql(), "purged").await;
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.mysql = mysql.mysql();
    let mut sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    sluice.kill9();
    // The cursor as the killed run left it (a batch may have been committed after wait_running).
    let cursor = sluice.cursor().await.expect("a committed cursor");
    db.exec("INSERT INTO _warmup VALUES ()").await;
    // The server keeps a file until its binlog checkpoint and the killed connection are gone.
    for attempt in 0.. {
        db.exec("FLUSH BINARY LOGS").await;
        let current = db.query("SHOW MASTER STATUS").await[0][0].clone().unwrap();
        db.exec(&format!("PURGE BINARY LOGS TO '{current}'")).await;
        let files = db.query("SHOW BINARY LOGS").await;
        if files.iter().all(|f| f[0].as_deref() != Some(cursor.position.binlog.file.as_str())) {
            break;
        }
        assert!(attempt < 60, "the server keeps {files:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    sluice.restart();
    let status = sluice.wait_exit(Duration::from_secs(60)).expect("sluice should stop");
    assert!(!status.success());
    let log = sluice.log();
    assert!(log.contains("is no longer on the server") && log.contains("sluice positions reset"), "{log}");
    assert_no_panic(&log);
    // The cursor did not move past what was lost.
    assert_eq!(sluice.cursor().await.unwrap().position.binlog, cursor.position.binlog);
}

/// Sluice pointed at a replica: a MariaDB replica writes what it applies to its own binlog only
/// with log_slave_updates (default OFF), so one without it is refused — `sluice check` and
/// `sluice run` — with the fix, and one with it delivers the rows written on its source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_is_read_only_if_it_logs_what_it_applies() {
    let stack = stack();
    let source = PrivateStack::mariadb_with("");
    let silent = PrivateStack::mariadb_with("server-id=2");
    let logging = PrivateStack::mariadb_with("server-id=3\nlog_slave_updates=ON");
    let mut admin = connect(&source.mysql(), APP_USER, APP_PASSWORD).await;
    let status = admin.query("SHOW MASTER STATUS").await.unwrap();
    let (file, offset) = (status.rows[0].text(0).unwrap(), status.rows[0].text(1).unwrap());
    for replica in [&silent, &logging] {
        let mut conn = connect(&replica.mysql(), APP_USER, APP_PASSWORD).await;
        conn.execute(&format!(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, MASTER_USER = '{REPL_USER}', \
             MASTER_PASSWORD = '{REPL_PASSWORD}', MASTER_USE_GTID = no, MASTER_LOG_FILE = '{file}', \
             MASTER_LOG_POS = {offset}",
            source.mysql_port
        ))
        .await
        .unwrap();
        conn.execute("START SLAVE").await.unwrap();
    }
    let mut db = TestDb::create(&source.mysql(), "replicated").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))").await;

    let dir = tempfile::tempdir().unwrap();
    let server = server_toml(&stack.zk, "replica");
    let path = write_config(dir.path(), &server, &destination(&silent.mysql(), REPL_USER, REPL_PASSWORD, &stack.kafka));
    let (code, output) = sluice_command(&["check", "--config", &path]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("replicates from another one but log_slave_updates is OFF"), "{output}");
    assert!(output.contains("set log_slave_updates=ON"), "{output}");
    let (succeeded, text) = run_to_exit(path).await;
    assert!(!succeeded && text.contains("log_slave_updates is OFF"), "{text}");
    assert_no_panic(&text);

    let mut config = SluiceConfig::new(&stack, &db.name);
    config.mysql = logging.mysql();
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    db.exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')").await;
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || consume_until(&kafka, &topic, Duration::from_secs(60), |r| ids_in(r, "t").len() == 3)
    })
    .await
    .unwrap();
    assert_eq!(ids_in(&records, "t"), [1, 2, 3].into());
    assert!(!sluice.log().contains("log_slave_updates"), "{}", sluice.log());
}

/// A server that leaves databases out of its binlog (`binlog_ignore_db`): `sluice check` names the
/// captured tables whose changes never reach it, and says that DDL is filtered by the session's
/// database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_the_server_does_not_log_are_named() {
    let stack = stack();
    let mysql = PrivateStack::mariadb_with("binlog_ignore_db=quiet");
    let mut admin = connect(&mysql.mysql(), APP_USER, APP_PASSWORD).await;
    for sql in [
        "CREATE DATABASE quiet",
        "CREATE TABLE quiet.t (id INT PRIMARY KEY)",
        "CREATE DATABASE loud",
        "CREATE TABLE loud.t (id INT PRIMARY KEY)",
    ] {
        admin.execute(sql).await.unwrap();
    }
    let (code, output) = check_tables(&stack, &mysql, r"(quiet|loud)\\..*");
    assert_eq!(code, 0, "{output}");
    let warning =
        output.lines().find(|l| l.contains("filters its binlog by database")).unwrap_or_else(|| panic!("{output}"));
    assert!(warning.starts_with("warning") && warning.contains("(binlog_ignore_db=quiet)"), "{warning}");
    assert!(warning.contains("changes to 1 captured table(s) never reach it: quiet.t (fix:"), "{warning}");
}

/// `sluice check` of a destination capturing the tables `include` matches on `mysql`: its exit
/// code and output.
fn check_tables(stack: &Stack, mysql: &PrivateStack, include: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = server_toml(&stack.zk, "checked");
    let destination = destination(&mysql.mysql(), REPL_USER, REPL_PASSWORD, &stack.kafka)
        .replace(r#"include = ["shop\\..*"]"#, &format!(r#"include = ["{include}"]"#));
    let path = write_config(dir.path(), &server, &destination);
    sluice_command(&["check", "--config", &path])
}
