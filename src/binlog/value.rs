//! Decoding one column value from a row image into Canal's string form.
//!
//! The forms follow what MySQL itself prints (`SELECT col`), which is also what Canal emits:
//! integers in decimal (unsigned as unsigned), DECIMAL in plain notation with the column's scale,
//! FLOAT/DOUBLE as MySQL's `my_gcvt` prints them, DATE/DATETIME/TIME with the column's fractional
//! digits, TIMESTAMP in the configured time zone, YEAR as four digits, BIT as its number, ENUM/SET as
//! their labels, text in its character set, and bytes mapped 1:1 to chars (ISO-8859-1) or base64.

use std::fmt::Write;

use base64::Engine;

use super::ascii::{Ascii, digit_pair};
use super::column::{BinaryTextForm, Charset, ColumnCodec, ColumnType, push_iso_8859_1};
use super::{ByteReader, DecodeError, decimal, json, mariadb};

/// How bytes (BINARY/VARBINARY/BLOB/GEOMETRY) are rendered as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryEncoding {
    /// Each byte becomes the char with the same code (ISO-8859-1), as Canal does.
    #[default]
    Latin1,
    Base64,
    /// Upper-case hex digits, as MySQL's `HEX()` prints them.
    Hex,
}

/// Options that change how values are rendered, per destination.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Time zone TIMESTAMP values are shown in (the server stores them as UTC instants).
    pub time_zone: jiff::tz::TimeZone,
    pub binary: BinaryEncoding,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self { time_zone: jiff::tz::TimeZone::UTC, binary: BinaryEncoding::Latin1 }
    }
}

/// Decode the next value of a non-NULL column, appending its text to `out`.
pub fn decode(
    r: &mut ByteReader<'_>,
    col: &ColumnCodec,
    opts: &RenderOptions,
    out: &mut String,
) -> Result<(), DecodeError> {
    let meta = col.meta;
    let real = col.real_type();
    // Numbers and dates are rendered on the stack and copied once at the end; text, labels, JSON
    // and bytes are written straight into `out` by their arms.
    let ascii = match real {
        ColumnType::TINY => int(r.uint_le(1)?, 1, col.unsigned),
        ColumnType::SHORT => int(r.uint_le(2)?, 2, col.unsigned),
        ColumnType::INT24 => int(r.uint_le(3)?, 3, col.unsigned),
        ColumnType::LONG => int(r.uint_le(4)?, 4, col.unsigned),
        ColumnType::LONGLONG => int(r.uint_le(8)?, 8, col.unsigned),
        ColumnType::FLOAT | ColumnType::DOUBLE if let Some(decimals) = col.fixed_decimals => {
            let x = match real {
                ColumnType::FLOAT => f64::from(f32::from_le_bytes(r.take(4)?.try_into().expect("took 4 bytes"))),
                _ => f64::from_le_bytes(r.take(8)?.try_into().expect("took 8 bytes")),
            };
            format_fixed(x, decimals, out);
            return Ok(());
        }
        ColumnType::FLOAT => format_float(f32::from_le_bytes(r.take(4)?.try_into().expect("took 4 bytes"))),
        ColumnType::DOUBLE => format_double(f64::from_le_bytes(r.take(8)?.try_into().expect("took 8 bytes"))),
        ColumnType::NEWDECIMAL => {
            return decimal::decode(r, usize::from(meta >> 8), usize::from(meta & 0xff), out);
        }
        ColumnType::YEAR => {
            let mut year = Ascii::default();
            match r.u8()? {
                0 => year.push_str("0000"),
                y => year.digits(1900 + u64::from(y), 4),
            }
            year
        }
        ColumnType::DATE => {
            let v = u64::from(r.u24()?);
            let mut date = Ascii::default();
            date.digits(v >> 9, 4);
            date.push(b'-');
            date.pair((v >> 5) & 0x0f);
            date.push(b'-');
            date.pair(v & 0x1f);
            date
        }
        ColumnType::TIME if meta == 0 => time_v1(r.uint_le(3)?),
        ColumnType::TIME => time_hires(r, fsp(meta)?)?,
        ColumnType::TIME2 => time_v2(r, fsp(meta)?)?,
        ColumnType::DATETIME if meta == 0 => datetime_v1(r.u64()?),
        ColumnType::DATETIME => datetime_hires(r, fsp(meta)?)?,
        ColumnType::DATETIME2 => datetime_v2(r, fsp(meta)?)?,
        ColumnType::TIMESTAMP if meta == 0 => timestamp(u64::from(r.u32()?), 0, 0, opts)?,
        ColumnType::TIMESTAMP => {
            // MariaDB's pre-10.3 TIMESTAMP(n): seconds, then the fraction in 10^-n units.
            let fsp = fsp(meta)?;
            let seconds = r.uint_be(4)?;
            let fraction = r.uint_be([0usize, 1, 1, 2, 2, 3, 3][usize::from(fsp)])?;
            timestamp(seconds, hires_micros(fraction, fsp)?, fsp, opts)?
        }
        ColumnType::TIMESTAMP2 => {
            let fsp = fsp(meta)?;
            let seconds = r.uint_be(4)?;
            let micros = fraction_micros(r, fsp)?;
            timestamp(seconds, micros, fsp, opts)?
        }
        ColumnType::BIT => {
            let bits = usize::from(meta >> 8) * 8 + usize::from(meta & 0xff);
            int(r.uint_be(bits.div_ceil(8))?, 8, true)
        }
        ColumnType::ENUM => {
            let index = r.uint_le(usize::from(meta & 0xff))? as usize;
            match &col.labels {
                Some(_) if index == 0 => return Ok(()), // the "invalid value" index: ''
                Some(labels) => {
                    let label = labels.get(index - 1).ok_or_else(|| {
                        DecodeError::RowShape(format!("ENUM index {index} but the column has {} labels", labels.len()))
                    })?;
                    out.push_str(label);
                    return Ok(());
                }
                None => int(index as u64, 8, true),
            }
        }
        ColumnType::SET => {
            let bits = r.uint_le(usize::from(meta & 0xff))?;
            match &col.labels {
                Some(labels) => return set_labels(bits, labels, out),
                None => int(bits, 8, true),
            }
        }
        ColumnType::STRING => {
            let max_len = col.string_max_len();
            let len = if max_len < 256 { usize::from(r.u8()?) } else { usize::from(r.u16()?) };
            let bytes = r.take(len)?;
            if col.text_form.is_some() || (col.charset == Charset::Binary && len < max_len) {
                // BINARY(n) (and MariaDB's UUID/INET types, stored as one) is stored without its
                // trailing zero padding; the value has it (and base64 must see it whole).
                let mut padded = bytes.to_vec();
                padded.resize(max_len.max(len), 0);
                let Some(form) = col.text_form else {
                    binary(&padded, opts, out);
                    return Ok(());
                };
                return binary_text(form, &padded, out);
            }
            return text(bytes, col, opts, out);
        }
        ColumnType::VARCHAR | ColumnType::VAR_STRING => return text(varchar_bytes(r, meta)?, col, opts, out),
        ColumnType::BLOB | ColumnType::TINY_BLOB | ColumnType::MEDIUM_BLOB | ColumnType::LONG_BLOB => {
            return text(length_prefixed(r, meta)?, col, opts, out);
        }
        ColumnType::VARCHAR_COMPRESSED => {
            return text(&mariadb::uncompress_column(varchar_bytes(r, meta)?)?, col, opts, out);
        }
        ColumnType::BLOB_COMPRESSED => {
            return text(&mariadb::uncompress_column(length_prefixed(r, meta)?)?, col, opts, out);
        }
        ColumnType::GEOMETRY => {
            binary(length_prefixed(r, meta)?, opts, out);
            return Ok(());
        }
        ColumnType::VECTOR => return vector(length_prefixed(r, meta)?, out),
        ColumnType::JSON => return json_document(length_prefixed(r, meta)?, out),
        other => {
            return Err(DecodeError::Unsupported(format!(
                "column type {} ({}) cannot appear in a row image",
                other.name(),
                other.0
            )));
        }
    };
    out.push_str(ascii.as_str());
    Ok(())
}

