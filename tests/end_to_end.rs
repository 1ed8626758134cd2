//! The whole pipeline against real MariaDB, ZooKeeper and Kafka: what lands in Kafka is exactly what
//! MariaDB holds, in Canal's flat message format.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use sha2::Digest;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

/// Column definitions of the type table, with the `sqlType` Canal reports for each.
const COLUMNS: &[(&str, &str, i64)] = &[
    ("ti", "TINYINT", -6),
    ("tiu", "TINYINT UNSIGNED", 5),
    ("si", "SMALLINT", 5),
    ("siu", "SMALLINT UNSIGNED", 4),
    ("mi", "MEDIUMINT", 4),
    ("miu", "MEDIUMINT UNSIGNED", 4),
    ("i", "INT", 4),
    ("iu", "INT UNSIGNED", -5),
    ("bi", "BIGINT", -5),
    ("biu", "BIGINT UNSIGNED", 3),
    ("dec6", "DECIMAL(20,6)", 3),
    ("dec0", "DECIMAL(5,0)", 3),
    ("fl", "FLOAT", 7),
    ("dbl", "DOUBLE", 8),
    ("ch", "CHAR(10)", 1),
    ("vc", "VARCHAR(100)", 12),
    ("tx", "TEXT", 2005),
    ("ch_l1", "CHAR(10) CHARACTER SET latin1", 1),
    ("vc_l1", "VARCHAR(50) CHARACTER SET latin1", 12),
    ("tx_l1", "TEXT CHARACTER SET latin1", 2005),
    ("bn", "BINARY(4)", 2004),
    ("vb", "VARBINARY(16)", 2004),
    ("bl", "BLOB", 2004),
    ("dt", "DATE", 91),
    ("tm", "TIME", 92),
    ("tm6", "TIME(6)", 92),
    ("dtm6", "DATETIME(6)", 93),
    ("ts6", "TIMESTAMP(6) NULL", 93),
    ("yr", "YEAR", 12),
    ("en", "ENUM('small','medium','large')", 12),
    ("st", "SET('a','b','c','d')", 12),
    ("bt", "BIT(10)", -7),
    ("bt1", "BIT(1)", -7),
    ("js", "JSON", 2005),
    ("geo", "GEOMETRY", 2004),
    // MariaDB's compressed columns (zlib, or stored as is when that is not smaller).
    ("vcz", "VARCHAR(300) COMPRESSED", 12),
    ("txz", "TEXT COMPRESSED", 2005),
    ("blz", "BLOB COMPRESSED", 2004),
];

/// Rows with boundary values: maxima, minima, zeros/empties, and NULLs.
const ROWS: &[&str] = &[
    "(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, \
      18446744073709551615, 99999999999999.999999, 99999, 3.40282e38, 1.7976931348623157e308, 'abc', \
      'héllo wörld 😀 中文', REPEAT('long text ', 500), 'café', 'naïve €', 'Ærøskøbing œ', x'00ff1020', \
      x'00ff80', x'deadbeef00', '9999-12-31', '838:59:59', '-838:59:59.000000', '9999-12-31 23:59:59.999999', \
      '2038-01-19 03:14:07.999999', 2155, 'large', 'a,d', b'1111111111', b'1', \
      '{\"a\": [1, 2.5, {\"b\": null}], \"c\": \"x\\\\\"y\", \"d\": true}', \
      ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 0))', 4326), REPEAT('héllo 😀 ', 37), REPEAT('long text ', 500), \
      REPEAT(x'00ff', 300))",
    "(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, -99999999999999.999999, \
      -99999, -3.40282e38, -1.7976931348623157e308, '', '', '', '', '', '', x'00', x'', x'', '1000-01-01', \
      '-838:59:59', '00:00:00.000001', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', 1901, \
      'small', '', b'0', b'0', '[]', ST_GeomFromText('POINT(1 2)'), '', '', x'')",
    "(3, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0.000001, 0, 1.5, 0.1, 'x y', 'tab\\tnew\\nline\\\\ \"quote\"', 'a', 'x', \
      'y', 'z', 'ab', x'41', x'7f', '2024-02-29', '00:00:00', '12:34:56.5', '2024-02-29 13:14:15.000001', \
      '2024-02-29 13:14:15.250000', 0, 'medium', 'b,c', b'0000000001', b'0', '{}', \
      ST_GeomFromText('LINESTRING(0 0,1.5 -2.25)'), 'x', 'ab', x'41')",
    "(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL)",
    "(5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 123.456, 12345, 3.14159, 2.718281828459045, 'z', 'zero date row', '', \
      '', '', '', x'01020304', x'0102', x'00', '0000-00-00', '-00:00:01', '-00:00:00.500000', \
      '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00.000000', 1999, '', 'a,b,c,d', b'1000000000', b'1', \
      '\"just a string\"', ST_GeomFromText('GEOMETRYCOLLECTION(POINT(0 0),POINT(-1 1e300))'), '中', 'z', x'00')",
];

/// A database holding the table `create` makes, and Sluice running on it (default destination).
async fn running_on(prefix: &str, create: &str) -> (Stack, TestDb, SluiceConfig, Sluice) {
    let stack = stack();
    let (db, config, sluice) = running_on_server(&stack, &stack.mysql, prefix, create).await;
    (stack, db, config, sluice)
}

/// [`running_on`] with the database on the server at `mysql`.
async fn running_on_server(stack: &Stack, mysql: &str, prefix: &str, create: &str) -> (TestDb, SluiceConfig, Sluice) {
    let mut db = TestDb::create(mysql, prefix).await;
    db.exec(create).await;
    let mut config = SluiceConfig::new(stack, &db.name);
    config.mysql = mysql.to_owned();
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    (db, config, sluice)
}

/// Each row of `shown` (an id, then the value of each of `names`, as MariaDB returns them) equals
/// the INSERT of that id in `records`, value for value (NULL as null).
fn assert_rows_as_shown(records: &[Record], table: &str, names: &[&str], shown: &[Vec<Option<String>>], log: &Sluice) {
    for row in shown {
        let id = row[0].clone().unwrap();
        let got = inserted_row(records, table, &id).unwrap_or_else(|| panic!("row {id}; log:\n{}", log.log()));
        for (i, name) in names.iter().enumerate() {
            let want = row[i + 1].as_deref().map_or(Value::Null, |v| Value::String(v.to_owned()));
            assert_eq!(got[*name], want, "row {id} column {name}");
        }
    }
}

