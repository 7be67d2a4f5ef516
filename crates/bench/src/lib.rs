//! securechannel against raw rustls, side by side, in one process: the library behind
//! `schannel bench` (and the callgrind harness, `bench/callgrind.sh`).
//!
//! Rows: full handshakes (TLS 1.3 / 1.2 x ECDSA P-256 / RSA-2048), resumed handshakes
//! (TLS 1.3 tickets, TLS 1.2), bulk encrypt+decrypt of 16 KiB records (AES-128-GCM,
//! AES-256-GCM, ChaCha20-Poly1305). Columns: raw rustls unbuffered (the engine style of
//! the provider's contexts, the baseline), ours (contexts logging every event with
//! EventLogging = 7 into the SQLite log, the commit of every record included), and on
//! request ours into a `NullSink` (the provider without the log) and raw rustls buffered.
//! Each row runs its columns interleaved (raw, ours, ...; repeated `rounds` times) and
//! reports medians; the ratios are medians of the per-round ratios.
//!
//! CPU is measured per thread: the thread that runs the handshakes, and the log's writer
//! thread, separately ([`cpu`]). See README.md for what each figure means.
#![forbid(unsafe_code)]

pub mod cpu;
pub mod ours;
pub mod pki;
pub mod raw;
mod report;

pub use report::{ColumnStats, LogSummary, RowStats};

use pki::{KeyType, ServerPki};
use rustls::crypto::aws_lc_rs::cipher_suite as cs;
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};
use securechannel::{EventId, Protocol};
use securechannel_eventlog::{EventLog, LogOptions, Query};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Errors of a run, with what failed in words.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Plaintext per record: the largest TLS allows.
pub const RECORD_LEN: usize = 16 * 1024;

/// The bulk rows' plaintext: one record's worth.
pub fn record_plaintext() -> Vec<u8> {
    (0..RECORD_LEN).map(|i| (i % 251) as u8).collect()
}

/// What one timed run did.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Handshakes, or plaintext bytes.
    pub units: u64,
    /// Handshakes that resumed a session.
    pub resumed: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// CPU time of the measuring thread during the run (None: not measurable here).
    pub cpu: Option<Duration>,
    /// CPU time of the log's writer thread during the run.
    pub writer_cpu: Option<Duration>,
    /// Records the log stored during the run (record IDs assigned); None for raw.
    pub records: Option<u64>,
}

impl Sample {
    /// `n` handshakes, `resumed` of them resumed.
    pub fn handshakes(n: u64, resumed: u64, elapsed: Duration) -> Sample {
        Sample {
            units: n,
            resumed,
            elapsed,
            cpu: None,
            writer_cpu: None,
            records: None,
        }
    }

    /// `n` bytes of plaintext through encrypt and decrypt.
    pub fn bytes(n: u64, elapsed: Duration) -> Sample {
        Sample {
            resumed: 0,
            ..Sample::handshakes(n, 0, elapsed)
        }
    }
}

/// How long one run lasts: a fixed duration (the table), or a fixed count of handshakes
/// or records (`--iterations`, for profilers, which slow everything down).
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Run this long.
    Time(Duration),
    /// Do exactly this many handshakes or records.
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
    /// Run until the budget is spent.
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError>;
}

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Full handshakes (a new server name each time: nothing resumes).
    Full,
    /// Resumed handshakes (the same name, primed by one full handshake).
    Resumed,
    /// 16 KiB records encrypted by the client and decrypted by the server.
    Bulk,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Resumed => "resumed",
            Kind::Bulk => "bulk",
        }
    }
}

/// One row of the table.
pub struct Case {
    /// What is measured.
    pub kind: Kind,
    /// The protocol both sides are limited to.
    pub protocol: Protocol,
    /// The server certificate's key type.
    pub key: KeyType,
    /// The only cipher suite both sides offer.
    pub suite: SupportedCipherSuite,
    /// The IANA name, as the cipher suite order takes it.
    pub suite_iana: &'static str,
}

