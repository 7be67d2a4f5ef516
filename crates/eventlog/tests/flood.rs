//! Flood control through the real writer: folded copies are counted, and the count is
//! written when the window ends, on flush and on shutdown.

mod common;

use common::*;
use securechannel_eventlog::{FloodControl, LogOptions, LogReader, Query};
use securechannel_events::{EventId, EventRecord, EventSink, UnixNanos};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> UnixNanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn flood_options(threshold: u32, window: Duration) -> LogOptions {
    LogOptions {
        flood: FloodControl {
            enabled: true,
            threshold,
            window,
            max_tracked: 10_000,
        },
        ..LogOptions::default()
    }
}

fn stored_plus_folded(records: &[EventRecord]) -> u64 {
    // A summary stands for its count of folded copies; a plain record for itself.
    records.iter().map(|r| r.fold.map_or(1, |f| f.count)).sum()
}

#[test]
fn flush_writes_the_count_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), flood_options(5, Duration::from_secs(3600)));
    let t = now();
    for i in 0..1_000 {
        log.emit(alert_received("46", t + i));
    }
    // A different data value is another pair, not folded with the first.
    for i in 0..3 {
        log.emit(alert_received("48", t + i));
    }
    log.sync().unwrap();
    let records = all(&log);
    let plain: Vec<&EventRecord> = records.iter().filter(|r| r.fold.is_none()).collect();
    let summaries: Vec<&EventRecord> = records.iter().filter(|r| r.fold.is_some()).collect();
    assert_eq!(plain.len(), 5 + 3);
    assert_eq!(summaries.len(), 1);
    let s = summaries[0];
    assert_eq!(s.event_id, EventId::FatalAlertReceived);
    assert_eq!(s.data, vec!["46".to_string()]);
    assert_eq!(s.fold, folded(995, t + 5, t + 999));
    // Every emitted event is accounted for: stored, or counted in a summary.
    assert_eq!(records.len() as u64 - 1 + 995, 1_003);
    // Later copies in the same window are counted again, into a new summary.
    for i in 0..10 {
        log.emit(alert_received("46", t + 2_000 + i));
    }
    log.sync().unwrap();
    let counts: Vec<u64> = all(&log)
        .iter()
        .filter_map(|r| r.fold.map(|f| f.count))
        .collect();
    assert_eq!(counts, vec![995, 10]);
}

#[test]
fn summary_is_written_when_the_window_ends() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), flood_options(2, Duration::from_millis(300)));
    let t = now();
    for i in 0..50 {
        log.emit(alert_generated("40", "1205", t + i));
    }
    // No flush: the writer ends the window on its own (it wakes up every batch window
    // while a flood window is open).
    let reader = LogReader::open(dir.path().join("events.db")).unwrap();
    let summary_seen = eventually(Duration::from_secs(5), || {
        reader
            .query(&Query::new())
            .unwrap()
            .iter()
            .any(|r| r.fold.is_some())
    });
    assert!(summary_seen, "no summary after the window ended");
    let records = reader.query(&Query::new().oldest_first()).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2].fold, folded(48, t + 2, t + 49));
    assert_eq!(stored_plus_folded(&records), 50);
    // After the window, the same event is stored again one by one.
    log.emit(alert_generated("40", "1205", now()));
    log.sync().unwrap();
    let last = &reader.query(&Query::new().count(1)).unwrap()[0];
    assert!(last.fold.is_none());
}

#[test]
fn shutdown_writes_pending_counts() {
    let dir = tempfile::tempdir().unwrap();
    let t = now();
    {
        let log = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
        for i in 0..100 {
            log.emit(record(EventId::NoSharedCipherSuite, &["SSL 3.0"], t + i));
        }
    }
    let reader = LogReader::open(dir.path().join("events.db")).unwrap();
    let records = reader.query(&Query::new().oldest_first()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].fold, folded(99, t + 1, t + 99));
}

#[test]
fn off_stores_every_copy() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = flood_options(1, Duration::from_secs(3600));
    opts.flood.enabled = false;
    let log = open(dir.path(), opts);
    let t = now();
    for i in 0..500 {
        log.emit(alert_received("46", t + i));
    }
    log.sync().unwrap();
    let records = all(&log);
    assert_eq!(records.len(), 500);
    assert!(records.iter().all(|r| r.fold.is_none()));
}

#[test]
fn summaries_render_with_their_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
    let t = now();
    for i in 0..4 {
        log.emit(alert_received("46", t + i));
    }
    log.sync().unwrap();
    let s = &log.query(&Query::new().count(1)).unwrap()[0];
    let xml = securechannel_events::render_xml(s);
    assert!(xml.contains("<Data Name=\"FoldedCount\">3</Data>"), "{xml}");
    assert!(xml.contains("<Data Name=\"AlertDesc\">46</Data>"), "{xml}");
}