fn is_binary(column: &str) -> bool {
    matches!(column, "bn" | "vb" | "bl" | "geo" | "blz")
}

/// ISO-8859-1 text back to bytes (Canal's rendering of binary values).
fn latin1_bytes(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or_else(|_| panic!("binary value has a char above U+00FF: {c:?}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_matches_what_mariadb_returns() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "types").await;
    let columns: Vec<String> = COLUMNS.iter().map(|(name, ty, _)| format!("`{name}` {ty}")).collect();
    db.exec(&format!("CREATE TABLE all_types (id INT PRIMARY KEY, {})", columns.join(", "))).await;

    let mut config = SluiceConfig::new(&stack, &db.name);
    config.delivery = "transactional";
    let sluice = Sluice::start(&config);
    // The destination starts at the server's current position: wait until it is running.
    wait_running(&mut db, &sluice).await;
    // Row 5 holds values only a non-strict session can write (the empty ENUM index 0).
    db.exec("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'").await;
    for row in ROWS {
        db.exec(&format!("INSERT INTO all_types VALUES {row}")).await;
    }
    db.exec("UPDATE all_types SET vc = 'changed', i = i + 1 WHERE id = 3").await;
    db.exec("DELETE FROM all_types WHERE id = 5").await;

    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || {
            consume_until(&kafka, &topic, WAIT, |records| {
                records.iter().any(|r| r.json["type"] == "DELETE")
                    && ids_in(records, "all_types").is_superset(&(1..=5).collect())
            })
        }
    })
    .await
    .unwrap();

    // MariaDB's own rendering of each value, over the text protocol, TIMESTAMP in UTC.
    db.exec("SET time_zone = '+00:00'").await;
    let select: Vec<String> = COLUMNS
        .iter()
        .map(|(name, _, _)| if name.starts_with("bt") { format!("`{name}` + 0") } else { format!("`{name}`") })
        .collect();
    let rs = db
        .conn
        .query(&format!("SELECT id, {} FROM all_types WHERE id <= 5 ORDER BY id", select.join(", ")))
        .await
        .unwrap();
    let mut expected: HashMap<String, Vec<Option<Vec<u8>>>> = HashMap::new();
    for row in &rs.rows {
        let id = row.text(0).unwrap();
        expected.insert(id, (1..=COLUMNS.len()).map(|i| row.bytes(i).map(<[u8]>::to_vec)).collect());
    }

    let inserts: HashMap<String, &Record> = records
        .iter()
        .filter(|r| r.json["type"] == "INSERT" && r.json["table"] == "all_types")
        .flat_map(|r| {
            r.json["data"].as_array().unwrap().iter().map(move |row| (row["id"].as_str().unwrap().to_owned(), r))
        })
        .collect();
    let row_of = |record: &Record, id: &str| -> Value {
        record.json["data"].as_array().unwrap().iter().find(|row| row["id"] == id).cloned().unwrap()
    };

    // Rows 1–4 as inserted (row 3 was updated later: compare its unchanged columns below).
    for id in ["1", "2", "4"] {
        let record = inserts.get(id).unwrap_or_else(|| panic!("row {id} missing from Kafka"));
        let row = row_of(record, id);
        for (i, (name, _, _)) in COLUMNS.iter().enumerate() {
            let want = &expected[id][i];
            let got = &row[*name];
            match (want, got) {
                (None, Value::Null) => {}
                (Some(bytes), Value::String(text)) if is_binary(name) => {
                    assert_eq!(&latin1_bytes(text), bytes, "row {id} column {name}");
                }
                (Some(bytes), Value::String(text)) => {
                    assert_eq!(text, &String::from_utf8(bytes.clone()).unwrap(), "row {id} column {name}");
                }
                _ => panic!("row {id} column {name}: MariaDB has {want:?}, Kafka has {got}"),
            }
        }
    }

    // The message envelope, as Canal writes it.
    let record = inserts["1"];
    let json = &record.json;
    assert_eq!(json["database"], db.name.as_str());
    assert_eq!(json["table"], "all_types");
    assert_eq!(json["isDdl"], false);
    assert_eq!(json["sql"], "");
    assert_eq!(json["old"], Value::Null);
    assert_eq!(json["pkNames"], serde_json::json!(["id"]));
    let gtid = json["gtid"].as_str().unwrap();
    assert!(gtid.split('-').count() == 3, "MariaDB GTID domain-server-seq, got {gtid}");
    assert!(
        json["es"].as_u64().unwrap() > 1_600_000_000_000
            && json["ts"].as_u64().unwrap() >= json["es"].as_u64().unwrap()
    );
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "data",
            "database",
            "es",
            "gtid",
            "id",
            "isDdl",
            "mysqlType",
            "old",
            "pkNames",
            "sql",
            "sqlType",
            "table",
            "ts",
            "type"
        ]
    );
    let declared = db
        .query(&format!(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{}' AND TABLE_NAME = 'all_types'",
            db.name
        ))
        .await;
    for row in declared {
        let (name, column_type) = (row[0].clone().unwrap(), row[1].clone().unwrap());
        assert_eq!(json["mysqlType"][&name], column_type.as_str(), "mysqlType of {name}");
    }
    for (name, _, sql_type) in COLUMNS {
        assert_eq!(json["sqlType"][*name], *sql_type, "sqlType of {name}");
    }
    assert_eq!(record.headers["sluice.destination"], config.destination);
    assert_eq!(record.headers["sluice.gtid"], gtid);
    assert!(record.headers["sluice.position"].starts_with("mysql-bin."), "{:?}", record.headers);

    // UPDATE: data is the after image, old only the changed columns.
    let update = records.iter().find(|r| r.json["type"] == "UPDATE").expect("UPDATE message");
    let after = row_of(update, "3");
    assert_eq!(after["vc"], "changed");
    assert_eq!(after["i"], "1");
    assert_eq!(update.json["old"], serde_json::json!([{"i": "0", "vc": "tab\tnew\nline\\ \"quote\""}]));
    let insert3 = row_of(inserts["3"], "3");
    for (i, (name, _, _)) in COLUMNS.iter().enumerate() {
        if *name == "vc" || *name == "i" {
            continue;
        }
        let want = expected["3"][i].clone();
        let got = &insert3[*name];
        match (want, got) {
            (Some(bytes), Value::String(text)) if is_binary(name) => {
                assert_eq!(latin1_bytes(text), bytes, "row 3 {name}")
            }
            (Some(bytes), Value::String(text)) => assert_eq!(text.as_bytes(), bytes.as_slice(), "row 3 {name}"),
            (None, Value::Null) => {}
            (want, got) => panic!("row 3 {name}: {want:?} vs {got}"),
        }
    }

    // DELETE: data is the before image (row 5: zero dates, negative small times).
    let delete = records.iter().find(|r| r.json["type"] == "DELETE").expect("DELETE message");
    let deleted = row_of(delete, "5");
    assert_eq!(deleted["dt"], "0000-00-00");
    assert_eq!(deleted["tm"], "-00:00:01");
    assert_eq!(deleted["tm6"], "-00:00:00.500000");
    assert_eq!(deleted["dtm6"], "0000-00-00 00:00:00.000000");
    assert_eq!(deleted["ts6"], "0000-00-00 00:00:00.000000");
    assert_eq!(deleted["en"], "");
    assert_eq!(deleted["st"], "a,b,c,d");
    assert_eq!(deleted["bt"], "512");
    assert_eq!(deleted["dec6"], "123.456000");
    assert_eq!(deleted["fl"], "3.14159");
    assert_eq!(deleted["dbl"], "2.718281828459045");
    assert_eq!(deleted["bn"], "\u{1}\u{2}\u{3}\u{4}");
    drop(sluice);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_passes_through_as_canal_ddl_messages_on_every_partition() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "ddl").await;
    let config = SluiceConfig::new(&stack, &db.name);
    let sluice = Sluice::start(&config);
    db.exec("CREATE TABLE marker (id INT PRIMARY KEY)").await;
    wait_running(&mut db, &sluice).await;
    let statements = [
        ("CREATE TABLE t1 (id INT PRIMARY KEY, a INT)", "CREATE", "t1"),
        ("ALTER TABLE t1 ADD COLUMN b VARCHAR(10)", "ALTER", "t1"),
        ("CREATE INDEX ia ON t1 (a)", "CINDEX", "t1"),
        ("DROP INDEX ia ON t1", "DINDEX", "t1"),
        ("TRUNCATE TABLE t1", "TRUNCATE", "t1"),
        ("RENAME TABLE t1 TO t2", "RENAME", "t1"),
        ("DROP TABLE t2", "ERASE", "t2"),
    ];
    for (sql, _, _) in statements {
        db.exec(sql).await;
    }
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || consume_until(&kafka, &topic, WAIT, |r| r.iter().filter(|m| m.json["isDdl"] == true).count() >= 3 * 7)
    })
    .await
    .unwrap();
    for (sql, kind, table) in statements {
        // MariaDB logs some statements rewritten (`DROP TABLE \`t2\` /* generated by server */`).
        let logged = |r: &&Record| r.json["sql"].as_str().unwrap().replace('`', "").starts_with(sql);
        let copies: Vec<&Record> = records.iter().filter(|r| r.json["isDdl"] == true).filter(logged).collect();
        let partitions: std::collections::BTreeSet<i32> = copies.iter().map(|r| r.partition).collect();
        assert_eq!(partitions.len(), 3, "{sql} must reach every partition, got {partitions:?}");
        let json = &copies[0].json;
        assert_eq!(json["type"], kind, "{sql}");
        assert_eq!(json["table"], table, "{sql}");
        assert_eq!(json["database"], db.name.as_str(), "{sql}");
        assert_eq!(json["data"], Value::Null);
        assert_eq!(json["pkNames"], Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_committed_transactions_arrive_whole() {
    let (stack, mut db, config, _sluice) =
        running_on("txn", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))").await;
    db.exec("BEGIN").await;
    db.exec("INSERT INTO t VALUES (1, 'rolled'), (2, 'back')").await;
    db.exec("ROLLBACK").await;
    db.exec("BEGIN").await;
    db.exec("INSERT INTO t VALUES (3, 'a'), (4, 'b'), (5, 'c')").await;
    db.exec("INSERT INTO t VALUES (6, 'd')").await;
    db.exec("UPDATE t SET v = 'e' WHERE id IN (3, 4)").await;
    db.exec("COMMIT").await;
    db.exec("INSERT INTO t VALUES (7, 'last')").await;

    let update_rows = |records: &[Record]| -> usize {
        records.iter().filter(|r| r.json["table"] == "t" && r.json["type"] == "UPDATE").map(|r| r.rows().len()).sum()
    };
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || {
            consume_until(&kafka, &topic, WAIT, |records| {
                ids_in(records, "t").is_superset(&[3, 4, 5, 6, 7].into()) && update_rows(records) >= 2
            })
        }
    })
    .await
    .unwrap();
    let ids = ids_in(&records, "t");
    assert!(!ids.contains(&1) && !ids.contains(&2), "a rolled-back transaction must produce nothing: {ids:?}");
    // The committed transaction's changes share one GTID.
    let gtids: std::collections::HashSet<&str> = records
        .iter()
        .filter(|r| r.json["table"] == "t")
        .filter(|r| r.rows().iter().any(|(_, row)| matches!(row["id"].as_str(), Some("3" | "4" | "5" | "6"))))
        .map(|r| r.json["gtid"].as_str().unwrap())
        .collect();
    assert_eq!(gtids.len(), 1, "one transaction, one GTID: {gtids:?}");
    assert_eq!(update_rows(&records), 2);
}