impl Case {
    /// The row's name in the table, e.g. `resumed TLS 1.3 ticket ECDSA P-256`.
    pub fn label(&self) -> String {
        let v = self.protocol.name();
        match self.kind {
            Kind::Full => format!("full {v} {}", self.key.name()),
            // Both protocols resume with tickets: the provider's server issues them
            // whenever ServerCacheTime allows resumption, and no setting limits TLS 1.2
            // to session IDs.
            Kind::Resumed => format!("resumed {v} ticket {}", self.key.name()),
            Kind::Bulk => format!("bulk {v} {}", bulk_cipher_name(self.suite_iana)),
        }
    }

    /// rustls' version for the row's protocol.
    pub fn version(&self) -> &'static SupportedProtocolVersion {
        match self.protocol {
            Protocol::Tls12 => &rustls::version::TLS12,
            _ => &rustls::version::TLS13,
        }
    }

    /// `MB/s` for bulk rows, `hs/s` for handshakes.
    pub fn unit(&self) -> &'static str {
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
pub fn cases() -> Vec<Case> {
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

/// How to run the bench.
#[derive(Debug, Clone)]
pub struct Options {
    /// Each column of each row runs this long per round.
    pub seconds: f64,
    /// Warm-up per column before the first round.
    pub warmup: f64,
    /// Interleaved rounds per row; medians are reported.
    pub rounds: usize,
    /// Each run does exactly this many handshakes / records instead (no warm-up).
    pub iterations: Option<u64>,
    /// Only the rows whose label contains this.
    pub only: Option<String>,
    /// Pin the measuring thread to this CPU (the log's writer thread stays free).
    pub cpu: Option<usize>,
    /// The event log ours writes into (`DATA_DIR/events.db`).
    pub log_path: PathBuf,
    /// How that log is kept (flood control off: every event stored one by one).
    pub log_options: LogOptions,
    /// Add the `ours-null` column: events built and dropped (`NullSink`).
    pub null_sink: bool,
    /// Add the `raw-buf` column: rustls' buffered connections.
    pub buffered: bool,
}

impl Options {
    /// `seconds` per round, `rounds` rounds, warm-up a quarter of a round.
    pub fn new(log_path: PathBuf, log_options: LogOptions, seconds: f64, rounds: usize) -> Self {
        Options {
            seconds,
            warmup: seconds / 4.0,
            rounds,
            iterations: None,
            only: None,
            cpu: None,
            log_path,
            log_options,
            null_sink: false,
            buffered: false,
        }
    }

    fn selected(&self) -> Vec<Case> {
        cases()
            .into_iter()
            .filter(|c| self.only.as_deref().is_none_or(|o| c.label().contains(o)))
            .collect()
    }

    fn columns_of(&self, kind: Kind) -> u64 {
        2 + u64::from(self.buffered) + u64::from(self.null_sink && kind != Kind::Bulk)
    }

    /// How many timed runs (warm-ups included) the run makes: the progress bar's length.
    pub fn steps(&self) -> u64 {
        let per_column = self.rounds as u64 + u64::from(self.iterations.is_none());
        self.selected()
            .iter()
            .map(|c| self.columns_of(c.kind) * per_column)
            .sum()
    }
}

/// Where a run stands, for a progress bar.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Timed runs done.
    pub done: u64,
    /// Timed runs in all ([`Options::steps`]).
    pub total: u64,
    /// The row being measured.
    pub row: String,
}

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Raw rustls, unbuffered connections: the baseline.
    Raw,
    /// The provider's contexts, events into the SQLite log.
    Ours,
    /// The provider's contexts, events built and dropped.
    OursNullSink,
    /// Raw rustls, buffered connections (reference).
    RawBuffered,
}

impl Column {
    /// The column's name in the table and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Column::Raw => "raw",
            Column::Ours => "ours",
            Column::OursNullSink => "ours_null_sink",
            Column::RawBuffered => "raw_buffered",
        }
    }
}

/// One row's results: per column, the samples of each round.
pub struct RowResult {
    /// The row's label.
    pub label: String,
    /// What it measures.
    pub kind: Kind,
    /// The protocol.
    pub protocol: Protocol,
    /// `hs/s` or `MB/s`.
    pub unit: &'static str,
    /// The cipher suite and group negotiated (raw's; both when they differ).
    pub negotiated: String,
    /// Whether ours negotiated the same suite and group as raw.
    pub same_parameters: bool,
    /// Per column, one sample per round.
    pub columns: Vec<(Column, Vec<Sample>)>,
    /// What went differently than planned (handshakes that did not resume, ...).
    pub notes: Vec<String>,
}

