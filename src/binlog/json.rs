//! MySQL's binary JSON (the JSON column type, 5.7+) rendered as MySQL prints it:
//! `{"a": 1, "b": [true, null]}` — `": "` and `", "` separators, keys in stored order, doubles as
//! `my_gcvt` prints them with `.0` added to integral values, DECIMAL/DATE/TIME/DATETIME opaque
//! values as numbers and strings, other opaque values as `"base64:typeN:…"`.
//!
//! MariaDB stores JSON as text in a LONGTEXT column, so it never reaches this module.

use base64::Engine;

use super::{ByteReader, DecodeError, decimal};

const SMALL_OBJECT: u8 = 0x00;
const LARGE_OBJECT: u8 = 0x01;
const SMALL_ARRAY: u8 = 0x02;
const LARGE_ARRAY: u8 = 0x03;
const LITERAL: u8 = 0x04;
const INT16: u8 = 0x05;
const UINT16: u8 = 0x06;
const INT32: u8 = 0x07;
const UINT32: u8 = 0x08;
const INT64: u8 = 0x09;
const UINT64: u8 = 0x0a;
const DOUBLE: u8 = 0x0b;
const STRING: u8 = 0x0c;
const OPAQUE: u8 = 0x0f;

/// Nesting limit: MySQL refuses documents deeper than 100 levels.
const MAX_DEPTH: usize = 150;

/// Render a binary JSON document, appending it to `out`.
pub fn write_text(bytes: &[u8], out: &mut String) -> Result<(), DecodeError> {
    let (&kind, body) = bytes.split_first().ok_or_else(|| DecodeError::Malformed("empty JSON value".into()))?;
    out.reserve(bytes.len() * 2);
    write_value(out, kind, body, 0)
}

fn malformed(what: &str) -> DecodeError {
    DecodeError::Malformed(format!("binary JSON: {what}"))
}

fn write_value(out: &mut String, kind: u8, data: &[u8], depth: usize) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    let mut r = ByteReader::new(data);
    match kind {
        SMALL_OBJECT | LARGE_OBJECT => write_container(out, data, kind == LARGE_OBJECT, true, depth)?,
        SMALL_ARRAY | LARGE_ARRAY => write_container(out, data, kind == LARGE_ARRAY, false, depth)?,
        LITERAL => out.push_str(match r.u8()? {
            0x00 => "null",
            0x01 => "true",
            0x02 => "false",
            other => return Err(malformed(&format!("literal 0x{other:02x}"))),
        }),
        INT16 => out.push_str(&(r.u16()? as i16).to_string()),
        UINT16 => out.push_str(&r.u16()?.to_string()),
        INT32 => out.push_str(&(r.u32()? as i32).to_string()),
        UINT32 => out.push_str(&r.u32()?.to_string()),
        INT64 => out.push_str(&(r.u64()? as i64).to_string()),
        UINT64 => out.push_str(&r.u64()?.to_string()),
        DOUBLE => {
            let d = f64::from_le_bytes(r.take(8)?.try_into().expect("took 8 bytes"));
            let text = super::value::format_double(d);
            let text = text.as_str();
            let integral = !text.contains(['.', 'e']);
            out.push_str(text);
            if integral {
                out.push_str(".0");
            }
        }
        STRING => {
            let len = varlen(&mut r)?;
            let s = std::str::from_utf8(r.take(len)?).map_err(|_| malformed("string is not UTF-8"))?;
            write_string(out, s);
        }
        OPAQUE => {
            let field_type = r.u8()?;
            let len = varlen(&mut r)?;
            write_opaque(out, field_type, r.take(len)?)?;
        }
        other => return Err(malformed(&format!("value type 0x{other:02x}"))),
    }
    Ok(())
}

/// Objects and arrays: counts and offsets are 2 bytes (small) or 4 bytes (large), offsets relative
/// to the start of the container.
fn write_container(out: &mut String, data: &[u8], large: bool, object: bool, depth: usize) -> Result<(), DecodeError> {
    out.push(if object { '{' } else { '[' });
    for_each_entry(data, large, object, |i, key, kind, value| {
        if i > 0 {
            out.push_str(", ");
        }
        if let Some(key) = key {
            write_string(out, key);
            out.push_str(": ");
        }
        write_value(out, kind, value, depth + 1)
    })?;
    out.push(if object { '}' } else { ']' });
    Ok(())
}

