//! Legacy character sets (gbk, big5, cp1251, …): each decoded with the WHATWG encoding of the same
//! repertoire (encoding_rs), except for the codes where MySQL/MariaDB map another character, which
//! are listed per set and take the server's character.
//!
//! # Invariants
//! - Each set was compared with MariaDB's own conversion to utf8mb4 over every code MariaDB maps
//!   (tests/end_to_end.rs, `legacy_charsets_match_mariadb`); every difference found is listed.
//! - A byte sequence the encoding does not define (and no difference lists) is an error, never a
//!   replacement character; a failed decode appends nothing.

/// A MySQL character set decoded with the WHATWG encoding of the same repertoire.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LegacyCharset {
    /// MySQL's name for it (information_schema's CHARACTER_SET_NAME).
    pub name: &'static str,
    /// Its collation ids (MySQL's, and MariaDB's NO PAD ones), for binlogs decoded offline.
    pub collation_ids: &'static [u16],
    pub encoding: &'static encoding_rs::Encoding,
    /// Bytes of its longest character. A byte below 0x80 is a character of its own; one from
    /// 0x80 up starts a character of this many bytes (EUC-CN, EUC-KR, GBK, Big5, single-byte sets).
    pub max_char_bytes: u8,
    /// Codes (their bytes as a big-endian number, in ascending order) that MySQL/MariaDB map to
    /// another character than the encoding does; theirs is used.
    pub differences: &'static [(u16, char)],
}

/// The legacy character sets Sluice decodes.
pub static LEGACY_CHARSETS: &[LegacyCharset] = &[
    legacy("gbk", &[28, 87, 1052, 1111], encoding_rs::GBK, 2, &[]),
    legacy("gb2312", &[24, 86, 1048, 1110], encoding_rs::GBK, 2, &[(0xa1a4, '\u{30fb}'), (0xa1aa, '\u{2015}')]),
    // MariaDB's big5 is the ETEN table: kana and Cyrillic in C6A1–C7FC, where WHATWG's Big5-HKSCS
    // has other characters; seven codes it shows as U+FFFD.
    legacy("big5", &[1, 84, 1025, 1108], encoding_rs::BIG5, 2, BIG5_DIFFERENCES),
    legacy("euckr", &[19, 85, 1043, 1109], encoding_rs::EUC_KR, 2, &[]),
    legacy("cp1250", &[26, 34, 44, 66, 99, 1050, 1090], encoding_rs::WINDOWS_1250, 1, &[]),
    legacy("cp1251", &[14, 23, 50, 51, 52, 1074, 1075], encoding_rs::WINDOWS_1251, 1, &[]),
    legacy("cp1256", &[57, 67, 1081, 1091], encoding_rs::WINDOWS_1256, 1, &[]),
    legacy("cp1257", &[29, 58, 59, 1082, 1083], encoding_rs::WINDOWS_1257, 1, &[]),
    legacy("latin2", &[2, 9, 21, 27, 77, 1033, 1101], encoding_rs::ISO_8859_2, 1, &[]),
    legacy("koi8r", &[7, 74, 1031, 1098], encoding_rs::KOI8_R, 1, &[]),
    legacy(
        "koi8u",
        &[22, 75, 1046, 1099],
        encoding_rs::KOI8_U,
        1,
        &[(0x95, '\u{2022}'), (0xae, '\u{255d}'), (0xbe, '\u{256c}')],
    ),
    legacy("greek", &[25, 70, 1049, 1094], encoding_rs::ISO_8859_7, 1, &[(0xa1, '\u{2bd}'), (0xa2, '\u{2bc}')]),
    legacy("hebrew", &[16, 71, 1040, 1095], encoding_rs::ISO_8859_8, 1, &[(0xaf, '\u{203e}')]),
    legacy("cp866", &[36, 68, 1060, 1092], encoding_rs::IBM866, 1, &[(0xfc, '\u{207f}'), (0xfd, '\u{b2}')]),
];

const fn legacy(
    name: &'static str,
    collation_ids: &'static [u16],
    encoding: &'static encoding_rs::Encoding,
    max_char_bytes: u8,
    differences: &'static [(u16, char)],
) -> LegacyCharset {
    LegacyCharset { name, collation_ids, encoding, max_char_bytes, differences }
}

