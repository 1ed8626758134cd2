//! Column types as the binlog encodes them, and what decoding one column's value needs.

pub use super::legacy_charset::{CodeLayout, LEGACY_CHARSETS, LegacyCharset};
use std::sync::Arc;

/// The `enum_field_types` code a TABLE_MAP gives for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColumnType(pub u8);

impl ColumnType {
    pub const DECIMAL: Self = Self(0);
    pub const TINY: Self = Self(1);
    pub const SHORT: Self = Self(2);
    pub const LONG: Self = Self(3);
    pub const FLOAT: Self = Self(4);
    pub const DOUBLE: Self = Self(5);
    pub const NULL: Self = Self(6);
    pub const TIMESTAMP: Self = Self(7);
    pub const LONGLONG: Self = Self(8);
    pub const INT24: Self = Self(9);
    pub const DATE: Self = Self(10);
    pub const TIME: Self = Self(11);
    pub const DATETIME: Self = Self(12);
    pub const YEAR: Self = Self(13);
    pub const NEWDATE: Self = Self(14);
    pub const VARCHAR: Self = Self(15);
    pub const BIT: Self = Self(16);
    pub const TIMESTAMP2: Self = Self(17);
    pub const DATETIME2: Self = Self(18);
    pub const TIME2: Self = Self(19);
    pub const TYPED_ARRAY: Self = Self(20);
    /// MariaDB's `BLOB`/`TEXT … COMPRESSED` (10.3+): a BLOB whose value is compressed.
    pub const BLOB_COMPRESSED: Self = Self(140);
    /// MariaDB's `VARCHAR … COMPRESSED` (10.3+): a VARCHAR whose value is compressed.
    pub const VARCHAR_COMPRESSED: Self = Self(141);
    pub const VECTOR: Self = Self(242);
    pub const JSON: Self = Self(245);
    pub const NEWDECIMAL: Self = Self(246);
    pub const ENUM: Self = Self(247);
    pub const SET: Self = Self(248);
    pub const TINY_BLOB: Self = Self(249);
    pub const MEDIUM_BLOB: Self = Self(250);
    pub const LONG_BLOB: Self = Self(251);
    pub const BLOB: Self = Self(252);
    pub const VAR_STRING: Self = Self(253);
    pub const STRING: Self = Self(254);
    pub const GEOMETRY: Self = Self(255);

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "DECIMAL",
            1 => "TINY",
            2 => "SHORT",
            3 => "LONG",
            4 => "FLOAT",
            5 => "DOUBLE",
            6 => "NULL",
            7 => "TIMESTAMP",
            8 => "LONGLONG",
            9 => "INT24",
            10 => "DATE",
            11 => "TIME",
            12 => "DATETIME",
            13 => "YEAR",
            14 => "NEWDATE",
            15 => "VARCHAR",
            16 => "BIT",
            17 => "TIMESTAMP2",
            18 => "DATETIME2",
            19 => "TIME2",
            20 => "TYPED_ARRAY",
            140 => "BLOB_COMPRESSED",
            141 => "VARCHAR_COMPRESSED",
            242 => "VECTOR",
            245 => "JSON",
            246 => "NEWDECIMAL",
            247 => "ENUM",
            248 => "SET",
            249 => "TINY_BLOB",
            250 => "MEDIUM_BLOB",
            251 => "LONG_BLOB",
            252 => "BLOB",
            253 => "VAR_STRING",
            254 => "STRING",
            255 => "GEOMETRY",
            _ => "UNKNOWN",
        }
    }

    /// Number of metadata bytes this type has in a TABLE_MAP.
    pub fn metadata_len(self) -> usize {
        match self {
            Self::FLOAT
            | Self::DOUBLE
            | Self::BLOB
            | Self::TINY_BLOB
            | Self::MEDIUM_BLOB
            | Self::LONG_BLOB
            | Self::BLOB_COMPRESSED
            | Self::GEOMETRY
            | Self::JSON
            | Self::VECTOR
            | Self::TIME2
            | Self::DATETIME2
            | Self::TIMESTAMP2 => 1,
            Self::VARCHAR
            | Self::VARCHAR_COMPRESSED
            | Self::VAR_STRING
            | Self::BIT
            | Self::NEWDECIMAL
            | Self::STRING
            | Self::ENUM
            | Self::SET => 2,
            _ => 0,
        }
    }

    /// Types with a SIGNEDNESS bit in TABLE_MAP optional metadata.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::TINY
                | Self::SHORT
                | Self::INT24
                | Self::LONG
                | Self::LONGLONG
                | Self::NEWDECIMAL
                | Self::FLOAT
                | Self::DOUBLE
        )
    }

    /// Types that carry a character set in TABLE_MAP optional metadata (by their real type).
    /// MySQL 9 counts VECTOR among them (with the binary collation), MariaDB its compressed ones.
    pub fn is_character(self) -> bool {
        matches!(
            self,
            Self::STRING
                | Self::VAR_STRING
                | Self::VARCHAR
                | Self::BLOB
                | Self::TINY_BLOB
                | Self::MEDIUM_BLOB
                | Self::LONG_BLOB
                | Self::VECTOR
                | Self::BLOB_COMPRESSED
                | Self::VARCHAR_COMPRESSED
        )
    }

    pub fn is_enum_or_set(self) -> bool {
        matches!(self, Self::ENUM | Self::SET)
    }
}

