//! The viewer's HTTP API against a real log, through curl (CI installs it; without it
//! these tests fail): the same records as the log's own queries for the CLI's filters,
//! paging by record ID, details rendered as the CLI renders them, the token, live
//! arrivals as server-sent events, the per-minute counts.

mod common;

use common::*;
use securechannel_eventlog::{LogReader, Query, QuerySpec};
use securechannel_events::{render_message, render_text, render_xml, EventId, Wording};
use serde_json::Value;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// GET with curl: the status and the body as JSON.
fn get(addr: SocketAddr, path: &str, headers: &[&str]) -> (u16, Value) {
    let mut c = Command::new("curl");
    c.args(["-s", "--max-time", "20", "-w", "\n%{http_code}"]);
    for h in headers {
        c.args(["-H", h]);
    }
    let out = c
        .arg(format!("http://{addr}{path}"))
        .output()
        .unwrap_or_else(|e| {
            panic!("curl is required by the API tests (apt-get install curl): {e}")
        });
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (body, code) = text.rsplit_once('\n').expect("status line");
    let code: u16 = code.trim().parse().expect("status");
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (code, json)
}

fn ok(addr: SocketAddr, path: &str) -> Value {
    let (code, v) = get(addr, path, &[]);
    assert_eq!(code, 200, "{path}: {v}");
    v
}

