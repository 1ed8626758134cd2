//! Checks that the source server is set up for CDC: binary logging in ROW format, full row images
//! and metadata, the privileges a replica needs, a resume position still on the server, and that
//! what the destination captures reaches the binlog at all (a replica logs what it applies; no
//! `binlog_do_db`/`binlog_ignore_db` leaves captured tables out). Every problem is reported, each
//! with its fix; the caller decides which ones stop it. (Foreign keys whose actions change rows
//! below the binlog are named by [`crate::schema::foreign_keys`], which reads table definitions.)

use super::{Connection, Flavor, SourceError, server};
use crate::event::BinlogPosition;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Sluice cannot work correctly like this.
    Error,
    /// Sluice works, with a limitation the user should know about.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub problem: String,
    pub fix: String,
}

impl Finding {
    fn error(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { severity: Severity::Error, problem: problem.into(), fix: fix.into() }
    }
    pub fn warning(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, problem: problem.into(), fix: fix.into() }
    }
}

/// Run every check on a connected server. `resume_from` is the position Sluice would start at, if
/// it is a file position; `captured` says which tables (schema, table) the destination captures.
pub async fn check(
    conn: &mut Connection,
    resume_from: Option<&BinlogPosition>,
    captured: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<Vec<Finding>, SourceError> {
    let settings = Settings::read(conn).await?;
    let mut findings = settings.findings();
    findings.extend(check_grants(conn).await?);
    findings.extend(check_replica_logging(conn).await?);
    findings.extend(check_database_filters(conn, captured).await?);
    if let Some(position) = resume_from {
        let files = server::binlog_files(conn).await?;
        if !files.is_empty() && !files.iter().any(|f| f.name == position.file) {
            findings.push(Finding::error(
                format!(
                    "the resume position {position} is no longer on the server (oldest binlog is {})",
                    files[0].name
                ),
                "the changes in between are lost to CDC: re-snapshot the tables and reset the destination's \
                 cursor (sluice positions reset) to a current position",
            ));
        }
    }
    Ok(findings)
}

/// The server variables the checks read, as `SHOW GLOBAL VARIABLES` gives them (upper-cased);
/// `None` where the server has no such variable.
#[derive(Debug, Clone)]
struct Settings {
    log_bin: Option<String>,
    binlog_format: Option<String>,
    binlog_row_image: Option<String>,
    binlog_row_metadata: Option<String>,
    binlog_checksum: Option<String>,
    /// MySQL 8.0.3+.
    binlog_row_value_options: Option<String>,
}

impl Settings {
    async fn read(conn: &mut Connection) -> Result<Self, SourceError> {
        let mut var = async |name: &str| -> Result<Option<String>, SourceError> {
            Ok(conn.global_variable(name).await?.map(|v| v.to_ascii_uppercase()))
        };
        Ok(Self {
            log_bin: var("log_bin").await?,
            binlog_format: var("binlog_format").await?,
            binlog_row_image: var("binlog_row_image").await?,
            binlog_row_metadata: var("binlog_row_metadata").await?,
            binlog_checksum: var("binlog_checksum").await?,
            binlog_row_value_options: var("binlog_row_value_options").await?,
        })
    }

    fn findings(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        if self.log_bin.as_deref() != Some("ON") {
            findings.push(Finding::error(
                "binary logging is off (log_bin=OFF)",
                "start the server with log_bin=mysql-bin (and server_id set) in its configuration",
            ));
        }
        let format = self.binlog_format.as_deref().unwrap_or_default();
        if format != "ROW" {
            findings.push(Finding::error(
                format!("binlog_format is {format}, not ROW: row changes would not be in the binlog"),
                "SET GLOBAL binlog_format='ROW' and put binlog_format=ROW in the server configuration",
            ));
        }
        let image = self.binlog_row_image.as_deref().unwrap_or("FULL");
        match image {
            "FULL" => {}
            // MariaDB 11.4+: whole before-images, only the changed columns after.
            "FULL_NODUP" => findings.push(Finding::warning(
                "binlog_row_image is FULL_NODUP: an UPDATE's new values hold only the columns it changed",
                "SET GLOBAL binlog_row_image='FULL' and put binlog_row_image=FULL in the server configuration",
            )),
            _ => findings.push(Finding::warning(
                format!("binlog_row_image is {image}: UPDATE/DELETE events will lack unchanged columns"),
                "SET GLOBAL binlog_row_image='FULL' and put binlog_row_image=FULL in the server configuration",
            )),
        }
        match &self.binlog_row_metadata {
            None => findings.push(Finding::warning(
                "the server has no binlog_row_metadata (MySQL < 8.0.1 / MariaDB < 10.5): column names come from \
                 Sluice's schema history (information_schema at a fresh start or when a table is first seen, then \
                 the binlog's DDL), which cannot follow DDL it fails to parse or tables first seen after they changed",
                "upgrade the server, or avoid schema changes on captured tables while Sluice lags behind",
            )),
            Some(v) if v != "FULL" => findings.push(Finding::warning(
                format!(
                    "binlog_row_metadata is {v}: column names and types come from Sluice's schema history \
                     (information_schema at a fresh start or when a table is first seen, then the binlog's DDL)"
                ),
                "SET GLOBAL binlog_row_metadata='FULL' and put binlog_row_metadata=FULL in the server configuration",
            )),
            Some(_) => {}
        }
        if self.binlog_checksum.as_deref() == Some("NONE") {
            findings.push(Finding::warning(
                "binlog_checksum is NONE: corrupted events cannot be detected",
                "SET GLOBAL binlog_checksum='CRC32'",
            ));
        }
        // A partial JSON update is a diff against the before-image's document, which only a FULL
        // before-image is sure to hold (MINIMAL has just the key, NOBLOB leaves JSON out).
        if self.binlog_row_value_options.as_deref().is_some_and(|o| o.contains("PARTIAL_JSON")) && image != "FULL" {
            findings.push(Finding::error(
                format!(
                    "binlog_row_value_options=PARTIAL_JSON with binlog_row_image={image}: a JSON update is logged as \
                     a diff against a before-image that lacks the document, so Sluice cannot rebuild the new value \
                     and would stop at the first one"
                ),
                "SET GLOBAL binlog_row_value_options='' (or binlog_row_image='FULL'), in the server configuration too",
            ));
        }
        findings
    }
}

/// A server that applies changes from a source of its own writes them to its binlog only with
/// `log_slave_updates` (MariaDB's default is OFF; MySQL 8's `log_replica_updates` is ON): without
/// it Sluice would see only the writes made on this server itself.
async fn check_replica_logging(conn: &mut Connection) -> Result<Vec<Finding>, SourceError> {
    let logs_updates = match conn.global_variable("log_replica_updates").await? {
        Some(v) => Some(v),
        None => conn.global_variable("log_slave_updates").await?,
    };
    if logs_updates.is_none_or(|v| v.eq_ignore_ascii_case("ON")) {
        return Ok(Vec::new());
    }
    let fix = "set log_slave_updates=ON (log_replica_updates on MySQL) in the server configuration and restart \
               it, or point source.address at the server the writes are made on";
    match replication_role(conn).await? {
        ReplicationRole::Replica => Ok(vec![Finding::error(
            "this server replicates from another one but log_slave_updates is OFF: the changes it applies are \
             not in its binlog, so Sluice would see only the writes made on this server itself",
            fix,
        )]),
        ReplicationRole::FormerReplica(gtids) => Ok(vec![Finding::warning(
            format!(
                "this server has applied replicated transactions (gtid_slave_pos {gtids}) and log_slave_updates \
                 is OFF: if it replicates again, what it applies will not be in its binlog"
            ),
            fix,
        )]),
        ReplicationRole::Source => Ok(Vec::new()),
    }
}

enum ReplicationRole {
    /// Replicating now (MariaDB: a running replica connection; MySQL: a configured channel).
    Replica,
    /// MariaDB: none running, but it has applied replicated transactions (a promoted replica, or
    /// one stopped for now).
    FormerReplica(String),
    Source,
}

/// Asked in ways the Sluice user's grants allow: MariaDB's SHOW SLAVE STATUS needs SLAVE MONITOR,
/// its status counters and `gtid_slave_pos` do not; MySQL's SHOW REPLICA STATUS needs
/// REPLICATION CLIENT.
async fn replication_role(conn: &mut Connection) -> Result<ReplicationRole, SourceError> {
    match conn.flavor {
        Flavor::Mariadb => {
            let running = conn.query_row("SHOW GLOBAL STATUS LIKE 'Slaves_running'").await?;
            if running.and_then(|r| r.text(1)).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0) > 0 {
                return Ok(ReplicationRole::Replica);
            }
            let applied = conn.global_variable("gtid_slave_pos").await?.unwrap_or_default();
            Ok(if applied.trim().is_empty() {
                ReplicationRole::Source
            } else {
                ReplicationRole::FormerReplica(applied)
            })
        }
        Flavor::Mysql => {
            let status = match conn.query("SHOW REPLICA STATUS").await {
                Err(SourceError::Server { code: 1064, .. }) => conn.query("SHOW SLAVE STATUS").await?,
                other => other?,
            };
            Ok(if status.rows.is_empty() { ReplicationRole::Source } else { ReplicationRole::Replica })
        }
    }
}

