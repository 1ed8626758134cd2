//! A MySQL/MariaDB client connection: handshake, authentication, text-protocol queries, and the
//! replication commands. Only what a binlog reader needs; no prepared statements, no TLS.

use std::time::Duration;

use tokio::net::TcpStream;

use super::packet::PacketStream;
use super::{SourceError, auth};
use crate::binlog::ByteReader;

mod capability {
    pub const LONG_PASSWORD: u32 = 0x1;
    pub const LONG_FLAG: u32 = 0x4;
    pub const CONNECT_WITH_DB: u32 = 0x8;
    pub const PROTOCOL_41: u32 = 0x200;
    pub const TRANSACTIONS: u32 = 0x2000;
    pub const SECURE_CONNECTION: u32 = 0x8000;
    pub const MULTI_RESULTS: u32 = 0x2_0000;
    pub const PLUGIN_AUTH: u32 = 0x8_0000;
    pub const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x20_0000;
}

/// utf8mb4_general_ci: results and statements are UTF-8.
const CHARSET_UTF8MB4: u8 = 45;

/// Which server family we talk to; their replication dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Mysql,
    Mariadb,
}

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `host:port`.
    pub address: String,
    pub user: String,
    pub password: String,
    pub database: Option<String>,
    pub connect_timeout: Duration,
    /// Largest packet payload accepted (binlog events included).
    pub max_packet_bytes: usize,
}

/// The result of a text-protocol query.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Option<Vec<u8>>>);

impl Row {
    /// Column `i` as text (`None` for SQL NULL). Result sets are UTF-8 on this connection.
    pub fn text(&self, i: usize) -> Option<String> {
        self.0.get(i).and_then(|v| v.as_ref()).map(|b| String::from_utf8_lossy(b).into_owned())
    }

    pub fn bytes(&self, i: usize) -> Option<&[u8]> {
        self.0.get(i).and_then(|v| v.as_deref())
    }
}

/// An authenticated connection.
#[derive(Debug)]
pub struct Connection {
    stream: PacketStream,
    /// As the handshake reports it, without MariaDB's `5.5.5-` prefix.
    pub server_version: String,
    pub flavor: Flavor,
    pub connection_id: u32,
}

impl Connection {
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, SourceError> {
        let tcp = tokio::time::timeout(opts.connect_timeout, TcpStream::connect(&opts.address))
            .await
            .map_err(|_| SourceError::Connect {
                address: opts.address.clone(),
                reason: format!("no answer within {:?}", opts.connect_timeout),
            })?
            .map_err(|e| SourceError::Connect { address: opts.address.clone(), reason: e.to_string() })?;
        tcp.set_nodelay(true).ok();
        let mut stream = PacketStream::new(tcp, opts.max_packet_bytes);
        let greeting =
            tokio::time::timeout(opts.connect_timeout, stream.read()).await.map_err(|_| SourceError::Connect {
                address: opts.address.clone(),
                reason: "the server accepted the connection but sent no greeting".into(),
            })??;
        if greeting.first() == Some(&0xff) {
            return Err(parse_error(&greeting));
        }
        let handshake = Handshake::parse(&greeting)?;
        let mut conn = Self {
            stream,
            server_version: handshake.server_version.trim_start_matches("5.5.5-").to_owned(),
            flavor: if handshake.server_version.contains("MariaDB") { Flavor::Mariadb } else { Flavor::Mysql },
            connection_id: handshake.connection_id,
        };
        conn.authenticate(opts, &handshake).await?;
        // Sluice's own statements quote strings 'like this' with backslash escapes and print names
        // `like this`: the server's sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, PIPES_AS_CONCAT…)
        // must not change how they read, nor how SHOW CREATE TABLE answers.
        conn.execute("SET SESSION sql_mode = ''").await?;
        Ok(conn)
    }