/// The machine and the settings of a run.
#[derive(Debug, Clone)]
pub struct Environment {
    /// CPUs available to the process.
    pub cpus: usize,
    /// `/proc/cpuinfo`'s model name.
    pub cpu_model: String,
    /// The build profile of the bench.
    pub profile: &'static str,
    /// The rustls version locked in Cargo.lock.
    pub rustls: &'static str,
    /// Load average at start and at end.
    pub load_start: String,
    /// Load average at the end.
    pub load_end: String,
    /// The CPU the measuring thread was pinned to.
    pub pinned: Option<usize>,
    /// The options of the run.
    pub seconds: f64,
    /// Warm-up per column.
    pub warmup: f64,
    /// Rounds per row.
    pub rounds: usize,
    /// Fixed counts instead of durations.
    pub iterations: Option<u64>,
    /// The log written.
    pub log_path: PathBuf,
    /// Whether the log's flood control was on.
    pub flood_control: bool,
    /// Seconds the whole run took.
    pub total_seconds: f64,
}

/// Everything a run measured.
pub struct Report {
    /// The machine and the options.
    pub environment: Environment,
    /// The rows, in order.
    pub rows: Vec<RowResult>,
    /// What the log stored of ours' events.
    pub log: LogSummary,
}

struct Logs {
    ours: Arc<ours::OurLog>,
}