fn ids(page: &Value) -> Vec<u64> {
    page["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["record_id"].as_u64().expect("id"))
        .collect()
}

/// Every page of `filters`, following `next_before`.
fn all_pages(addr: SocketAddr, filters: &str, count: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut before: Option<u64> = None;
    for _ in 0..1000 {
        let cursor = before.map(|b| format!("&before={b}")).unwrap_or_default();
        let page = ok(
            addr,
            &format!("/api/events?count={count}&{filters}{cursor}"),
        );
        out.extend(ids(&page));
        match page["next_before"].as_u64() {
            Some(b) => before = Some(b),
            None => return out,
        }
    }
    panic!("paging did not end");
}

fn log_ids(reader: &LogReader, spec: QuerySpec) -> Vec<u64> {
    let q: Query = spec.to_query(0).expect("query");
    reader
        .query(&q)
        .expect("run")
        .iter()
        .map(|r| r.record_id)
        .collect()
}

#[test]
fn the_api_selects_what_the_log_selects_page_by_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _log = sample_log(dir.path());
    let reader = LogReader::open(dir.path().join("events.db")).expect("reader");
    let addr = start_viewer(dir.path(), None);

    let spec = |f: fn(&mut QuerySpec)| {
        let mut s = QuerySpec::default();
        f(&mut s);
        s
    };
    let cases: Vec<(&str, QuerySpec)> = vec![
        ("", QuerySpec::default()),
        ("id=36887", spec(|s| s.ids = vec!["36887".into()])),
        (
            "id=36887,36874",
            spec(|s| s.ids = vec!["36887".into(), "36874".into()]),
        ),
        ("level=error", spec(|s| s.levels = vec!["error".into()])),
        (
            "data=AlertDesc%3D48",
            spec(|s| s.data = vec!["AlertDesc=48".into()]),
        ),
        (
            "data=AlertDesc%3D48&data=ErrorState%3D1205",
            spec(|s| s.data = vec!["AlertDesc=48".into(), "ErrorState=1205".into()]),
        ),
        (
            "activity=%7B0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D%7D",
            spec(|s| s.activity = Some(ACTIVITY.into())),
        ),
        (
            "query=*%5BSystem%5B(EventID%3D36874%20or%20EventID%3D36888)%5D%5D",
            spec(|s| s.xpath = Some("*[System[(EventID=36874 or EventID=36888)]]".into())),
        ),
        ("since=1h", spec(|s| s.since = Some("1h".into()))),
    ];
    for (filters, spec) in cases {
        let want = log_ids(&reader, spec);
        assert!(
            !want.is_empty(),
            "{filters}: the sample has records for every case"
        );
        for count in [7, 50] {
            assert_eq!(
                all_pages(addr, filters, count),
                want,
                "{filters} count={count}"
            );
        }
    }

    // Free text in the rendered message: what the log holds, filtered the same way.
    let all = reader.query(&Query::new()).expect("all");
    let want: Vec<u64> = all
        .iter()
        .filter(|r| {
            render_message(r, Wording::Modern)
                .to_lowercase()
                .contains("legacy.example")
        })
        .map(|r| r.record_id)
        .collect();
    assert_eq!(want.len(), 1);
    assert_eq!(all_pages(addr, "text=LEGACY.example", 5), want);
    let page = ok(addr, "/api/events?text=scanner&count=3");
    assert_eq!(ids(&page).len(), 3);
    assert!(page["scanned"].as_u64().expect("scanned") >= 3);

    // The flood summary carries its folded count.
    let page = ok(addr, "/api/events?id=36888&count=50");
    let folded: Vec<&Value> = page["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| !r["fold"].is_null())
        .collect();
    assert_eq!(folded.len(), 1, "{page}");
    assert_eq!(folded[0]["fold"]["reason"], "flood");
    assert_eq!(folded[0]["fold"]["count"], 20, "30 copies, 10 stored");
    assert_eq!(folded[0]["data"]["FoldedCount"], "20");
}

#[test]
fn details_errors_and_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _log = sample_log(dir.path());
    let reader = LogReader::open(dir.path().join("events.db")).expect("reader");
    let addr = start_viewer(dir.path(), None);

    for r in reader.query(&Query::new().count(5)).expect("records") {
        let d = ok(addr, &format!("/api/events/{}", r.record_id));
        assert_eq!(d["xml"].as_str(), Some(render_xml(&r).as_str()));
        assert_eq!(d["text"].as_str(), Some(render_text(&r, 0).as_str()));
        assert_eq!(
            d["message"].as_str(),
            Some(render_message(&r, Wording::Modern).as_str())
        );
    }
    let (code, v) = get(addr, "/api/events/999999", &[]);
    assert_eq!(code, 404, "{v}");
    let (code, v) = get(addr, "/api/events/abc", &[]);
    assert_eq!(code, 400, "{v}");
    for (path, says) in [
        ("/api/events?id=99", "not a Schannel event ID"),
        (
            "/api/events?data=Nope%3D1",
            "no Schannel event has a data field named 'Nope'",
        ),
        ("/api/events?level=loud", "not a level"),
        ("/api/events?since=yesterday", "neither a span"),
        ("/api/events?query=*%5BSystem%5B", "unsupported query"),
        ("/api/events?count=0", "from 1 to 500"),
        ("/api/events?colour=red", "unknown parameter 'colour'"),
        ("/api/rate?minutes=100000", "from 1 to 1440"),
    ] {
        let (code, v) = get(addr, path, &[]);
        assert_eq!(code, 400, "{path}: {v}");
        let e = v["error"].as_str().unwrap_or_default();
        assert!(
            e.to_lowercase().contains(&says.to_lowercase()),
            "{path}: {e}"
        );
    }
    // DNS rebinding: a loopback viewer answers loopback host names only.
    let (code, _) = get(addr, "/api/events", &["Host: evil.example"]);
    assert_eq!(code, 421);

    // Per minute by ID: every record of the last hour, and the folded copies.
    let rate = ok(addr, "/api/rate?minutes=60");
    let mut records = 0;
    let mut folded = 0;
    for s in rate["series"].as_array().expect("series") {
        for (r, f) in s["records"]
            .as_array()
            .expect("r")
            .iter()
            .zip(s["folded"].as_array().expect("f"))
        {
            records += r.as_u64().expect("n");
            folded += f.as_u64().expect("n");
        }
    }
    assert_eq!(records, reader.len().expect("len"));
    assert_eq!(folded, 20);
    let rate = ok(addr, "/api/rate?minutes=60&id=36874");
    assert_eq!(rate["series"].as_array().map(Vec::len), Some(1));
    assert_eq!(ok(addr, "/api/catalog").as_array().map(Vec::len), Some(25));
}

