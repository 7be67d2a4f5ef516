//! The callgrind harness of `bench/callgrind.sh`: one scenario, one side, a fixed count.
//!
//! ```text
//! cost SCENARIO SIDE COUNT
//!   SCENARIO  full-tls13 | full-tls12 | resumed-tls13 | resumed-tls12 | bulk-aes128
//!   SIDE      raw (rustls unbuffered) | ours (the provider, EventLogging = 7, SQLite log)
//!   COUNT     handshakes, or MiB of bulk (64 records of 16 KiB each)
//! ```
//!
//! Everything but the COUNT operations is the same whatever COUNT is (PKI, configurations,
//! a priming handshake, for ours the log opened and one record committed), so the
//! difference between a run with COUNT = N and one with COUNT = 0, divided by N, is the
//! cost of one operation. Ours' log commits only when the run ends (`sync`: a batch
//! window of an hour, a queue of 65,536: runs of up to 16,000 handshakes never wake the
//! writer before their end), so the writer's work per record does
//! not depend on how valgrind's slowed-down clock cuts batches: one commit for the run's
//! records. ECDSA P-256 keys only: their generation is not a prime search, so the setup
//! costs the same in both runs.
#![forbid(unsafe_code)]

use securechannel::Protocol;
use securechannel_bench::pki::{self, KeyType};
use securechannel_bench::{ours, raw, BoxError, Budget, Workload, RECORD_LEN};
use securechannel_eventlog::{EventLog, FloodControl, LogOptions};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str =
    "usage: cost full-tls13|full-tls12|resumed-tls13|resumed-tls12|bulk-aes128 raw|ours COUNT";

fn main() {
    if let Err(e) = run() {
        eprintln!("cost: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scenario, side, count] = args.as_slice() else {
        return Err(USAGE.into());
    };
    let count: u64 = count
        .parse()
        .map_err(|_| format!("COUNT {count} is not a number\n{USAGE}"))?;
    use rustls::crypto::aws_lc_rs::cipher_suite as cs;
    let (kind, protocol, suite, iana) = match scenario.as_str() {
        "full-tls13" | "resumed-tls13" => (
            &scenario[..4],
            Protocol::Tls13,
            cs::TLS13_AES_256_GCM_SHA384,
            "TLS_AES_256_GCM_SHA384",
        ),
        "full-tls12" | "resumed-tls12" => (
            &scenario[..4],
            Protocol::Tls12,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ),
        "bulk-aes128" => (
            "bulk",
            Protocol::Tls13,
            cs::TLS13_AES_128_GCM_SHA256,
            "TLS_AES_128_GCM_SHA256",
        ),
        other => return Err(format!("unknown scenario {other}\n{USAGE}").into()),
    };
    let version = match protocol {
        Protocol::Tls12 => &rustls::version::TLS12,
        _ => &rustls::version::TLS13,
    };
    let resume = kind == "resu";
    let pki = pki::generate(KeyType::EcdsaP256);
    // Bulk: COUNT MiB of 16 KiB records.
    let ops = if kind == "bulk" {
        count * (1 << 20) / RECORD_LEN as u64
    } else {
        count
    };
    let budget = Budget::Count(ops);
    let mut names = raw::Names::new(resume);
    match side.as_str() {
        "raw" => {
            let client = raw::client_config(suite, version, &pki)?;
            let server = raw::server_config(suite, version, &pki)?;
            let probe = raw::UnbufferedPair::handshake(&client, &server, names.next_name())?;
            if kind == "bulk" {
                raw::UnbufferedBulk::new(probe).run_for(budget)?;
            } else {
                raw::UnbufferedHandshakes {
                    client,
                    server,
                    names,
                }
                .run_for(budget)?;
            }
        }
        "ours" => {
            let dir = tempfile::tempdir()?;
            let options = LogOptions {
                flood: FloodControl::off(),
                batch_window: Duration::from_secs(3600),
                channel_capacity: 1 << 16,
                max_batch: 1 << 20,
                verify_on_open: false,
                max_size_bytes: 1 << 40,
                ..LogOptions::default()
            };
            let log = Arc::new(ours::OurLog {
                log: Arc::new(EventLog::open(dir.path().join("events.db"), options)?),
                handshakes: AtomicU64::new(0),
            });
            let creds = ours::Credentials::new(Some(log.clone()), &pki, protocol, iana);
            let probe = ours::ContextPair::handshake(&creds, &names.next_name())?;
            log.log.sync()?;
            if kind == "bulk" {
                ours::Bulk::new(probe).run_for(budget)?;
            } else {
                // Ends with the log's sync: every record of the run committed.
                ours::Handshakes { creds, names }.run_for(budget)?;
            }
            log.log.sync()?;
        }
        other => return Err(format!("unknown side {other}\n{USAGE}").into()),
    }
    Ok(())
}
