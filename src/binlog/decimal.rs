//! MySQL's packed binary DECIMAL (NEWDECIMAL) format, rendered in plain notation with exactly
//! `scale` fractional digits (`12.30` for DECIMAL(10,2)), as MySQL and Canal print it.
//!
//! Layout: digits in groups of nine stored as 4-byte big-endian integers, with a shorter leading
//! group for the integer part and a shorter trailing group for the fraction. The first bit is the
//! sign (set = positive); negative numbers are stored with every byte inverted.

use super::ascii::AsciiBuf;
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

/// Decode one DECIMAL(precision, scale) value.
pub fn decode(r: &mut ByteReader<'_>, precision: usize, scale: usize) -> Result<String, DecodeError> {
    if precision == 0 || precision > 65 || scale > 30 || scale > precision {
        return Err(DecodeError::Malformed(format!("DECIMAL({precision},{scale}) is not a valid type")));
    }
    let size = binary_size(precision, scale);
    // At most 65 digits: 30 bytes.
    let mut buf = [0u8; 32];
    let bytes = &mut buf[..size];
    bytes.copy_from_slice(r.take(size)?);
    let negative = bytes[0] & 0x80 == 0;
    bytes[0] ^= 0x80;
    if negative {
        bytes.iter_mut().for_each(|b| *b = !*b);
    }
    let mut digits = ByteReader::new(bytes);
    let int_digits = precision - scale;
    // Sign, at most 65 digits, point.
    let mut out = AsciiBuf::<68>::default();
    if negative {
        out.push(b'-');
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
        let group = read_group(&mut digits, width)?;
        if started {
            out.digits(group, width);
        } else if group > 0 {
            out.digits(group, 1);
            started = true;
        }
    }
    if !started {
        out.push(b'0');
    }
    let mut fraction_nonzero = false;
    if scale > 0 {
        out.push(b'.');
        let trailing = scale % DIGITS_PER_GROUP;
        let groups =
            std::iter::repeat_n(DIGITS_PER_GROUP, scale / DIGITS_PER_GROUP).chain((trailing > 0).then_some(trailing));
        for width in groups {
            let group = read_group(&mut digits, width)?;
            fraction_nonzero |= group > 0;
            out.digits(group, width);
        }
    }
    // Negative zero prints as zero.
    if negative && !started && !fraction_nonzero {
        return Ok(out.as_str()[1..].to_owned());
    }
    Ok(out.to_text())
}

/// The next group of `width` digits, checked to have no more.
fn read_group(digits: &mut ByteReader<'_>, width: usize) -> Result<u64, DecodeError> {
    let value = digits.uint_be(BYTES_FOR_DIGITS[width])?;
    if value >= 10u64.pow(width as u32) {
        return Err(DecodeError::Malformed(format!("DECIMAL digit group {value} exceeds {width} digits")));
    }
    Ok(value)
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

    fn round_trip(text: &str, precision: usize, scale: usize) -> String {
        let bytes = encode(text, precision, scale);
        assert_eq!(bytes.len(), binary_size(precision, scale));
        let mut r = ByteReader::new(&bytes);
        let out = decode(&mut r, precision, scale).unwrap();
        assert!(r.is_empty());
        out
    }

    #[test]
    fn known_encoding_from_the_mysql_manual() {
        // DECIMAL(14,4) 1234567890.1234 = 81 0D FB 38 D2 04 D2 (documented example).
        let bytes = [0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2];
        assert_eq!(decode(&mut ByteReader::new(&bytes), 14, 4).unwrap(), "1234567890.1234");
        // And its negative: every byte inverted.
        let neg: Vec<u8> = bytes.iter().map(|b| !b).collect();
        assert_eq!(decode(&mut ByteReader::new(&neg), 14, 4).unwrap(), "-1234567890.1234");
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
        let max65 = "9".repeat(35) + "." + &"9".repeat(30);
        assert_eq!(round_trip(&max65, 65, 30), max65);
        assert_eq!(round_trip("0.000000000000000000000000000001", 65, 30), "0.000000000000000000000000000001");
    }

    #[test]
    fn invalid_type_is_an_error() {
        assert!(decode(&mut ByteReader::new(&[0; 40]), 66, 2).is_err());
        assert!(decode(&mut ByteReader::new(&[0x80]), 10, 2).is_err());
    }
}