/// A rows event over 16 MiB reaches Sluice as several protocol packets (MySQL's continuation
/// packets): the row arrives whole, in one message when the limits allow it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_over_16_mib_arrives_whole() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "big").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, doc LONGTEXT)").await;
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.output_extra = "max_message_bytes = 48000000".into();
    config.sink = Some(format!(
        "[sink.kafka]\nbrokers = \"{}\"\ndelivery = \"idempotent\"\nmessage_timeout_ms = 30000\n\
         max_message_bytes = 48000000\n",
        stack.kafka
    ));
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    // 20 MiB of text whose every KiB differs, so a lost or repeated packet cannot go unnoticed.
    db.exec("SET SESSION group_concat_max_len = 64 << 20").await;
    db.exec("INSERT INTO t SELECT 1, GROUP_CONCAT(LPAD(seq, 1024, '.') ORDER BY seq SEPARATOR '') FROM seq_1_to_20480")
        .await;
    db.exec("INSERT INTO t VALUES (2, 'after')").await;
    // (Its digest: the value itself would come back to this test's client in a packet as big.)
    let shown = db.query("SELECT LENGTH(doc), SHA2(doc, 256) FROM t WHERE id = 1").await;
    assert_eq!(shown[0][0].as_deref(), Some("20971520"));
    let records = consume_ids(&stack.kafka, &config.topic, "t", [1, 2], WAIT).await;
    let row = inserted_row(&records, "t", "1").unwrap_or_else(|| panic!("row 1 missing:\n{}", sluice.log()));
    let doc = row["doc"].as_str().unwrap();
    let digest: String = sha2::Sha256::digest(doc).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!((doc.len(), Some(digest)), (20 << 20, shown[0][1].clone()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_is_canal_log_position_at_the_transaction_boundary() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "cursor").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY)").await;
    let config = SluiceConfig::new(&stack, &db.name);
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    db.exec("INSERT INTO t VALUES (1), (2), (3)").await;
    // The position right after our last transaction, and its GTID.
    let master = db.query("SHOW MASTER STATUS").await;
    let (file, offset) = (master[0][0].clone().unwrap(), master[0][1].clone().unwrap().parse::<u64>().unwrap());
    let gtid_pos = db.query("SELECT @@gtid_binlog_pos").await[0][0].clone().unwrap();
    consume_ids(&stack.kafka, &config.topic, "t", [1, 2, 3], WAIT).await;
    // Other tests write to the same server: the cursor passes our transaction's end.
    let cursor = eventually(WAIT, "the cursor to pass the last transaction", || async {
        sluice
            .cursor()
            .await
            .filter(|c| (c.position.binlog.file.as_str(), c.position.binlog.offset) >= (file.as_str(), offset))
    })
    .await;
    assert!(cursor.written_by_sluice);
    assert!(!cursor.position.gtid_set.is_empty());
    let _ = gtid_pos;

    // The raw znode is Canal's LogPosition JSON.
    let client = zookeeper_client::Client::connect(&stack.zk).await.unwrap();
    let path = sluice::cluster::ZkPaths::new(&config.zk_root).cursor(&config.destination);
    assert!(path.ends_with(&format!("/destinations/{}/1001/cursor", config.destination)));
    let (data, _) = client.get_data(&path).await.unwrap();
    let json: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(json["@type"], "com.alibaba.otter.canal.protocol.position.LogPosition");
    assert_eq!(json["identity"]["slaveId"], -1);
    assert_eq!(
        json["identity"]["sourceAddress"]["port"],
        stack.mysql.rsplit(':').next().unwrap().parse::<u64>().unwrap()
    );
    assert_eq!(json["postion"]["included"], false);
    assert!(json["postion"]["journalName"].as_str().unwrap().starts_with("mysql-bin."));
    assert!(json["postion"]["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    // The running node is Canal's too.
    let running = sluice::cluster::ZkPaths::new(&config.zk_root).running(&config.destination);
    let (data, _) = client.get_data(&running).await.unwrap();
    let json: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(json, serde_json::json!({"active": true, "address": config.address}));
}

/// Every code of `charset` (one byte, or lead and trail bytes for a two-byte set), skipping `?`.
fn candidate_codes(charset: &sluice::binlog::column::LegacyCharset) -> Vec<Vec<u8>> {
    use sluice::binlog::column::CodeLayout;
    let pairs = |leads: &mut dyn Iterator<Item = u8>, trails: &[u8]| -> Vec<Vec<u8>> {
        leads.flat_map(|lead| trails.iter().map(move |&trail| vec![lead, trail])).collect()
    };
    let mut codes: Vec<Vec<u8>> = (0x21..=0xffu8).filter(|&b| b != b'?').map(|b| vec![b]).collect();
    if charset.layout != CodeLayout::SingleByte {
        codes.retain(|c| c[0] < 0x80);
    }
    match charset.layout {
        CodeLayout::SingleByte => {}
        CodeLayout::DoubleByte | CodeLayout::Gb18030 => {
            let trails: Vec<u8> = (0x40..=0xfe).filter(|&t| t != 0x7f).collect();
            codes.extend(pairs(&mut (0x81..=0xfe), &trails));
        }
        CodeLayout::ShiftJis => {
            codes.extend((0xa1..=0xdf).map(|kana| vec![kana]));
            let trails: Vec<u8> = (0x40..=0xfc).filter(|&t| t != 0x7f).collect();
            codes.extend(pairs(&mut (0x81..=0x9f).chain(0xe0..=0xfc), &trails));
        }
        CodeLayout::EucJp => {
            codes.extend((0xa1..=0xdf).map(|kana| vec![0x8e, kana]));
            let cells: Vec<u8> = (0xa1..=0xfe).collect();
            let jis_x_0208 = pairs(&mut (0xa1..=0xfe), &cells);
            let jis_x_0212 = jis_x_0208.iter().map(|code| [&[0x8f][..], code].concat()).collect::<Vec<_>>();
            codes.extend(jis_x_0208);
            codes.extend(jis_x_0212);
        }
    }
    codes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `binary_encoding = "hex"`: bytes and GEOMETRY (SRID then WKB, the form MySQL stores) as
/// MariaDB's own HEX() prints them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_values_in_hex_match_mariadbs_hex() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "hex").await;
    db.exec("CREATE TABLE bytes (id INT PRIMARY KEY, bn BINARY(4), vb VARBINARY(8), bl BLOB, geo GEOMETRY)").await;
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.output_extra = "binary_encoding = \"hex\"\n".into();
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    db.exec(
        "INSERT INTO bytes VALUES (1, x'ff01', x'00ff80', x'deadbeef00', ST_GeomFromText('POINT(1.5 -2)', 4326)), \
         (2, x'', x'', x'', ST_GeomFromText('LINESTRING(0 0,1 1)'))",
    )
    .await;
    let records = consume_ids(&stack.kafka, &config.topic, "bytes", [1, 2], WAIT).await;
    let shown = db.query("SELECT id, HEX(bn), HEX(vb), HEX(bl), HEX(geo) FROM bytes ORDER BY id").await;
    assert_eq!(shown.len(), 2);
    assert_rows_as_shown(&records, "bytes", &["bn", "vb", "bl", "geo"], &shown, &sluice);
}

/// MariaDB's UUID, INET4 and INET6 reach the binlog as binary CHARs; only the declared type says
/// they are texts. Each value arrives as MariaDB shows it (its own CAST to text), the INET6 forms
/// covering zero runs (the first longest, even of one group) and IPv4-compatible/mapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uuid_and_inet_values_arrive_as_mariadb_shows_them() {
    let (stack, mut db, config, sluice) =
        running_on("inet", "CREATE TABLE addr (id INT PRIMARY KEY, u UUID, i4 INET4, i6 INET6)").await;
    let uuids = [
        "123e4567-e89b-12d3-a456-426655440000",
        "550e8400-e29b-41d4-a716-446655440000",
        "01890a5d-ac96-774b-bcce-b302099a8057",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "6ccd780c-baba-1026-0000-000000000001",
    ];
    let inet4 = ["0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.0.1"];
    let inet6 = [
        "::",
        "::1",
        "::2:3",
        "1::",
        "1:0:0:2::3",
        "1:0:0:2:0:0:0:3",
        "2001:db8::ff00:42:8329",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "::ffff:0.0.0.0",
        "::ffff:0:102:304",
        "::100",
        "1:2:3:4:5:6:7:8",
        "fe80::1",
        "0:0:0:0:0:1:0:0",
        "1:0:2:0:3:0:4:0",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ];
    let rows: Vec<String> = (0..inet6.len())
        .map(|i| {
            let quoted = |v: Option<&&str>| v.map_or("NULL".to_owned(), |v| format!("'{v}'"));
            format!("({}, {}, {}, '{}')", i + 1, quoted(uuids.get(i)), quoted(inet4.get(i)), inet6[i])
        })
        .collect();
    db.exec(&format!("INSERT INTO addr VALUES {}", rows.join(", "))).await;
    let ids = 1..=inet6.len() as i64;
    let records = consume_ids(&stack.kafka, &config.topic, "addr", ids, WAIT).await;
    let shown = db.query("SELECT id, CAST(u AS CHAR), CAST(i4 AS CHAR), CAST(i6 AS CHAR) FROM addr ORDER BY id").await;
    assert_eq!(shown.len(), inet6.len());
    assert_rows_as_shown(&records, "addr", &["u", "i4", "i6"], &shown, &sluice);
    let message = records.iter().find(|r| r.json["table"] == "addr").unwrap();
    assert_eq!(
        message.json["mysqlType"],
        serde_json::json!({"id": "int(11)", "u": "uuid", "i4": "inet4", "i6": "inet6"})
    );
    assert_eq!(message.json["sqlType"]["u"], 1);
}

