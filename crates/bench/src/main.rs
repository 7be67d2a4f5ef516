//! securechannel against raw rustls, side by side, in one run.
//!
//! Rows: full handshakes (TLS 1.3 / 1.2 x ECDSA P-256 / RSA-2048), resumed handshakes
//! (TLS 1.3 tickets, TLS 1.2), bulk encrypt+decrypt of 16 KiB records (AES-128-GCM,
//! AES-256-GCM, ChaCha20-Poly1305). Columns: raw rustls unbuffered (the engine style of
//! the provider's contexts, the baseline), ours (contexts logging every event with
//! EventLogging = 7 into the SQLite log, flush included), ours with flood control off,
//! and raw rustls buffered as a reference. Each row runs its columns interleaved
//! (raw, ours, ours flood-off, buffered; repeated), and reports the median.
//!
//! See README.md for how to run it and what is measured.
#![forbid(unsafe_code)]

mod ours;
mod pki;
mod raw;

use pki::{KeyType, ServerPki};
use rustls::crypto::aws_lc_rs::cipher_suite as cs;
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};
use securechannel::{EventId, Protocol};
use securechannel_eventlog::{EventLog, FloodControl, LogOptions, Query};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Plaintext per record: the largest TLS allows.
pub const RECORD_LEN: usize = 16 * 1024;

pub fn record_plaintext() -> Vec<u8> {
    (0..RECORD_LEN).map(|i| (i % 251) as u8).collect()
}

/// What one timed run did.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Handshakes, or plaintext bytes.
    units: u64,
    /// Handshakes that resumed a session.
    resumed: u64,
    elapsed: Duration,
    /// CPU time of the measuring thread during the run (None: not measurable here).
    cpu: Option<Duration>,
    /// CPU time of the logs' writer threads during the run.
    writer_cpu: Option<Duration>,
}

impl Sample {
    pub fn handshakes(n: u64, resumed: u64, elapsed: Duration) -> Sample {
        Sample {
            units: n,
            resumed,
            elapsed,
            cpu: None,
            writer_cpu: None,
        }
    }

    pub fn bytes(n: u64, elapsed: Duration) -> Sample {
        Sample {
            units: n,
            resumed: 0,
            elapsed,
            cpu: None,
            writer_cpu: None,
        }
    }

    fn rate(&self) -> f64 {
        self.units as f64 / self.elapsed.as_secs_f64()
    }
}

/// How long one run lasts: a fixed duration (the table), or a fixed count of handshakes
/// or records (`--iterations`, for profilers, which slow everything down).
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    Time(Duration),
    Count(u64),
}

impl Budget {
    /// Whether another handshake or record fits, after `done` of them since `start`.
    pub fn more(self, start: Instant, done: u64) -> bool {
        match self {
            Budget::Time(d) => start.elapsed() < d,
            Budget::Count(n) => done < n,
        }
    }
}

/// Something measured under a [`Budget`].
pub trait Workload {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Full,
    Resumed,
    Bulk,
}

struct Case {
    kind: Kind,
    protocol: Protocol,
    key: KeyType,
    suite: SupportedCipherSuite,
    /// The IANA name, as the cipher suite order takes it.
    suite_iana: &'static str,
}

impl Case {
    fn label(&self) -> String {
        let v = self.protocol.name();
        match self.kind {
            Kind::Full => format!("full {v} {}", self.key.name()),
            Kind::Resumed if self.protocol == Protocol::Tls13 => {
                format!("resumed {v} ticket {}", self.key.name())
            }
            Kind::Resumed => format!("resumed {v} {}", self.key.name()),
            Kind::Bulk => format!("bulk {v} {}", bulk_cipher_name(self.suite_iana)),
        }
    }

    fn version(&self) -> &'static SupportedProtocolVersion {
        match self.protocol {
            Protocol::Tls12 => &rustls::version::TLS12,
            _ => &rustls::version::TLS13,
        }
    }

    fn unit(&self) -> &'static str {
        match self.kind {
            Kind::Bulk => "MB/s",
            _ => "hs/s",
        }
    }
}

fn bulk_cipher_name(iana: &str) -> &'static str {
    if iana.contains("CHACHA20") {
        "ChaCha20-Poly1305"
    } else if iana.contains("AES_128") {
        "AES-128-GCM"
    } else {
        "AES-256-GCM"
    }
}

