//! Rendering a record: the message text from the catalog template, the text block
//! `wevtutil qe /f:text` prints, Event Viewer's XML view, and JSON lines.

use crate::{format_rfc3339, EventRecord, Fold, FoldReason, PROVIDER_GUID, PROVIDER_NAME};
use std::fmt::Write;

/// Which of the catalog's wordings to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wording {
    /// Windows 10's "TLS" wording.
    #[default]
    Modern,
    /// Windows 6.x's "SSL" wording, where the catalog has one (else the modern one).
    Legacy,
}

/// The event's message, with `%1`..`%99` replaced by the record's data and `%n` by a
/// line break, as FormatMessage does. A flood-control summary gets a note saying how many
/// copies it stands for and their first and last time (the record's own time is when
/// the summary was written, at the end of its window or at a flush); a summary of records that could not be stored
/// ([`FoldReason::NotStored`]) gets a message of its own instead of the template, since
/// it carries none of those events' data and must not read like one of them.
pub fn render_message(record: &EventRecord, wording: Wording) -> String {
    if let Some(f) = record.fold.filter(|f| f.reason == FoldReason::NotStored) {
        return not_stored_message(record, f);
    }
    let def = record.event_id.def();
    let template = match wording {
        Wording::Legacy => def.legacy.unwrap_or(def.message),
        Wording::Modern => def.message,
    };
    let mut out = String::with_capacity(template.len() + 64);
    let b = template.as_bytes();
    let mut i = 0;
    let mut literal_start = 0;
    while i < b.len() {
        if b[i] != b'%' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        out.push_str(&template[literal_start..i]);
        let next = b[i + 1];
        if next == b'n' {
            out.push('\n');
            i += 2;
        } else if next.is_ascii_digit() && next != b'0' {
            // FormatMessage takes up to two digits: %1 .. %99.
            let mut n = (next - b'0') as usize;
            let mut j = i + 2;
            if j < b.len() && b[j].is_ascii_digit() {
                n = n * 10 + (b[j] - b'0') as usize;
                j += 1;
            }
            if let Some(v) = record.data.get(n - 1) {
                out.push_str(v);
            }
            i = j;
        } else if next == b'%' {
            out.push('%');
            i += 2;
        } else {
            out.push('%');
            i += 1;
        }
        literal_start = i;
    }
    out.push_str(&template[literal_start..]);
    if let Some(f) = record.fold {
        let _ = write!(
            out,
            "\n\n(Flood control: {} further identical events were folded into this record, from {} to {}.)",
            f.count,
            format_rfc3339(f.first, 3),
            format_rfc3339(f.last, 3)
        );
    }
    out
}

/// The message of a [`FoldReason::NotStored`] summary.
fn not_stored_message(record: &EventRecord, f: Fold) -> String {
    let def = record.event_id.def();
    format!(
        "The event log could not store {} {} of event {} ({}) from {} to {}: they are lost. \
         The log refused writes or could not keep up, and the emitting threads did not wait \
         longer than its bounded wait. This record was written in their place when the log \
         accepted writes again; it carries none of their data.",
        f.count,
        if f.count == 1 { "record" } else { "records" },
        def.id.value(),
        def.title,
        format_rfc3339(f.first, 3),
        format_rfc3339(f.last, 3)
    )
}

/// The block `wevtutil qe System /f:text` prints for one event (`index` is the `Event[n]`).
pub fn render_text(record: &EventRecord, index: usize) -> String {
    let mut s = String::with_capacity(512);
    let _ = writeln!(s, "Event[{index}]:");
    let _ = writeln!(s, "  Log Name: System");
    let _ = writeln!(s, "  Source: {PROVIDER_NAME}");
    let _ = writeln!(s, "  Date: {}", format_rfc3339(record.time, 3));
    let _ = writeln!(s, "  Event ID: {}", record.event_id.value());
    let _ = writeln!(s, "  Task: N/A");
    let _ = writeln!(s, "  Level: {}", record.level().name());
    let _ = writeln!(s, "  Opcode: N/A");
    let _ = writeln!(s, "  Keyword: N/A");
    let _ = writeln!(s, "  User: N/A");
    let _ = writeln!(s, "  User Name: N/A");
    let _ = writeln!(s, "  Computer: {}", record.computer);
    let _ = writeln!(s, "  Record ID: {}", record.record_id);
    if let Some(a) = record.activity_id {
        let _ = writeln!(s, "  Activity ID: {a}");
    }
    let _ = writeln!(s, "  Description: ");
    let _ = writeln!(s, "{}", render_message(record, Wording::Modern));
    s
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all become U+FFFD rather than breaking
            // the document.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            // U+FFFE and U+FFFF are outside XML 1.0's Char production too.
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn hex_upper(bytes: &[u8], out: &mut String) {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(H[(b >> 4) as usize] as char);
        out.push(H[(b & 15) as usize] as char);
    }
}