/// The character set a text column's bytes are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// utf8mb4, utf8mb3 and ascii (ascii is a subset).
    Utf8,
    /// MySQL's latin1, which is Windows-1252.
    Latin1,
    /// Bytes, not text (BINARY, VARBINARY, BLOB).
    Binary,
    /// A legacy character set such as gbk or cp1251 (see [`LEGACY_CHARSETS`]).
    Legacy(&'static LegacyCharset),
    /// ucs2, utf16, utf16le or utf32.
    Unicode(UnicodeEncoding),
    /// Another character set, by collation id: decoded as UTF-8 if valid, else an error.
    Other(u16),
}

impl Charset {
    /// Map a collation id to its character set (see [`charset_name_of_collation`]); other ids
    /// keep their number (the server's information_schema names them when there is a server).
    pub fn from_collation_id(id: u16) -> Self {
        charset_name_of_collation(id).map_or(Self::Other(id), Self::from_name)
    }

    /// Map a character set name (information_schema's CHARACTER_SET_NAME) to a charset.
    pub fn from_name(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "utf8" | "utf8mb3" | "utf8mb4" | "ascii" => Self::Utf8,
            "latin1" => Self::Latin1,
            "binary" => Self::Binary,
            "ucs2" => Self::Unicode(UnicodeEncoding::Ucs2),
            "utf16" => Self::Unicode(UnicodeEncoding::Utf16),
            "utf16le" => Self::Unicode(UnicodeEncoding::Utf16Le),
            "utf32" => Self::Unicode(UnicodeEncoding::Utf32),
            name => LEGACY_CHARSETS.iter().find(|c| c.name == name).map_or(Self::Other(0), Self::Legacy),
        }
    }

    /// Whether a character of this set has a code for `c` (the server stores `?` for one that
    /// has none). utf8mb3 and ascii are [`Self::Utf8`] here: ask by name for those.
    pub fn holds(self, c: char) -> bool {
        match self {
            Self::Latin1 => (0..=u8::MAX).any(|b| cp1252_char(b) == c),
            Self::Legacy(charset) => charset.holds(c),
            Self::Unicode(UnicodeEncoding::Ucs2) => c <= '\u{ffff}',
            Self::Utf8 | Self::Unicode(_) | Self::Binary | Self::Other(_) => true,
        }
    }

    /// Decode text for display where a replacement character is acceptable (SQL statements).
    pub fn decode_lossy(self, bytes: &[u8]) -> String {
        match self {
            Self::Latin1 => bytes.iter().map(|&b| cp1252_char(b)).collect(),
            Self::Legacy(charset) => charset.decode_lossy(bytes),
            _ => String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// Decode a column value exactly, appending it to `out`; `None` (and `out` unchanged) when the
    /// bytes are not valid in this charset.
    pub fn decode_into(self, bytes: &[u8], out: &mut String) -> Option<()> {
        match self {
            Self::Latin1 => out.extend(bytes.iter().map(|&b| cp1252_char(b))),
            Self::Binary => push_iso_8859_1(bytes, out),
            Self::Legacy(charset) => charset.decode_into(bytes, out)?,
            Self::Unicode(encoding) => encoding.decode_into(bytes, out)?,
            Self::Utf8 | Self::Other(_) => out.push_str(std::str::from_utf8(bytes).ok()?),
        }
        Some(())
    }
}

/// The character sets of 2- and 4-byte code units: ucs2 and utf16 are big-endian UTF-16 (ucs2
/// without surrogates), utf16le little-endian, utf32 big-endian UTF-32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnicodeEncoding {
    Ucs2,
    Utf16,
    Utf16Le,
    Utf32,
}

impl UnicodeEncoding {
    /// Most bytes one character takes (declared lengths are in characters of this size).
    pub fn max_char_bytes(self) -> u8 {
        if self == Self::Ucs2 { 2 } else { 4 }
    }