/// The rows, in print order. Handshake rows use the AES-256-GCM suites: the first suite
/// of aws-lc-rs' default order, so the provider negotiates it even before its cipher
/// suite order is applied (see `ours::settings`).
fn cases() -> Vec<Case> {
    let c = |kind, protocol, key, suite, suite_iana| Case {
        kind,
        protocol,
        key,
        suite,
        suite_iana,
    };
    use KeyType::{EcdsaP256 as Ec, Rsa2048 as Rsa};
    use Protocol::{Tls12, Tls13};
    let t13 = (cs::TLS13_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384");
    let ec12 = (
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    );
    let rsa12 = (
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    );
    vec![
        c(Kind::Full, Tls13, Ec, t13.0, t13.1),
        c(Kind::Full, Tls13, Rsa, t13.0, t13.1),
        c(Kind::Full, Tls12, Ec, ec12.0, ec12.1),
        c(Kind::Full, Tls12, Rsa, rsa12.0, rsa12.1),
        c(Kind::Resumed, Tls13, Ec, t13.0, t13.1),
        c(Kind::Resumed, Tls12, Ec, ec12.0, ec12.1),
        c(
            Kind::Bulk,
            Tls13,
            Ec,
            cs::TLS13_AES_128_GCM_SHA256,
            "TLS_AES_128_GCM_SHA256",
        ),
        c(Kind::Bulk, Tls13, Ec, t13.0, t13.1),
        c(
            Kind::Bulk,
            Tls13,
            Ec,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
        ),
    ]
}

// ---------------------------------------------------------------------------------------

struct Args {
    seconds: f64,
    warmup: f64,
    reps: usize,
    iterations: Option<u64>,
    only: Option<String>,
    buffered: bool,
    null_sink: bool,
    quick: bool,
}

const USAGE: &str =
    "usage: securechannel-bench [--quick] [--seconds S] [--reps N] [--iterations N] [--only TEXT] [--no-buffered] [--null-sink]
  --seconds S    measure each column of each row for S seconds per repetition (default 2;
                 env BENCH_SECONDS)
  --reps N       repetitions per column, median reported (default 3)
  --quick        0.1 s x 3 repetitions: the whole table in about 10 s (a smoke run)
  --iterations N each run does N handshakes / N records instead of a duration, without
                 warm-up (for profilers: perf, valgrind --tool=callgrind)
  --only TEXT    only the rows whose label contains TEXT (e.g. 'bulk', 'TLS 1.2', 'RSA')
  --no-buffered  skip the raw rustls buffered reference column
  --null-sink    add a diagnostic column: ours with events built but sent to a NullSink
                 (the provider's own cost, without the SQLite log)";

fn parse_args() -> Result<Args, BoxError> {
    let mut seconds: f64 = match std::env::var("BENCH_SECONDS") {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("BENCH_SECONDS={v} is not a number of seconds"))?,
        Err(_) => 2.0,
    };
    let mut reps = 3;
    let mut iterations = None;
    let mut only = None;
    let mut buffered = true;
    let mut null_sink = false;
    let mut quick = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seconds" => {
                let v = value("--seconds")?;
                seconds = v
                    .parse()
                    .map_err(|_| format!("--seconds {v} is not a number"))?;
            }
            "--reps" => {
                let v = value("--reps")?;
                reps = v
                    .parse()
                    .map_err(|_| format!("--reps {v} is not a count"))?;
            }
            "--iterations" => {
                let v = value("--iterations")?;
                iterations = Some(
                    v.parse()
                        .map_err(|_| format!("--iterations {v} is not a count"))?,
                );
            }
            "--only" => only = Some(value("--only")?),
            "--no-buffered" => buffered = false,
            "--null-sink" => null_sink = true,
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}'\n{USAGE}").into()),
        }
    }
    if quick {
        seconds = 0.1;
        reps = 3;
    }
    if !(seconds > 0.0 && seconds.is_finite()) || reps == 0 {
        return Err("--seconds must be positive and --reps at least 1".into());
    }
    Ok(Args {
        seconds,
        warmup: (seconds / 4.0).max(0.05),
        reps,
        iterations,
        only,
        buffered,
        null_sink,
        quick,
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The CPU time this thread has run (Linux schedstat, ns): unlike rates, it does not
/// depend on what else the machine runs.
fn thread_cpu() -> Option<Duration> {
    schedstat_runtime("/proc/thread-self/schedstat")
}

/// The CPU time of the event logs' writer threads (named `schannel-eventlog`, which the
/// kernel truncates to 15 characters).
fn writer_cpu() -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end().starts_with("schannel-event") {
            total += schedstat_runtime(task.path().join("schedstat"))?;
        }
    }
    Some(total)
}