    async fn authenticate(&mut self, opts: &ConnectOptions, hs: &Handshake) -> Result<(), SourceError> {
        use capability::*;
        let needed = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH;
        if hs.capabilities & needed != needed {
            return Err(SourceError::Protocol(format!(
                "server {} is too old: it lacks the 4.1 protocol with pluggable authentication",
                hs.server_version
            )));
        }
        let mut caps =
            LONG_PASSWORD | LONG_FLAG | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | MULTI_RESULTS | PLUGIN_AUTH;
        caps |= hs.capabilities & PLUGIN_AUTH_LENENC_CLIENT_DATA;
        if opts.database.is_some() {
            caps |= CONNECT_WITH_DB;
        }
        let mut plugin =
            if hs.auth_plugin.is_empty() { auth::NATIVE_PASSWORD.to_owned() } else { hs.auth_plugin.clone() };
        let mut nonce = hs.nonce.clone();
        // A plugin we cannot speak is answered with native password; the server switches if it can.
        let first_plugin = if matches!(plugin.as_str(), auth::NATIVE_PASSWORD | auth::CACHING_SHA2_PASSWORD) {
            plugin.clone()
        } else {
            auth::NATIVE_PASSWORD.to_owned()
        };
        let response = auth::scramble(&first_plugin, &opts.password, &nonce)?;
        plugin = first_plugin;

        let mut packet = Vec::with_capacity(128);
        packet.extend_from_slice(&caps.to_le_bytes());
        packet.extend_from_slice(&(opts.max_packet_bytes.min(1 << 30) as u32).to_le_bytes());
        packet.push(CHARSET_UTF8MB4);
        packet.extend_from_slice(&[0u8; 23]);
        packet.extend_from_slice(opts.user.as_bytes());
        packet.push(0);
        // Scrambles are 20 or 32 bytes: one length byte in both the lenenc and the 4.1 encoding.
        packet.push(response.len() as u8);
        packet.extend_from_slice(&response);
        if let Some(db) = &opts.database {
            packet.extend_from_slice(db.as_bytes());
            packet.push(0);
        }
        packet.extend_from_slice(plugin.as_bytes());
        packet.push(0);
        self.stream.write(&packet).await?;

        loop {
            let reply = self.stream.read().await?;
            match reply.first() {
                Some(0x00) => return Ok(()),
                Some(0xff) => {
                    let err = parse_error(&reply);
                    return Err(match err {
                        SourceError::Server { code, message, .. } if code == 1045 || code == 1044 => SourceError::Auth(
                            format!("{message} (error {code}): check the user and password configured for this source"),
                        ),
                        other => other,
                    });
                }
                Some(0xfe) => {
                    // Auth switch: plugin name, then a new nonce.
                    let mut r = ByteReader::new(&reply[1..]);
                    plugin = String::from_utf8_lossy(r.nul_terminated().map_err(decode_err)?).into_owned();
                    nonce = r.take_rest().strip_suffix(&[0]).unwrap_or(r.rest()).to_vec();
                    let response = auth::scramble(&plugin, &opts.password, &nonce)?;
                    self.stream.write(&response).await?;
                }
                Some(0x01) if plugin == auth::CACHING_SHA2_PASSWORD => match reply.get(1) {
                    Some(3) => {} // fast authentication succeeded; an OK packet follows
                    Some(4) => {
                        // Full authentication: ask for the server's public key, send the password
                        // encrypted with it.
                        self.stream.write(&[2]).await?;
                        let key = self.stream.read().await?;
                        if key.first() != Some(&0x01) {
                            return Err(SourceError::Auth("the server did not send its RSA public key".into()));
                        }
                        let encrypted = auth::encrypt_password(&opts.password, &nonce, &key[1..])?;
                        self.stream.write(&encrypted).await?;
                    }
                    other => {
                        return Err(SourceError::Protocol(format!("unexpected caching_sha2_password state {other:?}")));
                    }
                },
                other => {
                    return Err(SourceError::Protocol(format!("unexpected authentication reply {other:?}")));
                }
            }
        }
    }

