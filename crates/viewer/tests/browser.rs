//! The viewer in a real browser: Debian's chromium, headless, driven through the DevTools
//! protocol (headless_chrome). Load the page, filter by ID and by a data field, open a
//! record's XML, follow the connection's activity, see a live arrival, and check the
//! screenshot is not blank. Chromium is required: without it this test fails.

mod common;

use common::*;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use securechannel_eventlog::{Cmp, Filter, LogReader, Query};
use securechannel_events::{render_xml, EventId};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn chromium() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("chromium is required for the browser test: apt-get install -y chromium (.ci/run installs it)");
}

/// Evaluate `expr` (JavaScript) until it is true, at most 15 s.
fn wait_true(tab: &Tab, what: &str, expr: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = tab.evaluate(expr, false).expect("evaluate").value;
        if v == Some(serde_json::Value::Bool(true)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what} ({expr})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Evaluate `expr` and decode its value (through JSON: the protocol hands back arrays
/// as references otherwise).
fn js<T: serde::de::DeserializeOwned>(tab: &Tab, expr: &str) -> T {
    let v = tab
        .evaluate(&format!("JSON.stringify({expr})"), false)
        .expect("evaluate")
        .value;
    let text = v.as_ref().and_then(|v| v.as_str()).unwrap_or("null");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{expr} gave {v:?}: {e}"))
}

/// The record IDs in the table, top to bottom.
fn shown(tab: &Tab) -> Vec<u64> {
    js(
        tab,
        "[...document.querySelectorAll('#events tbody tr')].map(r => Number(r.dataset.record))",
    )
}

/// Type into a filter field, key by key, as a person does (slow: for short values).
fn type_filter(tab: &Tab, field: &str, value: &str) {
    tab.evaluate(
        &format!("document.querySelector('#{field}').value = ''"),
        false,
    )
    .expect("clear");
    if !value.is_empty() {
        tab.wait_for_element(&format!("#{field}"))
            .expect("field")
            .click()
            .expect("focus")
            .type_into(value)
            .expect("type");
    }
}

/// Set a filter field's value (long values: typing them key by key takes seconds).
fn set_filter(tab: &Tab, field: &str, value: &str) {
    let v = serde_json::to_string(value).expect("json");
    tab.evaluate(
        &format!("document.querySelector('#{field}').value = {v}"),
        false,
    )
    .expect("set");
}

fn apply_and_wait(tab: &Tab, want: &[u64]) {
    tab.evaluate(
        "document.querySelector('#events tbody').replaceChildren()",
        false,
    )
    .expect("clear table");
    tab.wait_for_element("#apply")
        .expect("button")
        .click()
        .expect("click");
    let want_js = serde_json::to_string(want).expect("json");
    wait_true(
        tab,
        "the filtered table",
        &format!(
            "JSON.stringify([...document.querySelectorAll('#events tbody tr')].map(r => Number(r.dataset.record))) === '{want_js}'"
        ),
    );
}

/// What the log itself selects for the filter, newest first, as the page's first page.
fn expected(reader: &LogReader, filter: Filter) -> Vec<u64> {
    reader
        .query(&Query::new().filter(filter).count(50))
        .expect("query")
        .iter()
        .map(|r| r.record_id)
        .collect()
}

#[test]
fn the_page_filters_shows_xml_follows_live_and_is_not_blank() {
    let chromium = chromium();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sample_log(dir.path());
    let reader = LogReader::open(dir.path().join("events.db")).expect("reader");
    let addr = start_viewer(dir.path(), None);

    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chromium))
            .sandbox(false)
            .window_size(Some((1400, 1000)))
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .expect("launch options"),
    )
    .expect("start chromium");
    let tab = browser.new_tab().expect("tab");
    tab.set_default_timeout(Duration::from_secs(15));
    // Not wait_until_navigated: the page's live stream keeps the network busy; the rows
    // say when it has loaded.
    tab.navigate_to(&format!("http://{addr}/"))
        .expect("navigate");

    // Loaded: the newest 50 records, newest first, as the log has them.
    wait_true(
        &tab,
        "the first page",
        "document.querySelectorAll('#events tbody tr').length === 50",
    );
    assert_eq!(shown(&tab), expected(&reader, Filter::All));
    // The flood summary shows its folded count.
    let folded: Vec<String> = js(
        &tab,
        "[...document.querySelectorAll('#events .fold')].map(e => e.textContent)",
    );
    let summary = reader
        .query(&Query::new().count(100))
        .expect("query")
        .into_iter()
        .find_map(|r| r.fold)
        .expect("the sample has a flood summary");
    assert!(
        folded.contains(&format!("\u{d7}{}", summary.count)),
        "{folded:?}"
    );
    // The chart drew bars.
    wait_true(
        &tab,
        "the chart",
        "document.querySelectorAll('#chart-svg svg rect').length > 0",
    );

    // Filter by ID.
    type_filter(&tab, "f-id", "36887");
    let by_id = expected(&reader, Filter::EventId(Cmp::Eq, 36887));
    assert_eq!(by_id.len(), 41, "40 + the connection's one");
    apply_and_wait(&tab, &by_id);

    // And by a data field.
    set_filter(&tab, "f-data", "AlertDesc=48");
    let by_data = expected(
        &reader,
        Filter::EventId(Cmp::Eq, 36887).and(Filter::data_eq("AlertDesc", "48").expect("field")),
    );
    assert_eq!(by_data.len(), 8);
    apply_and_wait(&tab, &by_data);

    // Open the newest record's XML: exactly what `--format xml` renders.
    let first = by_data[0];
    tab.wait_for_element(&format!("#events tbody tr[data-record='{first}']"))
        .expect("row")
        .click()
        .expect("click row");
    wait_true(
        &tab,
        "the detail",
        "document.querySelector('#detail-xml pre').textContent.length > 0",
    );
    tab.wait_for_element("#tab-xml")
        .expect("tab")
        .click()
        .expect("click tab");
    wait_true(
        &tab,
        "the XML tab",
        "!document.querySelector('#detail-xml').hidden",
    );
    let xml: String = js(
        &tab,
        "document.querySelector('#detail-xml pre').textContent",
    );
    let record = reader
        .query(&Query::new().filter(Filter::RecordId(Cmp::Eq, first)))
        .expect("query")
        .pop()
        .expect("record");
    assert_eq!(xml, render_xml(&record));

    // Live: a new matching record appears on top without a reload; one that does not
    // match stays out.
    log_emit(&log, record_of(EventId::FatalAlertReceived, "46"));
    log_emit(&log, record_of(EventId::FatalAlertReceived, "48"));
    log.sync().expect("sync");
    let newest = reader.last_record_id().expect("last");
    wait_true(
        &tab,
        "the live arrival",
        &format!("Number(document.querySelector('#events tbody tr').dataset.record) === {newest}"),
    );
    let text: String = js(&tab, "document.querySelector('#live-count').textContent");
    assert_eq!(text, "(1 new live)");
    assert_eq!(shown(&tab)[1..], by_data[..]);

    // All events of one connection, from a record's activity link.
    set_filter(&tab, "f-id", "");
    set_filter(&tab, "f-data", "");
    set_filter(&tab, "f-activity", ACTIVITY);
    let activity = securechannel_events::ActivityId::parse(ACTIVITY).expect("guid");
    let of_connection = expected(&reader, Filter::Activity(activity));
    assert_eq!(of_connection.len(), 3);
    apply_and_wait(&tab, &of_connection);
    tab.wait_for_element(&format!(
        "#events tbody tr[data-record='{}']",
        of_connection[0]
    ))
    .expect("row")
    .click()
    .expect("click");
    tab.wait_for_element("#tab-general")
        .expect("tab")
        .click()
        .expect("click");
    tab.wait_for_element("#activity-link")
        .expect("activity link");

    // A screenshot, decoded: not blank (many colours, and real contrast).
    let png_bytes = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer-screenshot.png");
    std::fs::write(&out, &png_bytes).expect("save screenshot");
    let (width, height, lum) = luminance(&png_bytes);
    assert!(width >= 1000 && height >= 600, "{width}x{height}");
    let n = lum.len() as f64;
    let mean = lum.iter().sum::<f64>() / n;
    let variance = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
    let dark = lum.iter().filter(|&&l| l < 100.0).count() as f64 / n;
    eprintln!(
        "screenshot {}: {width}x{height}, mean luminance {mean:.1}, variance {variance:.1}, dark pixels {:.1}%",
        out.display(),
        dark * 100.0
    );
    assert!(variance > 200.0, "a blank page has no variance: {variance}");
    assert!(dark > 0.005, "text and the header are dark: {dark}");
}

fn record_of(id: EventId, desc: &str) -> securechannel_events::EventRecord {
    record(id, &[desc])
}

/// The PNG's size and each pixel's luminance (0-255).
fn luminance(png_bytes: &[u8]) -> (u32, u32, Vec<f64>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let lum = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| {
            if channels >= 3 {
                0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2])
            } else {
                f64::from(p[0])
            }
        })
        .collect();
    (info.width, info.height, lum)
}