/// How many tables a finding names before it counts the rest.
const TABLES_NAMED: usize = 10;

/// `binlog_do_db` / `binlog_ignore_db` on the server: changes to the captured tables of a database
/// it leaves out never reach the binlog, and a DDL is logged or not by the database its session
/// had selected (`USE`), not by the table it changes.
async fn check_database_filters(
    conn: &mut Connection,
    captured: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<Vec<Finding>, SourceError> {
    let (only, ignored) = server::binlog_database_filters(conn).await?;
    if only.is_empty() && ignored.is_empty() {
        return Ok(Vec::new());
    }
    let logged = |db: &str| (only.is_empty() || only.iter().any(|d| d == db)) && !ignored.iter().any(|d| d == db);
    let tables = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' \
             AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
             ORDER BY TABLE_SCHEMA, TABLE_NAME",
        )
        .await?;
    let unlogged: Vec<String> = tables
        .rows
        .iter()
        .map(|row| (row.text(0).unwrap_or_default(), row.text(1).unwrap_or_default()))
        .filter(|(db, table)| captured(db, table) && !logged(db))
        .map(|(db, table)| format!("{db}.{table}"))
        .collect();
    let settings = [("binlog_do_db", &only), ("binlog_ignore_db", &ignored)]
        .iter()
        .filter(|(_, dbs)| !dbs.is_empty())
        .map(|(name, dbs)| format!("{name}={}", dbs.join(",")))
        .collect::<Vec<_>>()
        .join(", ");
    let mut problem = format!(
        "the server filters its binlog by database ({settings}): a DDL is logged by the database its session \
         had selected (USE), so one changing a captured table from a filtered database is missing"
    );
    if !unlogged.is_empty() {
        let named = unlogged.iter().take(TABLES_NAMED).cloned().collect::<Vec<_>>().join(", ");
        let more = unlogged.len().saturating_sub(TABLES_NAMED);
        problem.push_str(&format!(
            ", and changes to {} captured table(s) never reach it: {named}{}",
            unlogged.len(),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    Ok(vec![Finding::warning(
        problem,
        "remove binlog_do_db/binlog_ignore_db from the server configuration (a restart), or exclude the \
         filtered databases from the destination's filter",
    )])
}

/// REPLICATION SLAVE (to dump), REPLICATION CLIENT / BINLOG MONITOR (to read positions), SELECT (to
/// read table definitions from information_schema).
async fn check_grants(conn: &mut Connection) -> Result<Vec<Finding>, SourceError> {
    let grants = conn.query("SHOW GRANTS").await?;
    let mut privileges = String::new();
    for row in &grants.rows {
        let line = row.text(0).unwrap_or_default().to_ascii_uppercase();
        if let Some((privs, rest)) = line.strip_prefix("GRANT ").and_then(|l| l.split_once(" ON "))
            && rest.trim_start().starts_with("*.*")
        {
            privileges.push_str(privs);
            privileges.push(',');
        }
    }
    let has = |name: &str| privileges.contains("ALL PRIVILEGES") || privileges.contains(name);
    let mut findings = Vec::new();
    let mut missing = Vec::new();
    if !has("REPLICATION SLAVE") {
        missing.push("REPLICATION SLAVE");
    }
    if !has("REPLICATION CLIENT") && !has("BINLOG MONITOR") && !has("SUPER") {
        missing.push("REPLICATION CLIENT");
    }
    if !has("SELECT") {
        missing.push("SELECT");
    }
    if !missing.is_empty() {
        findings.push(Finding::error(
            format!("the user lacks {} on *.*", missing.join(", ")),
            "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the Sluice user",
        ));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a MySQL 8 set up as the README says reports.
    fn mysql8() -> Settings {
        let on = |v: &str| Some(v.to_owned());
        Settings {
            log_bin: on("ON"),
            binlog_format: on("ROW"),
            binlog_row_image: on("FULL"),
            binlog_row_metadata: on("FULL"),
            binlog_checksum: on("CRC32"),
            binlog_row_value_options: on(""),
        }
    }

    #[test]
    fn a_server_set_up_for_cdc_has_nothing_to_report() {
        assert_eq!(mysql8().findings(), []);
    }

    /// Both are decoded (TRANSACTION_PAYLOAD, PARTIAL_UPDATE_ROWS), so neither stops Sluice — but
    /// a partial JSON update needs the document in the before-image.
    #[test]
    fn partial_json_is_refused_only_without_full_before_images() {
        let partial = Settings { binlog_row_value_options: Some("PARTIAL_JSON".into()), ..mysql8() };
        assert_eq!(partial.findings(), []);
        for image in ["MINIMAL", "NOBLOB"] {
            let findings = Settings { binlog_row_image: Some(image.into()), ..partial.clone() }.findings();
            let severities: Vec<Severity> = findings.iter().map(|f| f.severity).collect();
            assert_eq!(severities, [Severity::Warning, Severity::Error], "{findings:?}");
            assert!(findings[1].problem.contains(&format!("PARTIAL_JSON with binlog_row_image={image}")));
        }
    }

    #[test]
    fn mariadb_without_the_mysql_variables_and_with_full_nodup() {
        let mariadb = Settings { binlog_row_value_options: None, ..mysql8() };
        assert_eq!(mariadb.findings(), []);
        let nodup = Settings { binlog_row_image: Some("FULL_NODUP".into()), ..mariadb }.findings();
        assert_eq!(nodup.len(), 1);
        assert!(nodup[0].problem.contains("only the columns it changed"), "{nodup:?}");
    }
}
