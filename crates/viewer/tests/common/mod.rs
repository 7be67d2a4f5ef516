//! The viewer tests' shared pieces: a log with known records, a viewer on 127.0.0.1.
#![allow(dead_code)] // Each test file uses its own part of these helpers.

use securechannel_eventlog::{EventLog, LogOptions};
use securechannel_events::{ActivityId, Emitter, EventId, EventLogging, EventRecord, NullSink};
use securechannel_viewer::{ListenPolicy, Viewer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The activity of the sample's one connection with three events.
pub const ACTIVITY: &str = "{0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D}";

/// A record of `id` with these data fields (the rest empty), stamped now.
pub fn record(id: EventId, data: &[&str]) -> EventRecord {
    let emitter = Emitter::new(Arc::new(NullSink), EventLogging::ALL);
    let mut r = emitter.blank(id);
    r.data = data.iter().collect();
    r.data.resize(id.def().fields.len());
    r
}

/// The log of `dir`: 40 alerts received (every 5th AlertDesc=48, 8 in all), 20
/// alerts generated (every 5th AlertDesc=48), one connection of three events under
/// [`ACTIVITY`], and a flood of 30 identical 36888 that flood control folds into a
/// summary. Returns the open log (for live arrivals).
pub fn sample_log(dir: &Path) -> EventLog {
    let log = EventLog::open(dir.join("events.db"), LogOptions::default()).expect("open log");
    // At most 8 identical records each: flood control (10 per window) stores them all.
    for i in 0..40 {
        let desc = if i % 5 == 0 {
            "48"
        } else {
            ["46", "42", "45", "50"][i % 4]
        };
        log_emit(&log, record(EventId::FatalAlertReceived, &[desc]));
    }
    for i in 0..20 {
        let desc = if i % 5 == 0 { "48" } else { "40" };
        let host = format!("client{i}.example.net");
        log_emit(
            &log,
            record(EventId::FatalAlertGenerated, &[desc, "1205", &host]),
        );
    }
    let activity = ActivityId::parse(ACTIVITY).expect("guid");
    for (id, data) in [
        (EventId::NoSharedCipherSuite, vec!["TLS 1.0"]),
        (
            EventId::FatalAlertGenerated,
            vec!["70", "1203", "legacy.example.net"],
        ),
        (EventId::FatalAlertReceived, vec!["70"]),
    ] {
        let mut r = record(id, &data);
        r.activity_id = Some(activity);
        log_emit(&log, r);
    }
    for _ in 0..30 {
        log_emit(
            &log,
            record(
                EventId::FatalAlertGenerated,
                &["40", "1205", "scanner.example.net"],
            ),
        );
    }
    log.sync().expect("sync");
    log
}

pub fn log_emit(log: &EventLog, r: EventRecord) {
    use securechannel_events::EventSink;
    log.emit(r);
}

/// A viewer of `dir` on 127.0.0.1 (a free port), served from a thread of its own until
/// the process ends.
pub fn start_viewer(dir: &Path, token: Option<&str>) -> SocketAddr {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let policy =
        ListenPolicy::new(addr, token.map(|t| Zeroizing::new(t.to_string()))).expect("policy");
    let viewer = Viewer::open(dir, policy).expect("viewer");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
            tx.send(listener.local_addr().expect("local addr"))
                .expect("send addr");
            viewer
                .serve(listener, std::future::pending())
                .await
                .expect("serve");
        });
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the viewer did not start")
}
