//! MySQL partial JSON updates (`binlog_row_value_options=PARTIAL_JSON`): a PARTIAL_UPDATE_ROWS
//! after-image may carry, for a JSON column, a list of edits instead of the new document. The full
//! after-image is rebuilt by applying them to the before-image's document.
//!
//! Each edit: operation (1 byte: 0 REPLACE, 1 INSERT, 2 REMOVE), the path as a length-encoded
//! string (`$`, `.key`, `."quoted key"`, `[n]`), then — except for REMOVE — the new value as a
//! length-encoded binary JSON value. The operations behave as `JSON_REPLACE`, `JSON_INSERT` /
//! `JSON_ARRAY_INSERT` and `JSON_REMOVE`.
//!
//! # Invariants
//! - An edit whose path does not exist in the document is an error, never skipped: the before-image
//!   would not be the document the server edited.
//! - Inserted object members take MySQL's storage order (key length, then bytes), so the rebuilt
//!   document renders exactly as the server would render the full value.

use super::json::{JsonNode, to_tree};
use super::{ByteReader, DecodeError};

const REPLACE: u8 = 0;
const INSERT: u8 = 1;
const REMOVE: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Leg {
    Member(String),
    Index(usize),
}

fn error(what: String) -> DecodeError {
    DecodeError::Malformed(format!("partial JSON update: {what}"))
}

/// Apply the edits in `diffs` to the binary document `before`; returns the new document rendered.
pub fn apply(before: &[u8], diffs: &[u8]) -> Result<String, DecodeError> {
    let mut doc = to_tree(before)?;
    let mut r = ByteReader::new(diffs);
    while !r.is_empty() {
        let op = r.u8()?;
        let path_bytes = r.lenenc_bytes()?;
        let path = std::str::from_utf8(path_bytes).map_err(|_| error("path is not UTF-8".into()))?;
        let legs = parse_path(path)?;
        let value = match op {
            REPLACE | INSERT => Some(to_tree(r.lenenc_bytes()?)?),
            REMOVE => None,
            other => return Err(error(format!("unknown operation {other} on {path}"))),
        };
        edit(&mut doc, &legs, op, value).map_err(|e| error(format!("{e} (path {path})")))?;
    }
    let mut out = String::new();
    doc.render(&mut out);
    Ok(out)
}

fn parse_path(path: &str) -> Result<Vec<Leg>, DecodeError> {
    let bad = || error(format!("cannot read path '{path}'"));
    let rest = path.trim().strip_prefix('$').ok_or_else(bad)?;
    let mut chars = rest.trim_start().chars().peekable();
    let mut legs = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    loop {
                        match chars.next().ok_or_else(bad)? {
                            '"' => break,
                            '\\' => key.push(chars.next().ok_or_else(bad)?),
                            c => key.push(c),
                        }
                    }
                } else {
                    while let Some(&c) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        key.push(c);
                        chars.next();
                    }
                }
                legs.push(Leg::Member(key));
            }
            '[' => {
                let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
                legs.push(Leg::Index(digits.trim().parse().map_err(|_| bad())?));
            }
            c if c.is_whitespace() => {}
            _ => return Err(bad()),
        }
    }
    Ok(legs)
}

