//! Legacy character sets (gbk, big5, sjis, ujis, cp1251, cp850, …), decoded to the characters
//! MySQL/MariaDB convert them to: with the WHATWG encoding of the same repertoire (encoding_rs), or,
//! for single-byte sets WHATWG lacks, a measured table of the upper half; and per set the codes
//! where the server maps another character than the encoding, which take the server's.
//!
//! # Invariants
//! - Each set was compared with MariaDB's own conversion to utf8mb4 over every code MariaDB maps
//!   (tests/end_to_end.rs, `legacy_charsets_match_mariadb`); every difference found is listed
//!   ([`tables`]) or, for EUC-JP's user-defined rows, computed ([`CodeLayout::private_use`]).
//!   MySQL's gb18030 (MariaDB has none) follows MySQL's documented GB18030-2005 mapping, not
//!   compared with a server: no MySQL server runs here.
//! - A byte sequence the repertoire does not define, and no listed difference maps, is an error,
//!   never a replacement character (U+FFFD only where the server itself shows it); a failed decode
//!   appends nothing.

mod tables;

use encoding_rs::Encoding;

/// A MySQL character set other than the Unicode ones, latin1 and binary.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LegacyCharset {
    /// MySQL's name for it (information_schema's CHARACTER_SET_NAME).
    pub name: &'static str,
    /// Its collation ids (MySQL's, and MariaDB's NO PAD ones), for binlogs decoded offline.
    pub collation_ids: &'static [u16],
    pub repertoire: Repertoire,
    pub layout: CodeLayout,
    /// Codes (their bytes as a big-endian number, in ascending order) that MySQL/MariaDB map to
    /// another character than the repertoire does; theirs is used.
    pub differences: &'static [(u32, char)],
}

/// Where a set's characters come from.
#[derive(Debug, PartialEq, Eq, Hash)]
pub enum Repertoire {
    /// The WHATWG encoding of the same repertoire.
    Whatwg(&'static Encoding),
    /// A single-byte set: bytes below 0x80 are ASCII, byte 0x80 + i is character `table[i]`
    /// (0: the server maps none).
    UpperHalf(&'static [u16; 128]),
}

/// How many bytes each code of a set takes, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeLayout {
    /// One byte per character.
    SingleByte,
    /// A byte from 0x80 up starts a two-byte code (EUC-CN, EUC-KR, GBK, Big5).
    DoubleByte,
    /// Shift_JIS: 0x81–0x9F and 0xE0–0xFC start two-byte codes; half-width kana are one byte.
    ShiftJis,
    /// EUC-JP: 0x8F starts a three-byte JIS X 0212 code, another byte from 0x8E up a two-byte one.
    EucJp,
    /// GB18030: a byte from 0x81 to 0xFE starts a four-byte code when a digit follows it, else a
    /// two-byte one.
    Gb18030,
}

impl CodeLayout {
    /// Bytes of the code at the start of `text` (not empty).
    pub fn code_len(self, text: &[u8]) -> usize {
        match (self, text[0]) {
            (_, ..=0x7f) | (Self::SingleByte, _) => 1,
            (Self::Gb18030, 0x81..=0xfe) if text.get(1).is_some_and(u8::is_ascii_digit) => 4,
            (Self::DoubleByte, _)
            | (Self::ShiftJis, 0x81..=0x9f | 0xe0..=0xfc)
            | (Self::EucJp, 0x8e | 0xa1..=0xfe)
            | (Self::Gb18030, 0x81..=0xfe) => 2,
            (Self::EucJp, 0x8f) => 3,
            (Self::ShiftJis | Self::EucJp | Self::Gb18030, _) => 1,
        }
    }

    /// Bytes of the set's longest character (declared lengths count characters of this size).
    pub fn max_char_bytes(self) -> u8 {
        match self {
            Self::SingleByte => 1,
            Self::DoubleByte | Self::ShiftJis => 2,
            Self::EucJp => 3,
            Self::Gb18030 => 4,
        }
    }