/// The labels of the bits set, comma-separated.
fn set_labels(bits: u64, labels: &[String], out: &mut String) -> Result<(), DecodeError> {
    if labels.len() < 64 && bits >> labels.len() != 0 {
        return Err(DecodeError::RowShape(format!("SET bits {bits:#x} but the column has {} labels", labels.len())));
    }
    let chosen = labels.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0);
    for (n, (_, label)) in chosen.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(label);
    }
    Ok(())
}

fn fsp(meta: u16) -> Result<u8, DecodeError> {
    if meta > 6 {
        return Err(DecodeError::Malformed(format!("fractional seconds precision {meta} (max 6)")));
    }
    Ok(meta as u8)
}

fn int(raw: u64, bytes: u32, unsigned: bool) -> Ascii {
    let mut out = Ascii::default();
    if unsigned {
        out.digits(raw, 1);
    } else {
        let shift = 64 - 8 * bytes;
        let v = ((raw << shift) as i64) >> shift;
        if v < 0 {
            out.push(b'-');
        }
        out.digits(v.unsigned_abs(), 1);
    }
    out
}

/// `YYYY-MM-DD hh:mm:ss`.
/// Month, day, minutes and seconds come from bit fields of at most 6 bits: two digits each.
fn push_datetime(out: &mut Ascii, date: [u64; 3], time: [u64; 3]) {
    if date[0] < 10_000 && time[0] < 100 {
        // Every real value: one fixed layout, no per-piece checks.
        let [y1, y2] = digit_pair(date[0] / 100);
        let [y3, y4] = digit_pair(date[0]);
        let [mo1, mo2] = digit_pair(date[1]);
        let [d1, d2] = digit_pair(date[2]);
        let [h1, h2] = digit_pair(time[0]);
        let [mi1, mi2] = digit_pair(time[1]);
        let [s1, s2] = digit_pair(time[2]);
        out.push_array([y1, y2, y3, y4, b'-', mo1, mo2, b'-', d1, d2, b' ', h1, h2, b':', mi1, mi2, b':', s1, s2]);
        return;
    }
    out.digits(date[0], 4);
    out.push(b'-');
    out.pair(date[1]);
    out.push(b'-');
    out.pair(date[2]);
    out.push(b' ');
    push_time(out, time);
}

/// `hh:mm:ss` (hours may have more digits).
fn push_time(out: &mut Ascii, time: [u64; 3]) {
    if time[0] < 100 {
        out.pair(time[0]);
    } else {
        out.digits(time[0], 2);
    }
    out.push(b':');
    out.pair(time[1]);
    out.push(b':');
    out.pair(time[2]);
}

