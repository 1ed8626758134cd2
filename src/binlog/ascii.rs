//! A short ASCII text built on the stack. Numbers, dates and decimals are rendered here and then
//! copied into the row image's buffer in one piece: `core::fmt` and per-piece `String` pushes cost
//! several times more per value, and row decoding renders every value of every row.
//!
//! Invariant: the filled part of the buffer is ASCII. Every byte comes from [`AsciiBuf::push`] and
//! [`AsciiBuf::push_repeated`] (which check it), the digit writers, or [`Write::write_str`] (which
//! takes ASCII only), so reading it back as `str` needs no UTF-8 validation — validation cost as much
//! as the rendering itself. Writing past the capacity panics: callers size the buffer for their
//! longest text.

use std::fmt::Write;

/// The buffer most values fit: a DOUBLE in fixed notation (sign, `0.`, 14 zeros, 17 digits: 34
/// bytes), a DATETIME(6) (26), a `{:.5e}` float.
pub(crate) type Ascii = AsciiBuf<40>;

pub(crate) struct AsciiBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for AsciiBuf<N> {
    fn default() -> Self {
        Self { buf: [0; N], len: 0 }
    }
}

impl<const N: usize> AsciiBuf<N> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, b: u8) {
        assert!(b.is_ascii(), "AsciiBuf holds ASCII only");
        self.buf[self.len] = b;
        self.len += 1;
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        self.write_str(s).expect("AsciiBuf::push_str of ASCII that fits");
    }

    /// Repeat `b` `n` times.
    pub(crate) fn push_repeated(&mut self, b: u8, n: usize) {
        assert!(b.is_ascii(), "AsciiBuf holds ASCII only");
        self.buf[self.len..self.len + n].fill(b);
        self.len += n;
    }

    /// `v` in decimal, zero-padded to at least `width` digits (written right to left in place).
    pub(crate) fn digits(&mut self, mut v: u64, width: usize) {
        let start = self.len;
        let mut i = start + decimal_len(v).max(width);
        self.len = i;
        while v >= 100 {
            let pair = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            self.buf[i] = DIGIT_PAIRS[pair];
            self.buf[i + 1] = DIGIT_PAIRS[pair + 1];
        }
        if v >= 10 {
            let pair = v as usize * 2;
            i -= 2;
            self.buf[i] = DIGIT_PAIRS[pair];
            self.buf[i + 1] = DIGIT_PAIRS[pair + 1];
        } else {
            i -= 1;
            self.buf[i] = b'0' + v as u8;
        }
        // A loop, not `fill`: padding is rare and short, and `fill` calls memset every time.
        for b in &mut self.buf[start..i] {
            *b = b'0';
        }
    }

    /// `v` (below 100) as two digits.
    pub(crate) fn pair(&mut self, v: u64) {
        let at = (v % 100) as usize * 2;
        self.buf[self.len..self.len + 2].copy_from_slice(&DIGIT_PAIRS[at..at + 2]);
        self.len += 2;
    }

    /// Append bytes laid out in full by the caller (a date with its separators).
    pub(crate) fn push_array<const M: usize>(&mut self, bytes: [u8; M]) {
        assert!(bytes.is_ascii(), "AsciiBuf holds ASCII only");
        self.buf[self.len..self.len + M].copy_from_slice(&bytes);
        self.len += M;
    }

    /// Drop trailing `b` bytes (ASCII, so no character is cut).
    pub(crate) fn trim_end(&mut self, b: u8) {
        while self.len > 0 && self.buf[self.len - 1] == b {
            self.len -= 1;
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub(crate) fn as_str(&self) -> &str {
        debug_assert!(self.as_bytes().is_ascii());
        // SAFETY: the filled part is ASCII (the module's invariant), hence UTF-8.
        unsafe { std::str::from_utf8_unchecked(self.as_bytes()) }
    }
}

impl<const N: usize> Write for AsciiBuf<N> {
    /// ASCII only: anything else is an error, so the invariant holds.
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if !s.is_ascii() {
            return Err(std::fmt::Error);
        }
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// How many decimal digits `v` has (1 for 0): a guess from its bit length (1233 / 4096 is just
/// under log10 2), corrected by one comparison. Cheaper than `ilog10`, which runs for every number.
fn decimal_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    let guess = (bits * 1233) >> 12;
    // `| 1` makes 0 count as one digit and moves no other number across a power of ten (those are
    // even, so an even `v` below one stays below it).
    guess + usize::from((v | 1) >= POWERS_OF_TEN[guess])
}

/// 10⁰ to 10¹⁹.
pub(crate) const POWERS_OF_TEN: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `v % 100` as two ASCII digits.
pub(crate) fn digit_pair(v: u64) -> [u8; 2] {
    let at = (v % 100) as usize * 2;
    [DIGIT_PAIRS[at], DIGIT_PAIRS[at + 1]]
}

/// "00" to "99", two bytes each.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_pad_and_pairs() {
        let mut out = Ascii::default();
        out.digits(0, 1);
        out.push(b' ');
        out.digits(7, 4);
        out.push(b' ');
        out.digits(u64::MAX, 1);
        out.push(b' ');
        out.pair(5);
        out.push_array([b' ', digit_pair(142)[0], digit_pair(142)[1]]);
        assert_eq!(out.as_str(), "0 0007 18446744073709551615 05 42");
    }

    #[test]
    fn decimal_len_at_every_power_of_ten() {
        assert_eq!(decimal_len(0), 1);
        assert_eq!(decimal_len(u64::MAX), 20);
        for (i, p) in POWERS_OF_TEN.iter().enumerate() {
            assert_eq!(decimal_len(*p), i + 1, "{p}");
            if *p > 1 {
                assert_eq!(decimal_len(p - 1), i, "{}", p - 1);
            }
        }
    }

    #[test]
    fn only_ascii_goes_in() {
        let mut out = Ascii::default();
        assert!(write!(out, "é").is_err());
        assert!(write!(out, "{:.5e}", 1.5).is_ok());
        assert_eq!(out.as_str(), "1.50000e0");
        out.trim_end(b'0');
        assert_eq!(out.as_str(), "1.50000e");
        assert!(std::panic::catch_unwind(|| Ascii::default().push(0xc3)).is_err());
    }
}