fn schedstat_runtime(path: impl AsRef<std::path::Path>) -> Option<Duration> {
    let text = std::fs::read_to_string(path).ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// VmHWM: flood control keeps every distinct record it tracks in memory, so the peak
/// resident size is part of the log's cost.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    RawUnbuffered,
    Ours,
    OursFloodOff,
    OursNullSink,
    RawBuffered,
}

/// One row's results: per column, the samples of each repetition.
struct RowResult {
    label: String,
    unit: &'static str,
    negotiated: String,
    /// Whether ours negotiated the same suite and group as raw.
    same_parameters: bool,
    columns: Vec<(Column, Vec<Sample>)>,
    notes: Vec<String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl RowResult {
    /// Median CPU microseconds per handshake (per MB for bulk) of the measuring thread
    /// (`writer: false`) or of the log writer threads (`writer: true`).
    fn median_cpu_per_unit(&self, col: Column, writer: bool) -> Option<f64> {
        let (_, samples) = self.columns.iter().find(|c| c.0 == col)?;
        let per_unit: Option<Vec<f64>> = samples
            .iter()
            .map(|s| {
                let cpu = if writer { s.writer_cpu } else { s.cpu }?;
                let units = if self.unit == "MB/s" {
                    s.units as f64 / 1e6
                } else {
                    s.units as f64
                };
                (units > 0.0).then(|| cpu.as_secs_f64() * 1e6 / units)
            })
            .collect();
        per_unit.filter(|v| !v.is_empty()).map(median)
    }

    fn median_rate(&self, col: Column) -> Option<f64> {
        let (_, samples) = self.columns.iter().find(|c| c.0 == col)?;
        let rates: Vec<f64> = samples.iter().map(Sample::rate).collect();
        if rates.is_empty() {
            return None;
        }
        let m = median(rates);
        Some(if self.unit == "MB/s" { m / 1e6 } else { m })
    }
}

fn group_name(g: Option<u16>) -> &'static str {
    match g {
        Some(0x001D) => "X25519",
        Some(0x0017) => "ECDH_P256",
        Some(0x0018) => "ECDH_P384",
        Some(0x11EC) => "X25519MLKEM768",
        Some(_) => "other",
        None => "none",
    }
}

struct Logs {
    flood_on: Arc<ours::OurLog>,
    flood_off: Arc<ours::OurLog>,
}