/// MySQL 9 VECTOR: little-endian f32s, rendered as `VECTOR_TO_STRING` does:
/// `[1.00000e+00,-2.50000e-01]`.
fn vector(bytes: &[u8], out: &mut String) -> Result<(), DecodeError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(DecodeError::Malformed(format!("VECTOR value of {} bytes is not a list of floats", bytes.len())));
    }
    out.reserve(2 + bytes.len() / 4 * 13);
    out.push('[');
    for (i, chunk) in bytes.chunks_exact(4).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let x = f32::from_le_bytes(chunk.try_into().expect("4 bytes"));
        // C's %.5e: mantissa with five decimals, exponent signed with at least two digits.
        let rust = format!("{x:.5e}");
        let (mantissa, exponent) = rust.split_once('e').expect("{:e} has an exponent");
        let exponent: i32 = exponent.parse().expect("{:e} exponent is an integer");
        let sign = if exponent < 0 { '-' } else { '+' };
        write!(out, "{mantissa}e{sign}{:02}", exponent.abs()).expect("writing to a String cannot fail");
    }
    out.push(']');
    Ok(())
}

/// The text MariaDB shows for a UUID (`123e4567-e89b-12d3-a456-426655440000`), INET4
/// (`192.168.0.1`) or INET6 (the first longest run of zero groups as `::` — unlike RFC 5952, a
/// single zero group too — and IPv4 compatible and mapped addresses with the IPv4 part dotted).
fn binary_text(form: BinaryTextForm, bytes: &[u8], out: &mut String) -> Result<(), DecodeError> {
    let size = match form {
        BinaryTextForm::Uuid | BinaryTextForm::Inet6 => 16,
        BinaryTextForm::Inet4 => 4,
    };
    if bytes.len() != size {
        return Err(DecodeError::RowShape(format!("a {form:?} value of {} bytes (expected {size})", bytes.len())));
    }
    let dotted = |out: &mut String, b: &[u8]| {
        write!(out, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]).expect("writing to a String cannot fail")
    };
    match form {
        BinaryTextForm::Uuid => {
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                write!(out, "{b:02x}").expect("writing to a String cannot fail");
            }
        }
        BinaryTextForm::Inet4 => dotted(out, bytes),
        BinaryTextForm::Inet6 => {
            let groups: Vec<u16> = bytes.chunks(2).map(|g| u16::from_be_bytes([g[0], g[1]])).collect();
            // The first longest run of zero groups.
            let (mut gap, mut run) = ((0, 0), (0, 0));
            for (i, &g) in groups.iter().enumerate() {
                run = if g == 0 { (if run.1 == 0 { i } else { run.0 }, run.1 + 1) } else { (0, 0) };
                if run.1 > gap.1 {
                    gap = run;
                }
            }
            let ipv4 = gap.0 == 0 && (gap.1 == 6 || (gap.1 == 5 && groups[5] == 0xffff));
            let hex_groups = if ipv4 { 6 } else { 8 };
            let mut i = 0;
            while i < hex_groups {
                if gap.1 > 0 && i == gap.0 {
                    out.push_str("::");
                    i += gap.1;
                    continue;
                }
                if i > 0 && !out.ends_with(':') {
                    out.push(':');
                }
                write!(out, "{:x}", groups[i]).expect("writing to a String cannot fail");
                i += 1;
            }
            if ipv4 {
                if !out.ends_with(':') {
                    out.push(':');
                }
                dotted(out, &bytes[12..]);
            }
        }
    }
    Ok(())
}

/// A VARCHAR's bytes, after their length: one byte when the column holds under 256 bytes
/// (`meta`), else two.
fn varchar_bytes<'a>(r: &mut ByteReader<'a>, meta: u16) -> Result<&'a [u8], DecodeError> {
    let len = if meta < 256 { usize::from(r.u8()?) } else { usize::from(r.u16()?) };
    r.take(len)
}

/// A value preceded by its length in `meta` bytes (1–4): BLOB/TEXT/JSON/GEOMETRY.
pub fn length_prefixed<'a>(r: &mut ByteReader<'a>, meta: u16) -> Result<&'a [u8], DecodeError> {
    if !(1..=4).contains(&meta) {
        return Err(DecodeError::Malformed(format!("length prefix of {meta} bytes")));
    }
    let len = r.uint_le(usize::from(meta))? as usize;
    r.take(len)
}

/// A JSON column's binary document (MySQL's JSONB) as MySQL prints it; empty stays empty.
pub fn json_document(bytes: &[u8], out: &mut String) -> Result<(), DecodeError> {
    if bytes.is_empty() { Ok(()) } else { json::write_text(bytes, out) }
}

fn text(bytes: &[u8], col: &ColumnCodec, opts: &RenderOptions, out: &mut String) -> Result<(), DecodeError> {
    if col.charset == Charset::Binary {
        binary(bytes, opts, out);
        return Ok(());
    }
    col.charset.decode_into(bytes, out).ok_or_else(|| {
        DecodeError::RowShape(format!(
            "a {:?} text value holds bytes that are not valid in that character set: {}",
            col.charset,
            hex_preview(bytes)
        ))
    })
}

fn hex_preview(bytes: &[u8]) -> String {
    let mut out = String::new();
    for b in bytes.iter().take(32) {
        write!(out, "{b:02x}").expect("writing to a String cannot fail");
    }
    if bytes.len() > 32 {
        out.push('…');
    }
    out
}