    /// The server's character for a code computed from the code: EUC-JP's user-defined rows, and
    /// GB18030's unassigned four-byte codes.
    fn computed_char(self, code: &[u8]) -> Option<char> {
        match self {
            Self::EucJp => Self::private_use(code),
            Self::Gb18030 => Self::gb18030_unassigned(code),
            _ => None,
        }
    }

    /// MySQL shows the four-byte codes GB18030 leaves unassigned, between the last BMP code and the
    /// first supplementary one and after the last supplementary one up to EF39EF39, as `?`.
    fn gb18030_unassigned(code: &[u8]) -> Option<char> {
        let &[a, b, c, d] = code else { return None };
        let number = u32::from_be_bytes([a, b, c, d]);
        let unassigned =
            (0x8431_a439 < number && number < 0x9030_8130) || (0xe332_9a35 < number && number <= 0xef39_ef39);
        (unassigned && b.is_ascii_digit() && (0x81..=0xfe).contains(&c) && d.is_ascii_digit()).then_some('?')
    }

    /// EUC-JP's user-defined rows 85–94 (first byte 0xF5–0xFE) map to private use, as MariaDB's
    /// ujis and eucjpms map them: JIS X 0208's from U+E000, JIS X 0212's (after 0x8F) from U+E3AC.
    fn private_use(code: &[u8]) -> Option<char> {
        let (base, row, cell) = match *code {
            [0x8f, row, cell] => (0xe3ac, row, cell),
            [row, cell] => (0xe000, row, cell),
            _ => return None,
        };
        if !(0xf5..=0xfe).contains(&row) || !(0xa1..=0xfe).contains(&cell) {
            return None;
        }
        char::from_u32(base + u32::from(row - 0xf5) * 94 + u32::from(cell - 0xa1))
    }
}

/// The legacy character sets Sluice decodes: every one MariaDB 10.11 has, and MySQL's gb18030.
pub static LEGACY_CHARSETS: &[LegacyCharset] = &[
    whatwg("gbk", &[28, 87, 1052, 1111], encoding_rs::GBK, CodeLayout::DoubleByte, &[]),
    whatwg(
        "gb2312",
        &[24, 86, 1048, 1110],
        encoding_rs::GBK,
        CodeLayout::DoubleByte,
        &[(0xa1a4, '\u{30fb}'), (0xa1aa, '\u{2015}')],
    ),
    // MariaDB's big5 is the ETEN table: kana and Cyrillic in C6A1–C7FC, where WHATWG's Big5-HKSCS
    // has other characters; seven codes it shows as U+FFFD.
    // MySQL 8's GB18030-2005, where WHATWG (encoding_rs) follows GB18030-2022: the 2005 private
    // use characters for the 18 codes 2022 remapped, and for A3A0 (WHATWG: U+3000, like A1A1).
    whatwg(
        "gb18030",
        &[248, 249, 250],
        encoding_rs::GB18030,
        CodeLayout::Gb18030,
        &[
            (0xa3a0, '\u{e5e5}'),
            (0xa6d9, '\u{e78d}'),
            (0xa6da, '\u{e78e}'),
            (0xa6db, '\u{e78f}'),
            (0xa6dc, '\u{e790}'),
            (0xa6dd, '\u{e791}'),
            (0xa6de, '\u{e792}'),
            (0xa6df, '\u{e793}'),
            (0xa6ec, '\u{e794}'),
            (0xa6ed, '\u{e795}'),
            (0xa6f3, '\u{e796}'),
            (0xfe59, '\u{e81e}'),
            (0xfe61, '\u{e826}'),
            (0xfe66, '\u{e82b}'),
            (0xfe67, '\u{e82c}'),
            (0xfe6d, '\u{e832}'),
            (0xfe7e, '\u{e843}'),
            (0xfe90, '\u{e854}'),
            (0xfea0, '\u{e864}'),
        ],
    ),
    whatwg("big5", &[1, 84, 1025, 1108], encoding_rs::BIG5, CodeLayout::DoubleByte, tables::BIG5_DIFFERENCES),
    whatwg("euckr", &[19, 85, 1043, 1109], encoding_rs::EUC_KR, CodeLayout::DoubleByte, &[]),
    // cp932 is WHATWG's Shift_JIS; sjis has JIS X 0208's characters where Microsoft's differ.
    whatwg("cp932", &[95, 96, 1119, 1120], encoding_rs::SHIFT_JIS, CodeLayout::ShiftJis, &[]),
    whatwg(
        "sjis",
        &[13, 88, 1037, 1112],
        encoding_rs::SHIFT_JIS,
        CodeLayout::ShiftJis,
        &[
            (0x815f, '\\'),
            (0x8160, '\u{301c}'),
            (0x8161, '\u{2016}'),
            (0x817c, '\u{2212}'),
            (0x8191, '\u{a2}'),
            (0x8192, '\u{a3}'),
            (0x81ca, '\u{ac}'),
        ],
    ),
    whatwg("ujis", &[12, 91, 1036, 1115], encoding_rs::EUC_JP, CodeLayout::EucJp, tables::UJIS_DIFFERENCES),
    whatwg("eucjpms", &[97, 98, 1121, 1122], encoding_rs::EUC_JP, CodeLayout::EucJp, tables::EUCJPMS_DIFFERENCES),
    whatwg("cp1250", &[26, 34, 44, 66, 99, 1050, 1090], encoding_rs::WINDOWS_1250, CodeLayout::SingleByte, &[]),
    whatwg("cp1251", &[14, 23, 50, 51, 52, 1074, 1075], encoding_rs::WINDOWS_1251, CodeLayout::SingleByte, &[]),
    whatwg("cp1256", &[57, 67, 1081, 1091], encoding_rs::WINDOWS_1256, CodeLayout::SingleByte, &[]),
    whatwg("cp1257", &[29, 58, 59, 1082, 1083], encoding_rs::WINDOWS_1257, CodeLayout::SingleByte, &[]),
    whatwg("latin2", &[2, 9, 21, 27, 77, 1033, 1101], encoding_rs::ISO_8859_2, CodeLayout::SingleByte, &[]),
    whatwg("latin7", &[20, 41, 42, 79, 1065, 1103], encoding_rs::ISO_8859_13, CodeLayout::SingleByte, &[]),
    whatwg("macroman", &[39, 53, 1063, 1077], encoding_rs::MACINTOSH, CodeLayout::SingleByte, &[]),
    whatwg("koi8r", &[7, 74, 1031, 1098], encoding_rs::KOI8_R, CodeLayout::SingleByte, &[]),
    whatwg(
        "koi8u",
        &[22, 75, 1046, 1099],
        encoding_rs::KOI8_U,
        CodeLayout::SingleByte,
        &[(0x95, '\u{2022}'), (0xae, '\u{255d}'), (0xbe, '\u{256c}')],
    ),
    whatwg(
        "greek",
        &[25, 70, 1049, 1094],
        encoding_rs::ISO_8859_7,
        CodeLayout::SingleByte,
        &[(0xa1, '\u{2bd}'), (0xa2, '\u{2bc}')],
    ),
    whatwg("hebrew", &[16, 71, 1040, 1095], encoding_rs::ISO_8859_8, CodeLayout::SingleByte, &[(0xaf, '\u{203e}')]),
    whatwg(
        "cp866",
        &[36, 68, 1060, 1092],
        encoding_rs::IBM866,
        CodeLayout::SingleByte,
        &[(0xfc, '\u{207f}'), (0xfd, '\u{b2}')],
    ),
    upper_half("armscii8", &[32, 64, 1056, 1088], &tables::ARMSCII8, &[]),
    upper_half("cp850", &[4, 80, 1028, 1104], &tables::CP850, &[]),
    upper_half("cp852", &[40, 81, 1064, 1105], &tables::CP852, &[]),
    upper_half("dec8", &[3, 69, 1027, 1093], &tables::DEC8, &[]),
    upper_half("geostd8", &[92, 93, 1116, 1117], &tables::GEOSTD8, &[]),
    upper_half("hp8", &[6, 72, 1030, 1096], &tables::HP8, &[]),
    upper_half("keybcs2", &[37, 73, 1061, 1097], &tables::KEYBCS2, &[]),
    upper_half("latin5", &[30, 78, 1054, 1102], &tables::LATIN5, &[]),
    upper_half("macce", &[38, 43, 1062, 1067], &tables::MACCE, &[]),
    upper_half("tis620", &[18, 89, 1042, 1113], &tables::TIS620, &[]),
    // swe7 is 7-bit: Swedish letters in place of ten ASCII punctuation marks, nothing from 0x80.
    upper_half(
        "swe7",
        &[10, 82, 1034, 1106],
        &[0; 128],
        &[
            (0x40, '\u{c9}'),
            (0x5b, '\u{c4}'),
            (0x5c, '\u{d6}'),
            (0x5d, '\u{c5}'),
            (0x5e, '\u{dc}'),
            (0x60, '\u{e9}'),
            (0x7b, '\u{e4}'),
            (0x7c, '\u{f6}'),
            (0x7d, '\u{e5}'),
            (0x7e, '\u{fc}'),
        ],
    ),
];

const fn whatwg(
    name: &'static str,
    collation_ids: &'static [u16],
    encoding: &'static Encoding,
    layout: CodeLayout,
    differences: &'static [(u32, char)],
) -> LegacyCharset {
    LegacyCharset { name, collation_ids, repertoire: Repertoire::Whatwg(encoding), layout, differences }
}

const fn upper_half(
    name: &'static str,
    collation_ids: &'static [u16],
    table: &'static [u16; 128],
    differences: &'static [(u32, char)],
) -> LegacyCharset {
    let repertoire = Repertoire::UpperHalf(table);
    LegacyCharset { name, collation_ids, repertoire, layout: CodeLayout::SingleByte, differences }
}

impl LegacyCharset {
    /// Decode exactly, appending to `out`; `None` (and `out` unchanged) when the bytes are not
    /// valid in this set.
    pub fn decode_into(&self, bytes: &[u8], out: &mut String) -> Option<()> {
        let start = out.len();
        let decoded = if self.differences.is_empty() && !matches!(self.layout, CodeLayout::EucJp | CodeLayout::Gb18030)
        {
            self.decode_run(bytes, out)
        } else {
            self.decode_codes(bytes, out)
        };
        if decoded.is_none() {
            out.truncate(start);
        }
        decoded
    }

