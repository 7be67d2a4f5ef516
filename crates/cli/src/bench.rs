//! `schannel bench`: the provider against raw rustls, in this process, in memory (no
//! sockets): full and resumed handshakes and bulk encryption, with every event
//! (EventLogging = 7) written into the real SQLite log. The scenarios live in
//! securechannel-bench; this is their command line, progress bar and output.

use crate::CmdResult;
use securechannel_bench::{Options, Progress};
use securechannel_eventlog::{FloodControl, LOG_FILE_NAME};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `schannel bench`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "The log is events.db in a temporary directory, removed at the end, \
unless --data-dir (or SCHANNEL_DATA) names a data directory: then its events.db receives the \
bench's 36880 events. Figures from a busy machine are noisy; the CPU columns (per-thread CPU \
time) are the ones to trust there."
)]
pub struct Args {
    /// Seconds each column of each row runs per round.
    #[arg(long, default_value_t = 2.0, value_name = "S")]
    seconds: f64,
    /// Interleaved rounds per row (raw, ours, raw, ours, ...); medians are reported.
    #[arg(long, default_value_t = 3, value_name = "N")]
    rounds: usize,
    /// Warm-up seconds per column before the first round (default: a quarter of --seconds).
    #[arg(long, value_name = "S")]
    warmup: Option<f64>,
    /// Each run does exactly N handshakes / records instead of --seconds, without warm-up
    /// (for profilers).
    #[arg(long, value_name = "N")]
    iterations: Option<u64>,
    /// Only the rows whose name contains TEXT (`resumed`, `TLS 1.2`, `RSA`, `bulk`).
    #[arg(long, value_name = "TEXT")]
    only: Option<String>,
    /// Pin the thread that runs the handshakes to this CPU (the log's writer is not pinned).
    #[arg(long, value_name = "N")]
    cpu: Option<usize>,
    /// Keep flood control on, as the data directory's settings say (default: off, so that
    /// every event is stored one by one and the writer's cost per record is real).
    #[arg(long)]
    flood_control: bool,
    /// Add a column: ours with every event built but dropped (no log), the provider's own cost.
    #[arg(long)]
    null_sink: bool,
    /// Add a column: raw rustls' buffered connections (reference).
    #[arg(long)]
    buffered: bool,
    /// One JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

/// Run `schannel bench`; `data_dir_given`: --data-dir or SCHANNEL_DATA was set.
pub fn run(args: Args, data_dir: &Path, data_dir_given: bool) -> CmdResult {
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return Err(format!("--seconds {} must be a positive number", args.seconds).into());
    }
    if args.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    let temp;
    let (dir, mut log_options) = if data_dir_given {
        (data_dir, crate::runtime::log_options(data_dir))
    } else {
        temp = tempfile::Builder::new()
            .prefix("schannel-bench-")
            .tempdir()?;
        (temp.path(), securechannel_eventlog::LogOptions::default())
    };
    if !args.flood_control {
        log_options.flood = FloodControl::off();
    }
    let mut options = Options::new(
        dir.join(LOG_FILE_NAME),
        log_options,
        args.seconds,
        args.rounds,
    );
    if let Some(w) = args.warmup {
        options.warmup = w.max(0.0);
    }
    options.iterations = args.iterations;
    options.only = args.only;
    options.cpu = args.cpu;
    options.null_sink = args.null_sink;
    options.buffered = args.buffered;
    if options.steps() == 0 {
        return Err("--only matches no row (rows: full, resumed, bulk; TLS 1.3, TLS 1.2; ECDSA, RSA; AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305)".into());
    }

    // A bar only on a terminal: piped, stderr stays quiet.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(options.steps());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:20}] {pos}/{len} runs, ~{eta} left: {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    });
    let mut show = |p: &Progress| {
        if let Some(bar) = &bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(p.row.clone());
        }
    };
    let report = securechannel_bench::run(&options, &mut show);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report.map_err(|e| format!("bench: {e}"))?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}