/// Render bytes per the configured binary encoding.
fn binary(bytes: &[u8], opts: &RenderOptions, out: &mut String) {
    match opts.binary {
        BinaryEncoding::Latin1 => push_iso_8859_1(bytes, out),
        BinaryEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode_string(bytes, out),
        BinaryEncoding::Hex => {
            const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
            out.reserve(bytes.len() * 2);
            for &b in bytes {
                out.push(char::from(DIGITS[usize::from(b >> 4)]));
                out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
            }
        }
    }
}

/// Fractional seconds stored after TIME2/DATETIME2/TIMESTAMP2, as microseconds.
fn fraction_micros(r: &mut ByteReader<'_>, fsp: u8) -> Result<u32, DecodeError> {
    Ok(match fsp {
        0 => 0,
        1 | 2 => r.uint_be(1)? as u32 * 10_000,
        3 | 4 => r.uint_be(2)? as u32 * 100,
        _ => r.uint_be(3)? as u32,
    })
}

/// `.ffffff` cut to `fsp` digits (nothing when fsp = 0).
fn push_fraction(out: &mut Ascii, micros: u32, fsp: u8) {
    if fsp > 0 {
        let fsp = u32::from(fsp.min(6));
        out.push(b'.');
        out.digits(u64::from(micros / 10u32.pow(6 - fsp)), fsp as usize);
    }
}

fn time_v1(raw: u64) -> Ascii {
    let v = ((raw << 40) as i64) >> 40; // sign-extend 24 bits: HHMMSS as a number
    let abs = v.unsigned_abs();
    let mut out = Ascii::default();
    if v < 0 {
        out.push(b'-');
    }
    push_time(&mut out, [abs / 10000, (abs / 100) % 100, abs % 100]);
    out
}

fn time_v2(r: &mut ByteReader<'_>, fsp: u8) -> Result<Ascii, DecodeError> {
    const INT_OFFSET: i64 = 0x80_0000;
    // Combine integer part and fraction into one signed count of (hms << 24 | microseconds).
    let packed: i64 = match fsp {
        0 => (r.uint_be(3)? as i64 - INT_OFFSET) << 24,
        1..=4 => {
            let mut int_part = r.uint_be(3)? as i64 - INT_OFFSET;
            let (width, scale) = if fsp <= 2 { (1, 10_000) } else { (2, 100) };
            let mut frac = r.uint_be(width)? as i64;
            if int_part < 0 && frac > 0 {
                // Negative values store the fraction complemented, for sort order.
                int_part += 1;
                frac -= 1 << (8 * width);
            }
            (int_part << 24) + frac * scale
        }
        _ => r.uint_be(6)? as i64 - 0x8000_0000_0000,
    };
    let abs = packed.unsigned_abs();
    let hms = abs >> 24;
    let micros = (abs & 0xff_ffff) as u32;
    let mut out = Ascii::default();
    if packed < 0 {
        out.push(b'-');
    }
    push_time(&mut out, [(hms >> 12) & 0x3ff, (hms >> 6) & 0x3f, hms & 0x3f]);
    push_fraction(&mut out, micros, fsp);
    Ok(out)
}

/// A count of 10^-fsp second units as microseconds.
fn hires_micros(units: u64, fsp: u8) -> Result<u32, DecodeError> {
    let micros = units * 10u64.pow(6 - u32::from(fsp));
    u32::try_from(micros)
        .ok()
        .filter(|&m| m < 1_000_000)
        .ok_or_else(|| DecodeError::RowShape(format!("a fraction of {units} units of 10^-{fsp} s is a second or more")))
}

/// MariaDB's pre-10.3 TIME(n), n > 0 (the TABLE_MAP says TIME; `fsp` is the declared one): a
/// big-endian count of 10^-n seconds since -838:59:59.999999 (the zero point is 838:59:59 + 1 s).
fn time_hires(r: &mut ByteReader<'_>, fsp: u8) -> Result<Ascii, DecodeError> {
    const ZERO_POINT_MICROS: i64 = (838 * 3600 + 59 * 60 + 59 + 1) * 1_000_000;
    let scale = 10i64.pow(6 - u32::from(fsp));
    let raw = r.uint_be([3usize, 4, 4, 5, 5, 5, 6][usize::from(fsp)])? as i64;
    let micros = (raw - ZERO_POINT_MICROS / scale) * scale;
    let abs = micros.unsigned_abs();
    let seconds = abs / 1_000_000;
    let mut out = Ascii::default();
    if micros < 0 {
        out.push(b'-');
    }
    push_time(&mut out, [seconds / 3600, seconds / 60 % 60, seconds % 60]);
    push_fraction(&mut out, (abs % 1_000_000) as u32, fsp);
    Ok(out)
}

/// MariaDB's pre-10.3 DATETIME(n), n > 0: a big-endian count of 10^-n seconds of
/// `((((year * 13 + month) * 32 + day) * 24 + hour) * 60 + minute) * 60 + second`.
fn datetime_hires(r: &mut ByteReader<'_>, fsp: u8) -> Result<Ascii, DecodeError> {
    let raw = r.uint_be([5usize, 6, 6, 7, 7, 7, 8][usize::from(fsp)])?;
    let micros = raw
        .checked_mul(10u64.pow(6 - u32::from(fsp)))
        .ok_or_else(|| DecodeError::RowShape(format!("DATETIME({fsp}) value {raw} is out of range")))?;
    let mut rest = micros / 1_000_000;
    let mut next = |base: u64| {
        let part = rest % base;
        rest /= base;
        part
    };
    let (second, minute, hour, day, month) = (next(60), next(60), next(24), next(32), next(13));
    let mut out = Ascii::default();
    push_datetime(&mut out, [rest, month, day], [hour, minute, second]);
    push_fraction(&mut out, (micros % 1_000_000) as u32, fsp);
    Ok(out)
}

