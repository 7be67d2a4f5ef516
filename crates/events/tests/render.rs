//! Event Viewer's XML view and the JSON lines, checked against the spec's example event
//! (spec/registry.md) and against a JSON parser.

use securechannel_events::{
    parse_rfc3339, render_json, render_message, render_xml, ActivityId, EventId, EventRecord, Fold,
    FoldReason, Wording,
};
use std::path::Path;
use std::sync::Arc;

fn record(id: EventId, data: &[&str]) -> EventRecord {
    EventRecord {
        record_id: 7,
        time: parse_rfc3339("2026-11-25T10:00:00.123456789Z").expect("valid time"),
        event_id: id,
        computer: Arc::from("web01"),
        process_id: 4242,
        thread_id: 4243,
        activity_id: None,
        data: data.iter().collect(),
        binary: None,
        fold: None,
    }
}

/// The ```xml block of registry.md: the XML of a real 36888 event.
fn registry_example() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/registry.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let start = text.find("```xml\n").expect("registry.md has an xml block") + "```xml\n".len();
    let len = text[start..].find("```").expect("the xml block ends");
    text[start..start + len].trim_end().to_string()
}

#[test]
fn xml_matches_the_registry_example_line_by_line() {
    let record = EventRecord {
        record_id: 2708,
        time: parse_rfc3339("2020-08-05T12:16:37.933329200Z").expect("valid time"),
        event_id: EventId::FatalAlertGenerated,
        computer: Arc::from("WIN-U5410N2J187"),
        process_id: 520,
        thread_id: 2864,
        activity_id: None,
        data: ["40", "1205", "WIN-U5410N2J187.example"].into(),
        binary: None,
        fold: None,
    };
    let ours = render_xml(&record);
    let windows = registry_example();
    // Two deliberate differences from the Windows example:
    // 1. Windows writes `<Security UserID="S-1-5-18" />` because Schannel runs inside LSASS
    //    as LocalSystem; we run as whatever user the program is, and claim no SID.
    // 2. The example comes from a Windows build whose 36888 has two fields; Windows 10's
    //    message (the catalog's) also prints %3, TargetName, so we carry a third Data.
    let expected: Vec<String> = windows
        .lines()
        .flat_map(|line| {
            if line.trim() == "<Security UserID=\"S-1-5-18\" />" {
                vec![line.replace(" UserID=\"S-1-5-18\"", "")]
            } else if line.trim() == "<Data Name=\"ErrorState\">1205</Data>" {
                vec![
                    line.to_string(),
                    line.replace("ErrorState\">1205", "TargetName\">WIN-U5410N2J187.example"),
                ]
            } else {
                vec![line.to_string()]
            }
        })
        .collect();
    let ours_lines: Vec<&str> = ours.lines().collect();
    for (i, (got, want)) in ours_lines.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(ours_lines.len(), expected.len(), "number of lines:\n{ours}");
    // The adjustments really applied (the example still has the lines they target).
    assert!(windows.contains("<Security UserID=\"S-1-5-18\" />"));
    assert!(ours.contains("    <Security />\n"));
}

#[test]
fn xml_escapes_data_and_computer() {
    let mut r = record(EventId::ServerCertificateWrongName, &["a<b>&\"c'\u{1}d"]);
    r.computer = Arc::from("host&<1>");
    let xml = render_xml(&r);
    assert!(
        xml.contains("<Data Name=\"Name\">a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}d</Data>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Computer>host&amp;&lt;1&gt;</Computer>"),
        "{xml}"
    );
    // Characters XML 1.0 cannot carry never reach the document.
    let r = record(
        EventId::ServerCertificateWrongName,
        &["x\u{FFFE}\u{FFFF}\u{0}y"],
    );
    let xml = render_xml(&r);
    assert!(
        xml.contains("<Data Name=\"Name\">x\u{FFFD}\u{FFFD}\u{FFFD}y</Data>"),
        "{xml}"
    );
}

