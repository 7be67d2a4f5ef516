//! UTC timestamps: nanoseconds since the Unix epoch, formatted and parsed as RFC 3339.
//!
//! A small civil-date conversion (Howard Hinnant's days-from-civil algorithm) keeps this
//! crate free of a date library.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since 1970-01-01T00:00:00Z (valid until 2262).
pub type UnixNanos = i64;

/// The current time in nanoseconds since the epoch.
pub fn now_nanos() -> UnixNanos {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_nanos().min(i64::MAX as u128) as i64),
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format as Windows prints `SystemTime`: `2020-08-05T12:16:37.933329200Z` (7 fractional
/// digits, 100 ns, as Windows' FILETIME has; `digits` may ask for 0-9).
pub fn format_rfc3339(t: UnixNanos, digits: usize) -> String {
    let secs = t.div_euclid(1_000_000_000);
    let nanos = t.rem_euclid(1_000_000_000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86400));
    let sod = secs.rem_euclid(86400);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        y,
        mo,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    let digits = digits.min(9);
    if digits > 0 {
        let frac = format!("{:09}", nanos);
        s.push('.');
        s.push_str(&frac[..digits]);
    }
    s.push('Z');
    s
}

/// Parse an RFC 3339 timestamp (`2026-11-25T10:00:00Z`, `2026-11-25T10:00:00.5+01:00`,
/// or a bare date `2026-11-25`, taken as midnight UTC).
pub fn parse_rfc3339(s: &str) -> Result<UnixNanos, String> {
    let err = || format!("'{s}' is not an RFC 3339 time (expected e.g. 2026-11-25T10:00:00Z)");
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = b.get(r).ok_or_else(err)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        Ok(part.iter().fold(0i64, |a, c| a * 10 + (c - b'0') as i64))
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(err());
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo as u32) {
        return Err(err());
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    // Checked: a year outside 1677-2262 does not fit i64 nanoseconds, and must be an error
    // rather than a panic or a wrapped time.
    let to_nanos = |secs: i64, nanos: i64| {
        secs.checked_mul(1_000_000_000)
            .and_then(|n| n.checked_add(nanos))
            .ok_or_else(|| format!("'{s}' is outside the range of event times (1677 to 2262)"))
    };
    if b.len() == 10 {
        return to_nanos(days * 86400, 0);
    }
    if !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b.len() < 19 {
        return Err(err());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(err());
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return Err(err());
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(err());
        }
        let frac = &b[start..i.min(start + 9)];
        nanos = frac.iter().fold(0i64, |a, c| a * 10 + (c - b'0') as i64)
            * 10i64.pow(9 - frac.len() as u32);
    }
    let offset = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return Err(err());
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        None => 0,
        _ => return Err(err()),
    };
    let secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    to_nanos(secs, nanos)
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_windows() {
        let t = parse_rfc3339("2020-08-05T12:16:37.933329200Z").unwrap();
        assert_eq!(format_rfc3339(t, 7), "2020-08-05T12:16:37.9333292Z");
        assert_eq!(format_rfc3339(t, 9), "2020-08-05T12:16:37.933329200Z");
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn parses_offsets_and_dates() {
        assert_eq!(
            parse_rfc3339("2026-11-25T11:00:00+01:00").unwrap(),
            parse_rfc3339("2026-11-25T10:00:00Z").unwrap()
        );
        assert_eq!(
            parse_rfc3339("2026-11-25").unwrap(),
            parse_rfc3339("2026-11-25T00:00:00Z").unwrap()
        );
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-11-25T10:00",
            "2026-11-25T10:00:00Q",
            "x026-11-25",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_across_eras() {
        for t in [
            0i64,
            1,
            951_782_400_000_000_000,
            4_102_444_800_123_456_789,
            -86_400_000_000_000,
        ] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t, 9)).unwrap(), t);
        }
    }
}
