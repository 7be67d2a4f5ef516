//! The viewer's query time on a log of 1,000,000 records (ignored by default: building
//! the log takes a minute). Run with
//! `cargo test --release -p securechannel-viewer --test million -- --ignored --nocapture`.
//! The log is kept in the target directory and reused by the next run.

mod common;

use common::*;
use securechannel_eventlog::{EventLog, FloodControl, LogOptions, LogReader};
use securechannel_events::{ActivityId, EventId, EventSink as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const RECORDS: u64 = 1_000_000;

fn build(dir: &Path) {
    let db = dir.join("events.db");
    if let Ok(r) = LogReader::open(&db) {
        if r.len().unwrap_or(0) >= RECORDS {
            return;
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("dir");
    let options = LogOptions {
        flood: FloodControl::off(),
        max_size_bytes: 4 * 1024 * 1024 * 1024,
        ..LogOptions::default()
    };
    let log = EventLog::open(&db, options).expect("open");
    let started = Instant::now();
    let now = record(EventId::PackageLoaded, &[]).time;
    let span: i64 = 24 * 3600 * 1_000_000_000;
    for i in 0..RECORDS {
        let host = format!("host{}.example.com", i % 5000);
        let mut r = match i % 100 {
            0..=54 => record(
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
                    "0x7f3a00c0",
                    &host,
                    "CN=www.example.com",
                    "",
                ],
            ),
            55..=69 => record(
                EventId::FatalAlertReceived,
                &[["46", "48", "42", "45", "40"][(i / 100 % 5) as usize]],
            ),
            70..=84 => record(
                EventId::FatalAlertGenerated,
                &[
                    ["40", "70", "80", "48"][(i / 100 % 4) as usize],
                    "1205",
                    &host,
                ],
            ),
            85..=92 => record(EventId::NoSharedCipherSuite, &["TLS 1.0"]),
            _ => record(EventId::ServerCertificateWrongName, &[&host]),
        };
        r.time = now - span + (span / RECORDS as i64) * i as i64;
        r.activity_id = Some(ActivityId::new_random());
        log.emit(r);
        // Let the writer keep up: an emitter that outruns it for longer than the log's
        // bounded wait has its records counted as not stored, not queued.
        if i % 10_000 == 9_999 {
            log.sync().expect("sync");
        }
    }
    log.close().expect("close");
    eprintln!(
        "built {RECORDS} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// (server-side ms, whole request ms through curl, records returned).
fn timed(addr: SocketAddr, path: &str) -> (f64, f64, usize, Option<u64>) {
    let started = Instant::now();
    let out = Command::new("curl")
        .args(["-s", "--max-time", "60"])
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("curl");
    let total = started.elapsed().as_secs_f64() * 1000.0;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("error").is_none(), "{path}: {v}");
    (
        v["elapsed_ms"].as_f64().unwrap_or(f64::NAN),
        total,
        v["records"].as_array().map_or(0, Vec::len),
        v["next_before"].as_u64(),
    )
}

#[test]
#[ignore = "builds a 1,000,000-record log; run explicitly for the figures"]
fn query_time_on_a_million_records() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("million");
    build(&dir);
    let addr = start_viewer(&dir, None);
    let reader = LogReader::open(dir.join("events.db")).expect("reader");
    let len = reader.len().expect("len");
    eprintln!("log: {len} records");
    assert!(len >= RECORDS, "the log holds {len} records");
    let deep = RECORDS / 2;
    for path in [
        "/api/events?count=50".to_string(),
        "/api/events?count=50&id=36887&data=AlertDesc%3D48".to_string(),
        format!("/api/events?count=50&id=36887&data=AlertDesc%3D48&before={deep}"),
        "/api/events?count=50&id=36874".to_string(),
        format!("/api/events?count=50&id=36874&before={deep}"),
        "/api/events?count=50&level=warning".to_string(),
        "/api/events?count=50&level=error&before=100000".to_string(),
        "/api/events?count=50&data=TargetName%3Dhost42.example.com".to_string(),
        "/api/events?count=50&query=*%5BSystem%5B(EventID%3D36888)%5D%20and%20EventData%5BData%5B%40Name%3D'AlertDesc'%5D%3D'80'%5D%5D".to_string(),
        "/api/events?count=50&since=1h&id=36888".to_string(),
        "/api/events?count=50&text=host4242.example".to_string(),
        "/api/rate?minutes=60".to_string(),
    ] {
        // The first run warms SQLite's cache; the figures are of the second.
        let _ = timed(addr, &path);
        let (server, total, n, next) = timed(addr, &path);
        eprintln!("{path}: {n} records, next_before {next:?}: {server:.1} ms in the server, {total:.1} ms through curl");
        assert!(total < 5000.0, "{path} took {total} ms");
    }
}
