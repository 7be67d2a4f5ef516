//! `schannel events`: read the System log the way `wevtutil qe System` and `Get-WinEvent`
//! do, follow it, show what flood control is still counting (`--pending`), and write
//! test events (`write`, `demo`, `clear`).

use crate::CmdResult;
use securechannel_eventlog::{
    parse_event_id, EventLog, LogOptions, PendingFold, Query, QueryError, QuerySpec,
};
use securechannel_events::{
    format_rfc3339, render_ecs, render_json, render_text, render_xml, ActivityId, Emitter, EventId,
    EventLogging, EventRecord, EventSink, FoldReason, UnixNanos,
};
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Arguments of `schannel events`. Without a subcommand: query the log (newest first).
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<EventsCommand>,

    // Boxed: the query flags make this the largest variant of main's Command by far.
    #[command(flatten)]
    query: Box<QueryArgs>,
}

#[derive(clap::Subcommand, Debug)]
enum EventsCommand {
    /// Write one record of a catalog event, like eventcreate / Write-EventLog
    /// (e.g. `schannel events write --id 36887 --data AlertDesc=48`).
    Write(WriteArgs),
    /// Fill the log with a realistic mixed sample (handshakes, alerts, refused
    /// protocols, certificate errors, a flood) to try the reader on.
    Demo(DemoArgs),
    /// Empty the log (`wevtutil cl System`); `--archive` keeps it as
    /// events-archive-<UTC time>.db. Record IDs go on either way.
    Clear(ClearArgs),
    /// The web event viewer: a filterable table, record details (General text and XML),
    /// live arrivals, events per minute by ID, on http://127.0.0.1:8444/ (API: docs/viewer.md).
    Serve(crate::viewer::ServeArgs),
    /// Ship the log to a syslog collector (RFC 5424 over TCP or TLS) or an OpenTelemetry
    /// logs endpoint (OTLP/HTTP, http or https), at least once, resuming from the last
    /// record it acknowledged.
    Forward(crate::viewer::ForwardArgs),
}

/// The query flags, on `schannel events` itself.
#[derive(clap::Args, Debug, Default)]
struct QueryArgs {
    /// At most N events (`wevtutil /c:N`).
    #[arg(long, short = 'c', value_name = "N")]
    count: Option<usize>,
    /// Oldest first (the default is newest first, like `wevtutil /rd:true`).
    #[arg(long)]
    oldest_first: bool,
    /// Only these event IDs, e.g. `--id 36887,36888`.
    #[arg(long, value_delimiter = ',', value_name = "ID[,ID...]")]
    id: Vec<String>,
    /// Only these levels: error, warning, information (comma list).
    #[arg(long, value_delimiter = ',', value_name = "LEVEL[,LEVEL...]")]
    level: Vec<String>,
    /// Only events at or after: a span back from now (30s, 30m, 1h, 2d, 1w) or an RFC 3339
    /// time (2026-11-25T10:00:00Z).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only events at or before (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Only events whose data field equals a value, by EventData name, e.g.
    /// `--data AlertDesc=46` (repeatable; all must match).
    #[arg(long, value_name = "NAME=VALUE")]
    data: Vec<String>,
    /// Only events of this activity (one connection): `{GUID}`.
    #[arg(long, value_name = "GUID")]
    activity: Option<String>,
    /// An XPath query as wevtutil and Event Viewer take it, e.g.
    /// "*[System[(EventID=36887 or EventID=36888)]]".
    #[arg(long, value_name = "XPATH")]
    query: Option<String>,
    /// Output: text (wevtutil /f:text), xml (Event Viewer's XML view), json (one per line),
    /// ecs (one per line, in the shape winlogbeat gives Windows events, for SIEM rules).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Keep running and print new events as they are logged (Ctrl-C to stop).
    #[arg(long, short = 'f')]
    follow: bool,
    /// Instead of events: the copies flood control is still counting, in windows not
    /// ended yet, by any process writing the log (how many, since when, and when the
    /// summary record is written). Text or json.
    #[arg(
        long,
        conflicts_with_all = [
            "count", "oldest_first", "id", "level", "since", "until", "data", "activity",
            "query", "follow",
        ]
    )]
    pending: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Format {
    #[default]
    Text,
    Xml,
    Json,
    Ecs,
}