fn datetime_v1(v: u64) -> Ascii {
    let date = v / 1_000_000;
    let time = v % 1_000_000;
    let mut out = Ascii::default();
    push_datetime(
        &mut out,
        [date / 10000, (date / 100) % 100, date % 100],
        [time / 10000, (time / 100) % 100, time % 100],
    );
    out
}

fn datetime_v2(r: &mut ByteReader<'_>, fsp: u8) -> Result<Ascii, DecodeError> {
    let int_part = r.uint_be(5)?.wrapping_sub(0x80_0000_0000);
    let micros = fraction_micros(r, fsp)?;
    let ymd = int_part >> 17;
    let ym = ymd >> 5;
    let hms = int_part & 0x1_ffff;
    let mut out = Ascii::default();
    push_datetime(&mut out, [ym / 13, ym % 13, ymd & 0x1f], [hms >> 12, (hms >> 6) & 0x3f, hms & 0x3f]);
    push_fraction(&mut out, micros, fsp);
    Ok(out)
}

fn timestamp(seconds: u64, micros: u32, fsp: u8, opts: &RenderOptions) -> Result<Ascii, DecodeError> {
    let mut out = Ascii::default();
    if seconds == 0 && micros == 0 {
        out.write_str("0000-00-00 00:00:00").expect("fits");
    } else {
        // Four bytes of seconds: within jiff's range, and no overflow below.
        let seconds = i64::try_from(seconds).expect("TIMESTAMP seconds come from 4 bytes");
        let instant = jiff::Timestamp::from_second(seconds)
            .map_err(|e| DecodeError::Malformed(format!("TIMESTAMP {seconds}: {e}")))?;
        let local = seconds + i64::from(opts.time_zone.to_offset(instant).seconds());
        let (days, time) = (local.div_euclid(SECONDS_PER_DAY), local.rem_euclid(SECONDS_PER_DAY).unsigned_abs());
        push_datetime(&mut out, civil_from_days(days), [time / 3600, time / 60 % 60, time % 60]);
    }
    push_fraction(&mut out, micros, fsp);
    Ok(out)
}

const SECONDS_PER_DAY: i64 = 86_400;

/// `[year, month, day]` of the proleptic Gregorian calendar for a count of days since 1970-01-01
/// (years from 1 on). Arithmetic over 400-year eras, with March as the first month so that the
/// leap day ends the year (the method of Howard Hinnant's `civil_from_days`); done here because
/// converting through a calendar type costs more than rendering the rest of the row.
fn civil_from_days(days: i64) -> [u64; 3] {
    const DAYS_PER_ERA: i64 = 146_097;
    // 0000-03-01 is day 0 of era 0.
    let since_0000_03_01 = days + 719_468;
    let era = since_0000_03_01.div_euclid(DAYS_PER_ERA);
    let day_of_era = since_0000_03_01.rem_euclid(DAYS_PER_ERA);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    [year.unsigned_abs(), month.unsigned_abs(), day.unsigned_abs()]
}

/// A DOUBLE as MySQL prints it: the shortest digits that read back as the same double, in fixed
/// notation when the decimal exponent is within −14..=15 (or the number has a fractional part),
/// otherwise as `d.ddde[-]x`.
pub(crate) fn format_double(x: f64) -> Ascii {
    if !x.is_finite() {
        return zero(); // MySQL cannot store these; its formatter prints 0 too
    }
    // Żmij gives the shortest round-trip digits, like MySQL's dtoa mode 0 (as Ryū does, in about
    // half the time).
    let mut shortest = zmij::Buffer::new();
    let digits = shortest.format_finite(x.abs());
    // Its fixed notation (`0.00012`, `123.45`, `7.0`) with at most 15 integer digits is already
    // MySQL's layout once the `.0` of whole numbers goes; anything else (`1.5e-16`, `1e+300`) is
    // laid out digit by digit.
    let bytes = digits.as_bytes();
    let point = bytes.iter().position(|&b| b == b'.');
    if point.is_some_and(|point| point <= 15 && !bytes[point..].contains(&b'e')) {
        let digits = digits.strip_suffix(".0").unwrap_or(digits);
        let mut out = Ascii::default();
        if x.is_sign_negative() {
            out.push(b'-');
        }
        out.push_str(digits);
        return out;
    }
    gcvt_layout(x.is_sign_negative(), digits)
}

/// A FLOAT as MySQL prints it: at most six significant digits (FLT_DIG), same layout as DOUBLE.
fn format_float(x: f32) -> Ascii {
    if !x.is_finite() {
        return zero();
    }
    let mut exp_form = Ascii::default();
    write!(exp_form, "{:.5e}", f64::from(x).abs()).expect("{:.5e} of a float fits 32 bytes");
    gcvt_layout(x.is_sign_negative(), exp_form.as_str())
}

