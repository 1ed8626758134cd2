//! MySQL's packed binary DECIMAL (NEWDECIMAL) format, rendered in plain notation with exactly
//! `scale` fractional digits (`12.30` for DECIMAL(10,2)), as MySQL and Canal print it.
//!
//! Layout: digits in groups of nine stored as 4-byte big-endian integers, with a shorter leading
//! group for the integer part and a shorter trailing group for the fraction. The first bit is the
//! sign (set = positive); negative numbers are stored with every byte inverted.

use super::ascii::{AsciiBuf, POWERS_OF_TEN};
use super::{ByteReader, DecodeError};

const DIGITS_PER_GROUP: usize = 9;
/// Bytes needed for 0..=8 leftover digits.
const BYTES_FOR_DIGITS: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Bytes a DECIMAL(precision, scale) occupies in a row image.
pub fn binary_size(precision: usize, scale: usize) -> usize {
    let int_digits = precision.saturating_sub(scale);
    (int_digits / DIGITS_PER_GROUP) * 4
        + BYTES_FOR_DIGITS[int_digits % DIGITS_PER_GROUP]
        + (scale / DIGITS_PER_GROUP) * 4
        + BYTES_FOR_DIGITS[scale % DIGITS_PER_GROUP]
}

/// Decode one DECIMAL(precision, scale) value, appending its text to `out`.
pub fn decode(r: &mut ByteReader<'_>, precision: usize, scale: usize, out: &mut String) -> Result<(), DecodeError> {
    if precision == 0 || precision > 65 || scale > 30 || scale > precision {
        return Err(DecodeError::Malformed(format!("DECIMAL({precision},{scale}) is not a valid type")));
    }
    let size = binary_size(precision, scale);
    let stored = r.take(size)?;
    let negative = stored[0] & 0x80 == 0;
    let mut digits = Groups { stored, at: 0, invert: if negative { 0xff } else { 0 } };
    let int_digits = precision - scale;
    // Sign, at most 65 digits, point.
    let mut text = AsciiBuf::<68>::default();
    if negative {
        text.push(b'-');
    }
    // Integer part: leading zero groups are skipped, the first non-zero group is printed without
    // padding, the rest padded; all zero prints one 0.
    let mut started = false;
    let leading = int_digits % DIGITS_PER_GROUP;
    let groups = (leading > 0)
        .then_some(leading)
        .into_iter()
        .chain(std::iter::repeat_n(DIGITS_PER_GROUP, int_digits / DIGITS_PER_GROUP));
    for width in groups {
        let group = digits.next(width)?;
        if started {
            text.digits(group, width);
        } else if group > 0 {
            text.digits(group, 1);
            started = true;
        }
    }
    if !started {
        text.push(b'0');
    }
    let mut fraction_nonzero = false;
    if scale > 0 {
        text.push(b'.');
        let trailing = scale % DIGITS_PER_GROUP;
        let groups =
            std::iter::repeat_n(DIGITS_PER_GROUP, scale / DIGITS_PER_GROUP).chain((trailing > 0).then_some(trailing));
        for width in groups {
            let group = digits.next(width)?;
            fraction_nonzero |= group > 0;
            text.digits(group, width);
        }
    }
    // Negative zero prints as zero.
    let minus_zero = negative && !started && !fraction_nonzero;
    out.push_str(&text.as_str()[usize::from(minus_zero)..]);
    Ok(())
}

/// The digit groups of a stored value, read with the sign bit flipped and, for a negative value,
/// every byte inverted (so no copy of the value is made).
struct Groups<'a> {
    stored: &'a [u8],
    at: usize,
    /// 0xff for a negative value, else 0.
    invert: u8,
}

