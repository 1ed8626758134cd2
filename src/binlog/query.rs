//! QUERY events: `BEGIN`/`COMMIT` around non-XID transactions, DDL statements, and (outside ROW
//! format) statements we never see with `binlog_format=ROW`.

use super::column::{Charset, charset_name_of_collation};
use super::{ByteReader, DecodeError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub thread_id: u32,
    pub exec_time_s: u32,
    pub error_code: u16,
    /// The default database when the statement ran (may be empty).
    pub schema: String,
    /// The statement text, decoded with the client character set recorded in the event.
    pub sql: String,
    /// MySQL 8 logs DDL with an XID inside the event (`Q_DDL_LOGGED_WITH_XID`).
    pub ddl_xid: Option<u64>,
    /// The server's default character set (collation_server) when the statement ran: what a
    /// CREATE DATABASE without one gives. `None` when the event does not say or the set is unknown.
    pub server_charset: Option<&'static str>,
    /// The session's sql_mode bits when the statement ran (`None` when the event does not say).
    pub sql_mode: Option<u64>,
}

/// Status variable codes (sql/log_event.h, MariaDB's log_event.h).
mod status {
    pub const FLAGS2: u8 = 0;
    pub const SQL_MODE: u8 = 1;
    pub const CATALOG: u8 = 2;
    pub const AUTO_INCREMENT: u8 = 3;
    pub const CHARSET: u8 = 4;
    pub const TIME_ZONE: u8 = 5;
    pub const CATALOG_NZ: u8 = 6;
    pub const LC_TIME_NAMES: u8 = 7;
    pub const CHARSET_DATABASE: u8 = 8;
    pub const TABLE_MAP_FOR_UPDATE: u8 = 9;
    pub const MASTER_DATA_WRITTEN: u8 = 10;
    pub const INVOKER: u8 = 11;
    pub const UPDATED_DB_NAMES: u8 = 12;
    pub const MICROSECONDS: u8 = 13;
    pub const COMMIT_TS: u8 = 14;
    pub const COMMIT_TS2: u8 = 15;
    pub const EXPLICIT_DEFAULTS_FOR_TIMESTAMP: u8 = 16;
    pub const DDL_LOGGED_WITH_XID: u8 = 17;
    pub const DEFAULT_COLLATION_FOR_UTF8MB4: u8 = 18;
    pub const SQL_REQUIRE_PRIMARY_KEY: u8 = 19;
    pub const DEFAULT_TABLE_ENCRYPTION: u8 = 20;
    pub const MARIADB_HRNOW: u8 = 128;
    pub const MARIADB_XID: u8 = 129;
    pub const MARIADB_GTID_FLAGS3: u8 = 130;
}

/// What the status variables tell us.
#[derive(Debug, Default)]
struct StatusVars {
    client_collation: Option<u16>,
    server_collation: Option<u16>,
    ddl_xid: Option<u64>,
    sql_mode: Option<u64>,
}