/// A FLOAT(M,D) or DOUBLE(M,D) as the server shows it (measured on MariaDB 10.11), in fixed
/// notation with exactly D decimals: the shortest digits that read back as the same double (a
/// FLOAT is widened to one first) with zeros past them (`100000000000000000000.00`,
/// `0.10000000149011612000`), or, where those digits run past D decimals, the exact value rounded
/// to D, ties to even (`43973.40625` → `43973.4062`); zero has no sign. Up to 255 characters
/// (M ≤ 255), so written straight to `out` rather than through the stack buffer.
fn format_fixed(x: f64, decimals: u8, out: &mut String) {
    let mut shortest = zmij::Buffer::new();
    let (digits, decpt) = significant_digits(if x.is_finite() { shortest.format_finite(x.abs()) } else { "0" });
    let (digits, decimals) = (digits.as_bytes(), i32::from(decimals));
    let start = out.len();
    if digits.len() as i32 > decpt + decimals {
        write!(out, "{:.*}", decimals as usize, x.abs()).expect("writing to a String");
    } else {
        let decpt = if digits.is_empty() { 0 } else { decpt };
        let digit = |at: i32| usize::try_from(at).ok().and_then(|at| digits.get(at)).map_or('0', |&d| char::from(d));
        if decpt <= 0 {
            out.push('0');
        }
        out.extend((0..decpt).map(digit));
        if decimals > 0 {
            out.push('.');
            out.extend((decpt..decpt + decimals).map(digit));
        }
    }
    if x.is_sign_negative() && out[start..].bytes().any(|b| matches!(b, b'1'..=b'9')) {
        out.insert(start, '-');
    }
}

/// A non-negative decimal number's significant digits (no leading or trailing zeros) and where
/// its decimal point goes relative to them: `123.45` → (12345, 3), `0.012` → (12, −1), `1e30` →
/// (1, 31); zero has no digits.
fn significant_digits(number: &str) -> (Ascii, i32) {
    let number = number.as_bytes();
    let (mantissa, exponent) = match number.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(at) => (&number[..at], parse_exponent(&number[at + 1..])),
        None => (number, 0),
    };
    let point = mantissa.iter().position(|b| *b == b'.').unwrap_or(mantissa.len());
    let mut digits = Ascii::default();
    let mut decpt = point as i32 + exponent;
    for &b in mantissa.iter().filter(|b| **b != b'.') {
        if b == b'0' && digits.len() == 0 {
            decpt -= 1;
        } else {
            digits.push(b);
        }
    }
    digits.trim_end(b'0');
    (digits, decpt)
}

/// Lay out a non-negative decimal number (`123.45`, `1.5e-7`, `1e30`) as MySQL's `my_gcvt` does.
fn gcvt_layout(negative: bool, number: &str) -> Ascii {
    let (digits, decpt) = significant_digits(number);
    let mut out = Ascii::default();
    if negative {
        out.push(b'-');
    }
    if digits.len() == 0 {
        out.push(b'0');
        return out;
    }
    let len = digits.len() as i32;
    let digits = digits.as_str();
    if decpt >= -14 && (decpt <= 15 || len > decpt) {
        if decpt <= 0 {
            out.push_str("0.");
            out.push_repeated(b'0', decpt.unsigned_abs() as usize);
            out.push_str(digits);
        } else if decpt < len {
            out.push_str(&digits[..decpt as usize]);
            out.push(b'.');
            out.push_str(&digits[decpt as usize..]);
        } else {
            out.push_str(digits);
            out.push_repeated(b'0', (decpt - len) as usize);
        }
    } else {
        out.push_str(&digits[..1]);
        if len > 1 {
            out.push(b'.');
            out.push_str(&digits[1..]);
        }
        out.push(b'e');
        if decpt - 1 < 0 {
            out.push(b'-');
        }
        out.digits(u64::from((decpt - 1).unsigned_abs()), 1);
    }
    out
}

fn zero() -> Ascii {
    let mut out = Ascii::default();
    out.push(b'0');
    out
}