/// ucs2, utf16, utf16le and utf32 text (2- and 4-byte code units, surrogate pairs) arrives as
/// MariaDB shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_and_utf32_text_arrives_as_mariadb_shows_it() {
    let sets = ["ucs2", "utf16", "utf16le", "utf32"];
    let columns: Vec<String> = sets.iter().map(|set| format!("{set}_v VARCHAR(20) CHARACTER SET {set}")).collect();
    let create = format!("CREATE TABLE wide (id INT PRIMARY KEY, {}, t TEXT CHARACTER SET utf16)", columns.join(", "));
    let (stack, mut db, config, sluice) = running_on("wide", &create).await;
    // ucs2 holds no characters beyond the BMP.
    let rows = [("héllo wörld", "a 😀 b"), ("中文 ∑ €", "𝄞𝄢"), ("", ""), ("x", "\u{FFFD}")];
    let values: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, (bmp, astral))| format!("({}, '{bmp}', '{astral}', '{astral}', '{astral}', '{astral}')", i + 1))
        .collect();
    db.exec(&format!("INSERT INTO wide VALUES {}", values.join(", "))).await;
    let records = consume_ids(&stack.kafka, &config.topic, "wide", 1..=rows.len() as i64, WAIT).await;
    let mut names: Vec<String> = sets.iter().map(|set| format!("{set}_v")).collect();
    names.push("t".into());
    let shown = db.query(&format!("SELECT id, {} FROM wide ORDER BY id", names.join(", "))).await;
    assert_eq!(shown.len(), rows.len());
    assert_rows_as_shown(&records, "wide", &names.iter().map(String::as_str).collect::<Vec<_>>(), &shown, &sluice);
}