#[derive(clap::Args, Debug)]
struct WriteArgs {
    /// The event ID (36864-36888).
    #[arg(long)]
    id: String,
    /// A data field by its EventData name (repeatable); fields not given are empty.
    #[arg(long, value_name = "NAME=VALUE")]
    data: Vec<String>,
    /// The activity (connection) GUID to attach.
    #[arg(long, value_name = "GUID")]
    activity: Option<String>,
}

#[derive(clap::Args, Debug)]
struct DemoArgs {
    /// How many events to generate.
    #[arg(long, short = 'c', default_value_t = 200)]
    count: usize,
}

#[derive(clap::Args, Debug)]
struct ClearArgs {
    /// Move the log to events-archive-<UTC time>.db instead of deleting its records.
    #[arg(long)]
    archive: bool,
}

/// The log's options for this data directory: the `[EventLog]` table of
/// `settings.toml` (size, retention, flood control), as every command uses them.
pub fn log_options(data_dir: &Path) -> LogOptions {
    crate::runtime::log_options(data_dir)
}

/// Run `schannel events`.
pub fn run(args: Args, data_dir: &Path) -> CmdResult {
    // Check the query before touching the disk, so a typo costs nothing.
    let query = match &args.command {
        None if args.query.pending => {
            if matches!(args.query.format, Format::Xml | Format::Ecs) {
                return Err(QueryError::filter(
                    "--pending prints text or json, not xml or ecs: the counts are not events (their summary records are, once written)",
                )
                .into());
            }
            None
        }
        None => Some(build_query(&args.query, now())?),
        Some(_) => None,
    };
    // serve and forward only read the log (they never create it); the others open it
    // for writing.
    let log = || open(data_dir);
    match args.command {
        Some(EventsCommand::Serve(a)) => crate::viewer::serve(a, data_dir),
        Some(EventsCommand::Forward(a)) => crate::viewer::forward(a, data_dir),
        Some(EventsCommand::Write(w)) => write(&log()?, w),
        Some(EventsCommand::Demo(d)) => demo(&log()?, d),
        Some(EventsCommand::Clear(c)) => clear(&log()?, c),
        None if args.query.pending => pending(&log()?, args.query.format),
        None => read(&log()?, &args.query, query.unwrap_or_default()),
    }
}

fn open(data_dir: &Path) -> Result<EventLog, Box<dyn std::error::Error>> {
    let log = EventLog::open_in(data_dir, log_options(data_dir))?;
    if let Some(moved) = log.moved_aside() {
        eprintln!("schannel: warning: {moved}");
    }
    Ok(log)
}

fn now() -> UnixNanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

fn build_query(a: &QueryArgs, now: UnixNanos) -> Result<Query, QueryError> {
    let spec = QuerySpec {
        ids: a.id.clone(),
        levels: a.level.clone(),
        since: a.since.clone(),
        until: a.until.clone(),
        data: a.data.clone(),
        activity: a.activity.clone(),
        xpath: a.query.clone(),
    };
    let mut q = spec.to_query(now)?;
    if a.oldest_first {
        q = q.oldest_first();
    }
    if let Some(n) = a.count {
        q = q.count(n);
    }
    Ok(q)
}

/// Print one record in the chosen format. `index` is wevtutil's `Event[n]`.
fn print(out: &mut impl Write, r: &EventRecord, format: Format, index: usize) -> io::Result<()> {
    match format {
        Format::Text => {
            if index > 0 {
                writeln!(out)?;
            }
            write!(out, "{}", render_text(r, index))
        }
        Format::Xml => writeln!(out, "{}", render_xml(r)),
        Format::Json => writeln!(out, "{}", render_json(r)),
        Format::Ecs => writeln!(out, "{}", render_ecs(r)),
    }
}