    /// Decode with replacement characters for what the set does not define (texts that are
    /// not values, such as DDL, where an error helps nobody).
    pub fn decode_lossy(&self, bytes: &[u8]) -> String {
        let mut exact = String::new();
        if self.decode_into(bytes, &mut exact).is_some() {
            return exact;
        }
        match self.repertoire {
            Repertoire::Whatwg(encoding) => encoding.decode_without_bom_handling(bytes).0.into_owned(),
            Repertoire::UpperHalf(table) => {
                bytes.iter().map(|&b| upper_half_char(table, b).unwrap_or('\u{fffd}')).collect()
            }
        }
    }

    /// Whether the set has a code for `c` as the server maps it (a character it has none for is
    /// stored as `?`), where that is known: for a single-byte set, whose 256 codes decode as the
    /// server's do. A multi-byte set is taken to hold every character: the WHATWG encoding it is
    /// read with maps codes the server does not (Big5's `é` and `€`, GBK's `€`).
    pub fn holds(&self, c: char) -> bool {
        self.layout != CodeLayout::SingleByte
            || (0..=u8::MAX).any(|b| {
                let mut decoded = String::new();
                self.decode_into(&[b], &mut decoded).is_some() && decoded.chars().eq(std::iter::once(c))
            })
    }

    /// The server's character for a code it maps other than the repertoire does.
    pub fn server_char(&self, code: &[u8]) -> Option<char> {
        let number = code.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b));
        match self.differences.binary_search_by_key(&number, |&(code, _)| code) {
            Ok(i) => Some(self.differences[i].1),
            Err(_) => self.layout.computed_char(code),
        }
    }

    /// Walk the codes, the server's characters in place of the repertoire's.
    fn decode_codes(&self, bytes: &[u8], out: &mut String) -> Option<()> {
        let (mut pending, mut at) = (0, 0);
        while at < bytes.len() {
            let len = self.layout.code_len(&bytes[at..]);
            if self.layout == CodeLayout::Gb18030 && len == 1 && bytes[at] > 0x7f {
                return None; // WHATWG decodes a lone 0x80 as €; in MySQL's GB18030 it is no code
            }
            if let Some(c) = bytes.get(at..at + len).and_then(|code| self.server_char(code)) {
                self.decode_run(&bytes[pending..at], out)?;
                out.push(c);
                pending = at + len;
            }
            at += len;
        }
        self.decode_run(&bytes[pending..], out)
    }

    /// Decode with the repertoire alone; may leave a partial text in `out` when it fails.
    fn decode_run(&self, bytes: &[u8], out: &mut String) -> Option<()> {
        match self.repertoire {
            Repertoire::Whatwg(encoding) => {
                out.push_str(&encoding.decode_without_bom_handling_and_without_replacement(bytes)?);
            }
            Repertoire::UpperHalf(table) => {
                for &b in bytes {
                    out.push(upper_half_char(table, b)?);
                }
            }
        }
        Some(())
    }
}

