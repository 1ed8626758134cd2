//! The committed position as Canal stores it: a `LogPosition` JSON document, plus Sluice's own
//! fields under `"sluice"` (which Canal's fastjson ignores).
//!
//! ```json
//! {"@type":"com.alibaba.otter.canal.protocol.position.LogPosition",
//!  "identity":{"slaveId":-1,"sourceAddress":{"address":"127.0.0.1","port":3306}},
//!  "postion":{"gtid":"0-1-42","included":false,"journalName":"mysql-bin.000001","position":1234,
//!             "serverId":1,"timestamp":1700000000000},
//!  "sluice":{"batchId":17,"lastGtid":"0-1-42"}}
//! ```
//! (`postion` is Canal's spelling.) Sluice writes the offset *after* the last acknowledged
//! transaction and the full executed GTID set, so Canal resumes correctly from a Sluice cursor.
//! A cursor without the `sluice` field was written by Canal: its offset is the start of the last
//! event Canal delivered, which the caller treats accordingly.

use serde::{Deserialize, Serialize};

use crate::event::{BinlogPosition, GtidSet, Position};

/// What Sluice keeps per destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub position: Position,
    /// The last acknowledged batch; numbering continues after it.
    pub batch_id: u64,
    /// Written by Sluice (offset = a transaction boundary) rather than by Canal.
    pub written_by_sluice: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the cursor is not a Canal LogPosition: {0}")]
pub struct CursorFormatError(String);

#[derive(Serialize, Deserialize)]
struct LogPositionJson {
    #[serde(rename = "@type", default)]
    type_name: String,
    #[serde(default)]
    identity: IdentityJson,
    postion: EntryPositionJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sluice: Option<SluiceJson>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct IdentityJson {
    slave_id: i64,
    source_address: AddressJson,
}

#[derive(Serialize, Deserialize, Default)]
struct AddressJson {
    address: String,
    port: u16,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryPositionJson {
    #[serde(default)]
    gtid: Option<String>,
    #[serde(default)]
    included: bool,
    journal_name: String,
    position: u64,
    #[serde(default)]
    server_id: Option<u32>,
    #[serde(default)]
    timestamp: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SluiceJson {
    batch_id: u64,
    #[serde(default)]
    last_gtid: String,
}

impl Cursor {
    /// The JSON document, naming the source server `address` (`host:port`).
    pub fn to_json(&self, source_address: &str) -> Vec<u8> {
        let (host, port) = split_address(source_address);
        let doc = LogPositionJson {
            type_name: "com.alibaba.otter.canal.protocol.position.LogPosition".into(),
            identity: IdentityJson { slave_id: -1, source_address: AddressJson { address: host, port } },
            postion: EntryPositionJson {
                gtid: Some(self.position.gtid_set.to_string()),
                included: false,
                journal_name: self.position.binlog.file.clone(),
                position: self.position.binlog.offset,
                server_id: Some(self.position.server_id),
                timestamp: Some(self.position.timestamp_ms),
            },
            sluice: Some(SluiceJson {
                batch_id: self.batch_id,
                last_gtid: self.position.last_gtid.as_ref().map(ToString::to_string).unwrap_or_default(),
            }),
        };
        serde_json::to_vec(&doc).expect("serializing a cursor cannot fail")
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, CursorFormatError> {
        let doc: LogPositionJson = serde_json::from_slice(bytes).map_err(|e| CursorFormatError(e.to_string()))?;
        let p = doc.postion;
        if p.journal_name.is_empty() {
            return Err(CursorFormatError("postion.journalName is empty".into()));
        }
        let gtid_set = GtidSet::parse(p.gtid.as_deref().unwrap_or("")).map_err(|e| CursorFormatError(e.to_string()))?;
        let last_gtid_text = doc.sluice.as_ref().map(|s| s.last_gtid.clone()).unwrap_or_default();
        let last_gtid = match GtidSet::parse(&last_gtid_text).map_err(|e| CursorFormatError(e.to_string()))? {
            GtidSet::Mariadb(list) => list.gtids().next().copied().map(crate::event::Gtid::Mariadb),
            GtidSet::Mysql(_) => parse_mysql_gtid(&last_gtid_text),
            GtidSet::Empty => None,
        };
        Ok(Self {
            position: Position {
                binlog: BinlogPosition::new(p.journal_name, p.position),
                gtid_set,
                last_gtid,
                server_id: p.server_id.unwrap_or(0),
                timestamp_ms: p.timestamp.unwrap_or(0),
            },
            batch_id: doc.sluice.as_ref().map_or(0, |s| s.batch_id),
            written_by_sluice: doc.sluice.is_some(),
        })
    }
}

fn parse_mysql_gtid(text: &str) -> Option<crate::event::Gtid> {
    let (uuid, rest) = text.split_once(':')?;
    let (tag, gno) = match rest.rsplit_once(':') {
        Some((tag, gno)) => (Some(tag.to_owned()), gno),
        None => (None, rest),
    };
    Some(crate::event::Gtid::Mysql(crate::event::MysqlGtid { source: uuid.parse().ok()?, tag, gno: gno.parse().ok()? }))
}

fn split_address(address: &str) -> (String, u16) {
    match address.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().unwrap_or(3306)),
        None => (address.to_owned(), 3306),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_canal_shape() {
        let cursor = Cursor {
            position: Position {
                binlog: BinlogPosition::new("mysql-bin.000003", 1234),
                gtid_set: GtidSet::parse("0-1-42").unwrap(),
                last_gtid: Some(crate::event::Gtid::Mariadb("0-1-42".parse().unwrap())),
                server_id: 1,
                timestamp_ms: 1_700_000_000_000,
            },
            batch_id: 17,
            written_by_sluice: true,
        };
        let json = cursor.to_json("127.0.0.1:3306");
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["@type"], "com.alibaba.otter.canal.protocol.position.LogPosition");
        assert_eq!(v["identity"]["slaveId"], -1);
        assert_eq!(v["identity"]["sourceAddress"]["port"], 3306);
        assert_eq!(v["postion"]["journalName"], "mysql-bin.000003");
        assert_eq!(v["postion"]["position"], 1234);
        assert_eq!(v["postion"]["included"], false);
        assert_eq!(Cursor::from_json(&json).unwrap(), cursor);
    }

    #[test]
    fn reads_a_cursor_written_by_canal() {
        let canal = br#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"address":"127.0.0.1","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000001","position":4,"serverId":1,"timestamp":1700000000000}}"#;
        let cursor = Cursor::from_json(canal).unwrap();
        assert!(!cursor.written_by_sluice);
        assert_eq!(cursor.position.binlog, BinlogPosition::new("mysql-bin.000001", 4));
        assert_eq!(cursor.position.timestamp_ms, 1_700_000_000_000);
        assert!(Cursor::from_json(b"{}").is_err());
        assert!(Cursor::from_json(b"not json").is_err());
    }
}