fn run_case(case: &Case, pki: &ServerPki, logs: &Logs, args: &Args) -> Result<RowResult, BoxError> {
    let label = case.label();
    let resume = case.kind == Kind::Resumed;
    let client = raw::client_config(case.suite, case.version(), pki)?;
    let server = raw::server_config(case.suite, case.version(), pki)?;
    let creds = |log: Option<&Arc<ours::OurLog>>| {
        ours::Credentials::new(log.cloned(), pki, case.protocol, case.suite_iana)
    };

    // A probe handshake each (for the resumed rows it also primes the client's cache):
    // what did each side really negotiate?
    let mut raw_names = raw::Names::new(resume);
    let raw_probe = raw::UnbufferedPair::handshake(&client, &server, raw_names.next_name())?;
    let (raw_suite, raw_group) = raw_probe.negotiated();
    let our_creds = creds(Some(&logs.flood_on));
    let mut our_names = raw::Names::new(resume);
    let our_probe = ours::ContextPair::handshake(&our_creds, &our_names.next_name())?;
    let (our_suite, our_exchange) = our_probe.negotiated()?;
    let raw_desc = format!("0x{:04X} {}", raw_suite.unwrap_or(0), group_name(raw_group));
    let our_desc = format!("0x{our_suite:04X} {our_exchange}");
    let same_parameters = raw_suite == Some(our_suite) && group_name(raw_group) == our_exchange;
    let negotiated = if same_parameters {
        raw_desc
    } else {
        format!("raw {raw_desc} / ours {our_desc}")
    };

    let mut workloads: Vec<(Column, Box<dyn Workload>)> = Vec::new();
    match case.kind {
        Kind::Full | Kind::Resumed => {
            workloads.push((
                Column::RawUnbuffered,
                Box::new(raw::UnbufferedHandshakes {
                    client: client.clone(),
                    server: server.clone(),
                    names: raw_names,
                }),
            ));
            workloads.push((
                Column::Ours,
                Box::new(ours::Handshakes {
                    creds: our_creds,
                    names: our_names,
                }),
            ));
            let mut variants = vec![(Column::OursFloodOff, Some(&logs.flood_off))];
            if args.null_sink {
                variants.push((Column::OursNullSink, None));
            }
            for (column, log) in variants {
                let c = creds(log);
                let mut names = raw::Names::new(resume);
                ours::ContextPair::handshake(&c, &names.next_name())?;
                workloads.push((column, Box::new(ours::Handshakes { creds: c, names })));
            }
            if args.buffered {
                // A separate client config: the buffered client's session cache is its own.
                let bclient = raw::client_config(case.suite, case.version(), pki)?;
                let mut names = raw::Names::new(resume);
                raw::BufferedPair::handshake(&bclient, &server, names.next_name())?;
                workloads.push((
                    Column::RawBuffered,
                    Box::new(raw::BufferedHandshakes {
                        client: bclient,
                        server: server.clone(),
                        names,
                    }),
                ));
            }
        }
        Kind::Bulk => {
            workloads.push((
                Column::RawUnbuffered,
                Box::new(raw::UnbufferedBulk::new(raw_probe)),
            ));
            workloads.push((Column::Ours, Box::new(ours::Bulk::new(our_probe))));
            if args.buffered {
                let pair =
                    raw::BufferedPair::handshake(&client, &server, "bulk.bench.test".into())?;
                workloads.push((Column::RawBuffered, Box::new(raw::BufferedBulk::new(pair))));
            }
        }
    }

    let measure = match args.iterations {
        Some(n) => Budget::Count(n),
        None => {
            let warmup = Budget::Time(Duration::from_secs_f64(args.warmup));
            for (_, w) in &mut workloads {
                w.run_for(warmup)?;
            }
            Budget::Time(Duration::from_secs_f64(args.seconds))
        }
    };
    let mut columns: Vec<(Column, Vec<Sample>)> =
        workloads.iter().map(|(c, _)| (*c, Vec::new())).collect();
    for _ in 0..args.reps {
        for (i, (_, w)) in workloads.iter_mut().enumerate() {
            let (cpu0, writer0) = (thread_cpu(), writer_cpu());
            let mut s = w.run_for(measure)?;
            s.cpu = thread_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
            s.writer_cpu = writer_cpu().zip(writer0).map(|(b, a)| b.saturating_sub(a));
            columns[i].1.push(s);
        }
    }

    let mut notes = Vec::new();
    if case.kind != Kind::Bulk {
        for (col, samples) in &columns {
            let n: u64 = samples.iter().map(|s| s.units).sum();
            let r: u64 = samples.iter().map(|s| s.resumed).sum();
            let expected = if resume { n } else { 0 };
            if r != expected {
                notes.push(format!(
                    "{label}: {col:?} resumed {r} of {n} handshakes (expected {expected})"
                ));
            }
        }
    }
    if !same_parameters {
        notes.push(format!(
            "{label}: ours negotiated {our_desc}, raw {}: the provider's cipher suite order / \
             groups did not reach the engine, so the ratio compares different parameters",
            format_args!("0x{:04X} {}", raw_suite.unwrap_or(0), group_name(raw_group))
        ));
    }
    Ok(RowResult {
        label,
        unit: case.unit(),
        negotiated,
        same_parameters,
        columns,
        notes,
    })
}

// ---------------------------------------------------------------------------------------

fn fmt_rate(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "-".to_owned(),
    }
}

fn fmt_ratio(a: Option<f64>, b: Option<f64>, comparable: bool) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let flag = if !comparable {
                "*"
            } else if a / b < 0.97 {
                " <"
            } else {
                ""
            };
            format!("{:.3}{flag}", a / b)
        }
        _ => "-".to_owned(),
    }
}

