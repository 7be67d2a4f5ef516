//! [`Fields`]: a record's insertion strings in one allocation.
//!
//! A record is built on the thread that does TLS and freed on the log's writer thread.
//! As a `Vec<String>` a 36880 was 13 allocations (12 fields and the vector), each one a
//! malloc on the TLS thread, a free on the writer thread (glibc's slow path for memory
//! of another thread's arena) and a cache line to move between cores. Here the values
//! share one `String`, the ends of the values sit inline (up to [`INLINE_FIELDS`]), and
//! a value written with [`Fields::push_display`] is formatted straight into the text.

use smallvec::SmallVec;
use std::fmt::{self, Write as _};
use std::ops::Index;

/// Records with up to this many fields keep their field boundaries inline (36880, the
/// widest in the catalog, has 12).
pub const INLINE_FIELDS: usize = 12;

/// The insertion strings of a record (`%1`, `%2`, ...), in catalog order.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Fields {
    /// Every value, one after the other.
    text: String,
    /// Where each value ends in `text` (the next one starts there).
    ends: SmallVec<[u32; INLINE_FIELDS]>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// No fields yet, room for `bytes` bytes of text.
    pub fn with_capacity(bytes: usize) -> Fields {
        Fields {
            text: String::with_capacity(bytes),
            ends: SmallVec::new(),
        }
    }

    /// How many fields.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of all values together (what the log's JSON encoding reserves for).
    #[inline]
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// All values one after the other, with nothing between them (to scan every value
    /// at once, as the log's JSON encoder does for characters to escape).
    #[inline]
    pub fn concatenated(&self) -> &str {
        &self.text
    }

    /// Append a value.
    #[inline]
    pub fn push(&mut self, value: &str) {
        self.text.push_str(value);
        self.close_field();
    }

    /// Append a value formatted in place (no intermediate `String`).
    pub fn push_display(&mut self, value: impl fmt::Display) {
        // Writing into a String cannot fail; a Display that reports an error leaves what
        // it wrote, as `to_string` would panic instead.
        let _ = write!(self.text, "{value}");
        self.close_field();
    }

    /// Append `v` in decimal, as `{v}` prints it, without the formatting machinery.
    pub fn push_decimal(&mut self, v: u64) {
        let mut digits = [0u8; 20];
        let at = decimal_digits(v, &mut digits);
        self.push_ascii(&digits[at..]);
    }

    /// Append `v` as `0x` and upper-case hex digits, at least `min_digits` of them (as
    /// `0x{v:0min_digits$X}` prints it), without the formatting machinery.
    pub fn push_hex(&mut self, v: u64, min_digits: usize) {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [0u8; 18];
        out[..2].copy_from_slice(b"0x");
        let significant = (64 - v.leading_zeros() as usize)
            .div_ceil(4)
            .max(min_digits.min(16))
            .max(1);
        for (k, i) in (0..significant).rev().enumerate() {
            out[2 + k] = DIGITS[((v >> (4 * i)) & 0xF) as usize];
        }
        self.push_ascii(&out[..2 + significant]);
    }

    fn push_ascii(&mut self, ascii: &[u8]) {
        // Digits are ASCII, so always UTF-8.
        self.push(std::str::from_utf8(ascii).unwrap_or_default());
    }

    fn close_field(&mut self) {
        let end = match u32::try_from(self.text.len()) {
            Ok(end) => end,
            Err(_) => {
                // Over 4 GiB of text, which no record holds: the value is dropped rather
                // than its boundary wrapped.
                let start = self.ends.last().copied().unwrap_or(0);
                self.text.truncate(start as usize);
                start
            }
        };
        self.ends.push(end);
    }

    #[inline]
    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.ends[i - 1] as usize
        }
    }

    /// The value of field `i` (0-based), if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        Some(&self.text[self.start(i)..end])
    }

    /// The first value.
    #[inline]
    pub fn first(&self) -> Option<&str> {
        self.get(0)
    }

    /// The last value.
    pub fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The values in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            fields: self,
            front: 0,
            back: self.len(),
        }
    }

    /// Make it `n` fields: empty values are appended, or the last ones removed.
    pub fn resize(&mut self, n: usize) {
        if n < self.len() {
            self.text.truncate(self.start(n));
            self.ends.truncate(n);
        } else {
            while self.len() < n {
                self.push("");
            }
        }
    }

    /// Replace the value of field `i`; `false` (and nothing changed) if there is none.
    pub fn set(&mut self, i: usize, value: &str) -> bool {
        let Some(old_end) = self.ends.get(i).map(|&e| e as usize) else {
            return false;
        };
        let start = self.start(i);
        self.text.replace_range(start..old_end, value);
        let delta = value.len() as i64 - (old_end - start) as i64;
        for e in &mut self.ends[i..] {
            *e = (i64::from(*e) + delta) as u32;
        }
        true
    }

    /// The values as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Index<usize> for Fields {
    type Output = str;

    #[inline]
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(v) => v,
            None => panic!("field {i} of a record with {} fields", self.len()),
        }
    }
}

