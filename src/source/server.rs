//! Questions about the source server's binlog.

use super::{Connection, Flavor, Row, SourceError};
use crate::binlog::xa::Xid;
use crate::event::{BinlogPosition, GtidSet};

/// One file of `SHOW BINARY LOGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogFileInfo {
    pub name: String,
    pub size: u64,
}

/// The server's current end of binlog and executed GTID set.
pub async fn current_position(conn: &mut Connection) -> Result<(BinlogPosition, GtidSet), SourceError> {
    let Some(row) = binlog_status(conn).await? else {
        return Err(SourceError::Config(
            "the server has binary logging disabled (SHOW MASTER STATUS is empty): enable log_bin".into(),
        ));
    };
    let file = row.text(0).unwrap_or_default();
    let offset = row.text(1).and_then(|p| p.parse().ok()).unwrap_or(4);
    let gtid_text = match conn.flavor {
        Flavor::Mariadb => conn.query_row("SELECT @@GLOBAL.gtid_binlog_pos").await?.and_then(|r| r.text(0)),
        Flavor::Mysql => row.text(4),
    }
    .unwrap_or_default();
    let gtid_set = GtidSet::parse(&gtid_text.replace('\n', ""))
        .map_err(|e| SourceError::Protocol(format!("the server reported GTID state '{gtid_text}': {e}")))?;
    Ok((BinlogPosition::new(file, offset), gtid_set))
}

/// `SHOW MASTER STATUS`: file, position, Binlog_Do_DB, Binlog_Ignore_DB (and MySQL's executed GTID
/// set); `None` with binary logging off.
async fn binlog_status(conn: &mut Connection) -> Result<Option<Row>, SourceError> {
    // MySQL 8.4 renamed the statement; older servers and MariaDB only know the old name.
    let status = match conn.query("SHOW MASTER STATUS").await {
        Ok(rs) => rs,
        Err(SourceError::Server { code: 1064, .. }) => conn.query("SHOW BINARY LOG STATUS").await?,
        Err(e) => return Err(e),
    };
    Ok(status.rows.into_iter().next())
}

/// The databases the server restricts its binlog to (`binlog_do_db`) and leaves out of it
/// (`binlog_ignore_db`); both empty when it logs every database.
pub async fn binlog_database_filters(conn: &mut Connection) -> Result<(Vec<String>, Vec<String>), SourceError> {
    let row = binlog_status(conn).await?;
    let list = |i| {
        let text = row.as_ref().and_then(|r| r.text(i)).unwrap_or_default();
        text.split(',').map(str::trim).filter(|db| !db.is_empty()).map(str::to_owned).collect()
    };
    Ok((list(2), list(3)))
}

/// The binlog files the server still has, oldest first.
pub async fn binlog_files(conn: &mut Connection) -> Result<Vec<BinlogFileInfo>, SourceError> {
    let rs = conn.query("SHOW BINARY LOGS").await?;
    Ok(rs
        .rows
        .iter()
        .map(|r| BinlogFileInfo {
            name: r.text(0).unwrap_or_default(),
            size: r.text(1).and_then(|s| s.parse().ok()).unwrap_or(0),
        })
        .collect())
}

/// `@@server_id` of the source.
pub async fn server_id(conn: &mut Connection) -> Result<u32, SourceError> {
    let row = conn.query_row("SELECT @@server_id").await?;
    Ok(row.and_then(|r| r.text(0)).and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// The XA transactions prepared on the server and not yet committed or rolled back (`XA RECOVER`:
/// formatID, gtrid_length, bqual_length, data).
pub async fn prepared_xa(conn: &mut Connection) -> Result<Vec<Xid>, SourceError> {
    let rs = conn.query("XA RECOVER").await?;
    let xids = rs.rows.iter().filter_map(|row| {
        let number = |i| row.text(i).and_then(|t| t.parse::<i64>().ok());
        let (format_id, gtrid_len) = (number(0)?, usize::try_from(number(1)?).ok()?);
        let data = row.bytes(3)?;
        let (gtrid, bqual) = data.split_at_checked(gtrid_len)?;
        Some(Xid { format_id, gtrid: gtrid.to_vec(), bqual: bqual.to_vec() })
    });
    Ok(xids.collect())
}