/// A MariaDB writing compressed events (`log_bin_compress`: QUERY and rows events zlib-compressed),
/// no checksums and MINIMAL row images: every change arrives, with the columns each image has.
/// (Its compressed rows events failed to decode before: the column bitmaps are not compressed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_events_without_checksums_and_minimal_images_arrive() {
    let shared = stack();
    let mysql = PrivateStack::mariadb_with(
        "log_bin_compress=ON\nlog_bin_compress_min_len=10\nbinlog_checksum=NONE\nbinlog_row_image=MINIMAL",
    );
    let create = "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(100), b TEXT, c INT) \
                  COMMENT 'long enough to be compressed, like every statement over ten bytes'";
    let (mut db, config, sluice) = running_on_server(&shared, &mysql.mysql(), "compressed", create).await;
    db.exec("INSERT INTO t VALUES (1, REPEAT('x', 50), REPEAT('y', 60), 3), (2, 'two', NULL, 2)").await;
    db.exec("INSERT INTO t (id, a) SELECT seq, 'row' FROM seq_100_to_199").await;
    db.exec("UPDATE t SET c = 4 WHERE id = 1").await;
    db.exec("DELETE FROM t WHERE id = 2").await;
    // (MariaDB compresses no DELETE of MINIMAL images, which hold only the key: these, FULL.)
    db.exec("SET SESSION binlog_row_image = 'FULL'").await;
    db.exec("DELETE FROM t WHERE id >= 100").await;
    db.exec("ALTER TABLE t ADD COLUMN d VARCHAR(40) DEFAULT 'added by a compressed statement'").await;
    db.exec("INSERT INTO t (id, d) VALUES (3, 'three')").await;
    let compressed = db.query("SHOW BINLOG EVENTS").await;
    let types: std::collections::HashSet<String> = compressed.iter().filter_map(|e| e[2].clone()).collect();
    for kind in
        ["Query_compressed", "Write_rows_compressed_v1", "Update_rows_compressed_v1", "Delete_rows_compressed_v1"]
    {
        assert!(types.contains(kind), "the server wrote no {kind}: {types:?}");
    }

    fn rows(records: &[Record], kind: &str) -> Vec<Value> {
        let messages = records.iter().filter(|r| r.json["table"] == "t" && r.json["type"] == kind);
        messages.flat_map(|r| r.json["data"].as_array().unwrap().clone()).collect()
    }
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (shared.kafka.clone(), config.topic.clone());
        move || {
            consume_until(&kafka, &topic, WAIT, |records| {
                rows(records, "INSERT").len() >= 103 && rows(records, "DELETE").len() >= 101
            })
        }
    })
    .await
    .unwrap();
    // MINIMAL: every column on INSERT, the changed column on UPDATE, the key on DELETE (id 2).
    let row = |id: &str| inserted_row(&records, "t", id).unwrap_or_else(|| panic!("row {id}:\n{}", sluice.log()));
    assert_eq!(row("1"), serde_json::json!({"id": "1", "a": "x".repeat(50), "b": "y".repeat(60), "c": "3"}));
    assert_eq!(row("2"), serde_json::json!({"id": "2", "a": "two", "b": null, "c": "2"}));
    assert_eq!(row("3")["d"], "three");
    assert_eq!(rows(&records, "INSERT").len(), 103);
    assert_eq!(rows(&records, "UPDATE"), [serde_json::json!({"c": "4"})]);
    let id = |v: &Value| v["id"].as_str().unwrap().parse::<i64>().unwrap();
    let deletes = rows(&records, "DELETE");
    assert!(deletes.contains(&serde_json::json!({"id": "2"})), "{deletes:?}");
    assert!(deletes.contains(&serde_json::json!({"id": "150", "a": "row", "b": null, "c": null})), "{deletes:?}");
    let mut deleted: Vec<i64> = deletes.iter().map(id).collect();
    deleted.sort();
    assert_eq!(deleted, std::iter::once(2).chain(100..200).collect::<Vec<i64>>());
    let ddl: Vec<&Value> = records.iter().filter(|r| r.json["type"] == "ALTER").map(|r| &r.json).collect();
    assert!(!ddl.is_empty() && ddl[0]["sql"].as_str().unwrap().contains("added by a compressed statement"));
}