/// Event Viewer's XML view of the record, in the exact shape Windows renders
/// (spec/registry.md). Flood-control summaries carry three extra Data elements
/// after the catalog's: `FoldedCount`, `FoldedFirst`, `FoldedLast` (the copies' first and
/// last time; `TimeCreated` is when the summary was written); summaries of records
/// that could not be stored carry `NotStoredCount`, `NotStoredFirst`, `NotStoredLast`
/// instead (and empty catalog fields).
pub fn render_xml(record: &EventRecord) -> String {
    let mut s = String::with_capacity(1024);
    s.push_str("<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n");
    s.push_str("  <System>\n");
    let _ = writeln!(
        s,
        "    <Provider Name=\"{PROVIDER_NAME}\" Guid=\"{PROVIDER_GUID}\" />"
    );
    let _ = writeln!(s, "    <EventID>{}</EventID>", record.event_id.value());
    s.push_str("    <Version>0</Version>\n");
    let _ = writeln!(s, "    <Level>{}</Level>", record.level().value());
    s.push_str("    <Task>0</Task>\n    <Opcode>0</Opcode>\n");
    s.push_str("    <Keywords>0x8000000000000000</Keywords>\n");
    let _ = writeln!(
        s,
        "    <TimeCreated SystemTime=\"{}\" />",
        format_rfc3339(record.time, 9)
    );
    let _ = writeln!(s, "    <EventRecordID>{}</EventRecordID>", record.record_id);
    match record.activity_id {
        Some(a) => {
            let _ = writeln!(s, "    <Correlation ActivityID=\"{a}\" />");
        }
        None => s.push_str("    <Correlation />\n"),
    }
    let _ = writeln!(
        s,
        "    <Execution ProcessID=\"{}\" ThreadID=\"{}\" />",
        record.process_id, record.thread_id
    );
    s.push_str("    <Channel>System</Channel>\n    <Computer>");
    xml_escape(&record.computer, &mut s);
    s.push_str("</Computer>\n    <Security />\n  </System>\n");
    let def = record.event_id.def();
    let fold_fields = record.fold.map(|f| {
        let [count, first, last] = fold_names(f.reason);
        [
            (count, f.count.to_string()),
            (first, format_rfc3339(f.first, 9)),
            (last, format_rfc3339(f.last, 9)),
        ]
    });
    if def.fields.is_empty() && record.binary.is_none() && fold_fields.is_none() {
        s.push_str("  <EventData />\n");
    } else {
        s.push_str("  <EventData>\n");
        for (i, name) in def.fields.iter().enumerate() {
            let _ = write!(s, "    <Data Name=\"{name}\">");
            xml_escape(record.data.get(i).unwrap_or(""), &mut s);
            s.push_str("</Data>\n");
        }
        for (name, value) in fold_fields.iter().flatten() {
            let _ = writeln!(s, "    <Data Name=\"{name}\">{value}</Data>");
        }
        if let Some(bin) = &record.binary {
            s.push_str("    <Binary>");
            hex_upper(bin, &mut s);
            s.push_str("</Binary>\n");
        }
        s.push_str("  </EventData>\n");
    }
    s.push_str("</Event>");
    s
}

/// The extra Data names of a summary record, by why it is one.
fn fold_names(reason: FoldReason) -> [&'static str; 3] {
    match reason {
        FoldReason::Flood => ["FoldedCount", "FoldedFirst", "FoldedLast"],
        FoldReason::NotStored => ["NotStoredCount", "NotStoredFirst", "NotStoredLast"],
    }
}

