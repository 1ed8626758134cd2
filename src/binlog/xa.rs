//! XA transaction ids, as the binlog carries them: in the XA_PREPARE event that ends a prepared
//! transaction, and in the text of the `XA COMMIT` / `XA ROLLBACK` statement that settles it later
//! (MySQL and MariaDB both write it as `X'<gtrid hex>',X'<bqual hex>',<formatID>`).

use std::fmt;

use super::{ByteReader, DecodeError};

/// An XA transaction id: global transaction id, branch qualifier and format id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Xid {
    pub format_id: i64,
    pub gtrid: Vec<u8>,
    pub bqual: Vec<u8>,
}

impl Xid {
    /// The XID of an XA_PREPARE event, after its one-phase flag: formatID, gtrid length, bqual
    /// length (4 bytes each), then the two ids.
    pub fn parse_prepared(r: &mut ByteReader<'_>) -> Result<Self, DecodeError> {
        let format_id = i64::from(r.u32()? as i32);
        let (gtrid_len, bqual_len) = (r.u32()? as usize, r.u32()? as usize);
        if gtrid_len > 64 || bqual_len > 64 {
            return Err(DecodeError::Malformed(format!(
                "XA_PREPARE with a {gtrid_len}-byte gtrid and {bqual_len}-byte bqual (at most 64 each)"
            )));
        }
        Ok(Self { format_id, gtrid: r.take(gtrid_len)?.to_vec(), bqual: r.take(bqual_len)?.to_vec() })
    }

    /// The XID in the text the server logs (`X'61',X'',1`); `None` when it is not in that form.
    pub fn parse_sql(text: &str) -> Option<Self> {
        let mut parts = text.split(',').map(str::trim);
        let gtrid = hex_literal(parts.next()?)?;
        let bqual = parts.next().map_or(Some(Vec::new()), hex_literal)?;
        let format_id = parts.next().map_or(Some(1), |n| n.parse().ok())?;
        parts.next().is_none().then_some(Self { format_id, gtrid, bqual })
    }
}

/// `X'…'` (hex digits, either case) as its bytes.
fn hex_literal(text: &str) -> Option<Vec<u8>> {
    let digits = text.strip_prefix(['X', 'x'])?.strip_prefix('\'')?.strip_suffix('\'')?;
    if digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok()).collect()
}

impl fmt::Display for Xid {
    /// As the server logs it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
        write!(f, "X'{}',X'{}',{}", hex(&self.gtrid), hex(&self.bqual), self.format_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_and_logged_forms_name_the_same_xid() {
        // An XA_PREPARE body after its one-phase flag: formatID 1, gtrid "ab", bqual "c".
        let body = [1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, b'a', b'b', b'c'];
        let prepared = Xid::parse_prepared(&mut ByteReader::new(&body)).unwrap();
        assert_eq!(prepared, Xid { format_id: 1, gtrid: b"ab".to_vec(), bqual: b"c".to_vec() });
        assert_eq!(prepared.to_string(), "X'6162',X'63',1");
        assert_eq!(Xid::parse_sql("X'6162',X'63',1"), Some(prepared.clone()));
        assert_eq!(Xid::parse_sql(" x'6162' , X'63' , 1 "), Some(prepared));
        assert_eq!(Xid::parse_sql("X'61',X'',1").unwrap().bqual, b"");
        assert_eq!(Xid::parse_sql("X'61'").unwrap().format_id, 1);
        for bad in ["'a'", "X'6'", "X'zz'", "X'61',X'',1,2", "X'61',X'',one"] {
            assert_eq!(Xid::parse_sql(bad), None, "{bad}");
        }
        let oversized = [1, 0, 0, 0, 65, 0, 0, 0, 0, 0, 0, 0];
        assert!(Xid::parse_prepared(&mut ByteReader::new(&oversized)).is_err());
        assert!(Xid::parse_prepared(&mut ByteReader::new(&body[..13])).is_err(), "truncated");
    }
}