/// A MariaDB encrypting its binlog (`encrypt_binlog`): the server decrypts events for replicas, so
/// rows arrive as from any other. (Offline, such a file is a clear error: tests/binlog_fixtures.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_binlog_streams_its_rows() {
    let shared = stack();
    let keys = tempfile::Builder::new().prefix("sluice-keys-").tempdir().unwrap();
    let key_file = keys.path().join("keys.txt");
    std::fs::write(&key_file, format!("1;{}\n", "a1".repeat(32))).unwrap();
    let mysql = PrivateStack::mariadb_with(&format!(
        "plugin_load_add=file_key_management\nfile_key_management_filename={}\nencrypt_binlog=ON",
        key_file.display()
    ));
    let create = "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))";
    let (mut db, config, mut sluice) = running_on_server(&shared, &mysql.mysql(), "encrypted", create).await;
    assert_eq!(db.query("SELECT @@encrypt_binlog").await[0][0].as_deref(), Some("1"));
    db.exec("INSERT INTO t VALUES (1, 'secret'), (2, 'kept')").await;
    db.exec("UPDATE t SET v = 'changed' WHERE id = 2").await;
    let records = consume_ids(&shared.kafka, &config.topic, "t", [1, 2], WAIT).await;
    assert_eq!(inserted_row(&records, "t", "1").unwrap()["v"], "secret", "{}", sluice.log());
    // A restart resumes from the cursor, inside the encrypted file.
    cursor_at_binlog_end(&mut db, &sluice).await;
    sluice.kill9();
    sluice.restart();
    db.exec("INSERT INTO t VALUES (3, 'after the restart')").await;
    let records = consume_ids(&shared.kafka, &config.topic, "t", [3], WAIT).await;
    assert_eq!(inserted_row(&records, "t", "3").unwrap()["v"], "after the restart", "{}", sluice.log());
    // The file on disk is encrypted: the row's text is not in it.
    db.exec("FLUSH BINARY LOGS").await;
    let on_disk: Vec<u8> = mysql.binlog_files().iter().flat_map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!on_disk.windows(6).any(|w| w == b"secret"));
}

/// `SET GLOBAL binlog_checksum` while Sluice reads: the server rotates to a file of the new
/// setting, and the stream goes on through both changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checksum_setting_changes_mid_stream() {
    let shared = stack();
    let mysql = PrivateStack::mariadb_with("");
    let create = "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))";
    let (mut db, config, _sluice) = running_on_server(&shared, &mysql.mysql(), "checksum", create).await;
    db.exec("INSERT INTO t VALUES (1, 'crc32')").await;
    db.exec("SET GLOBAL binlog_checksum = 'NONE'").await;
    db.exec("INSERT INTO t VALUES (2, 'none')").await;
    db.exec("SET GLOBAL binlog_checksum = 'CRC32'").await;
    db.exec("INSERT INTO t VALUES (3, 'crc32 again')").await;
    let records = consume_ids(&shared.kafka, &config.topic, "t", [1, 2, 3], WAIT).await;
    assert_eq!(inserted_row(&records, "t", "2").unwrap()["v"], "none");
    assert_eq!(inserted_row(&records, "t", "3").unwrap()["v"], "crc32 again");
}