/// On stderr after the output: how many of the records shown stand for records the log
/// could not store (an outage, or a writer that could not keep up), so they are not
/// missed among the others. (Whether the log is failing right now is not known here:
/// only the process writing into it sees that, and `schannel serve` prints it.)
fn not_stored_note(records: &[EventRecord]) -> Option<String> {
    let (summaries, lost) = records
        .iter()
        .filter_map(|r| r.fold)
        .filter(|f| f.reason == FoldReason::NotStored)
        .fold((0u64, 0u64), |(s, n), f| (s + 1, n + f.count));
    (summaries > 0).then(|| {
        let (are, them) = if summaries == 1 {
            ("is a summary, not an event: it stands", "its")
        } else {
            ("are summaries, not events: they stand", "their")
        };
        format!(
            "schannel: {summaries} of these records {are} for {lost} records the event log could not store (it refused writes or could not keep up); {them} text says how many of which event ID, and when"
        )
    })
}

/// A closed pipe (`| head`) ends the output quietly, as it does for other tools.
fn output_result(r: io::Result<()>) -> CmdResult {
    match r {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

fn read(log: &EventLog, a: &QueryArgs, mut query: Query) -> CmdResult {
    let stdout = io::stdout();
    if !a.follow {
        // Progress only when the records go somewhere else than the terminal it draws on.
        let show = !stdout.is_terminal();
        let spinner = show
            .then(|| crate::progress::spinner("reading the log"))
            .flatten();
        let records = log.query(&query);
        crate::progress::done(spinner);
        let records = records?;
        if records.is_empty() {
            // On stderr, so scripts reading stdout still see an empty result.
            eprintln!(
                "schannel: no events match{}",
                if log.last_record_id()? == 0 {
                    " (the log is empty; EventLogging decides what is recorded: `schannel config get EventLogging`)"
                } else {
                    ""
                }
            );
        }
        let bar = (show && records.len() >= PROGRESS_FROM)
            .then(|| crate::progress::bar(records.len() as u64, "writing", "records"))
            .flatten();
        let mut out = io::BufWriter::new(stdout.lock());
        let r = records
            .iter()
            .enumerate()
            .try_for_each(|(i, r)| {
                if let Some(b) = bar.as_ref().filter(|_| i % 1024 == 0) {
                    b.set_position(i as u64);
                }
                print(&mut out, r, a.format, i)
            })
            .and_then(|()| out.flush());
        crate::progress::done(bar);
        if let Some(note) = not_stored_note(&records) {
            eprintln!("{note}");
        }
        return output_result(r);
    }
    // Follow: the last events first (10 unless --count says), oldest first like `tail -f`,
    // then each new one as it is committed, by this process or another.
    let start = log.last_record_id()?;
    if query.count.is_none() {
        query.count = Some(10);
    }
    let mut backlog = log.query(&Query {
        oldest_first: false,
        ..query.clone()
    })?;
    backlog.reverse();
    let mut index = 0;
    let emit = |records: &[EventRecord], index: &mut usize| -> io::Result<()> {
        let mut out = stdout.lock();
        for r in records {
            print(&mut out, r, a.format, *index)?;
            *index += 1;
        }
        out.flush()
    };
    if let Err(e) = emit(&backlog, &mut index) {
        return output_result(Err(e));
    }
    let mut follow = log.follow(
        Query {
            count: None,
            ..query
        },
        start,
    );
    loop {
        let records = follow.wait(Duration::from_secs(1))?;
        if let Err(e) = emit(&records, &mut index) {
            return output_result(Err(e));
        }
    }
}

/// `--pending`: flood control's open windows, as their writers last committed them.
fn pending(log: &EventLog, format: Format) -> CmdResult {
    let folds = log.pending_folds()?;
    if folds.is_empty() {
        eprintln!(
            "schannel: flood control is counting no copies now: every folded copy is in a summary record (`schannel events --format json | grep Folded`)"
        );
    }
    let now = now();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let r = folds
        .iter()
        .try_for_each(|p| match format {
            Format::Json | Format::Ecs => writeln!(out, "{}", pending_json(p)),
            Format::Text | Format::Xml => writeln!(out, "{}", pending_text(p, now)),
        })
        .and_then(|()| out.flush());
    output_result(r)
}

/// One line: "36887 AlertDesc=46: 1,234 copies folded since <first>, last <last>; the
/// summary is written at <window end>" (or, past that, that it is overdue).
fn pending_text(p: &PendingFold, now: UnixNanos) -> String {
    let fields: Vec<String> = p
        .event_id
        .def()
        .fields
        .iter()
        .zip(&p.data)
        .map(|(name, value)| {
            let plain = !value.is_empty()
                && !value
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || ",:\"".contains(c));
            if plain {
                format!("{name}={value}")
            } else {
                format!("{name}={value:?}")
            }
        })
        .collect();
    let what = if fields.is_empty() {
        p.event_id.value().to_string()
    } else {
        format!("{} {}", p.event_id.value(), fields.join(", "))
    };
    let when = if p.window_end >= now {
        format!(
            "the summary is written at {}",
            format_rfc3339(p.window_end, 3)
        )
    } else {
        format!(
            "the summary was due at {}; process {} has not written it yet (if it stopped, these copies are lost)",
            format_rfc3339(p.window_end, 3),
            p.process_id
        )
    };
    format!(
        "{what}: {} {} folded since {}, last {}; {when}",
        thousands(p.count),
        if p.count == 1 { "copy" } else { "copies" },
        format_rfc3339(p.first, 3),
        format_rfc3339(p.last, 3),
    )
}

/// One JSON object: `{"EventID","EventData":{...},"Count","First","Last","WindowEnd",
/// "ProcessID"}`, times as in the events' JSON.
fn pending_json(p: &PendingFold) -> String {
    let data: Vec<String> = p
        .event_id
        .def()
        .fields
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "{}:{}",
                json_str(name),
                json_str(p.data.get(i).map_or("", String::as_str))
            )
        })
        .collect();
    format!(
        "{{\"EventID\":{},\"EventData\":{{{}}},\"Count\":{},\"First\":{},\"Last\":{},\"WindowEnd\":{},\"ProcessID\":{}}}",
        p.event_id.value(),
        data.join(","),
        p.count,
        json_str(&format_rfc3339(p.first, 9)),
        json_str(&format_rfc3339(p.last, 9)),
        json_str(&format_rfc3339(p.window_end, 9)),
        p.process_id
    )
}