    /// Append the text, or `None` (`out` unchanged) for a partial code unit or an invalid one.
    fn decode_into(self, bytes: &[u8], out: &mut String) -> Option<()> {
        let start = out.len();
        let decoded = match self {
            Self::Utf32 => bytes.chunks(4).try_for_each(|unit| {
                out.push(char::from_u32(u32::from_be_bytes(unit.try_into().ok()?))?);
                Some(())
            }),
            Self::Ucs2 | Self::Utf16 | Self::Utf16Le => {
                let unit = |pair: &[u8]| -> Option<u16> {
                    let pair: [u8; 2] = pair.try_into().ok()?;
                    Some(if self == Self::Utf16Le { u16::from_le_bytes(pair) } else { u16::from_be_bytes(pair) })
                };
                let units: Option<Vec<u16>> = bytes.chunks(2).map(unit).collect();
                char::decode_utf16(units?).try_for_each(|c| {
                    out.push(c.ok()?);
                    Some(())
                })
            }
        };
        if decoded.is_none() {
            out.truncate(start);
        }
        decoded
    }
}

/// The character set (information_schema's CHARACTER_SET_NAME) of a collation id known without a
/// server: MySQL's and MariaDB's ids for utf8mb3, utf8mb4, ascii, latin1, binary and the legacy sets.
pub fn charset_name_of_collation(id: u16) -> Option<&'static str> {
    Some(match id {
        63 => "binary",
        // latin1: MySQL ids, plus MariaDB's nopad variants.
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 | 1032 | 1071 => "latin1",
        11 | 65 | 1035 | 1089 => "ascii",
        33 | 76 | 83 | 192..=215 | 223 | 576..=578 | 1057 | 1107 | 1216..=1247 | 2048..=2111 => "utf8mb3",
        // MySQL 5.7/8.x 224–323, MariaDB nopad 1069–1270 etc. up to the uca1400 range
        45 | 46 | 224..=247 | 255..=323 | 608..=610 | 1069 | 1070 | 1248..=1279 | 2304..=2367 => "utf8mb4",
        35 | 90 | 128..=151 | 159 | 640..=642 | 1059 | 1114 | 1152 | 1174 => "ucs2",
        54 | 55 | 101..=124 | 672..=674 | 1078 | 1079 | 1125 | 1147 => "utf16",
        56 | 62 | 1080 | 1086 => "utf16le",
        60 | 61 | 160..=183 | 736..=738 | 1084 | 1085 | 1184 | 1206 => "utf32",
        _ => return LEGACY_CHARSETS.iter().find(|c| c.collation_ids.contains(&id)).map(|c| c.name),
    })
}

/// Append bytes as ISO-8859-1: each byte the character of the same number.
pub fn push_iso_8859_1(bytes: &[u8], out: &mut String) {
    out.extend(bytes.iter().map(|&b| char::from(b)));
}

/// MySQL's latin1 is cp1252: 0x80–0x9F map to typographic characters, except the five bytes
/// cp1252 leaves undefined, which MySQL maps to the C1 controls of the same number.
fn cp1252_char(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D,
        0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9f => char::from_u32(u32::from(HIGH[usize::from(b - 0x80)])).expect("table holds valid chars"),
        _ => char::from(b),
    }
}

/// Everything needed to decode one column's value from a row image and render it as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnCodec {
    /// The type as written in TABLE_MAP (STRING for CHAR/ENUM/SET; see `real_type`).
    pub binlog_type: ColumnType,
    /// TABLE_MAP metadata for the type (length, precision, fsp, …).
    pub meta: u16,
    pub unsigned: bool,
    pub charset: Charset,
    /// ENUM labels (index 1 = first label) or SET labels (bit 0 = first label).
    pub labels: Option<Arc<[String]>>,
    /// For a binary CHAR that holds one of MariaDB's UUID/INET4/INET6 (only the declared type
    /// tells): the text the server shows for its bytes.
    pub text_form: Option<BinaryTextForm>,
    /// For a FLOAT(M,D) or DOUBLE(M,D) (only the declared type tells): D, the decimals the server
    /// shows every value with.
    pub fixed_decimals: Option<u8>,
    /// A column the server hides from SQL (MariaDB's hash of a long UNIQUE key, MySQL's functional
    /// key part): decoded only to be passed over, absent from every row image.
    pub hidden: bool,
}

/// MariaDB types the binlog carries as fixed-size bytes (a binary CHAR) whose values are texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryTextForm {
    Uuid,
    Inet4,
    Inet6,
}

impl BinaryTextForm {
    /// The form of a column of this information_schema DATA_TYPE, if it has one.
    pub fn of_data_type(data_type: &str) -> Option<Self> {
        match data_type {
            "uuid" => Some(Self::Uuid),
            "inet4" => Some(Self::Inet4),
            "inet6" => Some(Self::Inet6),
            _ => None,
        }
    }
}