/// Visit a container's entries in stored order: index, key (objects), value type and the bytes the
/// value starts at (inlined scalars: the entry's own bytes).
fn for_each_entry<'a>(
    data: &'a [u8],
    large: bool,
    object: bool,
    mut visit: impl FnMut(usize, Option<&'a str>, u8, &'a [u8]) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let width = if large { 4 } else { 2 };
    let mut r = ByteReader::new(data);
    let count = r.uint_le(width)? as usize;
    let size = r.uint_le(width)? as usize;
    if size > data.len() {
        return Err(malformed("container larger than its value"));
    }
    let data = &data[..size];
    let key_entries_at = 2 * width;
    let value_entries_at = key_entries_at + if object { count * (width + 2) } else { 0 };
    let value_entry_len = 1 + width;
    if value_entries_at + count * value_entry_len > data.len() {
        return Err(malformed("entry table exceeds the container"));
    }
    for i in 0..count {
        let key = if object {
            let mut k = ByteReader::new(&data[key_entries_at + i * (width + 2)..]);
            let key_offset = k.uint_le(width)? as usize;
            let key_len = usize::from(k.u16()?);
            let key = data.get(key_offset..key_offset + key_len).ok_or_else(|| malformed("key out of range"))?;
            Some(std::str::from_utf8(key).map_err(|_| malformed("key is not UTF-8"))?)
        } else {
            None
        };
        let entry = &data[value_entries_at + i * value_entry_len..];
        let kind = entry[0];
        let inlined = matches!(kind, LITERAL | INT16 | UINT16) || (large && matches!(kind, INT32 | UINT32));
        if inlined {
            visit(i, key, kind, &entry[1..1 + width])?;
        } else {
            let offset = ByteReader::new(&entry[1..]).uint_le(width)? as usize;
            let value = data.get(offset..).ok_or_else(|| malformed("value offset out of range"))?;
            visit(i, key, kind, value)?;
        }
    }
    Ok(())
}

/// A JSON document as a tree with its scalars already rendered: what a partial update edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonNode {
    /// Members in stored order (MySQL keeps them sorted by key length, then bytes).
    Object(Vec<(String, JsonNode)>),
    Array(Vec<JsonNode>),
    /// A scalar exactly as [`to_text`] renders it.
    Scalar(String),
}

/// Read a binary JSON document into a tree.
pub fn to_tree(bytes: &[u8]) -> Result<JsonNode, DecodeError> {
    let (&kind, body) = bytes.split_first().ok_or_else(|| DecodeError::Malformed("empty JSON value".into()))?;
    tree_value(kind, body, 0)
}

fn tree_value(kind: u8, data: &[u8], depth: usize) -> Result<JsonNode, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    match kind {
        SMALL_OBJECT | LARGE_OBJECT => {
            let mut members = Vec::new();
            for_each_entry(data, kind == LARGE_OBJECT, true, |_, key, kind, value| {
                members.push((key.unwrap_or_default().to_owned(), tree_value(kind, value, depth + 1)?));
                Ok(())
            })?;
            Ok(JsonNode::Object(members))
        }
        SMALL_ARRAY | LARGE_ARRAY => {
            let mut items = Vec::new();
            for_each_entry(data, kind == LARGE_ARRAY, false, |_, _, kind, value| {
                items.push(tree_value(kind, value, depth + 1)?);
                Ok(())
            })?;
            Ok(JsonNode::Array(items))
        }
        _ => {
            let mut text = String::new();
            write_value(&mut text, kind, data, depth)?;
            Ok(JsonNode::Scalar(text))
        }
    }
}

impl JsonNode {
    /// Render as MySQL prints JSON (the same text [`to_text`] gives for the same document).
    pub fn render(&self, out: &mut String) {
        match self {
            Self::Scalar(text) => out.push_str(text),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.render(out);
                }
                out.push(']');
            }
            Self::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(out, key);
                    out.push_str(": ");
                    value.render(out);
                }
                out.push('}');
            }
        }
    }
}

/// Variable-length length: 7 bits per byte, least significant first, high bit = more.
fn varlen(r: &mut ByteReader<'_>) -> Result<usize, DecodeError> {
    let mut len = 0usize;
    for i in 0..5 {
        let b = r.u8()?;
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(len);
        }
    }
    Err(malformed("length longer than 5 bytes"))
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_opaque(out: &mut String, field_type: u8, data: &[u8]) -> Result<(), DecodeError> {
    use super::column::ColumnType as T;
    match super::ColumnType(field_type) {
        T::NEWDECIMAL => {
            let mut r = ByteReader::new(data);
            let precision = usize::from(r.u8()?);
            let scale = usize::from(r.u8()?);
            decimal::decode(&mut r, precision, scale, out)?;
        }
        T::DATE | T::DATETIME | T::TIMESTAMP | T::TIME => {
            let packed = ByteReader::new(data).u64()? as i64;
            out.push('"');
            out.push_str(&packed_temporal(T(field_type), packed));
            out.push('"');
        }
        _ => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(data);
            out.push_str(&format!("\"base64:type{field_type}:{encoded}\""));
        }
    }
    Ok(())
}