/// Run the selected rows, calling `progress` after every timed run.
pub fn run(options: &Options, progress: &mut dyn FnMut(&Progress)) -> Result<Report, BoxError> {
    if !(options.seconds > 0.0 && options.seconds.is_finite()) || options.rounds == 0 {
        return Err("the seconds per round must be positive and the rounds at least 1".into());
    }
    let started = Instant::now();
    let load_start = cpu::load_average();
    let log = EventLog::open(&options.log_path, options.log_options.clone()).map_err(|e| {
        format!(
            "cannot open the event log {}: {e}",
            options.log_path.display()
        )
    })?;
    let logs = Logs {
        ours: Arc::new(ours::OurLog {
            log: Arc::new(log),
            handshakes: AtomicU64::new(0),
        }),
    };
    // After the log's writer thread exists: it does not inherit the pinning.
    if let Some(n) = options.cpu {
        cpu::pin_current_thread(n)?;
    }

    let ecdsa = pki::generate(KeyType::EcdsaP256);
    let rsa = pki::generate(KeyType::Rsa2048);
    let mut state = Progress {
        done: 0,
        total: options.steps(),
        row: String::new(),
    };
    let mut rows = Vec::new();
    for case in options.selected() {
        let pki = match case.key {
            KeyType::EcdsaP256 => &ecdsa,
            KeyType::Rsa2048 => &rsa,
        };
        state.row = case.label();
        progress(&state);
        rows.push(run_case(&case, pki, &logs, options, &mut state, progress)?);
    }
    let log = count_log(&logs.ours)?;
    let environment = Environment {
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model: cpu::cpu_model(),
        profile: env!("BENCH_PROFILE"),
        rustls: env!("BENCH_RUSTLS_VERSION"),
        load_start,
        load_end: cpu::load_average(),
        pinned: options.cpu,
        seconds: options.seconds,
        warmup: options.warmup,
        rounds: options.rounds,
        iterations: options.iterations,
        log_path: options.log_path.clone(),
        flood_control: options.log_options.flood.enabled,
        total_seconds: started.elapsed().as_secs_f64(),
    };
    Ok(Report {
        environment,
        rows,
        log,
    })
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

fn run_case(
    case: &Case,
    pki: &ServerPki,
    logs: &Logs,
    options: &Options,
    state: &mut Progress,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RowResult, BoxError> {
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
    let our_creds = creds(Some(&logs.ours));
    let mut our_names = raw::Names::new(resume);
    let our_probe = ours::ContextPair::handshake(&our_creds, &our_names.next_name())?;
    let (our_suite, our_exchange) = our_probe.negotiated()?;
    let raw_desc = format!("0x{:04X} {}", raw_suite.unwrap_or(0), group_name(raw_group));
    let our_desc = format!("0x{our_suite:04X} {our_exchange}");
    let same_parameters = raw_suite == Some(our_suite) && group_name(raw_group) == our_exchange;
    let negotiated = if same_parameters {
        raw_desc.clone()
    } else {
        format!("raw {raw_desc} / ours {our_desc}")
    };

    let mut workloads: Vec<(Column, Box<dyn Workload>)> = Vec::new();
    match case.kind {
        Kind::Full | Kind::Resumed => {
            workloads.push((
                Column::Raw,
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
            if options.null_sink {
                let c = creds(None);
                let mut names = raw::Names::new(resume);
                ours::ContextPair::handshake(&c, &names.next_name())?;
                workloads.push((
                    Column::OursNullSink,
                    Box::new(ours::Handshakes { creds: c, names }),
                ));
            }
            if options.buffered {
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
            workloads.push((Column::Raw, Box::new(raw::UnbufferedBulk::new(raw_probe))));
            workloads.push((Column::Ours, Box::new(ours::Bulk::new(our_probe))));
            if options.buffered {
                let pair =
                    raw::BufferedPair::handshake(&client, &server, "bulk.bench.test".into())?;
                workloads.push((Column::RawBuffered, Box::new(raw::BufferedBulk::new(pair))));
            }
        }
    }

    let measure = match options.iterations {
        Some(n) => Budget::Count(n),
        None => {
            let warmup = Budget::Time(Duration::from_secs_f64(options.warmup));
            for (_, w) in &mut workloads {
                w.run_for(warmup)?;
                state.done += 1;
                progress(state);
            }
            Budget::Time(Duration::from_secs_f64(options.seconds))
        }
    };
    let mut columns: Vec<(Column, Vec<Sample>)> =
        workloads.iter().map(|(c, _)| (*c, Vec::new())).collect();
    let log = &logs.ours.log;
    for _ in 0..options.rounds {
        for (i, (column, w)) in workloads.iter_mut().enumerate() {
            let ids0 = log.last_record_id()?;
            let (cpu0, writer0) = (cpu::thread_cpu(), cpu::writer_cpu());
            let mut s = w.run_for(measure)?;
            s.cpu = cpu::thread_cpu()
                .zip(cpu0)
                .map(|(b, a)| b.saturating_sub(a));
            s.writer_cpu = cpu::writer_cpu()
                .zip(writer0)
                .map(|(b, a)| b.saturating_sub(a));
            if *column == Column::Ours {
                s.records = Some(log.last_record_id()?.saturating_sub(ids0));
            }
            columns[i].1.push(s);
            state.done += 1;
            progress(state);
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
                    "{label}: {} resumed {r} of {n} handshakes (expected {expected})",
                    col.name()
                ));
            }
        }
    }
    if !same_parameters {
        notes.push(format!(
            "{label}: ours negotiated {our_desc}, raw {raw_desc}: the provider's cipher suite \
             order / groups did not reach the engine, so the ratio compares different parameters"
        ));
    }
    Ok(RowResult {
        label,
        kind: case.kind,
        protocol: case.protocol,
        unit: case.unit(),
        negotiated,
        same_parameters,
        columns,
        notes,
    })
}

/// Every 36880 ours emitted, checked against what the log stored.
fn count_log(l: &ours::OurLog) -> Result<LogSummary, BoxError> {
    l.log.sync()?;
    let handshakes = l.handshakes.load(Ordering::Relaxed);
    let records = l.log.query(&Query::new())?;
    let mut s = LogSummary {
        path: l.log.path().to_path_buf(),
        handshakes,
        emitted: 2 * handshakes,
        stored: l.log.last_record_id()?,
        retained: l.log.reader().len()?,
        individual: 0,
        summaries: 0,
        folded: 0,
        other: 0,
        used_bytes: l.log.reader().used_bytes()?,
        last_error: l.log.last_error().map(|e| e.to_string()),
        not_stored: l.log.health().lost,
    };
    for r in &records {
        if r.event_id != EventId::HandshakeCompleted {
            s.other += 1;
        } else if let Some(f) = &r.fold {
            s.summaries += 1;
            s.folded += f.count;
        } else {
            s.individual += 1;
        }
    }
    Ok(s)
}
