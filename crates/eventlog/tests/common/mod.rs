//! Shared helpers of the event log tests: realistic records and quick log setup.
#![allow(dead_code)] // each test file uses a different subset

use securechannel_eventlog::{EventLog, FloodControl, LogOptions, Query};
use securechannel_events::{ActivityId, EventId, EventRecord, Fold, FoldReason, UnixNanos};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const T0: UnixNanos = 1_795_000_000_123_456_789; // 2026-11-18T..., ns precision

pub fn record(id: EventId, data: &[&str], time: UnixNanos) -> EventRecord {
    EventRecord {
        record_id: 0,
        time,
        event_id: id,
        computer: Arc::from("web-01"),
        process_id: 4242,
        thread_id: 4243,
        activity_id: None,
        data: data.iter().collect(),
        binary: None,
        fold: None,
    }
}

/// A 36880 as a server logs it after a TLS 1.3 handshake.
pub fn handshake(time: UnixNanos, activity: ActivityId) -> EventRecord {
    let mut r = record(
        EventId::HandshakeCompleted,
        &[
            "server",
            "TLS 1.3",
            "AES_256_GCM",
            "256",
            "AEAD",
            "X25519",
            "255",
            "0x1302",
            "0x1a2b3c4d5e6f",
            "www.example.com",
            "CN=www.example.com",
            "",
        ],
        time,
    );
    r.activity_id = Some(activity);
    r
}

pub fn alert_received(desc: &str, time: UnixNanos) -> EventRecord {
    record(EventId::FatalAlertReceived, &[desc], time)
}

pub fn alert_generated(desc: &str, state: &str, time: UnixNanos) -> EventRecord {
    record(
        EventId::FatalAlertGenerated,
        &[desc, state, "client.example.net"],
        time,
    )
}

/// Options for tests: flood control off unless a test turns it on.
pub fn options() -> LogOptions {
    LogOptions {
        flood: FloodControl::off(),
        // These tests count what is stored, exactly: an emitter that finds the queue full
        // waits for the writer (a loaded CI machine may stall it past the default 200 ms,
        // after which records would be counted as not stored, by design). The outage
        // tests (outage.rs) set their own short wait.
        outage_wait: std::time::Duration::from_secs(60),
        ..LogOptions::default()
    }
}

pub fn open(dir: &Path, options: LogOptions) -> EventLog {
    let log = EventLog::open(dir.join("events.db"), options).expect("open a new log in a tempdir");
    assert!(log.moved_aside().is_none());
    log
}

pub fn all(log: &EventLog) -> Vec<EventRecord> {
    log.query(&Query::new().oldest_first()).expect("query all")
}

pub fn folded(count: u64, first: UnixNanos, last: UnixNanos) -> Option<Fold> {
    Some(Fold {
        count,
        first,
        last,
        reason: FoldReason::Flood,
    })
}

/// Poll until `f` holds or the deadline passes (bounded waits instead of sleeps).
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// The tables and indexes of a version 2 log with activity filters, which versions 3 and
/// 4 keep as they are (they add `packed`): the migration tests build older logs on it.
pub const V2_TABLES: &str = "
             CREATE TABLE events (record_id INTEGER PRIMARY KEY, time INTEGER NOT NULL, event_id INTEGER NOT NULL, computer TEXT NOT NULL, process_id INTEGER NOT NULL, thread_id INTEGER NOT NULL, activity_id BLOB, d0 TEXT, data TEXT NOT NULL, binary BLOB, fold_count INTEGER, fold_first INTEGER, fold_last INTEGER, fold_reason INTEGER);
             CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE time_marks (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, min_time INTEGER NOT NULL, max_time INTEGER NOT NULL, records INTEGER NOT NULL, activities BLOB, activities_records INTEGER);
             CREATE INDEX events_by_id_but_36880 ON events(event_id) WHERE event_id != 36880;
             CREATE INDEX events_by_first_field ON events(event_id, d0) WHERE event_id != 36880;
";

/// The log's schema version (`PRAGMA user_version`), read with a connection of its own.
pub fn schema_version(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .expect("open the log")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("its version")
}

/// A log written by an older version, in a temporary directory: 8 KiB pages, WAL,
/// [`V2_TABLES`], then `sql` (more tables, rows, its `user_version`). Returns the
/// directory (removed when dropped) and the log's path.
pub fn old_log(sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("events.db");
    rusqlite::Connection::open(&db)
        .expect("create the log")
        .execute_batch(&format!(
            "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; {V2_TABLES} {sql}"
        ))
        .expect("the older schema");
    (dir, db)
}
