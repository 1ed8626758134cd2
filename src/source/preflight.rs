//! Checks that the source server is set up for CDC: binary logging in ROW format, full row images
//! and metadata, the privileges a replica needs, and a resume position still on the server. Every
//! problem is reported, each with its fix; the caller decides which ones stop it.

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
    fn warning(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, problem: problem.into(), fix: fix.into() }
    }
}

/// Run every check on a connected server. `resume_from` is the position Sluice would start at, if
/// it is a file position.
pub async fn check(conn: &mut Connection, resume_from: Option<&BinlogPosition>) -> Result<Vec<Finding>, SourceError> {
    let mut findings = Vec::new();
    let var = |v: Option<String>| v.unwrap_or_default().to_ascii_uppercase();

    if var(conn.global_variable("log_bin").await?) != "ON" {
        findings.push(Finding::error(
            "binary logging is off (log_bin=OFF)",
            "start the server with log_bin=mysql-bin (and server_id set) in its configuration",
        ));
    }
    let format = var(conn.global_variable("binlog_format").await?);
    if format != "ROW" {
        findings.push(Finding::error(
            format!("binlog_format is {format}, not ROW: row changes would not be in the binlog"),
            "SET GLOBAL binlog_format='ROW' and put binlog_format=ROW in the server configuration",
        ));
    }
    let image = var(conn.global_variable("binlog_row_image").await?);
    if !image.is_empty() && image != "FULL" {
        findings.push(Finding::warning(
            format!("binlog_row_image is {image}: UPDATE/DELETE events will lack unchanged columns"),
            "SET GLOBAL binlog_row_image='FULL' and put binlog_row_image=FULL in the server configuration",
        ));
    }
    match conn.global_variable("binlog_row_metadata").await? {
        None => findings.push(Finding::warning(
            "the server has no binlog_row_metadata (MySQL < 8.0.1 / MariaDB < 10.5): column names come from \
             Sluice's schema history (information_schema at a fresh start or when a table is first seen, then \
             the binlog's DDL), which cannot follow DDL it fails to parse or tables first seen after they changed",
            "upgrade the server, or avoid schema changes on captured tables while Sluice lags behind",
        )),
        Some(v) if !v.eq_ignore_ascii_case("FULL") => findings.push(Finding::warning(
            format!(
                "binlog_row_metadata is {v}: column names and types come from Sluice's schema history \
                 (information_schema at a fresh start or when a table is first seen, then the binlog's DDL)"
            ),
            "SET GLOBAL binlog_row_metadata='FULL' and put binlog_row_metadata=FULL in the server configuration",
        )),
        Some(_) => {}
    }
    if var(conn.global_variable("binlog_checksum").await?) == "NONE" {
        findings.push(Finding::warning(
            "binlog_checksum is NONE: corrupted events cannot be detected",
            "SET GLOBAL binlog_checksum='CRC32'",
        ));
    }
    if conn.flavor == Flavor::Mysql {
        if var(conn.global_variable("binlog_transaction_compression").await?) == "ON" {
            findings.push(Finding::error(
                "binlog_transaction_compression is ON, which Sluice does not decode yet",
                "SET GLOBAL binlog_transaction_compression=OFF",
            ));
        }
        if var(conn.global_variable("binlog_row_value_options").await?).contains("PARTIAL_JSON") {
            findings.push(Finding::error(
                "binlog_row_value_options=PARTIAL_JSON writes JSON updates as diffs Sluice does not apply yet",
                "SET GLOBAL binlog_row_value_options=''",
            ));
        }
    }
    findings.extend(check_grants(conn).await?);
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
