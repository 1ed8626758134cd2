//! TABLE_MAP: binds a table id to a table's name and column types for the rows events that follow,
//! with the optional metadata (MySQL 8.0.1+, MariaDB 10.5+) `binlog_row_metadata=FULL` adds:
//! column names, signedness, charsets, ENUM/SET labels and the primary key.

use std::sync::Arc;

use super::column::{Charset, ColumnCodec, ColumnType};
use super::{ByteReader, DecodeError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMapColumn {
    pub column_type: ColumnType,
    pub meta: u16,
    pub nullable: bool,
}

/// Optional metadata, each present only if the server wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionalMetadata {
    /// One flag per numeric column, in column order.
    pub unsigned: Option<Vec<bool>>,
    /// One collation id per character column (real type CHAR/VARCHAR/TEXT/BLOB, and GEOMETRY on
    /// MariaDB: see [`TableMap::geometry_has_charset`]), in column order.
    pub character_collations: Option<Vec<u16>>,
    /// One collation id per ENUM/SET column, in column order.
    pub enum_set_collations: Option<Vec<u16>>,
    pub column_names: Option<Vec<String>>,
    /// Labels of each SET column, in column order.
    pub set_labels: Option<Vec<Vec<Vec<u8>>>>,
    /// Labels of each ENUM column, in column order.
    pub enum_labels: Option<Vec<Vec<Vec<u8>>>>,
    /// Primary key column indexes, in key order.
    pub primary_key: Option<Vec<usize>>,
    /// One flag per column: visible (MySQL 8.0.23+ invisible columns).
    pub visible: Option<Vec<bool>>,
}

mod field {
    pub const SIGNEDNESS: u8 = 1;
    pub const DEFAULT_CHARSET: u8 = 2;
    pub const COLUMN_CHARSET: u8 = 3;
    pub const COLUMN_NAME: u8 = 4;
    pub const SET_STR_VALUE: u8 = 5;
    pub const ENUM_STR_VALUE: u8 = 6;
    pub const SIMPLE_PRIMARY_KEY: u8 = 8;
    pub const PRIMARY_KEY_WITH_PREFIX: u8 = 9;
    pub const ENUM_AND_SET_DEFAULT_CHARSET: u8 = 10;
    pub const ENUM_AND_SET_COLUMN_CHARSET: u8 = 11;
    pub const COLUMN_VISIBILITY: u8 = 12;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMap {
    pub table_id: u64,
    pub flags: u16,
    pub schema: String,
    pub table: String,
    pub columns: Vec<TableMapColumn>,
    pub metadata: OptionalMetadata,
    /// Whether GEOMETRY columns take a place among the character columns of the charset
    /// metadata (MariaDB counts them, with the binary collation; MySQL does not).
    pub geometry_has_charset: bool,
}

impl TableMap {
    /// A TABLE_MAP body; `mariadb` when a MariaDB server wrote it.
    pub fn parse(body: &[u8], post_header_len: usize, mariadb: bool) -> Result<Self, DecodeError> {
        let mut r = ByteReader::new(body);
        let table_id = if post_header_len == 6 { u64::from(r.u32()?) } else { r.u48()? };
        let flags = r.u16()?;
        r.skip(post_header_len.saturating_sub(8))?;
        let schema_len = usize::from(r.u8()?);
        let schema = name(r.take(schema_len)?)?;
        r.skip(1)?;
        let table_len = usize::from(r.u8()?);
        let table = name(r.take(table_len)?)?;
        r.skip(1)?;
        let column_count = r.lenenc_len()?;
        if column_count > 4096 {
            return Err(DecodeError::Malformed(format!("TABLE_MAP declares {column_count} columns (limit 4096)")));
        }
        let types = r.take(column_count)?;
        let meta_block = r.lenenc_bytes()?;
        let mut meta_reader = ByteReader::new(meta_block);
        let mut columns = Vec::with_capacity(column_count);
        for &t in types {
            let column_type = ColumnType(t);
            let meta = match column_type.metadata_len() {
                0 => 0,
                1 => u16::from(meta_reader.u8()?),
                _ => match column_type {
                    // Little-endian: maximum length, or (bit length % 8, whole bytes).
                    ColumnType::VARCHAR | ColumnType::VARCHAR_COMPRESSED | ColumnType::VAR_STRING | ColumnType::BIT => {
                        meta_reader.u16()?
                    }
                    // Big-endian pairs: (precision, scale) or (real type, length).
                    _ => meta_reader.uint_be(2)? as u16,
                },
            };
            columns.push(TableMapColumn { column_type, meta, nullable: false });
        }
        if !meta_reader.is_empty() {
            return Err(DecodeError::Malformed(format!(
                "TABLE_MAP for {schema}.{table}: {} metadata bytes left over",
                meta_reader.remaining()
            )));
        }
        let null_bits = r.take(column_count.div_ceil(8))?;
        for (i, column) in columns.iter_mut().enumerate() {
            column.nullable = null_bits[i / 8] & (1 << (i % 8)) != 0;
        }
        let metadata = parse_optional_metadata(&mut r, &columns, |t| has_charset(t, mariadb))?;
        Ok(Self { table_id, flags, schema, table, columns, metadata, geometry_has_charset: mariadb })
    }