/// MySQL's in-memory packed temporal format: `(ymd << 17 | hms) << 24 | microseconds`, with
/// `ymd = (year * 13 + month) << 5 | day` and `hms = hour << 12 | minute << 6 | second`. TIME is
/// `hms << 24 | microseconds`, negated for negative times. Always rendered with 6 digits.
fn packed_temporal(t: super::ColumnType, packed: i64) -> String {
    use super::column::ColumnType as T;
    let negative = packed < 0;
    let abs = packed.unsigned_abs();
    let micros = abs & 0xff_ffff;
    let int_part = abs >> 24;
    if t == T::TIME {
        let sign = if negative { "-" } else { "" };
        let hms = int_part;
        return format!("{sign}{:02}:{:02}:{:02}.{micros:06}", (hms >> 12) % 1024, (hms >> 6) & 0x3f, hms & 0x3f);
    }
    let ymd = int_part >> 17;
    let hms = int_part & 0x1_ffff;
    let ym = ymd >> 5;
    let date = format!("{:04}-{:02}-{:02}", ym / 13, ym % 13, ymd & 0x1f);
    if t == T::DATE {
        return date;
    }
    format!("{date} {:02}:{:02}:{:02}.{micros:06}", hms >> 12, (hms >> 6) & 0x3f, hms & 0x3f)
}

/// The binary form of `{"a": 1, "b": [true, "x"]}`, for tests.
#[cfg(test)]
pub(crate) fn sample_document() -> Vec<u8> {
    let mut array = vec![];
    array.extend_from_slice(&2u16.to_le_bytes()); // count
    let array_size = 4 + 2 * 3 + 2;
    array.extend_from_slice(&(array_size as u16).to_le_bytes());
    array.extend_from_slice(&[LITERAL, 0x01, 0x00]);
    array.extend_from_slice(&[STRING, 10, 0]); // offset 10
    array.extend_from_slice(&[1, b'x']);
    assert_eq!(array.len(), array_size);

    let mut obj = vec![];
    obj.extend_from_slice(&2u16.to_le_bytes());
    let header = 4 + 2 * 4 + 2 * 3;
    let keys_at = header;
    let array_at = keys_at + 2;
    let size = array_at + array.len();
    obj.extend_from_slice(&(size as u16).to_le_bytes());
    obj.extend_from_slice(&(keys_at as u16).to_le_bytes());
    obj.extend_from_slice(&1u16.to_le_bytes());
    obj.extend_from_slice(&((keys_at + 1) as u16).to_le_bytes());
    obj.extend_from_slice(&1u16.to_le_bytes());
    obj.extend_from_slice(&[INT16, 1, 0]);
    obj.extend_from_slice(&[SMALL_ARRAY]);
    obj.extend_from_slice(&(array_at as u16).to_le_bytes());
    obj.extend_from_slice(b"ab");
    obj.extend_from_slice(&array);
    let mut doc = vec![SMALL_OBJECT];
    doc.extend_from_slice(&obj);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_text(bytes: &[u8]) -> Result<String, DecodeError> {
        let mut out = String::new();
        write_text(bytes, &mut out).map(|()| out)
    }

    #[test]
    fn small_object_with_nested_array() {
        let doc = sample_document();
        assert_eq!(to_text(&doc).unwrap(), r#"{"a": 1, "b": [true, "x"]}"#);
        let mut rendered = String::new();
        to_tree(&doc).unwrap().render(&mut rendered);
        assert_eq!(rendered, r#"{"a": 1, "b": [true, "x"]}"#, "the tree renders like the direct path");
    }

    #[test]
    fn scalars() {
        let mut d = vec![DOUBLE];
        d.extend_from_slice(&2.0f64.to_le_bytes());
        assert_eq!(to_text(&d).unwrap(), "2.0");
        let mut d = vec![DOUBLE];
        d.extend_from_slice(&0.25f64.to_le_bytes());
        assert_eq!(to_text(&d).unwrap(), "0.25");
        assert_eq!(to_text(&[STRING, 3, b'a', b'"', b'\n']).unwrap(), r#""a\"\n""#);
        assert_eq!(to_text(&[LITERAL, 0]).unwrap(), "null");
        let mut i = vec![INT64];
        i.extend_from_slice(&(-5i64).to_le_bytes());
        assert_eq!(to_text(&i).unwrap(), "-5");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for doc in [
            &[SMALL_OBJECT, 5, 0, 255, 0][..],
            &[0x33],
            &[STRING, 0x80, 0x80],
            &[SMALL_ARRAY, 1, 0, 9, 0, 0x0c, 200, 0],
        ] {
            assert!(to_text(doc).is_err(), "{doc:?}");
        }
    }
}