fn json_str(s: &str) -> String {
    // Serializing a str cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn write(log: &EventLog, w: WriteArgs) -> CmdResult {
    let id = parse_event_id(&w.id)?;
    let def = id.def();
    let emitter = Emitter::new(Arc::new(NoSink), EventLogging::ALL);
    let mut record = emitter.blank(id);
    // A blank record has no fields yet: one empty value per catalog field.
    record.data.resize(def.fields.len());
    for spec in &w.data {
        let (name, value) = spec.split_once('=').ok_or_else(|| {
            QueryError::filter(format!("'{spec}' is not NAME=VALUE (e.g. AlertDesc=48)"))
        })?;
        let Some(i) = def.field_index(name.trim()) else {
            let valid = if def.fields.is_empty() {
                "it has no data fields".to_string()
            } else {
                format!("its fields are: {}", def.fields.join(", "))
            };
            return Err(QueryError::filter(format!(
                "event {} ({}) has no data field '{}'; {valid}",
                id.value(),
                def.title,
                name.trim()
            ))
            .into());
        };
        record.data.set(i, value);
    }
    if let Some(a) = &w.activity {
        record.activity_id = Some(ActivityId::parse(a).map_err(QueryError::filter)?);
    }
    log.emit(record);
    log.sync()?;
    println!(
        "Wrote event {} ({}) as record {} to {}",
        id.value(),
        def.title,
        log.last_record_id()?,
        log.path().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Only for `Emitter::blank`, which stamps time, computer, process and thread.
struct NoSink;

impl EventSink for NoSink {
    fn emit(&self, _record: EventRecord) {}
}

/// A small deterministic generator, so the demo is the same each time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

/// Fewer records than this are written too fast for a bar to mean anything.
const PROGRESS_FROM: usize = 10_000;

fn demo(log: &EventLog, d: DemoArgs) -> CmdResult {
    let before = log.last_record_id()?;
    let emitter = Emitter::new(Arc::new(NoSink), EventLogging::ALL);
    let mut rng = Lcg(0x5C4A_11E1);
    let n = d.count;
    let now = now();
    let minute = 60 * 1_000_000_000i64;
    // Spread over the last day, oldest first, so record IDs follow time.
    let span = 24 * 60 * minute;
    let step = span / n.max(1) as i64;
    let hosts = [
        "www.example.com",
        "api.example.com",
        "mail.example.org",
        "legacy.intranet",
    ];
    let clients = ["scanner.example.net", "client.example.com", "10.0.0.7"];
    let make = |id: EventId, data: &[&str], t: UnixNanos, activity: Option<ActivityId>| {
        let mut r = emitter.blank(id);
        r.time = t;
        r.data = data.iter().collect();
        r.data.resize(id.def().fields.len());
        r.activity_id = activity;
        r
    };
    let mut emitted = 0usize;
    let bar = (n >= PROGRESS_FROM)
        .then(|| crate::progress::bar(n as u64, "writing demo events", "events"))
        .flatten();
    if n > 0 {
        log.emit(make(EventId::PackageLoaded, &[], now - span, None));
        emitted += 1;
    }
    while emitted < n {
        let t = now - span + (emitted as i64 + 1) * step;
        let activity = Some(ActivityId::new_random());
        let host = hosts[rng.next(hosts.len())];
        let roll = rng.next(100);
        let records: Vec<EventRecord> = match roll {
            0..=54 => {
                let (proto, cipher, suite, mac, exch, bits) = match rng.next(3) {
                    0 => ("TLS 1.3", "AES_256_GCM", "0x1302", "AEAD", "X25519", "255"),
                    1 => (
                        "TLS 1.3",
                        "AES_128_GCM",
                        "0x1301",
                        "AEAD",
                        "secp256r1",
                        "256",
                    ),
                    _ => (
                        "TLS 1.2",
                        "AES_256_GCM",
                        "0xC030",
                        "SHA384",
                        "ECDHE_RSA",
                        "255",
                    ),
                };
                let side = if rng.next(4) == 0 { "client" } else { "server" };
                let subject = format!("CN={host}");
                vec![make(
                    EventId::HandshakeCompleted,
                    &[
                        side,
                        proto,
                        cipher,
                        "256",
                        mac,
                        exch,
                        bits,
                        suite,
                        "0x7f3a00c0",
                        host,
                        &subject,
                        "",
                    ],
                    t,
                    activity,
                )]
            }
            55..=69 => {
                // The client refuses our certificate: it sends an alert.
                let desc = ["46", "48", "42", "45"][rng.next(4)];
                vec![make(EventId::FatalAlertReceived, &[desc], t, activity)]
            }
            70..=81 => {
                // We refuse the peer: the alert we send, and the internal error state.
                let (desc, state) = [
                    ("40", "1205"),
                    ("70", "1203"),
                    ("80", "1208"),
                    ("48", "1210"),
                ][rng.next(4)];
                vec![make(
                    EventId::FatalAlertGenerated,
                    &[desc, state, clients[rng.next(clients.len())]],
                    t,
                    activity,
                )]
            }
            82..=89 => {
                let proto = ["SSL 3.0", "TLS 1.0", "TLS 1.1"][rng.next(3)];
                vec![
                    make(EventId::NoSharedCipherSuite, &[proto], t, activity),
                    make(
                        EventId::FatalAlertGenerated,
                        &["70", "1203", clients[0]],
                        t + 1000,
                        activity,
                    ),
                ]
            }
            90..=93 => vec![make(
                EventId::ServerCertificateWrongName,
                &[host],
                t,
                activity,
            )],
            94..=95 => vec![make(
                EventId::ServerCertificateUntrustedRoot,
                &[],
                t,
                activity,
            )],
            96 => vec![make(EventId::ServerCertificateExpired, &[], t, activity)],
            97 => vec![make(EventId::NoSuitableClientCertificate, &[], t, activity)],
            98 => vec![make(
                EventId::ClientCertificateInvalid,
                &["0x800B0109"],
                t,
                activity,
            )],
            _ => {
                // A scanner's burst: identical alerts within seconds. Flood control
                // stores the first ones and folds the rest into a summary.
                (0..25)
                    .map(|k| {
                        make(
                            EventId::FatalAlertGenerated,
                            &["40", "1205", clients[0]],
                            t + k * 100_000_000,
                            None,
                        )
                    })
                    .collect()
            }
        };
        for r in records.into_iter().take(n - emitted) {
            log.emit(r);
            emitted += 1;
        }
        if let Some(b) = &bar {
            b.set_position(emitted as u64);
        }
    }
    let synced = log.sync();
    crate::progress::done(bar);
    synced?;
    let stored = log.last_record_id()?.saturating_sub(before);
    println!(
        "Wrote {emitted} demo events over the last 24 hours to {} ({stored} records; flood control folded the rest into summaries).\nTry: schannel events --count 5 | schannel events --id 36887,36888 --format xml --count 2 | schannel events --query \"*[EventData[Data[@Name='AlertDesc']=46]]\"",
        log.path().display(),
    );
    Ok(ExitCode::SUCCESS)
}

fn clear(log: &EventLog, c: ClearArgs) -> CmdResult {
    let spinner = crate::progress::spinner(if c.archive {
        "archiving the log"
    } else {
        "clearing the log"
    });
    let cleared = log.clear(c.archive);
    crate::progress::done(spinner);
    match cleared? {
        Some(archive) => println!(
            "Archived the log to {} and started a new one at {}",
            archive.display(),
            log.path().display()
        ),
        None => println!("Cleared the log {}", log.path().display()),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (1_234, "1,234"),
            (123_456_789, "123,456,789"),
        ];
        for (n, s) in cases {
            assert_eq!(thousands(n), s);
        }
    }

    /// Values that would run together with the punctuation are quoted; an overdue window
    /// names the process that did not write its summary.
    #[test]
    fn pending_lines_read_unambiguously() {
        let mut p = PendingFold {
            event_id: EventId::FatalAlertGenerated,
            data: vec!["40".into(), "1205".into(), "".into()],
            count: 1,
            first: 0,
            last: 0,
            window_end: 2_000_000_000,
            process_id: 77,
        };
        assert_eq!(
            pending_text(&p, 1_000_000_000),
            "36888 AlertDesc=40, ErrorState=1205, TargetName=\"\": 1 copy folded since 1970-01-01T00:00:00.000Z, last 1970-01-01T00:00:00.000Z; the summary is written at 1970-01-01T00:00:02.000Z"
        );
        p.event_id = EventId::NoSharedCipherSuite;
        p.data = vec!["TLS 1.0".into()];
        let line = pending_text(&p, 3_000_000_000);
        assert!(line.starts_with("36874 Protocol=\"TLS 1.0\": "), "{line}");
        assert!(
            line.ends_with("the summary was due at 1970-01-01T00:00:02.000Z; process 77 has not written it yet (if it stopped, these copies are lost)"),
            "{line}"
        );
    }
}