/// Tables created before MariaDB 10.3 (or with `mysql56_temporal_format=OFF`) keep MariaDB's own
/// TIME(n)/DATETIME(n)/TIMESTAMP(n) format: the binlog gives the old type codes without the
/// fractional digits, so only the declared type tells the size of each value. Before it was read
/// from there, such a row stopped the run ("event is truncated").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_10_3_temporal_columns_match_mariadb() {
    let shared = stack();
    let mysql = PrivateStack::mariadb_with("mysql56_temporal_format=OFF");
    let columns: Vec<String> = (1..=6)
        .flat_map(|n| [format!("t{n} TIME({n})"), format!("dt{n} DATETIME({n})"), format!("ts{n} TIMESTAMP({n}) NULL")])
        .collect();
    let create = format!("CREATE TABLE old (id INT PRIMARY KEY, t0 TIME, dt0 DATETIME, {})", columns.join(", "));
    let (mut db, config, sluice) = running_on_server(&shared, &mysql.mysql(), "oldtime", &create).await;
    let rows = [
        ("-838:59:59.999999", "9999-12-31 23:59:59.999999", "2038-01-19 03:14:07.999999"),
        ("838:59:59.999999", "1000-01-01 00:00:00.000001", "1970-01-01 00:00:01.000001"),
        ("-00:00:00.5", "0000-00-00 00:00:00", "2024-02-29 13:14:15.123456"),
        ("12:34:56.789", "2024-02-29 13:14:15.5", "0000-00-00 00:00:00"),
    ];
    for (i, (time, datetime, timestamp)) in rows.iter().enumerate() {
        let values: Vec<String> = (1..=6).map(|_| format!("'{time}', '{datetime}', '{timestamp}'")).collect();
        db.exec(&format!("INSERT INTO old VALUES ({}, '{time}', '{datetime}', {})", i + 1, values.join(", "))).await;
    }
    let records = consume_ids(&shared.kafka, &config.topic, "old", 1..=rows.len() as i64, WAIT).await;
    db.exec("SET time_zone = '+00:00'").await;
    let mut names = vec!["t0".to_owned(), "dt0".to_owned()];
    names.extend((1..=6).flat_map(|n| [format!("t{n}"), format!("dt{n}"), format!("ts{n}")]));
    let shown = db.query(&format!("SELECT id, {} FROM old ORDER BY id", names.join(", "))).await;
    assert_eq!(shown.len(), rows.len());
    assert_rows_as_shown(&records, "old", &names.iter().map(String::as_str).collect::<Vec<_>>(), &shown, &sluice);

    // Offline, a file without the table's CREATE: nothing gives the digits; Sluice says which
    // columns lack them and what to read instead.
    db.exec("FLUSH BINARY LOGS").await;
    db.exec("INSERT INTO old (id, t3, dt3, ts3) VALUES (9, '12:34:56.789', '2024-02-29 13:14:15.5', NOW(3))").await;
    db.exec("FLUSH BINARY LOGS").await;
    let files = mysql.binlog_files();
    let decode = |files: &[std::path::PathBuf]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["binlog", "decode"])
            .args(files)
            .output()
            .unwrap()
    };
    let alone = decode(&files[files.len() - 2..files.len() - 1]);
    let stderr = String::from_utf8_lossy(&alone.stderr);
    assert!(!alone.status.success(), "{stderr}");
    for part in [
        "MariaDB's pre-10.3 temporal format",
        "t3 (TIME), dt3 (DATETIME), ts3 (TIMESTAMP)",
        "holding the table's CREATE",
    ] {
        assert!(stderr.contains(part), "{part:?} in {stderr}");
    }
    // From the first file on, the CREATE there gives them (the history carries on across files).
    let all = decode(&files);
    assert!(all.status.success(), "{}", String::from_utf8_lossy(&all.stderr));
    let row = String::from_utf8(all.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["event"] == "INSERT" && line["data"]["id"] == "9")
        .expect("row 9 decoded");
    assert_eq!(
        (&row["data"]["t3"], &row["data"]["dt3"]),
        (&Value::from("12:34:56.789"), &Value::from("2024-02-29 13:14:15.500"))
    );
    mysql.down(&["mariadb"]);
}