#[test]
fn xml_binary_is_uppercase_hex_after_the_data() {
    let mut r = record(EventId::ServerCertificateWrongName, &["www.example.com"]);
    r.binary = Some(Arc::from(&[0x30u8, 0x82, 0x01, 0x0a, 0xff, 0x00][..]));
    let xml = render_xml(&r);
    let expected = "  <EventData>\n    <Data Name=\"Name\">www.example.com</Data>\n    \
                    <Binary>3082010AFF00</Binary>\n  </EventData>\n</Event>";
    assert!(xml.ends_with(expected), "{xml}");
    // An event with binary data and no fields still opens EventData for the Binary.
    let mut r = record(EventId::ServerCertificateExpired, &[]);
    r.binary = Some(Arc::from(&[0xabu8][..]));
    assert!(render_xml(&r)
        .ends_with("  <EventData>\n    <Binary>AB</Binary>\n  </EventData>\n</Event>"));
}

#[test]
fn xml_empty_event_data_and_correlation() {
    let mut r = record(EventId::PackageLoaded, &[]);
    let xml = render_xml(&r);
    assert!(xml.contains("    <Correlation />\n"), "{xml}");
    assert!(
        xml.ends_with("  </System>\n  <EventData />\n</Event>"),
        "{xml}"
    );
    r.activity_id =
        Some(ActivityId::parse("{0f8fad5b-d9cb-469f-a165-70867728950e}").expect("valid GUID"));
    let xml = render_xml(&r);
    assert!(
        xml.contains("    <Correlation ActivityID=\"{0F8FAD5B-D9CB-469F-A165-70867728950E}\" />\n"),
        "{xml}"
    );
    assert!(xml.contains("    <TimeCreated SystemTime=\"2026-11-25T10:00:00.123456789Z\" />\n"));
    assert!(xml.contains("    <Level>4</Level>\n"));
}

#[test]
fn xml_folded_record_carries_the_fold() {
    let mut r = record(EventId::FatalAlertReceived, &["46"]);
    r.fold = Some(Fold {
        count: 99,
        first: parse_rfc3339("2026-11-25T10:00:00Z").expect("valid time"),
        last: parse_rfc3339("2026-11-25T10:05:00Z").expect("valid time"),
        reason: FoldReason::Flood,
    });
    let xml = render_xml(&r);
    assert!(xml.contains(
        "    <Data Name=\"AlertDesc\">46</Data>\n    <Data Name=\"FoldedCount\">99</Data>\n    \
         <Data Name=\"FoldedFirst\">2026-11-25T10:00:00.000000000Z</Data>\n    \
         <Data Name=\"FoldedLast\">2026-11-25T10:05:00.000000000Z</Data>\n"
    ), "{xml}");
}

/// A summary of records the log could not store says so in every format, and never
/// looks like the events themselves: its own message (not the template with empty
/// fields), its own Data names and JSON key, nothing of flood control's wording.
#[test]
fn not_stored_summary_is_distinct_in_every_format() {
    let mut r = record(EventId::HandshakeCompleted, &[]);
    r.data.resize(0);
    r.data.resize(12);
    r.fold = Some(Fold {
        count: 1234,
        first: parse_rfc3339("2026-11-25T10:00:00Z").expect("valid time"),
        last: parse_rfc3339("2026-11-25T10:05:00Z").expect("valid time"),
        reason: FoldReason::NotStored,
    });
    let message = render_message(&r, Wording::Modern);
    assert!(
        message.starts_with(
            "The event log could not store 1234 records of event 36880 (A TLS (client or server) \
             handshake completed successfully) from 2026-11-25T10:00:00.000Z to \
             2026-11-25T10:05:00.000Z: they are lost."
        ),
        "{message}"
    );
    assert!(message.contains("none of their data"), "{message}");
    assert!(
        !message.contains("negotiated"),
        "not the 36880 template: {message}"
    );
    assert!(!message.contains("Flood control"), "{message}");
    let xml = render_xml(&r);
    assert!(
        xml.contains(
            "    <Data Name=\"NotStoredCount\">1234</Data>\n    \
             <Data Name=\"NotStoredFirst\">2026-11-25T10:00:00.000000000Z</Data>\n    \
             <Data Name=\"NotStoredLast\">2026-11-25T10:05:00.000000000Z</Data>\n"
        ),
        "{xml}"
    );
    assert!(!xml.contains("Folded"), "{xml}");
    let v: serde_json::Value = serde_json::from_str(&render_json(&r)).expect("valid JSON");
    assert_eq!(v["NotStored"]["Count"], 1234);
    assert_eq!(v["NotStored"]["First"], "2026-11-25T10:00:00.000000000Z");
    assert!(v.get("Folded").is_none());
    assert_eq!(v["Message"], message);
    let text = securechannel_events::render_text(&r, 0);
    assert!(text.contains("could not store 1234 records"), "{text}");
}