impl LegacyCharset {
    /// Decode exactly, appending to `out`; `None` (and `out` unchanged) when the bytes are not
    /// valid in this set.
    pub fn decode_into(&self, bytes: &[u8], out: &mut String) -> Option<()> {
        let decode = |bytes: &[u8], out: &mut String| {
            out.push_str(&self.encoding.decode_without_bom_handling_and_without_replacement(bytes)?);
            Some(())
        };
        if self.differences.is_empty() {
            return decode(bytes, out);
        }
        let start = out.len();
        let (mut pending, mut at) = (0, 0);
        while at < bytes.len() {
            let len = if bytes[at] < 0x80 { 1 } else { usize::from(self.max_char_bytes) };
            if let Some(c) = bytes.get(at..at + len).and_then(|code| self.difference(code)) {
                if decode(&bytes[pending..at], out).is_none() {
                    out.truncate(start);
                    return None;
                }
                out.push(c);
                pending = at + len;
            }
            at += len;
        }
        let decoded = decode(&bytes[pending..], out);
        if decoded.is_none() {
            out.truncate(start);
        }
        decoded
    }

    /// The server's character for a code it maps differently from the encoding.
    fn difference(&self, code: &[u8]) -> Option<char> {
        let number = code.iter().fold(0u16, |n, &b| (n << 8) | u16::from(b));
        let i = self.differences.binary_search_by_key(&number, |&(code, _)| code).ok()?;
        Some(self.differences[i].1)
    }
}