    /// Whether the server wrote `binlog_row_metadata=FULL` information (names at least).
    pub fn has_full_metadata(&self) -> bool {
        self.metadata.column_names.is_some()
    }

    /// Decoders for each column from what this event alone says; charsets and labels the metadata
    /// lacks stay at their defaults (UTF-8, none) for the schema layer to fill in.
    pub fn codecs(&self) -> Vec<ColumnCodec> {
        let m = &self.metadata;
        let (mut numeric, mut character, mut enum_set, mut enum_i, mut set_i) = (0, 0, 0, 0, 0);
        self.columns
            .iter()
            .map(|c| {
                let mut codec = ColumnCodec::new(c.column_type, c.meta);
                let real = codec.real_type();
                if real.is_numeric() {
                    codec.unsigned = m.unsigned.as_ref().and_then(|u| u.get(numeric).copied()).unwrap_or(false);
                    numeric += 1;
                }
                if has_charset(real, self.geometry_has_charset) {
                    if let Some(id) = m.character_collations.as_ref().and_then(|v| v.get(character)) {
                        codec.charset = Charset::from_collation_id(*id);
                    }
                    character += 1;
                }
                if real.is_enum_or_set() {
                    if let Some(id) = m.enum_set_collations.as_ref().and_then(|v| v.get(enum_set)) {
                        codec.charset = Charset::from_collation_id(*id);
                    }
                    enum_set += 1;
                }
                // Labels are in the column's character set (read just above).
                let labels = |lists: &Option<Vec<Vec<Vec<u8>>>>, i: usize| {
                    let list = lists.as_ref()?.get(i)?;
                    Some(list.iter().map(|label| label_text(codec.charset, label)).collect::<Arc<[String]>>())
                };
                if real == ColumnType::ENUM {
                    codec.labels = labels(&m.enum_labels, enum_i);
                    enum_i += 1;
                } else if real == ColumnType::SET {
                    codec.labels = labels(&m.set_labels, set_i);
                    set_i += 1;
                }
                codec
            })
            .collect()
    }
}

/// Whether a column of this real type has a place in the charset metadata.
fn has_charset(real: ColumnType, geometry_has_charset: bool) -> bool {
    real.is_character() || (geometry_has_charset && real == ColumnType::GEOMETRY)
}

fn name(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Malformed("schema or table name is not UTF-8".into()))
}