#[test]
fn a_token_guards_the_api_and_the_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _log = sample_log(dir.path());
    let token = "0123456789abcdef0123";
    let addr = start_viewer(dir.path(), Some(token));
    let (code, v) = get(addr, "/api/events", &[]);
    assert_eq!(code, 401, "{v}");
    let (code, _) = get(
        addr,
        "/api/events",
        &["Authorization: Bearer 0123456789abcdef0124"],
    );
    assert_eq!(code, 401);
    let (code, v) = get(
        addr,
        "/api/events?count=1",
        &[&format!("Authorization: Bearer {token}")],
    );
    assert_eq!(code, 200, "{v}");
    let (code, _) = get(
        addr,
        &format!("/api/events?count=1&access_token={token}"),
        &[],
    );
    assert_eq!(code, 200);
    // The page itself holds no data: it loads, and asks for the token.
    let page = Command::new("curl")
        .args(["-s", &format!("http://{addr}/")])
        .output()
        .expect("curl");
    assert!(String::from_utf8_lossy(&page.stdout).contains("Event Viewer"));
}

/// Read `path`'s event stream (started before `meanwhile` runs) until it carries record
/// `want`; the `data:` payloads seen.
fn stream_until(addr: SocketAddr, path: &str, meanwhile: impl FnOnce(), want: u64) -> Vec<Value> {
    let mut curl = Command::new("curl")
        .args(["-s", "-N", "--max-time", "20"])
        .arg(format!("http://{addr}{path}"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl is required by the API tests");
    meanwhile();
    let mut out = curl.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut seen = String::new();
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if tx.send(seen.clone()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = String::new();
    while !seen.contains(&format!("\"record_id\":{want}")) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no live record {want} in: {seen}");
        if let Ok(s) = rx.recv_timeout(left) {
            seen = s;
        }
    }
    let _ = curl.kill();
    let _ = curl.wait();
    assert!(seen.contains("event: record"), "{seen}");
    seen.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| serde_json::from_str(d.trim()).expect("json"))
        .collect()
}

/// A stream from `after` (a page's `newest`) first sends what was committed since, so
/// nothing falls between the page and its stream.
#[test]
fn a_stream_from_a_page_misses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sample_log(dir.path());
    let addr = start_viewer(dir.path(), None);
    let page = ok(addr, "/api/events?count=1&id=36887");
    let newest = page["newest"].as_u64().expect("newest");
    // Committed after the page, before the stream starts.
    log_emit(&log, record(EventId::FatalAlertReceived, &["48"]));
    log_emit(
        &log,
        record(EventId::FatalAlertGenerated, &["48", "1205", "x"]),
    );
    log_emit(&log, record(EventId::FatalAlertReceived, &["45"]));
    log.sync().expect("sync");
    let last = log.last_record_id().expect("last");
    let seen = stream_until(
        addr,
        &format!("/api/stream?id=36887&after={newest}"),
        || {},
        last,
    );
    let ids: Vec<u64> = seen
        .iter()
        .map(|r| r["record_id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids, vec![newest + 1, newest + 3], "{seen:?}");
    let (code, v) = get(addr, "/api/events?after=1", &[]);
    assert_eq!(code, 400, "{v}");
}

#[test]
fn live_arrivals_stream_as_server_sent_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sample_log(dir.path());
    let addr = start_viewer(dir.path(), None);
    let newest = log.last_record_id().expect("last") + 2;
    let emit = || {
        // Give the stream a moment to subscribe, then commit one record that does not
        // match and one that does.
        std::thread::sleep(Duration::from_millis(500));
        log_emit(&log, record(EventId::FatalAlertReceived, &["46"]));
        log_emit(&log, record(EventId::FatalAlertReceived, &["48"]));
        log.sync().expect("sync");
    };
    let events = stream_until(
        addr,
        "/api/stream?id=36887&data=AlertDesc%3D48",
        emit,
        newest,
    );
    assert_eq!(events.len(), 1, "only the matching record: {events:?}");
    let r = &events[0];
    assert_eq!(r["event_id"], 36887);
    assert_eq!(r["data"]["AlertDesc"], "48");
}