/// big5 codes MariaDB maps differently from WHATWG's Big5 (found by `legacy_charsets_match_mariadb`).
#[rustfmt::skip]
static BIG5_DIFFERENCES: &[(u16, char)] = &[
    (0xa145, '\u{2022}'), (0xa14e, '\u{ff64}'), (0xa15a, '\u{fffd}'), (0xa1c2, '\u{203e}'), (0xa1c3, '\u{fffd}'), (0xa1c5, '\u{fffd}'),
    (0xa1e3, '\u{223c}'), (0xa1f2, '\u{2641}'), (0xa1f3, '\u{2609}'), (0xa1fe, '\u{fffd}'), (0xa240, '\u{fffd}'), (0xa241, '\u{ff0f}'),
    (0xa242, '\u{ff3c}'), (0xa244, '\u{a5}'), (0xa246, '\u{a2}'), (0xa247, '\u{a3}'), (0xa2cc, '\u{fffd}'), (0xa2ce, '\u{fffd}'),
    (0xc6a1, '\u{30fe}'), (0xc6a2, '\u{309d}'), (0xc6a3, '\u{309e}'), (0xc6a4, '\u{3005}'), (0xc6a5, '\u{3041}'), (0xc6a6, '\u{3042}'),
    (0xc6a7, '\u{3043}'), (0xc6a8, '\u{3044}'), (0xc6a9, '\u{3045}'), (0xc6aa, '\u{3046}'), (0xc6ab, '\u{3047}'), (0xc6ac, '\u{3048}'),
    (0xc6ad, '\u{3049}'), (0xc6ae, '\u{304a}'), (0xc6af, '\u{304b}'), (0xc6b0, '\u{304c}'), (0xc6b1, '\u{304d}'), (0xc6b2, '\u{304e}'),
    (0xc6b3, '\u{304f}'), (0xc6b4, '\u{3050}'), (0xc6b5, '\u{3051}'), (0xc6b6, '\u{3052}'), (0xc6b7, '\u{3053}'), (0xc6b8, '\u{3054}'),
    (0xc6b9, '\u{3055}'), (0xc6ba, '\u{3056}'), (0xc6bb, '\u{3057}'), (0xc6bc, '\u{3058}'), (0xc6bd, '\u{3059}'), (0xc6be, '\u{305a}'),
    (0xc6bf, '\u{305b}'), (0xc6c0, '\u{305c}'), (0xc6c1, '\u{305d}'), (0xc6c2, '\u{305e}'), (0xc6c3, '\u{305f}'), (0xc6c4, '\u{3060}'),
    (0xc6c5, '\u{3061}'), (0xc6c6, '\u{3062}'), (0xc6c7, '\u{3063}'), (0xc6c8, '\u{3064}'), (0xc6c9, '\u{3065}'), (0xc6ca, '\u{3066}'),
    (0xc6cb, '\u{3067}'), (0xc6cc, '\u{3068}'), (0xc6cd, '\u{3069}'), (0xc6ce, '\u{306a}'), (0xc6cf, '\u{306b}'), (0xc6d0, '\u{306c}'),
    (0xc6d1, '\u{306d}'), (0xc6d2, '\u{306e}'), (0xc6d3, '\u{306f}'), (0xc6d4, '\u{3070}'), (0xc6d5, '\u{3071}'), (0xc6d6, '\u{3072}'),
    (0xc6d7, '\u{3073}'), (0xc6d8, '\u{3074}'), (0xc6d9, '\u{3075}'), (0xc6da, '\u{3076}'), (0xc6db, '\u{3077}'), (0xc6dc, '\u{3078}'),
    (0xc6dd, '\u{3079}'), (0xc6de, '\u{307a}'), (0xc6df, '\u{307b}'), (0xc6e0, '\u{307c}'), (0xc6e1, '\u{307d}'), (0xc6e2, '\u{307e}'),
    (0xc6e3, '\u{307f}'), (0xc6e4, '\u{3080}'), (0xc6e5, '\u{3081}'), (0xc6e6, '\u{3082}'), (0xc6e7, '\u{3083}'), (0xc6e8, '\u{3084}'),
    (0xc6e9, '\u{3085}'), (0xc6ea, '\u{3086}'), (0xc6eb, '\u{3087}'), (0xc6ec, '\u{3088}'), (0xc6ed, '\u{3089}'), (0xc6ee, '\u{308a}'),
    (0xc6ef, '\u{308b}'), (0xc6f0, '\u{308c}'), (0xc6f1, '\u{308d}'), (0xc6f2, '\u{308e}'), (0xc6f3, '\u{308f}'), (0xc6f4, '\u{3090}'),
    (0xc6f5, '\u{3091}'), (0xc6f6, '\u{3092}'), (0xc6f7, '\u{3093}'), (0xc6f8, '\u{30a1}'), (0xc6f9, '\u{30a2}'), (0xc6fa, '\u{30a3}'),
    (0xc6fb, '\u{30a4}'), (0xc6fc, '\u{30a5}'), (0xc6fd, '\u{30a6}'), (0xc6fe, '\u{30a7}'), (0xc740, '\u{30a8}'), (0xc741, '\u{30a9}'),
    (0xc742, '\u{30aa}'), (0xc743, '\u{30ab}'), (0xc744, '\u{30ac}'), (0xc745, '\u{30ad}'), (0xc746, '\u{30ae}'), (0xc747, '\u{30af}'),
    (0xc748, '\u{30b0}'), (0xc749, '\u{30b1}'), (0xc74a, '\u{30b2}'), (0xc74b, '\u{30b3}'), (0xc74c, '\u{30b4}'), (0xc74d, '\u{30b5}'),
    (0xc74e, '\u{30b6}'), (0xc74f, '\u{30b7}'), (0xc750, '\u{30b8}'), (0xc751, '\u{30b9}'), (0xc752, '\u{30ba}'), (0xc753, '\u{30bb}'),
    (0xc754, '\u{30bc}'), (0xc755, '\u{30bd}'), (0xc756, '\u{30be}'), (0xc757, '\u{30bf}'), (0xc758, '\u{30c0}'), (0xc759, '\u{30c1}'),
    (0xc75a, '\u{30c2}'), (0xc75b, '\u{30c3}'), (0xc75c, '\u{30c4}'), (0xc75d, '\u{30c5}'), (0xc75e, '\u{30c6}'), (0xc75f, '\u{30c7}'),
    (0xc760, '\u{30c8}'), (0xc761, '\u{30c9}'), (0xc762, '\u{30ca}'), (0xc763, '\u{30cb}'), (0xc764, '\u{30cc}'), (0xc765, '\u{30cd}'),
    (0xc766, '\u{30ce}'), (0xc767, '\u{30cf}'), (0xc768, '\u{30d0}'), (0xc769, '\u{30d1}'), (0xc76a, '\u{30d2}'), (0xc76b, '\u{30d3}'),
    (0xc76c, '\u{30d4}'), (0xc76d, '\u{30d5}'), (0xc76e, '\u{30d6}'), (0xc76f, '\u{30d7}'), (0xc770, '\u{30d8}'), (0xc771, '\u{30d9}'),
    (0xc772, '\u{30da}'), (0xc773, '\u{30db}'), (0xc774, '\u{30dc}'), (0xc775, '\u{30dd}'), (0xc776, '\u{30de}'), (0xc777, '\u{30df}'),
    (0xc778, '\u{30e0}'), (0xc779, '\u{30e1}'), (0xc77a, '\u{30e2}'), (0xc77b, '\u{30e3}'), (0xc77c, '\u{30e4}'), (0xc77d, '\u{30e5}'),
    (0xc77e, '\u{30e6}'), (0xc7a1, '\u{30e7}'), (0xc7a2, '\u{30e8}'), (0xc7a3, '\u{30e9}'), (0xc7a4, '\u{30ea}'), (0xc7a5, '\u{30eb}'),
    (0xc7a6, '\u{30ec}'), (0xc7a7, '\u{30ed}'), (0xc7a8, '\u{30ee}'), (0xc7a9, '\u{30ef}'), (0xc7aa, '\u{30f0}'), (0xc7ab, '\u{30f1}'),
    (0xc7ac, '\u{30f2}'), (0xc7ad, '\u{30f3}'), (0xc7ae, '\u{30f4}'), (0xc7af, '\u{30f5}'), (0xc7b0, '\u{30f6}'), (0xc7b1, '\u{414}'),
    (0xc7b2, '\u{415}'), (0xc7b3, '\u{401}'), (0xc7b4, '\u{416}'), (0xc7b5, '\u{417}'), (0xc7b6, '\u{418}'), (0xc7b7, '\u{419}'),
    (0xc7b8, '\u{41a}'), (0xc7b9, '\u{41b}'), (0xc7ba, '\u{41c}'), (0xc7bb, '\u{423}'), (0xc7bc, '\u{424}'), (0xc7bd, '\u{425}'),
    (0xc7be, '\u{426}'), (0xc7bf, '\u{427}'), (0xc7c0, '\u{428}'), (0xc7c1, '\u{429}'), (0xc7c2, '\u{42a}'), (0xc7c3, '\u{42b}'),
    (0xc7c4, '\u{42c}'), (0xc7c5, '\u{42d}'), (0xc7c6, '\u{42e}'), (0xc7c7, '\u{42f}'), (0xc7c8, '\u{430}'), (0xc7c9, '\u{431}'),
    (0xc7ca, '\u{432}'), (0xc7cb, '\u{433}'), (0xc7cc, '\u{434}'), (0xc7cd, '\u{435}'), (0xc7ce, '\u{451}'), (0xc7cf, '\u{436}'),
    (0xc7d0, '\u{437}'), (0xc7d1, '\u{438}'), (0xc7d2, '\u{439}'), (0xc7d3, '\u{43a}'), (0xc7d4, '\u{43b}'), (0xc7d5, '\u{43c}'),
    (0xc7d6, '\u{43d}'), (0xc7d7, '\u{43e}'), (0xc7d8, '\u{43f}'), (0xc7d9, '\u{440}'), (0xc7da, '\u{441}'), (0xc7db, '\u{442}'),
    (0xc7dc, '\u{443}'), (0xc7dd, '\u{444}'), (0xc7de, '\u{445}'), (0xc7df, '\u{446}'), (0xc7e0, '\u{447}'), (0xc7e1, '\u{448}'),
    (0xc7e2, '\u{449}'), (0xc7e3, '\u{44a}'), (0xc7e4, '\u{44b}'), (0xc7e5, '\u{44c}'), (0xc7e6, '\u{44d}'), (0xc7e7, '\u{44e}'),
    (0xc7e8, '\u{44f}'), (0xc7e9, '\u{2460}'), (0xc7ea, '\u{2461}'), (0xc7eb, '\u{2462}'), (0xc7ec, '\u{2463}'), (0xc7ed, '\u{2464}'),
    (0xc7ee, '\u{2465}'), (0xc7ef, '\u{2466}'), (0xc7f0, '\u{2467}'), (0xc7f1, '\u{2468}'), (0xc7f2, '\u{2469}'), (0xc7f3, '\u{2474}'),
    (0xc7f4, '\u{2475}'), (0xc7f5, '\u{2476}'), (0xc7f6, '\u{2477}'), (0xc7f7, '\u{2478}'), (0xc7f8, '\u{2479}'), (0xc7f9, '\u{247a}'),
    (0xc7fa, '\u{247b}'), (0xc7fb, '\u{247c}'), (0xc7fc, '\u{247d}'),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_in_ascending_order() {
        for charset in LEGACY_CHARSETS {
            assert!(charset.differences.windows(2).all(|w| w[0].0 < w[1].0), "{}", charset.name);
        }
    }
}
