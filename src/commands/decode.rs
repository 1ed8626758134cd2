//! `sluice binlog decode FILE…`: decode binlog files offline into JSON lines, one per row change,
//! DDL and transaction commit, like `mysqlbinlog -v`. Column names come from the files'
//! TABLE_MAP metadata (`@1`, `@2`, … without it).

use std::io::{Read, Write};
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::assemble::{AssembleError, Assembler, AssemblerConfig, StartState, StatementDml, TableFilter};
use crate::binlog::file::{BinlogFile, FileError};
use crate::binlog::value::RenderOptions;
use crate::event::{Cell, Change, RowImage, RowKind, TransactionChunk};
use crate::schema::{SchemaRegistry, TableSchema};

#[derive(Debug, thiserror::Error)]
pub enum DecodeCommandError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}, event at byte {offset}: {source}")]
    Event { path: String, offset: u64, source: AssembleError },
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// How to read the files: values' rendering, and what the server that wrote them did with names.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    pub render: RenderOptions,
    /// The server ran with lower_case_table_names=1: DDL's database and table names are taken in
    /// lower case, as its TABLE_MAPs give them.
    pub lower_case_names: bool,
}

/// Decode `files` in order (a rotation continues in the next file: the schema history and GTID
/// set of the earlier files carry on) and write JSON lines to `out`.
pub async fn decode_files(
    files: &[PathBuf],
    options: DecodeOptions,
    out: &mut impl Write,
) -> Result<u64, DecodeCommandError> {
    let mut assembler = offline_assembler(options, "");
    let mut lines = 0;
    for path in files {
        assembler.begin_file(&path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        lines += decode_events(&mut assembler, BinlogFile::open(path)?, out).await?;
    }
    for (xid, began) in assembler.prepared_xa() {
        tracing::warn!(%xid, %began, "an XA transaction is prepared and not committed in these files: its rows are not shown");
    }
    Ok(lines)
}

/// Decode one binlog (a file, or any bytes: the fuzz target feeds arbitrary ones) into JSON lines.
/// `file_name` is the binlog file name positions are reported in.
pub async fn decode_binlog<R: Read>(
    reader: BinlogFile<R>,
    file_name: &str,
    options: DecodeOptions,
    out: &mut impl Write,
) -> Result<u64, DecodeCommandError> {
    decode_events(&mut offline_assembler(options, file_name), reader, out).await
}

/// An assembler of every table's changes and DDL, its schema history from the files alone.
fn offline_assembler(options: DecodeOptions, file_name: &str) -> Assembler {
    let config = AssemblerConfig {
        render: options.render,
        filter: TableFilter::all(),
        chunk_bytes: 64 << 20,
        emit_ddl: true,
        statement_dml: StatementDml::Report,
        xa_bytes: 64 << 20,
        replication: false,
    };
    let start = StartState { file: file_name.to_owned(), ..Default::default() };
    Assembler::new(config, SchemaRegistry::offline().with_lower_case_names(options.lower_case_names), start)
}

async fn decode_events<R: Read>(
    assembler: &mut Assembler,
    reader: BinlogFile<R>,
    out: &mut impl Write,
) -> Result<u64, DecodeCommandError> {
    let path = reader.path().to_owned();
    let mut lines = 0;
    for event in reader {
        let (offset, raw) = event?;
        assembler.feed(raw);
        while let Some(chunk) = assembler.next_chunk().await.map_err(|source| DecodeCommandError::Event {
            path: path.clone(),
            offset,
            source,
        })? {
            lines += write_chunk(&chunk, out)?;
        }
    }
    Ok(lines)
}

fn image(table: &TableSchema, cells: &RowImage) -> Value {
    let mut map = Map::new();
    for (column, cell) in table.columns.iter().zip(cells.iter()) {
        match cell {
            Cell::Absent => {}
            Cell::Null => {
                map.insert(column.name.clone(), Value::Null);
            }
            Cell::Text(t) => {
                map.insert(column.name.clone(), Value::String(t.to_owned()));
            }
        }
    }
    Value::Object(map)
}

fn write_chunk(chunk: &TransactionChunk, out: &mut impl Write) -> Result<u64, std::io::Error> {
    let gtid = chunk.gtid.as_ref().map(ToString::to_string).unwrap_or_default();
    let mut lines = 0;
    for change in &chunk.changes {
        match change {
            Change::Rows(rows) => {
                for row in &rows.rows {
                    let mut line = json!({
                        "event": rows.kind.canal_name(),
                        "database": rows.table.schema,
                        "table": rows.table.table,
                        "position": rows.origin.position.to_string(),
                        "gtid": gtid,
                        "timestamp": rows.origin.timestamp_ms / 1000,
                    });
                    let data = match rows.kind {
                        RowKind::Delete => row.before.as_ref(),
                        _ => row.after.as_ref(),
                    };
                    line["data"] = data.map_or(Value::Null, |c| image(&rows.table, c));
                    if rows.kind == RowKind::Update {
                        line["before"] = row.before.as_ref().map_or(Value::Null, |c| image(&rows.table, c));
                    }
                    serde_json::to_writer(&mut *out, &line)?;
                    out.write_all(b"\n")?;
                    lines += 1;
                }
            }
            Change::Ddl(ddl) => {
                let line = json!({
                    "event": "DDL",
                    "type": ddl.kind.canal_name(),
                    "database": ddl.schema,
                    "table": ddl.table,
                    "sql": ddl.sql,
                    "position": ddl.origin.position.to_string(),
                    "gtid": gtid,
                });
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
                lines += 1;
            }
        }
    }
    if let Some(commit) = &chunk.commit {
        let line = json!({
            "event": "COMMIT",
            "position": commit.binlog.to_string(),
            "gtid": gtid,
            "gtid_set": commit.gtid_set.to_string(),
            "timestamp": commit.timestamp_ms / 1000,
        });
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        lines += 1;
    }
    Ok(lines)
}