    /// Send a command packet (command byte + argument).
    pub async fn send_command(&mut self, command: u8, argument: &[u8]) -> Result<(), SourceError> {
        self.stream.reset_sequence();
        let mut packet = Vec::with_capacity(1 + argument.len());
        packet.push(command);
        packet.extend_from_slice(argument);
        self.stream.write(&packet).await
    }

    /// Read the next packet of the current command's reply.
    pub async fn read_packet(&mut self) -> Result<Vec<u8>, SourceError> {
        self.stream.read().await
    }

    /// Run a statement that returns no rows.
    pub async fn execute(&mut self, sql: &str) -> Result<(), SourceError> {
        self.query(sql).await.map(|_| ())
    }

    /// Run a text-protocol query and collect its (first) result set.
    pub async fn query(&mut self, sql: &str) -> Result<ResultSet, SourceError> {
        const COM_QUERY: u8 = 0x03;
        self.send_command(COM_QUERY, sql.as_bytes()).await?;
        let first = self.stream.read().await?;
        let mut result = match first.first() {
            Some(0x00) => return self.drain_more_results(&first).await.map(|_| ResultSet::default()),
            Some(0xff) => return Err(parse_error(&first)),
            Some(0xfb) => return Err(SourceError::Protocol("LOCAL INFILE requests are not supported".into())),
            _ => {
                let count = ByteReader::new(&first).lenenc_len().map_err(decode_err)?;
                let mut columns = Vec::with_capacity(count);
                for _ in 0..count {
                    let def = self.stream.read().await?;
                    columns.push(column_name(&def)?);
                }
                let eof = self.stream.read().await?;
                if !is_eof(&eof) {
                    return Err(SourceError::Protocol("expected EOF after column definitions".into()));
                }
                ResultSet { columns, rows: Vec::new() }
            }
        };
        loop {
            let packet = self.stream.read().await?;
            if packet.first() == Some(&0xff) {
                return Err(parse_error(&packet));
            }
            if is_eof(&packet) {
                self.drain_more_results(&packet).await?;
                return Ok(result);
            }
            let mut r = ByteReader::new(&packet);
            let mut row = Vec::with_capacity(result.columns.len());
            for _ in 0..result.columns.len() {
                if r.rest().first() == Some(&0xfb) {
                    r.skip(1).map_err(decode_err)?;
                    row.push(None);
                } else {
                    row.push(Some(r.lenenc_bytes().map_err(decode_err)?.to_vec()));
                }
            }
            result.rows.push(Row(row));
        }
    }