/// The values of [`Fields`], in order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    fields: &'a Fields,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.front == self.back {
            return None;
        }
        let v = self.fields.get(self.front);
        self.front += 1;
        v
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        self.fields.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Fields {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    #[inline]
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Fields {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Fields {
        let mut f = Fields::new();
        for v in iter {
            f.push(v.as_ref());
        }
        f
    }
}

impl<S: AsRef<str>> Extend<S> for Fields {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        for v in iter {
            self.push(v.as_ref());
        }
    }
}

impl From<Vec<String>> for Fields {
    fn from(v: Vec<String>) -> Fields {
        v.iter().collect()
    }
}

impl From<&[String]> for Fields {
    fn from(v: &[String]) -> Fields {
        v.iter().collect()
    }
}

impl From<&[&str]> for Fields {
    fn from(v: &[&str]) -> Fields {
        v.iter().collect()
    }
}

impl From<Vec<&str>> for Fields {
    fn from(v: Vec<&str>) -> Fields {
        v.iter().collect()
    }
}

impl<const N: usize> From<[&str; N]> for Fields {
    fn from(v: [&str; N]) -> Fields {
        v.iter().collect()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Fields {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Fields {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Fields {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<&[S]> for Fields {
    fn eq(&self, other: &&[S]) -> bool {
        *self == other[..]
    }
}

/// Write `v`'s decimal digits at the end of `digits` and return where they start: what
/// `{v}` prints, without the formatting machinery (for hot paths that append numbers).
pub fn decimal_digits(mut v: u64, digits: &mut [u8; 20]) -> usize {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_as_pushed() {
        let mut f = Fields::new();
        f.push("server");
        f.push_display(0x1302);
        f.push("");
        f.push("CN=é, O=\"x\"");
        assert_eq!(f.len(), 4);
        assert_eq!(f, ["server", "4866", "", "CN=é, O=\"x\""]);
        assert_eq!(&f[1], "4866");
        assert_eq!(f.get(4), None);
        assert_eq!(f.first(), Some("server"));
        assert_eq!(f.last(), Some("CN=é, O=\"x\""));
        assert_eq!(f.iter().next_back(), Some("CN=é, O=\"x\""));
        assert_eq!(f.iter().len(), 4);
        assert_eq!(f.to_vec(), vec!["server", "4866", "", "CN=é, O=\"x\""]);
        assert_eq!(
            format!("{f:?}"),
            r#"["server", "4866", "", "CN=é, O=\"x\""]"#
        );
    }

    #[test]
    fn decimal_and_hex_print_as_format_does() {
        let values = [
            0u64,
            1,
            9,
            10,
            0x1302,
            0xC02C,
            65_535,
            0x7f3a_0000_00c0,
            u32::MAX as u64,
            u64::MAX,
        ];
        for v in values {
            let mut f = Fields::new();
            f.push_decimal(v);
            f.push_hex(v, 4);
            f.push_hex(v, 1);
            f.push_hex(v, 16);
            let want = [
                format!("{v}"),
                format!("0x{v:04X}"),
                format!("0x{v:X}"),
                format!("0x{v:016X}"),
            ];
            assert_eq!(f, want, "{v}");
        }
    }

    #[test]
    fn resize_pads_and_cuts() {
        let mut f = Fields::from(["a", "bb", "ccc"]);
        f.resize(5);
        assert_eq!(f, ["a", "bb", "ccc", "", ""]);
        f.resize(2);
        assert_eq!(f, ["a", "bb"]);
        f.push("d");
        assert_eq!(f, ["a", "bb", "d"]);
        f.resize(0);
        assert!(f.is_empty());
        assert_eq!(f.text_len(), 0);
    }

    #[test]
    fn set_replaces_one_value_and_moves_the_rest() {
        let mut f = Fields::from(["a", "bb", "ccc"]);
        assert!(f.set(1, "longer value"));
        assert_eq!(f, ["a", "longer value", "ccc"]);
        assert!(f.set(0, ""));
        assert_eq!(f, ["", "longer value", "ccc"]);
        assert!(f.set(2, "z"));
        assert_eq!(f, ["", "longer value", "z"]);
        assert!(!f.set(3, "none"));
        assert_eq!(f, ["", "longer value", "z"]);
    }

    #[test]
    fn more_fields_than_inline_spill_and_stay_right() {
        let f: Fields = (0..40).map(|i| format!("v{i}")).collect();
        assert_eq!(f.len(), 40);
        assert!((0..40).all(|i| f[i] == *format!("v{i}")));
    }

    #[test]
    fn equal_values_are_equal_fields_and_hash_alike() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        let a = Fields::from(["ab", "c"]);
        let b: Fields = vec!["ab".to_string(), "c".to_string()].into();
        // Same text, different boundaries: not equal.
        let c = Fields::from(["a", "bc"]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let h = |f: &Fields| {
            let mut s = DefaultHasher::new();
            f.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&a), h(&b));
    }
}