#[test]
fn json_lines_parse_and_carry_every_field() {
    let awkward = "q\"uote \\ back\nline\ttab \u{1} \u{7f} é ∑ \u{2028}";
    for (n, id) in EventId::all().enumerate() {
        let def = id.def();
        let data: Vec<String> = def
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| format!("{f}-{i}-{awkward}"))
            .collect();
        let mut r = record(id, &[]);
        r.data = data.as_slice().into();
        r.computer = Arc::from(format!("host-{awkward}"));
        if def.binary {
            r.binary = Some(Arc::from(&[0xde, 0xad, 0xbe, 0xef, n as u8][..]));
        }
        if n % 2 == 0 {
            r.activity_id = Some(ActivityId(0x1234_5678_9abc_def0_1122_3344_5566_7788));
        }
        if n % 3 == 0 {
            r.fold = Some(Fold {
                count: 5,
                first: r.time,
                last: r.time + 1_000_000_000,
                reason: if n % 2 == 0 {
                    FoldReason::Flood
                } else {
                    FoldReason::NotStored
                },
            });
        }
        let line = render_json(&r);
        assert!(!line.contains('\n'), "event {id}: one line");
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("event {id}: {e}\n{line}"));
        assert_eq!(v["EventRecordID"], 7, "event {id}");
        assert_eq!(v["EventID"], u64::from(id.value()), "event {id}");
        assert_eq!(v["Level"], u64::from(def.level.value()), "event {id}");
        assert_eq!(v["LevelName"], def.level.name(), "event {id}");
        assert_eq!(
            v["TimeCreated"], "2026-11-25T10:00:00.123456789Z",
            "event {id}"
        );
        assert_eq!(v["Provider"], "Schannel", "event {id}");
        assert_eq!(v["ProviderGuid"], "{1F678132-5938-4686-9FDC-C8FF68F15C85}");
        assert_eq!(v["Channel"], "System");
        assert_eq!(v["Computer"], format!("host-{awkward}"), "event {id}");
        assert_eq!(v["ProcessID"], 4242);
        assert_eq!(v["ThreadID"], 4243);
        match r.activity_id {
            Some(a) => assert_eq!(v["ActivityID"], a.to_string(), "event {id}"),
            None => assert!(v["ActivityID"].is_null(), "event {id}"),
        }
        let event_data = v["EventData"].as_object().expect("EventData object");
        let names: Vec<&str> = event_data.keys().map(String::as_str).collect();
        let mut expected_names = def.fields.to_vec();
        expected_names.sort_unstable();
        let mut names_sorted = names.clone();
        names_sorted.sort_unstable();
        assert_eq!(names_sorted, expected_names, "event {id}: EventData names");
        for (f, value) in def.fields.iter().zip(&data) {
            assert_eq!(event_data[*f], *value, "event {id}: {f}");
        }
        match &r.binary {
            Some(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
                assert_eq!(v["Binary"], hex, "event {id}");
            }
            None => assert!(v.get("Binary").is_none(), "event {id}"),
        }
        match r.fold {
            Some(f) if f.reason == FoldReason::Flood => {
                assert_eq!(v["Folded"]["Count"], f.count, "event {id}");
                assert!(v.get("NotStored").is_none(), "event {id}");
            }
            Some(f) => {
                assert_eq!(v["NotStored"]["Count"], f.count, "event {id}");
                assert!(v.get("Folded").is_none(), "event {id}");
            }
            None => {
                assert!(v.get("Folded").is_none(), "event {id}");
                assert!(v.get("NotStored").is_none(), "event {id}");
            }
        }
        assert_eq!(
            v["Message"],
            render_message(&r, Wording::Modern),
            "event {id}"
        );
    }
}
