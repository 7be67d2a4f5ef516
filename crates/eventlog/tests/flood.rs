//! Flood control through the real writer: folded copies are counted, and the count is
//! written when the window ends, on flush and on shutdown.

mod common;

use common::*;
use securechannel_eventlog::{FloodControl, LogOptions, LogReader, PendingFold, Query};
use securechannel_events::{format_rfc3339, EventId, EventRecord, EventSink, UnixNanos};
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

/// Record order is time order: a summary carries the time its window ended, when the
/// writer writes it, not the time of the last copy it folded; so the records stored
/// after the burst and before the window ended come before it in both orders.
#[test]
fn record_order_is_time_order_across_a_window_end() {
    let dir = tempfile::tempdir().unwrap();
    let window = Duration::from_millis(300);
    let log = open(dir.path(), flood_options(2, window));
    let t = now();
    for i in 0..50 {
        log.emit(alert_received("46", t + i));
    }
    // Other events during the window: stored at once, later than every copy.
    for d in ["48", "40", "70"] {
        log.emit(alert_received(d, now()));
    }
    let reader = LogReader::open(dir.path().join("events.db")).unwrap();
    let summary_seen = eventually(Duration::from_secs(5), || {
        reader
            .query(&Query::new())
            .unwrap()
            .iter()
            .any(|r| r.fold.is_some())
    });
    assert!(summary_seen, "no summary after the window ended");
    log.emit(alert_received("42", now()));
    log.sync().unwrap();
    let records = reader.query(&Query::new().oldest_first()).unwrap();
    assert_eq!(records.len(), 2 + 3 + 1 + 1);
    for pair in records.windows(2) {
        assert!(
            pair[1].time >= pair[0].time,
            "record {} ({}) is older than record {} ({})",
            pair[1].record_id,
            pair[1].time,
            pair[0].record_id,
            pair[0].time
        );
    }
    let s = records.iter().find(|r| r.fold.is_some()).unwrap();
    // The copies' times are kept in the fold; the record's own is the window's end.
    assert_eq!(s.fold, folded(48, t + 2, t + 49));
    assert_eq!(s.time, t + window.as_nanos() as i64);
    // Every rendering shows both: the copies' first and last, and the summary's time.
    let (first, last, written) = (
        format_rfc3339(t + 2, 9),
        format_rfc3339(t + 49, 9),
        format_rfc3339(s.time, 9),
    );
    let xml = securechannel_events::render_xml(s);
    assert!(
        xml.contains(&format!("<TimeCreated SystemTime=\"{written}\" />")),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<Data Name=\"FoldedFirst\">{first}</Data>")),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<Data Name=\"FoldedLast\">{last}</Data>")),
        "{xml}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&securechannel_events::render_json(s)).unwrap();
    assert_eq!(json["TimeCreated"], written.as_str());
    assert_eq!(json["Folded"]["First"], first.as_str());
    assert_eq!(json["Folded"]["Last"], last.as_str());
    let text = securechannel_events::render_text(s, 0);
    assert!(
        text.contains(&format!("  Date: {}\n", format_rfc3339(s.time, 3))),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "from {} to {}",
            format_rfc3339(t + 2, 3),
            format_rfc3339(t + 49, 3)
        )),
        "{text}"
    );
}

/// Right after a burst, before its window ends, a reader of the file (as another process
/// would open it) sees how many copies are folded; when the window ends, the summary is
/// there and the pending count gone, in the same commit.
#[test]
fn pending_counts_are_visible_until_the_window_ends() {
    let dir = tempfile::tempdir().unwrap();
    let window = Duration::from_secs(4);
    let log = open(dir.path(), flood_options(2, window));
    let t = now();
    for i in 0..1_000 {
        log.emit(alert_received("46", t + i));
    }
    for i in 0..20 {
        log.emit(alert_generated("40", "1205", t + 1_000 + i));
    }
    let reader = LogReader::open(dir.path().join("events.db")).unwrap();
    let mut pending = Vec::new();
    assert!(
        eventually(Duration::from_secs(3), || {
            pending = reader.pending_folds().unwrap();
            pending.iter().map(|p| p.count).sum::<u64>() == 998 + 18
        }),
        "{pending:?}"
    );
    assert!(
        now() < t + window.as_nanos() as i64,
        "seen before the window ended"
    );
    let window_end = t + window.as_nanos() as i64;
    assert_eq!(
        pending,
        vec![
            PendingFold {
                event_id: EventId::FatalAlertReceived,
                data: vec!["46".into()],
                count: 998,
                first: t + 2,
                last: t + 999,
                window_end,
                process_id: std::process::id(),
            },
            PendingFold {
                event_id: EventId::FatalAlertGenerated,
                data: vec!["40".into(), "1205".into(), "client.example.net".into()],
                count: 18,
                first: t + 1_002,
                last: t + 1_019,
                window_end: window_end + 1_000,
                process_id: std::process::id(),
            },
        ]
    );
    assert!(
        reader
            .query(&Query::new())
            .unwrap()
            .iter()
            .all(|r| r.fold.is_none()),
        "no summary before the window ends"
    );
    // The window ends: summaries in, pending counts out.
    assert!(eventually(Duration::from_secs(10), || {
        reader.pending_folds().unwrap().is_empty()
    }));
    let records = reader.query(&Query::new().oldest_first()).unwrap();
    let counts: Vec<u64> = records
        .iter()
        .filter_map(|r| r.fold.map(|f| f.count))
        .collect();
    assert_eq!(counts, vec![998, 18]);
    assert_eq!(records[4].time, window_end);
    assert_eq!(stored_plus_folded(&records), 1_020);
}