fn print_table(rows: &[RowResult]) {
    type Cell = fn(&RowResult) -> String;
    let mut columns: Vec<(&str, usize, Cell)> = vec![
        ("raw-unbuf", 10, |r| {
            fmt_rate(r.median_rate(Column::RawUnbuffered))
        }),
        ("ours", 10, |r| fmt_rate(r.median_rate(Column::Ours))),
        ("ours/raw", 8, |r| {
            fmt_ratio(
                r.median_rate(Column::Ours),
                r.median_rate(Column::RawUnbuffered),
                r.same_parameters,
            )
        }),
        ("ours-noflood", 12, |r| {
            fmt_rate(r.median_rate(Column::OursFloodOff))
        }),
        ("/raw", 8, |r| {
            fmt_ratio(
                r.median_rate(Column::OursFloodOff),
                r.median_rate(Column::RawUnbuffered),
                r.same_parameters,
            )
        }),
    ];
    if rows
        .iter()
        .any(|r| r.median_rate(Column::OursNullSink).is_some())
    {
        columns.push(("ours-null", 10, |r| {
            fmt_rate(r.median_rate(Column::OursNullSink))
        }));
        columns.push(("/raw", 8, |r| {
            fmt_ratio(
                r.median_rate(Column::OursNullSink),
                r.median_rate(Column::RawUnbuffered),
                r.same_parameters,
            )
        }));
    }
    if rows
        .iter()
        .any(|r| r.median_rate(Column::RawBuffered).is_some())
    {
        columns.push(("raw-buf", 10, |r| {
            fmt_rate(r.median_rate(Column::RawBuffered))
        }));
        columns.push(("ours/buf", 9, |r| {
            fmt_ratio(
                r.median_rate(Column::Ours),
                r.median_rate(Column::RawBuffered),
                r.same_parameters,
            )
        }));
    }
    let mut header = format!("{:<34} {:<5} {:<22}", "row", "unit", "suite / group");
    for (name, width, _) in &columns {
        header.push_str(&format!(" {name:>width$}"));
    }
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    for r in rows {
        let mut line = format!("{:<34} {:<5} {:<22}", r.label, r.unit, r.negotiated);
        for (_, width, cell) in &columns {
            line.push_str(&format!(" {:>width$}", cell(r)));
        }
        println!("{line}");
    }
    println!(
        "ratios: median of the column / median of raw-unbuf (ours/buf: of raw-buf); '<' below the \
         0.97 target; '*' ours negotiated other parameters than raw (see notes)"
    );
}

/// CPU time per unit: what each side costs the machine, whatever else runs on it.
fn print_cpu_table(rows: &[RowResult]) {
    let header = format!(
        "{:<34} {:<4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}",
        "CPU per unit (us)",
        "per",
        "raw",
        "ours",
        "+writer",
        "raw/ours",
        "/+writer",
        "noflood",
        "+writer",
        "/+writer",
        "ours-null",
        "raw/null",
        "writer@raw"
    );
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    let f = |v: Option<f64>| match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "-".to_owned(),
    };
    let ratio = |a: Option<f64>, b: Option<f64>, comparable: bool| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let flag = if !comparable {
                "*"
            } else if a / b < 0.97 {
                " <"
            } else {
                ""
            };
            format!("{:.3}{flag}", a / b)
        }
        _ => "-".to_owned(),
    };
    for r in rows {
        let raw = r.median_cpu_per_unit(Column::RawUnbuffered, false);
        let ours = r.median_cpu_per_unit(Column::Ours, false);
        let ours_w = r.median_cpu_per_unit(Column::Ours, true);
        let off = r.median_cpu_per_unit(Column::OursFloodOff, false);
        let off_w = r.median_cpu_per_unit(Column::OursFloodOff, true);
        let sum = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a + b);
        let per = if r.unit == "MB/s" { "MB" } else { "hs" };
        let null = r.median_cpu_per_unit(Column::OursNullSink, false);
        println!(
            "{:<34} {:<4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}",
            r.label,
            per,
            f(raw),
            f(ours),
            f(ours_w),
            ratio(raw, ours, r.same_parameters),
            ratio(raw, sum(ours, ours_w), r.same_parameters),
            f(off),
            f(off_w),
            ratio(raw, sum(off, off_w), r.same_parameters),
            f(null),
            ratio(raw, null, r.same_parameters),
            f(r.median_cpu_per_unit(Column::RawUnbuffered, true)),
        );
    }
    println!(
        "CPU: Linux schedstat run time of the measuring thread, and of the logs' writer threads \
         (+writer) during the same runs; ratios raw/ours (higher is better for ours, target \
         0.97); writer@raw: the writer threads' CPU while raw ran (flood-control timers), \
         charged to nobody"
    );
}