fn edit(doc: &mut JsonNode, legs: &[Leg], op: u8, value: Option<JsonNode>) -> Result<(), String> {
    let Some((last, parents)) = legs.split_last() else {
        return match (op, value) {
            (REPLACE, Some(value)) => {
                *doc = value;
                Ok(())
            }
            _ => Err("only REPLACE can address the whole document".into()),
        };
    };
    let mut node = doc;
    for leg in parents {
        node = child(node, leg).ok_or("the path does not exist in the before image")?;
    }
    match (op, last, node, value) {
        (REPLACE, leg, node, Some(value)) => {
            *child(node, leg).ok_or("the value to replace does not exist in the before image")? = value;
        }
        (INSERT, Leg::Member(key), JsonNode::Object(members), Some(value)) => {
            match members.iter_mut().find(|(k, _)| k == key) {
                Some((_, existing)) => *existing = value,
                None => {
                    let at = members
                        .iter()
                        .position(|(k, _)| (k.len(), k.as_bytes()) > (key.len(), key.as_bytes()))
                        .unwrap_or(members.len());
                    members.insert(at, (key.clone(), value));
                }
            }
        }
        (INSERT, Leg::Index(i), JsonNode::Array(items), Some(value)) => {
            let at = (*i).min(items.len());
            items.insert(at, value);
        }
        (REMOVE, Leg::Member(key), JsonNode::Object(members), None) => {
            let at = members.iter().position(|(k, _)| k == key).ok_or("the member to remove does not exist")?;
            members.remove(at);
        }
        (REMOVE, Leg::Index(i), JsonNode::Array(items), None) => {
            if *i >= items.len() {
                return Err("the element to remove does not exist".into());
            }
            items.remove(*i);
        }
        _ => return Err("the operation does not fit the value at the path".into()),
    }
    Ok(())
}

fn child<'a>(node: &'a mut JsonNode, leg: &Leg) -> Option<&'a mut JsonNode> {
    match (node, leg) {
        (JsonNode::Object(members), Leg::Member(key)) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
        (JsonNode::Array(items), Leg::Index(i)) => items.get_mut(*i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::json::sample_document;

    /// One edit in the binlog encoding.
    fn diff(op: u8, path: &str, value: Option<&[u8]>) -> Vec<u8> {
        let mut out = vec![op, path.len() as u8];
        out.extend_from_slice(path.as_bytes());
        if let Some(v) = value {
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        }
        out
    }

    const INT16_26: &[u8] = &[0x05, 26, 0];
    const STRING_ZZ: &[u8] = &[0x0c, 2, b'z', b'z'];

    #[test]
    fn replace_insert_and_remove_rebuild_the_document() {
        // {"a": 1, "b": [true, "x"]}
        let before = sample_document();
        let cases: &[(Vec<u8>, &str)] = &[
            (diff(REPLACE, "$.a", Some(INT16_26)), r#"{"a": 26, "b": [true, "x"]}"#),
            (diff(REPLACE, "$.b[1]", Some(STRING_ZZ)), r#"{"a": 1, "b": [true, "zz"]}"#),
            (diff(INSERT, "$.b[0]", Some(INT16_26)), r#"{"a": 1, "b": [26, true, "x"]}"#),
            (diff(INSERT, "$.b[9]", Some(INT16_26)), r#"{"a": 1, "b": [true, "x", 26]}"#),
            // Storage order: shorter keys first, then bytewise.
            (diff(INSERT, "$.aa", Some(INT16_26)), r#"{"a": 1, "b": [true, "x"], "aa": 26}"#),
            (diff(INSERT, "$.\"0\"", Some(INT16_26)), r#"{"0": 26, "a": 1, "b": [true, "x"]}"#),
            (diff(REMOVE, "$.a", None), r#"{"b": [true, "x"]}"#),
            (diff(REMOVE, "$.b[0]", None), r#"{"a": 1, "b": ["x"]}"#),
            (diff(REPLACE, "$", Some(STRING_ZZ)), r#""zz""#),
            (
                [diff(REMOVE, "$.b[0]", None), diff(REPLACE, "$.a", Some(STRING_ZZ))].concat(),
                r#"{"a": "zz", "b": ["x"]}"#,
            ),
        ];
        for (diffs, expected) in cases {
            assert_eq!(apply(&before, diffs).unwrap(), *expected, "{diffs:02x?}");
        }
    }

    #[test]
    fn edits_that_do_not_fit_the_before_image_are_errors() {
        let before = sample_document();
        for diffs in [
            diff(REPLACE, "$.nope", Some(INT16_26)),
            diff(REMOVE, "$.b[5]", None),
            diff(INSERT, "$.a.x", Some(INT16_26)),
            diff(REMOVE, "$", None),
            diff(7, "$.a", None),
            diff(REPLACE, "a", Some(INT16_26)),
            diff(REPLACE, "$.a", None),
        ] {
            assert!(apply(&before, &diffs).is_err(), "{diffs:02x?}");
        }
    }
}
