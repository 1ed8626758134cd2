//! Canal protobuf output, decoded by an independent implementation: canal-python's generated
//! classes (run by `tests/tools/canal_decode.py`). Two destinations capture the same rows, one as
//! flat JSON and one as protobuf; every field of every protobuf entry is checked against the flat
//! message for the same binlog event and against what the binlog holds.

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use support::*;

const WAIT: Duration = Duration::from_secs(120);

/// Decode payloads with canal-python; one JSON value per payload.
fn decode_with_canal_python(payloads: &[&[u8]]) -> Vec<Value> {
    let python = std::env::var("SLUICE_TEST_PYTHON")
        .expect("SLUICE_TEST_PYTHON is not set: run the tests with scripts/test (it creates the Python tools)");
    let mut child = Command::new(python)
        .arg(repo_root().join("tests/tools/canal_decode.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for payload in payloads {
        writeln!(stdin, "{}", base64::engine::general_purpose::STANDARD.encode(payload)).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "canal_decode.py failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The identity of a message across the two destinations: binlog position, partition, part.
fn identity(r: &Record) -> (String, i32, String) {
    (r.headers["sluice.position"].clone(), r.partition, r.headers["sluice.part"].clone())
}

/// name → value (Null when isNull) of a protobuf column list.
fn column_values(columns: &Value) -> serde_json::Map<String, Value> {
    columns
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let value = if c["isNull"] == true { Value::Null } else { c["value"].clone() };
            (c["name"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_entries_decode_with_canal_python_and_match_flat_json() {
    let stack = stack();
    let mut db = TestDb::create(&stack.mysql, "proto").await;
    let mut config = SluiceConfig::new(&stack, &db.name);
    config.include = vec![format!("{}\\.(p|_warmup)", db.name)];
    let proto_topic = unique("proto");
    let proto_destination = unique("protodest");
    let proto_toml =
        config.destination_toml(&db.name, &proto_topic).replace("[output]\n", "[output]\nformat = \"protobuf\"\n");
    config.more_destinations.push((proto_destination.clone(), proto_toml));
    let sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    db.exec(
        "CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb4, amount DECIMAL(10,2), \
         note TEXT NULL, at DATETIME(6), raw VARBINARY(8))",
    )
    .await;
    db.exec(
        "INSERT INTO p VALUES (1, 'naïve ☃', 12.50, NULL, '2024-01-02 03:04:05.123456', 0x00ff), \
         (2, 'b', -1.00, 'x', '2024-01-01 00:00:00', NULL)",
    )
    .await;
    db.exec("UPDATE p SET amount = 13.75, note = 'now' WHERE id = 1").await;
    db.exec("DELETE FROM p WHERE id = 2").await;
    db.exec("ALTER TABLE p ADD COLUMN extra INT").await;
    db.exec("INSERT INTO p (id, name) VALUES (3, 'after ddl')").await;

    let (brokers, topic) = (stack.kafka.clone(), config.topic.clone());
    // Rows on different partitions go in different messages: wait for the rows, not a message count.
    let rows_of_p = |records: &[Record]| {
        records
            .iter()
            .filter(|r| r.json["table"] == "p")
            .map(|r| r.json["data"].as_array().map_or(0, Vec::len))
            .sum::<usize>()
    };
    let ddls = |records: &[Record]| records.iter().filter(|r| r.json["isDdl"] == true).count();
    let flat: Vec<Record> = tokio::task::spawn_blocking(move || {
        consume_until(&brokers, &topic, WAIT, |r| rows_of_p(r) >= 5 && ddls(r) >= 6)
    })
    .await
    .unwrap()
    .into_iter()
    .filter(|r| r.json["table"] == "p")
    .collect();
    assert_eq!(
        (rows_of_p(&flat), ddls(&flat)),
        (5, 6),
        "flat messages (partition, offset, type, data): {:?}",
        flat.iter()
            .map(|r| (r.partition, r.offset, r.json["type"].clone(), r.json["data"].clone()))
            .collect::<Vec<_>>()
    );
    let wanted: Vec<_> = flat.iter().map(identity).collect();
    let (brokers, topic, keys) = (stack.kafka.clone(), proto_topic.clone(), wanted.clone());
    let proto = tokio::task::spawn_blocking(move || {
        consume_until(&brokers, &topic, WAIT, |records| {
            let have: std::collections::HashSet<_> = records.iter().map(identity).collect();
            keys.iter().all(|k| have.contains(k))
        })
    })
    .await
    .unwrap();
    let proto_by_identity: HashMap<_, &Record> = proto.iter().map(|r| (identity(r), r)).collect();
    let pairs: Vec<(&Record, &Record)> = flat
        .iter()
        .map(|f| {
            (f, *proto_by_identity.get(&identity(f)).unwrap_or_else(|| panic!("no protobuf message for {}", f.json)))
        })
        .collect();
    let decoded = decode_with_canal_python(&pairs.iter().map(|(_, p)| p.payload.as_slice()).collect::<Vec<_>>());
    assert_eq!(decoded.len(), pairs.len());

    for ((flat, proto), decoded) in pairs.iter().zip(&decoded) {
        let f = &flat.json;
        let context = format!("flat {f}\nprotobuf {decoded}");
        // Envelope.
        assert_eq!(
            decoded["packet"],
            json!({"magic_number": 17, "version": 1, "type": "MESSAGES", "compression": "NONE"}),
            "{context}"
        );
        // Batch ids count each destination's own batches; the two destinations batch independently
        // (by time and size), so the same row may sit in batches with different ids.
        assert!(decoded["batch_id"].as_i64().unwrap() >= 1, "{context}");
        let entries = decoded["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{context}");
        let entry = &entries[0]["entry"];
        let change = &entries[0]["row_change"];
        // Header: where the event comes from.
        let header = &entry["header"];
        let (file, offset) = proto.headers["sluice.position"].rsplit_once(':').unwrap();
        assert_eq!(entry["entryType"], "ROWDATA", "{context}");
        assert_eq!(header["version"], 1, "{context}");
        assert_eq!(header["logfileName"], file, "{context}");
        assert_eq!(header["logfileOffset"], offset, "{context}"); // int64 fields are strings in JSON
        assert_eq!(header["serverId"], "1", "{context}");
        assert_eq!(header["serverenCode"], "UTF-8", "{context}");
        assert_eq!(header["executeTime"], f["es"].to_string(), "{context}");
        assert_eq!(header["sourceType"], "MYSQL", "{context}");
        assert_eq!(header["schemaName"], f["database"], "{context}");
        assert_eq!(header["tableName"], f["table"], "{context}");
        assert!(header["eventLength"].as_str().unwrap().parse::<u64>().unwrap() > 19, "{context}");
        assert_eq!(header["eventType"], f["type"], "{context}");
        assert_eq!(header["gtid"], f["gtid"], "{context}");
        // Row change.
        assert_eq!(change["eventType"], f["type"], "{context}");
        assert_eq!(change["isDdl"], f["isDdl"], "{context}");
        if f["isDdl"] == true {
            assert_eq!(change["sql"], f["sql"], "{context}");
            assert_eq!(change["ddlSchemaName"], f["database"], "{context}");
            assert_eq!(change["rowDatas"], json!([]), "{context}");
            continue;
        }
        assert_ne!(change["tableId"], "0", "{context}");
        assert_eq!(
            header["props"],
            json!([{"key": "rowsCount", "value": f["data"].as_array().unwrap().len().to_string()}])
        );
        let rows = change["rowDatas"].as_array().unwrap();
        assert_eq!(rows.len(), f["data"].as_array().unwrap().len(), "{context}");
        for (i, row) in rows.iter().enumerate() {
            let (image, other) = if f["type"] == "DELETE" {
                (&row["beforeColumns"], &row["afterColumns"])
            } else {
                (&row["afterColumns"], &row["beforeColumns"])
            };
            assert_eq!(Value::Object(column_values(image)), f["data"][i], "{context}");
            // Column metadata, in table order.
            for (index, column) in image.as_array().unwrap().iter().enumerate() {
                let name = column["name"].as_str().unwrap();
                assert_eq!(column["index"], index, "{context}");
                assert_eq!(column["sqlType"], f["sqlType"][name], "{context}");
                assert_eq!(column["mysqlType"], f["mysqlType"][name], "{context}");
                assert_eq!(column["isKey"], f["pkNames"].as_array().unwrap().contains(&json!(name)), "{context}");
                assert!(column.get("isNull").is_some(), "isNull must be present: {context}");
                let updated = match f["type"].as_str().unwrap() {
                    "INSERT" => true,
                    "UPDATE" => f["old"][i].get(name).is_some(),
                    _ => false,
                };
                assert_eq!(column["updated"], updated, "column {name}: {context}");
            }
            match f["type"].as_str().unwrap() {
                "UPDATE" => {
                    // Before image complete; `old` (flat) = before values of the changed columns.
                    let before = column_values(other);
                    for (name, value) in f["old"][i].as_object().unwrap() {
                        assert_eq!(&before[name], value, "old {name}: {context}");
                    }
                    assert!(other.as_array().unwrap().iter().all(|c| c["updated"] == false), "{context}");
                }
                _ => assert_eq!(other, &json!([]), "{context}"),
            }
        }
    }
    // The values themselves, as MariaDB stored them.
    let insert =
        pairs.iter().zip(&decoded).find(|((f, _), _)| f.json["type"] == "INSERT" && f.json["data"][0]["id"] == "1");
    let ((_, _), decoded) = insert.expect("the first insert");
    let after = column_values(&decoded["entries"][0]["row_change"]["rowDatas"][0]["afterColumns"]);
    assert_eq!(after["name"], "naïve ☃");
    assert_eq!(after["amount"], "12.50");
    assert_eq!(after["note"], Value::Null);
    assert_eq!(after["at"], "2024-01-02 03:04:05.123456");
    assert_eq!(after["raw"], "\u{0}\u{ff}");
}
