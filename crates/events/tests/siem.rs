//! The SIEM shapes: `render_ecs` checked with rule queries as Elastic / OpenSearch
//! detection rules for Windows Schannel events write them (field matches on the winlogbeat
//! field names), and `render_syslog` checked against RFC 5424's grammar.

use securechannel_events::{
    parse_rfc3339, render_ecs, render_message, render_syslog, ActivityId, EventId, EventRecord,
    Fold, FoldReason, SyslogBody, Wording,
};
use serde_json::Value;
use std::sync::Arc;

fn record(record_id: u64, id: EventId, data: &[&str]) -> EventRecord {
    EventRecord {
        record_id,
        time: parse_rfc3339("2026-11-25T10:00:00.123456789Z").expect("valid time"),
        event_id: id,
        computer: Arc::from("web01.example.com"),
        process_id: 4242,
        thread_id: 4243,
        activity_id: None,
        data: data.iter().collect(),
        binary: None,
        fold: None,
    }
}

/// The value at a dotted field path (`winlog.event_data.AlertDesc`), as a KQL / Lucene
/// term query on a keyword field compares it: numbers and strings by their text.
fn field(doc: &Value, path: &str) -> Option<String> {
    let mut v = doc;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A rule: every `field: value` term must match (KQL `a: x and b: y`).
fn rule_matches(doc: &Value, terms: &[(&str, &str)]) -> bool {
    terms
        .iter()
        .all(|(path, want)| field(doc, path).as_deref() == Some(*want))
}

fn ecs(r: &EventRecord) -> Value {
    let line = render_ecs(r);
    assert!(!line.contains('\n'), "one line per record: {line}");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn ecs_rule_queries_match_as_on_windows() {
    let bad_cert = ecs(&record(10, EventId::FatalAlertReceived, &["48"]));
    let other_alert = ecs(&record(11, EventId::FatalAlertReceived, &["46"]));
    let generated = ecs(&record(
        12,
        EventId::FatalAlertGenerated,
        &["48", "1205", "host"],
    ));
    let handshake = ecs(&record(
        13,
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
            "",
            "",
            "",
            "",
        ],
    ));

    // "Schannel: the peer sent unknown_ca", as SIEM content writes it.
    let unknown_ca_received = [
        ("winlog.channel", "System"),
        ("winlog.provider_name", "Schannel"),
        ("winlog.event_id", "36887"),
        ("winlog.event_data.AlertDesc", "48"),
    ];
    assert!(rule_matches(&bad_cert, &unknown_ca_received));
    assert!(!rule_matches(&other_alert, &unknown_ca_received));
    assert!(!rule_matches(&generated, &unknown_ca_received));

    // The same on ECS's own field, and on the 36888 field names.
    assert!(rule_matches(
        &generated,
        &[
            ("event.code", "36888"),
            ("event.provider", "Schannel"),
            ("winlog.event_data.AlertDesc", "48"),
            ("winlog.event_data.ErrorState", "1205"),
            ("winlog.event_data.TargetName", "host"),
        ]
    ));

    // Levels as winlogbeat names them.
    for doc in [&bad_cert, &generated] {
        assert!(rule_matches(doc, &[("log.level", "error")]), "{doc}");
    }
    assert!(rule_matches(&handshake, &[("log.level", "information")]));
    assert!(rule_matches(
        &handshake,
        &[
            ("winlog.event_id", "36880"),
            ("winlog.event_data.Protocol", "TLS 1.3"),
            ("winlog.event_data.CipherSuite", "0x1302")
        ]
    ));
}

#[test]
fn ecs_carries_the_record_identity_and_rendered_message() {
    let mut r = record(77, EventId::FatalAlertReceived, &["48"]);
    let activity = ActivityId::parse("{0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D}").expect("guid");
    r.activity_id = Some(activity);
    let doc = ecs(&r);
    assert_eq!(
        field(&doc, "@timestamp").as_deref(),
        Some("2026-11-25T10:00:00.123456789Z")
    );
    assert_eq!(field(&doc, "winlog.record_id").as_deref(), Some("77"));
    assert_eq!(
        field(&doc, "winlog.computer_name").as_deref(),
        Some("web01.example.com")
    );
    assert_eq!(
        field(&doc, "host.name").as_deref(),
        Some("web01.example.com")
    );
    assert_eq!(
        field(&doc, "winlog.activity_id").as_deref(),
        Some("{0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D}")
    );
    assert_eq!(field(&doc, "winlog.process.pid").as_deref(), Some("4242"));
    assert_eq!(
        field(&doc, "winlog.process.thread.id").as_deref(),
        Some("4243")
    );
    assert_eq!(
        field(&doc, "message"),
        Some(render_message(&r, Wording::Modern))
    );
    // No activity: the field is absent (winlogbeat leaves it out), not empty.
    let doc = ecs(&record(78, EventId::FatalAlertReceived, &["48"]));
    assert!(doc["winlog"].get("activity_id").is_none(), "{doc}");
}

#[test]
fn ecs_flood_summary_carries_its_folded_count() {
    let mut r = record(90, EventId::FatalAlertGenerated, &["40", "1205", "scanner"]);
    r.fold = Some(Fold {
        count: 1234,
        first: parse_rfc3339("2026-11-25T09:59:00Z").expect("time"),
        last: parse_rfc3339("2026-11-25T09:59:59Z").expect("time"),
        reason: FoldReason::Flood,
    });
    let doc = ecs(&r);
    assert!(rule_matches(
        &doc,
        &[
            ("winlog.event_id", "36888"),
            ("winlog.event_data.FoldedCount", "1234"),
            (
                "winlog.event_data.FoldedFirst",
                "2026-11-25T09:59:00.000000000Z"
            ),
        ]
    ));
    assert!(field(&doc, "message").is_some_and(|m| m.contains("1234 further identical events")));
}

#[test]
fn syslog_message_follows_rfc_5424() {
    let mut r = record(
        5,
        EventId::FatalAlertGenerated,
        &["48", "1205", "a\"b]c\\d"],
    );
    r.activity_id = ActivityId::parse("0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D").ok();
    let m = render_syslog(&r, SyslogBody::Message);
    // facility 4 (auth) * 8 + severity 3 (error) = 35.
    let head = "<35>1 2026-11-25T10:00:00.123456Z web01.example.com Schannel 4242 36888 ";
    assert!(m.starts_with(head), "{m}");
    let sd = "[schannel@32473 EventID=\"36888\" RecordID=\"5\" Level=\"2\" ActivityID=\"{0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D}\" AlertDesc=\"48\" ErrorState=\"1205\" TargetName=\"a\\\"b\\]c\\\\d\"] ";
    assert_eq!(&m[head.len()..head.len() + sd.len()], sd, "{m}");
    assert_eq!(
        &m[head.len() + sd.len()..],
        render_message(&r, Wording::Modern)
    );

    // The ECS body: the same head and SD, the JSON as MSG.
    let m = render_syslog(&r, SyslogBody::Ecs);
    assert_eq!(&m[head.len() + sd.len()..], render_ecs(&r));

    // Information is severity 6; a host name with a space is NILVALUE.
    let mut info = record(6, EventId::PackageLoaded, &[]);
    info.computer = Arc::from("bad host");
    let m = render_syslog(&info, SyslogBody::Message);
    assert!(
        m.starts_with("<38>1 2026-11-25T10:00:00.123456Z - Schannel 4242 36864 [schannel@32473 EventID=\"36864\" RecordID=\"6\" Level=\"4\"] "),
        "{m}"
    );
}