    /// Multi-statement or CALL replies: skip any further result sets so the connection stays in sync.
    async fn drain_more_results(&mut self, last: &[u8]) -> Result<(), SourceError> {
        const MORE_RESULTS_EXIST: u16 = 0x0008;
        let mut status = status_flags(last);
        while status & MORE_RESULTS_EXIST != 0 {
            let packet = self.stream.read().await?;
            match packet.first() {
                Some(0xff) => return Err(parse_error(&packet)),
                Some(0x00) => status = status_flags(&packet),
                _ => {
                    // A result set: column definitions, EOF, rows, EOF.
                    let count = ByteReader::new(&packet).lenenc_len().map_err(decode_err)?;
                    for _ in 0..count {
                        self.stream.read().await?;
                    }
                    self.stream.read().await?;
                    loop {
                        let p = self.stream.read().await?;
                        if p.first() == Some(&0xff) {
                            return Err(parse_error(&p));
                        }
                        if is_eof(&p) {
                            status = status_flags(&p);
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Run a query expected to return one row; the row's columns as text.
    pub async fn query_row(&mut self, sql: &str) -> Result<Option<Row>, SourceError> {
        Ok(self.query(sql).await?.rows.into_iter().next())
    }

    /// A server variable's value (`SHOW GLOBAL VARIABLES LIKE ...`), `None` if the server lacks it.
    pub async fn global_variable(&mut self, name: &str) -> Result<Option<String>, SourceError> {
        let row = self.query_row(&format!("SHOW GLOBAL VARIABLES LIKE '{}'", name.replace('\'', "''"))).await?;
        Ok(row.and_then(|r| r.text(1)))
    }
}

fn decode_err(e: crate::binlog::DecodeError) -> SourceError {
    SourceError::Protocol(e.to_string())
}

/// An EOF packet (0xfe with fewer than 9 bytes; longer 0xfe packets are data).
fn is_eof(packet: &[u8]) -> bool {
    packet.first() == Some(&0xfe) && packet.len() < 9
}

fn status_flags(packet: &[u8]) -> u16 {
    match packet.first() {
        Some(0xfe) if packet.len() >= 5 => u16::from_le_bytes([packet[3], packet[4]]),
        Some(0x00) => {
            let mut r = ByteReader::new(&packet[1..]);
            let _ = r.lenenc_int();
            let _ = r.lenenc_int();
            r.u16().unwrap_or(0)
        }
        _ => 0,
    }
}

fn column_name(def: &[u8]) -> Result<String, SourceError> {
    let mut r = ByteReader::new(def);
    for _ in 0..4 {
        r.lenenc_bytes().map_err(decode_err)?; // catalog, schema, table, org_table
    }
    Ok(String::from_utf8_lossy(r.lenenc_bytes().map_err(decode_err)?).into_owned())
}

/// An ERR packet: code, SQL state, message.
pub fn parse_error(packet: &[u8]) -> SourceError {
    let mut r = ByteReader::new(packet.get(1..).unwrap_or_default());
    let code = r.u16().unwrap_or(0);
    let mut state = String::new();
    if r.rest().first() == Some(&b'#') {
        let _ = r.skip(1);
        state = String::from_utf8_lossy(r.take(5).unwrap_or_default()).into_owned();
    }
    let message = String::from_utf8_lossy(r.take_rest()).into_owned();
    SourceError::Server { code, state, message }
}

/// The server's initial handshake (protocol version 10).
#[derive(Debug)]
struct Handshake {
    server_version: String,
    connection_id: u32,
    capabilities: u32,
    nonce: Vec<u8>,
    auth_plugin: String,
}

impl Handshake {
    fn parse(packet: &[u8]) -> Result<Self, SourceError> {
        let mut r = ByteReader::new(packet);
        let parse = |r: &mut ByteReader<'_>| -> Result<Self, crate::binlog::DecodeError> {
            let protocol = r.u8()?;
            if protocol != 10 {
                return Err(crate::binlog::DecodeError::Unsupported(format!("handshake protocol {protocol}")));
            }
            let server_version = String::from_utf8_lossy(r.nul_terminated()?).into_owned();
            let connection_id = r.u32()?;
            let mut nonce = r.take(8)?.to_vec();
            r.skip(1)?;
            let mut capabilities = u32::from(r.u16()?);
            if r.is_empty() {
                return Ok(Self { server_version, connection_id, capabilities, nonce, auth_plugin: String::new() });
            }
            let _charset = r.u8()?;
            let _status = r.u16()?;
            capabilities |= u32::from(r.u16()?) << 16;
            let auth_data_len = usize::from(r.u8()?);
            r.skip(10)?;
            if capabilities & capability::SECURE_CONNECTION != 0 {
                let len = auth_data_len.saturating_sub(8).max(13);
                let part2 = r.take(len)?;
                nonce.extend_from_slice(part2.strip_suffix(&[0]).unwrap_or(part2));
            }
            let auth_plugin = if capabilities & capability::PLUGIN_AUTH != 0 {
                let rest = r.take_rest();
                String::from_utf8_lossy(rest.split(|&b| b == 0).next().unwrap_or_default()).into_owned()
            } else {
                String::new()
            };
            Ok(Self { server_version, connection_id, capabilities, nonce, auth_plugin })
        };
        parse(&mut r).map_err(|e| SourceError::Protocol(format!("cannot read the server greeting: {e}")))
    }
}