/// A single-byte set's character for `b`, or `None` where the set has none.
fn upper_half_char(table: &[u16; 128], b: u8) -> Option<char> {
    match b {
        ..=0x7f => Some(char::from(b)),
        _ => char::from_u32(u32::from(table[usize::from(b - 0x80)])).filter(|&c| c != '\0'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_in_ascending_order() {
        for charset in LEGACY_CHARSETS {
            assert!(charset.differences.windows(2).all(|w| w[0].0 < w[1].0), "{}", charset.name);
        }
    }

    fn decode(name: &str, bytes: &[u8]) -> (Option<()>, String) {
        let charset = LEGACY_CHARSETS.iter().find(|c| c.name == name).unwrap();
        let mut out = String::from("<");
        (charset.decode_into(bytes, &mut out), out)
    }

    #[test]
    fn codes_mariadb_maps_differently_take_mariadbs_character() {
        assert_eq!(decode("greek", b"\xa1\xe1\xa2"), (Some(()), "<\u{2bd}\u{3b1}\u{2bc}".to_owned()));
        assert_eq!(decode("hebrew", b"\xaf\xe0"), (Some(()), "<\u{203e}\u{5d0}".to_owned()));
        assert_eq!(decode("gb2312", b"\xd6\xd0\xa1\xa4\xce\xc4"), (Some(()), "<\u{4e2d}\u{30fb}\u{6587}".to_owned()));
        // big5: MariaDB's ETEN kana, and a code it shows as U+FFFD.
        assert_eq!(decode("big5", b"\xa4\xa4\xc6\xa1\xa1\x5a"), (Some(()), "<\u{4e2d}\u{30fe}\u{fffd}".to_owned()));
        // A1 A4 across two codes (B0A1, A4A1) is not the code A1A4.
        assert_eq!(decode("gb2312", b"\xb0\xa1\xa4\xa1"), (Some(()), "<\u{554a}\u{3041}".to_owned()));
        // An invalid code before or after a difference: an error, and nothing appended.
        assert_eq!(decode("greek", b"\xa1\xd2"), (None, "<".to_owned()));
        assert_eq!(decode("greek", b"\xd2\xa1"), (None, "<".to_owned()));
        assert_eq!(decode("gb2312", b"\xa1\xa4\xd6"), (None, "<".to_owned()));
        assert_eq!(decode("cp866", b""), (Some(()), "<".to_owned()));
    }

    #[test]
    fn japanese_sets_take_the_servers_characters() {
        // sjis has JIS X 0208's wave dash where cp932 (WHATWG's Shift_JIS) has the fullwidth tilde.
        assert_eq!(decode("sjis", b"\x82\xa0\x81\x60\xb1"), (Some(()), "<\u{3042}\u{301c}\u{ff71}".to_owned()));
        assert_eq!(decode("cp932", b"\x82\xa0\x81\x60\xb1"), (Some(()), "<\u{3042}\u{ff5e}\u{ff71}".to_owned()));
        // ujis: kana after 0x8E, JIS X 0212 after 0x8F, and both user-defined areas.
        assert_eq!(
            decode("ujis", b"\xa4\xa2\x8e\xb1\x8f\xb0\xa1\xa1\xc1\xf5\xa1\xfe\xfe\x8f\xf5\xa1"),
            (Some(()), "<\u{3042}\u{ff71}\u{4e02}\u{301c}\u{e000}\u{e3ab}\u{e3ac}".to_owned())
        );
        // eucjpms: Microsoft's tilde, and the IBM extension in JIS X 0212 row 83.
        assert_eq!(decode("eucjpms", b"\xa1\xc1\x8f\xf3\xf3"), (Some(()), "<\u{ff5e}\u{2170}".to_owned()));
        // A code cut short after a user-defined one: an error, nothing appended.
        assert_eq!(decode("ujis", b"\xf5\xa1\xa4"), (None, "<".to_owned()));
        assert_eq!(decode("eucjpms", b"\x8f\xf3"), (None, "<".to_owned()));
    }

    #[test]
    fn gb18030_is_mysqls_gb18030_2005() {
        // ASCII, a two-byte code, four-byte codes in the BMP and beyond.
        assert_eq!(
            decode("gb18030", b"a\xd6\xd0\x81\x30\x81\x30\x94\x39\xda\x33"),
            (Some(()), "<a\u{4e2d}\u{80}\u{1f4a9}".to_owned())
        );
        // GB18030-2005's private use where WHATWG follows 2022 (and maps A3A0 to U+3000); the
        // characters 2022 moved stay at their four-byte codes; FE51 was not moved.
        assert_eq!(
            decode("gb18030", b"\xa3\xa0\xa6\xd9\xfe\x7e\xa1\xa1\x82\x35\x91\x32\xfe\x51"),
            (Some(()), "<\u{e5e5}\u{e78d}\u{e843}\u{3000}\u{9fb9}\u{e816}".to_owned())
        );
        // Unassigned four-byte codes show as '?', as MySQL shows them.
        assert_eq!(decode("gb18030", b"\x84\x31\xa5\x30\xe3\x32\x9a\x36"), (Some(()), "<??".to_owned()));
        // No code: a lone 0x80 (WHATWG's €), a lead byte cut short, a four-byte code cut short.
        for bad in [&b"\x80"[..], b"a\xd6", b"\x81\x30\x81", b"\xff"] {
            assert_eq!(decode("gb18030", bad), (None, "<".to_owned()), "{bad:x?}");
        }
    }

    #[test]
    fn single_byte_tables_map_as_the_server_does() {
        assert_eq!(decode("cp850", b"\x80\x9b A"), (Some(()), "<\u{c7}\u{f8} A".to_owned()));
        assert_eq!(decode("latin5", b"\x80\xd0"), (Some(()), "<\u{80}\u{11e}".to_owned()));
        assert_eq!(decode("tis620", b"\xa1\xa0"), (Some(()), "<\u{e01}\u{fffd}".to_owned()));
        assert_eq!(decode("swe7", b"@[x"), (Some(()), "<\u{c9}\u{c4}x".to_owned()));
        // Codes the set leaves free: an error, nothing appended; replaced only when lossy.
        assert_eq!(decode("dec8", b"A\xa4"), (None, "<".to_owned()));
        assert_eq!(decode("swe7", b"\xc9"), (None, "<".to_owned()));
        let dec8 = LEGACY_CHARSETS.iter().find(|c| c.name == "dec8").unwrap();
        assert_eq!(dec8.decode_lossy(b"\xa4A\xa1"), "\u{fffd}A\u{a1}");
    }
}