impl Groups<'_> {
    /// The next group of `width` digits, checked to have no more.
    #[inline]
    fn next(&mut self, width: usize) -> Result<u64, DecodeError> {
        let end = self.at + BYTES_FOR_DIGITS[width];
        // The caller reads exactly the groups `binary_size` counted, so the bytes are there.
        let bytes = &self.stored[self.at..end];
        let mut value = bytes.iter().fold(0u64, |value, b| (value << 8) | u64::from(b ^ self.invert));
        if self.at == 0 && !bytes.is_empty() {
            value ^= 0x80 << (8 * (bytes.len() - 1)); // the sign bit
        }
        self.at = end;
        if value >= POWERS_OF_TEN[width] {
            return Err(DecodeError::Malformed(format!("DECIMAL digit group {value} exceeds {width} digits")));
        }
        Ok(value)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encode a decimal string the way MySQL stores it (test helper, also used by row tests).
    pub(crate) fn encode(text: &str, precision: usize, scale: usize) -> Vec<u8> {
        let negative = text.starts_with('-');
        let text = text.trim_start_matches('-');
        let (int_text, frac_text) = text.split_once('.').unwrap_or((text, ""));
        let int_digits = precision - scale;
        let int_text = format!("{int_text:0>int_digits$}");
        let frac_text = format!("{frac_text:0<scale$}");
        let mut out = Vec::new();
        let mut push = |digits: &str, bytes: usize| {
            let v: u64 = digits.parse().unwrap_or(0);
            out.extend_from_slice(&v.to_be_bytes()[8 - bytes..]);
        };
        let leading = int_digits % 9;
        push(&int_text[..leading], BYTES_FOR_DIGITS[leading]);
        for i in 0..int_digits / 9 {
            push(&int_text[leading + 9 * i..leading + 9 * i + 9], 4);
        }
        for i in 0..scale / 9 {
            push(&frac_text[9 * i..9 * i + 9], 4);
        }
        let trailing = scale % 9;
        push(&frac_text[scale - trailing..], BYTES_FOR_DIGITS[trailing]);
        out[0] ^= 0x80;
        if negative {
            out.iter_mut().for_each(|b| *b = !*b);
        }
        out
    }

    fn decode_text(bytes: &[u8], precision: usize, scale: usize) -> Result<String, DecodeError> {
        let mut out = String::new();
        decode(&mut ByteReader::new(bytes), precision, scale, &mut out).map(|()| out)
    }

    fn round_trip(text: &str, precision: usize, scale: usize) -> String {
        let bytes = encode(text, precision, scale);
        assert_eq!(bytes.len(), binary_size(precision, scale));
        let mut r = ByteReader::new(&bytes);
        let mut out = String::new();
        decode(&mut r, precision, scale, &mut out).unwrap();
        assert!(r.is_empty());
        out
    }

    #[test]
    fn known_encoding_from_the_mysql_manual() {
        // DECIMAL(14,4) 1234567890.1234 = 81 0D FB 38 D2 04 D2 (documented example).
        let bytes = [0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2];
        assert_eq!(decode_text(&bytes, 14, 4).unwrap(), "1234567890.1234");
        // And its negative: every byte inverted.
        let neg: Vec<u8> = bytes.iter().map(|b| !b).collect();
        assert_eq!(decode_text(&neg, 14, 4).unwrap(), "-1234567890.1234");
    }

    #[test]
    fn scales_and_signs() {
        assert_eq!(round_trip("12.3", 10, 2), "12.30");
        assert_eq!(round_trip("-0.5", 10, 2), "-0.50");
        assert_eq!(round_trip("0", 10, 2), "0.00");
        assert_eq!(round_trip("42", 5, 0), "42");
        assert_eq!(round_trip("5", 20, 0), "5");
        assert_eq!(round_trip("1000000000", 20, 0), "1000000000");
        assert_eq!(round_trip("-1000000000000000000.000000001", 30, 9), "-1000000000000000000.000000001");
        assert_eq!(round_trip("-0", 10, 2), "0.00");
        assert_eq!(round_trip("-0", 5, 0), "0");
        assert_eq!(round_trip("-99999", 5, 0), "-99999");
        // No integer digits: the sign bit is in the first fraction group.
        assert_eq!(round_trip("0.99", 2, 2), "0.99");
        assert_eq!(round_trip("-0.05", 2, 2), "-0.05");
        let max65 = "9".repeat(35) + "." + &"9".repeat(30);
        assert_eq!(round_trip(&max65, 65, 30), max65);
        assert_eq!(round_trip("0.000000000000000000000000000001", 65, 30), "0.000000000000000000000000000001");
    }

    #[test]
    fn invalid_type_is_an_error() {
        assert!(decode_text(&[0; 40], 66, 2).is_err());
        assert!(decode_text(&[0x80], 10, 2).is_err());
    }
}