impl ColumnCodec {
    pub fn new(binlog_type: ColumnType, meta: u16) -> Self {
        Self {
            binlog_type,
            meta,
            unsigned: false,
            charset: Charset::Utf8,
            labels: None,
            text_form: None,
            fixed_decimals: None,
            hidden: false,
        }
    }

    /// STRING columns hide CHAR, BINARY, ENUM and SET behind one code; the metadata says which.
    pub fn real_type(&self) -> ColumnType {
        if self.binlog_type == ColumnType::STRING && self.meta >= 256 {
            let byte0 = (self.meta >> 8) as u8;
            if byte0 & 0x30 != 0x30 {
                // A CHAR longer than 255 bytes: the length's high bits are folded into byte0.
                return ColumnType::STRING;
            }
            return ColumnType(byte0);
        }
        self.binlog_type
    }

    /// Maximum byte length of a CHAR/BINARY column (STRING real type).
    pub fn string_max_len(&self) -> usize {
        let byte0 = usize::from(self.meta >> 8);
        let byte1 = usize::from(self.meta & 0xff);
        if self.meta >= 256 && (byte0 & 0x30) != 0x30 {
            byte1 | (((byte0 & 0x30) ^ 0x30) << 4)
        } else if self.meta >= 256 {
            byte1
        } else {
            usize::from(self.meta)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf32_code_units() {
        let decode = |name: &str, bytes: &[u8]| {
            let mut out = String::from("kept");
            Charset::from_name(name).decode_into(bytes, &mut out).map(|()| out)
        };
        assert_eq!(decode("utf16", &[0xd8, 0x3d, 0xde, 0x00, 0x00, 0x41]).as_deref(), Some("kept😀A"));
        assert_eq!(decode("utf16le", &[0x3d, 0xd8, 0x00, 0xde]).as_deref(), Some("kept😀"));
        assert_eq!(decode("ucs2", &[0x4e, 0x2d]).as_deref(), Some("kept中"));
        assert_eq!(decode("utf32", &[0, 1, 0xf6, 0x00]).as_deref(), Some("kept😀"));
        // A partial code unit, a lone surrogate, a code point past U+10FFFF: errors.
        assert_eq!(decode("utf16", &[0x00, 0x41, 0x00]), None);
        assert_eq!(decode("utf16", &[0xd8, 0x3d, 0x00, 0x41]), None);
        assert_eq!(decode("utf32", &[0, 0x11, 0, 0]), None);
    }

    #[test]
    fn real_type_of_string_columns() {
        let enum_col = ColumnCodec::new(ColumnType::STRING, (247 << 8) | 1);
        assert_eq!(enum_col.real_type(), ColumnType::ENUM);
        let char_col = ColumnCodec::new(ColumnType::STRING, (254 << 8) | 40);
        assert_eq!(char_col.real_type(), ColumnType::STRING);
        assert_eq!(char_col.string_max_len(), 40);
        // CHAR(255) in utf8mb4 = 1020 bytes: high bits folded into byte0.
        let long_char = ColumnCodec::new(ColumnType::STRING, (0xce << 8) | 0xfc);
        assert_eq!(long_char.real_type(), ColumnType::STRING);
        assert_eq!(long_char.string_max_len(), 1020);
    }

    #[test]
    fn latin1_is_cp1252() {
        let decode = |charset: Charset, bytes: &[u8]| {
            let mut out = String::from("<");
            charset.decode_into(bytes, &mut out).map(|()| out)
        };
        assert_eq!(decode(Charset::Latin1, b"caf\xe9 \x80").unwrap(), "<café €");
        assert_eq!(decode(Charset::Binary, b"\xff\x00").unwrap(), "<\u{ff}\u{0}");
        assert!(decode(Charset::Utf8, b"\xff").is_none());
        assert_eq!(decode(Charset::from_name("GBK"), b"\xd6\xd0\xce\xc4").unwrap(), "<中文");
        assert!(decode(Charset::from_name("gbk"), b"\xd6").is_none(), "a lead byte alone is an error");
        assert_eq!(decode(Charset::from_name("cp1251"), b"\xcf\xf0\xe8").unwrap(), "<При");
        assert_eq!(Charset::from_collation_id(28), Charset::from_name("gbk"));
    }

    #[test]
    fn legacy_sets_are_found_by_collation_id() {
        assert_eq!(Charset::decode_lossy(Charset::from_name("cp866"), b"\xfc\xfd"), "\u{207f}\u{b2}");
        for charset in LEGACY_CHARSETS {
            for &id in charset.collation_ids {
                assert_eq!(Charset::from_collation_id(id), Charset::Legacy(charset), "{id}");
            }
        }
    }
}