fn json_string(v: &str, out: &mut String) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One JSON object on one line, for jq and log shippers. Field names follow the XML. A
/// flood-control summary has `"Folded":{"Count","First","Last"}` (the copies' times;
/// `TimeCreated` is the summary's own); a summary of records
/// that could not be stored has `"NotStored":{...}` of the same shape instead.
pub fn render_json(record: &EventRecord) -> String {
    let mut s = String::with_capacity(1024);
    let _ = write!(
        s,
        "{{\"EventRecordID\":{},\"TimeCreated\":\"{}\",\"EventID\":{},\"Level\":{},\"LevelName\":\"{}\",\"Provider\":\"{PROVIDER_NAME}\",\"ProviderGuid\":\"{PROVIDER_GUID}\",\"Channel\":\"System\",\"Computer\":",
        record.record_id,
        format_rfc3339(record.time, 9),
        record.event_id.value(),
        record.level().value(),
        record.level().name(),
    );
    json_string(&record.computer, &mut s);
    let _ = write!(
        s,
        ",\"ProcessID\":{},\"ThreadID\":{},\"ActivityID\":",
        record.process_id, record.thread_id
    );
    match record.activity_id {
        Some(a) => {
            let _ = write!(s, "\"{a}\"");
        }
        None => s.push_str("null"),
    }
    s.push_str(",\"EventData\":{");
    for (i, name) in record.event_id.def().fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "\"{name}\":");
        json_string(record.data.get(i).unwrap_or(""), &mut s);
    }
    s.push('}');
    if let Some(bin) = &record.binary {
        s.push_str(",\"Binary\":\"");
        hex_upper(bin, &mut s);
        s.push('"');
    }
    if let Some(f) = record.fold {
        let key = match f.reason {
            FoldReason::Flood => "Folded",
            FoldReason::NotStored => "NotStored",
        };
        let _ = write!(
            s,
            ",\"{key}\":{{\"Count\":{},\"First\":\"{}\",\"Last\":\"{}\"}}",
            f.count,
            format_rfc3339(f.first, 9),
            format_rfc3339(f.last, 9)
        );
    }
    s.push_str(",\"Message\":");
    json_string(&render_message(record, Wording::Modern), &mut s);
    s.push('}');
    s
}

/// The lower-case level name winlogbeat puts in `log.level` (the name Event Viewer shows,
/// in lower case: "error", "warning", "information", "critical").
fn ecs_level(record: &EventRecord) -> String {
    record.level().name().to_ascii_lowercase()
}

/// One JSON object on one line in the shape winlogbeat gives a Windows event (Elastic
/// Common Schema plus its `winlog.*` fields), so detection rules written for Windows
/// Schannel events (`winlog.event_id: 36887 and winlog.event_data.AlertDesc: 48`) match
/// unchanged. As winlogbeat 8 does, `event.code`, `winlog.event_id` and
/// `winlog.record_id` are keywords (strings), and every `winlog.event_data` value is a
/// string named by its EventData name. Flood-control summaries add their three `Folded*`
/// (or `NotStored*`) Data names to `winlog.event_data`, as the XML view does.
pub fn render_ecs(record: &EventRecord) -> String {
    let mut s = String::with_capacity(1024);
    let id = record.event_id.value();
    s.push_str("{\"@timestamp\":");
    json_string(&format_rfc3339(record.time, 9), &mut s);
    let _ = write!(
        s,
        ",\"event\":{{\"code\":\"{id}\",\"provider\":\"{PROVIDER_NAME}\",\"kind\":\"event\",\"module\":\"system\"}}"
    );
    s.push_str(",\"log\":{\"level\":");
    json_string(&ecs_level(record), &mut s);
    s.push_str("},\"host\":{\"name\":");
    json_string(&record.computer, &mut s);
    s.push_str("},\"message\":");
    json_string(&render_message(record, Wording::Modern), &mut s);
    let _ = write!(
        s,
        ",\"winlog\":{{\"api\":\"wineventlog\",\"channel\":\"System\",\"provider_name\":\"{PROVIDER_NAME}\",\"provider_guid\":\"{PROVIDER_GUID}\",\"event_id\":\"{id}\",\"record_id\":\"{}\",\"computer_name\":",
        record.record_id
    );
    json_string(&record.computer, &mut s);
    if let Some(a) = record.activity_id {
        let _ = write!(s, ",\"activity_id\":\"{a}\"");
    }
    let _ = write!(
        s,
        ",\"process\":{{\"pid\":{},\"thread\":{{\"id\":{}}}}}",
        record.process_id, record.thread_id
    );
    s.push_str(",\"event_data\":{");
    let mut first = true;
    for (name, value) in event_data(record) {
        if !first {
            s.push(',');
        }
        first = false;
        json_string(name, &mut s);
        s.push(':');
        json_string(&value, &mut s);
    }
    s.push_str("}}}");
    s
}