impl Query {
    pub fn parse(body: &[u8], post_header_len: usize) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let thread_id = r.u32()?;
        let exec_time_s = r.u32()?;
        let schema_len = usize::from(r.u8()?);
        let error_code = r.u16()?;
        // Binlog v4 adds the status variables' length; skip any post-header bytes we do not know.
        let status_len = if post_header_len >= 13 { usize::from(r.u16()?) } else { 0 };
        r.skip(post_header_len.saturating_sub(13))?;
        let vars = parse_status_vars(r.take(status_len)?);
        let schema = String::from_utf8_lossy(r.take(schema_len)?).into_owned();
        r.skip(1)?; // NUL after the schema name
        let charset = vars.client_collation.map(Charset::from_collation_id).unwrap_or(Charset::Utf8);
        let sql = charset.decode_lossy(r.take_rest());
        let server_charset = vars.server_collation.and_then(charset_name_of_collation);
        let ddl_xid = vars.ddl_xid;
        Ok(Self { thread_id, exec_time_s, error_code, schema, sql, ddl_xid, server_charset, sql_mode: vars.sql_mode })
    }

    /// MariaDB QUERY_COMPRESSED: the statement text is zlib-compressed behind a MariaDB header.
    pub fn parse_mariadb_compressed(body: &[u8], post_header_len: usize) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let fixed = r.take(post_header_len.max(13))?;
        let status_len =
            if post_header_len >= 13 { usize::from(u16::from_le_bytes([fixed[11], fixed[12]])) } else { 0 };
        let schema_len = usize::from(fixed[8]);
        let status = r.take(status_len)?;
        let schema = r.take(schema_len)?;
        r.skip(1)?;
        let text = super::mariadb::uncompress(r.take_rest())?;
        // Re-assemble an uncompressed body and parse it the ordinary way.
        let mut plain = Vec::with_capacity(fixed.len() + status.len() + schema.len() + 1 + text.len());
        plain.extend_from_slice(fixed);
        plain.extend_from_slice(status);
        plain.extend_from_slice(schema);
        plain.push(0);
        plain.extend_from_slice(&text);
        Self::parse(&plain, post_header_len)
    }

    /// `BEGIN` (or `XA START`) opening a transaction.
    pub fn is_begin(&self) -> bool {
        self.sql.trim().eq_ignore_ascii_case("BEGIN") || self.is_xa_start()
    }

    /// MySQL 8.0.21+ logs the CREATE TABLE of a CREATE TABLE … SELECT as `CREATE TABLE …
    /// START TRANSACTION`: its rows and XID follow in the same transaction.
    pub fn ends_with_start_transaction(&self) -> bool {
        let words: Vec<&str> = self.sql.split_ascii_whitespace().rev().take(2).collect();
        matches!(words[..], [last, before] if last.eq_ignore_ascii_case("TRANSACTION") && before.eq_ignore_ascii_case("START"))
    }

    /// `XA START xid` opening an XA transaction (MySQL; MariaDB flags its GTID event instead).
    pub fn is_xa_start(&self) -> bool {
        starts_with_ignore_case(self.sql.trim(), "XA START")
    }

    /// `COMMIT` of a non-transactional (e.g. MyISAM) transaction, or `XA COMMIT … ONE PHASE`.
    pub fn is_commit(&self) -> bool {
        let sql = self.sql.trim();
        sql.eq_ignore_ascii_case("COMMIT") || (starts_with_ignore_case(sql, "XA COMMIT") && ends_one_phase(sql))
    }

    /// `ROLLBACK`: the statements since BEGIN did not happen (non-transactional tables aside).
    pub fn is_rollback(&self) -> bool {
        self.sql.trim().eq_ignore_ascii_case("ROLLBACK")
    }

    /// `XA COMMIT xid` or `XA ROLLBACK xid` settling a transaction prepared earlier: whether it
    /// commits, and the XID's text.
    pub fn xa_settlement(&self) -> Option<(bool, &str)> {
        let sql = self.sql.trim();
        let commits = starts_with_ignore_case(sql, "XA COMMIT");
        if (!commits && !starts_with_ignore_case(sql, "XA ROLLBACK")) || ends_one_phase(sql) {
            return None;
        }
        let prefix = if commits { "XA COMMIT" } else { "XA ROLLBACK" };
        Some((commits, sql[prefix.len()..].trim()))
    }
}