/// What the log stored of our 36880 events, queried from the log itself.
fn report_log(l: &ours::OurLog, flood: &str) -> Result<(), BoxError> {
    l.log.sync()?;
    let handshakes = l.handshakes.load(Ordering::Relaxed);
    let emitted = 2 * handshakes;
    let total_ids = l.log.last_record_id()?;
    let retained = l.log.reader().len()?;
    let records = l.log.query(&Query::new())?;
    let mut individual = 0u64;
    let mut summaries = 0u64;
    let mut folded = 0u64;
    let mut other = 0u64;
    for r in &records {
        if r.event_id != EventId::HandshakeCompleted {
            other += 1;
        } else if let Some(f) = &r.fold {
            summaries += 1;
            folded += f.count;
        } else {
            individual += 1;
        }
    }
    println!(
        "log {} ({flood}): {handshakes} of our handshakes -> {emitted} x 36880 emitted; \
         {total_ids} records stored in all (record IDs); retained now {retained} \
         (36880 one by one: {individual}; flood summaries: {summaries} covering {folded} \
         folded copies; other events: {other}); {} MB used",
        l.log.path().display(),
        l.log.reader().used_bytes()? as f64 / 1e6,
    );
    if total_ids < emitted {
        println!(
            "  -> {} of the emitted 36880 were folded instead of stored one by one",
            emitted - total_ids
        );
    } else {
        println!(
            "  -> every emitted 36880 was stored as its own record ({total_ids} >= {emitted}); \
             retained < stored means size retention (20 MiB, overwrite oldest) deleted old ones"
        );
    }
    if let Some(e) = l.log.last_error() {
        println!("  -> the log's last write error: {e}");
    }
    // Counted as not stored (the queue stayed full past the log's bounded wait): their
    // summaries are among the "flood summaries" above; say how many they stand for.
    let lost = l.log.health().lost;
    if lost > 0 {
        println!("  -> {lost} records were counted as not stored (not-stored summaries, not flood control)");
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("securechannel-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let started = Instant::now();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "securechannel-bench: {nproc} CPUs ({}), profile {}, rustls {} (aws-lc-rs), load average at start {}",
        cpu_model(),
        env!("BENCH_PROFILE"),
        env!("BENCH_RUSTLS_VERSION"),
        load_average()
    );
    println!(
        "each column: warm-up {:.2} s, then {} x {:.2} s interleaved (raw, ours, ours-noflood, buffered), median{}",
        args.warmup,
        args.reps,
        args.seconds,
        if args.quick { " (quick mode: noisy)" } else { "" }
    );

    let dir = tempfile::tempdir()?;
    let open = |name: &'static str, flood: FloodControl| -> Result<Arc<ours::OurLog>, BoxError> {
        let options = LogOptions {
            flood,
            ..LogOptions::default()
        };
        Ok(Arc::new(ours::OurLog {
            log: Arc::new(EventLog::open(dir.path().join(name), options)?),
            handshakes: AtomicU64::new(0),
        }))
    };
    let logs = Logs {
        flood_on: open("events.db", LogOptions::default().flood)?,
        flood_off: open("events-flood-off.db", FloodControl::off())?,
    };

    let t = Instant::now();
    let ecdsa = pki::generate(KeyType::EcdsaP256);
    let rsa = pki::generate(KeyType::Rsa2048);
    println!(
        "PKI generated with rcgen in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    for case in cases() {
        let label = case.label();
        if args.only.as_deref().is_some_and(|o| !label.contains(o)) {
            continue;
        }
        let pki = match case.key {
            KeyType::EcdsaP256 => &ecdsa,
            KeyType::Rsa2048 => &rsa,
        };
        eprintln!("  {label} ... (load {})", load_average());
        rows.push(run_case(&case, pki, &logs, &args)?);
    }

    println!();
    print_table(&rows);
    println!();
    print_cpu_table(&rows);
    for r in &rows {
        for n in &r.notes {
            println!("note: {n}");
        }
    }
    println!();
    report_log(&logs.flood_on, "flood control on: LogOptions::default()")?;
    report_log(&logs.flood_off, "flood control off")?;
    println!(
        "load average at end {}; peak RSS {}; total {:.0} s",
        load_average(),
        peak_rss(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