/// A flush writes the counts as summaries and clears the pending ones; copies folded
/// after it show as pending again.
#[test]
fn flush_moves_pending_counts_into_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
    let t = now();
    for i in 0..10 {
        log.emit(alert_received("46", t + i));
    }
    assert!(eventually(Duration::from_secs(3), || {
        log.pending_folds().unwrap().first().map(|p| p.count) == Some(9)
    }));
    log.sync().unwrap();
    assert!(log.pending_folds().unwrap().is_empty());
    assert_eq!(
        all(&log).last().and_then(|r| r.fold).map(|f| f.count),
        Some(9)
    );
    for i in 10..15 {
        log.emit(alert_received("46", t + i));
    }
    assert!(eventually(Duration::from_secs(3), || {
        log.pending_folds().unwrap().first().map(|p| p.count) == Some(5)
    }));
    drop(log);
    let reader = LogReader::open(dir.path().join("events.db")).unwrap();
    assert!(
        reader.pending_folds().unwrap().is_empty(),
        "shutdown writes the summary"
    );
    assert_eq!(
        stored_plus_folded(&reader.query(&Query::new()).unwrap()),
        15
    );
}

/// Two writers of one file keep their own pending rows: one flushing or closing does
/// not erase the other's.
#[test]
fn writers_keep_their_own_pending_counts() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
    let b = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
    let t = now();
    for i in 0..5 {
        a.emit(alert_received("46", t + i));
        b.emit(alert_received("48", t + i));
    }
    let counts = |log: &securechannel_eventlog::EventLog| -> Vec<(String, u64)> {
        log.pending_folds()
            .unwrap()
            .into_iter()
            .map(|p| (p.data[0].clone(), p.count))
            .collect()
    };
    assert!(eventually(Duration::from_secs(3), || counts(&a).len() == 2));
    b.close().unwrap();
    assert_eq!(counts(&a), vec![("46".to_string(), 4)]);
}

/// A version 2 log from before `flood_pending` (its schema exactly, no such table) reads
/// as having no open window, and gets the table from the first writer that folds.
#[test]
fn a_version_2_log_without_the_pending_table_gets_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "PRAGMA page_size=8192; PRAGMA journal_mode=WAL;
             CREATE TABLE events (record_id INTEGER PRIMARY KEY, time INTEGER NOT NULL, event_id INTEGER NOT NULL, computer TEXT NOT NULL, process_id INTEGER NOT NULL, thread_id INTEGER NOT NULL, activity_id BLOB, d0 TEXT, data TEXT NOT NULL, binary BLOB, fold_count INTEGER, fold_first INTEGER, fold_last INTEGER, fold_reason INTEGER);
             CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE time_marks (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, min_time INTEGER NOT NULL, max_time INTEGER NOT NULL, records INTEGER NOT NULL);
             CREATE INDEX events_by_id ON events(event_id);
             CREATE INDEX events_by_first_field ON events(event_id, d0) WHERE event_id != 36880;
             PRAGMA user_version=2; PRAGMA application_id=1396919374;",
        )
        .unwrap();
    }
    let reader = LogReader::open(&db).unwrap();
    assert!(reader.pending_folds().unwrap().is_empty());
    let log = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
    let t = now();
    for i in 0..3 {
        log.emit(alert_received("46", t + i));
    }
    assert!(eventually(Duration::from_secs(3), || {
        reader.pending_folds().unwrap().first().map(|p| p.count) == Some(2)
    }));
    let version = schema_version(&db);
    // The writer migrated the log to version 4 for `packed` (the table of packed 36880s, and its `strings`);
    // `flood_pending` itself never needed a version.
    assert_eq!(version, 4);
}

/// A row left by a writer that was killed (its window long over, no summary) is shown
/// until the next writer that updates the table deletes it.
#[test]
fn a_stopped_writers_overdue_row_is_deleted_by_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), flood_options(1, Duration::from_secs(3600)));
    let long_ago = now() - 3_600_000_000_000;
    rusqlite::Connection::open(dir.path().join("events.db"))
        .unwrap()
        .execute(
            "INSERT INTO flood_pending VALUES (1, 0, 1, 36887, '[\"70\"]', 500, ?1, ?1, ?1)",
            [long_ago],
        )
        .unwrap();
    let pending = log.pending_folds().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].window_end, long_ago);
    let t = now();
    for i in 0..3 {
        log.emit(alert_received("46", t + i));
    }
    assert!(eventually(Duration::from_secs(3), || {
        let p = log.pending_folds().unwrap();
        p.len() == 1 && p[0].data == vec!["46".to_string()]
    }));
}