fn ends_one_phase(sql: &str) -> bool {
    let words: Vec<&str> = sql.split_ascii_whitespace().rev().take(2).collect();
    matches!(words[..], [last, before] if last.eq_ignore_ascii_case("PHASE") && before.eq_ignore_ascii_case("ONE"))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Reads the status variables we need. They come in ascending code order in practice, but a
/// variable we cannot size stops the walk: none of the later ones matter for decoding, and the
/// statement's own offset is known from `status_len`.
fn parse_status_vars(bytes: &[u8]) -> StatusVars {
    let mut vars = StatusVars::default();
    let mut r = ByteReader::new(bytes);
    let _ = (|| -> Result<(), DecodeError> {
        while !r.is_empty() {
            match r.u8()? {
                status::FLAGS2 | status::AUTO_INCREMENT | status::MASTER_DATA_WRITTEN => r.skip(4)?,
                status::SQL_MODE => vars.sql_mode = Some(r.u64()?),
                status::TABLE_MAP_FOR_UPDATE | status::MARIADB_XID => r.skip(8)?,
                status::CATALOG => {
                    let len = usize::from(r.u8()?);
                    r.skip(len + 1)?;
                }
                status::CHARSET => {
                    // character_set_client (as a collation id), collation_connection, collation_server:
                    // the statement text is in the client's character set.
                    let client = r.u16()?;
                    r.skip(2)?;
                    let server = r.u16()?;
                    vars.client_collation = Some(client);
                    vars.server_collation = Some(server);
                }
                status::TIME_ZONE | status::CATALOG_NZ => {
                    let len = usize::from(r.u8()?);
                    r.skip(len)?;
                }
                status::LC_TIME_NAMES | status::CHARSET_DATABASE | status::DEFAULT_COLLATION_FOR_UTF8MB4 => {
                    r.skip(2)?
                }
                status::INVOKER => {
                    let user = usize::from(r.u8()?);
                    r.skip(user)?;
                    let host = usize::from(r.u8()?);
                    r.skip(host)?;
                }
                status::UPDATED_DB_NAMES => {
                    let count = r.u8()?;
                    // 254 = OVER_MAX_DBS_IN_EVENT_MTS: no names follow.
                    if count != 254 {
                        for _ in 0..count {
                            r.nul_terminated()?;
                        }
                    }
                }
                status::MICROSECONDS | status::MARIADB_HRNOW => r.skip(3)?,
                status::EXPLICIT_DEFAULTS_FOR_TIMESTAMP
                | status::SQL_REQUIRE_PRIMARY_KEY
                | status::DEFAULT_TABLE_ENCRYPTION
                | status::MARIADB_GTID_FLAGS3 => r.skip(1)?,
                status::DDL_LOGGED_WITH_XID => vars.ddl_xid = Some(r.u64()?),
                status::COMMIT_TS | status::COMMIT_TS2 => return Ok(()),
                _ => return Ok(()),
            }
        }
        Ok(())
    })();
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_body(schema: &str, sql: &str, status: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&7u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.push(schema.len() as u8);
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(status.len() as u16).to_le_bytes());
        b.extend_from_slice(status);
        b.extend_from_slice(schema.as_bytes());
        b.push(0);
        b.extend_from_slice(sql.as_bytes());
        b
    }

    #[test]
    fn parses_schema_sql_and_charset() {
        // FLAGS2, then CHARSET (client 8 = latin1, connection 33, server 8)
        let status = [0, 0, 0, 0, 0, 4, 8, 0, 33, 0, 8, 0];
        let mut body = query_body("shop", "", &status);
        body.extend_from_slice(b"ALTER TABLE t COMMENT '\xe9'");
        let q = Query::parse(&body, 13).unwrap();
        assert_eq!(q.schema, "shop");
        assert_eq!(q.thread_id, 7);
        assert_eq!(q.sql, "ALTER TABLE t COMMENT 'é'");
        assert_eq!(q.server_charset, Some("latin1"));
    }

    #[test]
    fn begin_commit_rollback() {
        let q = Query::parse(&query_body("", "BEGIN", &[]), 13).unwrap();
        assert!(q.is_begin() && !q.is_commit());
        assert!(Query::parse(&query_body("", "COMMIT", &[]), 13).unwrap().is_commit());
        assert!(Query::parse(&query_body("", "ROLLBACK", &[]), 13).unwrap().is_rollback());
        let query = |sql: &str| Query::parse(&query_body("", sql, &[]), 13).unwrap();
        // XA: START opens, COMMIT/ROLLBACK of a prepared one settle it, ONE PHASE commits at once.
        assert!(query("XA START X'61',X'',1").is_xa_start());
        assert_eq!(query("XA COMMIT X'61',X'',1").xa_settlement(), Some((true, "X'61',X'',1")));
        assert_eq!(query("xa rollback  X'62',X'',1 ").xa_settlement(), Some((false, "X'62',X'',1")));
        let one_phase = query("XA COMMIT X'63',X'',1 ONE PHASE");
        assert!(one_phase.xa_settlement().is_none() && one_phase.is_commit());
        assert!(query("XA END X'61',X'',1").xa_settlement().is_none());
        assert!(!query("XA ROLLBACK X'61',X'',1").is_rollback(), "settles a prepared one, not the open one");
        // MySQL 8.0.21+'s CREATE TABLE … SELECT keeps the transaction open for its rows.
        assert!(query("CREATE TABLE `t` (\n  `id` int\n) START TRANSACTION").ends_with_start_transaction());
        assert!(!query("CREATE TABLE t (id int)").ends_with_start_transaction());
    }

    #[test]
    fn ddl_xid_status_var() {
        let mut status = vec![17];
        status.extend_from_slice(&42u64.to_le_bytes());
        let q = Query::parse(&query_body("db", "CREATE TABLE t (a int)", &status), 13).unwrap();
        assert_eq!(q.ddl_xid, Some(42));
    }
}