/// `has_charset` tells the columns the charset fields describe, by real type.
fn parse_optional_metadata(
    r: &mut ByteReader<'_>,
    columns: &[TableMapColumn],
    has_charset: impl Fn(ColumnType) -> bool,
) -> Result<OptionalMetadata, DecodeError> {
    let real_types: Vec<ColumnType> =
        columns.iter().map(|c| ColumnCodec::new(c.column_type, c.meta).real_type()).collect();
    let count = |pred: &dyn Fn(ColumnType) -> bool| real_types.iter().filter(|t| pred(**t)).count();
    let numeric = count(&ColumnType::is_numeric);
    let character = count(&has_charset);
    let enum_set = count(&ColumnType::is_enum_or_set);
    let mut m = OptionalMetadata::default();
    while !r.is_empty() {
        let kind = r.u8()?;
        let mut v = ByteReader::new(r.lenenc_bytes()?);
        match kind {
            field::SIGNEDNESS => m.unsigned = Some(msb_bitmap(v.take_rest(), numeric)),
            field::DEFAULT_CHARSET => m.character_collations = Some(default_charsets(&mut v, character)?),
            field::COLUMN_CHARSET => m.character_collations = Some(column_charsets(&mut v)?),
            field::ENUM_AND_SET_DEFAULT_CHARSET => m.enum_set_collations = Some(default_charsets(&mut v, enum_set)?),
            field::ENUM_AND_SET_COLUMN_CHARSET => m.enum_set_collations = Some(column_charsets(&mut v)?),
            field::COLUMN_NAME => {
                let mut names = Vec::with_capacity(columns.len());
                while !v.is_empty() {
                    names.push(String::from_utf8_lossy(v.lenenc_bytes()?).into_owned());
                }
                m.column_names = Some(names);
            }
            field::SET_STR_VALUE => m.set_labels = Some(label_lists(&mut v)?),
            field::ENUM_STR_VALUE => m.enum_labels = Some(label_lists(&mut v)?),
            field::SIMPLE_PRIMARY_KEY => {
                let mut key = Vec::new();
                while !v.is_empty() {
                    key.push(v.lenenc_len()?);
                }
                m.primary_key = Some(key);
            }
            field::PRIMARY_KEY_WITH_PREFIX => {
                let mut key = Vec::new();
                while !v.is_empty() {
                    key.push(v.lenenc_len()?);
                    let _prefix_len = v.lenenc_int()?;
                }
                m.primary_key = Some(key);
            }
            field::COLUMN_VISIBILITY => m.visible = Some(msb_bitmap(v.take_rest(), columns.len())),
            // GEOMETRY_TYPE (and fields from newer servers) describe, but do not change, the bytes.
            _ => {}
        }
    }
    if let Some(names) = &m.column_names
        && names.len() != columns.len()
    {
        return Err(DecodeError::Malformed(format!(
            "TABLE_MAP has {} columns but {} column names",
            columns.len(),
            names.len()
        )));
    }
    if let Some(key) = &m.primary_key
        && let Some(bad) = key.iter().find(|&&i| i >= columns.len())
    {
        return Err(DecodeError::Malformed(format!("primary key column {bad} is out of range")));
    }
    Ok(m)
}

/// Bits most-significant first, `n` of them.
fn msb_bitmap(bytes: &[u8], n: usize) -> Vec<bool> {
    (0..n).map(|i| bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)).collect()
}

/// DEFAULT_CHARSET: a default collation, then (column ordinal, collation) exceptions.
fn default_charsets(v: &mut ByteReader<'_>, n: usize) -> Result<Vec<u16>, DecodeError> {
    let default = v.lenenc_int()? as u16;
    let mut out = vec![default; n];
    while !v.is_empty() {
        let index = v.lenenc_len()?;
        let collation = v.lenenc_int()? as u16;
        let slot = out
            .get_mut(index)
            .ok_or_else(|| DecodeError::Malformed(format!("charset exception for column ordinal {index} of {n}")))?;
        *slot = collation;
    }
    Ok(out)
}

fn column_charsets(v: &mut ByteReader<'_>) -> Result<Vec<u16>, DecodeError> {
    let mut out = Vec::new();
    while !v.is_empty() {
        out.push(v.lenenc_int()? as u16);
    }
    Ok(out)
}

/// ENUM/SET label lists as bytes: they are in each column's character set, which other metadata
/// fields give.
fn label_lists(v: &mut ByteReader<'_>) -> Result<Vec<Vec<Vec<u8>>>, DecodeError> {
    let mut lists = Vec::new();
    while !v.is_empty() {
        let count = v.lenenc_len()?;
        let mut labels = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            labels.push(v.lenenc_bytes()?.to_vec());
        }
        lists.push(labels);
    }
    Ok(lists)
}