/// The exponent after a formatted float's `e`: an optional sign and decimal digits.
fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = digits.iter().fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
    if negative { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_and_double_with_declared_decimals_show_all_of_them() {
        let fixed = |x: f64, decimals: u8| {
            let mut out = String::new();
            format_fixed(x, decimals, &mut out);
            out
        };
        // As MariaDB 10.11 shows these values of FLOAT(M,D) and DOUBLE(M,D) columns.
        assert_eq!(fixed(-9972.0, 1), "-9972.0");
        assert_eq!(fixed(2.0, 0), "2");
        assert_eq!(fixed(7334.06640625, 7), "7334.0664062");
        assert_eq!(fixed(-43973.40625, 4), "-43973.4062");
        assert_eq!(fixed(f64::from(-11158242304f32), 4), "-11158242304.0000");
        assert_eq!(fixed(f64::from(1234567890.123f32), 10), "1234567936.0000000000");
        assert_eq!(fixed(f64::from(0.1f32), 20), "0.10000000149011612000");
        assert_eq!(fixed(f64::from(0.1f32), 10), "0.1000000015");
        assert_eq!(fixed(0.1, 30), "0.100000000000000000000000000000");
        assert_eq!(fixed(1e-30, 30), "0.000000000000000000000000000001");
        assert_eq!(fixed(1e20, 2), "100000000000000000000.00");
        assert_eq!(fixed(-9671650574923129000.0, 2), "-9671650574923129000.00");
        assert_eq!(fixed(123456789012345678901234567890.0, 2), "123456789012345680000000000000.00");
        assert_eq!(fixed(-0.0, 2), "0.00");
        assert_eq!(fixed(999.99, 2), "999.99");
        // Rounded where the digits run past D, with the carry; ties to even.
        assert_eq!(fixed(0.0099999, 2), "0.01");
        assert_eq!(fixed(-9.996, 2), "-10.00");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(0.5, 0), "0");
        assert_eq!(fixed(1.5, 0), "2");
        // Appended after what the row already holds, the sign before the digits.
        let mut out = String::from("row ");
        format_fixed(-1.25, 3, &mut out);
        assert_eq!(out, "row -1.250");
    }

    fn codec(t: ColumnType, meta: u16) -> ColumnCodec {
        ColumnCodec::new(t, meta)
    }

    /// Decode one value that must use all of `bytes`.
    fn decode_with(bytes: &[u8], col: &ColumnCodec, opts: &RenderOptions) -> Result<String, DecodeError> {
        let mut r = ByteReader::new(bytes);
        let mut out = String::new();
        decode(&mut r, col, opts, &mut out)?;
        assert!(r.is_empty(), "left {} bytes", r.remaining());
        Ok(out)
    }

    fn decode_bytes(bytes: &[u8], col: &ColumnCodec) -> String {
        decode_with(bytes, col, &RenderOptions::default()).unwrap()
    }

    #[test]
    fn doubles_read_back_exactly() {
        // Bit patterns spread over every exponent (a fixed-seed xorshift), both signs.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            if x.is_finite() {
                let text = format_double(x);
                assert_eq!(text.as_str().parse::<f64>().unwrap(), x, "{x:e} printed as {}", text.as_str());
            }
        }
    }

    #[test]
    fn doubles_as_mariadb_prints_them() {
        // Each pair was read back from MariaDB 10.11 (`SELECT d FROM t`).
        for (x, text) in [
            (1e14, "100000000000000"),
            (1e15, "1e15"),
            (123456789012345678.0, "1.2345678901234568e17"),
            (0.0001, "0.0001"),
            (1.5e-15, "0.0000000000000015"),
            (1.5e-16, "1.5e-16"),
            (std::f64::consts::PI, "3.141592653589793"),
            (-1e-300, "-1e-300"),
            (1e300, "1e300"),
            (0.0, "0"),
            (123456789012345.6, "123456789012345.6"),
            (99999999999999.99, "99999999999999.98"),
            (1.7976931348623157e308, "1.7976931348623157e308"),
            (5e-324, "5e-324"),
            (1234567890123456.0, "1.234567890123456e15"),
            (7.0, "7"),
            (-2.5, "-2.5"),
            (100.0, "100"),
            (1e-5, "0.00001"),
            (333333.3333333333, "333333.3333333333"),
        ] {
            assert_eq!(format_double(x).as_str(), text, "{x:e}");
        }
    }

    #[test]
    fn floats_keep_six_significant_digits() {
        for (x, text) in [
            (1e14f32, "100000000000000"),
            (1e15, "1e15"),
            (1234567.0, "1234570"),
            (std::f32::consts::PI, "3.14159"),
            (12345678.0, "12345700"),
            (0.1, "0.1"),
            (0.000_123_456_79, "0.000123457"),
            (3.4e38, "3.4e38"),
            (-3.4e38, "-3.4e38"),
            (f32::MIN_POSITIVE, "1.17549e-38"),
            (1.5, "1.5"),
        ] {
            assert_eq!(format_float(x).as_str(), text, "{x:e}");
        }
    }

    #[test]
    fn integers_signed_and_unsigned() {
        let mut col = codec(ColumnType::TINY, 0);
        assert_eq!(decode_bytes(&[0xff], &col), "-1");
        col.unsigned = true;
        assert_eq!(decode_bytes(&[0xff], &col), "255");
        let mut col = codec(ColumnType::INT24, 0);
        assert_eq!(decode_bytes(&[0x00, 0x00, 0x80], &col), "-8388608");
        col.unsigned = true;
        assert_eq!(decode_bytes(&[0xff, 0xff, 0xff], &col), "16777215");
        let mut col = codec(ColumnType::LONGLONG, 0);
        col.unsigned = true;
        assert_eq!(decode_bytes(&[0xff; 8], &col), "18446744073709551615");
    }

    #[test]
    fn temporal_values() {
        // DATE 2024-02-29: (2024 << 9) | (2 << 5) | 29
        let v: u32 = (2024 << 9) | (2 << 5) | 29;
        assert_eq!(decode_bytes(&v.to_le_bytes()[..3], &codec(ColumnType::DATE, 0)), "2024-02-29");
        assert_eq!(decode_bytes(&[0, 0, 0], &codec(ColumnType::DATE, 0)), "0000-00-00");
        // DATETIME2(6) 2024-02-29 13:14:15.123456
        let ym: u64 = 2024 * 13 + 2;
        let int_part = (((ym << 5) | 29) << 17) | (13 << 12) | (14 << 6) | 15;
        let mut bytes = (int_part + 0x80_0000_0000).to_be_bytes()[3..].to_vec();
        bytes.extend_from_slice(&123456u32.to_be_bytes()[1..]);
        assert_eq!(decode_bytes(&bytes, &codec(ColumnType::DATETIME2, 6)), "2024-02-29 13:14:15.123456");
        // TIME2(0) 838:59:59 and -838:59:59
        let hms: i64 = (838 << 12) | (59 << 6) | 59;
        let pos = ((hms + 0x80_0000) as u64).to_be_bytes()[5..].to_vec();
        assert_eq!(decode_bytes(&pos, &codec(ColumnType::TIME2, 0)), "838:59:59");
        let neg = ((0x80_0000 - hms) as u64).to_be_bytes()[5..].to_vec();
        assert_eq!(decode_bytes(&neg, &codec(ColumnType::TIME2, 0)), "-838:59:59");
        // TIME2(1) -00:00:01.5: int part -2 + 1, fraction complemented: 0x100 - 50
        let mut neg_frac = ((0x80_0000 - 2) as u64).to_be_bytes()[5..].to_vec();
        neg_frac.push(0x100u16.wrapping_sub(50) as u8);
        assert_eq!(decode_bytes(&neg_frac, &codec(ColumnType::TIME2, 1)), "-00:00:01.5");
        // TIMESTAMP2(3) 1700000000.250 in UTC
        let mut ts = 1_700_000_000u32.to_be_bytes().to_vec();
        ts.extend_from_slice(&2500u16.to_be_bytes());
        assert_eq!(decode_bytes(&ts, &codec(ColumnType::TIMESTAMP2, 3)), "2023-11-14 22:13:20.250");
        assert_eq!(decode_bytes(&[0; 4], &codec(ColumnType::TIMESTAMP2, 0)), "0000-00-00 00:00:00");
        assert_eq!(decode_bytes(&[0], &codec(ColumnType::YEAR, 0)), "0000");
        assert_eq!(decode_bytes(&[124], &codec(ColumnType::YEAR, 0)), "2024");
    }

    #[test]
    fn civil_dates_match_jiff_across_the_timestamp_range() {
        let zones = [jiff::tz::TimeZone::UTC, jiff::tz::TimeZone::fixed(jiff::tz::offset(-11))];
        // Every day from 1969-12-31 to past 2106 (4-byte seconds), at a time of day that varies.
        for day in -1..50_000i64 {
            let seconds = day * SECONDS_PER_DAY + (day * 7919) % SECONDS_PER_DAY;
            for zone in &zones {
                let local =
                    seconds + i64::from(zone.to_offset(jiff::Timestamp::from_second(seconds).unwrap()).seconds());
                let civil = zone.to_datetime(jiff::Timestamp::from_second(seconds).unwrap());
                let expected = [civil.year() as u64, civil.month() as u64, civil.day() as u64];
                assert_eq!(civil_from_days(local.div_euclid(SECONDS_PER_DAY)), expected, "{seconds} in {zone:?}");
            }
        }
        assert_eq!(civil_from_days(-719_162), [1, 1, 1]);
        assert_eq!(civil_from_days(11_016), [2000, 2, 29]);
    }

    #[test]
    fn timestamp_in_a_configured_zone() {
        let opts = RenderOptions { time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(8)), ..Default::default() };
        let ts = [0x65, 0x53, 0xf1, 0x00];
        assert_eq!(decode_with(&ts, &codec(ColumnType::TIMESTAMP2, 0), &opts).unwrap(), "2023-11-15 06:13:20");
    }

    #[test]
    fn strings_enum_set_bit() {
        let mut col = codec(ColumnType::VARCHAR, 80);
        col.charset = Charset::Utf8;
        assert_eq!(decode_bytes(b"\x06h\xc3\xa9llo", &col), "héllo");
        let mut bin = codec(ColumnType::STRING, (254 << 8) | 4);
        bin.charset = Charset::Binary;
        assert_eq!(decode_bytes(b"\x02\xff\x01", &bin), "\u{ff}\u{1}\u{0}\u{0}");
        let base64 = RenderOptions { binary: BinaryEncoding::Base64, ..Default::default() };
        assert_eq!(decode_with(b"\x02\xff\x01", &bin, &base64).unwrap(), "/wEAAA==");
        let hex = RenderOptions { binary: BinaryEncoding::Hex, ..Default::default() };
        assert_eq!(decode_with(b"\x02\xff\x01", &bin, &hex).unwrap(), "FF010000");
        let mut e = codec(ColumnType::STRING, (247 << 8) | 1);
        e.labels = Some(vec!["small".to_owned(), "large".to_owned()].into());
        assert_eq!(decode_bytes(&[2], &e), "large");
        assert_eq!(decode_bytes(&[0], &e), "");
        let mut s = codec(ColumnType::STRING, (248 << 8) | 1);
        s.labels = Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()].into());
        assert_eq!(decode_bytes(&[0b101], &s), "a,c");
        assert_eq!(decode_bytes(&[0x01, 0x02], &codec(ColumnType::BIT, 2 << 8)), "258");
        assert_eq!(decode_bytes(&[0x01], &codec(ColumnType::BIT, 1)), "1");
    }

    #[test]
    fn vectors_as_vector_to_string_prints_them() {
        let bytes: Vec<u8> = [2.0f32, -0.25, 0.0, 1e-7].iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut out = String::new();
        vector(&bytes, &mut out).unwrap();
        assert_eq!(out, "[2.00000e+00,-2.50000e-01,0.00000e+00,1.00000e-07]");
        assert!(vector(&bytes[..5], &mut out).is_err());
    }

    #[test]
    fn invalid_utf8_in_text_column_is_an_error() {
        let col = codec(ColumnType::VARCHAR, 20);
        let invalid = decode_with(b"\x02\xff\xfe", &col, &RenderOptions::default());
        assert!(matches!(invalid, Err(DecodeError::RowShape(_))), "{invalid:?}");
    }
}