/// For each legacy character set, every code MariaDB converts to utf8mb4 decodes to the same
/// character in Sluice; then a row of such text in columns of each set goes through the pipeline
/// and arrives as MariaDB shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_charsets_match_mariadb() {
    use sluice::binlog::Charset;
    use sluice::binlog::column::{LEGACY_CHARSETS, charset_name_of_collation};

    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "charsets").await;
    // Every collation id Sluice knows without a server (binlogs decoded offline) names the
    // character set the server says.
    let collations = db.query("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS").await;
    let mut known = 0;
    for row in &collations {
        // MariaDB lists its charset-independent uca1400 collations without an id or a set.
        let (Some(id), Some(name)) = (row[0].as_deref(), row[1].as_deref()) else { continue };
        if let Some(offline) = charset_name_of_collation(id.parse().unwrap()) {
            assert_eq!(offline, name, "collation {id}");
            known += 1;
        }
    }
    assert!(known > 100, "only {known} collation ids known offline");
    // Per set: the raw bytes of a sample of codes MariaDB maps, for the pipeline row.
    let mut samples = Vec::new();
    let server_sets = db.query("SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS").await;
    let on_server = |name: &str| server_sets.iter().any(|row| row[0].as_deref() == Some(name));
    // MySQL's gb18030 is the one set MariaDB lacks (unit-tested only).
    let (compared_sets, mysql_only): (Vec<_>, Vec<_>) = LEGACY_CHARSETS.iter().partition(|c| on_server(c.name));
    assert_eq!(mysql_only.iter().map(|c| c.name).collect::<Vec<_>>(), ["gb18030"]);
    for charset in compared_sets {
        let name = charset.name;
        let codes = candidate_codes(charset);
        // Codes separated by spaces, which no code here can absorb as a trail byte: MariaDB's
        // conversion of each code is the text between two spaces ('?' where it has no mapping).
        let joined: Vec<u8> = codes.join(&b' ');
        // (A `_gb2312 x'…'` literal must be well formed; CONVERT of bytes marks bad codes instead.)
        let sql = format!("SELECT CONVERT(CONVERT(x'{}' USING {name}) USING utf8mb4)", hex(&joined));
        let converted = db.query(&sql).await;
        let converted = converted[0][0].clone().unwrap_or_else(|| panic!("{name}: MariaDB returned NULL"));
        let pieces: Vec<&str> = converted.split(' ').collect();
        assert_eq!(pieces.len(), codes.len(), "{name}: one piece per code");
        let (mut compared, mut mismatches, mut sample) = (0, Vec::new(), Vec::new());
        for (code, want) in codes.iter().zip(&pieces) {
            if want.contains('?') {
                continue; // MariaDB has no mapping for this code
            }
            compared += 1;
            let mut got = String::new();
            let decoded = Charset::from_name(name).decode_into(code, &mut got);
            if decoded.is_none() || got != *want {
                mismatches.push(format!("{}: MariaDB {want:?}, Sluice {:?}", hex(code), decoded.map(|()| &got)));
            } else if charset.server_char(code).is_some() || (sample.len() < 600 && compared % 7 == 0) {
                sample.extend_from_slice(code);
            }
        }
        assert!(compared > 90, "{name}: only {compared} codes compared");
        assert!(
            mismatches.is_empty(),
            "{name}: {} of {compared} codes differ, e.g. {:?}",
            mismatches.len(),
            &mismatches[..mismatches.len().min(12)]
        );
        samples.push((name, sample));
    }

    let columns: Vec<String> = samples.iter().map(|(name, _)| format!("`{name}` TEXT CHARACTER SET {name}")).collect();
    db.exec(&format!("CREATE TABLE legacy (id INT PRIMARY KEY, {})", columns.join(", "))).await;
    let config = SluiceConfig::new(&stack, &db.name);
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;
    let values: Vec<String> = samples.iter().map(|(name, sample)| format!("_{name} x'{}'", hex(sample))).collect();
    db.exec(&format!("INSERT INTO legacy VALUES (1, {})", values.join(", "))).await;
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || consume_until(&kafka, &topic, WAIT, |records| ids_in(records, "legacy").contains(&1))
    })
    .await
    .unwrap();
    let record = records.iter().find(|r| r.json["table"] == "legacy").unwrap();
    let names: Vec<String> = samples.iter().map(|(name, _)| format!("`{name}`")).collect();
    let shown = db.query(&format!("SELECT {} FROM legacy WHERE id = 1", names.join(", "))).await;
    for (i, (name, _)) in samples.iter().enumerate() {
        let want = shown[0][i].clone().unwrap();
        assert_eq!(record.json["data"][0][*name], want.as_str(), "column {name}");
        assert!(!want.is_ascii(), "{name}: the sample holds non-ASCII text");
    }
    drop(sluice);
}

/// MariaDB (and MySQL up to 8.x) applies a foreign key's ON DELETE/UPDATE action below the binlog:
/// the parent's change is published, the child rows it changes never reach Sluice. So every such
/// foreign key on a captured table is named — by `sluice check`, at `sluice run`'s start, and when
/// a DDL declares one — and RESTRICT keys and uncaptured children are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_keys_that_change_captured_rows_below_the_binlog_are_named() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "fk").await;
    let name = db.name.clone();
    db.exec("CREATE TABLE par (id INT PRIMARY KEY)").await;
    for (table, constraint, action) in [
        ("chi", "chi_par", "ON DELETE CASCADE"),
        ("kept", "kept_par", "ON DELETE RESTRICT"),
        ("other", "other_par", "ON DELETE SET NULL"),
    ] {
        db.exec(&format!(
            "CREATE TABLE {table} (id INT PRIMARY KEY, pid INT, CONSTRAINT {constraint} FOREIGN KEY (pid) \
             REFERENCES par (id) {action})"
        ))
        .await;
    }
    let mut config = SluiceConfig::new(&stack, &name);
    config.include = vec![format!("{name}\\.(par|chi|kept|_warmup)")];
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    let chi = format!("{name}.chi (chi_par -> {name}.par ON DELETE CASCADE)");
    let (code, check) = sluice_command(&["check", "--config", &sluice.config_path().display().to_string()]);
    assert_eq!(code, 0, "{check}");
    for output in [check, sluice.log()] {
        assert!(output.contains("1 foreign key(s) change captured tables when their parent changes"), "{output}");
        assert!(output.contains(&chi), "{output}");
        assert!(!output.contains("kept_par") && !output.contains("other_par"), "{output}");
    }

    db.exec("ALTER TABLE kept ADD CONSTRAINT kept_late FOREIGN KEY (pid) REFERENCES par (id) ON UPDATE SET NULL").await;
    let late = format!("{name}.kept (kept_late -> {name}.par ON UPDATE SET NULL)");
    eventually(WAIT, "the ALTER's foreign key to be named", || async { sluice.log().contains(&late).then_some(()) })
        .await;

    // Why: the cascade's DELETE of chi's row is not in the binlog.
    db.exec("INSERT INTO par VALUES (1)").await;
    db.exec("INSERT INTO chi VALUES (10, 1)").await;
    db.exec("DELETE FROM par WHERE id = 1").await;
    assert!(db.query("SELECT id FROM chi").await.is_empty());
    let records = tokio::task::spawn_blocking({
        let (kafka, topic) = (stack.kafka.clone(), config.topic.clone());
        move || {
            consume_until(&kafka, &topic, WAIT, |records| {
                records.iter().any(|r| r.json["table"] == "par" && r.json["type"] == "DELETE")
            })
        }
    })
    .await
    .unwrap();
    let mut changes: Vec<(String, String)> = records
        .iter()
        .filter(|r| matches!(r.json["table"].as_str(), Some("par" | "chi")))
        .map(|r| (r.json["table"].as_str().unwrap().to_owned(), r.json["type"].as_str().unwrap().to_owned()))
        .collect();
    changes.sort();
    let expected = [("chi", "INSERT"), ("par", "DELETE"), ("par", "INSERT")].map(|(t, k)| (t.to_owned(), k.to_owned()));
    assert_eq!(changes, expected, "the cascade's DELETE of chi's row is not in the binlog");
}