/// A label's text in its column's character set (lossily, should the server have written bytes
/// invalid in it).
fn label_text(charset: Charset, bytes: &[u8]) -> String {
    let mut text = String::new();
    match charset.decode_into(bytes, &mut text) {
        Some(()) => text,
        None => charset.decode_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TABLE_MAP body for `shop.t (id INT UNSIGNED PK, name VARCHAR(20) latin1, e ENUM('a','b'))`.
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&[42, 0, 0, 0, 0, 0]); // table id
        b.extend_from_slice(&[1, 0]); // flags
        b.extend_from_slice(&[4]);
        b.extend_from_slice(b"shop\0");
        b.extend_from_slice(&[1]);
        b.extend_from_slice(b"t\0");
        b.push(3);
        b.extend_from_slice(&[3, 15, 254]);
        b.extend_from_slice(&[4, 20, 0, 247, 1]); // meta: varchar len 20 (LE), enum (BE: 247, 1)
        b.push(0b110); // name and e nullable
        let mut tlv = |kind: u8, value: &[u8]| {
            b.push(kind);
            b.push(value.len() as u8);
            b.extend_from_slice(value);
        };
        tlv(field::SIGNEDNESS, &[0x80]);
        tlv(field::DEFAULT_CHARSET, &[8]);
        tlv(field::COLUMN_NAME, b"\x02id\x04name\x01e");
        tlv(field::ENUM_STR_VALUE, b"\x02\x01a\x01b");
        tlv(field::SIMPLE_PRIMARY_KEY, &[0]);
        tlv(field::ENUM_AND_SET_DEFAULT_CHARSET, &[45]);
        b
    }

    #[test]
    fn parses_columns_and_full_metadata() {
        let map = TableMap::parse(&sample(), 8, false).unwrap();
        assert_eq!((map.table_id, map.schema.as_str(), map.table.as_str()), (42, "shop", "t"));
        assert_eq!(map.columns.len(), 3);
        assert_eq!(map.columns[1].meta, 20);
        assert!(!map.columns[0].nullable && map.columns[1].nullable);
        assert_eq!(map.metadata.column_names.as_deref().unwrap(), ["id", "name", "e"]);
        assert_eq!(map.metadata.primary_key.as_deref(), Some(&[0usize][..]));
        let codecs = map.codecs();
        assert!(codecs[0].unsigned);
        assert_eq!(codecs[1].charset, Charset::Latin1);
        assert_eq!(codecs[2].real_type(), ColumnType::ENUM);
        assert_eq!(codecs[2].labels.as_deref().unwrap(), ["a", "b"]);
    }

    /// What MariaDB 10.11 wrote for `scratch.cz2 (id INT PRIMARY KEY, js JSON, geo GEOMETRY,
    /// vcz VARCHAR(300) COMPRESSED, txz TEXT COMPRESSED, blz BLOB COMPRESSED)`: its COLUMN_CHARSET
    /// has a place for `geo` (binary), so the compressed columns take the next three.
    #[test]
    fn mariadb_counts_geometry_among_character_columns() {
        let mut body = vec![0x1a, 0xe1, 0, 0, 0, 0, 1, 0, 7];
        body.extend_from_slice(b"scratch\0\x03cz2\0");
        body.extend_from_slice(&[
            0x06, 0x03, 0xfc, 0xff, 0x8d, 0x8c, 0x8c, 0x06, 0x04, 0x04, 0xb1, 0x04, 0x02, 0x02, 0x3e, 0x01, 0x01, 0x00,
            0x03, 0x05, 0x2e, 0x3f, 0x2d, 0x2d, 0x3f, 0x07, 0x01, 0x00, 0x04, 0x16, 0x02, b'i', b'd', 0x02, b'j', b's',
            0x03, b'g', b'e', b'o', 0x03, b'v', b'c', b'z', 0x03, b't', b'x', b'z', 0x03, b'b', b'l', b'z', 0x08, 0x01,
            0x00,
        ]);
        let map = TableMap::parse(&body, 8, true).unwrap();
        let types: Vec<ColumnType> = map.columns.iter().map(|c| c.column_type).collect();
        assert_eq!(
            types[3..],
            [ColumnType::VARCHAR_COMPRESSED, ColumnType::BLOB_COMPRESSED, ColumnType::BLOB_COMPRESSED]
        );
        assert_eq!(map.columns[3].meta, 1201, "VARCHAR(300) utf8mb4 and the compression header byte");
        let charsets: Vec<Charset> = map.codecs().iter().map(|c| c.charset).collect();
        use Charset::{Binary, Utf8};
        assert_eq!(charsets[1..], [Utf8, Binary, Utf8, Utf8, Binary]);
        // Read as MySQL counts (no place for GEOMETRY), the places shift: the test has teeth.
        let shifted: Vec<Charset> =
            TableMap::parse(&body, 8, false).unwrap().codecs().iter().map(|c| c.charset).collect();
        assert_eq!(shifted[3], Binary);
    }

    #[test]
    fn truncated_table_map_is_an_error() {
        let body = sample();
        for cut in [3, 10, 20, 25] {
            assert!(TableMap::parse(&body[..cut], 8, false).is_err(), "cut at {cut}");
        }
    }
}