/// The record's EventData as (name, value) pairs, in the order the XML view has them: the
/// catalog's fields, then a summary's three fold fields. (The binary data is left out: it
/// is a certificate, not a field a rule matches.)
pub fn event_data(record: &EventRecord) -> Vec<(&'static str, String)> {
    let def = record.event_id.def();
    let mut out: Vec<(&'static str, String)> = def
        .fields
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, record.data.get(i).unwrap_or_default().to_owned()))
        .collect();
    if let Some(f) = record.fold {
        let [count, first, last] = fold_names(f.reason);
        out.push((count, f.count.to_string()));
        out.push((first, format_rfc3339(f.first, 9)));
        out.push((last, format_rfc3339(f.last, 9)));
    }
    out
}

/// The syslog facility of forwarded records (RFC 5424 section 6.2.1): 4, security and
/// authorization messages, which is what Schannel's events are.
pub const SYSLOG_FACILITY: u8 = 4;

/// The IANA Private Enterprise Number in the SD-ID of forwarded records
/// (`[schannel@32473 ...]`): 32473 is the number RFC 5612 reserves for documentation and
/// examples, since this project has none of its own.
pub const SYSLOG_PEN: u32 = 32473;

/// What the MSG part of a syslog message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyslogBody {
    /// The rendered message ([`render_message`]), for people and plain-text collectors.
    #[default]
    Message,
    /// The record as [`render_ecs`] writes it, for a collector that hands JSON to a SIEM.
    Ecs,
}

/// The record as one RFC 5424 syslog message (without transport framing):
/// `<PRI>1 TIMESTAMP HOSTNAME Schannel PROCID EVENTID [schannel@32473 ...] MESSAGE`.
/// PRI is [`SYSLOG_FACILITY`] with the level's severity (error 3, warning 4, information
/// 6, critical 2); MSGID is the event ID; the STRUCTURED-DATA element carries `EventID`,
/// `RecordID`, `Level`, `ActivityID` (when there is one) and the EventData fields by
/// their names ([`event_data`]), each value escaped as section 6.3.3 requires (`"`, `\`
/// and `]` take a backslash); MSG is the rendered message or the ECS JSON (`body`).
pub fn render_syslog(record: &EventRecord, body: SyslogBody) -> String {
    let severity = match record.level().value() {
        1 => 2,
        2 => 3,
        3 => 4,
        _ => 6,
    };
    let pri = u32::from(SYSLOG_FACILITY) * 8 + severity;
    let mut s = String::with_capacity(1024);
    let _ = write!(
        s,
        "<{pri}>1 {} {} {PROVIDER_NAME} {} {} [schannel@{SYSLOG_PEN} EventID=\"{}\" RecordID=\"{}\" Level=\"{}\"",
        format_rfc3339(record.time, 6),
        syslog_hostname(&record.computer),
        record.process_id,
        record.event_id.value(),
        record.event_id.value(),
        record.record_id,
        record.level().value(),
    );
    if let Some(a) = record.activity_id {
        let _ = write!(s, " ActivityID=\"{a}\"");
    }
    for (name, value) in event_data(record) {
        // The catalog's names are SD-NAMEs already (ASCII letters, no '=', ' ', ']', '"').
        let _ = write!(s, " {name}=\"");
        for c in value.chars() {
            if matches!(c, '"' | '\\' | ']') {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('"');
    }
    s.push_str("] ");
    match body {
        SyslogBody::Message => s.push_str(&render_message(record, Wording::Modern)),
        SyslogBody::Ecs => s.push_str(&render_ecs(record)),
    }
    s
}

/// HOSTNAME is 1-255 printable US-ASCII characters (RFC 5424 section 6.2.4), else NILVALUE.
fn syslog_hostname(name: &str) -> &str {
    let ok = !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| (33..=126).contains(&b));
    if ok {
        name
    } else {
        "-"
    }
}
