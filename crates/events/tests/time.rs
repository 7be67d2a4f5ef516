//! RFC 3339 parsing at the edges: input-derived values must give errors, never panics or
//! silently wrapped times.

use securechannel_events::{format_rfc3339, parse_rfc3339};

#[test]
fn times_outside_the_nanosecond_range_are_errors_not_overflows() {
    // i64 nanoseconds cover 1677-09-21 to 2262-04-11.
    for s in [
        "9999-12-31",
        "2263-01-01T00:00:00Z",
        "1000-01-01",
        "0000-01-01T00:00:00Z",
    ] {
        let err = parse_rfc3339(s).expect_err(s);
        assert!(err.contains(s), "{err}");
    }
    let last = parse_rfc3339("2262-04-11T23:47:16.854775807Z").expect("the last nanosecond");
    assert_eq!(last, i64::MAX);
    assert_eq!(format_rfc3339(last, 9), "2262-04-11T23:47:16.854775807Z");
}

#[test]
fn impossible_dates_and_offsets_are_errors() {
    for s in [
        "2026-02-30",
        "2026-02-29",
        "2026-04-31T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T10:00:00+24:00",
        "2026-11-25T10:00:00+01:60",
    ] {
        assert!(parse_rfc3339(s).is_err(), "{s}");
    }
    assert!(parse_rfc3339("2024-02-29").is_ok());
    assert!(parse_rfc3339("2000-02-29").is_ok());
    assert!(parse_rfc3339("2026-11-25T10:00:00-23:59").is_ok());
}

#[test]
fn non_ascii_input_is_an_error_not_a_panic() {
    for s in [
        "2026-11-25T10:00:00.é",
        "2026-11-25T10:00:00Zé",
        "２０２６-11-25",
        "2026-11-25T10:00:00+0é:00",
    ] {
        assert!(parse_rfc3339(s).is_err(), "{s}");
    }
}
