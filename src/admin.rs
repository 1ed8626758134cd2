//! The admin HTTP port: `/health`, `/status` (JSON per destination) and `/metrics` (Prometheus text).
//! A deliberately small HTTP/1.1 responder: GET only, one request per connection.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::destination::{DestinationStatus, Role};

/// Serve until the task is dropped.
pub async fn serve(listener: TcpListener, destinations: Arc<Vec<Arc<DestinationStatus>>>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else { continue };
        let destinations = Arc::clone(&destinations);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let Ok(Ok(n)) = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut buf)).await else {
                return;
            };
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (status, content_type, body) = respond(path, &destinations);
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}

fn respond(path: &str, destinations: &[Arc<DestinationStatus>]) -> (&'static str, &'static str, String) {
    match path {
        "/health" => {
            let failed = destinations.iter().any(|d| d.role() == Role::Failed);
            if failed {
                ("503 Service Unavailable", "text/plain", "failed\n".into())
            } else {
                ("200 OK", "text/plain", "ok\n".into())
            }
        }
        "/status" => {
            let snapshots: Vec<_> = destinations.iter().map(|d| d.snapshot()).collect();
            ("200 OK", "application/json", serde_json::to_string_pretty(&snapshots).unwrap_or_default())
        }
        "/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics(destinations)),
        _ => ("404 Not Found", "text/plain", "try /health, /status or /metrics\n".into()),
    }
}

fn metrics(destinations: &[Arc<DestinationStatus>]) -> String {
    let mut out = String::new();
    type Counter = (&'static str, &'static str, fn(&DestinationStatus) -> u64);
    let counters: [Counter; 8] = [
        ("sluice_binlog_events_total", "Binlog events read", |d| d.metrics.events_total.load(Ordering::Relaxed)),
        ("sluice_binlog_bytes_total", "Binlog bytes read", |d| d.metrics.binlog_bytes_total.load(Ordering::Relaxed)),
        ("sluice_rows_total", "Row changes decoded", |d| d.metrics.rows_total.load(Ordering::Relaxed)),
        ("sluice_batches_total", "Batches published", |d| d.metrics.batches_total.load(Ordering::Relaxed)),
        ("sluice_messages_total", "Messages published", |d| d.metrics.messages_total.load(Ordering::Relaxed)),
        ("sluice_message_bytes_total", "Message payload bytes published", |d| {
            d.metrics.message_bytes_total.load(Ordering::Relaxed)
        }),
        ("sluice_pipeline_restarts_total", "Pipeline restarts after transient errors", |d| {
            d.metrics.restarts_total.load(Ordering::Relaxed)
        }),
        ("sluice_publish_seconds_sum_micros", "Sum of batch publish latencies, microseconds", |d| {
            d.metrics.publish_seconds_sum_micros.load(Ordering::Relaxed)
        }),
    ];
    for (name, help, get) in counters {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for d in destinations {
            let _ = writeln!(out, "{name}{{destination=\"{}\"}} {}", d.name, get(d));
        }
    }
    let _ = writeln!(out, "# HELP sluice_leader 1 if this server runs the destination\n# TYPE sluice_leader gauge");
    for d in destinations {
        let _ = writeln!(out, "sluice_leader{{destination=\"{}\"}} {}", d.name, u8::from(d.role() == Role::Leader));
    }
    let _ = writeln!(
        out,
        "# HELP sluice_replication_lag_seconds Age of the committed position\n# TYPE sluice_replication_lag_seconds gauge"
    );
    for d in destinations {
        if let Some(lag) = d.snapshot().lag_seconds {
            let _ = writeln!(out, "sluice_replication_lag_seconds{{destination=\"{}\"}} {lag:.3}", d.name);
        }
    }
    out
}
